"""Multi-transaction messages through clearing, on SQLite and PostgreSQL.

Vietcombank sends one pacs.008 of several transactions for BIDV and VietinBank. The switch decides
each transaction on its own in the one batch, forwards them grouped per creditor with one timer per
message, and settles, rejects, times out or releases each of them on its own. Each test drives
`SwitchNode.handle` directly, as the network would, and answers as the creditors.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import Engine

from ledger.schemas import BATCH_SIZE_MAX
from switch.errors import TransferNotFound
from switch.node import SwitchNode
from switch.participants.schemas import Participant, Position
from switch.scheme.codes import ParticipantKind, StatusReason, TransactionStatus
from switch.scheme.grouping import opened
from switch.scheme.messages import (
    TRANSACTIONS_PER_MESSAGE_MAX,
    CreditTransfer,
    CreditTransferMessage,
    Party,
    StatusReport,
    StatusReportMessage,
    StatusRequest,
)
from switch.scheme.transport import Envelope, TimerFired, Undeliverable

NOW = 1_796_083_200_000  # 1 December 2026, 07:00 in Hà Nội
VCB, BIDV, VIETINBANK, AGRIBANK = "970436", "970418", "970415", "970405"
VCB_FUNDS = 500_000_000
VCB_CAP = 1_000_000_000
BIDV_FUNDS = 300_000_000
TIMEOUT_MS = 5_000

CREDITORS = {
    BIDV: ("12010000123456", "Trần Thị Bình"),
    VIETINBANK: ("108000123456", "Đặng Văn Hùng"),
    AGRIBANK: ("1500205123456", "Bùi Thị Thu"),
}


@pytest.fixture
def node(engine: Engine) -> SwitchNode:
    switch = SwitchNode(engine)
    switch.setup()
    switch.register_participant(Participant(VCB, "Vietcombank", ParticipantKind.BANK, net_debit_cap_vnd=VCB_CAP), NOW)
    switch.register_participant(Participant(BIDV, "BIDV", ParticipantKind.BANK), NOW)
    switch.register_participant(Participant(VIETINBANK, "VietinBank", ParticipantKind.BANK), NOW)
    # Agribank registered for single transfers only
    agribank = Participant(AGRIBANK, "Agribank", ParticipantKind.BANK, transactions_per_message_max=1)
    switch.register_participant(agribank, NOW)
    switch.fund_in(VCB, VCB_FUNDS, NOW)
    switch.fund_in(BIDV, BIDV_FUNDS, NOW)
    return switch


OPENING = {VCB: (VCB_FUNDS, 0), BIDV: (BIDV_FUNDS, 0), VIETINBANK: (0, 0), AGRIBANK: (0, 0)}


def transfer(
    tx: str, creditor_agent: str = BIDV, amount_vnd: int = 1_500_000, message_id: str = "VCB-MSG-1", **changes: Any
) -> CreditTransfer:
    account, name = CREDITORS.get(creditor_agent, ("99990000123456", "Ngô Thị Nga"))
    fields: dict[str, object] = {
        "message_id": message_id,
        "end_to_end_id": f"E2E-{tx}",
        "transaction_id": tx,
        "amount_vnd": amount_vnd,
        "debtor": Party(name="Nguyễn Văn An", citizen_id="001090012345"),
        "debtor_account": "0011001234567",
        "debtor_agent": VCB,
        "creditor": Party(name=name),
        "creditor_account": account,
        "creditor_agent": creditor_agent,
        "remittance_information": f"Lương tháng 12, {tx}",
    }
    fields.update(changes)
    return CreditTransfer.model_validate(fields)


def message(*transfers: CreditTransfer, message_id: str = "VCB-MSG-1") -> CreditTransferMessage:
    return CreditTransferMessage(
        message_id=message_id,
        transactions=tuple(t.model_copy(update={"message_id": message_id}) for t in transfers),
    )


def payroll(message_id: str = "VCB-MSG-1") -> CreditTransferMessage:
    """Vietcombank pays five people in one message: three at BIDV, two at VietinBank."""
    return message(
        transfer("TX1", BIDV, 1_000_000),
        transfer("TX2", BIDV, 2_000_000),
        transfer("TX3", VIETINBANK, 3_000_000),
        transfer("TX4", BIDV, 4_000_000),
        transfer("TX5", VIETINBANK, 5_000_000),
        message_id=message_id,
    )


def send(node: SwitchNode, *messages: CreditTransferMessage | CreditTransfer, at: int = NOW) -> list[Envelope]:
    return node.handle([Envelope(VCB, "switch", m) for m in messages], at)


def forwarded(out: Sequence[Envelope], to: str) -> CreditTransferMessage:
    """The one credit message the switch sent `to`."""
    found = [e for e in out if e.receiver == to and isinstance(e.message, CreditTransferMessage | CreditTransfer)]
    assert len(found) == 1, found
    [envelope] = found
    assert envelope.sender == "switch" and envelope.delay_ms == 0
    assert isinstance(envelope.message, CreditTransferMessage), envelope
    return envelope.message


def timers(out: Sequence[Envelope]) -> list[Envelope]:
    return [e for e in out if isinstance(e.message, TimerFired)]


def timer_of(out: Sequence[Envelope], sent: CreditTransferMessage) -> Envelope:
    [timer] = [e for e in timers(out) if e.message == TimerFired(f"timeout-message:{sent.message_id}")]
    return timer


def tx_ids(sent: CreditTransferMessage) -> list[str]:
    return [t.transaction_id for t in sent.transactions]


def answers(
    sent: CreditTransferMessage, creditor: str, decided: dict[str, StatusReason | None]
) -> tuple[StatusReport, ...]:
    """The creditor's reports on transactions of `sent`: None accepts, a reason rejects."""
    by_id = {t.transaction_id: t for t in sent.transactions}
    return tuple(
        StatusReport(
            original_message_id=sent.message_id,
            original_end_to_end_id=by_id[tx].end_to_end_id,
            original_transaction_id=tx,
            debtor_agent=by_id[tx].debtor_agent,
            transaction_status=TransactionStatus.ACSP if reason is None else TransactionStatus.RJCT,
            status_reason=reason,
            creditor_agent=creditor,
        )
        for tx, reason in decided.items()
    )


