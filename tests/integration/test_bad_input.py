"""Bad input from an external participant, on SQLite files and on PostgreSQL.

Dev Bank (BIN 970999) is a developer's own system plugged into the sandbox: registered and funded at
the switch, with no simulated node, so every answer the switch sends it lands in its mailbox. It
sends raw pacs.008 messages (parsed JSON, not yet validated), as it would over HTTP. Each bad one is
answered RJCT with its reason code, and it moves no money: the positions, the switch's ledger totals
and every participant's balances are what they were. A malformed message is not even recorded; a
well-formed one that cannot be routed is recorded once, as rejected.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from pydantic import ValidationError

from banks.node import RESERVES, SETTLEMENT, customer_account
from banks.schemas import Customer
from network.checks import check_invariants
from network.sandbox import Sandbox
from network.storage import Storage
from switch.errors import AliasNotFound, TransferNotFound
from switch.participants.schemas import Participant
from switch.scheme import grouping
from switch.scheme.codes import (
    AliasType,
    ParticipantKind,
    ParticipantStatus,
    RegistrationOutcome,
    StatusReason,
    TransactionStatus,
)
from switch.scheme.messages import Alias, AliasRegistration, StatusReport, StatusReportMessage
from switch.scheme.transport import Envelope, RawMessage
from wallets.node import new_wallet

VIETCOMBANK, BIDV, VIETTEL_MONEY = "970436", "970418", "971005"
TECHCOMBANK = "970407"  # a real bank, but not a participant of this sandbox
DEV_BANK = "970999"
DEV_BANK_FUNDS = 1_000_000_000

AN = "12010000123456"  # BIDV, LE VAN AN
AN_CITIZEN_ID = "048070012345"
BINH = "0961234567"  # Viettel Money wallet, HOANG VAN BINH
BINH_CITIZEN_ID = "036085012345"
HANH = "0389876543"  # Viettel Money wallet, DO THI HANH, not registered in the directory
HANH_CITIZEN_ID = "001189054321"


def network(storage: Storage) -> Sandbox:
    sandbox = Sandbox(storage, seed=11)
    sandbox.open_accounts(VIETCOMBANK, [(Customer("0011001234567", "NGUYEN VAN DUC", "001090012345"), 10_000_000)])
    sandbox.open_accounts(BIDV, [(Customer(AN, "LE VAN AN", AN_CITIZEN_ID), 0)])
    wallets = [new_wallet(BINH, "HOANG VAN BINH", BINH_CITIZEN_ID), new_wallet(HANH, "DO THI HANH", HANH_CITIZEN_ID)]
    sandbox.open_accounts(VIETTEL_MONEY, [(w, 0) for w in wallets])
    sandbox.register(
        [
            AliasRegistration(
                request_id="REG-AN",
                alias=Alias(type=AliasType.CITIZEN_ID, value=AN_CITIZEN_ID),
                name="Lê Văn An",
                citizen_id=AN_CITIZEN_ID,
                agent=BIDV,
                account=AN,
            ),
            AliasRegistration(
                request_id="REG-BINH",
                alias=Alias(type=AliasType.MSISDN, value=BINH),
                name="Hoàng Văn Bình",
                citizen_id=BINH_CITIZEN_ID,
                agent=VIETTEL_MONEY,
                account=BINH,
            ),
        ]
    )
    sandbox.run()
    assert [r.outcome for r in sandbox.registration_reports()] == [RegistrationOutcome.REGISTERED] * 2
    sandbox.switch.register_participant(Participant(DEV_BANK, "Dev Bank", ParticipantKind.BANK), sandbox.now_ms)
    sandbox.switch.fund_in(DEV_BANK, DEV_BANK_FUNDS, sandbox.now_ms)
    return sandbox


def good_transfer(**changes: Any) -> dict[str, Any]:
    """A valid pacs.008 from Dev Bank to Lê Văn An's account at BIDV, as JSON would give it."""
    payload: dict[str, Any] = {
        "message_id": "DEV-MSG-0001",
        "end_to_end_id": "DEV-E2E-0001",
        "transaction_id": "DEV-TX-0001",
        "amount_vnd": 250_000,
        "currency": "VND",
        "debtor": {"name": "NGUYEN THI HUONG"},
        "debtor_account": "9990001234",
        "debtor_agent": DEV_BANK,
        "creditor": {"name": "LE VAN AN"},
        "creditor_account": AN,
        "creditor_agent": BIDV,
    }
    payload.update(changes)
    return payload


