"""Participant administration through the switch node: register, suspend, caps, funds, positions.

Runs on an SQLite file and on PostgreSQL (the `engine` fixture).
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from switch.errors import InputInvalid, LimitInUse, ParticipantExists, ParticipantNotFound
from switch.node import SwitchNode
from switch.participants.schemas import Participant, Position
from switch.scheme.codes import ParticipantKind, ParticipantStatus, StatusReason, TransactionStatus
from switch.scheme.messages import CreditTransfer, Party, StatusReport
from switch.scheme.transport import Envelope

NOW = 1_796_083_200_000  # 1 December 2026
VCB, BIDV, VIETINBANK, VBSP, VIETTEL = "970436", "970418", "970415", "999888", "971005"


@pytest.fixture
def node(engine: Engine) -> SwitchNode:
    switch = SwitchNode(engine)
    switch.setup()
    return switch


@pytest.fixture
def banks(node: SwitchNode) -> SwitchNode:
    """Vietcombank with a 1 billion VND cap and BIDV without one, neither funded yet."""
    node.register_participant(
        Participant(VCB, "Vietcombank", ParticipantKind.BANK, net_debit_cap_vnd=1_000_000_000), NOW
    )
    node.register_participant(Participant(BIDV, "BIDV", ParticipantKind.BANK), NOW)
    return node


def pay(node: SwitchNode, tx: str, amount_vnd: int, settle: bool = True) -> None:
    """Vietcombank pays a BIDV customer; BIDV accepts unless `settle` is False (left pending)."""
    t = CreditTransfer(
        message_id=f"MSG-{tx}",
        end_to_end_id=f"E2E-{tx}",
        transaction_id=tx,
        amount_vnd=amount_vnd,
        debtor=Party(name="Nguyễn Văn An"),
        debtor_account="0011001234567",
        debtor_agent=VCB,
        creditor=Party(name="Trần Thị Bình"),
        creditor_account="12010000123456",
        creditor_agent=BIDV,
    )
    out = node.handle([Envelope(VCB, "switch", t)], NOW)
    assert out[0].receiver == BIDV, out
    if settle:
        acceptance = StatusReport(
            original_message_id=t.message_id,
            original_end_to_end_id=t.end_to_end_id,
            original_transaction_id=tx,
            debtor_agent=VCB,
            transaction_status=TransactionStatus.ACSP,
            creditor_agent=BIDV,
        )
        node.handle([Envelope(BIDV, "switch", acceptance)], NOW + 500)


def position(node: SwitchNode, bin_code: str) -> Position:
    return node.positions()[bin_code]


# --- registry ------------------------------------------------------------------------------------


def test_a_registered_participant_is_listed_active_with_its_cap_and_an_empty_position(node: SwitchNode) -> None:
    vbsp = Participant(VBSP, "Ngân hàng Chính sách xã hội", ParticipantKind.BANK, net_debit_cap_vnd=2_000_000_000)
    assert node.register_participant(vbsp, NOW) == vbsp
    node.register_participant(Participant(VIETTEL, "Viettel Money", ParticipantKind.WALLET), NOW)

    listed = node.all_participants()
    assert listed[VBSP] == vbsp
    assert listed[VBSP].status == ParticipantStatus.ACTIVE and listed[VBSP].active
    assert listed[VIETTEL].kind == ParticipantKind.WALLET
    assert node.positions() == {
        VBSP: Position(VBSP, liquidity_vnd=0, reserved_vnd=0, net_debit_cap_vnd=2_000_000_000),
        VIETTEL: Position(VIETTEL, liquidity_vnd=0, reserved_vnd=0, net_debit_cap_vnd=0),
    }
    assert node.positions()[VBSP].available_vnd == 2_000_000_000
    node.check_invariants()


def test_registering_a_bin_twice_raises_participant_exists_and_keeps_the_first(banks: SwitchNode) -> None:
    with pytest.raises(ParticipantExists) as raised:
        banks.register_participant(
            Participant(VCB, "Ngân hàng giả mạo", ParticipantKind.WALLET, net_debit_cap_vnd=5), NOW
        )
    assert raised.value.field == "bin"
    assert raised.value.reason == StatusReason.DUPL
    assert banks.all_participants()[VCB].name == "Vietcombank"
    assert position(banks, VCB).net_debit_cap_vnd == 1_000_000_000
    banks.check_invariants()


@pytest.mark.parametrize("bad_bin", ["97043", "9704360", "97043A", "", " 970436"])
def test_a_bin_that_is_not_six_digits_is_refused_naming_bin(node: SwitchNode, bad_bin: str) -> None:
    with pytest.raises(InputInvalid) as raised:
        node.register_participant(Participant(bad_bin, "Ngân hàng lỗi", ParticipantKind.BANK), NOW)
    assert raised.value.field == "bin"
    assert "6-digit" in raised.value.rule
    assert raised.value.reason == StatusReason.FF01
    assert node.all_participants() == {}


def test_a_blank_or_overlong_name_and_a_negative_cap_are_refused_naming_the_field(node: SwitchNode) -> None:
    for participant, field in [
        (Participant(VCB, "   ", ParticipantKind.BANK), "name"),
        (Participant(VCB, "V" * 141, ParticipantKind.BANK), "name"),
        (Participant(VCB, "Vietcombank", ParticipantKind.BANK, net_debit_cap_vnd=-1), "net_debit_cap_vnd"),
    ]:
        with pytest.raises(InputInvalid) as raised:
            node.register_participant(participant, NOW)
        assert raised.value.field == field
    assert node.all_participants() == {}
    node.register_participant(Participant(VCB, "V" * 140, ParticipantKind.BANK), NOW)  # 140 is allowed


def test_a_cap_that_is_not_a_whole_number_of_vnd_is_refused_at_registration_naming_the_cap(node: SwitchNode) -> None:
    # set_cap refuses these with InputInvalid; registration should say the same, not fail inside the ledger
    for cap in (1_000.5, True):
        with pytest.raises(InputInvalid) as raised:
            node.register_participant(Participant(VCB, "Vietcombank", ParticipantKind.BANK, net_debit_cap_vnd=cap), NOW)  # type: ignore[arg-type]
        assert raised.value.field == "net_debit_cap_vnd"
    assert node.all_participants() == {}


def test_a_base_url_longer_than_the_registry_stores_is_refused_naming_base_url(node: SwitchNode) -> None:
    too_long = "https://api.vietcombank.example/" + "v" * 300  # the column holds 300 characters
    with pytest.raises(InputInvalid) as raised:
        node.register_participant(Participant(VCB, "Vietcombank", ParticipantKind.BANK, base_url=too_long), NOW)
    assert raised.value.field == "base_url"


def test_suspending_and_resuming_changes_only_the_status(banks: SwitchNode) -> None:
    banks.fund_in(VCB, 50_000_000, NOW)
    suspended = banks.set_status(VCB, ParticipantStatus.SUSPENDED)
    assert suspended.status == ParticipantStatus.SUSPENDED and not suspended.active
    assert banks.all_participants()[VCB].status == ParticipantStatus.SUSPENDED
    assert position(banks, VCB).liquidity_vnd == 50_000_000

    resumed = banks.set_status(VCB, ParticipantStatus.ACTIVE)
    assert resumed == Participant(VCB, "Vietcombank", ParticipantKind.BANK, net_debit_cap_vnd=1_000_000_000)
    assert banks.all_participants()[BIDV].status == ParticipantStatus.ACTIVE
    banks.check_invariants()


def test_admin_calls_on_an_unknown_bin_raise_participant_not_found(banks: SwitchNode) -> None:
    calls = [
        lambda: banks.set_status(VIETINBANK, ParticipantStatus.SUSPENDED),
        lambda: banks.set_cap(VIETINBANK, 1_000, NOW),
        lambda: banks.fund_in(VIETINBANK, 1_000, NOW),
        lambda: banks.fund_out(VIETINBANK, 1_000, NOW),
    ]
    for call in calls:
        with pytest.raises(ParticipantNotFound) as raised:
            call()
        assert raised.value.field == "bin"
        assert raised.value.reason == StatusReason.RC04
    assert set(banks.all_participants()) == {VCB, BIDV}
    banks.check_invariants()


# --- caps ----------------------------------------------------------------------------------------


def test_raising_and_lowering_an_unused_cap_changes_what_can_be_sent(banks: SwitchNode) -> None:
    raised = banks.set_cap(BIDV, 300_000_000, NOW)
    assert raised.net_debit_cap_vnd == 300_000_000
    assert position(banks, BIDV) == Position(BIDV, 0, 0, 300_000_000)

    lowered = banks.set_cap(VCB, 250_000_000, NOW)
    assert lowered.net_debit_cap_vnd == 250_000_000
    assert position(banks, VCB).available_vnd == 250_000_000
    assert banks.set_cap(VCB, 0, NOW).net_debit_cap_vnd == 0
    assert position(banks, VCB) == Position(VCB, 0, 0, 0)
    assert banks.set_cap(VCB, 0, NOW).net_debit_cap_vnd == 0  # unchanged: nothing to move
    banks.check_invariants()


def test_a_cap_that_is_negative_or_not_whole_vnd_is_refused_naming_the_cap(banks: SwitchNode) -> None:
    for cap in (-1, 1_000.5, "1000", True):
        with pytest.raises(InputInvalid) as raised:
            banks.set_cap(VCB, cap, NOW)  # type: ignore[arg-type]
        assert raised.value.field == "net_debit_cap_vnd"
    assert position(banks, VCB).net_debit_cap_vnd == 1_000_000_000


def test_the_cap_cannot_be_lowered_below_what_is_in_use(banks: SwitchNode) -> None:
    banks.fund_in(VCB, 100_000_000, NOW)
    pay(banks, "TX1", 400_000_000)  # 300 million of the cap in use
    assert position(banks, VCB).liquidity_vnd == -300_000_000

    with pytest.raises(LimitInUse) as raised:
        banks.set_cap(VCB, 299_999_999, NOW)
    assert raised.value.reason == StatusReason.AM04
    assert position(banks, VCB) == Position(VCB, -300_000_000, 0, 1_000_000_000)

    banks.set_cap(VCB, 300_000_000, NOW)
    assert position(banks, VCB) == Position(VCB, -300_000_000, 0, 300_000_000)
    assert position(banks, VCB).available_vnd == 0
    banks.check_invariants()


def test_the_cap_cannot_be_lowered_below_what_pending_transfers_reserve(banks: SwitchNode) -> None:
    pay(banks, "TX1", 200_000_000, settle=False)
    with pytest.raises(LimitInUse):
        banks.set_cap(VCB, 199_999_999, NOW)
    assert position(banks, VCB) == Position(VCB, 0, 200_000_000, 1_000_000_000)
    banks.set_cap(VCB, 200_000_000, NOW)
    assert position(banks, VCB).available_vnd == 0
    banks.check_invariants()


# --- funds ---------------------------------------------------------------------------------------


def test_fund_in_adds_prefunded_liquidity_and_fund_out_takes_it_back(banks: SwitchNode) -> None:
    after_in = banks.fund_in(BIDV, 300_000_000, NOW)
    assert after_in == Position(BIDV, 300_000_000, 0, 0)
    banks.fund_in(BIDV, 20_000_000, NOW + 1)
    after_out = banks.fund_out(BIDV, 120_000_000, NOW + 2)
    assert after_out == Position(BIDV, 200_000_000, 0, 0)
    assert banks.fund_out(BIDV, 200_000_000, NOW + 3) == Position(BIDV, 0, 0, 0)
    banks.check_invariants()


def test_funds_in_and_out_must_be_a_positive_whole_number_of_vnd(banks: SwitchNode) -> None:
    banks.fund_in(BIDV, 1_000_000, NOW)
    for amount in (0, -5, 1_000.5, True, "1000"):
        for call in (banks.fund_in, banks.fund_out):
            with pytest.raises(InputInvalid) as raised:
                call(BIDV, amount, NOW)  # type: ignore[arg-type]
            assert raised.value.field == "amount_vnd"
    assert position(banks, BIDV) == Position(BIDV, 1_000_000, 0, 0)
    banks.check_invariants()


def test_an_amount_too_large_to_store_is_refused_naming_amount_vnd(banks: SwitchNode) -> None:
    with pytest.raises(InputInvalid) as raised:
        banks.fund_in(BIDV, 10**19, NOW)  # above any 64-bit column: a typo, not money
    assert raised.value.field == "amount_vnd"


def test_fund_out_cannot_take_money_lent_by_the_cap(banks: SwitchNode) -> None:
    banks.fund_in(VCB, 100_000_000, NOW)
    with pytest.raises(LimitInUse) as raised:
        banks.fund_out(VCB, 100_000_001, NOW)
    assert raised.value.field == "amount_vnd"
    assert "100000000" in raised.value.rule
    assert position(banks, VCB) == Position(VCB, 100_000_000, 0, 1_000_000_000)

    pay(banks, "TX1", 150_000_000)  # now 50 million of the cap is in use, nothing prefunded is free
    with pytest.raises(LimitInUse):
        banks.fund_out(VCB, 1, NOW)
    assert position(banks, VCB).liquidity_vnd == -50_000_000
    banks.check_invariants()


def test_fund_out_cannot_take_money_reserved_for_a_pending_transfer(banks: SwitchNode) -> None:
    banks.fund_in(VCB, 100_000_000, NOW)
    pay(banks, "TX1", 60_000_000, settle=False)
    with pytest.raises(LimitInUse):
        banks.fund_out(VCB, 40_000_001, NOW)
    assert banks.fund_out(VCB, 40_000_000, NOW) == Position(VCB, 60_000_000, 60_000_000, 1_000_000_000)
    banks.check_invariants()


# --- positions -----------------------------------------------------------------------------------


def test_positions_add_up_funds_payments_reservations_and_the_cap(banks: SwitchNode) -> None:
    banks.fund_in(VCB, 500_000_000, NOW)
    banks.fund_in(BIDV, 300_000_000, NOW)
    pay(banks, "TX1", 120_000_000)
    pay(banks, "TX2", 30_000_000, settle=False)

    vcb, bidv = position(banks, VCB), position(banks, BIDV)
    assert vcb == Position(VCB, liquidity_vnd=380_000_000, reserved_vnd=30_000_000, net_debit_cap_vnd=1_000_000_000)
    assert vcb.available_vnd == 380_000_000 + 1_000_000_000 - 30_000_000
    # incoming money counts only once settled
    assert bidv == Position(BIDV, liquidity_vnd=420_000_000, reserved_vnd=0, net_debit_cap_vnd=0)
    assert bidv.available_vnd == 420_000_000
    totals = banks.check_invariants()
    assert totals.balanced
    assert totals.debits_pending == 30_000_000


def test_a_suspended_participant_keeps_its_position_and_can_still_be_funded(banks: SwitchNode) -> None:
    banks.set_status(BIDV, ParticipantStatus.SUSPENDED)
    assert banks.fund_in(BIDV, 5_000_000, NOW) == Position(BIDV, 5_000_000, 0, 0)
    assert banks.fund_out(BIDV, 5_000_000, NOW) == Position(BIDV, 0, 0, 0)
    banks.check_invariants()


def test_a_switch_node_restarted_on_the_same_database_can_still_run_admin_calls(engine: Engine) -> None:
    first = SwitchNode(engine)
    first.setup()
    first.register_participant(Participant(VCB, "Vietcombank", ParticipantKind.BANK, net_debit_cap_vnd=1_000), NOW)
    first.fund_in(VCB, 5_000, NOW)

    restarted = SwitchNode(engine)  # a new process on the same database, same simulated instant
    restarted.setup()
    assert restarted.fund_in(VCB, 7_000, NOW) == Position(VCB, 12_000, 0, 1_000)
    assert restarted.set_cap(VCB, 2_000, NOW).net_debit_cap_vnd == 2_000
    restarted.check_invariants()


def test_a_participant_that_serves_inbound_batches_is_registered_and_listed_so(node: SwitchNode) -> None:
    wallet = Participant(
        VIETTEL, "Viettel Money", ParticipantKind.WALLET, base_url="http://127.0.0.1:8006", inbound_batches=True
    )
    node.register_participant(wallet, NOW)
    node.register_participant(Participant(BIDV, "BIDV", ParticipantKind.BANK, base_url="http://127.0.0.1:8002"), NOW)

    listed = node.all_participants()

    assert listed[VIETTEL].inbound_batches is True
    assert listed[BIDV].inbound_batches is False


def test_a_switch_database_made_before_inbound_batches_existed_gets_the_column_on_setup(engine: Engine) -> None:
    SwitchNode(engine).setup()
    node = SwitchNode(engine)
    node.register_participant(Participant(BIDV, "BIDV", ParticipantKind.BANK), NOW)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE switch_participant DROP COLUMN inbound_batches"))

    node.setup()

    assert node.all_participants()[BIDV].inbound_batches is False
    node.register_participant(Participant(VCB, "Vietcombank", ParticipantKind.BANK, inbound_batches=True), NOW)
    assert node.all_participants()[VCB].inbound_batches is True
