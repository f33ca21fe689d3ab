"""Person-to-person transfers through the whole in-process network, on SQLite files and on PostgreSQL.

Each test builds the default network (the switch, five banks, three wallet providers), opens a few
accounts, registers aliases through the citizen app, pays, runs the network until it is quiet, and
checks where each transfer ended — at the switch and at the debtor's bank — and who holds what.
After every test the invariants hold: money conserved, nothing paid twice, every transfer final.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, TypedDict, Unpack

import pytest

from banks import repository as bank_repository
from banks.node import customer_account
from banks.schemas import AccountStatus, Behaviour, Customer, InboundStatus, OutboundStatus, PaymentOrder
from network.checks import check_invariants
from network.participants import DEFAULT_PARTICIPANTS, ParticipantSpec
from network.sandbox import Sandbox
from network.storage import Storage
from switch.clearing.schemas import CREDITOR_TIMEOUT_MS
from switch.errors import TransferNotFound
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
from switch.scheme.messages import (
    Alias,
    AliasRegistration,
    CreditTransfer,
    Party,
    StatusReport,
    StatusReportMessage,
    StatusRequest,
)
from switch.scheme.transport import Envelope
from wallets.node import new_wallet, wallet_limits

VIETCOMBANK, BIDV, VIETINBANK, AGRIBANK, VBSP = "970436", "970418", "970415", "970405", "999888"
VIETTEL_MONEY, VNPT_MONEY = "971005", "971011"
DEV_BANK = "970999"  # an external participant: registered at the switch, no simulated node

# Account numbers, as each bank numbers them.
DUC = "0011001234567"  # Vietcombank, NGUYEN VAN DUC, 10,000,000 VND
MAI = "0011001234568"  # Vietcombank, TRAN THI MAI, 1,000 VND
AN = "12010000123456"  # BIDV, LE VAN AN, registered under his citizen id
HOA = "12010000123457"  # BIDV, PHAM THI HOA, closed
LAN = "12010000123458"  # BIDV, VO THI LAN, blocked
HUNG = "108000123456"  # VietinBank, DANG VAN HUNG, 5,000,000 VND, registered under his citizen id
THU = "1500205123456"  # Agribank, BUI THI THU
TAM = "8800012345"  # VBSP, LY VAN TAM
BINH = "0961234567"  # Viettel Money wallet, HOANG VAN BINH, registered under his mobile number
NGA = "0912345678"  # VNPT Money wallet, NGO THI NGA, 3,000,000 VND, registered under her mobile number

AN_CITIZEN_ID = "048070012345"
HUNG_CITIZEN_ID = "038088012345"

OPENING_BALANCES = {
    (VIETCOMBANK, DUC): 10_000_000,
    (VIETCOMBANK, MAI): 1_000,
    (BIDV, AN): 0,
    (BIDV, HOA): 0,
    (BIDV, LAN): 0,
    (VIETINBANK, HUNG): 5_000_000,
    (AGRIBANK, THU): 2_000_000,
    (VBSP, TAM): 0,
    (VIETTEL_MONEY, BINH): 0,
    (VNPT_MONEY, NGA): 3_000_000,
}


def customers() -> dict[str, list[Customer]]:
    return {
        VIETCOMBANK: [
            Customer(DUC, "NGUYEN VAN DUC", "001090012345"),
            Customer(MAI, "TRAN THI MAI", "079185012345"),
        ],
        BIDV: [
            Customer(AN, "LE VAN AN", AN_CITIZEN_ID),
            Customer(HOA, "PHAM THI HOA", "048170012346", AccountStatus.CLOSED),
            Customer(LAN, "VO THI LAN", "001190012347", AccountStatus.BLOCKED),
        ],
        VIETINBANK: [Customer(HUNG, "DANG VAN HUNG", HUNG_CITIZEN_ID)],
        AGRIBANK: [Customer(THU, "BUI THI THU", "040192012345")],
        VBSP: [Customer(TAM, "LY VAN TAM", "096075012345")],
        VIETTEL_MONEY: [new_wallet(BINH, "HOANG VAN BINH", "036085012345")],
        VNPT_MONEY: [new_wallet(NGA, "NGO THI NGA", "001186012346")],
    }


def registrations() -> list[AliasRegistration]:
    """What the citizens asked for in the citizen app: names as they typed them, with diacritics."""
    return [
        AliasRegistration(
            request_id="REG-AN",
            alias=Alias(type=AliasType.CITIZEN_ID, value=AN_CITIZEN_ID),
            name="Lê Văn An",
            citizen_id=AN_CITIZEN_ID,
            agent=BIDV,
            account=AN,
        ),
        AliasRegistration(
            request_id="REG-HUNG",
            alias=Alias(type=AliasType.CITIZEN_ID, value=HUNG_CITIZEN_ID),
            name="Đặng Văn Hùng",
            citizen_id=HUNG_CITIZEN_ID,
            agent=VIETINBANK,
            account=HUNG,
        ),
        AliasRegistration(
            request_id="REG-BINH",
            alias=Alias(type=AliasType.MSISDN, value=BINH),
            name="Hoàng Văn Bình",
            citizen_id="036085012345",
            agent=VIETTEL_MONEY,
            account=BINH,
        ),
        AliasRegistration(
            request_id="REG-NGA",
            alias=Alias(type=AliasType.MSISDN, value=NGA),
            name="Ngô Thị Nga",
            citizen_id="001186012346",
            agent=VNPT_MONEY,
            account=NGA,
        ),
    ]


def network(
    storage: Storage,
    participants: Sequence[ParticipantSpec] = DEFAULT_PARTICIPANTS,
    creditor_timeout_ms: int = CREDITOR_TIMEOUT_MS,
) -> Sandbox:
    """The default network with our customers' accounts open and their aliases registered."""
    sandbox = Sandbox(storage, participants=participants, seed=7, creditor_timeout_ms=creditor_timeout_ms)
    for bin_code, people in customers().items():
        sandbox.open_accounts(bin_code, [(c, OPENING_BALANCES[bin_code, c.account]) for c in people])
    sandbox.register(registrations())
    sandbox.run()
    outcomes = {r.original_request_id: r.outcome for r in sandbox.registration_reports()}
    assert outcomes == {r.request_id: RegistrationOutcome.REGISTERED for r in registrations()}
    return sandbox


