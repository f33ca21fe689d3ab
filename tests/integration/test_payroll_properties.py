"""Properties of the welfare payroll under random payrolls and random participant behaviour (hypothesis).

Whatever the rolls hold (deceased beneficiaries, names that do not match, unknown citizen ids, people
without an account, accounts closed or blocked since registering, wallets near their cap) and whatever
the network does (creditors that reject at random, answer late or too late, go offline and come back
at random times; links that deliver a message twice; the payer sending a file twice, or a second
file that repeats beneficiaries of the first), once every participant is back and the network is quiet:

- the reconciliation holds per disbursement: paid + cash + held = submitted, in count and in VND, and what
  the switch counts as paid is what the banks and wallets credited for the disbursement;
- each beneficiary is paid at most once per program and cycle, across disbursements, and their account
  gained exactly what their PAID items say;
- every item is final, and its outcome follows the identity check and the account's state;
- the network's invariants hold (`network.checks`).

Each example builds a fresh network on in-memory SQLite with a few dozen people.
"""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from payroll_helpers import (
    ALL_BINS,
    BANKS,
    MOBIFONE_MONEY,
    TREASURY_BIN,
    PayrollWorld,
    make_world,
    other_given_name,
    paid_keys,
    unknown_citizen_ids,
)

from banks.schemas import AccountStatus, Behaviour
from network.inprocess import LinkFaults
from network.storage import Storage
from payer.rolls import Beneficiary
from switch.disbursements.schemas import ATTEMPTS_MAX, DisbursementRecord
from switch.scheme.codes import DisbursementStatus, ItemStatus, StatusReason
from switch.scheme.disbursement import DisbursementFile
from switch.scheme.summary import Cell
from wallets.node import PILOT_2021_MONTHLY_INFLOW_CAP_VND, wallet_limits

FINAL = {ItemStatus.PAID, ItemStatus.CASH, ItemStatus.HELD}
# What the creditor side can answer for an item whose beneficiary passed the identity check.
CREDITOR_REASONS = {
    StatusReason.AC04,
    StatusReason.AC06,
    StatusReason.AM02,
    StatusReason.AB05,
    StatusReason.AB08,
}


@dataclass(frozen=True)
class Outage:
    bin: str
    start_ms: int  # often a few ms after a file went in: while its credits are still open
    length_s: int  # long enough and the retries run out: AB08, cash


@dataclass(frozen=True)
class Plan:
    size: int
    seed: int
    holders: tuple[str | None, ...]  # per person: the BIN of their registered account, or none
    deceased: frozenset[int]
    typos: frozenset[int]
    strangers: int
    closed: frozenset[int]
    blocked: frozenset[int]
    near_cap: frozenset[int]
    behaviours: tuple[tuple[str, Behaviour], ...]
    outages: tuple[Outage, ...]
    duplicate_rate: float
    submit_at_s: tuple[int, ...]  # the roll split into this many files, each sent at its time
    resend_at_s: int | None  # the first file sent again, unchanged, this long after
    repeat: int  # a later file repeats the first `repeat` beneficiaries under a new message id
    repeat_at_s: int