def status_message(sent: CreditTransferMessage, creditor: str, decided: dict[str, StatusReason | None]) -> Envelope:
    """The creditor's one pacs.002 for the transactions of `sent` it answers."""
    reports = answers(sent, creditor, decided)
    return Envelope(
        creditor, "switch", StatusReportMessage(message_id=f"{creditor}-ANS-{sent.message_id}", reports=reports)
    )


def reports_to(out: Sequence[Envelope], receiver: str) -> dict[str, StatusReport]:
    """The status reports sent to `receiver`, by transaction id, each exactly once."""
    found = [
        e.message for e in opened([e for e in out if e.receiver == receiver]) if isinstance(e.message, StatusReport)
    ]
    by_id = {r.original_transaction_id: r for r in found}
    assert len(by_id) == len(found), found
    return by_id


def outcome(report: StatusReport) -> tuple[TransactionStatus, StatusReason | None]:
    return report.transaction_status, report.status_reason


def only_report(out: Sequence[Envelope], to: str) -> StatusReport:
    assert len(out) == 1, out
    [envelope] = out
    assert (envelope.sender, envelope.receiver) == ("switch", to)
    assert isinstance(envelope.message, StatusReport), envelope
    return envelope.message


def liquidity(positions: dict[str, Position]) -> dict[str, tuple[int, int]]:
    return {b: (p.liquidity_vnd, p.reserved_vnd) for b, p in positions.items()}


def state(node: SwitchNode, tx: str) -> tuple[TransactionStatus, StatusReason | None]:
    record = node.transfer_status(VCB, tx)
    return record.status, record.reason


# --- intake and forwarding -------------------------------------------------------------------------


def test_all_transactions_of_a_message_are_decided_in_one_call_and_forwarded_as_one_message_per_creditor(
    node: SwitchNode,
) -> None:
    sent = payroll()
    out = send(node, sent)

    to_bidv, to_vietinbank = forwarded(out, BIDV), forwarded(out, VIETINBANK)
    assert tx_ids(to_bidv) == ["TX1", "TX2", "TX4"]
    assert tx_ids(to_vietinbank) == ["TX3", "TX5"]
    assert to_bidv.message_id.startswith(f"NAPAS-{NOW}-") and to_vietinbank.message_id.startswith(f"NAPAS-{NOW}-")
    assert to_bidv.message_id != to_vietinbank.message_id
    for forward in (to_bidv, to_vietinbank):
        assert {t.message_id for t in forward.transactions} == {forward.message_id}
    originals = {t.transaction_id: t for t in sent.transactions}
    for t in (*to_bidv.transactions, *to_vietinbank.transactions):
        assert t.model_dump(exclude={"message_id"}) == originals[t.transaction_id].model_dump(exclude={"message_id"})
    assert reports_to(out, VCB) == {}  # nothing decided against the debtor: it hears at settlement
    assert len(out) == 4  # two messages, two timers

    for tx in ("TX1", "TX2", "TX3", "TX4", "TX5"):
        record = node.transfer_status(VCB, tx)
        assert (record.status, record.message_id) == (TransactionStatus.PDNG, "VCB-MSG-1")
    assert liquidity(node.positions()) == OPENING | {VCB: (VCB_FUNDS, 15_000_000)}
    node.check_invariants()