def with_participant(bin_code: str, **changes: Any) -> tuple[ParticipantSpec, ...]:
    """The default participants, one of them changed."""
    return tuple(dataclasses.replace(p, **changes) if p.bin == bin_code else p for p in DEFAULT_PARTICIPANTS)


def pay(sandbox: Sandbox, debtor_bin: str, *orders: PaymentOrder) -> None:
    sandbox.pay(debtor_bin, orders)
    sandbox.run()


class CreditorAddress(TypedDict, total=False):
    """Where a payment order sends the money: an alias, or an agent and an account."""

    creditor_alias: Alias
    creditor_agent: str
    creditor_account: str


class Creditor(CreditorAddress, total=False):
    """The creditor's side of a payment order (keyword arguments of PaymentOrder)."""

    creditor_name: str


def order(order_id: str, debtor: str, amount_vnd: int, **creditor: Unpack[Creditor]) -> PaymentOrder:
    return PaymentOrder(order_id=order_id, debtor_account=debtor, amount_vnd=amount_vnd, **creditor)


def to_account(bin_code: str, account: str) -> CreditorAddress:
    return {"creditor_agent": bin_code, "creditor_account": account}


def to_alias(kind: str, value: str) -> CreditorAddress:
    return {"creditor_alias": Alias(type=AliasType(kind), value=value)}


def balance(sandbox: Sandbox, bin_code: str, account: str) -> int:
    return sandbox.nodes[bin_code].balances()[customer_account(account)].balance_vnd


def pending_credits(sandbox: Sandbox, bin_code: str, account: str) -> int:
    return sandbox.nodes[bin_code].balances()[customer_account(account)].credits_pending


def at_the_switch(sandbox: Sandbox, debtor_bin: str, order_id: str) -> tuple[TransactionStatus, StatusReason | None]:
    record = sandbox.switch.transfer_status(debtor_bin, order_id)
    return record.status, record.reason


def at_the_bank(sandbox: Sandbox, debtor_bin: str, order_id: str) -> tuple[str, str | None]:
    """How the debtor's bank booked its customer's payment: (status, reason)."""
    node = sandbox.nodes[debtor_bin]
    with node.engine.begin() as conn:
        row = bank_repository.load_outbound(conn, [order_id])[order_id]
    return row["status"], row["reason"]


