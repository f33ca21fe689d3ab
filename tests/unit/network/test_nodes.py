"""network.nodes: the switch, banks and wallets built on their own databases, admitted to the switch
with their caps and prefunding, and started again on the same databases."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from banks.node import ParticipantNode
from banks.schemas import Behaviour, Customer, Limits
from network.nodes import (
    SWITCH_NODE_NAME,
    admit,
    build_participant,
    build_switch,
    participant_node_name,
    restarted,
    restarted_switch,
)
from network.participants import DEFAULT_PARTICIPANTS, SERVE_TREASURY, TREASURY, ParticipantSpec, payroll_participants
from network.storage import Storage
from switch.clearing.schemas import CREDITOR_TIMEOUT_MS
from switch.participants.schemas import Position
from switch.scheme.codes import ParticipantKind, StatusReason
from wallets.node import WalletNode, new_wallet, wallet_limits

NOW = 1_796_083_200_000  # 1 December 2026, 08:00 in Hà Nội
SPECS = {spec.bin: spec for spec in DEFAULT_PARTICIPANTS}
VIETCOMBANK, BIDV, VIETTEL_MONEY = SPECS["970436"], SPECS["970418"], SPECS["971005"]
MOBIFONE_PILOT = next(s for s in payroll_participants() if s.bin == "971025")  # the 2021 pilot's cap
AGRIBANK_LATE = next(s for s in payroll_participants() if s.bin == "970405")  # answers late now and then


@pytest.fixture
def files(tmp_path: Path) -> Storage:
    """SQLite files, one per node, in a folder that does not exist yet."""
    return Storage(folder=tmp_path / "db")


def a_customer(account: str = "9704360000001") -> Customer:
    return Customer(account, "NGUYEN VAN DUC", "001090012345")


# --- the switch -------------------------------------------------------------------------------------


def test_build_switch_makes_the_switch_its_own_database_file_with_its_tables(files: Storage) -> None:
    switch = build_switch(files)

    assert files.folder is not None
    assert (files.folder / f"{SWITCH_NODE_NAME}.db").is_file()
    assert switch.positions() == {}
    assert switch.all_participants() == {}
    assert switch.in_flight() == 0
    switch.check_invariants()


def test_build_switch_passes_on_the_creditor_timeout(files: Storage) -> None:
    assert build_switch(files).clearing.creditor_timeout_ms == CREDITOR_TIMEOUT_MS
    assert build_switch(files, creditor_timeout_ms=8_000).clearing.creditor_timeout_ms == 8_000


def test_build_switch_again_on_a_set_up_database_keeps_its_participants(storage: Storage) -> None:
    admit(build_switch(storage), VIETCOMBANK, NOW)

    again = build_switch(storage)

    assert set(again.all_participants()) == {"970436"}
    assert again.positions()["970436"].liquidity_vnd == 100_000_000_000


def test_a_switch_worker_built_without_set_up_works_on_the_database_serve_set_up(storage: Storage) -> None:
    first = build_switch(storage)
    admit(first, VIETCOMBANK, NOW)
    admit(first, VIETTEL_MONEY, NOW)

    worker = build_switch(storage, set_up=False)

    assert worker.positions() == first.positions()
    assert worker.all_participants() == first.all_participants()
    worker.check_invariants()


def test_a_restarted_switch_finds_its_participants_and_money_on_its_database(files: Storage) -> None:
    switch = build_switch(files)
    admit(switch, BIDV, NOW)

    again = restarted_switch(switch.engine)

    assert again is not switch
    assert again.engine is switch.engine
    assert again.positions() == switch.positions()
    assert admit(again, BIDV, NOW) is False


# --- admitting a participant ------------------------------------------------------------------------------


def test_admit_registers_the_participant_with_its_cap_and_prefunds_its_position(storage: Storage) -> None:
    switch = build_switch(storage)

    assert admit(switch, VIETCOMBANK, NOW) is True

    participant = switch.all_participants()["970436"]
    assert (participant.name, participant.kind) == ("Vietcombank", ParticipantKind.BANK)
    assert participant.net_debit_cap_vnd == 50_000_000_000
    position = switch.positions()["970436"]
    assert position == Position(
        bin="970436", liquidity_vnd=100_000_000_000, reserved_vnd=0, net_debit_cap_vnd=50_000_000_000
    )
    assert position.available_vnd == 150_000_000_000
    switch.check_invariants()


def test_admitting_a_participant_the_switch_knows_is_false_and_moves_no_money(storage: Storage) -> None:
    switch = build_switch(storage)
    assert admit(switch, VIETTEL_MONEY, NOW) is True
    before = switch.positions()

    assert admit(switch, VIETTEL_MONEY, NOW + 60_000) is False

    assert switch.positions() == before
    assert before["971005"].liquidity_vnd == 20_000_000_000
    switch.check_invariants()


def test_a_participant_admitted_again_with_other_terms_keeps_its_first_ones(storage: Storage) -> None:
    switch = build_switch(storage)
    admit(switch, BIDV, NOW)

    richer = dataclasses.replace(BIDV, prefund_vnd=999_000_000_000, net_debit_cap_vnd=1)
    assert admit(switch, richer, NOW) is False

    assert switch.positions()["970418"] == Position("970418", 100_000_000_000, 0, 50_000_000_000)


def test_the_treasury_is_admitted_with_no_node_of_its_own(storage: Storage) -> None:
    switch = build_switch(storage)

    assert admit(switch, TREASURY, NOW) is True

    assert switch.all_participants()["999999"].kind == ParticipantKind.TREASURY
    assert switch.all_participants()["999999"].name == "Kho bạc Nhà nước"
    assert switch.positions()["999999"] == Position("999999", 0, 0, 0)
    assert storage.folder is None or not (storage.folder / "treasury_999999.db").exists()


def test_the_served_treasury_is_prefunded_for_many_payrolls(storage: Storage) -> None:
    switch = build_switch(storage)

    admit(switch, SERVE_TREASURY, NOW)

    assert switch.positions()["999999"].liquidity_vnd == 100_000_000_000


def test_the_whole_default_network_is_admitted_with_each_participants_prefunding(storage: Storage) -> None:
    switch = build_switch(storage)

    admitted = [admit(switch, spec, NOW) for spec in (*DEFAULT_PARTICIPANTS, TREASURY)]

    positions = switch.positions()
    assert admitted == [True] * 9
    assert set(positions) == {*SPECS, "999999"}
    assert {b: p.liquidity_vnd for b, p in positions.items()} == {
        **{b: s.prefund_vnd for b, s in SPECS.items()},
        "999999": 0,
    }
    assert sum(p.liquidity_vnd for p in positions.values()) == 4 * 100_000_000_000 + 20_000_000_000 + 3 * 20_000_000_000
    switch.check_invariants()


def test_admit_records_where_an_external_participant_is_served_and_how(files: Storage) -> None:
    switch = build_switch(files)

    admit(switch, BIDV, NOW, base_url="https://sandbox.bidv.example/napas", inbound_batches=True)

    participant = switch.all_participants()["970418"]
    assert participant.base_url == "https://sandbox.bidv.example/napas"
    assert participant.inbound_batches is True
    assert switch.all_participants().get("970436") is None


# --- banks and wallets -------------------------------------------------------------------------------------


def test_participant_node_names_are_their_kind_and_bin() -> None:
    assert participant_node_name(VIETCOMBANK) == "bank_970436"
    assert participant_node_name(VIETTEL_MONEY) == "wallet_971005"


def test_a_wallet_provider_is_a_wallet_node_with_the_wallet_caps(files: Storage) -> None:
    node = build_participant(VIETTEL_MONEY, files)

    assert type(node) is WalletNode
    assert (node.bin, node.name) == ("971005", "Viettel Money")
    assert node.limits == wallet_limits() == Limits(monthly_inflow_cap_vnd=100_000_000, balance_cap_vnd=100_000_000)
    assert files.folder is not None and (files.folder / "wallet_971005.db").is_file()


def test_a_bank_is_a_participant_node_with_no_caps(files: Storage) -> None:
    node = build_participant(VIETCOMBANK, files)

    assert type(node) is ParticipantNode
    assert (node.bin, node.name) == ("970436", "Vietcombank")
    assert node.limits == Limits(monthly_inflow_cap_vnd=None, balance_cap_vnd=None)
    assert node.behaviour == Behaviour()
    assert files.folder is not None and (files.folder / "bank_970436.db").is_file()


def test_a_participant_node_is_set_up_on_its_own_database(files: Storage) -> None:
    vietcombank, bidv = build_participant(VIETCOMBANK, files), build_participant(BIDV, files)
    vietcombank.open_accounts([(a_customer(), 1_000_000)], NOW)

    assert vietcombank.engine.url != bidv.engine.url
    assert [c.account for c in vietcombank.customers()] == ["9704360000001"]
    assert bidv.customers() == []
    vietcombank.check_invariants()


def test_a_participant_keeps_its_specs_behaviour_and_caps(files: Storage) -> None:
    agribank = build_participant(AGRIBANK_LATE, files)
    mobifone = build_participant(MOBIFONE_PILOT, files)

    assert agribank.behaviour == Behaviour(latency_ms=40, timeout_rate=0.02, late_answer_ms=8_000)
    assert type(mobifone) is WalletNode
    assert mobifone.limits == wallet_limits(pilot_2021=True)
    assert mobifone.limits.monthly_inflow_cap_vnd == 10_000_000


def test_the_treasury_has_no_node_to_build(files: Storage) -> None:
    with pytest.raises(AssertionError, match="outside the sandbox"):
        build_participant(TREASURY, files)

    assert files.folder is not None
    assert not files.folder.exists() or not any(files.folder.iterdir())


# --- restarts ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec",
    [
        VIETCOMBANK,
        VIETTEL_MONEY,
        MOBIFONE_PILOT,
        AGRIBANK_LATE,
        dataclasses.replace(BIDV, behaviour=Behaviour(offline=True, reject_rate=0.1, reject_reason=StatusReason.AC06)),
    ],
    ids=lambda spec: spec.name,
)
def test_a_restarted_participant_is_a_new_node_with_the_same_storage_behaviour_and_caps(
    files: Storage, spec: ParticipantSpec
) -> None:
    node = build_participant(spec, files)

    again = restarted(node)

    assert again is not node
    assert type(again) is type(node)
    assert (again.bin, again.name) == (node.bin, node.name)
    assert again.engine is node.engine
    assert again.behaviour == node.behaviour
    assert again.limits == node.limits
    assert again.offline == node.offline


def test_a_restarted_wallet_finds_its_wallets_and_money_on_its_database(files: Storage) -> None:
    node = build_participant(VIETTEL_MONEY, files)
    node.open_accounts([(new_wallet("0987654321", "TRAN THI LAN ANH", "079301000007"), 2_789_000)], NOW)

    again = restarted(node)

    assert again.customers() == node.customers()
    assert [c.account for c in again.customers()] == ["0987654321"]
    assert again.money() == node.money()
    again.check_invariants()


def test_a_restart_keeps_the_behaviour_the_node_was_last_set_to(files: Storage) -> None:
    node = build_participant(VIETCOMBANK, files)
    node.set_behaviour(Behaviour(offline=True))

    again = restarted(node)

    assert again.behaviour == Behaviour(offline=True)
    assert again.offline is True
