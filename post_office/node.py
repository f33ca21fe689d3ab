"""The post office as a node: its own database and its own double-entry ledger, around
`post_office.core`.

Its ledger has four accounts per commune's list (`<kind>:<request id>:<commune code>`):
- `treasury`: the Treasury's funding payable: credited with what the Treasury funded; what the post
  office holds on the Treasury's behalf until it is paid out or sent back;
- `cash`: the cash in hand for the commune, debited by the funding, credited by every payout and by
  the return; it can never pay out more than came in (CREDITS_MUST_NOT_EXCEED_DEBITS);
- `paid`: debited with every payout, to the person or their representative;
- `returned`: debited with the unclaimed money sent back to the Treasury.
So, read off the ledger, funded (treasury) = paid + returned + held (cash), and the lines say the
same: every operation checks both for its list, before and after, in its one transaction (the
whole ledger's check sums every transfer, so `check_invariants` runs it, not each payout). A refused
operation raises inside that transaction: nothing is written and nothing moves.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import Connection, Engine
from sqlmodel import SQLModel

from ledger import Account, AccountFlag, AccountResult, Ledger, LedgerInvariantViolation, Transfer, TransferResult
from ledger import repository as ledger_repository
from post_office import core, repository
from post_office.core import LedgerView, Visit
from post_office.errors import CashListNotFound, PostOfficeError
from post_office.schemas import (
    DAY_MS,
    ByState,
    CashList,
    CashListLine,
    CashPayoutKnobs,
    Closing,
    Funding,
    ListStatus,
    Payout,
    PayoutClaim,
    PayoutState,
    Tally,
    UnclaimedReturn,
)

VISITS_PER_BATCH_MAX = 8_190  # one ledger batch


class AccountKind:
    """The ledger's account codes, one account of each kind per list."""

    CASH = 1
    TREASURY = 2
    PAID = 3
    RETURNED = 4


class TransferCode:
    FUNDING = 1
    PAYOUT = 2
    PAYOUT_TO_REPRESENTATIVE = 3
    RETURN = 4


_FLAGS = {
    AccountKind.CASH: AccountFlag.CREDITS_MUST_NOT_EXCEED_DEBITS,
    AccountKind.TREASURY: AccountFlag.DEBITS_MUST_NOT_EXCEED_CREDITS,
    AccountKind.PAID: AccountFlag.CREDITS_MUST_NOT_EXCEED_DEBITS,
    AccountKind.RETURNED: AccountFlag.CREDITS_MUST_NOT_EXCEED_DEBITS,
}
_NAMES = {AccountKind.CASH: "cash", AccountKind.TREASURY: "treasury", AccountKind.PAID: "paid",
          AccountKind.RETURNED: "returned"}  # fmt: skip


def account_id(kind: int, request_id: str, commune_code: str) -> str:
    return f"{_NAMES[kind]}:{request_id}:{commune_code}"


class Clock(Protocol):
    """Anything that tells the simulated time: the in-process network, the sandbox."""

    @property
    def now_ms(self) -> int: ...


@dataclass(slots=True)
class CollectionReport:
    """What a simulated collection did: who came and was paid, and the visits refused."""

    visits: int = 0
    paid: list[Payout] = field(default_factory=list)
    refused: list[tuple[Visit, PostOfficeError]] = field(default_factory=list)


@dataclass(slots=True, frozen=True)
class Totals:
    """Every list together: funded = paid + returned + held, in count and VND."""

    lists: int
    funded: Tally
    paid: Tally
    paid_to_representative: Tally
    returned: Tally
    held: Tally
    not_funded: Tally


