"""Properties of the whole network under random payments and random faults (hypothesis).

Whatever the customers ask for — amounts above their balances or the per-transaction limit, closed
accounts, unknown accounts, unknown aliases, a bank that is not a participant — and whatever the
links and participants do — duplicate messages, creditors that reject at random, answer late or go
offline for a while — once the network is quiet:

- money is conserved across all ledgers (the invariants of `network.checks`);
- no transfer moves money twice: every customer holds exactly their opening balance plus what the
  switch settled to them less what it settled from them;
- every payment is in exactly one final state, and the debtor's bank and the switch agree on it.

Each example builds a fresh network on in-memory SQLite and stays small (a few dozen payments).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from banks import repository as bank_repository
from banks.node import customer_account
from banks.schemas import AccountStatus, Behaviour, Customer, OutboundStatus, PaymentOrder
from network.checks import check_invariants
from network.inprocess import LinkFaults
from network.participants import DEFAULT_PARTICIPANTS, ParticipantSpec
from network.sandbox import Sandbox
from network.storage import Storage
from switch.errors import TransferNotFound
from switch.scheme.codes import AliasType, RegistrationOutcome, StatusReason, TransactionStatus
from switch.scheme.messages import Alias, AliasRegistration
from wallets.node import new_wallet, wallet_limits

VIETCOMBANK, BIDV, VIETINBANK, AGRIBANK, VBSP = "970436", "970418", "970415", "970405", "999888"
VIETTEL_MONEY, VNPT_MONEY = "971005", "971011"
TECHCOMBANK = "970407"  # a real bank that is not a participant of this sandbox
PARTICIPANT_BINS = [p.bin for p in DEFAULT_PARTICIPANTS]

# (bin, account, holder name as the bank stores it, citizen id, status)
PEOPLE: list[tuple[str, str, str, str, AccountStatus]] = [
    (VIETCOMBANK, "0011001234567", "NGUYEN VAN DUC", "001090012345", AccountStatus.ACTIVE),
    (VIETCOMBANK, "0011001234568", "TRAN THI MAI", "079185012345", AccountStatus.ACTIVE),
    (BIDV, "12010000123456", "LE VAN AN", "048070012345", AccountStatus.ACTIVE),
    (BIDV, "12010000123457", "PHAM THI HOA", "048170012346", AccountStatus.CLOSED),
    (VIETINBANK, "108000123456", "DANG VAN HUNG", "038088012345", AccountStatus.ACTIVE),
    (AGRIBANK, "1500205123456", "BUI THI THU", "040192012345", AccountStatus.BLOCKED),
    (VBSP, "8800012345", "LY VAN TAM", "096075012345", AccountStatus.ACTIVE),
    (VIETTEL_MONEY, "0961234567", "HOANG VAN BINH", "036085012345", AccountStatus.ACTIVE),
    (VNPT_MONEY, "0912345678", "NGO THI NGA", "001186012346", AccountStatus.ACTIVE),
]

# Registered in the directory by their owners, through the citizen app (name as typed, with diacritics).
ALIASES: list[tuple[Alias, str, int]] = [
    (Alias(type=AliasType.CITIZEN_ID, value="048070012345"), "Lê Văn An", 2),
    (Alias(type=AliasType.CITIZEN_ID, value="038088012345"), "Đặng Văn Hùng", 4),
    (Alias(type=AliasType.CITIZEN_ID, value="096075012345"), "Lý Văn Tâm", 6),
    (Alias(type=AliasType.MSISDN, value="0961234567"), "Hoàng Văn Bình", 7),
    (Alias(type=AliasType.MSISDN, value="0912345678"), "Ngô Thị Nga", 8),
]
UNKNOWN_ALIASES = [
    Alias(type=AliasType.MSISDN, value="0987654321"),
    Alias(type=AliasType.CITIZEN_ID, value="079090054321"),
]


def customer(index: int) -> Customer:
    bin_code, account, name, citizen_id, status = PEOPLE[index]
    if bin_code in (VIETTEL_MONEY, VNPT_MONEY):
        return new_wallet(account, name, citizen_id, status=status)
    return Customer(account, name, citizen_id, status)


# --- strategies ----------------------------------------------------------------------------------

amounts = st.one_of(
    st.integers(1, 3_000_000),
    st.sampled_from([5_000_000, 10_000_001, 500_000_000, 500_000_001]),  # above balances, caps and the limit
)
creditors = st.one_of(
    st.builds(lambda i: ("account", i), st.integers(0, len(PEOPLE) - 1)),  # incl. closed and blocked accounts
    st.builds(lambda i: ("alias", i), st.integers(0, len(ALIASES) - 1)),
    st.builds(lambda i: ("unknown alias", i), st.integers(0, len(UNKNOWN_ALIASES) - 1)),
    st.builds(lambda b: ("unknown account", b), st.sampled_from([VIETCOMBANK, BIDV, VNPT_MONEY])),
    st.just(("unknown bank", TECHCOMBANK)),
)


@dataclass(frozen=True)
class Payment:
    debtor: int  # index into PEOPLE
    creditor: tuple[str, Any]
    amount_vnd: int
    at_ms: int  # when the customer asks, from the start of the run


payments = st.builds(Payment, st.integers(0, len(PEOPLE) - 1), creditors, amounts, st.integers(0, 15_000))


@st.composite
def behaviours(draw: st.DrawFn, timeout_ms: int) -> Behaviour:
    return Behaviour(
        latency_ms=draw(st.integers(1, 200)),
        reject_rate=draw(st.sampled_from([0.0, 0.0, 0.1, 0.3])),
        reject_reason=draw(st.sampled_from([StatusReason.AC06, StatusReason.AM02, StatusReason.BE01])),
        timeout_rate=draw(st.sampled_from([0.0, 0.0, 0.2, 0.5])),
        # late: just or long after the switch gave up; slow: still in time
        late_answer_ms=draw(st.sampled_from([timeout_ms + 1, timeout_ms * 3, timeout_ms // 2])),
    )


@dataclass(frozen=True)
class World:
    seed: int
    duplicate_rate: float
    creditor_timeout_ms: int
    participants: tuple[ParticipantSpec, ...]
    behaviours: dict[str, Behaviour]
    opening: tuple[int, ...]


@st.composite
def worlds(draw: st.DrawFn) -> World:
    timeout = draw(st.sampled_from([2_000, 5_000]))
    tight_vietinbank = draw(st.booleans())  # a small prefund and cap: the switch refuses AM04
    pilot_viettel = draw(st.booleans())  # the 2021 pilot's 10,000,000 VND monthly cap: AM02
    participants = tuple(
        dataclasses.replace(p, prefund_vnd=2_000_000, net_debit_cap_vnd=1_000_000)
        if p.bin == VIETINBANK and tight_vietinbank
        else dataclasses.replace(p, limits=wallet_limits(pilot_2021=True))
        if p.bin == VIETTEL_MONEY and pilot_viettel
        else p
        for p in DEFAULT_PARTICIPANTS
    )
    faulty = draw(st.lists(st.sampled_from(PARTICIPANT_BINS), max_size=4, unique=True))
    return World(
        seed=draw(st.integers(0, 2**32 - 1)),
        duplicate_rate=draw(st.sampled_from([0.0, 0.05, 0.3]) | st.floats(0.0, 0.3)),
        creditor_timeout_ms=timeout,
        participants=participants,
        behaviours={b: draw(behaviours(timeout)) for b in faulty},
        opening=tuple(draw(st.lists(st.integers(0, 12_000_000), min_size=len(PEOPLE), max_size=len(PEOPLE)))),
    )


# --- building and checking ------------------------------------------------------------------------


def build(storage: Storage, world: World) -> Sandbox:
    sandbox = Sandbox(
        storage,
        participants=world.participants,
        seed=world.seed,
        faults=LinkFaults(duplicate_rate=world.duplicate_rate),
        creditor_timeout_ms=world.creditor_timeout_ms,
    )
    by_bin: dict[str, list[tuple[Customer, int]]] = defaultdict(list)
    for index, opening in enumerate(world.opening):
        by_bin[PEOPLE[index][0]].append((customer(index), opening))
    for bin_code, accounts in by_bin.items():
        sandbox.open_accounts(bin_code, accounts)
    sandbox.register(
        [
            AliasRegistration(
                request_id=f"REG-{n}",
                alias=alias,
                name=name,
                citizen_id=PEOPLE[owner][3],
                agent=PEOPLE[owner][0],
                account=PEOPLE[owner][1],
            )
            for n, (alias, name, owner) in enumerate(ALIASES)
        ]
    )
    sandbox.run()
    # A link may deliver a report to the citizen app twice: one outcome per request is what counts.
    outcomes = {r.original_request_id: r.outcome for r in sandbox.registration_reports()}
    assert outcomes == {f"REG-{n}": RegistrationOutcome.REGISTERED for n in range(len(ALIASES))}
    for bin_code, behaviour in world.behaviours.items():  # faults start once the directory is set up
        sandbox.nodes[bin_code].set_behaviour(behaviour)
    return sandbox


def order_for(order_id: str, payment: Payment) -> PaymentOrder:
    kind, value = payment.creditor
    debtor = PEOPLE[payment.debtor][1]
    if kind == "account":
        creditor: dict[str, Any] = {"creditor_agent": PEOPLE[value][0], "creditor_account": PEOPLE[value][1]}
    elif kind == "alias":
        creditor = {"creditor_alias": ALIASES[value][0]}
    elif kind == "unknown alias":
        creditor = {"creditor_alias": UNKNOWN_ALIASES[value]}
    else:
        creditor = {"creditor_agent": value, "creditor_account": "99999999"}
    return PaymentOrder(order_id=order_id, debtor_account=debtor, amount_vnd=payment.amount_vnd, **creditor)


def submit(sandbox: Sandbox, start_ms: int, plan: list[Payment]) -> list[tuple[str, PaymentOrder]]:
    """Each payment reaches its customer's bank at its time; returns (debtor bin, order) in order."""
    orders = []
    for number, payment in enumerate(plan):
        bin_code = PEOPLE[payment.debtor][0]
        order = order_for(f"P{number:03d}", payment)
        sandbox.pay(bin_code, [order], at_ms=start_ms + payment.at_ms)
        orders.append((bin_code, order))
    return orders


