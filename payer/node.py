"""The payer's node: the system MOLISA and the State Treasury share for payment requests, on its own
database (an SQLite file or a PostgreSQL schema, as every node). The imperative shell around
`payer.requests` and `payer.audit`.

It owns the transaction boundary. Each action is one database transaction that makes the change and
appends its audit entry, so the two commit together or not at all:

    file a new request      PREPARED (when the node prepares the list from its rolls) and FILED
    correct and refile      PREPARED (from the rolls) and FILED, for the next version
    return with reasons     RETURNED
    approve                 APPROVED

Reading the payment order of an approved request (`payment_order`: pain.001 documents addressed to
the Treasury's serving bank, payer.requests.orders) is a read: it writes nothing and appends nothing,
not even a "sent" step, since building the documents hands nothing to the bank (the sending does).

A refused action (a `payer.requests` error) rolls its transaction back, so nothing it would have
written is kept; the refusal is then appended as REFUSED in a transaction of its own, naming the
action, the field and the rule, and the error is raised again for the caller (HTTP maps it to a
problem). A review changes nothing and appends nothing, unless it is refused. Changing a line of a
filed list appends nothing either: no step of the payroll is "a line changed" (AuditAction has no
such value), and this is the edit after filing the Treasury's review finds by the digest.

The in-process network and the HTTP app (gateway.payer_node_app) call these same methods: one code
path. Time comes in as `now_ms`, as at every node.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import NamedTuple, TypeVar

from sqlalchemy import Connection, Engine
from sqlmodel import SQLModel

from payer.audit import repository as audit_repository
from payer.audit import service as audit_service
from payer.audit.schemas import (
    TIMELINE_ROWS_MAX,
    AuditAction,
    AuditEntry,
    AuditEvent,
    AuditRole,
    ChainHead,
    VerifyReport,
    payment_request_subject,
    timeline_prefix,
)
from payer.programs import RULES
from payer.requests import core, orders, repository, service
from payer.requests.errors import Conflict, DecidedMeanwhile, NotFound, RequestError, RoleRefused
from payer.requests.errors import InputInvalid as RequestInputInvalid
from payer.requests.schemas import (
    BUDGET_VND_MAX,
    REQUEST_ID_PATTERN,
    VERSIONS_PER_REQUEST_MAX,
    Finding,
    Officer,
    PaymentList,
    PaymentListLine,
    PaymentRequest,
    RequestState,
    Review,
    Role,
    ServingBank,
    Totals,
)
from payer.rolls import Beneficiary
from switch.scheme.codes import Program
from switch.scheme.disbursement import ITEMS_PER_FILE_MAX
from switch.scheme.identity import IdentityRecord, IdentityRegistry

T = TypeVar("T")
PAYER_NODE_NAME = "payer"  # its database's name in a network's storage (network.storage.Storage.engine_for)
LINES_PAGE_MAX = 1_000
REFUSAL_FIELD_BYTES_MAX = 200  # of a refusal's field and rule in its audit entry: the entry's details
REFUSAL_RULE_BYTES_MAX = 600  # stay well under payer.audit's 2,048 bytes, whatever the input was
UNNAMED_REQUEST = "unnamed-request"  # the subject of a refusal whose request id is not an id at all


class PayerAction(enum.StrEnum):
    """What an officer asks of the node; a refusal's audit entry names it (`refused`)."""

    FILE = "filed"  # a new request, its list given or prepared from the rolls
    CORRECT = "corrected"  # a returned request filed again as its next version
    CHANGE_LINE = "line_changed"  # a line of a filed list changed in place
    REVIEW = "reviewed"  # the Treasury's control, which changes nothing
    RETURN = "returned"
    APPROVE = "approved"


def budgets_vnd(expected_counts: Mapping[Program, int]) -> dict[Program, int]:
    """A cycle's budget by program: the expected number of beneficiaries, each at the program's
    highest amount (its standard times its highest category coefficient), so no list of that many
    people can go over it and any larger one does."""
    budgets = {}
    for program, count in expected_counts.items():
        rule = RULES[program]
        budgets[program] = count * rule.standard_vnd * max(rule.coefficients_tenths) // 10
    return budgets


def budgets_for_rolls(rolls: Sequence[Beneficiary]) -> dict[Program, int]:
    """The budgets of a cycle whose rolls are these: every beneficiary on them, by program."""
    return budgets_vnd(Counter(beneficiary.program for beneficiary in rolls))


class Filing(NamedTuple):
    request: PaymentRequest
    new: bool  # False: the same request filed again, answered as it stands


class _NoRegistry:
    """A node without the police registry knows nobody: a list prepared from rolls is empty."""

    def lookup(self, citizen_ids: Collection[str]) -> Mapping[str, IdentityRecord]:
        return {}