def test_each_forwarded_message_has_one_timer_carrying_the_clearing_keys_of_its_transactions(node: SwitchNode) -> None:
    out = send(node, payroll())

    assert len(timers(out)) == 2
    for creditor, keys in (
        (BIDV, ("970436:TX1", "970436:TX2", "970436:TX4")),
        (VIETINBANK, ("970436:TX3", "970436:TX5")),
    ):
        timer = timer_of(out, forwarded(out, creditor))
        assert (timer.sender, timer.receiver, timer.delay_ms) == ("switch", "switch", TIMEOUT_MS)
        assert isinstance(timer.message, TimerFired)
        assert timer.message.key == f"timeout-message:{forwarded(out, creditor).message_id}"
        assert timer.message.keys == keys
    node.check_invariants()


def test_transactions_from_several_messages_in_one_delivery_go_to_a_creditor_in_one_message(node: SwitchNode) -> None:
    morning = message(transfer("TX1"), transfer("TX2", VIETINBANK), message_id="VCB-MSG-1")
    noon = message(transfer("TX3"), transfer("TX4"), message_id="VCB-MSG-2")

    out = send(node, morning, noon)

    assert tx_ids(forwarded(out, BIDV)) == ["TX1", "TX3", "TX4"]
    assert [e.message for e in out if e.receiver == VIETINBANK] == [transfer("TX2", VIETINBANK)]  # alone, as sent
    assert node.transfer_status(VCB, "TX3").message_id == "VCB-MSG-2"
    node.check_invariants()


# --- one bad transaction ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (transfer("TX-BAD", creditor_agent="970499"), StatusReason.RC04),
        (transfer("TX-BAD", amount_vnd=500_000_001), StatusReason.AM02),
        (transfer("TX-BAD", debtor_agent=BIDV, debtor_account="12010000654321"), StatusReason.FF01),
    ],
    ids=["unknown creditor agent", "above the per-transaction limit", "debtor agent is not the sender"],
)
def test_one_bad_transaction_is_refused_alone_and_the_others_go_on(
    node: SwitchNode, bad: CreditTransfer, reason: StatusReason
) -> None:
    out = send(node, message(transfer("TX1"), bad, transfer("TX3"), transfer("TX4", VIETINBANK)))

    refusal = reports_to(out, VCB)
    assert list(refusal) == ["TX-BAD"]
    assert outcome(refusal["TX-BAD"]) == (TransactionStatus.RJCT, reason)
    assert [e.message for e in out if e.receiver == VCB] == [refusal["TX-BAD"]]  # a report of one goes bare
    assert tx_ids(forwarded(out, BIDV)) == ["TX1", "TX3"]
    assert [e.receiver for e in out if isinstance(e.message, CreditTransfer)] == [VIETINBANK]
    for tx in ("TX1", "TX3", "TX4"):
        assert state(node, tx) == (TransactionStatus.PDNG, None)
    assert liquidity(node.positions()) == OPENING | {VCB: (VCB_FUNDS, 4_500_000)}
    if reason == StatusReason.FF01:
        with pytest.raises(TransferNotFound):
            node.transfer_status(BIDV, "TX-BAD")  # sent in another agent's name: the id stays free
    else:
        assert state(node, "TX-BAD") == (TransactionStatus.RJCT, reason)
    node.check_invariants()


def test_a_transaction_id_already_used_with_other_content_is_refused_dupl_alone(node: SwitchNode) -> None:
    earlier = transfer("TX2", amount_vnd=7_000_000, message_id="VCB-MSG-0")
    send(node, earlier)

    out = send(node, message(transfer("TX1"), transfer("TX2", amount_vnd=2_000_000), transfer("TX3")), at=NOW + 100)

    refusal = reports_to(out, VCB)
    assert {tx: outcome(r) for tx, r in refusal.items()} == {"TX2": (TransactionStatus.RJCT, StatusReason.DUPL)}
    assert tx_ids(forwarded(out, BIDV)) == ["TX1", "TX3"]
    record = node.transfer_status(VCB, "TX2")
    assert (record.status, record.amount_vnd, record.message_id) == (TransactionStatus.PDNG, 7_000_000, "VCB-MSG-0")
    assert liquidity(node.positions())[VCB] == (VCB_FUNDS, 7_000_000 + 1_500_000 * 2)
    node.check_invariants()