def by_alias(kind: str, value: str) -> dict[str, Any]:
    """The changes that address the transfer to an alias instead of an account."""
    return {"creditor_account": None, "creditor_agent": None, "creditor_alias": {"type": kind, "value": value}}


def send(sandbox: Sandbox, *payloads: object, sender: str = DEV_BANK) -> None:
    sandbox.network.inject([Envelope(sender, "switch", RawMessage("pacs.008", p)) for p in payloads])
    sandbox.run()


def answers(sandbox: Sandbox) -> list[StatusReport]:
    """The status reports Dev Bank got, each on its own, whether it came alone or in a message."""
    mailbox = grouping.opened(sandbox.network.mailboxes[DEV_BANK])
    return [e.message for e in mailbox if isinstance(e.message, StatusReport)]


def only_answer(sandbox: Sandbox) -> StatusReport:
    [report] = answers(sandbox)
    return report


def summary(sandbox: Sandbox) -> Counter[tuple[Any, ...]]:
    """The switch's clearing summary, order-free: (status, reason, debtor, creditor, VND) -> count."""
    counts: Counter[tuple[Any, ...]] = Counter()
    for row in sandbox.switch.clearing_summary():
        key = (row["status"], row["reason"], row["debtor_agent"], row["creditor_agent"], row["amount_vnd"])
        counts[key] += row["count"]
    return counts


def money(sandbox: Sandbox) -> dict[str, object]:
    """Everything that says where money is: positions, the switch's ledger totals, every node's accounts."""
    return {
        "positions": sandbox.switch.positions(),
        "switch ledger": sandbox.switch.check_invariants(),
        "nodes": {b: node.balances() for b, node in sandbox.nodes.items()},
    }


def assert_invariants(sandbox: Sandbox) -> None:
    assert check_invariants(sandbox).failures == []


def assert_invariants_after_dev_bank_paid(sandbox: Sandbox, paid_vnd: int) -> None:
    """The invariants when Dev Bank, which has no simulated node, paid `paid_vnd` into the network.

    `check_invariants` counts only the simulated nodes' customers and payments, so money that came
    in from Dev Bank is checked here by hand: the same rules, with Dev Bank's side taken from the
    switch.
    """
    assert sandbox.network.pending() == 0
    sandbox.switch.check_invariants()  # the switch's ledger balances
    positions = sandbox.switch.positions()
    assert positions[DEV_BANK].liquidity_vnd == DEV_BANK_FUNDS - paid_vnd
    settled = [r for r in sandbox.switch.clearing_summary() if r["status"] == TransactionStatus.ACSC.value]
    assert sum(r["amount_vnd"] for r in settled) == paid_vnd
    assert all(r["debtor_agent"] == DEV_BANK for r in settled)
    credited = 0
    customers_hold = 0
    for bin_code, node in sandbox.nodes.items():
        node.check_invariants()
        assert not {"credited", "pending"} & (set(node.inbound_counts()) | set(node.outbound_counts()))
        balances = node.balances()
        settlement = balances[SETTLEMENT]
        assert settlement.debits_posted - settlement.credits_posted == positions[bin_code].liquidity_vnd
        assert positions[bin_code].reserved_vnd == 0
        credited += node.inbound_counts().get("settled", (0, 0))[1]
        customers_hold += sum(a.balance_vnd for k, a in balances.items() if k not in (SETTLEMENT, RESERVES))
    assert credited == paid_vnd
    assert customers_hold == sandbox.opening_deposits_vnd + paid_vnd


# --- malformed: answered, never recorded --------------------------------------------------------