def assert_rejected(sandbox: Sandbox, debtor_bin: str, order_id: str, reason: StatusReason) -> None:
    """Rejected at the switch with `reason`, and the debtor's bank released the hold with it."""
    assert at_the_switch(sandbox, debtor_bin, order_id) == (TransactionStatus.RJCT, reason)
    assert at_the_bank(sandbox, debtor_bin, order_id) == (OutboundStatus.REJECTED.value, reason.value)


def assert_settled(sandbox: Sandbox, debtor_bin: str, order_id: str) -> None:
    assert at_the_switch(sandbox, debtor_bin, order_id) == (TransactionStatus.ACSC, None)
    assert at_the_bank(sandbox, debtor_bin, order_id) == (OutboundStatus.SETTLED.value, None)


def assert_invariants(sandbox: Sandbox) -> None:
    report = check_invariants(sandbox)
    assert report.failures == []


def external_participant(sandbox: Sandbox) -> None:
    """Dev Bank: a developer's own system plugged in as a participant; its answers land in a mailbox."""
    sandbox.switch.register_participant(
        Participant(DEV_BANK, "Dev Bank", ParticipantKind.BANK, net_debit_cap_vnd=0), sandbox.now_ms
    )
    sandbox.switch.fund_in(DEV_BANK, 1_000_000_000, sandbox.now_ms)


def answers_to_dev_bank(sandbox: Sandbox) -> dict[str, StatusReport]:
    """The switch's status reports to Dev Bank, by transaction id (the last one for each)."""
    mailbox = grouping.opened(sandbox.network.mailboxes[DEV_BANK])  # a message's reports, each on its own
    reports = [e.message for e in mailbox if isinstance(e.message, StatusReport)]
    return {r.original_transaction_id: r for r in reports}


# --- payments that settle ---------------------------------------------------------------------

ROUTES = [
    pytest.param(VIETCOMBANK, DUC, to_account(BIDV, AN), BIDV, AN, id="bank to bank by account number"),
    pytest.param(
        VIETCOMBANK, DUC, to_alias("citizen_id", HUNG_CITIZEN_ID), VIETINBANK, HUNG, id="bank to bank by citizen id"
    ),
    pytest.param(VIETCOMBANK, DUC, to_alias("msisdn", BINH), VIETTEL_MONEY, BINH, id="bank to wallet by msisdn"),
    pytest.param(VIETCOMBANK, DUC, to_alias("msisdn", "+84 96 123 4567"), VIETTEL_MONEY, BINH, id="msisdn in +84 form"),
    pytest.param(VNPT_MONEY, NGA, to_alias("msisdn", BINH), VIETTEL_MONEY, BINH, id="wallet to wallet by msisdn"),
    pytest.param(VNPT_MONEY, NGA, to_alias("citizen_id", AN_CITIZEN_ID), BIDV, AN, id="wallet to bank by citizen id"),
    pytest.param(AGRIBANK, THU, to_account(VBSP, TAM), VBSP, TAM, id="Agribank to VBSP by account number"),
    pytest.param(VIETINBANK, HUNG, to_alias("msisdn", NGA), VNPT_MONEY, NGA, id="bank to the other wallet provider"),
]


@pytest.mark.parametrize(("debtor_bin", "debtor", "creditor", "creditor_bin", "creditor_account"), ROUTES)
def test_a_person_pays_another_person_and_the_money_moves_from_one_account_to_the_other(
    storage: Storage,
    debtor_bin: str,
    debtor: str,
    creditor: CreditorAddress,
    creditor_bin: str,
    creditor_account: str,
) -> None:
    sandbox = network(storage)
    debtor_before = balance(sandbox, debtor_bin, debtor)
    creditor_before = balance(sandbox, creditor_bin, creditor_account)

    pay(sandbox, debtor_bin, order("P2P-1", debtor, 250_000, **creditor))

    assert_settled(sandbox, debtor_bin, "P2P-1")
    record = sandbox.switch.transfer_status(debtor_bin, "P2P-1")
    assert (record.creditor_agent, record.creditor_account, record.amount_vnd) == (
        creditor_bin,
        creditor_account,
        250_000,
    )
    assert balance(sandbox, debtor_bin, debtor) == debtor_before - 250_000
    assert balance(sandbox, creditor_bin, creditor_account) == creditor_before + 250_000
    assert sandbox.nodes[creditor_bin].inbound_counts() == {InboundStatus.SETTLED.value: (1, 250_000)}
    assert_invariants(sandbox)