def test_position_and_net_debit_cap_are_checked_per_transaction_and_only_the_one_that_does_not_fit_ends_am04(
    node: SwitchNode,
) -> None:
    # 1.5 billion available (500 million funds, 1 billion cap): TX4 would take it to 1.55 billion
    sent = message(
        transfer("TX1", BIDV, 500_000_000),
        transfer("TX2", VIETINBANK, 500_000_000),
        transfer("TX3", BIDV, 450_000_000),
        transfer("TX4", BIDV, 100_000_000),
        transfer("TX5", VIETINBANK, 50_000_000),
    )
    out = send(node, sent)

    assert {tx: outcome(r) for tx, r in reports_to(out, VCB).items()} == {
        "TX4": (TransactionStatus.RJCT, StatusReason.AM04)
    }
    assert tx_ids(forwarded(out, BIDV)) == ["TX1", "TX3"]
    assert tx_ids(forwarded(out, VIETINBANK)) == ["TX2", "TX5"]
    assert state(node, "TX4") == (TransactionStatus.RJCT, StatusReason.AM04)
    position = node.positions()[VCB]
    assert (position.reserved_vnd, position.available_vnd) == (1_500_000_000, 0)
    node.check_invariants()


def test_a_transaction_repeated_inside_one_message_is_forwarded_once_and_one_with_other_content_is_dupl(
    node: SwitchNode,
) -> None:
    out = send(node, message(transfer("TX1"), transfer("TX2"), transfer("TX1"), transfer("TX2", amount_vnd=9_000_000)))

    assert tx_ids(forwarded(out, BIDV)) == ["TX1", "TX2"]
    assert {tx: outcome(r) for tx, r in reports_to(out, VCB).items()} == {
        "TX2": (TransactionStatus.RJCT, StatusReason.DUPL)
    }
    assert node.transfer_status(VCB, "TX2").amount_vnd == 1_500_000
    assert liquidity(node.positions())[VCB] == (VCB_FUNDS, 3_000_000)
    node.check_invariants()


def test_a_participant_taking_two_per_message_gets_messages_of_two_and_a_last_one_bare(node: SwitchNode) -> None:
    vbsp = "999888"
    node.register_participant(
        Participant(vbsp, "Ngân hàng Chính sách xã hội", ParticipantKind.BANK, transactions_per_message_max=2), NOW
    )
    sent = message(*(transfer(f"TX{n}", vbsp, creditor_account="8800012345") for n in range(1, 6)))

    out = send(node, sent)

    to_vbsp = [e.message for e in out if e.receiver == vbsp]
    assert [type(m) for m in to_vbsp] == [CreditTransferMessage, CreditTransferMessage, CreditTransfer]
    assert [[t.transaction_id for t in m.transactions] for m in to_vbsp if isinstance(m, CreditTransferMessage)] == [
        ["TX1", "TX2"],
        ["TX3", "TX4"],
    ]
    keys = sorted(e.message.key for e in timers(out) if isinstance(e.message, TimerFired))
    assert keys == sorted(
        [f"timeout-message:{m.message_id}" for m in to_vbsp if isinstance(m, CreditTransferMessage)]
        + ["timeout:970436:TX5"]
    )
    node.check_invariants()


def test_a_sender_that_is_not_a_participant_gets_its_refusals_one_by_one(node: SwitchNode) -> None:
    stranger = "970499"
    sent = message(transfer("TX1"), transfer("TX2"), transfer("TX3", VIETINBANK))

    out = node.handle([Envelope(stranger, "switch", sent)], NOW)

    assert all(e.receiver == stranger and isinstance(e.message, StatusReport) for e in out), out
    assert {tx: outcome(r) for tx, r in reports_to(out, stranger).items()} == {
        tx: (TransactionStatus.RJCT, StatusReason.FF01) for tx in ("TX1", "TX2", "TX3")
    }
    assert liquidity(node.positions()) == OPENING
    node.check_invariants()


# --- the creditor's answer -------------------------------------------------------------------------


def test_one_status_message_accepting_some_and_rejecting_one_settles_and_rejects_each_on_its_own(
    node: SwitchNode,
) -> None:
    out = send(node, payroll())
    to_bidv = forwarded(out, BIDV)

    answer = status_message(to_bidv, BIDV, {"TX1": None, "TX2": StatusReason.AC04, "TX4": None})
    out = node.handle([answer], NOW + 800)

    to_vcb = [e for e in out if e.receiver == VCB]
    assert len(to_vcb) == 1 and isinstance(to_vcb[0].message, StatusReportMessage)  # one pacs.002 to the debtor
    assert {tx: outcome(r) for tx, r in reports_to(out, VCB).items()} == {
        "TX1": (TransactionStatus.ACSC, None),
        "TX2": (TransactionStatus.RJCT, StatusReason.AC04),
        "TX4": (TransactionStatus.ACSC, None),
    }
    settled = reports_to(out, BIDV)  # the finality notices of what settled; its own refusal it knows
    assert {tx: outcome(r) for tx, r in settled.items()} == {
        "TX1": (TransactionStatus.ACSC, None),
        "TX4": (TransactionStatus.ACSC, None),
    }
    assert settled["TX1"].settled_at_ms == NOW + 800 and settled["TX4"].amount_vnd == 4_000_000
    assert {e.receiver for e in out} == {VCB, BIDV}
    assert state(node, "TX1") == state(node, "TX4") == (TransactionStatus.ACSC, None)
    assert state(node, "TX2") == (TransactionStatus.RJCT, StatusReason.AC04)
    assert state(node, "TX3") == state(node, "TX5") == (TransactionStatus.PDNG, None)  # VietinBank's still open
    assert liquidity(node.positions()) == OPENING | {
        VCB: (VCB_FUNDS - 5_000_000, 8_000_000),
        BIDV: (BIDV_FUNDS + 5_000_000, 0),
    }
    node.check_invariants()


