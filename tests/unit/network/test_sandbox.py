"""network.sandbox: the default network wired onto the in-process network, and what scenarios use."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from banks.node import RESERVES, SETTLEMENT, ParticipantNode, customer_account
from banks.schemas import Behaviour, Customer, OutboundStatus, PaymentOrder
from network.checks import check_invariants
from network.participants import DEFAULT_PARTICIPANTS, DEFAULT_START, VIETNAM, ParticipantSpec
from network.sandbox import CUSTOMER_CHANNEL, Sandbox
from network.storage import Storage
from switch.errors import InputInvalid
from switch.scheme.codes import AliasType, ParticipantKind, RegistrationOutcome, TransactionStatus
from switch.scheme.messages import Alias, AliasRegistration
from switch.scheme.transport import CITIZEN_APP_ADDRESS, SWITCH_ADDRESS
from wallets.node import WalletNode

VIETCOMBANK, BIDV, VIETTEL_MONEY = "970436", "970418", "971005"
DUC = "0011001234567"  # Vietcombank, Nguyễn Văn Đức
AN = "12010000123456"  # BIDV, Lê Văn An
BINH = "0961234567"  # Viettel Money, Hoàng Văn Bình


def small_network(**kwargs: object) -> Sandbox:
    """Vietcombank, BIDV and Viettel Money only, in memory: enough for everything here."""
    specs = [p for p in DEFAULT_PARTICIPANTS if p.bin in (VIETCOMBANK, BIDV, VIETTEL_MONEY)]
    return Sandbox(Storage(), participants=specs, **kwargs)  # type: ignore[arg-type]


def settlement_mirror(sandbox: Sandbox, bin_code: str) -> int:
    """What the participant books as its money at the switch."""
    settlement = sandbox.nodes[bin_code].balances()[SETTLEMENT]
    return settlement.debits_posted - settlement.credits_posted


def test_the_default_network_is_the_switch_five_banks_and_three_wallet_providers_with_real_bins() -> None:
    sandbox = Sandbox(Storage())

    assert set(sandbox.network.nodes) == {SWITCH_ADDRESS, *sandbox.nodes}
    banks = {b for b, n in sandbox.nodes.items() if not isinstance(n, WalletNode)}
    wallets = {b for b, n in sandbox.nodes.items() if isinstance(n, WalletNode)}
    assert banks == {"970436", "970418", "970415", "970405", "999888"}
    assert wallets == {"971005", "971011", "971025"}
    assert sandbox.nodes[VIETCOMBANK].name == "Vietcombank"
    assert sandbox.nodes[VIETTEL_MONEY].name == "Viettel Money"


def test_every_participant_is_registered_at_the_switch_with_its_kind_and_cap() -> None:
    sandbox = Sandbox(Storage())

    registered = sandbox.switch.all_participants()

    assert {b: (p.name, p.kind, p.net_debit_cap_vnd) for b, p in registered.items()} == {
        spec.bin: (spec.name, spec.kind, spec.net_debit_cap_vnd) for spec in DEFAULT_PARTICIPANTS
    }
    assert registered[VIETTEL_MONEY].kind == ParticipantKind.WALLET


def test_every_participant_starts_prefunded_and_books_the_same_amount_at_home() -> None:
    sandbox = Sandbox(Storage())

    positions = sandbox.switch.positions()

    for spec in DEFAULT_PARTICIPANTS:
        assert positions[spec.bin].liquidity_vnd == spec.prefund_vnd
        assert settlement_mirror(sandbox, spec.bin) == spec.prefund_vnd
    assert check_invariants(sandbox).ok


def test_a_participant_with_no_prefund_starts_with_nothing_at_the_switch() -> None:
    spec = ParticipantSpec("970999", "Ngân hàng Thử nghiệm", ParticipantKind.BANK, net_debit_cap_vnd=1_000_000)
    sandbox = Sandbox(Storage(), participants=[spec])

    assert sandbox.switch.positions()["970999"].liquidity_vnd == 0
    assert sandbox.nodes["970999"].balances()[SETTLEMENT].debits_posted == 0


def test_the_clock_starts_at_eight_in_the_morning_on_the_first_of_december_2026_in_vietnam() -> None:
    sandbox = small_network()

    assert datetime.fromtimestamp(sandbox.now_ms / 1000, VIETNAM) == datetime(2026, 12, 1, 8, 0, tzinfo=VIETNAM)
    assert sandbox.now_ms == sandbox.network.now_ms == int(DEFAULT_START.timestamp() * 1000)


def test_a_sandbox_can_start_at_another_time() -> None:
    start = datetime(2027, 1, 5, 9, 30, tzinfo=VIETNAM)

    assert small_network(start=start).now_ms == int(start.timestamp() * 1000)


def test_funding_moves_the_switch_position_and_the_participants_settlement_account_together() -> None:
    sandbox = small_network()
    before = sandbox.switch.positions()[BIDV].liquidity_vnd
    reserves_before = sandbox.nodes[BIDV].balances()[RESERVES].balance_vnd

    sandbox.fund(BIDV, 2_500_000_000)

    assert sandbox.switch.positions()[BIDV].liquidity_vnd == before + 2_500_000_000
    assert settlement_mirror(sandbox, BIDV) == before + 2_500_000_000
    assert sandbox.nodes[BIDV].balances()[RESERVES].balance_vnd == reserves_before + 2_500_000_000
    assert sandbox.switch.positions()[VIETCOMBANK].liquidity_vnd == 100_000_000_000  # nobody else moved
    assert check_invariants(sandbox).ok


def test_funding_the_same_participant_twice_at_the_same_instant_books_both() -> None:
    sandbox = small_network()

    sandbox.fund(VIETTEL_MONEY, 1_000_000)
    sandbox.fund(VIETTEL_MONEY, 1_000_000)

    assert sandbox.switch.positions()[VIETTEL_MONEY].liquidity_vnd == 20_002_000_000
    assert settlement_mirror(sandbox, VIETTEL_MONEY) == 20_002_000_000


@pytest.mark.parametrize("amount", [0, -1_000_000])
def test_a_funding_the_switch_refuses_moves_neither_side(amount: int) -> None:
    sandbox = small_network()

    with pytest.raises(InputInvalid, match="amount_vnd"):
        sandbox.fund(BIDV, amount)

    assert sandbox.switch.positions()[BIDV].liquidity_vnd == 100_000_000_000
    assert settlement_mirror(sandbox, BIDV) == 100_000_000_000


def test_opening_accounts_gives_the_deposits_and_counts_them_as_opening_deposits() -> None:
    sandbox = small_network()

    sandbox.open_accounts(VIETCOMBANK, [(Customer(DUC, "NGUYEN VAN DUC", "001090012345"), 10_000_000)])
    sandbox.open_accounts(BIDV, [(Customer(AN, "LE VAN AN", "048070012345"), 0)])

    assert sandbox.opening_deposits_vnd == 10_000_000
    assert sandbox.nodes[VIETCOMBANK].balances()[customer_account(DUC)].balance_vnd == 10_000_000
    assert sandbox.nodes[BIDV].balances()[customer_account(AN)].balance_vnd == 0
    assert check_invariants(sandbox).ok


def test_a_customers_payment_goes_from_the_customer_channel_through_the_switch_and_settles() -> None:
    sandbox = small_network()
    sandbox.open_accounts(VIETCOMBANK, [(Customer(DUC, "NGUYEN VAN DUC", "001090012345"), 10_000_000)])
    sandbox.open_accounts(BIDV, [(Customer(AN, "LE VAN AN", "048070012345"), 0)])
    order = PaymentOrder(
        order_id="P-1", debtor_account=DUC, amount_vnd=250_000, creditor_agent=BIDV, creditor_account=AN
    )

    sandbox.pay(VIETCOMBANK, [order], at_ms=sandbox.now_ms + 60_000)
    sandbox.run()

    record = sandbox.switch.transfer_status(VIETCOMBANK, "P-1")
    assert record.status == TransactionStatus.ACSC
    assert sandbox.nodes[VIETCOMBANK].outbound_counts() == {OutboundStatus.SETTLED.value: (1, 250_000)}
    assert sandbox.nodes[BIDV].balances()[customer_account(AN)].balance_vnd == 250_000
    assert sandbox.network.stats.by_receiver[VIETCOMBANK] >= 1
    assert CUSTOMER_CHANNEL not in sandbox.network.nodes
    assert check_invariants(sandbox).ok


def test_a_payment_for_a_later_time_waits_for_it() -> None:
    sandbox = small_network()
    sandbox.open_accounts(VIETCOMBANK, [(Customer(DUC, "NGUYEN VAN DUC", "001090012345"), 10_000_000)])
    start = sandbox.now_ms
    order = PaymentOrder(order_id="P-2", debtor_account=DUC, amount_vnd=1_000, creditor_agent=BIDV, creditor_account=AN)

    sandbox.pay(VIETCOMBANK, [order], at_ms=start + 3_600_000)
    sandbox.run(until_ms=start + 3_599_999)

    assert sandbox.nodes[VIETCOMBANK].outbound_counts() == {}
    assert sandbox.network.pending() == 1


def test_a_citizen_registers_a_wallet_through_the_citizen_app_and_reads_the_report() -> None:
    sandbox = small_network()
    sandbox.open_accounts(VIETTEL_MONEY, [(Customer(BINH, "HOANG VAN BINH", "036085012345", phone=BINH), 0)])

    sandbox.register(
        [
            AliasRegistration(
                request_id="REG-BINH",
                alias=Alias(type=AliasType.MSISDN, value=BINH),
                name="Hoàng Văn Bình",
                citizen_id="036085012345",
                agent=VIETTEL_MONEY,
                account=BINH,
            )
        ]
    )
    sandbox.run()

    reports = sandbox.registration_reports()
    assert [(r.original_request_id, r.outcome) for r in reports] == [("REG-BINH", RegistrationOutcome.REGISTERED)]
    assert CITIZEN_APP_ADDRESS not in sandbox.network.nodes
    assert sandbox.switch.lookup_alias(Alias(type=AliasType.MSISDN, value=BINH)).agent == VIETTEL_MONEY


def test_a_participant_specified_offline_is_offline_on_the_network() -> None:
    specs = [
        ParticipantSpec(VIETCOMBANK, "Vietcombank", ParticipantKind.BANK, 0, 1_000_000),
        ParticipantSpec(BIDV, "BIDV", ParticipantKind.BANK, 0, 1_000_000, behaviour=Behaviour(offline=True)),
    ]

    sandbox = Sandbox(Storage(), participants=specs)

    assert sandbox.network.nodes[BIDV].offline
    assert not sandbox.network.nodes[VIETCOMBANK].offline
    assert isinstance(sandbox.nodes[BIDV], ParticipantNode) and not isinstance(sandbox.nodes[BIDV], WalletNode)


def test_the_switch_and_every_participant_get_their_own_database_file(tmp_path: Path) -> None:
    specs = [p for p in DEFAULT_PARTICIPANTS if p.bin in (VIETCOMBANK, VIETTEL_MONEY)]

    Sandbox(Storage(folder=tmp_path), participants=specs)

    assert sorted(p.name for p in tmp_path.glob("*.db")) == ["bank_970436.db", "switch.db", "wallet_971005.db"]