def outbound(sandbox: Sandbox, bin_code: str, order_id: str) -> dict[str, Any] | None:
    node = sandbox.nodes[bin_code]
    with node.engine.begin() as conn:
        return bank_repository.load_outbound(conn, [order_id]).get(order_id)


def assert_every_payment_final_and_paid_at_most_once(
    sandbox: Sandbox, world: World, orders: list[tuple[str, PaymentOrder]], all_reach_their_bank: bool = True
) -> None:
    report = check_invariants(sandbox)
    assert report.failures == []

    expected = {(PEOPLE[i][0], PEOPLE[i][1]): world.opening[i] for i in range(len(PEOPLE))}
    seen: set[tuple[str, str]] = set()
    for bin_code, order in orders:
        if (bin_code, order.order_id) in seen:
            continue
        seen.add((bin_code, order.order_id))
        row = outbound(sandbox, bin_code, order.order_id)
        try:
            record = sandbox.switch.transfer_status(bin_code, order.order_id)
        except TransferNotFound:
            record = None
        if row is None:  # the bank was offline when its customer asked: the order never entered
            assert not all_reach_their_bank, f"{order.order_id} never reached {bin_code}"
            assert record is None
            continue
        assert row["status"] in (OutboundStatus.SETTLED.value, OutboundStatus.REJECTED.value), order.order_id
        if record is None:  # refused at home: funds, or the debtor's own account
            assert row["status"] == OutboundStatus.REJECTED.value
            assert row["reason"] in ("AM04", "AC04", "AC06", "AC01"), (order.order_id, row)
            continue
        assert record.status.is_final, (order.order_id, record)
        assert (record.status == TransactionStatus.ACSC) == (row["status"] == OutboundStatus.SETTLED.value), (
            order.order_id,
            record,
            row,
        )
        if record.status == TransactionStatus.RJCT:
            assert record.reason is not None, (order.order_id, record)
            assert row["reason"] == record.reason.value, (order.order_id, record, row)
        else:
            assert record.amount_vnd == order.amount_vnd
            assert record.creditor_agent is not None and record.creditor_account is not None, (order.order_id, record)
            expected[bin_code, order.debtor_account] -= record.amount_vnd
            expected[record.creditor_agent, record.creditor_account] += record.amount_vnd

    held = {
        (bin_code, account): sandbox.nodes[bin_code].balances()[customer_account(account)].balance_vnd
        for bin_code, account in expected
    }
    assert held == expected