MALFORMED = [
    pytest.param({"amount_vnd": 1000.5}, StatusReason.CH20, "amount_vnd", id="fractional amount CH20"),
    pytest.param({"amount_vnd": "250000.5"}, StatusReason.CH20, "amount_vnd", id="fractional amount as text CH20"),
    pytest.param({"amount_vnd": 0}, StatusReason.FF01, "amount_vnd", id="zero amount FF01"),
    pytest.param({"amount_vnd": -250_000}, StatusReason.FF01, "amount_vnd", id="negative amount FF01"),
    pytest.param({"amount_vnd": True}, StatusReason.FF01, "amount_vnd", id="boolean amount FF01"),
    pytest.param({"currency": "USD"}, StatusReason.FF01, "currency", id="another currency FF01"),
    pytest.param({"transaction_id": "T" * 36}, StatusReason.FF01, "transaction_id", id="36-char transaction id FF01"),
    pytest.param({"debtor": {"name": "N" * 141}}, StatusReason.FF01, "debtor.name", id="141-char debtor name FF01"),
    pytest.param(
        by_alias("citizen_id", "04807001234"),
        StatusReason.FF01,
        "creditor_alias",
        id="11-digit citizen id alias FF01",
    ),
    pytest.param(
        by_alias("msisdn", "0121234567"),
        StatusReason.FF01,
        "creditor_alias",
        id="retired mobile prefix alias FF01",
    ),
    pytest.param(
        {"creditor_account": None}, StatusReason.FF01, "creditor", id="neither alias nor account FF01"
    ),
    pytest.param({"creditor_agent": "97041"}, StatusReason.FF01, "creditor_agent", id="5-digit BIN FF01"),
    pytest.param({"surprise": "field"}, StatusReason.FF01, "surprise", id="unknown field FF01"),
]  # fmt: skip


@pytest.mark.parametrize(("changes", "reason", "field"), MALFORMED)
def test_a_malformed_transfer_is_answered_with_its_reason_naming_the_field_and_changes_nothing(
    storage: Storage, changes: dict[str, Any], reason: StatusReason, field: str
) -> None:
    sandbox = network(storage)
    before = (money(sandbox), summary(sandbox))

    send(sandbox, good_transfer(**changes))

    report = only_answer(sandbox)
    assert (report.transaction_status, report.status_reason) == (TransactionStatus.RJCT, reason)
    assert report.additional_information is not None and field in report.additional_information
    assert report.original_transaction_id == str(changes.get("transaction_id", "DEV-TX-0001"))[:35]
    assert (money(sandbox), summary(sandbox)) == before
    with pytest.raises(TransferNotFound):
        sandbox.switch.transfer_status(DEV_BANK, report.original_transaction_id)
    assert_invariants(sandbox)


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param([1, 2, 3], id="a list"),
        pytest.param("pacs.008", id="a string"),
        pytest.param({}, id="an empty object"),
    ],
)
def test_a_message_that_is_not_a_transfer_at_all_is_answered_ff01(storage: Storage, payload: object) -> None:
    sandbox = network(storage)
    before = (money(sandbox), summary(sandbox))

    send(sandbox, payload)

    report = only_answer(sandbox)
    assert (report.transaction_status, report.status_reason) == (TransactionStatus.RJCT, StatusReason.FF01)
    assert report.original_transaction_id == "NOTPROVIDED"
    assert (money(sandbox), summary(sandbox)) == before
    assert_invariants(sandbox)


def test_a_transfer_sent_in_another_participants_name_is_refused_and_does_not_take_the_id(storage: Storage) -> None:
    sandbox = network(storage)
    before = (money(sandbox), summary(sandbox))

    send(sandbox, good_transfer(debtor_agent=VIETCOMBANK, debtor_account="0011001234567"))

    report = only_answer(sandbox)
    assert (report.transaction_status, report.status_reason) == (TransactionStatus.RJCT, StatusReason.FF01)
    assert (money(sandbox), summary(sandbox)) == before
    with pytest.raises(TransferNotFound):
        sandbox.switch.transfer_status(VIETCOMBANK, "DEV-TX-0001")
    assert_invariants(sandbox)


# --- well-formed but unroutable: answered, recorded once as rejected, no money moves --------------


@pytest.mark.parametrize(
    ("changes", "reason", "creditor_agent"),
    [
        pytest.param({"creditor_agent": TECHCOMBANK}, StatusReason.RC04, TECHCOMBANK, id="unknown creditor BIN RC04"),
        pytest.param(
            by_alias("msisdn", "0987654321"),
            StatusReason.BE23,
            None,
            id="unknown msisdn alias BE23",
        ),
        pytest.param(
            by_alias("citizen_id", "079090054321"),
            StatusReason.BE23,
            None,
            id="unknown citizen id alias BE23",
        ),
        pytest.param({"amount_vnd": 500_000_001}, StatusReason.AM02, BIDV, id="above the transfer limit AM02"),
    ],
)  # fmt: skip
def test_a_transfer_the_switch_cannot_route_is_rejected_with_its_reason_and_moves_no_money(
    storage: Storage, changes: dict[str, Any], reason: StatusReason, creditor_agent: str | None
) -> None:
    sandbox = network(storage)
    money_before, summary_before = money(sandbox), summary(sandbox)
    payload = good_transfer(**changes)

    send(sandbox, payload)

    report = only_answer(sandbox)
    assert (report.transaction_status, report.status_reason) == (TransactionStatus.RJCT, reason)
    assert money(sandbox) == money_before
    # Recorded once, as rejected: the id is taken and a status request will find it.
    expected = summary_before + Counter({("RJCT", reason.value, DEV_BANK, creditor_agent, payload["amount_vnd"]): 1})
    assert summary(sandbox) == expected
    assert sandbox.switch.transfer_status(DEV_BANK, "DEV-TX-0001").reason == reason
    assert_invariants(sandbox)