def test_the_message_timer_ends_only_the_unanswered_transactions_ab05(node: SwitchNode) -> None:
    out = send(node, payroll())
    to_bidv = forwarded(out, BIDV)
    timer = timer_of(out, to_bidv)
    node.handle([status_message(to_bidv, BIDV, {"TX1": None, "TX2": StatusReason.AC06})], NOW + 800)

    fired = node.handle([timer], NOW + TIMEOUT_MS)

    assert {tx: outcome(r) for tx, r in reports_to(fired, VCB).items()} == {
        "TX4": (TransactionStatus.RJCT, StatusReason.AB05)
    }
    assert {tx: outcome(r) for tx, r in reports_to(fired, BIDV).items()} == {
        "TX4": (TransactionStatus.RJCT, StatusReason.AB05)
    }
    assert state(node, "TX1") == (TransactionStatus.ACSC, None)
    assert state(node, "TX2") == (TransactionStatus.RJCT, StatusReason.AC06)
    assert state(node, "TX4") == (TransactionStatus.RJCT, StatusReason.AB05)
    assert state(node, "TX3") == state(node, "TX5") == (TransactionStatus.PDNG, None)  # their own timer is later
    assert liquidity(node.positions()) == OPENING | {
        VCB: (VCB_FUNDS - 1_000_000, 8_000_000),
        BIDV: (BIDV_FUNDS + 1_000_000, 0),
    }
    assert node.handle([timer], NOW + TIMEOUT_MS + 1) == []  # fired again: nothing left to end
    node.check_invariants()


def test_a_message_timer_firing_when_everything_was_answered_changes_nothing(node: SwitchNode) -> None:
    out = send(node, payroll())
    to_vietinbank = forwarded(out, VIETINBANK)
    node.handle([status_message(to_vietinbank, VIETINBANK, {"TX3": None, "TX5": None})], NOW + 800)
    before = node.positions()

    assert node.handle([timer_of(out, to_vietinbank)], NOW + TIMEOUT_MS) == []
    assert node.positions() == before
    assert state(node, "TX3") == state(node, "TX5") == (TransactionStatus.ACSC, None)
    node.check_invariants()


def test_an_acceptance_and_its_message_timer_arriving_together_settle(node: SwitchNode) -> None:
    out = send(node, payroll())
    to_bidv = forwarded(out, BIDV)

    together = node.handle(
        [timer_of(out, to_bidv), status_message(to_bidv, BIDV, {"TX1": None, "TX4": StatusReason.AC04})],
        NOW + TIMEOUT_MS,
    )

    assert [type(e.message) for e in together if e.receiver == VCB] == [StatusReportMessage]
    assert {tx: outcome(r) for tx, r in reports_to(together, VCB).items()} == {
        "TX1": (TransactionStatus.ACSC, None),
        "TX2": (TransactionStatus.RJCT, StatusReason.AB05),
        "TX4": (TransactionStatus.RJCT, StatusReason.AC04),
    }
    assert {tx: outcome(r) for tx, r in reports_to(together, BIDV).items()} == {
        "TX1": (TransactionStatus.ACSC, None),
        "TX2": (TransactionStatus.RJCT, StatusReason.AB05),
    }
    assert node.positions()[BIDV].liquidity_vnd == BIDV_FUNDS + 1_000_000
    node.check_invariants()