class PostOfficeNode:
    def __init__(self, name: str, engine: Engine) -> None:
        self.name = name
        self.engine = engine
        self.ledger = Ledger(engine)
        self._lock_rows = engine.dialect.name == "postgresql"

    def setup(self) -> None:
        SQLModel.metadata.create_all(self.engine, tables=ledger_repository.TABLES + repository.TABLES)

    # --- operations: each one transaction, checked before and after ---------------------------

    def receive_cash_list(self, cash_list: CashList, now_ms: int) -> ListStatus:
        """Take a commune's list; the same list again answers the list held."""
        with self.engine.begin() as conn:
            existing = repository.find_list(conn, cash_list.request_id, cash_list.commune_code, self._lock_rows)
            if existing is not None:
                return core.accept_again(existing, cash_list)
            status = core.accept(cash_list)
            repository.insert_list(conn, status, cash_list, now_ms)
            accounts = [
                Account(account_id(kind, status.request_id, status.commune_code), kind, _FLAGS[kind]) for kind in _NAMES
            ]
            results = self.ledger.create_accounts(conn, accounts)
            assert all(result == AccountResult.OK for result in results), f"accounts of a new list: {results}"
            self._check(conn, status)
            return status

    def fund(self, funding: Funding, now_ms: int) -> ListStatus:
        """The Treasury's money for a list, in hand: the counter may pay from now on."""
        with self.engine.begin() as conn:
            status = self._load(conn, funding.request_id, funding.commune_code)
            funded = core.decide_funding(status, funding)
            if funded is None:
                return status
            transfer = Transfer(
                f"fund:{funding.request_id}:{funding.commune_code}",
                self._account(AccountKind.CASH, status),
                self._account(AccountKind.TREASURY, status),
                funding.amount_vnd,
                code=TransferCode.FUNDING,
            )
            self._post(conn, [transfer], now_ms)
            repository.set_funded(conn, funded, now_ms)
            self._check(conn, funded)
            return funded

    def pay(self, request_id: str, commune_code: str, claim: PayoutClaim, now_ms: int) -> Payout:
        """Pay one person at the counter, or raise the refusal; a refusal changes nothing."""
        [outcome] = self.pay_visits(request_id, commune_code, [Visit(now_ms, claim)])
        if isinstance(outcome, PostOfficeError):
            raise outcome
        return outcome

    def pay_visits(self, request_id: str, commune_code: str, visits: Sequence[Visit]) -> list[Payout | PostOfficeError]:
        """A batch of people at the counters, in order: each paid or refused on its own (a refused
        visit moves nothing), all in one transaction with one ledger batch."""
        if len(visits) > VISITS_PER_BATCH_MAX:
            raise ValueError(f"visits: at most {VISITS_PER_BATCH_MAX} in one batch")
        with self.engine.begin() as conn:
            status = self._load(conn, request_id, commune_code)
            lines = repository.load_lines(conn, request_id, commune_code, (v.claim.line_id for v in visits))
            states = {line_id: state for line_id, (_line, state) in lines.items()}
            outcomes: list[Payout | PostOfficeError] = []
            for visit in visits:
                outcomes.append(self._decide_visit(status, lines, states, visit))
            payouts = [outcome for outcome in outcomes if isinstance(outcome, Payout)]
            if payouts:
                self._post(conn, [self._payout_transfer(status, p) for p in payouts], max(p.paid_ms for p in payouts))
                repository.record_payouts(conn, payouts)
                self._check(conn, status)
            return outcomes

    def close(self, request_id: str, commune_code: str, now_ms: int) -> Closing:
        """At the deadline: whoever did not come is unclaimed; their money is still held."""
        with self.engine.begin() as conn:
            status = self._load(conn, request_id, commune_code)
            awaiting = repository.amounts_in_state(conn, request_id, commune_code, PayoutState.AWAITING)
            closing = core.decide_close(status, awaiting, now_ms)
            repository.move_lines(
                conn, status, closing.line_ids, PayoutState.AWAITING, PayoutState.UNCLAIMED, closing.closed_ms
            )
            repository.set_closed(conn, status, now_ms)
            self._check(conn, status.model_copy(update={"closed_ms": now_ms}))
            return closing

    def return_unclaimed(self, request_id: str, commune_code: str, amount_vnd: int, now_ms: int) -> UnclaimedReturn:
        """Send the unclaimed money back to the Treasury: exactly what nobody claimed, never more."""
        with self.engine.begin() as conn:
            status = self._load(conn, request_id, commune_code)
            unclaimed = repository.amounts_in_state(conn, request_id, commune_code, PayoutState.UNCLAIMED)
            decided = core.decide_return(status, unclaimed, amount_vnd, now_ms)
            transfer = Transfer(
                f"return:{request_id}:{commune_code}",
                self._account(AccountKind.RETURNED, status),
                self._account(AccountKind.CASH, status),
                decided.returned.amount_vnd,
                code=TransferCode.RETURN,
            )
            self._post(conn, [transfer], now_ms)
            repository.move_lines(conn, status, decided.line_ids, PayoutState.UNCLAIMED, PayoutState.RETURNED, now_ms)
            repository.set_returned(conn, status, now_ms)
            self._check(conn, status.model_copy(update={"returned_ms": now_ms}))
            return decided

    # --- simulated collection -----------------------------------------------------------------

    def simulate_collection(
        self, request_id: str, commune_code: str, knobs: CashPayoutKnobs, rng: random.Random, clock: Clock
    ) -> CollectionReport:
        """People of the list come to the counter from the clock's now until the deadline, as the
        knobs say (`core.plan_collection`), and are paid a day's visits at a time. Seeded by `rng`.
        Scenarios that want each day on the network's clock can plan with `core.plan_collection`
        and hand each day's visits to `pay_visits` themselves."""
        with self.engine.begin() as conn:
            status = self._load(conn, request_id, commune_code)
            lines = repository.lines_of(conn, request_id, commune_code)
        visits = core.plan_collection(lines, knobs, rng, clock.now_ms, status.deadline_ms)
        report = CollectionReport(visits=len(visits))
        for day in _by_day(visits):
            for visit, outcome in zip(day, self.pay_visits(request_id, commune_code, day), strict=True):
                if isinstance(outcome, Payout):
                    report.paid.append(outcome)
                else:
                    report.refused.append((visit, outcome))
        return report

    # --- reads -------------------------------------------------------------------------------

    def status(self, request_id: str, commune_code: str) -> ListStatus:
        with self.engine.begin() as conn:
            return self._load(conn, request_id, commune_code)

    def lines(self, request_id: str, commune_code: str) -> list[CashListLine]:
        with self.engine.begin() as conn:
            return repository.lines_of(conn, request_id, commune_code)

    def line_states(self, request_id: str, commune_code: str) -> dict[str, PayoutState]:
        with self.engine.begin() as conn:
            return repository.line_states(conn, request_id, commune_code)

    def payouts(self, request_id: str, commune_code: str) -> list[Payout]:
        with self.engine.begin() as conn:
            return repository.payouts(conn, request_id, commune_code)

    def by_state(self, request_id: str, commune_code: str) -> ByState:
        with self.engine.begin() as conn:
            return repository.by_state(conn, request_id, commune_code)

    def check_invariants(self) -> Totals:
        """The whole ledger balances and agrees with its transfers; every list conserves its money
        and agrees with its ledger accounts; and so, added up, does the post office."""
        with self.engine.begin() as conn:
            self.ledger.check_invariants(conn)
            lists = repository.all_lists(conn)
            for status in lists:
                self._check(conn, status)
            overall = repository.by_state(conn)
            funded = sum((s.funded for s in lists), Tally())
            not_funded = sum((s.total for s in lists if not s.is_funded), Tally())
            held = _minus(overall.held, not_funded)  # an unfunded list's lines wait, but no money is held
            conserved = overall.all_paid + overall.returned + held
            assert conserved == funded, f"post office: funded {funded} != paid + returned + held {conserved}"
            return Totals(
                lists=len(lists),
                funded=funded,
                paid=overall.paid,
                paid_to_representative=overall.paid_to_representative,
                returned=overall.returned,
                held=held,
                not_funded=not_funded,
            )

    # --- the shell's own steps -----------------------------------------------------------------

    def _load(self, conn: Connection, request_id: str, commune_code: str) -> ListStatus:
        status = repository.find_list(conn, request_id, commune_code, self._lock_rows)
        if status is None:
            raise CashListNotFound("commune_code", f"no cash list of commune {commune_code} for {request_id}")
        self._check(conn, status)
        return status

    def _check(self, conn: Connection, status: ListStatus) -> None:
        accounts = self.ledger.lookup_accounts(
            conn, [account_id(kind, status.request_id, status.commune_code) for kind in _NAMES]
        )

        def posted(kind: int) -> Account:
            return accounts[account_id(kind, status.request_id, status.commune_code)]

        view = LedgerView(
            funded_vnd=posted(AccountKind.TREASURY).balance_vnd,
            held_vnd=-posted(AccountKind.CASH).balance_vnd,
            paid_vnd=-posted(AccountKind.PAID).balance_vnd,
            returned_vnd=-posted(AccountKind.RETURNED).balance_vnd,
        )
        core.check_list(status, repository.by_state(conn, status.request_id, status.commune_code), view)

    def _decide_visit(
        self,
        status: ListStatus,
        lines: dict[str, tuple[CashListLine, PayoutState]],
        states: dict[str, PayoutState],
        visit: Visit,
    ) -> Payout | PostOfficeError:
        found = lines.get(visit.claim.line_id)
        line = found[0] if found else None
        try:
            payout = core.decide_payout(status, line, states.get(visit.claim.line_id), visit.claim, visit.at_ms)
        except PostOfficeError as refusal:
            return refusal
        states[payout.line_id] = payout.state  # a second visit for the line in this batch is paid twice
        return payout

    def _payout_transfer(self, status: ListStatus, payout: Payout) -> Transfer:
        code = TransferCode.PAYOUT if payout.state == PayoutState.PAID else TransferCode.PAYOUT_TO_REPRESENTATIVE
        return Transfer(
            f"pay:{payout.request_id}:{payout.commune_code}:{payout.line_id}",
            self._account(AccountKind.PAID, status),
            self._account(AccountKind.CASH, status),
            payout.amount_vnd,
            code=code,
        )

    def _post(self, conn: Connection, transfers: Sequence[Transfer], now_ms: int) -> None:
        results = self.ledger.create_transfers(conn, transfers, now_ms)
        refused = [(t.id, r) for t, r in zip(transfers, results, strict=True) if r != TransferResult.OK]
        if refused:
            # Every rule the ledger enforces was decided by the core first: a refusal here is a bug.
            raise LedgerInvariantViolation(f"the post office's ledger refused {refused}")

    @staticmethod
    def _account(kind: int, status: ListStatus) -> str:
        return account_id(kind, status.request_id, status.commune_code)


def _minus(left: Tally, right: Tally) -> Tally:
    return Tally(count=left.count - right.count, amount_vnd=left.amount_vnd - right.amount_vnd)


def _by_day(visits: Sequence[Visit]) -> list[list[Visit]]:
    days: dict[int, list[Visit]] = {}
    for visit in visits:
        days.setdefault(visit.at_ms // DAY_MS, []).append(visit)
    return [days[day][start : start + VISITS_PER_BATCH_MAX] for day in sorted(days)
            for start in range(0, len(days[day]), VISITS_PER_BATCH_MAX)]  # fmt: skip
