"""The payment-request shell: load, let the core decide, persist. It never commits: the caller
holds the transaction (`with engine.begin() as conn:`), so an action is written whole or not at
all, and a refused action raises before anything is written.

The HTTP endpoints (a key per role), the serving bank that pays an approved list and the audit
trail are built on these functions; `approved_list` is what the serving bank takes, and the only
way to the lines of a request for paying.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import Connection

from payer.requests import core, repository
from payer.requests.errors import DecidedMeanwhile, NotFound, RequestExists, RequestNotFound, RoleRefused
from payer.requests.schemas import (
    Exclusion,
    Finding,
    Officer,
    PaymentList,
    PaymentListLine,
    PaymentRequest,
    RequestVersion,
    Review,
    Role,
    Totals,
)
from switch.scheme.codes import Program


def file_request(
    conn: Connection,
    request_id: str,
    payment_list: PaymentList,
    by: Officer,
    now_ms: int,
    stated_totals: Totals | None = None,
    stated_digest: str | None = None,
) -> PaymentRequest:
    """File a new request. The same id filed again with the same list and totals answers the request
    as it stands; with other content it is refused."""
    request = core.file(payment_list, request_id, by, now_ms, stated_totals, stated_digest)
    existing = repository.find_request(conn, request_id)
    if existing is not None:
        first, filed = existing.versions[0], request.current
        if (existing.cycle, first.digest, first.totals) == (request.cycle, filed.digest, filed.totals):
            return existing
        raise RequestExists("request_id", f"{request_id} was filed with another list: a new list needs a new id")
    repository.insert_request(conn, request, payment_list)
    return request


def correct_request(
    conn: Connection,
    request_id: str,
    payment_list: PaymentList,
    by: Officer,
    now_ms: int,
    stated_totals: Totals | None = None,
    stated_digest: str | None = None,
) -> PaymentRequest:
    """File a returned request again, corrected, as its next version."""
    corrected = core.correct(load_request(conn, request_id), payment_list, by, now_ms, stated_totals, stated_digest)
    repository.insert_version(conn, request_id, corrected.current, payment_list)
    return corrected


def review_request(
    conn: Connection,
    request_id: str,
    budgets_vnd_by_program: Mapping[Program, int],
    officer: Officer,
    now_ms: int,
) -> tuple[PaymentRequest, Review]:
    """The Treasury's control of the filed version, against the lines held now: returned with every
    reason found, or, when nothing is found and the officer is an approver, approved."""
    request = load_request(conn, request_id)
    core.check_checker(request, officer, "checks a payment request")  # before reading two million lines
    lines_now = repository.load_lines(conn, request_id, request.version)
    done = core.review(request, lines_now, budgets_vnd_by_program, officer)
    decided = core.decide(request, done, now_ms)
    _save_decision(conn, decided)
    return decided, done


def return_request(
    conn: Connection, request_id: str, findings: Sequence[Finding], by: Officer, now_ms: int
) -> PaymentRequest:
    """Return the filed version for the officer's own reasons (ReturnReason.OTHER, say)."""
    returned = core.return_request(load_request(conn, request_id), findings, by, now_ms)
    _save_decision(conn, returned)
    return returned


def change_filed_line(conn: Connection, request_id: str, line: PaymentListLine, by: Officer) -> None:
    """Change (or add) one line of the filed version in place: an edit after filing, which the
    Treasury's control finds by the digest. Refused once the version is returned or approved."""
    _check_editor(by)
    request = load_request(conn, request_id)
    core.check_lines_may_change(request)
    core.check_lines([line])
    repository.put_line(conn, request_id, request.version, line)


def remove_filed_line(conn: Connection, request_id: str, citizen_id: str, program: Program, by: Officer) -> None:
    """Take one line off the filed version in place (found by the digest, as any edit after filing)."""
    _check_editor(by)
    request = load_request(conn, request_id)
    core.check_lines_may_change(request)
    if not repository.remove_line(conn, request_id, request.version, citizen_id, program):
        raise NotFound("citizen_id", f"{citizen_id} is not on version {request.version} for {program.value}")


def load_request(conn: Connection, request_id: str) -> PaymentRequest:
    request = repository.find_request(conn, request_id)
    if request is None:
        raise RequestNotFound("request_id", f"{request_id} was never filed")
    return request


def lines_of(conn: Connection, request_id: str, version: int) -> tuple[list[PaymentListLine], list[Exclusion]]:
    """A version's lines as held now and the beneficiaries left out of it, for reading, not paying."""
    request = load_request(conn, request_id)
    if not 1 <= version <= request.version:
        raise NotFound("version", f"{request_id} has versions 1 to {request.version}")
    return repository.load_lines(conn, request_id, version), repository.load_exclusions(conn, request_id, version)


def approved_list(conn: Connection, request_id: str) -> tuple[RequestVersion, list[PaymentListLine]]:
    """What may be paid: the approved version and its lines. Refused before approval."""
    request = load_request(conn, request_id)
    core.check_payable(request)
    lines = repository.load_lines(conn, request_id, request.version)
    assert core.digest(lines) == request.current.digest, f"{request_id}: approved lines changed (the guards failed)"
    return request.current, lines


def _save_decision(conn: Connection, decided: PaymentRequest) -> None:
    if not repository.save_decision(conn, decided.request_id, decided.current):
        raise DecidedMeanwhile(
            "state", f"version {decided.version} was returned or approved by another officer in the meantime"
        )


def _check_editor(by: Officer) -> None:
    if by.role != Role.MOLISA_OFFICER:
        raise RoleRefused("by.role", f"{by.role.value} does not edit a payment list ({Role.MOLISA_OFFICER.value} does)")
