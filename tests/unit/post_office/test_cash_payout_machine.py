"""The post office under any sequence of counter visits, refusals, closing and returning.

A hypothesis state machine pays people (in person or through a representative), pays them again,
pays strangers and people with the wrong id, pays after the deadline, closes the list, returns too
much, too little and the right amount; a model says what each action must do. After every step:

- each line is in exactly the state the model says, and nobody is paid twice;
- funded = paid + returned + held, in count and VND, and the ledger says the same as the lines;
- a refused action raised the error the rules name, and moved nothing.

A property test then runs whole random days of visits end to end and checks the same at the end,
when every line must be final.
"""

from __future__ import annotations

from cash_list_data import BEN_THANH, DAY_MS, DEADLINE_MS, OPENS_MS, claim_for, daughter_of, line
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from ledger.storage import open_engine
from post_office.core import Visit
from post_office.errors import (
    AlreadyClosed,
    AlreadyPaid,
    AlreadyReturned,
    DeadlinePassed,
    IdentityMismatch,
    NotClosed,
    NotOnCashList,
    PostOfficeError,
    ReturnAmountWrong,
)
from post_office.node import PostOfficeNode, TransferCode
from post_office.schemas import CashList, CashListLine, CashReason, Funding, PayoutState, Tally

LINES = 6
COMMUNE = BEN_THANH


def a_list(size: int) -> CashList:
    reasons = [None, None, CashReason.NO_CITIZEN_ID_YET, None, CashReason.FRAIL_ELDERLY, None]
    lines = tuple(line(i, COMMUNE, reason=reasons[i % len(reasons)]) for i in range(size))
    return CashList(
        request_id="PR-2026-12-HCM-007",
        commune_code=COMMUNE[0],
        cycle="2026-12",
        deadline_ms=DEADLINE_MS,
        total_vnd=sum(item.amount_vnd for item in lines),
        lines=lines,
    )


def opened(cash: CashList) -> PostOfficeNode:
    node = PostOfficeNode("Vietnam Post", open_engine("sqlite://"))
    node.setup()
    node.receive_cash_list(cash, OPENS_MS)
    node.fund(Funding(request_id=cash.request_id, commune_code=cash.commune_code, funding_id="KBNN-HCM-07",
                      amount_vnd=cash.total_vnd), OPENS_MS)  # fmt: skip
    return node


def conserved(node: PostOfficeNode, cash: CashList) -> None:
    """funded = paid + returned + held; the ledger's payout transfers are the paid lines, once each."""
    totals = node.check_invariants()
    assert totals.funded == Tally(count=len(cash.lines), amount_vnd=cash.total_vnd)
    assert totals.paid + totals.paid_to_representative + totals.returned + totals.held == totals.funded
    with node.engine.begin() as conn:
        payouts = node.ledger.count_transfers_with_codes(
            conn, [TransferCode.PAYOUT, TransferCode.PAYOUT_TO_REPRESENTATIVE]
        )
    assert payouts == (totals.paid + totals.paid_to_representative).count
    assert len({p.line_id for p in node.payouts(cash.request_id, cash.commune_code)}) == payouts