def test_a_payment_naming_the_creditor_with_diacritics_matches_the_name_the_bank_stores(storage: Storage) -> None:
    sandbox = network(storage)

    pay(sandbox, VIETCOMBANK, order("P2P-NAME", DUC, 100_000, creditor_name="Lê Văn An", **to_account(BIDV, AN)))

    assert_settled(sandbox, VIETCOMBANK, "P2P-NAME")
    assert balance(sandbox, BIDV, AN) == 100_000
    assert_invariants(sandbox)


def test_several_payments_from_one_customer_in_one_batch_all_settle_and_add_up(storage: Storage) -> None:
    sandbox = network(storage)

    pay(
        sandbox,
        VIETCOMBANK,
        order("BATCH-1", DUC, 1_000_000, **to_account(BIDV, AN)),
        order("BATCH-2", DUC, 2_000_000, **to_alias("msisdn", BINH)),
        order("BATCH-3", DUC, 3_000_000, **to_alias("citizen_id", HUNG_CITIZEN_ID)),
    )

    for order_id in ("BATCH-1", "BATCH-2", "BATCH-3"):
        assert_settled(sandbox, VIETCOMBANK, order_id)
    assert balance(sandbox, VIETCOMBANK, DUC) == 4_000_000
    assert balance(sandbox, BIDV, AN) == 1_000_000
    assert balance(sandbox, VIETTEL_MONEY, BINH) == 2_000_000
    assert balance(sandbox, VIETINBANK, HUNG) == 8_000_000
    assert_invariants(sandbox)


# --- refusals ----------------------------------------------------------------------------------


def test_a_payment_above_the_customers_balance_is_refused_by_their_own_bank_with_am04(storage: Storage) -> None:
    sandbox = network(storage)

    pay(sandbox, VIETCOMBANK, order("P-POOR", MAI, 200_000, **to_account(BIDV, AN)))

    assert at_the_bank(sandbox, VIETCOMBANK, "P-POOR") == (OutboundStatus.REJECTED.value, StatusReason.AM04.value)
    with pytest.raises(TransferNotFound):  # refused at home: the switch never saw it
        sandbox.switch.transfer_status(VIETCOMBANK, "P-POOR")
    assert sandbox.switch.clearing_summary() == []
    assert balance(sandbox, VIETCOMBANK, MAI) == 1_000
    assert balance(sandbox, BIDV, AN) == 0
    assert_invariants(sandbox)


def test_the_switch_refuses_a_payment_over_the_debtor_banks_net_debit_cap_with_am04(storage: Storage) -> None:
    participants = with_participant(VIETINBANK, prefund_vnd=1_000_000, net_debit_cap_vnd=500_000)
    sandbox = network(storage, participants)

    pay(sandbox, VIETINBANK, order("CAP-1", HUNG, 1_200_000, **to_account(BIDV, AN)))  # 200,000 into the cap
    pay(sandbox, VIETINBANK, order("CAP-2", HUNG, 400_000, **to_account(BIDV, AN)))  # only 300,000 left

    assert_settled(sandbox, VIETINBANK, "CAP-1")
    assert_rejected(sandbox, VIETINBANK, "CAP-2", StatusReason.AM04)
    position = sandbox.switch.positions()[VIETINBANK]
    assert (position.liquidity_vnd, position.available_vnd, position.reserved_vnd) == (-200_000, 300_000, 0)
    assert balance(sandbox, VIETINBANK, HUNG) == 3_800_000
    assert balance(sandbox, BIDV, AN) == 1_200_000

    pay(sandbox, VIETINBANK, order("CAP-3", HUNG, 300_000, **to_account(BIDV, AN)))  # exactly what is left

    assert_settled(sandbox, VIETINBANK, "CAP-3")
    assert sandbox.switch.positions()[VIETINBANK].available_vnd == 0
    assert_invariants(sandbox)


@pytest.mark.parametrize(
    ("account", "reason"),
    [
        pytest.param(HOA, StatusReason.AC04, id="closed account AC04"),
        pytest.param(LAN, StatusReason.AC06, id="blocked account AC06"),
        pytest.param("12010000999999", StatusReason.AC01, id="no such account AC01"),
    ],
)
def test_the_creditors_bank_refuses_a_credit_to_an_account_it_cannot_credit(
    storage: Storage, account: str, reason: StatusReason
) -> None:
    sandbox = network(storage)

    pay(sandbox, VIETCOMBANK, order("P-REFUSED", DUC, 300_000, **to_account(BIDV, account)))

    assert_rejected(sandbox, VIETCOMBANK, "P-REFUSED", reason)
    assert balance(sandbox, VIETCOMBANK, DUC) == 10_000_000
    assert sandbox.nodes[BIDV].inbound_counts() == {InboundStatus.REJECTED.value: (1, 300_000)}
    assert_invariants(sandbox)


