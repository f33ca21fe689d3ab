"""gateway.batches: the inbound batch on the wire, written and parsed without any HTTP."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from gateway.batches import (
    BATCH_BYTES_MAX,
    MESSAGES_PER_BATCH_MAX,
    BatchInvalid,
    Item,
    answer_line,
    parse_answer_line,
    parse_batch,
    write_batch,
)
from switch.scheme.codes import AliasType, Purpose, StatusReason, TransactionStatus, VerificationOutcome
from switch.scheme.messages import (
    AMOUNT_VND_MAX,
    Alias,
    CreditTransfer,
    Party,
    StatusReport,
    VerificationReport,
    VerificationRequest,
)

VIETCOMBANK, BIDV, VIETINBANK, AGRIBANK, VBSP = "970436", "970418", "970415", "970405", "999888"
VIETTEL_MONEY, VNPT_MONEY = "971005", "971011"
BINS = (VIETCOMBANK, BIDV, VIETINBANK, AGRIBANK, VBSP, VIETTEL_MONEY, VNPT_MONEY)
NAMES = (
    "Nguyễn Văn Đức",
    "Trần Thị Mai",
    "Lê Văn An",
    "Phạm Thị Hồng",
    "Hoàng Văn Bình",
    "Võ Thị Lan",
    "Đặng Quốc Việt",
    "Bùi Thị Thu Hương",
    "Huỳnh Ngọc Ánh",
    "Ngô Thị Yến",
)
REMITTANCES = (
    "Trợ cấp xã hội tháng 12/2026",
    "Chuyển tiền học phí",
    "Trả nợ tiền điện, nước",
    "Lương tháng 11",
)


def credit_transfer(
    tx: str = "VCB20261201000001", amount_vnd: int = 500_000, account: str = "12010000123456"
) -> CreditTransfer:
    return CreditTransfer(
        message_id=f"M{tx}", end_to_end_id=f"E{tx}", transaction_id=tx, amount_vnd=amount_vnd,
        debtor=Party(name="Võ Thị Lan", citizen_id="001185004321"), debtor_account="0011001234567",
        debtor_agent=VIETCOMBANK, creditor=Party(name="Lê Văn An"), creditor_account=account,
        creditor_agent=BIDV, purpose=Purpose.SSBE, remittance_information="Trợ cấp xã hội tháng 12/2026",
    )  # fmt: skip


def final_report(tx: str = "VCB20261201000001", status: TransactionStatus = TransactionStatus.ACSC) -> StatusReport:
    return StatusReport(
        original_message_id=f"M{tx}", original_end_to_end_id=f"E{tx}", original_transaction_id=tx,
        debtor_agent=VIETCOMBANK, transaction_status=status, creditor_agent=BIDV, amount_vnd=500_000,
        settled_at_ms=1_796_083_200_000,
    )  # fmt: skip


def verification(verification_id: str = "VER20261201000001") -> VerificationRequest:
    return VerificationRequest(
        verification_id=verification_id, agent=BIDV, account="12010000123456", name="Lê Văn An",
        citizen_id="048070012345",
    )  # fmt: skip


def batch_document(messages: list[BaseModel]) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(write_batch(messages))
    return document


def body_of(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode()


# --- strategies: what the switch really carries ---------------------------------------------------

ids = st.from_regex(r"[A-Z]{3}2026[01][0-9][0-3][0-9][0-9]{6,20}", fullmatch=True)
bins = st.sampled_from(BINS)
accounts = st.from_regex(r"[0-9]{6,19}", fullmatch=True)
citizen_ids = st.builds(
    lambda province, rest: province + rest,
    st.sampled_from(["001", "048", "079", "092", "036", "040"]),
    st.from_regex(r"[0-3][0-9]{8}", fullmatch=True),
)
names = st.sampled_from(NAMES)
amounts = st.one_of(
    st.integers(min_value=1, max_value=500_000_000),
    st.sampled_from([500_000, 750_000, 2_789_000, 10_000_000, AMOUNT_VND_MAX]),
)
parties = st.builds(Party, name=st.none() | names, citizen_id=st.none() | citizen_ids)
msisdns = st.builds(
    lambda prefix, rest: prefix + rest,
    st.sampled_from(["091", "098", "086", "032", "070"]),
    st.from_regex(r"[0-9]{7}", fullmatch=True),
)
aliases = st.one_of(
    st.builds(Alias, type=st.just(AliasType.MSISDN), value=msisdns),
    st.builds(Alias, type=st.just(AliasType.CITIZEN_ID), value=citizen_ids),
)


@st.composite
def credit_transfers(draw: st.DrawFn) -> CreditTransfer:
    tx = draw(ids)
    by_alias = draw(st.booleans())
    return CreditTransfer(
        message_id=f"M{tx}"[:35], end_to_end_id=f"E{tx}"[:35], transaction_id=tx, amount_vnd=draw(amounts),
        debtor=draw(parties), debtor_account=draw(accounts), debtor_agent=draw(bins), creditor=draw(parties),
        creditor_account=None if by_alias else draw(accounts), creditor_agent=None if by_alias else draw(bins),
        creditor_alias=draw(aliases) if by_alias else None, purpose=draw(st.sampled_from(list(Purpose))),
        remittance_information=draw(st.none() | st.sampled_from(REMITTANCES)),
    )  # fmt: skip


@st.composite
def status_reports(draw: st.DrawFn) -> StatusReport:
    tx = draw(ids)
    status = draw(st.sampled_from(list(TransactionStatus)))
    return StatusReport(
        original_message_id=f"M{tx}"[:35], original_end_to_end_id=f"E{tx}"[:35], original_transaction_id=tx,
        debtor_agent=draw(bins), transaction_status=status,
        status_reason=draw(st.sampled_from(list(StatusReason))) if status == TransactionStatus.RJCT else None,
        creditor_agent=draw(st.none() | bins), amount_vnd=draw(st.none() | amounts),
        settled_at_ms=draw(st.none() | st.integers(1_767_225_600_000, 1_830_297_600_000)),
        additional_information=draw(st.none() | st.sampled_from(["tài khoản không tồn tại", "amount_vnd: > 0"])),
    )  # fmt: skip


verification_requests = st.builds(
    VerificationRequest,
    verification_id=ids,
    agent=bins,
    account=accounts,
    name=names,
    citizen_id=st.none() | citizen_ids,
)
scheme_messages = st.one_of(credit_transfers(), status_reports(), verification_requests)


# --- the round trip -----------------------------------------------------------------------------


@given(messages=st.lists(scheme_messages, min_size=1, max_size=20))
def test_a_batch_written_then_parsed_gives_back_the_same_messages_in_order(messages: list[BaseModel]) -> None:
    items = parse_batch(write_batch(messages))
    assert [item.index for item in items] == list(range(len(messages)))
    assert all(item.problems == () for item in items)
    assert [item.message for item in items] == messages
    assert [type(item.message) for item in items] == [type(m) for m in messages]


@given(messages=st.lists(scheme_messages, min_size=1, max_size=5))
def test_a_written_batch_is_the_documented_json_with_each_message_typed(messages: list[BaseModel]) -> None:
    document = json.loads(write_batch(messages))
    kinds = {CreditTransfer: "pacs.008", StatusReport: "pacs.002", VerificationRequest: "acmt.023"}
    assert document == {"messages": [{"type": kinds[type(m)], "message": m.model_dump(mode="json")} for m in messages]}


def test_names_with_diacritics_travel_as_utf8_and_come_back_unchanged() -> None:
    transfer = credit_transfer()
    body = write_batch([transfer])
    assert "Võ Thị Lan".encode() in body and "Trợ cấp xã hội".encode() in body
    [item] = parse_batch(body)
    assert isinstance(item.message, CreditTransfer)
    assert item.message.debtor.name == "Võ Thị Lan" and item.message.creditor.name == "Lê Văn An"


@pytest.mark.parametrize("count", [0, MESSAGES_PER_BATCH_MAX + 1])
def test_writing_an_empty_or_too_large_batch_is_refused(count: int) -> None:
    with pytest.raises(ValueError, match=f"not {count}"):
        write_batch([credit_transfer(f"VCB{n:014d}") for n in range(count)])


def test_a_full_batch_of_a_thousand_messages_is_written_and_parsed() -> None:
    messages: list[BaseModel] = [credit_transfer(f"VCB{n:014d}", amount_vnd=1_000 + n) for n in range(1_000)]
    body = write_batch(messages)
    assert len(body) < BATCH_BYTES_MAX
    assert [item.message for item in parse_batch(body)] == messages


def test_a_body_of_exactly_the_byte_limit_is_still_read() -> None:
    body = write_batch([credit_transfer()])
    padded = body + b" " * (BATCH_BYTES_MAX - len(body))  # JSON allows trailing whitespace
    assert len(padded) == BATCH_BYTES_MAX
    assert [item.message for item in parse_batch(padded)] == [credit_transfer()]


# --- one bad message -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("amount_vnd", 1000.5, StatusReason.CH20),
        ("amount_vnd", "250000.75", StatusReason.CH20),
        ("amount_vnd", "250000", StatusReason.FF01),
        ("amount_vnd", 0, StatusReason.FF01),
        ("amount_vnd", -500_000, StatusReason.FF01),
        ("amount_vnd", True, StatusReason.FF01),
        ("amount_vnd", AMOUNT_VND_MAX + 1, StatusReason.FF01),
        ("debtor_agent", "97043", StatusReason.FF01),
        ("creditor_account", "12-0100", StatusReason.FF01),
        ("transaction_id", "X" * 36, StatusReason.FF01),
        ("currency", "USD", StatusReason.FF01),
        ("note", "không có trường này", StatusReason.FF01),
    ],
)
def test_a_bad_message_in_a_batch_is_reported_on_its_own_index_while_the_others_parse(
    field: str, value: object, reason: StatusReason
) -> None:
    messages: list[BaseModel] = [credit_transfer("VCB1"), credit_transfer("VCB2"), credit_transfer("VCB3")]
    document = batch_document(messages)
    document["messages"][1]["message"][field] = value
    items = parse_batch(body_of(document))
    assert [item.index for item in items] == [0, 1, 2]
    assert items[0] == Item(0, messages[0]) and items[2] == Item(2, messages[2])
    assert items[1].message is None
    assert [(p.field, p.reason) for p in items[1].problems] == [(f"messages.1.message.{field}", reason)]
    assert all(p.rule for p in items[1].problems)


def test_every_broken_field_of_a_message_is_named() -> None:
    document = batch_document([final_report(), credit_transfer()])
    document["messages"][1]["message"] |= {"amount_vnd": 1000.5, "debtor_agent": "VCB"}
    del document["messages"][1]["message"]["debtor"]
    items = parse_batch(body_of(document))
    assert items[0].message == final_report()
    fields = {p.field: p.reason for p in items[1].problems}
    assert fields == {
        "messages.1.message.amount_vnd": StatusReason.CH20,
        "messages.1.message.debtor_agent": StatusReason.FF01,
        "messages.1.message.debtor": StatusReason.FF01,
    }


def test_a_bad_status_report_and_a_bad_verification_are_named_by_their_own_fields() -> None:
    document = batch_document([final_report(), verification(), credit_transfer()])
    document["messages"][0]["message"]["transaction_status"] = "DONE"
    document["messages"][1]["message"]["citizen_id"] = "04807001234"  # 11 digits
    items = parse_batch(body_of(document))
    assert [(p.field, p.reason) for p in items[0].problems] == [
        ("messages.0.message.transaction_status", StatusReason.FF01)
    ]
    assert [(p.field, p.reason) for p in items[1].problems] == [("messages.1.message.citizen_id", StatusReason.FF01)]
    assert items[2].message == credit_transfer()


@pytest.mark.parametrize(
    "raw",
    [
        {"type": "pacs.009", "message": {}},
        {"type": "PACS.008", "message": {}},
        {"type": None, "message": {}},
        {"message": {}},
        "pacs.008",
        ["pacs.008", {}],
        None,
        7,
    ],
    ids=["unknown", "wrong-case", "null-type", "no-type", "a-string", "a-list", "null", "a-number"],
)
def test_an_unknown_type_names_the_type_field_of_that_message(raw: object) -> None:
    document = batch_document([credit_transfer("VCB1"), credit_transfer("VCB2"), credit_transfer("VCB3")])
    document["messages"][2] = raw
    items = parse_batch(body_of(document))
    assert items[0].message == credit_transfer("VCB1") and items[1].message == credit_transfer("VCB2")
    assert items[2].message is None
    [problem] = items[2].problems
    assert problem.field == "messages.2.type" and problem.reason == StatusReason.FF01
    assert "pacs.008" in problem.rule and "pacs.002" in problem.rule and "acmt.023" in problem.rule


def test_a_message_of_the_wrong_type_for_its_label_is_refused_naming_its_fields() -> None:
    document = batch_document([credit_transfer()])
    document["messages"][0]["type"] = "pacs.002"  # a pacs.008 labelled as a status report
    [item] = parse_batch(body_of(document))
    assert item.message is None
    fields = {p.field for p in item.problems}
    assert "messages.0.message.original_transaction_id" in fields and "messages.0.message.amount_vnd" not in fields
    assert "messages.0.message.message_id" in fields  # an extra field for a pacs.002


@pytest.mark.parametrize("message", [None, "pacs.008", [1, 2]], ids=["missing", "a-string", "a-list"])
def test_a_missing_or_non_object_message_is_named_by_its_own_path(message: object) -> None:
    document = batch_document([credit_transfer("VCB1"), credit_transfer("VCB2")])
    if message is None:
        del document["messages"][1]["message"]
    else:
        document["messages"][1]["message"] = message
    items = parse_batch(body_of(document))
    assert items[0].message == credit_transfer("VCB1")
    assert [(p.field, p.reason) for p in items[1].problems] == [("messages.1.message", StatusReason.FF01)]


# --- a batch that cannot be read at all ----------------------------------------------------------


TOO_MANY = MESSAGES_PER_BATCH_MAX + 1


def _too_many() -> bytes:
    one = batch_document([credit_transfer()])["messages"][0]
    return body_of({"messages": [one] * TOO_MANY})


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        (b"", "(body)", "must be JSON"),
        (b"messages: [pacs.008]", "(body)", "must be JSON"),
        (b'{"messages": [', "(body)", "must be JSON"),
        (b"{'messages': []}", "(body)", "must be JSON"),
        (b"\xff\xfe{}", "(body)", "must be JSON"),
        (b"[]", "messages", "must be a list of {type, message}"),
        (b"{}", "messages", "must be a list of {type, message}"),
        (b'{"messages": null}', "messages", "must be a list of {type, message}"),
        (b'{"messages": {"type": "pacs.008", "message": {}}}', "messages", "must be a list of {type, message}"),
        (b'{"messages": "pacs.008"}', "messages", "must be a list of {type, message}"),
        (b'"messages"', "messages", "must be a list of {type, message}"),
        (b'{"messages": []}', "messages", f"must hold 1 to {MESSAGES_PER_BATCH_MAX} messages, not 0"),
        (_too_many(), "messages", f"must hold 1 to {MESSAGES_PER_BATCH_MAX} messages, not {TOO_MANY}"),
        (b" " * (BATCH_BYTES_MAX + 1), "(body)", f"at most {BATCH_BYTES_MAX} bytes"),
    ],
    ids=[
        "empty", "not-json", "truncated", "single-quotes", "not-utf8", "a-list", "no-messages", "null-messages",
        "an-object", "a-string", "a-json-string", "no-message", "too-many", "too-large",
    ],
)  # fmt: skip
def test_a_batch_that_cannot_be_read_is_refused_naming_the_field_and_the_rule(
    body: bytes, field: str, rule: str
) -> None:
    with pytest.raises(BatchInvalid) as refused:
        parse_batch(body)
    assert refused.value.field == field
    assert refused.value.rule.startswith(rule)
    assert str(refused.value).startswith(f"{field}: {rule}")
    assert isinstance(refused.value, ValueError)


def test_an_oversized_body_is_refused_before_it_is_read_even_when_it_is_a_valid_batch() -> None:
    one = batch_document([credit_transfer()])["messages"][0]
    body = body_of({"messages": [one], "padding": "x" * BATCH_BYTES_MAX})
    with pytest.raises(BatchInvalid) as refused:
        parse_batch(body)
    assert (refused.value.field, refused.value.rule) == ("(body)", f"at most {BATCH_BYTES_MAX} bytes")


# --- answer lines --------------------------------------------------------------------------------


def acsp_for(transfer: CreditTransfer) -> StatusReport:
    return StatusReport(
        original_message_id=transfer.message_id, original_end_to_end_id=transfer.end_to_end_id,
        original_transaction_id=transfer.transaction_id, debtor_agent=transfer.debtor_agent,
        transaction_status=TransactionStatus.ACSP, creditor_agent=BIDV,
    )  # fmt: skip


def test_an_answer_line_is_one_line_of_json_ending_in_a_newline() -> None:
    answer = acsp_for(credit_transfer())
    line = answer_line(3, 200, answer=answer)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert json.loads(line) == {"index": 3, "status": 200, "answer": answer.model_dump(mode="json")}
    assert json.loads(answer_line(1, 204)) == {"index": 1, "status": 204}
    problem = {"errors": [{"field": "messages.2.message.amount_vnd", "rule": "x", "reason": "CH20"}]}
    assert json.loads(answer_line(2, 400, problem=problem)) == {"index": 2, "status": 400, "problem": problem}


def test_a_credit_transfer_answer_line_comes_back_as_its_status_report() -> None:
    sent: list[BaseModel] = [final_report(), credit_transfer("VCB7"), verification()]
    answer = StatusReport(
        original_message_id="MVCB7", original_end_to_end_id="EVCB7", original_transaction_id="VCB7",
        debtor_agent=VIETCOMBANK, transaction_status=TransactionStatus.RJCT, status_reason=StatusReason.AC01,
        creditor_agent=BIDV, additional_information="tài khoản không tồn tại",
    )  # fmt: skip
    parsed = parse_answer_line(answer_line(1, 200, answer=answer), sent)
    assert (parsed.index, parsed.status, parsed.answer) == (1, 200, answer)


def test_a_verification_answer_line_comes_back_as_its_verification_report() -> None:
    sent: list[BaseModel] = [verification()]
    answer = VerificationReport(
        original_verification_id="VER20261201000001", agent=BIDV, outcome=VerificationOutcome.CMTC,
        holder_name_masked="L* V** A*",
    )  # fmt: skip
    parsed = parse_answer_line(answer_line(0, 200, answer=answer), sent)
    assert isinstance(parsed.answer, VerificationReport) and parsed.answer == answer


@pytest.mark.parametrize("status", [204, 400, 413, 500, 504])
def test_an_answer_line_without_an_answer_comes_back_with_its_status_only(status: int) -> None:
    sent: list[BaseModel] = [credit_transfer(), final_report()]
    problem = {"errors": [{"field": "messages.0.message.amount_vnd", "rule": "r", "reason": "FF01"}]}
    parsed = parse_answer_line(answer_line(0, status, problem=problem if status == 400 else None), sent)
    assert (parsed.index, parsed.status, parsed.answer) == (0, status, None)


def test_a_status_report_taken_with_200_has_no_answer_to_read() -> None:
    parsed = parse_answer_line(b'{"index":0,"status":200}\n', [final_report()])
    assert (parsed.index, parsed.status, parsed.answer) == (0, 200, None)


@given(
    transfers=st.lists(credit_transfers(), min_size=1, max_size=10),
    data=st.data(),
)
def test_answer_lines_round_trip_for_any_index_of_the_batch(
    transfers: list[CreditTransfer], data: st.DataObject
) -> None:
    sent: list[BaseModel] = list(transfers)
    index = data.draw(st.integers(0, len(sent) - 1))
    answer = acsp_for(transfers[index])
    parsed = parse_answer_line(answer_line(index, 200, answer=answer), sent)
    assert (parsed.index, parsed.status, parsed.answer) == (index, 200, answer)


@pytest.mark.parametrize(
    "line",
    [
        b'{"index":2,"status":204}',
        b'{"index":3,"status":204}',
        b'{"index":-1,"status":204}',
        b'{"index":"0","status":204}',
        b'{"index":0.0,"status":204}',
        b'{"index":null,"status":204}',
        b'{"index":0,"status":"200"}',
        b'{"status":204}',
        b'{"index":0}',
        b'{"index":0,"status":200,"answer":{"transaction_status":"ACSP"}}',
        b'{"index":0,"status":200}',
        b"not json",
        b"",
    ],
    ids=[
        "past-the-end", "far-past-the-end", "negative", "string-index", "float-index", "null-index",
        "string-status", "no-index", "no-status", "answer-missing-fields", "answer-missing", "not-json", "empty",
    ],
)  # fmt: skip
def test_an_answer_line_that_does_not_fit_the_batch_is_refused(line: bytes) -> None:
    """Refused as the lane counts a broken call (ValueError or KeyError), never read as an answer."""
    sent: list[BaseModel] = [credit_transfer("VCB1"), credit_transfer("VCB2")]
    with pytest.raises((ValueError, KeyError)):
        parse_answer_line(line, sent)


@pytest.mark.parametrize("line", [b"null", b"[0, 200]", b"7", b'"ok"'], ids=["null", "a-list", "a-number", "a-string"])
def test_an_answer_line_that_is_not_an_object_is_refused_as_a_value_error(line: bytes) -> None:
    with pytest.raises((ValueError, KeyError)):
        parse_answer_line(line, [credit_transfer()])


def test_an_answer_line_with_a_boolean_index_is_refused() -> None:
    with pytest.raises(ValueError):
        parse_answer_line(b'{"index":true,"status":204}', [credit_transfer("VCB1"), credit_transfer("VCB2")])