def dispose(sandbox: Sandbox) -> None:
    sandbox.switch.engine.dispose()
    for node in sandbox.nodes.values():
        node.engine.dispose()


# --- properties -----------------------------------------------------------------------------------


@settings(max_examples=30)
@given(world=worlds(), plan=st.lists(payments, min_size=1, max_size=30))
def test_whatever_the_payments_and_the_faults_money_is_conserved_and_every_payment_ends_once(
    memory_storage: Storage, world: World, plan: list[Payment]
) -> None:
    sandbox = build(memory_storage, world)
    try:
        orders = submit(sandbox, sandbox.now_ms, plan)
        sandbox.run()

        assert_every_payment_final_and_paid_at_most_once(sandbox, world, orders)
    finally:
        dispose(sandbox)


@settings(max_examples=30)
@given(
    world=worlds(),
    plan=st.lists(payments, min_size=1, max_size=30),
    resubmit_after_ms=st.integers(0, 20_000),
)
def test_submitting_the_same_payment_orders_twice_moves_the_money_once(
    memory_storage: Storage, world: World, plan: list[Payment], resubmit_after_ms: int
) -> None:
    sandbox = build(memory_storage, world)
    try:
        start = sandbox.now_ms
        orders = submit(sandbox, start, plan)
        # The customer presses "send" again: the same orders, later (maybe while the first are in flight).
        again = submit(sandbox, start + resubmit_after_ms, plan)
        assert [o for _b, o in again] == [o for _b, o in orders]
        sandbox.run()

        assert_every_payment_final_and_paid_at_most_once(sandbox, world, orders)
        settled = sum(1 for b, o in orders if (outbound(sandbox, b, o.order_id) or {}).get("status") == "settled")
        assert check_invariants(sandbox).settled_count == settled
    finally:
        dispose(sandbox)