def test_a_credit_naming_someone_else_as_the_creditor_is_refused_with_be01(storage: Storage) -> None:
    sandbox = network(storage)

    pay(sandbox, VIETCOMBANK, order("P-NAME", DUC, 300_000, creditor_name="TRAN VAN BAO", **to_account(BIDV, AN)))

    assert_rejected(sandbox, VIETCOMBANK, "P-NAME", StatusReason.BE01)
    assert balance(sandbox, BIDV, AN) == 0
    assert_invariants(sandbox)


def test_a_credit_carrying_another_persons_citizen_id_is_refused_with_be01(storage: Storage) -> None:
    sandbox = network(storage)
    external_participant(sandbox)
    transfer = CreditTransfer(
        message_id="DEV-M1",
        end_to_end_id="DEV-E1",
        transaction_id="DEV-T1",
        amount_vnd=300_000,
        debtor=Party(name="NGUYEN THI HUONG"),
        debtor_account="9990001234",
        debtor_agent=DEV_BANK,
        # Lê Văn An's account and name, but somebody else's citizen id.
        creditor=Party(name="Lê Văn An", citizen_id="001090012345"),
        creditor_account=AN,
        creditor_agent=BIDV,
    )

    sandbox.network.inject([Envelope(DEV_BANK, "switch", transfer)])
    sandbox.run()

    report = answers_to_dev_bank(sandbox)["DEV-T1"]
    assert (report.transaction_status, report.status_reason) == (TransactionStatus.RJCT, StatusReason.BE01)
    assert at_the_switch(sandbox, DEV_BANK, "DEV-T1") == (TransactionStatus.RJCT, StatusReason.BE01)
    assert balance(sandbox, BIDV, AN) == 0
    assert sandbox.switch.positions()[DEV_BANK].liquidity_vnd == 1_000_000_000
    assert_invariants(sandbox)


def test_a_wallet_refuses_a_credit_over_the_pilot_monthly_cap_with_am02(storage: Storage) -> None:
    sandbox = network(storage, with_participant(VIETTEL_MONEY, limits=wallet_limits(pilot_2021=True)))

    pay(sandbox, VIETCOMBANK, order("CAP-W1", DUC, 8_000_000, **to_alias("msisdn", BINH)))
    pay(sandbox, VIETINBANK, order("CAP-W2", HUNG, 2_000_001, **to_alias("msisdn", BINH)))  # 10,000,001 this month
    pay(sandbox, VIETINBANK, order("CAP-W3", HUNG, 2_000_000, **to_alias("msisdn", BINH)))  # exactly 10,000,000

    assert_settled(sandbox, VIETCOMBANK, "CAP-W1")
    assert_rejected(sandbox, VIETINBANK, "CAP-W2", StatusReason.AM02)
    assert_settled(sandbox, VIETINBANK, "CAP-W3")
    assert balance(sandbox, VIETTEL_MONEY, BINH) == 10_000_000
    assert balance(sandbox, VIETINBANK, HUNG) == 3_000_000
    assert_invariants(sandbox)


@pytest.mark.parametrize(
    "alias",
    [
        pytest.param(Alias(type=AliasType.MSISDN, value="0987654321"), id="unregistered mobile number"),
        pytest.param(Alias(type=AliasType.CITIZEN_ID, value="079090054321"), id="unregistered citizen id"),
    ],
)
def test_a_payment_to_an_alias_nobody_registered_is_refused_by_the_switch_with_be23(
    storage: Storage, alias: Alias
) -> None:
    sandbox = network(storage)

    pay(sandbox, VIETCOMBANK, order("P-NOBODY", DUC, 300_000, creditor_alias=alias))

    assert_rejected(sandbox, VIETCOMBANK, "P-NOBODY", StatusReason.BE23)
    assert balance(sandbox, VIETCOMBANK, DUC) == 10_000_000
    assert_invariants(sandbox)