behaviours = st.builds(
    Behaviour,
    latency_ms=st.integers(1, 300),
    timeout_rate=st.sampled_from([0.0, 0.0, 0.2, 0.5]),
    late_answer_ms=st.sampled_from([1_000, 8_000, 40_000]),
    reject_rate=st.sampled_from([0.0, 0.0, 0.15, 0.4]),
    reject_reason=st.sampled_from([StatusReason.AC06, StatusReason.AC04, StatusReason.AB05, StatusReason.AM02]),
)


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    size = draw(st.integers(20, 50))
    indices = st.sets(st.integers(0, size - 1), max_size=3)
    holders = tuple(draw(st.lists(st.sampled_from([None, *ALL_BINS, *BANKS]), min_size=size, max_size=size)))
    banked = [n for n, h in enumerate(holders) if h is not None]
    banked_subset = st.sets(st.sampled_from(banked), max_size=2) if banked else st.just(set[int]())
    at_mobifone = [n for n, h in enumerate(holders) if h == MOBIFONE_MONEY]
    tuned = draw(st.lists(st.tuples(st.sampled_from(ALL_BINS), behaviours), max_size=3, unique_by=lambda t: t[0]))
    submit_at_s = draw(st.lists(st.integers(0, 60), min_size=1, max_size=3))
    starts = st.builds(
        lambda s, ms: s * 1000 + ms,
        st.sampled_from([0, *submit_at_s]) | st.integers(0, 60),
        st.sampled_from([0, 3, 10, 30, 100, 300]),
    )
    outages = draw(
        st.lists(
            st.builds(Outage, st.sampled_from(ALL_BINS), starts, st.integers(1, 150)),
            max_size=2,
            unique_by=lambda o: o.bin,
        )
    )
    return Plan(
        size=size,
        seed=draw(st.integers(0, 10_000)),
        holders=holders,
        deceased=frozenset(draw(indices)),
        typos=frozenset(draw(indices)),
        strangers=draw(st.integers(0, 2)),
        closed=frozenset(draw(banked_subset)),
        blocked=frozenset(draw(banked_subset)),
        near_cap=frozenset(draw(st.sets(st.sampled_from(at_mobifone), max_size=2)) if at_mobifone else set()),
        behaviours=tuple(tuned),
        outages=tuple(outages),
        duplicate_rate=draw(st.sampled_from([0.0, 0.0, 0.1, 0.3])),
        submit_at_s=tuple(submit_at_s),
        resend_at_s=draw(st.none() | st.integers(0, 40)),
        repeat=draw(st.integers(0, size)),
        repeat_at_s=draw(st.integers(0, 40)),
    )


@dataclass
class Expectation:
    """What the identity check and the accounts' states decide before any creditor answers."""

    held: dict[str, StatusReason] = field(default_factory=dict)
    cash: dict[str, StatusReason] = field(default_factory=dict)  # decided at the switch or by the account
    late_cash: dict[str, StatusReason] = field(default_factory=dict)  # the creditor's answer, if it is the first


def build(plan: Plan) -> tuple[PayrollWorld, list[Beneficiary], Expectation]:
    pilot = {MOBIFONE_MONEY: {"limits": wallet_limits(pilot_2021=True)}}
    banked = {n: h for n, h in enumerate(plan.holders) if h is not None}
    world = make_world(Storage(), size=plan.size, seed=plan.seed, banked=banked, overrides=pilot)
    expect = Expectation()
    people = world.people
    for n in sorted(plan.deceased):
        world.registry.record_death(people[n].citizen_id)
        expect.held.setdefault(people[n].citizen_id, StatusReason.MD07)
    rolls = list(world.rolls)
    for n in sorted(plan.typos):
        b = rolls[n]
        rolls[n] = Beneficiary(b.citizen_id, other_given_name(b.name), b.program, b.coefficient_tenths)
        expect.held.setdefault(b.citizen_id, StatusReason.BE01)
    for citizen_id in unknown_citizen_ids(world.registry, plan.strangers, plan.seed):
        rolls.append(Beneficiary(citizen_id, "Nguyễn Văn Lạ", rolls[0].program, rolls[0].coefficient_tenths))
        expect.held[citizen_id] = StatusReason.BE16
    for n, holder in enumerate(plan.holders):
        if holder is None:
            expect.cash.setdefault(people[n].citizen_id, StatusReason.BE23)
    for indices, status, reason in (
        (plan.closed, AccountStatus.CLOSED, StatusReason.AC04),
        (plan.blocked, AccountStatus.BLOCKED, StatusReason.AC06),
    ):
        for n in sorted(indices):
            bin_code, account = world.accounts[people[n].citizen_id]
            world.sandbox.nodes[bin_code].set_account_status(account, status)
            expect.late_cash[people[n].citizen_id] = reason
    near = [world.accounts[people[n].citizen_id][1] for n in sorted(plan.near_cap)]
    world.sandbox.nodes[MOBIFONE_MONEY].record_inflows(
        [(a, "2026-12", PILOT_2021_MONTHLY_INFLOW_CAP_VND) for a in near]
    )
    for n in sorted(plan.near_cap):
        expect.late_cash.setdefault(people[n].citizen_id, StatusReason.AM02)
    for bin_code, behaviour in plan.behaviours:
        world.sandbox.nodes[bin_code].set_behaviour(behaviour)
    world.sandbox.network.faults = LinkFaults(duplicate_rate=plan.duplicate_rate)
    return world, rolls, expect