def test_one_status_message_may_answer_transactions_of_two_forwarded_messages(node: SwitchNode) -> None:
    first = forwarded(send(node, message(transfer("TX1"), transfer("TX2"), message_id="VCB-MSG-1")), BIDV)
    second = forwarded(send(node, message(transfer("TX3"), transfer("TX4"), message_id="VCB-MSG-2"), at=NOW + 10), BIDV)
    assert first.message_id != second.message_id
    reports = (
        *answers(first, BIDV, {"TX1": None, "TX2": None}),
        *answers(second, BIDV, {"TX3": StatusReason.AC06, "TX4": None}),
    )
    answer = Envelope(BIDV, "switch", StatusReportMessage(message_id="BIDV-ANS-1", reports=reports))

    out = node.handle([answer], NOW + 900)

    assert {tx: outcome(r) for tx, r in reports_to(out, VCB).items()} == {
        "TX1": (TransactionStatus.ACSC, None),
        "TX2": (TransactionStatus.ACSC, None),
        "TX3": (TransactionStatus.RJCT, StatusReason.AC06),
        "TX4": (TransactionStatus.ACSC, None),
    }
    assert liquidity(node.positions())[BIDV] == (BIDV_FUNDS + 4_500_000, 0)
    node.check_invariants()


def test_a_late_acceptance_after_the_message_timer_is_refused_to_the_creditor_with_a_rjct_finality_notice(
    node: SwitchNode,
) -> None:
    out = send(node, payroll())
    to_bidv = forwarded(out, BIDV)
    node.handle([status_message(to_bidv, BIDV, {"TX1": None})], NOW + 800)
    node.handle([timer_of(out, to_bidv)], NOW + TIMEOUT_MS)
    before = node.positions()

    late = node.handle([status_message(to_bidv, BIDV, {"TX2": None, "TX4": None})], NOW + 7_000)

    assert [e.receiver for e in late] == [BIDV]  # the debtor already knows: nothing for it
    assert {tx: outcome(r) for tx, r in reports_to(late, BIDV).items()} == {
        "TX2": (TransactionStatus.RJCT, StatusReason.AB05),
        "TX4": (TransactionStatus.RJCT, StatusReason.AB05),
    }
    assert node.clearing.late_acceptances_refused == 2
    assert node.positions() == before
    assert state(node, "TX2") == state(node, "TX4") == (TransactionStatus.RJCT, StatusReason.AB05)
    node.check_invariants()


# --- status requests, unreachable creditors ----------------------------------------------------------


def test_a_status_request_about_one_transaction_inside_a_message_answers_its_own_state(node: SwitchNode) -> None:
    out = send(node, payroll())
    node.handle([status_message(forwarded(out, BIDV), BIDV, {"TX2": StatusReason.AC04})], NOW + 800)

    def ask(tx: str) -> StatusReport:
        request = StatusRequest(message_id=f"Q-{tx}", original_transaction_id=tx, debtor_agent=VCB)
        return only_report(node.handle([Envelope(VCB, "switch", request)], NOW + 1_000), to=VCB)

    pending, rejected = ask("TX4"), ask("TX2")
    assert (pending.original_transaction_id, *outcome(pending)) == ("TX4", TransactionStatus.PDNG, None)
    assert (pending.original_message_id, pending.amount_vnd, pending.creditor_agent) == ("VCB-MSG-1", 4_000_000, BIDV)
    assert (rejected.original_transaction_id, *outcome(rejected)) == ("TX2", TransactionStatus.RJCT, StatusReason.AC04)
    node.check_invariants()


def test_an_undeliverable_message_ends_all_its_pending_transactions_ab08_and_gives_the_reservations_back(
    node: SwitchNode,
) -> None:
    out = send(node, payroll())
    to_bidv = forwarded(out, BIDV)

    bounced = node.handle([Envelope(BIDV, "switch", Undeliverable(BIDV, to_bidv))], NOW + 3)

    to_vcb = [e for e in bounced if e.receiver == VCB]
    assert len(to_vcb) == 1 and isinstance(to_vcb[0].message, StatusReportMessage)
    assert {tx: outcome(r) for tx, r in reports_to(bounced, VCB).items()} == {
        tx: (TransactionStatus.RJCT, StatusReason.AB08) for tx in ("TX1", "TX2", "TX4")
    }
    assert {e.receiver for e in bounced} == {VCB}  # BIDV cannot be reached, and never credited
    assert liquidity(node.positions()) == OPENING | {VCB: (VCB_FUNDS, 8_000_000)}  # VietinBank's still reserved
    assert state(node, "TX3") == (TransactionStatus.PDNG, None)

    assert node.handle([timer_of(out, to_bidv)], NOW + TIMEOUT_MS) == []
    late = node.handle([status_message(to_bidv, BIDV, {"TX1": None})], NOW + TIMEOUT_MS + 10)
    assert {tx: outcome(r) for tx, r in reports_to(late, BIDV).items()} == {
        "TX1": (TransactionStatus.RJCT, StatusReason.AB08)
    }
    assert liquidity(node.positions()) == OPENING | {VCB: (VCB_FUNDS, 8_000_000)}
    node.check_invariants()