class PayerNode:
    def __init__(
        self,
        engine: Engine,
        registry: IdentityRegistry | None = None,
        rolls: Sequence[Beneficiary] = (),
        budgets_vnd_by_program: Mapping[Program, int] | None = None,
        serving_bank: ServingBank | None = None,
        items_per_order_part: int = ITEMS_PER_FILE_MAX,
    ) -> None:
        """`rolls` are the beneficiaries a list is prepared from when none is given, checked against
        `registry` (C06); the budgets are the cycle's by program, those of the rolls by default. The
        serving bank holds the Treasury's account and pays its approved lists (none: no payment order
        is made); a payment order has `items_per_order_part` items to a pain.001 at most."""
        orders.parts_total(0, items_per_order_part)  # a part size the scheme takes, or ValueError now
        budgets = dict(budgets_vnd_by_program) if budgets_vnd_by_program is not None else budgets_for_rolls(rolls)
        for program, budget_vnd in budgets.items():
            if not isinstance(program, Program) or type(budget_vnd) is not int or not 0 <= budget_vnd <= BUDGET_VND_MAX:
                raise ValueError(f"budgets_vnd_by_program: {program!r} needs a whole VND from 0 to {BUDGET_VND_MAX:,}")
        self.engine = engine
        self.registry: IdentityRegistry = registry if registry is not None else _NoRegistry()
        self.rolls = tuple(rolls)
        self.budgets_vnd_by_program = budgets
        self.serving_bank = serving_bank
        self.items_per_order_part = items_per_order_part

    def setup(self) -> None:
        SQLModel.metadata.create_all(self.engine, tables=repository.TABLES)
        audit_service.create_tables(self.engine)

    # --- MOLISA ------------------------------------------------------------------------------

    def file(
        self,
        request_id: str,
        cycle: str,
        by: Officer,
        now_ms: int,
        lines: Sequence[PaymentListLine] | None = None,
        stated_totals: Totals | None = None,
        stated_digest: str | None = None,
    ) -> Filing:
        """File a new request: the list given (`lines`, prepared by `by`), or, with none, prepared now
        from the node's rolls against the registry. The same id and list again answer the request as
        it stands and record nothing; the same id with another list is refused."""

        def work(conn: Connection) -> Filing:
            payment_list, prepared = self._payment_list(
                cycle, by, now_ms, lines, stated_totals, stated_digest, request_id, 1
            )
            new = repository.find_request(conn, request_id) is None
            request = service.file_request(conn, request_id, payment_list, by, now_ms, stated_totals, stated_digest)
            if new:
                audit_service.append_many(conn, [*prepared, _filed(request, by, now_ms)])
            return Filing(request, new)

        return self._act(PayerAction.FILE, request_id, 1, by, now_ms, work)

    def correct(
        self,
        request_id: str,
        version: int,
        by: Officer,
        now_ms: int,
        lines: Sequence[PaymentListLine] | None = None,
        stated_totals: Totals | None = None,
        stated_digest: str | None = None,
    ) -> PaymentRequest:
        """File returned `version` again, corrected, as the next version (its list given or prepared
        again from the rolls)."""

        def work(conn: Connection) -> PaymentRequest:
            request = _current(conn, request_id, version)
            payment_list, prepared = self._payment_list(
                request.cycle, by, now_ms, lines, stated_totals, stated_digest, request_id, version + 1
            )
            corrected = service.correct_request(
                conn, request_id, payment_list, by, now_ms, stated_totals, stated_digest
            )
            audit_service.append_many(conn, [*prepared, _filed(corrected, by, now_ms)])
            return corrected

        return self._act(PayerAction.CORRECT, request_id, version, by, now_ms, work)

    def change_line(self, request_id: str, version: int, line: PaymentListLine, by: Officer, now_ms: int) -> None:
        """Change (or add) a line of filed `version` in place: the list changed after filing."""

        def work(conn: Connection) -> None:
            _current(conn, request_id, version)
            service.change_filed_line(conn, request_id, line, by)

        self._act(PayerAction.CHANGE_LINE, request_id, version, by, now_ms, work)

    def _payment_list(
        self,
        cycle: str,
        by: Officer,
        now_ms: int,
        lines: Sequence[PaymentListLine] | None,
        stated_totals: Totals | None,
        stated_digest: str | None,
        request_id: str,
        version: int,
    ) -> tuple[PaymentList, list[AuditEvent]]:
        """The list to file, and the PREPARED entry when the node prepared it from its rolls."""
        if lines is not None:
            return PaymentList(cycle, by, tuple(lines)), []
        if stated_totals is not None or stated_digest is not None:
            raise RequestInputInvalid("lines", "totals and a digest are stated with the lines they are of")
        records = self.registry.lookup({beneficiary.citizen_id for beneficiary in self.rolls})
        payment_list = core.prepare(self.rolls, records, cycle, by)
        return payment_list, [_prepared(request_id, version, payment_list, now_ms)]

    # --- the Treasury ------------------------------------------------------------------------

    def review(self, request_id: str, version: int, officer: Officer, now_ms: int) -> Review:
        """The Treasury's control of filed `version` against the lines held now and the budgets:
        every reason to return it, or none. It changes nothing."""

        def work(conn: Connection) -> Review:
            request = _current(conn, request_id, version)
            core.check_checker(request, officer, "checks a payment request")  # before reading the lines
            lines_now = repository.load_lines(conn, request_id, version)
            return core.review(request, lines_now, self.budgets_vnd_by_program, officer)

        return self._act(PayerAction.REVIEW, request_id, version, officer, now_ms, work)

    def return_request(
        self, request_id: str, version: int, findings: Sequence[Finding], by: Officer, now_ms: int
    ) -> PaymentRequest:
        """Return filed `version` with its reasons (a review's findings, or the officer's own)."""

        def work(conn: Connection) -> PaymentRequest:
            _current(conn, request_id, version)
            returned = service.return_request(conn, request_id, findings, by, now_ms)
            audit_service.append(conn, _returned(returned, by, now_ms))
            return returned

        return self._act(PayerAction.RETURN, request_id, version, by, now_ms, work)

    def approve(self, request_id: str, version: int, by: Officer, now_ms: int) -> PaymentRequest:
        """Approve filed `version`: only a Treasury approver who made no version of it, and only
        when the review of the lines held now finds nothing (else it is returned, not approved)."""

        def work(conn: Connection) -> PaymentRequest:
            request = _current(conn, request_id, version)
            core.check_checker(request, by, "approves a payment request")
            if by.role != Role.TREASURY_APPROVER:  # before reading two million lines
                rule = f"{by.role.value} does not approve a payment request ({Role.TREASURY_APPROVER.value} does)"
                raise RoleRefused("officer.role", rule)
            lines_now = repository.load_lines(conn, request_id, version)
            approved = core.approve(request, core.review(request, lines_now, self.budgets_vnd_by_program, by), now_ms)
            if not repository.save_decision(conn, request_id, approved.current):
                raise DecidedMeanwhile("state", f"version {version} was returned or approved by another officer")
            audit_service.append(conn, _approved(approved, len(lines_now), by, now_ms))
            return approved

        return self._act(PayerAction.APPROVE, request_id, version, by, now_ms, work)

    # --- reading -----------------------------------------------------------------------------

    def request(self, request_id: str) -> PaymentRequest:
        with self.engine.connect() as conn:
            return service.load_request(conn, request_id)

    def lines_page(
        self, request_id: str, version: int, after: tuple[str, Program] | None = None, limit: int = LINES_PAGE_MAX
    ) -> list[PaymentListLine]:
        """Up to `limit` lines of a version as held now, in canonical order (citizen id, program),
        those after `after` (the last line of the page before)."""
        if not 1 <= limit <= LINES_PAGE_MAX:
            raise RequestInputInvalid("limit", f"must be from 1 to {LINES_PAGE_MAX}")
        with self.engine.connect() as conn:
            request = service.load_request(conn, request_id)
            if not 1 <= version <= request.version:
                raise NotFound("version", f"{request_id} has versions 1 to {request.version}")
            return repository.lines_page(conn, request_id, version, after, limit)

    def payment_order(self, request_id: str, part: int) -> tuple[bytes, int]:
        """Part `part` (1-based) of the approved request's payment order, a pain.001 addressed to the
        serving bank, and how many parts the order has. Refused before approval (NotApproved) and for
        a part it does not have (NotFound). A read: nothing is written, and nothing is sent."""
        if self.serving_bank is None:
            raise Conflict("serving_bank", "this node has no serving bank: the Treasury pays through none")
        with self.engine.connect() as conn:
            request = service.load_request(conn, request_id)
            core.check_payable(request)  # before reading two million lines
            _approved, lines = service.approved_list(conn, request_id)
        order = orders.payment_order_part(request, lines, self.serving_bank, part, self.items_per_order_part)
        return order.pain001(), order.parts_total

    def timeline(self, request_id: str, after_sequence: int = 0, limit: int = TIMELINE_ROWS_MAX) -> list[AuditEntry]:
        """The request's audit entries in order, refusals among them (a request refused before it was
        ever filed has those only)."""
        with self.engine.connect() as conn:
            return audit_repository.about(conn, timeline_prefix(request_id), after_sequence, limit)

    def verify_audit(self, expected_head: ChainHead | None = None) -> VerifyReport:
        return audit_service.verify(self.engine, expected_head)

    def audit_head(self) -> ChainHead | None:
        with self.engine.connect() as conn:
            return audit_service.head(conn)

    def versions_by_state(self) -> dict[RequestState, int]:
        """How many request versions are filed, returned and approved (what /metrics shows)."""
        with self.engine.connect() as conn:
            counted = repository.versions_by_state(conn)
        return {state: counted.get(state, 0) for state in RequestState}

    # --- refusals ----------------------------------------------------------------------------

    def _act(
        self,
        action: PayerAction,
        request_id: str,
        version: int,
        by: Officer,
        now_ms: int,
        work: Callable[[Connection], T],
    ) -> T:
        try:
            with self.engine.begin() as conn:
                return work(conn)
        except RequestError as error:  # rolled back: the refusal is recorded on its own, then raised
            self.record_refusal(action, request_id, version, by, error.field, error.rule, now_ms)
            raise

    def record_refusal(
        self, action: PayerAction, request_id: str, version: int | None, by: Officer, field: str, rule: str, now_ms: int
    ) -> AuditEntry:
        """Append the refusal of `action` by `by`, in a transaction of its own. The HTTP door calls it
        too, for a body it refuses before the action is asked (malformed JSON, a field of the wrong
        type). `version` is the one the action was about (None when the body did not say)."""
        with self.engine.begin() as conn:
            known = repository.find_request(conn, request_id) if _is_id(request_id) else None
            if version is None or not 1 <= version <= VERSIONS_PER_REQUEST_MAX:
                version = known.version if known is not None else 1
            subject = payment_request_subject(request_id, version) if _is_id(request_id) else UNNAMED_REQUEST
            details = {
                "refused": action.value,
                "field": _clip(field, REFUSAL_FIELD_BYTES_MAX),
                "rule": _clip(rule, REFUSAL_RULE_BYTES_MAX),
                "officer_name": by.name,
            }
            event = AuditEvent(now_ms, by.officer_id, AuditRole(by.role.value), AuditAction.REFUSED, subject, details)
            return audit_service.append(conn, event)