def test_the_switch_refuses_a_transfer_above_the_per_transaction_limit_with_am02(storage: Storage) -> None:
    sandbox = network(storage)
    sandbox.open_accounts(VIETCOMBANK, [(Customer("0011009999999", "TRUONG VAN GIAU", "079080099999"), 600_000_000)])

    pay(sandbox, VIETCOMBANK, order("P-BIG", "0011009999999", 500_000_001, **to_account(BIDV, AN)))

    assert_rejected(sandbox, VIETCOMBANK, "P-BIG", StatusReason.AM02)
    assert balance(sandbox, VIETCOMBANK, "0011009999999") == 600_000_000
    assert_invariants(sandbox)


# --- creditors that do not answer --------------------------------------------------------------


def test_a_creditor_that_answers_after_the_timeout_ends_ab05_and_its_late_credit_is_reversed(
    storage: Storage,
) -> None:
    late = Behaviour(timeout_rate=1.0, late_answer_ms=30_000)
    sandbox = network(storage, with_participant(BIDV, behaviour=late), creditor_timeout_ms=5_000)

    pay(sandbox, VIETCOMBANK, order("P-LATE", DUC, 500_000, **to_account(BIDV, AN)))

    assert_rejected(sandbox, VIETCOMBANK, "P-LATE", StatusReason.AB05)
    assert sandbox.switch.clearing.late_acceptances_refused >= 1
    assert balance(sandbox, BIDV, AN) == 0
    assert pending_credits(sandbox, BIDV, AN) == 0
    assert sandbox.nodes[BIDV].inbound_counts() == {InboundStatus.REVERSED.value: (1, 500_000)}
    assert balance(sandbox, VIETCOMBANK, DUC) == 10_000_000
    assert_invariants(sandbox)


def test_a_wallet_credit_the_switch_gave_up_on_does_not_count_against_the_monthly_cap(storage: Storage) -> None:
    late = Behaviour(timeout_rate=1.0, late_answer_ms=30_000)
    participants = with_participant(VIETTEL_MONEY, behaviour=late, limits=wallet_limits(pilot_2021=True))
    sandbox = network(storage, participants, creditor_timeout_ms=5_000)

    pay(sandbox, VIETCOMBANK, order("P-CAP-LATE", DUC, 8_000_000, **to_alias("msisdn", BINH)))
    sandbox.nodes[VIETTEL_MONEY].set_behaviour(Behaviour())
    pay(sandbox, VIETCOMBANK, order("P-CAP-AGAIN", DUC, 8_000_000, **to_alias("msisdn", BINH)))

    assert_rejected(sandbox, VIETCOMBANK, "P-CAP-LATE", StatusReason.AB05)
    assert_settled(sandbox, VIETCOMBANK, "P-CAP-AGAIN")  # 8,000,000 received this month, not 16,000,000
    assert balance(sandbox, VIETTEL_MONEY, BINH) == 8_000_000
    assert balance(sandbox, VIETCOMBANK, DUC) == 2_000_000
    assert_invariants(sandbox)


def test_a_creditor_that_answers_slowly_but_within_the_timeout_is_settled(storage: Storage) -> None:
    slow = Behaviour(timeout_rate=1.0, late_answer_ms=3_000)
    sandbox = network(storage, with_participant(BIDV, behaviour=slow), creditor_timeout_ms=5_000)

    pay(sandbox, VIETCOMBANK, order("P-SLOW", DUC, 500_000, **to_account(BIDV, AN)))

    assert_settled(sandbox, VIETCOMBANK, "P-SLOW")
    assert sandbox.switch.clearing.late_acceptances_refused == 0
    assert balance(sandbox, BIDV, AN) == 500_000
    assert_invariants(sandbox)


def test_a_payment_to_an_offline_creditor_ends_ab08(storage: Storage) -> None:
    sandbox = network(storage)
    sandbox.nodes[BIDV].set_behaviour(Behaviour(offline=True))

    pay(sandbox, VIETCOMBANK, order("P-OFFLINE", DUC, 500_000, **to_alias("citizen_id", AN_CITIZEN_ID)))

    assert_rejected(sandbox, VIETCOMBANK, "P-OFFLINE", StatusReason.AB08)
    assert balance(sandbox, VIETCOMBANK, DUC) == 10_000_000
    sandbox.nodes[BIDV].set_behaviour(Behaviour())
    assert balance(sandbox, BIDV, AN) == 0
    assert_invariants(sandbox)