def test_a_bounced_copy_of_a_message_already_answered_ends_only_what_is_still_pending_ab08(node: SwitchNode) -> None:
    # The link delivered the message twice; the first copy was answered in part, and by the time
    # the second came BIDV was down: only what it had not answered ends AB08.
    out = send(node, payroll())
    to_bidv = forwarded(out, BIDV)
    node.handle([status_message(to_bidv, BIDV, {"TX1": None, "TX2": StatusReason.AC04})], NOW + 800)

    bounced = node.handle([Envelope(BIDV, "switch", Undeliverable(BIDV, to_bidv))], NOW + 900)

    assert {tx: outcome(r) for tx, r in reports_to(bounced, VCB).items()} == {
        "TX4": (TransactionStatus.RJCT, StatusReason.AB08)
    }
    assert state(node, "TX1") == (TransactionStatus.ACSC, None)
    assert state(node, "TX2") == (TransactionStatus.RJCT, StatusReason.AC04)
    assert liquidity(node.positions()) == OPENING | {
        VCB: (VCB_FUNDS - 1_000_000, 8_000_000),
        BIDV: (BIDV_FUNDS + 1_000_000, 0),
    }
    node.check_invariants()


# --- a participant taking single transfers only ------------------------------------------------------


def test_a_participant_registered_for_single_transfers_only_gets_bare_transfers_each_with_its_own_timer(
    node: SwitchNode,
) -> None:
    sent = message(
        transfer("TX1", AGRIBANK),
        transfer("TX2", BIDV),
        transfer("TX3", AGRIBANK),
        transfer("TX4", BIDV),
        transfer("TX5", AGRIBANK),
    )
    out = send(node, sent)

    to_agribank = [e for e in out if e.receiver == AGRIBANK]
    assert [type(e.message) for e in to_agribank] == [CreditTransfer] * 3
    assert [e.message.transaction_id for e in to_agribank if isinstance(e.message, CreditTransfer)] == [
        "TX1",
        "TX3",
        "TX5",
    ]
    assert {e.message.message_id for e in to_agribank if isinstance(e.message, CreditTransfer)} == {"VCB-MSG-1"}
    assert {e.message.key for e in timers(out) if isinstance(e.message, TimerFired)} == {
        "timeout:970436:TX1",
        "timeout:970436:TX3",
        "timeout:970436:TX5",
        f"timeout-message:{forwarded(out, BIDV).message_id}",
    }
    assert len(timers(out)) == 4

    # Agribank answers each on its own; what the switch tells it back comes one report at a time too
    acceptances = [
        Envelope(
            AGRIBANK,
            "switch",
            StatusReport(
                original_message_id="VCB-MSG-1",
                original_end_to_end_id=f"E2E-{tx}",
                original_transaction_id=tx,
                debtor_agent=VCB,
                transaction_status=TransactionStatus.ACSP,
                creditor_agent=AGRIBANK,
            ),
        )
        for tx in ("TX1", "TX3", "TX5")
    ]
    settled = node.handle(acceptances, NOW + 900)

    back = [e.message for e in settled if e.receiver == AGRIBANK]
    assert len(back) == 3 and all(isinstance(m, StatusReport) for m in back)
    assert {tx: outcome(r) for tx, r in reports_to(settled, AGRIBANK).items()} == {
        tx: (TransactionStatus.ACSC, None) for tx in ("TX1", "TX3", "TX5")
    }
    assert [type(e.message) for e in settled if e.receiver == VCB] == [StatusReportMessage]
    assert node.positions()[AGRIBANK].liquidity_vnd == 4_500_000
    node.check_invariants()


def test_a_single_transfer_to_a_participant_taking_messages_keeps_its_single_timer(node: SwitchNode) -> None:
    alone = transfer("TX1", VIETINBANK)
    out = send(node, message(alone, transfer("TX2", BIDV), transfer("TX3", BIDV)))

    assert [e.message for e in out if e.receiver == VIETINBANK] == [alone]
    assert TimerFired("timeout:970436:TX1") in [e.message for e in timers(out)]
    node.check_invariants()


# --- duplicates ------------------------------------------------------------------------------------