class CashPayouts(RuleBasedStateMachine):
    @initialize()
    def open_the_list(self) -> None:
        self.cash = a_list(LINES)
        self.node = opened(self.cash)
        self.model = {item.line_id: PayoutState.AWAITING for item in self.cash.lines}
        self.closed = self.returned = False
        self.day = 0

    def _item(self, index: int) -> CashListLine:
        return self.cash.lines[index % LINES]

    def _books(self) -> tuple[object, ...]:
        with self.node.engine.begin() as conn:
            accounts = self.node.ledger.accounts(conn)
        return self.node.line_states(self.cash.request_id, COMMUNE[0]), accounts

    def _refused(self, error: type[PostOfficeError], action: object) -> None:
        before = self._books()
        try:
            action()  # type: ignore[operator]
        except error:
            pass
        else:
            raise AssertionError(f"expected {error.__name__}")
        assert self._books() == before, f"{error.__name__} moved something"

    def _now(self) -> int:
        return OPENS_MS + self.day * DAY_MS + 9 * 3_600_000

    @rule(index=st.integers(0, LINES - 1), by_representative=st.booleans())
    def someone_comes_with_their_id(self, index: int, by_representative: bool) -> None:
        item = self._item(index)
        representative = daughter_of(item) if by_representative else None
        pay = lambda: self.node.pay(self.cash.request_id, COMMUNE[0], claim_for(item, representative), self._now())  # noqa: E731
        if self.model[item.line_id].is_paid:
            self._refused(AlreadyPaid, pay)
        elif self.closed:
            self._refused(DeadlinePassed, pay)
        else:
            payout = pay()
            assert payout.amount_vnd == item.amount_vnd and payout.representative == representative
            self.model[item.line_id] = PayoutState.PAID_TO_REPRESENTATIVE if representative else PayoutState.PAID

    @rule(index=st.integers(0, LINES - 1))
    def someone_comes_with_another_persons_id(self, index: int) -> None:
        item, other = self._item(index), self._item(index + 1)
        claim = claim_for(other).model_copy(update={"line_id": item.line_id})
        expected: type[PostOfficeError] = IdentityMismatch
        if self.model[item.line_id].is_paid:
            expected = AlreadyPaid
        elif self.closed:
            expected = DeadlinePassed
        self._refused(expected, lambda: self.node.pay(self.cash.request_id, COMMUNE[0], claim, self._now()))

    @rule(index=st.integers(0, 99))
    def a_stranger_comes(self, index: int) -> None:
        stranger = line(100 + index, COMMUNE)
        self._refused(NotOnCashList, lambda: self.node.pay(self.cash.request_id, COMMUNE[0], claim_for(stranger),
                                                           self._now()))  # fmt: skip

    @precondition(lambda self: not self.closed and self.day < 9)
    @rule()
    def a_day_passes(self) -> None:
        self.day += 1

    @rule(index=st.integers(0, LINES - 1))
    def someone_comes_after_the_deadline(self, index: int) -> None:
        item = self._item(index)
        expected = AlreadyPaid if self.model[item.line_id].is_paid else DeadlinePassed
        self._refused(expected, lambda: self.node.pay(self.cash.request_id, COMMUNE[0], claim_for(item), DEADLINE_MS))

    @rule()
    def the_list_closes_at_the_deadline(self) -> None:
        close = lambda: self.node.close(self.cash.request_id, COMMUNE[0], DEADLINE_MS)  # noqa: E731
        if self.closed:
            self._refused(AlreadyClosed, close)
            return
        closing = close()
        awaiting = [line_id for line_id, state in self.model.items() if state == PayoutState.AWAITING]
        assert sorted(closing.line_ids) == sorted(awaiting)
        self.model |= dict.fromkeys(awaiting, PayoutState.UNCLAIMED)
        self.closed = True

    def _unclaimed_vnd(self) -> int:
        amounts = {item.line_id: item.amount_vnd for item in self.cash.lines}
        return sum(amounts[line_id] for line_id, state in self.model.items() if state == PayoutState.UNCLAIMED)

    @rule(extra_vnd=st.integers(1, 10_000_000))
    def the_post_office_returns_more_than_it_holds(self, extra_vnd: int) -> None:
        amount = self._unclaimed_vnd() + extra_vnd
        expected = NotClosed if not self.closed else AlreadyReturned if self.returned else ReturnAmountWrong
        self._refused(expected, lambda: self.node.return_unclaimed(self.cash.request_id, COMMUNE[0], amount,
                                                                   DEADLINE_MS))  # fmt: skip

    @rule()
    def the_post_office_returns_the_unclaimed_money(self) -> None:
        amount = self._unclaimed_vnd()
        returning = lambda: self.node.return_unclaimed(self.cash.request_id, COMMUNE[0], amount, DEADLINE_MS)  # noqa: E731
        if not self.closed:
            self._refused(NotClosed, returning)
        elif self.returned:
            self._refused(AlreadyReturned, returning)
        elif amount == 0:
            self._refused(ReturnAmountWrong, returning)
        else:
            assert returning().returned.amount_vnd == amount
            self.model = {k: PayoutState.RETURNED if v == PayoutState.UNCLAIMED else v for k, v in self.model.items()}
            self.returned = True

    @invariant()
    def the_lines_are_where_the_model_says_and_the_money_is_conserved(self) -> None:
        assert self.node.line_states(self.cash.request_id, COMMUNE[0]) == self.model
        conserved(self.node, self.cash)
        if self.closed:
            assert all(state.is_final for state in self.model.values())

    def teardown(self) -> None:
        if hasattr(self, "node"):
            self.node.engine.dispose()


# Each step runs against a database: fewer, shorter runs than the profile's default keep this a few seconds.
CashPayouts.TestCase.settings = settings(CashPayouts.TestCase.settings, max_examples=30, stateful_step_count=30)
TestCashPayouts = CashPayouts.TestCase


visits_strategy = st.lists(
    st.tuples(st.integers(0, LINES + 2), st.integers(0, 12), st.booleans(), st.booleans()), max_size=25
)


@given(visits=visits_strategy, size=st.integers(1, LINES))
def test_any_days_of_visits_end_with_every_line_final_and_the_money_conserved(
    visits: list[tuple[int, int, bool, bool]], size: int
) -> None:
    """Visits: (whose line, which day, by a representative, with the right id); lines past the
    list's end are strangers, days past the tenth are after the deadline."""
    cash = a_list(size)
    node = opened(cash)
    strangers = [line(200 + i, COMMUNE) for i in range(3)]
    people = list(cash.lines) + strangers
    batch = []
    for index, day, by_representative, right_id in sorted(visits, key=lambda v: v[1]):
        item = people[index % len(people)]
        claim = claim_for(item, daughter_of(item) if by_representative else None)
        if not right_id:
            claim = claim.model_copy(update={"presented_id": people[(index + 1) % len(people)].identity_number})
        batch.append(Visit(OPENS_MS + day * DAY_MS, claim))
    outcomes = node.pay_visits(cash.request_id, COMMUNE[0], batch)
    paid = [o for o in outcomes if not isinstance(o, PostOfficeError)]
    assert len({p.line_id for p in paid}) == len(paid), "somebody was paid twice"
    conserved(node, cash)
    closing = node.close(cash.request_id, COMMUNE[0], DEADLINE_MS)
    states = node.line_states(cash.request_id, COMMUNE[0])
    assert all(state.is_final for state in states.values()) and len(states) == size
    if closing.unclaimed.count:
        node.return_unclaimed(cash.request_id, COMMUNE[0], closing.unclaimed.amount_vnd, DEADLINE_MS)
    totals = node.check_invariants()
    assert totals.held == Tally()
    assert totals.funded == totals.paid + totals.paid_to_representative + totals.returned
    assert (totals.paid + totals.paid_to_representative).amount_vnd == sum(p.amount_vnd for p in paid)
    conserved(node, cash)
    node.engine.dispose()
