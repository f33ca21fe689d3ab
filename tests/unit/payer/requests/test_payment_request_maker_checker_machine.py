"""Maker–checker under any sequence of actions by any people (a hypothesis state machine).

Four people, each able to act in any role, file requests, change filed lists (through the service
and straight in the database), review them under ample or tight budgets, return them, correct
them and try to approve them with a forged clean review. Each action goes through the service on
SQLite in a transaction that commits even when the action is refused, so a refusal that wrote
anything first would show. After every step:

- nothing is ever approved by anyone who prepared or filed any version of its request, nor by
  anyone but a Treasury approver;
- an approved version never changes, nor its lines; nor does a returned one;
- every version is in exactly one state, and only the last may still be filed;
- each action is refused exactly when the rules say, with the error that names the rule, and a
  refused action changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from payment_request_data import AMPLE_BUDGETS_VND, CYCLE, NOW_MS, lines
from sqlalchemy import Connection, select, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel

from ledger.storage import open_engine
from payer.requests import core, repository, service
from payer.requests.errors import (
    AlreadyApproved,
    MakerCannotCheck,
    NotFiled,
    NotReturned,
    RequestError,
    RequestExists,
    ReviewNotApproving,
    RoleRefused,
    VersionsExhausted,
)
from payer.requests.schemas import (
    VERSIONS_PER_REQUEST_MAX,
    Finding,
    Officer,
    PaymentList,
    PaymentListLine,
    RequestState,
    RequestVersion,
    ReturnReason,
    Review,
    Role,
)

PEOPLE = {
    "nguyen.thi.lan": "Nguyễn Thị Lan",
    "tran.van.hung": "Trần Văn Hùng",
    "le.thi.hoa": "Lê Thị Hoa",
    "pham.van.duc": "Phạm Văn Đức",
}
REQUEST_IDS = ("MOLISA-2026-05-001", "MOLISA-2026-05-002")
TIGHT_BUDGETS_VND = dict.fromkeys(AMPLE_BUDGETS_VND, 0)
FILERS = {Role.MOLISA_OFFICER, Role.TREASURY_PREPARER}
CHECKERS = {Role.TREASURY_PREPARER, Role.TREASURY_APPROVER}

people = st.sampled_from(sorted(PEOPLE))
roles = st.sampled_from(list(Role))
request_ids = st.sampled_from(REQUEST_IDS)
# Reviews mostly by approvers under ample budgets, so that approvals, the rare outcome, are common enough.
checking_roles = st.sampled_from([Role.TREASURY_APPROVER, Role.TREASURY_APPROVER, Role.TREASURY_PREPARER, *Role])
tight_budgets = st.sampled_from([False, False, False, True])


def officer(person: str, role: Role) -> Officer:
    return Officer(officer_id=person, name=PEOPLE[person], role=role)


@dataclass
class Expected:
    """What the rules say a request should be, kept without the code under test."""

    state: RequestState
    versions: int
    makers: set[str]
    first_list: PaymentList
    lines: list[PaymentListLine]  # the current version's, as held now
    changed_after_filing: bool = False
    approved_by: list[str] = field(default_factory=list)


class MakerCheckerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.engine = open_engine("sqlite://")
        SQLModel.metadata.create_all(self.engine, tables=repository.TABLES)
        self.expected: dict[str, Expected] = {}
        self.decided: dict[tuple[str, int], RequestVersion] = {}
        self.now_ms = NOW_MS

    def teardown(self) -> None:
        self.engine.dispose()

    # --- running an action ---------------------------------------------------------------------------

    def snapshot(self) -> list[list[tuple[Any, ...]]]:
        with self.engine.connect() as conn:
            return [sorted(tuple(r) for r in conn.execute(select(table))) for table in repository.TABLES]

    def act(self, expected_error: type[RequestError] | None, action: Any) -> Any:
        """Run the action in a transaction that commits whatever it wrote, even when refused."""
        self.now_ms += 1_000
        before = self.snapshot()
        error: RequestError | None = None
        result = None
        with self.engine.begin() as conn:
            try:
                result = action(conn)
            except RequestError as refused:
                error = refused
        assert type(error) is (expected_error or type(None)), f"expected {expected_error}, got {error!r}"
        if error is not None:
            assert self.snapshot() == before, f"{error!r} was refused but something was written"
        return result

    def checker_refusal(self, request_id: str, checker: Officer) -> type[RequestError] | None:
        """The refusal the rules give a Treasury officer checking the request, if any."""
        expected = self.expected[request_id]
        if expected.state == RequestState.APPROVED:
            return AlreadyApproved
        if expected.state == RequestState.RETURNED:
            return NotFiled
        if checker.role not in CHECKERS:
            return RoleRefused
        if checker.officer_id in expected.makers:
            return MakerCannotCheck
        return None

    # --- rules ---------------------------------------------------------------------------------------

    @initialize(
        preparers=st.tuples(people, people),
        filers=st.tuples(people, people),
        roles=st.tuples(st.sampled_from(sorted(FILERS)), st.sampled_from(sorted(FILERS))),
        made=st.tuples(lines(max_size=6), lines(max_size=6)),
    )
    def both_requests_are_filed(
        self,
        preparers: tuple[str, str],
        filers: tuple[str, str],
        roles: tuple[Role, Role],
        made: tuple[list[PaymentListLine], list[PaymentListLine]],
    ) -> None:
        for n, request_id in enumerate(REQUEST_IDS):
            self.file(request_id, preparers[n], filers[n], roles[n], made[n])

    @rule(request_id=request_ids, preparer=people, filer=people, role=roles, made=lines(max_size=6))
    def file(self, request_id: str, preparer: str, filer: str, role: Role, made: list[PaymentListLine]) -> None:
        the_list = PaymentList(CYCLE, officer(preparer, Role.MOLISA_OFFICER), tuple(made))
        known = self.expected.get(request_id)
        same = known is not None and core.digest(known.first_list.lines) == core.digest(made)
        refusal = RoleRefused if role not in FILERS else RequestExists if known and not same else None
        by = officer(filer, role)
        self.act(refusal, lambda conn: service.file_request(conn, request_id, the_list, by, self.now_ms))
        if refusal is None and known is None:
            self.expected[request_id] = Expected(RequestState.FILED, 1, {preparer, filer}, the_list, list(made))

    @rule(request_id=request_ids, editor=people, role=roles, raise_vnd=st.integers(1, 1_000_000))
    def change_a_filed_line(self, request_id: str, editor: str, role: Role, raise_vnd: int) -> None:
        expected = self.expected.get(request_id)
        if expected is None:
            return
        changed = replace(expected.lines[0], amount_vnd=expected.lines[0].amount_vnd + raise_vnd)
        refusal: type[RequestError] | None = None
        if role != Role.MOLISA_OFFICER:
            refusal = RoleRefused
        elif expected.state != RequestState.FILED:
            refusal = AlreadyApproved if expected.state == RequestState.APPROVED else NotFiled
        by = officer(editor, role)
        self.act(refusal, lambda conn: service.change_filed_line(conn, request_id, changed, by))
        if refusal is None:
            expected.lines[0] = changed
            expected.changed_after_filing = True

    @rule(request_id=request_ids)
    def change_the_lines_in_the_database(self, request_id: str) -> None:
        expected = self.expected.get(request_id)
        if expected is None:
            return
        before = self.snapshot()
        statement = text(
            "UPDATE payer_request_line SET amount_vnd = amount_vnd + 1 WHERE request_id = :id AND version = :version"
        )
        try:
            with self.engine.begin() as conn:
                conn.execute(statement, {"id": request_id, "version": expected.versions})
        except DBAPIError:
            assert expected.state != RequestState.FILED, "the lines of a filed version may change (the digest finds it)"
            assert self.snapshot() == before
            return
        assert expected.state == RequestState.FILED, "the database let a decided version's lines change"
        expected.lines = [replace(x, amount_vnd=x.amount_vnd + 1) for x in expected.lines]
        expected.changed_after_filing = True

    @rule(request_id=request_ids, person=people, role=checking_roles, tight=tight_budgets)
    def review(self, request_id: str, person: str, role: Role, tight: bool) -> None:
        expected = self.expected.get(request_id)
        if expected is None:
            return
        checker = officer(person, role)
        refusal = self.checker_refusal(request_id, checker)
        finds_something = tight or expected.changed_after_filing
        if refusal is None and not finds_something and role != Role.TREASURY_APPROVER:
            refusal = RoleRefused  # a clean review by a Treasury preparer: only an approver approves
        budgets = TIGHT_BUDGETS_VND if tight else AMPLE_BUDGETS_VND
        self.act(refusal, lambda conn: service.review_request(conn, request_id, budgets, checker, self.now_ms))
        event(f"review: {refusal.__name__ if refusal else 'returned' if finds_something else 'approved'}")
        if refusal is None:
            expected.state = RequestState.RETURNED if finds_something else RequestState.APPROVED
            if expected.state == RequestState.APPROVED:
                expected.approved_by.append(person)

    @rule(request_id=request_ids, person=people, role=roles)
    def return_for_the_officers_own_reason(self, request_id: str, person: str, role: Role) -> None:
        if request_id not in self.expected:
            return
        checker = officer(person, role)
        refusal = self.checker_refusal(request_id, checker)
        reason = Finding(reason=ReturnReason.OTHER, field="lines", detail="biên bản của xã chưa ký")
        self.act(refusal, lambda conn: service.return_request(conn, request_id, [reason], checker, self.now_ms))
        if refusal is None:
            self.expected[request_id].state = RequestState.RETURNED

    @rule(request_id=request_ids, preparer=people, filer=people, role=roles, made=lines(max_size=6))
    def correct(self, request_id: str, preparer: str, filer: str, role: Role, made: list[PaymentListLine]) -> None:
        expected = self.expected.get(request_id)
        if expected is None:
            return
        refusal: type[RequestError] | None = None
        if expected.state == RequestState.APPROVED:
            refusal = AlreadyApproved
        elif expected.state == RequestState.FILED:
            refusal = NotReturned
        elif expected.versions >= VERSIONS_PER_REQUEST_MAX:
            refusal = VersionsExhausted
        elif role not in FILERS:
            refusal = RoleRefused
        the_list = PaymentList(CYCLE, officer(preparer, Role.MOLISA_OFFICER), tuple(made))
        by = officer(filer, role)
        self.act(refusal, lambda conn: service.correct_request(conn, request_id, the_list, by, self.now_ms))
        event(f"correct: {refusal.__name__ if refusal else 'filed again'}")
        if refusal is None:
            expected.state, expected.versions, expected.lines = RequestState.FILED, expected.versions + 1, list(made)
            expected.changed_after_filing = False
            expected.makers |= {preparer, filer}

    @rule(request_id=request_ids, person=people, role=roles)
    def approve_with_a_forged_clean_review(self, request_id: str, person: str, role: Role) -> None:
        """The core alone, with a review that claims to have found nothing: maker–checker still holds."""
        if request_id not in self.expected:
            return
        checker = officer(person, role)
        with self.engine.connect() as conn:
            request = service.load_request(conn, request_id)
        forged = Review(request_id, request.version, checker, request.current.digest, request.current.totals, ())
        refusal = self.checker_refusal(request_id, checker) or (RoleRefused if role != Role.TREASURY_APPROVER else None)
        try:
            approved = core.approve(request, forged, self.now_ms)
        except (AlreadyApproved, NotFiled, RoleRefused, MakerCannotCheck, ReviewNotApproving) as error:
            assert type(error) is refusal
            return
        assert refusal is None
        assert approved.current.decided_by == checker and person not in approved.makers

    # --- invariants ----------------------------------------------------------------------------------

    @invariant()
    def every_request_keeps_the_rules(self) -> None:
        with self.engine.connect() as conn:
            for request_id, expected in self.expected.items():
                request = service.load_request(conn, request_id)
                assert core.invariant_problems(request) == []
                assert (request.state, len(request.versions)) == (expected.state, expected.versions)
                assert request.makers == expected.makers
                for version in request.versions:
                    assert sum(version.state == s for s in RequestState) == 1
                    if version.state.is_final:
                        first_seen = self.decided.setdefault((request_id, version.version), version)
                        assert version == first_seen, "a decided version changed"
                    if version.state == RequestState.APPROVED:
                        assert version.decided_by is not None
                        assert version.decided_by.officer_id not in request.makers
                        assert version.decided_by.role == Role.TREASURY_APPROVER
                        held = repository.load_lines(conn, request_id, version.version)
                        assert core.digest(held) == version.digest, "an approved list changed"
                self._lines_are_as_expected(conn, request_id, expected)

    def _lines_are_as_expected(self, conn: Connection, request_id: str, expected: Expected) -> None:
        held = repository.load_lines(conn, request_id, expected.versions)
        assert core.digest(held) == core.digest(expected.lines)


MakerCheckerMachine.TestCase.settings = settings(MakerCheckerMachine.TestCase.settings, stateful_step_count=30)
test_maker_checker_holds_under_any_sequence_of_actions_by_any_people = MakerCheckerMachine.TestCase
