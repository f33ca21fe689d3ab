"""The switch as a node: sorting a batch of messages, raw input from external participants, and the
errors of its own operations. Runs on an SQLite file and on PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine

from switch import errors
from switch.errors import TransferNotFound
from switch.node import INBOX_MAX, SwitchNode
from switch.participants.schemas import Participant
from switch.scheme import grouping
from switch.scheme.codes import AliasType, ParticipantKind, RegistrationOutcome, StatusReason, TransactionStatus
from switch.scheme.messages import (
    TRANSACTIONS_PER_MESSAGE_MAX,
    Alias,
    AliasRegistrationReport,
    CreditTransfer,
    CreditTransferMessage,
    StatusReport,
    StatusReportMessage,
    StatusRequest,
)
from switch.scheme.transport import Envelope, RawMessage, TimerFired

NOW = 1_796_083_200_000  # 1 December 2026
VCB, BIDV, VIETINBANK, VBSP, VIETTEL = "970436", "970418", "970415", "999888", "971005"
VCB_FUNDS = 500_000_000
BIDV_FUNDS = 300_000_000


@pytest.fixture
def node(engine: Engine) -> SwitchNode:
    switch = SwitchNode(engine)
    switch.setup()
    switch.register_participant(Participant(VCB, "Vietcombank", ParticipantKind.BANK), NOW)
    switch.register_participant(Participant(BIDV, "BIDV", ParticipantKind.BANK), NOW)
    switch.register_participant(Participant(VIETTEL, "Viettel Money", ParticipantKind.WALLET), NOW)
    switch.fund_in(VCB, VCB_FUNDS, NOW)
    switch.fund_in(BIDV, BIDV_FUNDS, NOW)
    return switch


def payload(tx: str = "TX1", **changes: Any) -> dict[str, Any]:
    """A pacs.008 as an external participant posts it: plain JSON."""
    fields: dict[str, Any] = {
        "message_id": f"MSG-{tx}",
        "end_to_end_id": f"E2E-{tx}",
        "transaction_id": tx,
        "amount_vnd": 1_500_000,
        "currency": "VND",
        "debtor": {"name": "Nguyễn Văn An", "citizen_id": "001090012345"},
        "debtor_account": "0011001234567",
        "debtor_agent": VCB,
        "creditor": {"name": "Trần Thị Bình"},
        "creditor_account": "12010000123456",
        "creditor_agent": BIDV,
        "purpose": "CASH",
        "remittance_information": "Chuyển tiền học phí cho con",
    }
    fields.update(changes)
    return fields


def transfer(tx: str = "TX1", **changes: Any) -> CreditTransfer:
    return CreditTransfer.model_validate(payload(tx, **changes))


def only_report(out: list[Envelope], to: str) -> StatusReport:
    assert len(out) == 1, out
    [envelope] = out
    assert (envelope.sender, envelope.receiver) == ("switch", to)
    assert isinstance(envelope.message, StatusReport)
    return envelope.message


def balances(node: SwitchNode) -> dict[str, tuple[int, int]]:
    return {b: (p.liquidity_vnd, p.reserved_vnd) for b, p in node.positions().items()}


OPENING = {VCB: (VCB_FUNDS, 0), BIDV: (BIDV_FUNDS, 0), VIETTEL: (0, 0)}


# --- raw input -----------------------------------------------------------------------------------


def test_a_raw_pacs008_with_decimals_in_the_amount_is_refused_ch20_naming_amount_vnd(node: SwitchNode) -> None:
    raw = RawMessage("pacs.008", payload(amount_vnd=1000.5))
    report = only_report(node.handle([Envelope(VCB, "switch", raw)], NOW), to=VCB)

    assert report.transaction_status == TransactionStatus.RJCT
    assert report.status_reason == StatusReason.CH20
    assert report.additional_information is not None
    assert "amount_vnd" in report.additional_information
    assert "decimals" in report.additional_information
    assert (report.original_transaction_id, report.original_message_id, report.original_end_to_end_id) == (
        "TX1",
        "MSG-TX1",
        "E2E-TX1",
    )
    assert report.debtor_agent == VCB
    with pytest.raises(TransferNotFound):
        node.transfer_status(VCB, "TX1")
    assert balances(node) == OPENING
    node.check_invariants()


def test_a_raw_pacs008_with_a_40_character_transaction_id_is_refused_ff01_and_nothing_is_stored(
    node: SwitchNode,
) -> None:
    long_id = "VCB2026120100000000000000000000000000001"
    assert len(long_id) == 40
    report = only_report(node.handle([Envelope(VCB, "switch", RawMessage("pacs.008", payload(long_id)))], NOW), VCB)

    assert report.transaction_status == TransactionStatus.RJCT
    assert report.status_reason == StatusReason.FF01
    assert report.additional_information is not None
    assert "transaction_id" in report.additional_information
    assert report.original_transaction_id == long_id[:35]  # echoed, cut to ISO's Max35Text
    for tx in (long_id, long_id[:35]):
        with pytest.raises(TransferNotFound):
            node.transfer_status(VCB, tx)
    assert node.clearing_summary() == []
    assert balances(node) == OPENING
    node.check_invariants()


def test_decimals_together_with_another_fault_are_refused_ff01_naming_both_fields(node: SwitchNode) -> None:
    raw = RawMessage("pacs.008", payload(amount_vnd=1000.5, debtor_account="x"))
    report = only_report(node.handle([Envelope(VCB, "switch", raw)], NOW), to=VCB)
    assert report.status_reason == StatusReason.FF01
    assert report.additional_information is not None
    assert "amount_vnd" in report.additional_information
    assert "debtor_account" in report.additional_information


def test_a_raw_message_of_an_unknown_kind_or_not_an_object_is_refused_ff01(node: SwitchNode) -> None:
    unknown_kind = only_report(node.handle([Envelope(VCB, "switch", RawMessage("pacs.009", payload()))], NOW), VCB)
    assert unknown_kind.status_reason == StatusReason.FF01
    assert unknown_kind.additional_information is not None
    assert "kind" in unknown_kind.additional_information
    assert unknown_kind.original_transaction_id == "TX1"

    not_an_object = only_report(node.handle([Envelope(VCB, "switch", RawMessage("pacs.008", ["TX1"]))], NOW), VCB)
    assert not_an_object.status_reason == StatusReason.FF01
    assert not_an_object.original_transaction_id == "NOTPROVIDED"
    assert node.clearing_summary() == []


def test_a_valid_raw_pacs008_is_cleared_like_any_credit_transfer(node: SwitchNode) -> None:
    out = node.handle([Envelope(VCB, "switch", RawMessage("pacs.008", payload()))], NOW)
    forward, timer = out
    assert forward.receiver == BIDV
    assert forward.message == transfer()
    assert timer.message == TimerFired("timeout:970436:TX1")
    # the same transfer sent again as a model is the same transfer: no second forward
    assert node.handle([Envelope(VCB, "switch", transfer())], NOW + 10) == []
    assert node.positions()[VCB].reserved_vnd == 1_500_000
    node.check_invariants()


# --- batches -------------------------------------------------------------------------------------


def test_one_batch_carries_the_answers_and_requests_of_several_participants(node: SwitchNode) -> None:
    first = transfer("TX1")
    node.handle([Envelope(VCB, "switch", first)], NOW)
    acceptance = StatusReport(
        original_message_id="MSG-TX1",
        original_end_to_end_id="E2E-TX1",
        original_transaction_id="TX1",
        debtor_agent=VCB,
        transaction_status=TransactionStatus.ACSP,
        creditor_agent=BIDV,
    )
    from_bidv = transfer("TX9", debtor_agent=BIDV, creditor_agent=VIETTEL, creditor_account="0987654321")
    out = node.handle(
        [
            Envelope(BIDV, "switch", acceptance),
            Envelope(BIDV, "switch", from_bidv),
            Envelope(VCB, "switch", StatusRequest(message_id="Q1", original_transaction_id="TX1", debtor_agent=VCB)),
            Envelope(VCB, "switch", RawMessage("pacs.008", payload("TX2", amount_vnd=10.5))),
        ],
        NOW + 1_000,
    )
    # Vietcombank's three answers leave together, as one pacs.002
    assert [type(e.message) for e in out if e.receiver == VCB] == [StatusReportMessage]
    by_receiver: dict[str, list[Any]] = {}
    for envelope in grouping.opened(out):
        by_receiver.setdefault(envelope.receiver, []).append(envelope.message)
    assert set(by_receiver) == {VCB, BIDV, VIETTEL, "switch"}
    vcb_statuses = sorted((m.original_transaction_id, m.transaction_status) for m in by_receiver[VCB])
    # the settlement, the answer to the status request (after the settlement), the raw refusal
    assert vcb_statuses == [("TX1", "ACSC"), ("TX1", "ACSC"), ("TX2", "RJCT")]
    assert [m.transaction_status for m in by_receiver[BIDV]] == ["ACSC"]
    assert [m.transaction_id for m in by_receiver[VIETTEL]] == ["TX9"]
    assert node.positions()[BIDV].reserved_vnd == 1_500_000
    node.check_invariants()


def test_the_same_transfer_twice_in_one_batch_is_forwarded_once_and_the_batch_goes_through(
    node: SwitchNode,
) -> None:
    t = transfer()
    out = node.handle([Envelope(VCB, "switch", t), Envelope(VCB, "switch", t)], NOW)
    forwards = [e for e in out if isinstance(e.message, CreditTransfer)]
    assert [e.receiver for e in forwards] == [BIDV]
    assert node.transfer_status(VCB, "TX1").status == TransactionStatus.PDNG
    assert node.positions()[VCB].reserved_vnd == 1_500_000
    node.check_invariants()


def test_a_transfer_to_a_customer_of_the_debtors_own_bank_is_answered_and_does_not_sink_the_batch(
    node: SwitchNode,
) -> None:
    on_us = transfer("TX-ON-US", creditor_agent=VCB, creditor_account="0011009876543")
    other = transfer("TX-OTHER")
    out = node.handle([Envelope(VCB, "switch", on_us), Envelope(VCB, "switch", other)], NOW)

    assert any(isinstance(e.message, CreditTransfer) and e.message.transaction_id == "TX-OTHER" for e in out)
    about_on_us = [
        e
        for e in out
        if (isinstance(e.message, StatusReport) and e.message.original_transaction_id == "TX-ON-US")
        or (isinstance(e.message, CreditTransfer) and e.message.transaction_id == "TX-ON-US")
    ]
    assert len(about_on_us) == 1  # forwarded to its bank, or answered to the debtor: never lost
    assert node.positions()[VCB].reserved_vnd == 1_500_000  # TX-OTHER's reservation only
    node.check_invariants()


def test_an_on_us_transfer_settles_without_moving_any_position(node: SwitchNode) -> None:
    on_us = transfer("TX-ON-US", creditor_agent=VCB, creditor_account="0011009876543")
    [forward, _timer] = node.handle([Envelope(VCB, "switch", on_us)], NOW)
    assert forward.receiver == VCB
    assert balances(node) == OPENING

    acceptance = StatusReport(
        original_message_id=on_us.message_id,
        original_end_to_end_id=on_us.end_to_end_id,
        original_transaction_id=on_us.transaction_id,
        debtor_agent=VCB,
        transaction_status=TransactionStatus.ACSP,
        creditor_agent=VCB,
    )
    out = node.handle([Envelope(VCB, "switch", acceptance)], NOW + 500)
    # to the debtor agent and to the creditor agent, the same bank: both reports in one pacs.002
    [settled] = out
    assert settled.receiver == VCB
    assert isinstance(settled.message, StatusReportMessage)
    assert [r.transaction_status for r in settled.message.reports] == ["ACSC", "ACSC"]
    assert node.transfer_status(VCB, "TX-ON-US").status == TransactionStatus.ACSC
    assert balances(node) == OPENING
    node.check_invariants()


def test_an_on_us_transfer_that_times_out_is_rejected_ab05_without_moving_any_position(node: SwitchNode) -> None:
    on_us = transfer("TX-ON-US", creditor_agent=VCB, creditor_account="0011009876543")
    node.handle([Envelope(VCB, "switch", on_us)], NOW)
    out = node.handle([Envelope("switch", "switch", TimerFired("timeout:970436:TX-ON-US"))], NOW + 5_000)
    # to the debtor agent and to the creditor agent, the same bank: both reports in one pacs.002
    [timed_out] = out
    assert timed_out.receiver == VCB
    assert isinstance(timed_out.message, StatusReportMessage)
    assert [(r.transaction_status, r.status_reason) for r in timed_out.message.reports] == [("RJCT", "AB05")] * 2
    assert node.transfer_status(VCB, "TX-ON-US").reason == StatusReason.AB05
    assert balances(node) == OPENING
    node.check_invariants()


def test_more_transfers_from_one_participant_than_one_ledger_batch_holds_are_all_cleared(node: SwitchNode) -> None:
    # The inbox may hold up to INBOX_MAX envelopes; a bank's batches meeting in one delivery window
    # can bring more than one ledger batch (8,190) from one sender.
    count = 8_191
    template = transfer()
    inbox = [
        Envelope(
            VCB,
            "switch",
            template.model_copy(update={"transaction_id": f"P{i}", "message_id": f"M{i}", "amount_vnd": 1_000}),
        )
        for i in range(count)
    ]
    out = node.handle(inbox, NOW)

    seen: dict[str, int] = {}
    for envelope in grouping.opened(out):
        message = envelope.message
        if isinstance(message, CreditTransfer):
            seen[message.transaction_id] = seen.get(message.transaction_id, 0) + 1
        elif isinstance(message, StatusReport):
            seen[message.original_transaction_id] = seen.get(message.original_transaction_id, 0) + 1
    assert len(seen) == count and set(seen.values()) == {1}  # each forwarded or answered, once
    # the forwards to BIDV go in messages of at most a thousand, each watched by one creditor timer
    # that names exactly its transactions
    messages = [e.message for e in out if isinstance(e.message, CreditTransferMessage)]
    assert messages and all(len(m.transactions) <= TRANSACTIONS_PER_MESSAGE_MAX for m in messages)
    assert all(t.message_id == m.message_id for m in messages for t in m.transactions)
    timers = {e.message.key: e.message.keys for e in out if isinstance(e.message, TimerFired)}
    for m in messages:
        assert timers[f"timeout-message:{m.message_id}"] == tuple(f"{VCB}:{t.transaction_id}" for t in m.transactions)
    node.check_invariants()


def test_messages_the_switch_does_not_take_are_dropped(node: SwitchNode) -> None:
    stray = AliasRegistrationReport(
        original_request_id="REG-1",
        alias=Alias(type=AliasType.MSISDN, value="0912345678"),
        outcome=RegistrationOutcome.REGISTERED,
    )
    out = node.handle(
        [
            Envelope(VIETTEL, "switch", stray),
            Envelope("switch", "switch", TimerFired("somebody-else:TX1")),
            Envelope("switch", "switch", TimerFired("timeout:970436:NEVER")),
            Envelope("switch", "switch", TimerFired("registration:NEVER")),
        ],
        NOW,
    )
    assert out == []
    assert balances(node) == OPENING
    assert node.check_invariants().balanced


def test_an_empty_inbox_sends_nothing(node: SwitchNode) -> None:
    assert node.handle([], NOW) == []


def test_an_inbox_larger_than_the_transport_may_deliver_is_a_bug_not_load(node: SwitchNode) -> None:
    envelope = Envelope(VCB, "switch", transfer())
    with pytest.raises(AssertionError, match="over"):
        node.handle([envelope] * (INBOX_MAX + 1), NOW)
    assert node.clearing_summary() == []


def test_a_node_with_a_shorter_creditor_timeout_sets_its_timers_accordingly(engine: Engine) -> None:
    node = SwitchNode(engine, creditor_timeout_ms=1_500)
    node.setup()
    node.register_participant(Participant(VCB, "Vietcombank", ParticipantKind.BANK, net_debit_cap_vnd=10**9), NOW)
    node.register_participant(Participant(BIDV, "BIDV", ParticipantKind.BANK), NOW)
    [_forward, timer] = node.handle([Envelope(VCB, "switch", transfer())], NOW)
    assert timer.delay_ms == 1_500


def test_setup_twice_keeps_everything(node: SwitchNode) -> None:
    node.setup()
    assert set(node.all_participants()) == {VCB, BIDV, VIETTEL}
    assert balances(node) == OPENING
    node.check_invariants()


# --- errors of the switch's own operations -------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "parent", "reason"),
    [
        (errors.ParticipantNotFound, errors.NotFound, StatusReason.RC04),
        (errors.AliasNotFound, errors.NotFound, StatusReason.BE23),
        (errors.TransferNotFound, errors.NotFound, StatusReason.NOOR),
        (errors.ParticipantExists, errors.Conflict, StatusReason.DUPL),
        (errors.LimitInUse, errors.Conflict, StatusReason.AM04),
        (errors.ParticipantSuspended, errors.Forbidden, StatusReason.RR04),
    ],
)
def test_each_error_carries_its_field_rule_and_reason_code(
    error: type[errors.SwitchError], parent: type[errors.SwitchError], reason: StatusReason
) -> None:
    raised = error("bin", "no participant has BIN 970499")
    assert isinstance(raised, parent)
    assert isinstance(raised, errors.SwitchError)
    assert (raised.field, raised.rule, raised.reason) == ("bin", "no participant has BIN 970499", reason)
    assert str(raised) == "bin: no participant has BIN 970499"


def test_input_invalid_is_ff01_unless_told_otherwise() -> None:
    assert errors.InputInvalid("amount_vnd", "must be whole VND").reason == StatusReason.FF01
    decimals = errors.InputInvalid("amount_vnd", "decimals are not allowed", StatusReason.CH20)
    assert decimals.reason == StatusReason.CH20
    assert errors.SwitchError("x", "y").reason == StatusReason.FF01
    # setting one instance's reason does not change the class's
    assert errors.InputInvalid("a", "b").reason == StatusReason.FF01