def _is_id(request_id: str) -> bool:
    return REQUEST_ID_PATTERN.fullmatch(request_id) is not None


def _clip(text: str, bytes_max: int) -> str:
    """At most `bytes_max` bytes of UTF-8, whole characters only; a lone surrogate becomes '?'."""
    encoded = text.encode("utf-8", "replace")[:bytes_max]
    return encoded.decode("utf-8", "ignore")


def _current(conn: Connection, request_id: str, version: int) -> PaymentRequest:
    """The request, if `version` is its current version: an officer acts on the version they saw."""
    request = service.load_request(conn, request_id)
    if version != request.version:
        rule = f"version {version} is not the current version of {request_id}, {request.version}: read it again"
        raise Conflict("version", rule)
    return request


# --- the steps' audit entries --------------------------------------------------------------------


def _event(
    by: Officer, action: AuditAction, request_id: str, version: int, now_ms: int, **details: object
) -> AuditEvent:
    subject = payment_request_subject(request_id, version)
    return AuditEvent(
        now_ms, by.officer_id, AuditRole(by.role.value), action, subject, {"officer_name": by.name, **details}
    )


def _prepared(request_id: str, version: int, payment_list: PaymentList, now_ms: int) -> AuditEvent:
    grand = core.totals(payment_list.lines).grand
    excluded = Counter(exclusion.reason.value for exclusion in payment_list.excluded)
    return _event(
        payment_list.prepared_by, AuditAction.PREPARED, request_id, version, now_ms,
        cycle=payment_list.cycle, lines=grand.count, amount_vnd=grand.amount_vnd,
        excluded=dict(sorted(excluded.items())),
    )  # fmt: skip


def _filed(request: PaymentRequest, by: Officer, now_ms: int) -> AuditEvent:
    filed = request.current
    return _event(
        by, AuditAction.FILED, request.request_id, filed.version, now_ms,
        cycle=request.cycle, digest=filed.digest, lines=filed.totals.grand.count,
        amount_vnd=filed.totals.grand.amount_vnd, prepared_by=filed.prepared_by.officer_id,
    )  # fmt: skip


def _returned(request: PaymentRequest, by: Officer, now_ms: int) -> AuditEvent:
    returned = request.current
    reasons = sorted({finding.reason.value for finding in returned.findings})
    return _event(
        by, AuditAction.RETURNED, request.request_id, returned.version, now_ms,
        reasons=reasons, findings=len(returned.findings), digest=returned.digest,
    )  # fmt: skip


def _approved(request: PaymentRequest, lines: int, by: Officer, now_ms: int) -> AuditEvent:
    approved = request.current
    return _event(
        by, AuditAction.APPROVED, request.request_id, approved.version, now_ms,
        digest=approved.digest, lines=lines, amount_vnd=approved.totals.grand.amount_vnd,
    )  # fmt: skip