def test_a_transfer_above_the_debtors_funds_at_the_switch_is_rejected_am04(storage: Storage) -> None:
    sandbox = network(storage)
    sandbox.switch.fund_out(DEV_BANK, DEV_BANK_FUNDS - 100_000, sandbox.now_ms)
    money_before, summary_before = money(sandbox), summary(sandbox)

    send(sandbox, good_transfer(amount_vnd=100_001))

    report = only_answer(sandbox)
    assert (report.transaction_status, report.status_reason) == (TransactionStatus.RJCT, StatusReason.AM04)
    assert money(sandbox) == money_before
    assert summary(sandbox) == summary_before + Counter({("RJCT", "AM04", DEV_BANK, BIDV, 100_001): 1})
    assert_invariants(sandbox)


def test_a_transfer_from_a_suspended_participant_is_rejected_rr04_and_moves_no_money(storage: Storage) -> None:
    sandbox = network(storage)
    sandbox.switch.set_status(DEV_BANK, ParticipantStatus.SUSPENDED)
    money_before, summary_before = money(sandbox), summary(sandbox)

    send(sandbox, good_transfer())

    report = only_answer(sandbox)
    assert (report.transaction_status, report.status_reason) == (TransactionStatus.RJCT, StatusReason.RR04)
    assert money(sandbox) == money_before
    assert summary(sandbox) == summary_before + Counter({("RJCT", "RR04", DEV_BANK, BIDV, 250_000): 1})
    assert sandbox.nodes[BIDV].inbound_counts() == {}
    assert_invariants(sandbox)


# --- duplicates ---------------------------------------------------------------------------------


def test_the_same_transaction_id_with_other_content_is_refused_dupl_and_the_first_transfer_stands(
    storage: Storage,
) -> None:
    sandbox = network(storage)
    first = good_transfer(creditor={}, **by_alias("msisdn", BINH))
    send(sandbox, first)
    assert [(r.transaction_status, r.status_reason) for r in answers(sandbox)] == [(TransactionStatus.ACSC, None)]
    money_before, summary_before = money(sandbox), summary(sandbox)
    sandbox.network.mailboxes[DEV_BANK].clear()

    send(
        sandbox,
        {**first, "amount_vnd": 2_500_000},
        {**first, "creditor_alias": {"type": "citizen_id", "value": AN_CITIZEN_ID}},
        {**first, "end_to_end_id": "DEV-E2E-0002"},
    )

    assert [(r.transaction_status, r.status_reason) for r in answers(sandbox)] == [
        (TransactionStatus.RJCT, StatusReason.DUPL)
    ] * 3
    # answered together, as they arrived: one pacs.002 of three
    assert [type(e.message) for e in sandbox.network.mailboxes[DEV_BANK]] == [StatusReportMessage]
    assert (money(sandbox), summary(sandbox)) == (money_before, summary_before)
    record = sandbox.switch.transfer_status(DEV_BANK, "DEV-TX-0001")
    assert (record.status, record.amount_vnd, record.creditor_agent) == (TransactionStatus.ACSC, 250_000, VIETTEL_MONEY)
    balances = sandbox.nodes[VIETTEL_MONEY].balances()
    assert balances[customer_account(BINH)].balance_vnd == 250_000
    assert_invariants_after_dev_bank_paid(sandbox, 250_000)


def test_the_same_transfer_sent_again_is_answered_with_its_outcome_and_moves_money_once(storage: Storage) -> None:
    sandbox = network(storage)
    send(sandbox, good_transfer())
    money_before, summary_before = money(sandbox), summary(sandbox)
    sandbox.network.mailboxes[DEV_BANK].clear()

    send(sandbox, good_transfer(), good_transfer())

    assert [(r.transaction_status, r.status_reason) for r in answers(sandbox)] == [(TransactionStatus.ACSC, None)] * 2
    assert [type(e.message) for e in sandbox.network.mailboxes[DEV_BANK]] == [StatusReportMessage]
    assert (money(sandbox), summary(sandbox)) == (money_before, summary_before)
    assert sandbox.nodes[BIDV].balances()[customer_account(AN)].balance_vnd == 250_000
    assert_invariants_after_dev_bank_paid(sandbox, 250_000)