def test_a_bank_that_was_offline_when_its_payment_settled_still_ends_with_the_payment_final(
    storage: Storage,
) -> None:
    """A short outage of the debtor's bank: the switch settles while the bank cannot be reached."""
    sandbox = network(storage, with_participant(BIDV, behaviour=Behaviour(latency_ms=200)))
    start = sandbox.now_ms
    sandbox.pay(VIETCOMBANK, [order("P-OUTAGE", DUC, 500_000, **to_account(BIDV, AN))])
    sandbox.run(until_ms=start + 20)  # the payment has left Vietcombank; BIDV takes ~200 ms to answer
    sandbox.nodes[VIETCOMBANK].set_behaviour(Behaviour(offline=True))
    sandbox.run(until_ms=start + 2_000)  # the switch settles and reports while Vietcombank is down
    sandbox.nodes[VIETCOMBANK].set_behaviour(Behaviour())
    sandbox.run()

    assert at_the_switch(sandbox, VIETCOMBANK, "P-OUTAGE") == (TransactionStatus.ACSC, None)
    assert at_the_bank(sandbox, VIETCOMBANK, "P-OUTAGE") == (OutboundStatus.SETTLED.value, None)
    assert balance(sandbox, VIETCOMBANK, DUC) == 9_500_000
    assert_invariants(sandbox)


def test_a_creditor_that_was_offline_when_its_credit_was_confirmed_still_ends_with_the_credit_settled(
    storage: Storage,
) -> None:
    """A short outage of the creditor's bank right after it accepted: the finality notice finds it down."""
    sandbox = network(storage, with_participant(BIDV, behaviour=Behaviour(latency_ms=1_000)))
    start = sandbox.now_ms
    sandbox.pay(VIETCOMBANK, [order("P-OUTAGE-IN", DUC, 500_000, **to_account(BIDV, AN))])
    sandbox.run(until_ms=start + 100)  # BIDV has credited and its acceptance is on its way (≥ 500 ms)
    assert sandbox.nodes[BIDV].inbound_counts() == {InboundStatus.CREDITED.value: (1, 500_000)}
    sandbox.nodes[BIDV].set_behaviour(Behaviour(latency_ms=1_000, offline=True))
    sandbox.run(until_ms=start + 5_000)  # the switch settles and sends BIDV its notice while BIDV is down
    sandbox.nodes[BIDV].set_behaviour(Behaviour(latency_ms=1_000))
    sandbox.run()

    assert_settled(sandbox, VIETCOMBANK, "P-OUTAGE-IN")
    assert balance(sandbox, VIETCOMBANK, DUC) == 9_500_000
    assert sandbox.nodes[BIDV].inbound_counts() == {InboundStatus.SETTLED.value: (1, 500_000)}
    assert balance(sandbox, BIDV, AN) == 500_000
    assert_invariants(sandbox)


# --- suspension --------------------------------------------------------------------------------


def test_a_payment_to_a_suspended_participant_is_refused_by_the_switch_with_rr04(storage: Storage) -> None:
    sandbox = network(storage)
    sandbox.switch.set_status(VIETTEL_MONEY, ParticipantStatus.SUSPENDED)

    pay(sandbox, VIETCOMBANK, order("P-SUSP", DUC, 500_000, **to_alias("msisdn", BINH)))

    assert_rejected(sandbox, VIETCOMBANK, "P-SUSP", StatusReason.RR04)
    assert sandbox.nodes[VIETTEL_MONEY].inbound_counts() == {}
    assert balance(sandbox, VIETCOMBANK, DUC) == 10_000_000
    assert_invariants(sandbox)


def test_a_payment_from_a_suspended_participant_is_refused_and_resumes_once_reactivated(storage: Storage) -> None:
    sandbox = network(storage)
    sandbox.switch.set_status(VIETCOMBANK, ParticipantStatus.SUSPENDED)

    pay(sandbox, VIETCOMBANK, order("P-SUSP-1", DUC, 500_000, **to_account(BIDV, AN)))
    sandbox.switch.set_status(VIETCOMBANK, ParticipantStatus.ACTIVE)
    pay(sandbox, VIETCOMBANK, order("P-SUSP-2", DUC, 500_000, **to_account(BIDV, AN)))

    assert_rejected(sandbox, VIETCOMBANK, "P-SUSP-1", StatusReason.RR04)
    assert_settled(sandbox, VIETCOMBANK, "P-SUSP-2")
    assert balance(sandbox, VIETCOMBANK, DUC) == 9_500_000
    assert_invariants(sandbox)


