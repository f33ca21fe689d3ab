"""A transfer whose timer was lost (its worker died) is released by the switch's sweep, once."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from switch.clearing.schemas import CREDITOR_TIMEOUT_MS
from switch.clearing.service import EXPIRE_STALE_TIMER
from switch.node import SwitchNode
from switch.participants.schemas import Participant
from switch.scheme.codes import ParticipantKind, StatusReason, TransactionStatus
from switch.scheme.messages import CreditTransfer, Party, StatusReport
from switch.scheme.transport import Envelope, TimerFired

NOW = 1_796_083_200_000
VCB, BIDV = "970436", "970418"
SWEEP = Envelope("switch", "switch", TimerFired(EXPIRE_STALE_TIMER))


@pytest.fixture
def node(engine: Engine) -> SwitchNode:
    switch = SwitchNode(engine)
    switch.setup()
    for bin_code, name in ((VCB, "Vietcombank"), (BIDV, "BIDV")):
        switch.register_participant(Participant(bin_code, name, ParticipantKind.BANK), NOW)
        switch.fund_in(bin_code, 10_000_000, NOW)
    return switch


def take(node: SwitchNode, transaction_id: str = "TX-LOST") -> None:
    transfer = CreditTransfer(
        message_id="M1", end_to_end_id="E1", transaction_id=transaction_id, amount_vnd=300_000,
        debtor=Party(name="Nguyễn Văn Đức"), debtor_account="0011001234567", debtor_agent=VCB,
        creditor_account="12010000123456", creditor_agent=BIDV,
    )  # fmt: skip
    node.handle([Envelope(VCB, "switch", transfer)], NOW)  # its timer envelope is dropped: the worker "died"


def reports(out: list[Envelope]) -> list[tuple[str, TransactionStatus, StatusReason | None]]:
    return [
        (e.receiver, e.message.transaction_status, e.message.status_reason)
        for e in out
        if isinstance(e.message, StatusReport)
    ]


def test_a_transfer_waiting_less_than_twice_the_timeout_is_left_to_its_own_timer(node: SwitchNode) -> None:
    take(node)
    assert node.handle([SWEEP], NOW + 2 * CREDITOR_TIMEOUT_MS - 1) == []
    assert node.transfer_status(VCB, "TX-LOST").status == TransactionStatus.PDNG


def test_a_transfer_whose_timer_was_lost_ends_ab05_and_both_sides_are_told(node: SwitchNode) -> None:
    take(node)
    out = node.handle([SWEEP], NOW + 2 * CREDITOR_TIMEOUT_MS)
    assert sorted(reports(out)) == [
        (BIDV, TransactionStatus.RJCT, StatusReason.AB05),
        (VCB, TransactionStatus.RJCT, StatusReason.AB05),
    ]
    assert node.positions()[VCB].reserved_vnd == 0
    assert node.positions()[VCB].liquidity_vnd == 10_000_000
    assert node.handle([SWEEP], NOW + 3 * CREDITOR_TIMEOUT_MS) == []  # released once
    node.check_invariants()


def test_a_late_acceptance_after_the_sweep_is_refused_like_any_other(node: SwitchNode) -> None:
    take(node)
    node.handle([SWEEP], NOW + 2 * CREDITOR_TIMEOUT_MS)
    late = StatusReport(
        original_message_id="M1", original_end_to_end_id="E1", original_transaction_id="TX-LOST",
        debtor_agent=VCB, transaction_status=TransactionStatus.ACSP, creditor_agent=BIDV,
    )  # fmt: skip
    out = node.handle([Envelope(BIDV, "switch", late)], NOW + 2 * CREDITOR_TIMEOUT_MS + 50)
    assert reports(out) == [(BIDV, TransactionStatus.RJCT, StatusReason.AB05)]
    assert node.transfer_status(VCB, "TX-LOST").reason == StatusReason.AB05