@dataclass(frozen=True)
class Outage:
    payment: int  # the outage starts shortly after this payment was asked for...
    whose: str  # ...and hits its debtor's bank, its creditor's, or any participant
    any_bin: str
    after_ms: int
    for_ms: int


outages = st.builds(
    Outage,
    st.integers(0, 29),
    st.sampled_from(["debtor", "creditor", "any"]),
    st.sampled_from(PARTICIPANT_BINS),
    st.integers(0, 60) | st.integers(0, 3_000),  # within a round trip, or within a creditor timeout
    st.integers(1, 20_000),
)


def outage_target(outage: Outage, plan: list[Payment]) -> tuple[str, int]:
    """The participant that goes down and when, from the start of the run."""
    payment = plan[outage.payment % len(plan)]
    kind, value = payment.creditor
    if outage.whose == "debtor":
        down = PEOPLE[payment.debtor][0]
    elif outage.whose == "creditor" and kind == "account":
        down = PEOPLE[value][0]
    elif outage.whose == "creditor" and kind == "alias":
        down = PEOPLE[ALIASES[value][2]][0]
    elif outage.whose == "creditor" and kind == "unknown account":
        down = value
    else:
        down = outage.any_bin
    return down, payment.at_ms + outage.after_ms


CALM = World(
    seed=1,
    duplicate_rate=0.0,
    creditor_timeout_ms=5_000,
    participants=DEFAULT_PARTICIPANTS,
    behaviours={},
    opening=(5_000_000,) * len(PEOPLE),
)


@settings(max_examples=40)
@given(world=worlds(), plan=st.lists(payments, min_size=1, max_size=30), outage=outages)
# Vietcombank goes down right after its customer's payment left: the switch settles while it is down.
@example(world=CALM, plan=[Payment(0, ("account", 2), 1_000, 0)], outage=Outage(0, "debtor", "", 0, 2_000))
# BIDV credits, answers after the switch gave up, and is down when the notices to reverse the credit come.
@example(
    world=dataclasses.replace(CALM, behaviours={BIDV: Behaviour(timeout_rate=1.0, late_answer_ms=6_000)}),
    plan=[Payment(0, ("account", 2), 1_000, 0)],
    outage=Outage(0, "creditor", "", 100, 10_000),
)
def test_a_participant_going_offline_for_a_while_mid_run_loses_no_money_and_leaves_nothing_pending(
    memory_storage: Storage, world: World, plan: list[Payment], outage: Outage
) -> None:
    sandbox = build(memory_storage, world)
    try:
        start = sandbox.now_ms
        orders = submit(sandbox, start, plan)
        down, down_from_ms = outage_target(outage, plan)
        node = sandbox.nodes[down]
        sandbox.run(until_ms=start + down_from_ms)
        node.set_behaviour(dataclasses.replace(node.behaviour, offline=True))
        sandbox.run(until_ms=start + down_from_ms + outage.for_ms)
        node.set_behaviour(dataclasses.replace(node.behaviour, offline=False))
        sandbox.run()

        assert_every_payment_final_and_paid_at_most_once(sandbox, world, orders, all_reach_their_bank=False)
    finally:
        dispose(sandbox)