# --- status requests ---------------------------------------------------------------------------


def test_a_status_request_answers_the_final_state_of_a_known_transfer_and_noor_for_an_unknown_one(
    storage: Storage,
) -> None:
    sandbox = network(storage)
    pay(
        sandbox,
        VIETCOMBANK,
        order("P-ASK-1", DUC, 400_000, **to_account(BIDV, AN)),
        order("P-ASK-2", DUC, 400_000, **to_account(BIDV, HOA)),
    )
    requests = [
        StatusRequest(message_id="SR-1", original_transaction_id="P-ASK-1", debtor_agent=VIETCOMBANK),
        StatusRequest(message_id="SR-2", original_transaction_id="P-ASK-2", debtor_agent=VIETCOMBANK),
        StatusRequest(message_id="SR-3", original_transaction_id="P-NEVER-SENT", debtor_agent=VIETCOMBANK),
    ]

    # Vietcombank's own pacs.028, handed to the switch as the transport would.
    answers = sandbox.switch.handle([Envelope(VIETCOMBANK, "switch", r) for r in requests], sandbox.now_ms)

    # the three answers go back together, as one pacs.002 to Vietcombank
    [answer] = answers
    assert (answer.sender, answer.receiver) == ("switch", VIETCOMBANK)
    assert isinstance(answer.message, StatusReportMessage)
    reports = {r.original_transaction_id: r for r in answer.message.reports}
    assert len(reports) == len(answer.message.reports) == 3
    known = reports["P-ASK-1"]
    assert (known.transaction_status, known.status_reason, known.amount_vnd) == (
        TransactionStatus.ACSC,
        None,
        400_000,
    )
    assert (known.creditor_agent, known.settled_at_ms is not None) == (BIDV, True)
    rejected = reports["P-ASK-2"]
    assert (rejected.transaction_status, rejected.status_reason) == (TransactionStatus.RJCT, StatusReason.AC04)
    unknown = reports["P-NEVER-SENT"]
    assert (unknown.transaction_status, unknown.status_reason) == (TransactionStatus.RJCT, StatusReason.NOOR)
    assert_invariants(sandbox)


def test_a_status_request_over_the_network_is_answered_to_the_participant_that_asked(storage: Storage) -> None:
    sandbox = network(storage)
    pay(sandbox, VIETCOMBANK, order("P2P-1", DUC, 100_000, **to_account(BIDV, AN)))
    external_participant(sandbox)
    transfer = CreditTransfer(
        message_id="DEV-M2",
        end_to_end_id="DEV-E2",
        transaction_id="DEV-T2",
        amount_vnd=300_000,
        debtor=Party(name="NGUYEN THI HUONG"),
        debtor_account="9990001234",
        debtor_agent=DEV_BANK,
        creditor_alias=Alias(type=AliasType.MSISDN, value="0987654321"),  # nobody's
    )
    sandbox.network.inject([Envelope(DEV_BANK, "switch", transfer)])
    sandbox.run()
    sandbox.network.mailboxes[DEV_BANK].clear()

    asked = [
        StatusRequest(message_id="SR-K", original_transaction_id="DEV-T2", debtor_agent=DEV_BANK),
        StatusRequest(message_id="SR-U", original_transaction_id="DEV-T9", debtor_agent=DEV_BANK),
        # Vietcombank's transaction id is not Dev Bank's to ask about: to Dev Bank it is unknown.
        StatusRequest(message_id="SR-O", original_transaction_id="P2P-1", debtor_agent=DEV_BANK),
    ]
    sandbox.network.inject([Envelope(DEV_BANK, "switch", r) for r in asked])
    sandbox.run()

    reports = answers_to_dev_bank(sandbox)
    assert len(reports) == 3
    assert [type(e.message) for e in sandbox.network.mailboxes[DEV_BANK]] == [StatusReportMessage]  # in one pacs.002
    assert (reports["DEV-T2"].transaction_status, reports["DEV-T2"].status_reason) == (
        TransactionStatus.RJCT,
        StatusReason.BE23,
    )
    assert (reports["DEV-T9"].transaction_status, reports["DEV-T9"].status_reason) == (
        TransactionStatus.RJCT,
        StatusReason.NOOR,
    )
    assert reports["P2P-1"].status_reason == StatusReason.NOOR
    assert_invariants(sandbox)
