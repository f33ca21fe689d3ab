"""Clearing through the switch node: reserve, forward, settle or release, on SQLite and PostgreSQL.

Each test drives `SwitchNode.handle` directly, as the network would, and answers as the creditor.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine

from switch.errors import TransferNotFound
from switch.node import SwitchNode
from switch.participants.schemas import Participant, Position
from switch.scheme.codes import (
    AliasType,
    ParticipantKind,
    ParticipantStatus,
    StatusReason,
    TransactionStatus,
    VerificationOutcome,
)
from switch.scheme.messages import (
    Alias,
    AliasRegistration,
    CreditTransfer,
    CreditTransferMessage,
    Party,
    StatusReport,
    StatusRequest,
    VerificationReport,
)
from switch.scheme.transport import Envelope, TimerFired, Undeliverable

NOW = 1_796_083_200_000  # 1 December 2026, 07:00 in Hà Nội
VCB, BIDV, VIETINBANK, VBSP, VIETTEL = "970436", "970418", "970415", "999888", "971005"
VCB_FUNDS = 500_000_000
VCB_CAP = 1_000_000_000
BIDV_FUNDS = 300_000_000


@pytest.fixture
def node(engine: Engine) -> SwitchNode:
    switch = SwitchNode(engine)
    switch.setup()
    switch.register_participant(Participant(VCB, "Vietcombank", ParticipantKind.BANK, net_debit_cap_vnd=VCB_CAP), NOW)
    switch.register_participant(Participant(BIDV, "BIDV", ParticipantKind.BANK), NOW)
    switch.register_participant(Participant(VIETINBANK, "VietinBank", ParticipantKind.BANK), NOW)
    switch.register_participant(Participant(VBSP, "Ngân hàng Chính sách xã hội", ParticipantKind.BANK), NOW)
    switch.register_participant(Participant(VIETTEL, "Viettel Money", ParticipantKind.WALLET), NOW)
    switch.fund_in(VCB, VCB_FUNDS, NOW)
    switch.fund_in(BIDV, BIDV_FUNDS, NOW)
    return switch


def transfer(tx: str = "TX1", amount_vnd: int = 1_500_000, **changes: Any) -> CreditTransfer:
    fields: dict[str, object] = {
        "message_id": f"MSG-{tx}",
        "end_to_end_id": f"E2E-{tx}",
        "transaction_id": tx,
        "amount_vnd": amount_vnd,
        "debtor": Party(name="Nguyễn Văn An", citizen_id="001090012345"),
        "debtor_account": "0011001234567",
        "debtor_agent": VCB,
        "creditor": Party(name="Trần Thị Bình"),
        "creditor_account": "12010000123456",
        "creditor_agent": BIDV,
        "remittance_information": "Trả tiền thuê nhà tháng 12",
    }
    fields.update(changes)
    return CreditTransfer.model_validate(fields)


def send(node: SwitchNode, *transfers: CreditTransfer, sender: str = VCB, at: int = NOW) -> list[Envelope]:
    return node.handle([Envelope(sender, "switch", t) for t in transfers], at)


def answer(
    node: SwitchNode,
    t: CreditTransfer,
    status: TransactionStatus,
    reason: StatusReason | None = None,
    sender: str | None = None,
    at: int = NOW + 800,
) -> list[Envelope]:
    creditor = sender or t.creditor_agent or BIDV
    report = StatusReport(
        original_message_id=t.message_id,
        original_end_to_end_id=t.end_to_end_id,
        original_transaction_id=t.transaction_id,
        debtor_agent=t.debtor_agent,
        transaction_status=status,
        status_reason=reason,
        creditor_agent=creditor,
    )
    return node.handle([Envelope(creditor, "switch", report)], at)


def time_out(node: SwitchNode, t: CreditTransfer, at: int = NOW + 5_000) -> list[Envelope]:
    return node.handle([Envelope("switch", "switch", TimerFired(f"timeout:{t.debtor_agent}:{t.transaction_id}"))], at)


def reports(out: list[Envelope]) -> dict[str, StatusReport]:
    """The status reports sent, by receiver (one per receiver in these flows)."""
    found = {e.receiver: e.message for e in out if isinstance(e.message, StatusReport)}
    assert len(found) == len([e for e in out if isinstance(e.message, StatusReport)]), out
    return found


def only_report(out: list[Envelope], to: str) -> StatusReport:
    assert len(out) == 1, out
    [envelope] = out
    assert envelope.receiver == to
    assert envelope.sender == "switch"
    assert isinstance(envelope.message, StatusReport)
    return envelope.message


def liquidity(positions: dict[str, Position]) -> dict[str, tuple[int, int]]:
    return {b: (p.liquidity_vnd, p.reserved_vnd) for b, p in positions.items()}


OPENING = {
    VCB: (VCB_FUNDS, 0),
    BIDV: (BIDV_FUNDS, 0),
    VIETINBANK: (0, 0),
    VBSP: (0, 0),
    VIETTEL: (0, 0),
}


# --- the happy path ------------------------------------------------------------------------------


def test_an_accepted_transfer_is_forwarded_to_the_creditor_with_a_timer_and_reserves_the_amount(
    node: SwitchNode,
) -> None:
    t = transfer()
    out = send(node, t)

    assert len(out) == 2
    forward, timer = out
    assert (forward.sender, forward.receiver, forward.message) == ("switch", BIDV, t)
    assert (timer.sender, timer.receiver) == ("switch", "switch")
    assert timer.message == TimerFired("timeout:970436:TX1")
    assert timer.delay_ms == 5_000

    record = node.transfer_status(VCB, "TX1")
    assert record.status == TransactionStatus.PDNG
    assert record.reason is None
    assert (record.creditor_agent, record.creditor_account, record.amount_vnd) == (BIDV, "12010000123456", 1_500_000)
    positions = node.positions()
    assert positions[VCB].reserved_vnd == 1_500_000
    assert positions[VCB].liquidity_vnd == VCB_FUNDS
    assert positions[VCB].available_vnd == VCB_FUNDS + VCB_CAP - 1_500_000
    assert positions[BIDV].liquidity_vnd == BIDV_FUNDS
    node.check_invariants()


def test_the_creditors_acceptance_settles_reports_acsc_to_both_agents_and_moves_the_positions(
    node: SwitchNode,
) -> None:
    t = transfer()
    send(node, t)
    out = answer(node, t, TransactionStatus.ACSP, at=NOW + 800)

    sent = reports(out)
    assert set(sent) == {VCB, BIDV}
    for report in sent.values():
        assert report.transaction_status == TransactionStatus.ACSC
        assert report.status_reason is None
        assert report.original_transaction_id == "TX1"
        assert report.original_message_id == "MSG-TX1"
        assert report.original_end_to_end_id == "E2E-TX1"
        assert report.debtor_agent == VCB
        assert report.creditor_agent == BIDV
        assert report.amount_vnd == 1_500_000
        assert report.settled_at_ms == NOW + 800
    record = node.transfer_status(VCB, "TX1")
    assert record.status == TransactionStatus.ACSC
    assert record.updated_ms == NOW + 800
    assert liquidity(node.positions()) == OPENING | {
        VCB: (VCB_FUNDS - 1_500_000, 0),
        BIDV: (BIDV_FUNDS + 1_500_000, 0),
    }
    node.check_invariants()


def test_a_second_acceptance_of_a_settled_transfer_changes_nothing(node: SwitchNode) -> None:
    t = transfer()
    send(node, t)
    answer(node, t, TransactionStatus.ACSP)
    before = node.positions()

    assert answer(node, t, TransactionStatus.ACSP, at=NOW + 900) == []
    assert answer(node, t, TransactionStatus.RJCT, StatusReason.AC04, at=NOW + 950) == []
    assert node.positions() == before
    assert node.transfer_status(VCB, "TX1").status == TransactionStatus.ACSC
    node.check_invariants()


def test_the_debtor_may_pay_into_its_net_debit_cap_and_the_creditor_then_pays_back(node: SwitchNode) -> None:
    big = transfer("TX-BIG", 450_000_000)
    again = transfer("TX-AGAIN", 450_000_000)
    for t in (big, again):
        send(node, t)
        answer(node, t, TransactionStatus.ACSP)
    assert node.positions()[VCB].liquidity_vnd == VCB_FUNDS - 900_000_000
    assert node.positions()[VCB].available_vnd == VCB_FUNDS + VCB_CAP - 900_000_000

    back = transfer("TX-BACK", 100_000_000, debtor_agent=BIDV, creditor_agent=VCB, creditor_account="0011009876543")
    assert send(node, back, sender=BIDV)[0].receiver == VCB
    answer(node, back, TransactionStatus.ACSP, sender=VCB)
    assert node.positions()[VCB].liquidity_vnd == VCB_FUNDS - 800_000_000
    assert node.positions()[BIDV].liquidity_vnd == BIDV_FUNDS + 800_000_000
    node.check_invariants()


def test_a_transfer_by_alias_goes_to_the_account_the_citizen_registered(node: SwitchNode) -> None:
    alias = Alias(type=AliasType.MSISDN, value="0912345678")
    registration = AliasRegistration(
        request_id="REG-1",
        alias=alias,
        name="Phạm Thị Hoa",
        citizen_id="079185001234",
        agent=VIETTEL,
        account="0912345678",
    )
    node.handle([Envelope("vneid", "switch", registration)], NOW)
    verified = VerificationReport(original_verification_id="REG-1", agent=VIETTEL, outcome=VerificationOutcome.MTCH)
    node.handle([Envelope(VIETTEL, "switch", verified)], NOW + 100)

    t = transfer(
        "TX-ALIAS",
        creditor_alias={"type": "msisdn", "value": "+84 912 345 678"},
        creditor_account=None,
        creditor_agent=None,
    )
    forward, _timer = send(node, t, at=NOW + 1_000)
    assert forward.receiver == VIETTEL
    assert isinstance(forward.message, CreditTransfer)
    assert forward.message.creditor_account == "0912345678"
    assert forward.message.creditor_agent == VIETTEL
    assert forward.message.creditor.citizen_id == "079185001234"

    out = answer(node, t, TransactionStatus.ACSP, sender=VIETTEL, at=NOW + 1_500)
    assert set(reports(out)) == {VCB, VIETTEL}
    assert node.transfer_status(VCB, "TX-ALIAS").creditor_agent == VIETTEL
    assert node.positions()[VIETTEL].liquidity_vnd == 1_500_000
    node.check_invariants()


# --- refusals at intake --------------------------------------------------------------------------


def test_a_debtor_without_funds_or_cap_is_refused_am04_and_nothing_moves(node: SwitchNode) -> None:
    t = transfer(debtor_agent=VIETINBANK, creditor_agent=VCB, creditor_account="0011009876543")
    report = only_report(send(node, t, sender=VIETINBANK), to=VIETINBANK)

    assert report.transaction_status == TransactionStatus.RJCT
    assert report.status_reason == StatusReason.AM04
    assert report.original_transaction_id == "TX1"
    record = node.transfer_status(VIETINBANK, "TX1")
    assert (record.status, record.reason) == (TransactionStatus.RJCT, StatusReason.AM04)
    assert liquidity(node.positions()) == OPENING
    node.check_invariants()


def test_a_transfer_that_would_exceed_the_net_debit_cap_is_refused_while_one_that_fits_passes(
    node: SwitchNode,
) -> None:
    headroom = VCB_FUNDS + VCB_CAP  # 1.5 billion: three transfers at the 500 million limit
    fits = [transfer(f"TX{i}", 500_000_000) for i in range(3)]
    for t in fits:
        send(node, t)
        answer(node, t, TransactionStatus.ACSP)
    assert node.positions()[VCB].available_vnd == headroom - 1_500_000_000 == 0

    one_more = transfer("TX-OVER", 1)
    report = only_report(send(node, one_more), to=VCB)
    assert report.status_reason == StatusReason.AM04
    assert node.positions()[VCB].liquidity_vnd == VCB_FUNDS - 1_500_000_000

    node.fund_in(VCB, 1, NOW + 2_000)
    just_fits = transfer("TX-FITS", 1)
    assert send(node, just_fits, at=NOW + 2_001)[0].receiver == BIDV
    assert node.positions()[VCB].available_vnd == 0
    node.check_invariants()


def test_pending_reservations_count_against_the_debtors_position(node: SwitchNode) -> None:
    first = transfer("TX1", 500_000_000)
    second = transfer("TX2", 500_000_000)
    third = transfer("TX3", 500_000_000)
    fourth = transfer("TX4", 1)
    out = send(node, first, second, third, fourth)
    # the three accepted go to BIDV as one message, each transaction carrying its id
    [forward] = [e for e in out if isinstance(e.message, CreditTransferMessage)]
    assert not [e for e in out if isinstance(e.message, CreditTransfer)], out
    assert forward.receiver == BIDV
    assert isinstance(forward.message, CreditTransferMessage)
    assert [t.transaction_id for t in forward.message.transactions] == ["TX1", "TX2", "TX3"]
    assert {t.message_id for t in forward.message.transactions} == {forward.message.message_id}
    # and one creditor timer watches the whole message, naming each of its transactions
    [timer] = [e.message for e in out if isinstance(e.message, TimerFired)]
    assert timer.key == f"timeout-message:{forward.message.message_id}"
    assert timer.keys == (f"{VCB}:TX1", f"{VCB}:TX2", f"{VCB}:TX3")
    assert reports(out)[VCB].status_reason == StatusReason.AM04
    assert node.positions()[VCB].reserved_vnd == 1_500_000_000
    node.check_invariants()


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"creditor_agent": "970499"}, StatusReason.RC04),
        ({"creditor_agent": "SUSPENDED"}, StatusReason.RR04),
        ({"amount_vnd": 500_000_001}, StatusReason.AM02),
        (
            {"creditor_alias": {"type": "citizen_id", "value": "001090012345"}, "creditor_agent": None},
            StatusReason.BE23,
        ),
    ],
    ids=["unknown creditor", "suspended creditor", "over the limit", "unknown alias"],
)
def test_a_refused_transfer_is_answered_rjct_stored_and_moves_nothing(
    node: SwitchNode, changes: dict[str, Any], reason: StatusReason
) -> None:
    if changes.get("creditor_agent") == "SUSPENDED":
        node.set_status(VIETINBANK, ParticipantStatus.SUSPENDED)
        changes = changes | {"creditor_agent": VIETINBANK}
    t = transfer(**changes)
    report = only_report(send(node, t), to=VCB)

    assert report.transaction_status == TransactionStatus.RJCT
    assert report.status_reason == reason
    record = node.transfer_status(VCB, "TX1")
    assert (record.status, record.reason) == (TransactionStatus.RJCT, reason)
    assert liquidity(node.positions()) == OPENING
    # the id is taken: sending it again gets the same answer, not a new attempt
    assert only_report(send(node, t, at=NOW + 10), to=VCB).status_reason == reason
    node.check_invariants()


def test_a_suspended_debtor_is_refused_rr04_and_moves_nothing(node: SwitchNode) -> None:
    node.set_status(VCB, ParticipantStatus.SUSPENDED)
    report = only_report(send(node, transfer()), to=VCB)
    assert report.status_reason == StatusReason.RR04
    assert liquidity(node.positions()) == OPENING
    node.check_invariants()


def test_a_transfer_sent_in_another_agents_name_is_refused_ff01_to_its_sender_and_stores_nothing(
    node: SwitchNode,
) -> None:
    t = transfer()  # debtor agent Vietcombank, sent by BIDV
    report = only_report(send(node, t, sender=BIDV), to=BIDV)
    assert report.status_reason == StatusReason.FF01
    with pytest.raises(TransferNotFound):
        node.transfer_status(VCB, "TX1")
    assert liquidity(node.positions()) == OPENING

    # the id stays free for the real debtor agent
    assert send(node, t, at=NOW + 10)[0].receiver == BIDV
    node.check_invariants()


# --- duplicates ----------------------------------------------------------------------------------


def test_an_id_reused_with_other_content_is_refused_dupl_and_leaves_the_original_alone(node: SwitchNode) -> None:
    original = transfer()
    send(node, original)
    other = transfer(amount_vnd=2_000_000)

    report = only_report(send(node, other, at=NOW + 100), to=VCB)
    assert report.status_reason == StatusReason.DUPL
    record = node.transfer_status(VCB, "TX1")
    assert (record.status, record.amount_vnd) == (TransactionStatus.PDNG, 1_500_000)
    assert node.positions()[VCB].reserved_vnd == 1_500_000

    # the original still settles as it was sent
    answer(node, original, TransactionStatus.ACSP)
    assert node.positions()[VCB].liquidity_vnd == VCB_FUNDS - 1_500_000
    assert node.transfer_status(VCB, "TX1").amount_vnd == 1_500_000
    node.check_invariants()


def test_an_id_reused_with_other_content_after_a_refusal_is_dupl_too(node: SwitchNode) -> None:
    send(node, transfer(amount_vnd=600_000_000))  # AM02, stored
    report = only_report(send(node, transfer(amount_vnd=1_000), at=NOW + 100), to=VCB)
    assert report.status_reason == StatusReason.DUPL
    assert node.transfer_status(VCB, "TX1").reason == StatusReason.AM02
    assert liquidity(node.positions()) == OPENING
    node.check_invariants()


def test_a_repeat_of_a_settled_transfer_gets_the_stored_acsc_and_moves_nothing(node: SwitchNode) -> None:
    t = transfer()
    send(node, t)
    answer(node, t, TransactionStatus.ACSP, at=NOW + 800)
    before = node.positions()

    report = only_report(send(node, t, at=NOW + 60_000), to=VCB)
    assert report.transaction_status == TransactionStatus.ACSC
    assert report.settled_at_ms == NOW + 800
    assert node.positions() == before
    node.check_invariants()


def test_a_repeat_of_a_pending_transfer_is_neither_forwarded_nor_answered_again(node: SwitchNode) -> None:
    t = transfer()
    send(node, t)
    assert send(node, t, at=NOW + 1_000) == []
    assert node.positions()[VCB].reserved_vnd == 1_500_000
    node.check_invariants()


# --- the creditor's refusal, timeouts and unreachable creditors ------------------------------------


def test_a_creditor_refusal_is_passed_to_the_debtor_and_releases_the_reservation(node: SwitchNode) -> None:
    t = transfer()
    send(node, t)
    report = only_report(answer(node, t, TransactionStatus.RJCT, StatusReason.AC04), to=VCB)

    assert report.transaction_status == TransactionStatus.RJCT
    assert report.status_reason == StatusReason.AC04
    assert report.settled_at_ms is None
    assert liquidity(node.positions()) == OPENING
    assert node.transfer_status(VCB, "TX1").reason == StatusReason.AC04
    node.check_invariants()


def test_a_creditor_refusal_without_a_reason_is_reported_ff01(node: SwitchNode) -> None:
    t = transfer()
    send(node, t)
    report = only_report(answer(node, t, TransactionStatus.RJCT), to=VCB)
    assert report.status_reason == StatusReason.FF01
    node.check_invariants()


def test_a_timeout_rejects_ab05_to_both_agents_and_releases_the_reservation(node: SwitchNode) -> None:
    t = transfer()
    send(node, t)
    sent = reports(time_out(node, t))

    assert set(sent) == {VCB, BIDV}
    for report in sent.values():
        assert (report.transaction_status, report.status_reason) == (TransactionStatus.RJCT, StatusReason.AB05)
    assert liquidity(node.positions()) == OPENING
    record = node.transfer_status(VCB, "TX1")
    assert (record.status, record.reason, record.updated_ms) == (TransactionStatus.RJCT, StatusReason.AB05, NOW + 5_000)
    node.check_invariants()


def test_a_late_acceptance_after_the_timeout_is_refused_ab05_to_the_creditor_and_settles_nothing(
    node: SwitchNode,
) -> None:
    t = transfer()
    send(node, t)
    time_out(node, t)
    assert node.clearing.late_acceptances_refused == 0

    report = only_report(answer(node, t, TransactionStatus.ACSP, at=NOW + 7_000), to=BIDV)
    assert (report.transaction_status, report.status_reason) == (TransactionStatus.RJCT, StatusReason.AB05)
    assert node.clearing.late_acceptances_refused == 1
    assert liquidity(node.positions()) == OPENING
    assert node.transfer_status(VCB, "TX1").status == TransactionStatus.RJCT
    node.check_invariants()


def test_a_timer_firing_after_settlement_changes_nothing(node: SwitchNode) -> None:
    t = transfer()
    send(node, t)
    answer(node, t, TransactionStatus.ACSP)
    before = node.positions()
    assert time_out(node, t) == []
    assert node.positions() == before
    assert node.transfer_status(VCB, "TX1").status == TransactionStatus.ACSC
    node.check_invariants()


def test_an_acceptance_and_the_timer_arriving_together_settle(node: SwitchNode) -> None:
    t = transfer()
    send(node, t)
    acceptance = StatusReport(
        original_message_id=t.message_id,
        original_end_to_end_id=t.end_to_end_id,
        original_transaction_id=t.transaction_id,
        debtor_agent=VCB,
        transaction_status=TransactionStatus.ACSP,
        creditor_agent=BIDV,
    )
    out = node.handle(
        [
            Envelope("switch", "switch", TimerFired("timeout:970436:TX1")),
            Envelope(BIDV, "switch", acceptance),
        ],
        NOW + 5_000,
    )
    assert {r.transaction_status for r in reports(out).values()} == {TransactionStatus.ACSC}
    assert node.positions()[BIDV].liquidity_vnd == BIDV_FUNDS + 1_500_000
    node.check_invariants()


def test_an_unreachable_creditor_rejects_ab08_to_the_debtor_and_a_later_acceptance_is_refused(
    node: SwitchNode,
) -> None:
    t = transfer()
    [forward, _timer] = send(node, t)
    report = only_report(node.handle([Envelope("switch", "switch", Undeliverable(BIDV, forward.message))], NOW), VCB)

    assert (report.transaction_status, report.status_reason) == (TransactionStatus.RJCT, StatusReason.AB08)
    assert liquidity(node.positions()) == OPENING

    refused = only_report(answer(node, t, TransactionStatus.ACSP, at=NOW + 3_000), to=BIDV)
    assert refused.status_reason == StatusReason.AB08
    assert node.clearing.late_acceptances_refused == 1
    assert time_out(node, t) == []
    assert liquidity(node.positions()) == OPENING
    node.check_invariants()


def test_a_creditor_answering_for_a_transfer_it_was_not_sent_is_ignored(node: SwitchNode) -> None:
    t = transfer()
    send(node, t)

    assert answer(node, t, TransactionStatus.ACSP, sender=VIETINBANK) == []
    assert answer(node, t, TransactionStatus.RJCT, StatusReason.AC01, sender=VIETINBANK) == []
    assert answer(node, transfer("TX-NEVER-SENT"), TransactionStatus.ACSP) == []
    assert node.transfer_status(VCB, "TX1").status == TransactionStatus.PDNG
    assert node.positions()[VCB].reserved_vnd == 1_500_000
    assert node.clearing.late_acceptances_refused == 0
    node.check_invariants()


# --- status requests -----------------------------------------------------------------------------


def ask(node: SwitchNode, tx: str, sender: str = VCB, at: int = NOW + 1_000) -> StatusReport:
    request = StatusRequest(message_id=f"Q-{tx}", original_transaction_id=tx, debtor_agent=sender)
    return only_report(node.handle([Envelope(sender, "switch", request)], at), to=sender)


def test_a_status_request_returns_the_current_state_of_the_transfer(node: SwitchNode) -> None:
    t = transfer()
    send(node, t)
    pending = ask(node, "TX1")
    assert (pending.transaction_status, pending.original_transaction_id) == (TransactionStatus.PDNG, "TX1")
    assert pending.amount_vnd == 1_500_000

    answer(node, t, TransactionStatus.ACSP, at=NOW + 800)
    settled = ask(node, "TX1", at=NOW + 2_000)
    assert settled.transaction_status == TransactionStatus.ACSC
    assert settled.settled_at_ms == NOW + 800
    assert liquidity(node.positions())[VCB] == (VCB_FUNDS - 1_500_000, 0)


def test_a_status_request_for_an_unknown_id_is_answered_rjct_noor(node: SwitchNode) -> None:
    report = ask(node, "TX-UNKNOWN")
    assert report.transaction_status == TransactionStatus.RJCT
    assert report.status_reason == StatusReason.NOOR
    assert report.original_transaction_id == "TX-UNKNOWN"
    assert report.original_message_id == "Q-TX-UNKNOWN"


def test_a_transfer_arriving_after_its_debtor_was_told_noor_is_refused_and_moves_nothing(node: SwitchNode) -> None:
    """The bank voided the payment on NOOR; the pacs.008, delayed on the way, must not settle."""
    before = liquidity(node.positions())
    assert ask(node, "TX1", at=NOW).status_reason == StatusReason.NOOR

    late = only_report(send(node, transfer("TX1"), at=NOW + 20_000), to=VCB)

    assert (late.transaction_status, late.status_reason) == (TransactionStatus.RJCT, StatusReason.DUPL)
    assert liquidity(node.positions()) == before
    assert node.transfer_status(VCB, "TX1").reason == StatusReason.NOOR
    assert ask(node, "TX1", at=NOW + 21_000).status_reason == StatusReason.NOOR  # the answer stays the same
    node.check_invariants()


def test_asking_about_another_agents_unknown_id_closes_nothing(node: SwitchNode) -> None:
    prying = StatusRequest(message_id="Q-TX1", original_transaction_id="TX1", debtor_agent=VCB)
    told = only_report(node.handle([Envelope(BIDV, "switch", prying)], NOW), to=BIDV)
    assert told.status_reason == StatusReason.NOOR
    send(node, transfer("TX1"))
    assert node.transfer_status(VCB, "TX1").status == TransactionStatus.PDNG


def test_a_participant_asking_about_another_agents_transfer_learns_nothing(node: SwitchNode) -> None:
    send(node, transfer())
    assert ask(node, "TX1", sender=BIDV).status_reason == StatusReason.NOOR


def test_the_clearing_record_of_an_unknown_id_raises_transfer_not_found(node: SwitchNode) -> None:
    with pytest.raises(TransferNotFound) as raised:
        node.transfer_status(VCB, "TX-UNKNOWN")
    assert raised.value.field == "transaction_id"
    assert raised.value.reason == StatusReason.NOOR


def test_the_clearing_summary_counts_and_sums_by_status_and_reason(node: SwitchNode) -> None:
    ok = transfer("TX1")
    send(node, ok, transfer("TX2", 700_000_000), transfer("TX3", 2_000_000))
    answer(node, ok, TransactionStatus.ACSP)
    rows = {(r["status"], r["reason"]): (r["count"], r["amount_vnd"]) for r in node.clearing_summary()}
    assert rows == {
        ("ACSC", None): (1, 1_500_000),
        ("RJCT", "AM02"): (1, 700_000_000),
        ("PDNG", None): (1, 2_000_000),
    }