def test_a_duplicate_in_the_same_batch_as_its_original_is_refused_and_only_the_original_is_paid(
    storage: Storage,
) -> None:
    sandbox = network(storage)

    send(sandbox, good_transfer(), good_transfer(amount_vnd=9_000_000))

    outcomes = Counter((r.transaction_status, r.status_reason) for r in answers(sandbox))
    assert outcomes == Counter({(TransactionStatus.RJCT, StatusReason.DUPL): 1, (TransactionStatus.ACSC, None): 1})
    assert sandbox.nodes[BIDV].balances()[customer_account(AN)].balance_vnd == 250_000
    assert sandbox.switch.positions()[DEV_BANK].liquidity_vnd == DEV_BANK_FUNDS - 250_000
    assert_invariants_after_dev_bank_paid(sandbox, 250_000)


# --- alias registration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("citizen_id", "alias"),
    [
        pytest.param("999085012345", Alias(type=AliasType.MSISDN, value=HANH), id="province code 999 does not exist"),
        pytest.param("000085012345", Alias(type=AliasType.MSISDN, value=HANH), id="province code 000 does not exist"),
        pytest.param("036285012345", Alias(type=AliasType.MSISDN, value=HANH), id="born in 2085, in the future"),
        pytest.param("999085012345", Alias(type=AliasType.CITIZEN_ID, value="999085012345"), id="as its own alias"),
    ],
)
def test_an_alias_registration_with_a_malformed_citizen_id_is_refused_ff01_and_registers_nothing(
    storage: Storage, citizen_id: str, alias: Alias
) -> None:
    sandbox = network(storage)
    history_before = sandbox.switch.alias_history(alias)

    sandbox.register(
        [
            AliasRegistration(
                request_id="REG-BAD",
                alias=alias,
                name="Đỗ Thị Hạnh",
                citizen_id=citizen_id,
                agent=VIETTEL_MONEY,
                account=HANH,
            )
        ]
    )
    sandbox.run()

    report = next(r for r in sandbox.registration_reports() if r.original_request_id == "REG-BAD")
    assert (report.outcome, report.reason) == (RegistrationOutcome.REFUSED, StatusReason.FF01)
    with pytest.raises(AliasNotFound):
        sandbox.switch.lookup_alias(alias)
    assert sandbox.switch.alias_history(alias) == history_before == []
    assert_invariants(sandbox)


def test_the_same_registration_with_her_real_citizen_id_registers(storage: Storage) -> None:
    """The control for the refusals above: only the citizen id was wrong with them."""
    sandbox = network(storage)
    alias = Alias(type=AliasType.MSISDN, value=HANH)

    sandbox.register(
        [
            AliasRegistration(
                request_id="REG-GOOD",
                alias=alias,
                name="Đỗ Thị Hạnh",
                citizen_id=HANH_CITIZEN_ID,
                agent=VIETTEL_MONEY,
                account=HANH,
            )
        ]
    )
    sandbox.run()

    report = next(r for r in sandbox.registration_reports() if r.original_request_id == "REG-GOOD")
    assert report.outcome == RegistrationOutcome.REGISTERED
    record = sandbox.switch.lookup_alias(alias)
    assert (record.agent, record.account, record.citizen_id) == (VIETTEL_MONEY, HANH, HANH_CITIZEN_ID)
    assert_invariants(sandbox)


@pytest.mark.parametrize("citizen_id", ["03608501234", "0360850123456", "03608501234X", ""])
def test_an_alias_registration_whose_citizen_id_is_not_12_digits_cannot_even_be_made(citizen_id: str) -> None:
    with pytest.raises(ValidationError, match="citizen_id"):
        AliasRegistration(
            request_id="REG-SHORT",
            alias=Alias(type=AliasType.MSISDN, value=BINH),
            name="Hoàng Văn Bình",
            citizen_id=citizen_id,
            agent=VIETTEL_MONEY,
            account=BINH,
        )


def test_a_citizen_id_alias_registration_with_an_11_digit_alias_cannot_even_be_made() -> None:
    with pytest.raises(ValidationError, match="12 digits"):
        Alias(type=AliasType.CITIZEN_ID, value="04807001234")
