"""Properties of the network when single transfers and multi-transaction messages mix (hypothesis).

Customers of one bank pay many people at the same instant (their bank sends the switch one pacs.008
of many, which the switch forwards as one message per creditor), or one customer pays alone (a bare
transfer); some participants are registered for single transfers only; creditors answer slowly,
late or not at all, reject now and then, go offline and come back; links deliver messages twice.
Throughout:

- every ledger balances and the money at the switch stays what was prefunded;
- nobody is credited or debited before the switch settled the payment, nor twice: every customer
  holds their opening balance plus what settled to them less what settled from them;
- a participant registered for single transfers only never receives a message of many; every
  message of many carries its own id on each transaction and has one creditor timer;

and once the network is quiet, every payment is final at the debtor's bank and at the switch, and
they agree (the invariants of `network.checks` hold).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from banks import repository as bank_repository
from banks.node import ParticipantNode, customer_account
from banks.schemas import Behaviour, Customer, InboundStatus, OutboundStatus, PaymentOrder
from network.checks import check_invariants
from network.inprocess import LinkFaults
from network.participants import DEFAULT_PARTICIPANTS
from network.sandbox import Sandbox
from network.storage import Storage
from switch.clearing import repository as clearing_repository
from switch.clearing.schemas import MESSAGE_TIMER_PREFIX, TIMER_PREFIX, ClearingRecord, clearing_key
from switch.scheme.codes import StatusReason, TransactionStatus
from switch.scheme.messages import (
    TRANSACTIONS_PER_MESSAGE_MAX,
    CreditTransfer,
    CreditTransferMessage,
    StatusReportMessage,
)
from switch.scheme.transport import SWITCH_ADDRESS, Envelope, TimerFired
from wallets.node import new_wallet

VIETCOMBANK, BIDV, VIETINBANK, AGRIBANK, VIETTEL_MONEY = "970436", "970418", "970415", "970405", "971005"
TIMEOUT_MS = 5_000
OPENING_VND = 30_000_000

# (bin, account, holder name as the bank stores it, citizen id)
PEOPLE: list[tuple[str, str, str, str]] = [
    (VIETCOMBANK, "0011001234567", "NGUYEN VAN DUC", "001090012345"),
    (VIETCOMBANK, "0011001234568", "TRAN THI MAI", "079185012345"),
    (VIETCOMBANK, "0011001234569", "VU MINH KHOA", "001095012347"),
    (BIDV, "12010000123456", "LE VAN AN", "048070012345"),
    (BIDV, "12010000123457", "PHAM THI HOA", "048170012346"),
    (VIETINBANK, "108000123456", "DANG VAN HUNG", "038088012345"),
    (VIETINBANK, "108000123457", "DO THI LAN", "038190012348"),
    (AGRIBANK, "1500205123456", "BUI THI THU", "040192012345"),
    (VIETTEL_MONEY, "0961234567", "HOANG VAN BINH", "036085012345"),
]
HOLDERS = sorted({p[0] for p in PEOPLE})
# Whom a customer pays: anybody above, or an account BIDV does not have (its core refuses it, AC01).
CREDITORS: list[tuple[str, str, str]] = [(b, a, n) for b, a, n, _c in PEOPLE] + [
    (BIDV, "12010000999999", "NGO THI NGA")
]

within_balance = st.integers(10_000, 5_000_000)
amounts = within_balance | within_balance | within_balance | st.just(40_000_000)  # now and then AM04 at home
payment = st.tuples(st.integers(0, 5), st.integers(0, len(CREDITORS) - 1), amounts)
behaviours = st.builds(
    Behaviour,
    latency_ms=st.integers(1, 300),
    timeout_rate=st.sampled_from([0.0, 0.0, 0.3, 1.0]),
    # late: just or long after the switch gave up; slow: still in time
    late_answer_ms=st.sampled_from([TIMEOUT_MS + 1, TIMEOUT_MS * 3, TIMEOUT_MS // 2]),
    reject_rate=st.sampled_from([0.0, 0.0, 0.2]),
    reject_reason=st.sampled_from([StatusReason.AC06, StatusReason.AM02]),
)


def customer(index: int) -> Customer:
    bin_code, account, name, citizen_id = PEOPLE[index]
    if bin_code == VIETTEL_MONEY:
        return new_wallet(account, name, citizen_id)
    return Customer(account, name, citizen_id)


class Watched:
    """A node as the network sees it, with what reaches it and what it sends checked on the way."""

    def __init__(self, node: Any, machine: MessageMachine) -> None:
        self.node = node
        self.address: str = node.address
        self.machine = machine

    @property
    def offline(self) -> bool:
        return bool(self.node.offline)

    def handle(self, inbox: Sequence[Envelope], now_ms: int) -> list[Envelope]:
        self.machine.received(self.address, inbox)
        out: list[Envelope] = self.node.handle(inbox, now_ms)
        self.machine.sent(self.address, out)
        return out


class MessageMachine(RuleBasedStateMachine):
    """Bursts of payments and lone payments, outages and time passing, on one network."""

    @initialize(
        seed=st.integers(0, 2**32 - 1),
        single_only=st.sets(st.sampled_from(HOLDERS), max_size=2),
        tuned=st.dictionaries(st.sampled_from(HOLDERS), behaviours, max_size=2),
        duplicate_rate=st.sampled_from([0.0, 0.0, 0.2]),
    )
    def build(self, seed: int, single_only: set[str], tuned: dict[str, Behaviour], duplicate_rate: float) -> None:
        specs = tuple(
            dataclasses.replace(s, transactions_per_message_max=1) if s.bin in single_only else s
            for s in DEFAULT_PARTICIPANTS
        )
        self.sandbox = Sandbox(
            Storage(),
            participants=specs,
            seed=seed,
            faults=LinkFaults(duplicate_rate=duplicate_rate),
            creditor_timeout_ms=TIMEOUT_MS,
        )
        self.single_only = frozenset(single_only)
        by_bin: dict[str, list[tuple[Customer, int]]] = defaultdict(list)
        for index in range(len(PEOPLE)):
            by_bin[PEOPLE[index][0]].append((customer(index), OPENING_VND))
        for bin_code, accounts in by_bin.items():
            self.sandbox.open_accounts(bin_code, accounts)
        for bin_code, behaviour in tuned.items():
            self.sandbox.nodes[bin_code].set_behaviour(behaviour)
        self.prefunded_vnd = sum(p.liquidity_vnd for p in self.sandbox.switch.positions().values())
        self.orders: list[tuple[str, PaymentOrder]] = []  # (debtor bin, order), in the order asked
        self.never_entered: set[str] = set()  # orders that reached a bank while it was offline
        self.outgoing: list[Envelope] = []  # what the participants sent in the current rule's run
        self.counts: Counter[str] = Counter()
        self.numbers = itertools.count()
        for address, node in list(self.sandbox.network.nodes.items()):
            self.sandbox.network.nodes[address] = Watched(node, self)

    # --- the checks on the way ---------------------------------------------------------------------

    def received(self, address: str, inbox: Sequence[Envelope]) -> None:
        for envelope in inbox:
            message = envelope.message
            if address in self.single_only:
                assert not isinstance(message, CreditTransferMessage | StatusReportMessage), (
                    f"{address} takes single transfers only, yet received {type(message).__name__}"
                )
            if isinstance(message, CreditTransferMessage):
                self.counts[f"message of many to {'the switch' if address == SWITCH_ADDRESS else 'a creditor'}"] += 1
                assert {t.message_id for t in message.transactions} == {message.message_id}, message

    def sent(self, address: str, out: Sequence[Envelope]) -> None:
        if address != SWITCH_ADDRESS:
            self.outgoing.extend(out)
            for envelope in out:
                if isinstance(envelope.message, CreditTransferMessage):
                    assert {t.debtor_agent for t in envelope.message.transactions} == {address}
            return
        armed = {e.message.key: e.message for e in out if isinstance(e.message, TimerFired)}
        for envelope in out:
            message = envelope.message
            if isinstance(message, CreditTransferMessage):
                assert envelope.receiver not in self.single_only
                assert 2 <= len(message.transactions) <= TRANSACTIONS_PER_MESSAGE_MAX
                assert {t.creditor_agent for t in message.transactions} == {envelope.receiver}
                timer = armed.get(MESSAGE_TIMER_PREFIX + message.message_id)
                assert timer is not None, f"no timer for {message.message_id}"
                assert timer.keys == tuple(clearing_key(t.debtor_agent, t.transaction_id) for t in message.transactions)
            elif isinstance(message, CreditTransfer) and envelope.receiver != SWITCH_ADDRESS:
                assert TIMER_PREFIX + clearing_key(message.debtor_agent, message.transaction_id) in armed

    # --- rules -------------------------------------------------------------------------------------

    def ask(self, bin_code: str, orders: list[PaymentOrder]) -> None:
        """The orders reach their bank now, together, and the bank sends what it accepted."""
        sandbox = self.sandbox
        offline = sandbox.nodes[bin_code].offline
        self.orders += [(bin_code, o) for o in orders]
        self.outgoing = []
        sandbox.pay(bin_code, orders, at_ms=sandbox.now_ms)
        sandbox.run(until_ms=sandbox.now_ms)
        if offline:
            self.never_entered.update(o.order_id for o in orders)
            return
        rows = {o.order_id: sandbox.nodes[bin_code].payment(o.order_id) for o in orders}
        assert all(row is not None for row in rows.values()), rows  # the bank took every order in
        accepted = [i for i, row in rows.items() if row and row["status"] == OutboundStatus.PENDING.value]
        credits = [
            e.message
            for e in self.outgoing
            if e.sender == bin_code and isinstance(e.message, CreditTransfer | CreditTransferMessage)
        ]
        if len(accepted) >= 2:  # what the bank accepted at one instant leaves as one message
            assert len(credits) == 1 and isinstance(credits[0], CreditTransferMessage), credits
            assert [t.transaction_id for t in credits[0].transactions] == accepted
        elif accepted:  # a payment alone leaves as a bare transfer
            assert len(credits) == 1 and isinstance(credits[0], CreditTransfer), credits
            assert credits[0].transaction_id == accepted[0]
        else:
            assert credits == []

    def order(self, debtor: int, creditor: int, amount_vnd: int) -> PaymentOrder:
        bin_code, account, name = CREDITORS[creditor]
        return PaymentOrder(
            order_id=f"P{next(self.numbers):04d}",
            debtor_account=PEOPLE[debtor][1],
            amount_vnd=amount_vnd,
            creditor_agent=bin_code,
            creditor_account=account,
            creditor_name=name,
            remittance_information="Chuyển tiền",
        )

    @rule(
        bank=st.sampled_from(HOLDERS),
        payments=st.lists(payment, min_size=2, max_size=8),
    )
    def customers_of_one_bank_pay_many_people_at_the_same_instant(
        self, bank: str, payments: list[tuple[int, int, int]]
    ) -> None:
        debtors = [i for i, p in enumerate(PEOPLE) if p[0] == bank]
        orders = [self.order(debtors[d % len(debtors)], creditor, amount) for d, creditor, amount in payments]
        self.ask(bank, orders)

    @rule(debtor=st.integers(0, len(PEOPLE) - 1), creditor=st.integers(0, len(CREDITORS) - 1), amount_vnd=amounts)
    def one_customer_pays_alone(self, debtor: int, creditor: int, amount_vnd: int) -> None:
        self.ask(PEOPLE[debtor][0], [self.order(debtor, creditor, amount_vnd)])

    @rule(bin_code=st.sampled_from(HOLDERS), offline=st.booleans())
    def a_participant_goes_offline_or_comes_back(self, bin_code: str, offline: bool) -> None:
        node = self.sandbox.nodes[bin_code]
        node.set_behaviour(dataclasses.replace(node.behaviour, offline=offline))

    @rule(ms=st.integers(1, 20_000))
    def time_passes(self, ms: int) -> None:
        self.sandbox.run(until_ms=self.sandbox.now_ms + ms)

    # --- invariants --------------------------------------------------------------------------------

    def records(self) -> dict[str, ClearingRecord]:
        keys = [clearing_key(b, o.order_id) for b, o in self.orders]
        with self.sandbox.switch.engine.begin() as conn:
            return clearing_repository.load(conn, keys)

    def rows(self, bin_code: str, outbound: Sequence[str], inbound: Sequence[str]) -> tuple[dict[str, Any], ...]:
        with self.sandbox.nodes[bin_code].engine.begin() as conn:
            return bank_repository.load_outbound(conn, outbound), bank_repository.load_inbound(conn, inbound)

    @invariant()
    def money_is_conserved_and_nobody_is_paid_before_settlement_nor_twice(self) -> None:
        if not hasattr(self, "sandbox"):
            return
        sandbox = self.sandbox
        sandbox.switch.check_invariants()
        for node in sandbox.nodes.values():
            node.check_invariants()
        positions = sandbox.switch.positions()
        assert sum(p.liquidity_vnd for p in positions.values()) == self.prefunded_vnd

        records = self.records()
        reserved: Counter[str] = Counter()
        for pending in records.values():
            if pending.status == TransactionStatus.PDNG and pending.creditor_agent != pending.debtor_agent:
                reserved[pending.debtor_agent] += pending.amount_vnd
        assert {b: p.reserved_vnd for b, p in positions.items() if p.reserved_vnd} == dict(reserved)

        expected = {(b, a): OPENING_VND for b, a, _n, _c in PEOPLE}
        outbound: dict[str, list[str]] = defaultdict(list)
        inbound: dict[str, list[str]] = defaultdict(list)
        for bin_code, order in self.orders:
            outbound[bin_code].append(order.order_id)
            inbound[order.creditor_agent or ""].append(f"{bin_code}:{order.order_id}")
        sent: dict[str, dict[str, Any]] = {}
        credited: dict[str, dict[str, Any]] = {}
        for bin_code in sandbox.nodes:
            out_rows, in_rows = self.rows(bin_code, outbound[bin_code], inbound[bin_code])
            sent.update({f"{bin_code}:{k}": v for k, v in out_rows.items()})
            credited.update({f"{bin_code}|{k}": v for k, v in in_rows.items()})
        for bin_code, order in self.orders:
            key = clearing_key(bin_code, order.order_id)
            record = records.get(key)
            row = sent.get(f"{bin_code}:{order.order_id}")
            credit = credited.get(f"{order.creditor_agent}|{key}")
            settled = record is not None and record.status == TransactionStatus.ACSC
            if row is not None and row["status"] == OutboundStatus.SETTLED.value:
                assert settled, (order.order_id, record, row)
                expected[bin_code, order.debtor_account] -= order.amount_vnd
            if row is not None and row["status"] == OutboundStatus.REJECTED.value and record is not None:
                assert record.status == TransactionStatus.RJCT and record.reason is not None, (order, record, row)
                assert row["reason"] == record.reason.value, (order.order_id, record, row)
            if settled:
                assert row is not None and row["status"] != OutboundStatus.REJECTED.value, (order.order_id, row)
                assert credit is None or credit["status"] != InboundStatus.REVERSED.value, (order.order_id, credit)
            if credit is not None and credit["status"] == InboundStatus.SETTLED.value:
                assert settled and record is not None and record.amount_vnd == credit["amount_vnd"], (record, credit)
                expected[order.creditor_agent or "", order.creditor_account or ""] += order.amount_vnd
        held = {
            (bin_code, account): sandbox.nodes[bin_code].balances()[customer_account(account)].balance_vnd
            for bin_code, account in expected
        }
        assert held == expected

    def teardown(self) -> None:
        if not hasattr(self, "sandbox"):
            return
        sandbox = self.sandbox
        try:
            for node in sandbox.nodes.values():
                node.set_behaviour(Behaviour())
            sandbox.run()
            self.money_is_conserved_and_nobody_is_paid_before_settlement_nor_twice()
            report = check_invariants(sandbox)
            assert report.failures == []
            assert sandbox.switch.in_flight() == 0
            self.every_payment_is_final_at_the_debtors_bank_and_the_switch_and_they_agree()
            for kind, count in self.counts.items():
                event(f"{kind}: {'none' if not count else 'some'}")
        finally:
            sandbox.close()

    def every_payment_is_final_at_the_debtors_bank_and_the_switch_and_they_agree(self) -> None:
        records = self.records()
        for bin_code, order in self.orders:
            node: ParticipantNode = self.sandbox.nodes[bin_code]
            row = node.payment(order.order_id)
            record = records.get(clearing_key(bin_code, order.order_id))
            if order.order_id in self.never_entered:
                assert row is None and record is None, (order.order_id, row, record)
                continue
            assert row is not None, order.order_id
            assert row["status"] in (OutboundStatus.SETTLED.value, OutboundStatus.REJECTED.value), (order, row)
            if record is None:  # refused at home: the customer's funds
                assert (row["status"], row["reason"]) == (OutboundStatus.REJECTED.value, "AM04"), (order, row)
                continue
            assert record.status.is_final, (order.order_id, record)
            assert (record.status == TransactionStatus.ACSC) == (row["status"] == OutboundStatus.SETTLED.value)
            assert (record.amount_vnd, record.creditor_agent, record.creditor_account) == (
                order.amount_vnd,
                order.creditor_agent,
                order.creditor_account,
            )


MessageMachine.TestCase.settings = settings(max_examples=20, stateful_step_count=15)
test_single_transfers_and_messages_of_many_mixed = MessageMachine.TestCase