def play(plan: Plan) -> tuple[PayrollWorld, list[DisbursementRecord], list[Beneficiary], Expectation]:
    """Submit and run the plan: files, resends and outages at their times, then everyone back online."""
    world, rolls, expect = build(plan)
    items = world.items(rolls)
    chunk = -(-len(items) // len(plan.submit_at_s))
    files = [world.file(items[start : start + chunk]) for start in range(0, len(items), chunk)]
    events: list[tuple[int, int, str, object]] = [
        (at_s * 1000, n, "submit", f) for n, (at_s, f) in enumerate(zip(plan.submit_at_s, files, strict=False))
    ]
    if plan.resend_at_s is not None:
        events.append((plan.resend_at_s * 1000, 10, "submit", files[0]))
    if plan.repeat:
        # The same beneficiaries, numbered afresh (other end-to-end ids), in a file of their own.
        repeated = world.file(world.items(rolls[: plan.repeat]), message_id="MOLISA-REPEAT")
        events.append((plan.repeat_at_s * 1000, 11, "submit", repeated))
    for outage in plan.outages:
        events.append((outage.start_ms, 0, "down", outage.bin))
        events.append((outage.start_ms + outage.length_s * 1000, 1, "up", outage.bin))
    behaviour = dict(plan.behaviours)
    start = world.sandbox.now_ms
    disbursements: dict[int, DisbursementRecord] = {}
    for at_ms, _order, action, subject in sorted(events, key=lambda e: (e[0], e[1])):
        world.run(start + at_ms)
        if action == "submit":
            assert isinstance(subject, DisbursementFile)
            disbursement = world.submit(subject)
            disbursements.setdefault(disbursement.id, disbursement)
        else:
            assert isinstance(subject, str)
            base = behaviour.get(subject, Behaviour())
            world.sandbox.nodes[subject].set_behaviour(dataclasses.replace(base, offline=action == "down"))
    world.run()
    return world, list(disbursements.values()), rolls, expect


def assert_payroll_holds(
    world: PayrollWorld, disbursements: list[DisbursementRecord], rolls: list[Beneficiary]
) -> None:
    """The properties every payroll keeps, whatever happened on the way."""
    network_disbursements = world.switch.disbursements(TREASURY_BIN)
    assert sorted(b.id for b in network_disbursements) == sorted(b.id for b in disbursements)
    received: dict[str, int] = defaultdict(int)
    submitted_keys: Counter[tuple[str, str, str]] = Counter()
    for disbursement in network_disbursements:
        items = world.disbursement_items(disbursement.id)
        assert disbursement.status != DisbursementStatus.RUNNING, disbursement
        if not items:  # every row refused (repeats of earlier files): nothing accepted, nothing moved
            assert disbursement.items_total == 0 and world.credited(disbursement.id) == (0, 0), disbursement
            continue
        assert disbursement.status == DisbursementStatus.COMPLETED, disbursement
        assert {i.status for i in items} <= FINAL, "every item is final"
        by_status: dict[ItemStatus, list[int]] = defaultdict(lambda: [0, 0])
        for item in items:
            by_status[item.status][0] += 1
            by_status[item.status][1] += item.amount_vnd
            submitted_keys[(item.program.value, item.cycle, item.citizen_id)] += 1
            if item.status == ItemStatus.PAID:
                received[item.citizen_id] += item.amount_vnd
        total = [sum(v[0] for v in by_status.values()), sum(v[1] for v in by_status.values())]
        assert total == [disbursement.items_total, disbursement.amount_total_vnd], "paid + cash + held = submitted"
        reconciliation = world.summary(disbursement.id).reconciliation
        assert reconciliation.balanced
        for status in (ItemStatus.PAID, ItemStatus.CASH, ItemStatus.HELD):
            count, amount = by_status.get(status, [0, 0])
            assert getattr(reconciliation, status.value) == Cell(count=count, amount_vnd=amount)
        paid = by_status.get(ItemStatus.PAID, [0, 0])
        assert world.credited(disbursement.id) == tuple(paid), "paid = what the banks and wallets credited"
    # Every beneficiary on the roll was accepted in exactly one disbursement, however often the payer sent them.
    assert set(submitted_keys.values()) <= {1}
    assert set(submitted_keys) == {(b.program.value, "2026-12", b.citizen_id) for b in rolls}
    keys = paid_keys(world, [b.id for b in network_disbursements])
    assert set(keys.values()) <= {1}, "paid at most once per program and cycle"
    for citizen_id in world.accounts:
        assert world.received(citizen_id) == received.get(citizen_id, 0), citizen_id
    world.check()


def assert_outcomes_follow_the_rules(world: PayrollWorld, expect: Expectation) -> None:
    for disbursement in world.switch.disbursements(TREASURY_BIN):
        for item in world.disbursement_items(disbursement.id):
            got = (item.status, item.reason)
            if item.citizen_id in expect.held:
                assert got == (ItemStatus.HELD, expect.held[item.citizen_id]), item
            elif item.citizen_id in expect.cash:
                assert got == (ItemStatus.CASH, expect.cash[item.citizen_id]), item
            elif item.citizen_id in expect.late_cash:
                # The account refuses every attempt, unless the creditor agent failed first.
                assert item.status == ItemStatus.CASH, item
                assert item.reason in {expect.late_cash[item.citizen_id], *CREDITOR_REASONS}, item
            else:
                assert item.status in (ItemStatus.PAID, ItemStatus.CASH), item
                if item.status == ItemStatus.CASH:
                    assert item.reason in CREDITOR_REASONS, item


@settings(max_examples=40)
@given(plans())
def test_a_payroll_under_random_faults_reconciles_pays_each_beneficiary_at_most_once_and_ends_final(
    plan: Plan,
) -> None:
    world, disbursements, rolls, expect = play(plan)
    try:
        assert_payroll_holds(world, disbursements, rolls)
        assert_outcomes_follow_the_rules(world, expect)
    finally:
        world.sandbox.close()


@settings(max_examples=15)
@given(
    size=st.integers(20, 40),
    seed=st.integers(0, 10_000),
    bins=st.lists(st.sampled_from(ALL_BINS), min_size=1, max_size=3, unique=True),
    down_s=st.integers(0, 200),
)
def test_an_outage_of_any_length_pays_each_item_once_or_puts_it_on_the_cash_list_with_ab08(
    size: int, seed: int, bins: list[str], down_s: int
) -> None:
    """However long the creditors are down, an item is paid once or, once the attempts run out, cash."""
    world = make_world(Storage(), size=size, seed=seed)
    for bin_code in bins:
        world.sandbox.nodes[bin_code].set_behaviour(Behaviour(offline=True))
    disbursement = world.submit(world.file(world.items()))
    world.run(world.sandbox.now_ms + down_s * 1000)
    for bin_code in bins:
        world.sandbox.nodes[bin_code].set_behaviour(Behaviour())
    world.run()
    cash = (ItemStatus.CASH, StatusReason.AB08, ATTEMPTS_MAX)
    for item in world.disbursement_items(disbursement.id):
        outcome = (item.status, item.reason, item.attempts)
        if item.creditor_agent not in bins or down_s == 0:  # back before the first attempt arrived
            assert outcome == (ItemStatus.PAID, None, 1), item
        elif down_s <= 25:  # back before the first retry (30 s after the first attempt)
            assert outcome == (ItemStatus.PAID, None, 2), item
        elif down_s >= 100:  # still down at the last attempt (90 s after the first)
            assert outcome == cash, item
        else:
            assert outcome in {(ItemStatus.PAID, None, 2), (ItemStatus.PAID, None, 3), cash}, item
    assert_payroll_holds(world, [disbursement], world.rolls)
    world.sandbox.close()


class PayrollMachine(RuleBasedStateMachine):
    """The payer and the network interleaved: files (new, repeated, resent), outages and time passing."""

    @initialize(seed=st.integers(0, 10_000), duplicate_rate=st.sampled_from([0.0, 0.2]))
    def build(self, seed: int, duplicate_rate: float) -> None:
        self.world = make_world(Storage(), size=30, seed=seed)
        self.world.sandbox.network.faults = LinkFaults(duplicate_rate=duplicate_rate)
        self.sent: list[DisbursementFile] = []
        self.disbursements: dict[int, DisbursementRecord] = {}

    @rule(first=st.integers(0, 29), count=st.integers(1, 15))
    def submit_some_beneficiaries(self, first: int, count: int) -> None:
        rolls = self.world.rolls[first : first + count]
        file = self.world.file(self.world.items(rolls))
        self.sent.append(file)
        disbursement = self.world.submit(file)
        self.disbursements.setdefault(disbursement.id, disbursement)

    @precondition(lambda self: bool(self.sent))
    @rule(data=st.data())
    def resend_a_file(self, data: st.DataObject) -> None:
        file = data.draw(st.sampled_from(self.sent))
        disbursement = self.world.submit(file)
        assert disbursement.id in self.disbursements and disbursement.message_id == file.message_id

    @rule(bin_code=st.sampled_from(ALL_BINS), offline=st.booleans())
    def switch_a_participant(self, bin_code: str, offline: bool) -> None:
        self.world.sandbox.nodes[bin_code].set_behaviour(Behaviour(offline=offline))

    @rule(seconds=st.integers(1, 90))
    def let_time_pass(self, seconds: int) -> None:
        self.world.run(self.world.sandbox.now_ms + seconds * 1000)

    @invariant()
    def nobody_is_credited_before_the_switch_counts_the_item_paid_nor_twice(self) -> None:
        # The switch tells the creditor ACSC in the transaction that makes the item PAID, so at any
        # moment, mid-run too, a disbursement's settled credits are at most its PAID items.
        for disbursement_id in self.disbursements:
            paid = [i.amount_vnd for i in self.world.disbursement_items(disbursement_id) if i.status == ItemStatus.PAID]
            credited, credited_vnd = self.world.credited(disbursement_id)
            assert credited <= len(paid) and credited_vnd <= sum(paid), (credited, len(paid))
        assert set(paid_keys(self.world, list(self.disbursements)).values()) <= {1}

    def teardown(self) -> None:
        if not hasattr(self, "world"):
            return
        for node in self.world.sandbox.nodes.values():
            node.set_behaviour(Behaviour())
        self.world.run()
        submitted = {(b.program.value, b.cycle, b.citizen_id) for f in self.sent for b in f.items}
        rolls = [b for b in self.world.rolls if (b.program.value, "2026-12", b.citizen_id) in submitted]
        assert_payroll_holds(self.world, list(self.disbursements.values()), rolls)
        self.world.sandbox.close()


PayrollMachine.TestCase.settings = settings(max_examples=10, stateful_step_count=15)
test_payroll_machine = PayrollMachine.TestCase