def test_the_same_message_delivered_twice_moves_the_money_once(node: SwitchNode) -> None:
    sent = payroll()
    out = node.handle([Envelope(VCB, "switch", sent), Envelope(VCB, "switch", sent)], NOW)  # twice in one delivery
    assert tx_ids(forwarded(out, BIDV)) == ["TX1", "TX2", "TX4"]
    assert tx_ids(forwarded(out, VIETINBANK)) == ["TX3", "TX5"]

    assert send(node, sent, at=NOW + 20) == []  # once more, later: still pending, nothing to say
    assert liquidity(node.positions()) == OPENING | {VCB: (VCB_FUNDS, 15_000_000)}

    node.handle([status_message(forwarded(out, BIDV), BIDV, {"TX1": None, "TX2": None, "TX4": None})], NOW + 800)
    node.handle([status_message(forwarded(out, VIETINBANK), VIETINBANK, {"TX3": None, "TX5": None})], NOW + 810)
    after = node.positions()
    assert liquidity(after) == OPENING | {
        VCB: (VCB_FUNDS - 15_000_000, 0),
        BIDV: (BIDV_FUNDS + 7_000_000, 0),
        VIETINBANK: (8_000_000, 0),
    }

    again = send(node, sent, at=NOW + 60_000)  # a copy delayed on the way: told what became of each
    assert [type(e.message) for e in again] == [StatusReportMessage]
    assert {tx: outcome(r) for tx, r in reports_to(again, VCB).items()} == {
        tx: (TransactionStatus.ACSC, None) for tx in ("TX1", "TX2", "TX3", "TX4", "TX5")
    }
    assert node.positions() == after
    node.check_invariants()


# --- larger than one ledger batch --------------------------------------------------------------------


NINE = 9  # nine full messages, 9,000 transactions: more than one ledger batch (8,190) holds


def nine_full_messages() -> list[CreditTransferMessage]:
    size = TRANSACTIONS_PER_MESSAGE_MAX
    assert (NINE - 1) * size < BATCH_SIZE_MAX < NINE * size
    template = transfer("TX", amount_vnd=1_000)
    return [
        CreditTransferMessage(
            message_id=f"VCB-MSG-{m}",
            transactions=tuple(
                template.model_copy(
                    update={
                        "message_id": f"VCB-MSG-{m}",
                        "transaction_id": f"TX{m}-{n:04d}",
                        "end_to_end_id": f"E2E{m}-{n:04d}",
                    }
                )
                for n in range(size)
            ),
        )
        for m in range(NINE)
    ]


def test_an_inbox_of_more_transactions_than_one_ledger_batch_is_decided_whole_per_message(node: SwitchNode) -> None:
    # The delivery is taken in two slices, and the ninth message must go whole into the second
    # instead of being cut at the 8,190th transaction.
    messages = nine_full_messages()

    out = send(node, *messages)

    forwards = [e.message for e in out if isinstance(e.message, CreditTransferMessage | CreditTransfer)]
    assert all(isinstance(m, CreditTransferMessage) for m in forwards)
    # each message forwarded as it came, never some of one message with some of another
    assert [[t.transaction_id for t in m.transactions] for m in forwards if isinstance(m, CreditTransferMessage)] == [
        [t.transaction_id for t in m.transactions] for m in messages
    ]
    assert len(timers(out)) == NINE
    assert node.in_flight() == NINE * TRANSACTIONS_PER_MESSAGE_MAX
    assert liquidity(node.positions())[VCB] == (VCB_FUNDS, NINE * TRANSACTIONS_PER_MESSAGE_MAX * 1_000)
    node.check_invariants()


def test_the_timers_of_more_transactions_than_one_ledger_batch_firing_together_end_them_all_ab05(
    node: SwitchNode,
) -> None:
    # The nine messages were forwarded in one batch, so their nine timers fire at the same instant:
    # 9,000 transactions to end in one delivery of nine envelopes.
    out = send(node, *nine_full_messages())

    fired = node.handle(timers(out), NOW + TIMEOUT_MS)

    assert len(reports_to(fired, VCB)) == NINE * TRANSACTIONS_PER_MESSAGE_MAX
    assert {outcome(r) for r in reports_to(fired, VCB).values()} == {(TransactionStatus.RJCT, StatusReason.AB05)}
    assert node.in_flight() == 0
    assert liquidity(node.positions()) == OPENING
    node.check_invariants()


def test_more_transactions_than_one_ledger_batch_bouncing_together_end_them_all_ab08(node: SwitchNode) -> None:
    # BIDV is down when the switch forwards the nine messages: nine notices come back together.
    out = send(node, *nine_full_messages())
    notices = [
        Envelope(BIDV, "switch", Undeliverable(BIDV, e.message))
        for e in out
        if isinstance(e.message, CreditTransferMessage)
    ]

    bounced = node.handle(notices, NOW + 5)

    assert len(reports_to(bounced, VCB)) == NINE * TRANSACTIONS_PER_MESSAGE_MAX
    assert {outcome(r) for r in reports_to(bounced, VCB).values()} == {(TransactionStatus.RJCT, StatusReason.AB08)}
    assert node.in_flight() == 0
    assert liquidity(node.positions()) == OPENING
    node.check_invariants()
