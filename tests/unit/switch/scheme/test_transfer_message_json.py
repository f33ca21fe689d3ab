"""A pacs.008 of many on the JSON wire (`switch.scheme.transfer_message_json`): read whole, refused
whole, or read with the transactions that break a rule refused one by one.

The sample tests/data/json/pacs008-many.json was written by hand, as a participant's own system
would write it (not by our models): three Vietcombank (970436) customers paying customers of BIDV
(970418) and VietinBank (970415), the first transaction repeating the message id, the other two
leaving it out. Every other body here is `json.dumps` of plain dicts.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from switch.scheme.codes import Purpose, StatusReason
from switch.scheme.messages import TRANSACTIONS_PER_MESSAGE_MAX
from switch.scheme.pacs008 import ReadCreditTransfers
from switch.scheme.transfer_message_json import MESSAGE_ID_LENGTH_MAX, parse_transfer_message
from switch.scheme.validation import MessageInvalid
from switch.scheme.wire import WIRE_BYTES_MAX

SAMPLE = Path(__file__).parents[3] / "data" / "json" / "pacs008-many.json"
VIETCOMBANK, BIDV, VIETINBANK = "970436", "970418", "970415"
MESSAGE_ID = "VCB-20261201-000042"
FF01, CH20 = StatusReason.FF01, StatusReason.CH20
RECEIVED = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)

Raw = dict[str, Any]


def sample() -> Raw:
    loaded: Raw = json.loads(SAMPLE.read_bytes())
    return loaded


def body(message: Any) -> bytes:
    return json.dumps(message, ensure_ascii=False).encode()


def transaction(number: int, creditor_agent: str = BIDV, amount_vnd: int = 500_000) -> Raw:
    """A Vietcombank customer's payment, as a participant's system writes it (no message_id)."""
    return {
        "end_to_end_id": f"VCB-E2E-{number:06d}",
        "transaction_id": f"VCB2026120{number:07d}",
        "amount_vnd": amount_vnd,
        "debtor": {"name": "Đặng Thị Thu Hà", "citizen_id": "001190045678"},
        "debtor_account": "0011004567890",
        "debtor_agent": VIETCOMBANK,
        "creditor": {"name": "Võ Minh Khôi"},
        "creditor_account": "12010000123456" if creditor_agent == BIDV else "108002345678",
        "creditor_agent": creditor_agent,
        "purpose": "CASH",
        "remittance_information": f"Chuyển khoản lần {number}: tiền nhà tháng 12",
    }


def message(transactions: list[Any], message_id: str = MESSAGE_ID) -> Raw:
    return {"message_id": message_id, "transactions": transactions}


def read(raw: Any) -> ReadCreditTransfers:
    return parse_transfer_message(body(raw), RECEIVED)


# --- a message read whole ---------------------------------------------------------------------------


def test_a_message_of_three_vietcombank_payments_to_bidv_and_vietinbank_is_read_whole_in_order() -> None:
    read_message = parse_transfer_message(SAMPLE.read_bytes(), RECEIVED)

    assert read_message.message_id == MESSAGE_ID and read_message.created == RECEIVED
    assert read_message.refused == () and read_message.count == 3
    [first, second, third] = read_message.transactions
    assert [t.transaction_id for t in read_message.transactions] == [
        "VCB20261201000001", "VCB20261201000002", "VCB20261201000003",
    ]  # fmt: skip
    assert {t.message_id for t in read_message.transactions} == {MESSAGE_ID}  # given once, left out twice
    assert {t.debtor_agent for t in read_message.transactions} == {VIETCOMBANK}
    assert [t.creditor_agent for t in read_message.transactions] == [BIDV, VIETINBANK, BIDV]
    assert [t.amount_vnd for t in read_message.transactions] == [500_000, 1_250_000, 2_789_000]
    assert [t.purpose for t in read_message.transactions] == [Purpose.CASH, Purpose.GDDS, Purpose.SALA]
    assert [t.debtor.name for t in read_message.transactions] == ["Nguyễn Văn Đức", "Trần Thị Mỹ Dung", "Lê Hoàng Phúc"]
    assert (first.debtor.citizen_id, first.debtor_account) == ("001085012345", "0011001234567")
    assert (second.creditor.name, second.creditor_account) == ("Phạm Thị Lan", "108002345678")
    assert third.remittance_information == "Trả lương tháng 12/2026 — quán phở Hồng Đức"
    assert {t.currency for t in read_message.transactions} == {"VND"}


def test_names_read_the_same_whether_written_as_utf8_or_as_json_escapes() -> None:
    escaped = json.dumps(sample(), ensure_ascii=True).encode()
    assert b"\\u1ec5" in escaped  # "ễ" of Nguyễn, escaped

    assert parse_transfer_message(escaped, RECEIVED) == parse_transfer_message(SAMPLE.read_bytes(), RECEIVED)


def test_a_transaction_may_leave_out_the_message_id_or_repeat_the_messages_own() -> None:
    left_out = transaction(1)
    repeated = {**transaction(2), "message_id": MESSAGE_ID}

    read_message = read(message([left_out, repeated]))

    assert read_message.refused == ()
    assert [t.message_id for t in read_message.transactions] == [MESSAGE_ID, MESSAGE_ID]


def test_without_a_received_time_the_message_is_stamped_now() -> None:
    before = datetime.now(UTC)
    read_message = parse_transfer_message(SAMPLE.read_bytes())
    assert before <= read_message.created <= datetime.now(UTC)


def test_a_message_id_of_35_characters_and_a_message_of_1000_transactions_are_read() -> None:
    longest = "VCB-20261201-" + "9" * (MESSAGE_ID_LENGTH_MAX - 13)
    assert len(longest) == MESSAGE_ID_LENGTH_MAX == 35
    many = [transaction(n) for n in range(TRANSACTIONS_PER_MESSAGE_MAX)]

    read_message = read(message(many, longest))

    assert read_message.message_id == longest and read_message.refused == ()
    assert [t.transaction_id for t in read_message.transactions] == [t["transaction_id"] for t in many]


def test_a_body_of_exactly_4_mib_is_read() -> None:
    exact = body(sample())
    exact += b" " * (WIRE_BYTES_MAX - len(exact))  # JSON allows trailing white space
    assert len(exact) == WIRE_BYTES_MAX

    assert parse_transfer_message(exact, RECEIVED).count == 3


# --- a message refused whole ------------------------------------------------------------------------


def over_the_limit() -> bytes:
    padded = body(sample())
    return padded + b" " * (WIRE_BYTES_MAX + 1 - len(padded))


def whole_message_faults() -> list[Any]:
    def without(name: str) -> Raw:
        raw = sample()
        del raw[name]
        return raw

    def with_(name: str, value: Any) -> Raw:
        return {**sample(), name: value}

    thousand_and_one = message([transaction(n) for n in range(TRANSACTIONS_PER_MESSAGE_MAX + 1)])
    return [
        pytest.param(b"message_id=VCB-20261201-000042", "(message)", "must be JSON", id="not-json"),
        pytest.param(b'{"message_id": "VCB-20261201-000042", ', "(message)", "must be JSON", id="truncated"),
        pytest.param(b'{"message_id": "VCB-\xc3"}', "(message)", "must be JSON", id="not-utf8"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, "(message)", "must be JSON", id="nested-too-deep"),
        pytest.param(b"", "(message)", "must be JSON", id="empty-body"),
        pytest.param(body(sample()["transactions"]), "(message)", "must be a JSON object", id="json-list"),
        pytest.param(body("VCB-20261201-000042"), "(message)", "must be a JSON object", id="json-string"),
        pytest.param(body(None), "(message)", "must be a JSON object", id="json-null"),
        pytest.param(body(without("message_id")), "message_id", "1 to 35 characters", id="no-message-id"),
        pytest.param(body(with_("message_id", "")), "message_id", "1 to 35 characters", id="empty-message-id"),
        pytest.param(
            body(with_("message_id", "VCB-20261201-" + "0" * 23)),
            "message_id",
            "1 to 35 characters",
            id="message-id-of-36",
        ),
        pytest.param(body(with_("message_id", 20261201)), "message_id", "must be text", id="numeric-message-id"),
        pytest.param(body(with_("message_id", None)), "message_id", "must be text", id="null-message-id"),
        pytest.param(
            body(with_("group_header", {"created": "2026-12-01T09:30:00+07:00"})),
            "group_header",
            "is not a field of a credit transfer message",
            id="unknown-top-level-field",
        ),
        pytest.param(body(without("transactions")), "transactions", "1 to 1000", id="no-transactions"),
        pytest.param(body(with_("transactions", [])), "transactions", "1 to 1000", id="zero-transactions"),
        pytest.param(body(thousand_and_one), "transactions", "1 to 1000", id="1001-transactions"),
        pytest.param(
            body(with_("transactions", transaction(1))), "transactions", "must be a list", id="one-not-in-a-list"
        ),
        pytest.param(over_the_limit(), "(message)", f"over the limit of {WIRE_BYTES_MAX} bytes", id="over-4-mib"),
    ]


@pytest.mark.parametrize(("data", "field", "rule"), whole_message_faults())
def test_a_message_that_cannot_be_read_as_a_whole_is_refused_naming_the_field_and_the_rule(
    data: bytes, field: str, rule: str
) -> None:
    with pytest.raises(MessageInvalid) as refused:
        parse_transfer_message(data, RECEIVED)

    [problem] = refused.value.problems
    assert (problem.field, problem.reason) == (field, FF01)
    assert rule in problem.rule, problem.rule
    assert refused.value.reason == FF01


def test_an_unknown_top_level_field_is_named_even_when_everything_else_is_right() -> None:
    raw = {**sample(), "GrpHdr": {"NbOfTxs": "3"}, "created": "2026-12-01"}

    with pytest.raises(MessageInvalid) as refused:
        read(raw)

    assert [p.field for p in refused.value.problems] == ["GrpHdr"]  # the first of them, in sorted order


# --- transactions refused one by one ------------------------------------------------------------------


Breaker = Callable[[Raw], Any]


def set_field(name: str, value: Any) -> Breaker:
    return lambda raw: {**raw, name: value}


def drop_field(name: str) -> Breaker:
    return lambda raw: {key: value for key, value in raw.items() if key != name}


# (how it is broken, the field after "transactions.N.", a part of the rule, the reason)
BREAKERS: dict[str, tuple[Breaker, str, str, StatusReason]] = {
    "amount-with-decimals": (set_field("amount_vnd", 1250000.5), "amount_vnd", "decimals are not allowed", CH20),
    "amount-text-with-decimals": (set_field("amount_vnd", "1250000.50"), "amount_vnd", "decimals", CH20),
    "negative-amount": (set_field("amount_vnd", -1_250_000), "amount_vnd", "greater than 0", FF01),
    "zero-amount": (set_field("amount_vnd", 0), "amount_vnd", "greater than 0", FF01),
    "amount-as-text": (set_field("amount_vnd", "1250000"), "amount_vnd", "integer", FF01),
    "amount-with-thousands-dots": (set_field("amount_vnd", "1.250.000"), "amount_vnd", "integer", FF01),
    "amount-true": (set_field("amount_vnd", True), "amount_vnd", "not a boolean", FF01),
    "amount-1-0": (set_field("amount_vnd", 1250000.0), "amount_vnd", "integer", FF01),
    "no-debtor-agent": (drop_field("debtor_agent"), "debtor_agent", "Field required", FF01),
    "debtor-agent-of-5-digits": (set_field("debtor_agent", "97043"), "debtor_agent", "6-digit", FF01),
    "another-message-id": (
        set_field("message_id", "VCB-20261201-000041"),
        "message_id",
        "must be the message's id",
        FF01,
    ),
    "unknown-field": (set_field("urgent", True), "urgent", "Extra inputs are not permitted", FF01),
    "dollars": (set_field("currency", "USD"), "currency", "VND", FF01),
}


def broken(name: str, raw: Raw) -> Raw:
    result: Raw = BREAKERS[name][0](raw)
    return result


@pytest.mark.parametrize("name", list(BREAKERS))
@pytest.mark.parametrize("index", [0, 1, 2])
def test_a_transaction_that_breaks_a_rule_is_refused_alone_naming_its_field_and_the_others_are_taken(
    name: str, index: int
) -> None:
    _, field, rule, reason = BREAKERS[name]
    good = sample()["transactions"]
    sent = copy.deepcopy(good)
    sent[index] = broken(name, sent[index])
    raw = message(sent)
    as_sent = copy.deepcopy(raw)

    read_message = read(raw)

    [refused] = read_message.refused
    assert refused.index == index
    assert (refused.end_to_end_id, refused.transaction_id) == (
        good[index]["end_to_end_id"],
        good[index]["transaction_id"],
    )
    [problem] = refused.problems
    assert problem.field == f"transactions.{index}.{field}"
    assert rule in problem.rule, problem.rule
    assert (problem.reason, refused.reason) == (reason, reason)
    # The others are taken, exactly as they read without the broken one.
    others = [t for number, t in enumerate(good) if number != index]
    assert read_message.transactions == read(message(others)).transactions
    assert read_message.count == 3
    assert raw == as_sent


def test_a_refused_transaction_keeps_its_debtor_agent_for_the_report() -> None:
    sent = [transaction(1), {**transaction(2), "amount_vnd": -5}, transaction(3)]

    [refused] = read(message(sent)).refused

    assert (refused.index, refused.debtor_agent) == (1, VIETCOMBANK)


@pytest.mark.parametrize(
    "value",
    ["VCB20261201000002", ["VCB20261201000002"], None, 2_789_000, True],
    ids=["text", "list", "null", "number", "boolean"],
)
def test_a_transaction_that_is_not_a_json_object_is_refused_alone_with_no_ids(value: Any) -> None:
    sent = [transaction(1), value, transaction(3)]

    read_message = read(message(sent))

    [refused] = read_message.refused
    assert (refused.index, refused.end_to_end_id, refused.transaction_id, refused.debtor_agent) == (1, None, None, None)
    assert [(p.field, p.rule, p.reason) for p in refused.problems] == [
        ("transactions.1", "must be a JSON object", FF01)
    ]
    assert [t.transaction_id for t in read_message.transactions] == [
        sent[0]["transaction_id"],
        sent[2]["transaction_id"],
    ]


def test_a_transaction_with_ids_that_are_not_text_is_refused_without_them() -> None:
    sent = [{**transaction(1), "transaction_id": 20261201000001, "end_to_end_id": ""}]

    [refused] = read(message(sent)).refused

    assert (refused.end_to_end_id, refused.transaction_id) == (None, None)
    assert {p.field for p in refused.problems} == {"transactions.0.transaction_id", "transactions.0.end_to_end_id"}


def test_every_problem_of_a_transaction_is_named_and_decimals_alone_are_not_ch20_among_others() -> None:
    sent = [drop_field("debtor_agent")({**transaction(1), "amount_vnd": 500000.5})]

    [refused] = read(message(sent)).refused

    assert {(p.field, p.reason) for p in refused.problems} == {
        ("transactions.0.amount_vnd", CH20), ("transactions.0.debtor_agent", FF01),
    }  # fmt: skip
    assert refused.reason == FF01


def test_a_creditor_named_neither_by_alias_nor_by_account_and_agent_is_refused() -> None:
    sent = [transaction(1), drop_field("creditor_agent")(transaction(2))]

    [refused] = read(message(sent)).refused

    [problem] = refused.problems
    assert problem.field.startswith("transactions.1"), problem.field
    assert "creditor_alias" in problem.rule and "creditor_agent" in problem.rule


def test_a_creditor_named_by_alias_is_taken() -> None:
    by_alias = drop_field("creditor_account")(drop_field("creditor_agent")(transaction(1)))
    by_alias["creditor_alias"] = {"type": "msisdn", "value": "+84 912 345 678"}

    [taken] = read(message([by_alias])).transactions

    assert taken.creditor_alias is not None and taken.creditor_alias.key == "msisdn:0912345678"


def test_every_transaction_of_a_message_may_be_refused_and_the_message_is_still_read() -> None:
    sent = [{**transaction(n), "amount_vnd": 0.5} for n in range(3)]

    read_message = read(message(sent))

    assert read_message.transactions == ()
    assert [(r.index, r.reason) for r in read_message.refused] == [(0, CH20), (1, CH20), (2, CH20)]


# --- the property: nothing is lost, nothing moves -----------------------------------------------------


@given(
    plan=st.lists(
        st.one_of(st.none(), st.sampled_from(sorted(BREAKERS)), st.just("not-an-object")), min_size=1, max_size=40
    ),
    creditor_agents=st.lists(st.sampled_from([BIDV, VIETINBANK]), min_size=40, max_size=40),
)
def test_any_mix_of_valid_and_broken_transactions_is_all_accounted_for_in_order(
    plan: list[str | None], creditor_agents: list[str]
) -> None:
    sent: list[Any] = []
    for number, fault in enumerate(plan):
        good = transaction(number, creditor_agents[number], 10_000 + number)
        sent.append("VCB-not-an-object" if fault == "not-an-object" else good if fault is None else broken(fault, good))

    read_message = read(message(sent))

    assert len(read_message.transactions) + len(read_message.refused) == read_message.count == len(plan)
    valid = [number for number, fault in enumerate(plan) if fault is None]
    assert [t.transaction_id for t in read_message.transactions] == [sent[n]["transaction_id"] for n in valid]
    assert [t.creditor_agent for t in read_message.transactions] == [creditor_agents[n] for n in valid]
    assert {t.message_id for t in read_message.transactions} <= {MESSAGE_ID}
    assert [r.index for r in read_message.refused] == [n for n, fault in enumerate(plan) if fault is not None]
    for refused in read_message.refused:
        assert refused.problems
        where = f"transactions.{refused.index}"
        assert all(p.field == where or p.field.startswith(where + ".") for p in refused.problems)
        if plan[refused.index] != "not-an-object":
            assert refused.transaction_id == sent[refused.index]["transaction_id"]
