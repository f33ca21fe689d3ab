"""Payment requests in the payer's database, on SQLite and PostgreSQL: what is filed, returned,
corrected and approved reads back as it was written; a decided version and its lines are kept as
they are by the database itself; the service refuses before it writes."""

from __future__ import annotations

from dataclasses import replace

import pytest
from payment_request_data import (
    AMPLE_BUDGETS_VND,
    CYCLE,
    MOLISA_OFFICER,
    NOW_MS,
    TREASURY_APPROVER,
    TREASURY_PREPARER,
    line,
    payment_list,
)
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel

from payer.requests import core, repository, service
from payer.requests.errors import (
    AlreadyApproved,
    NotApproved,
    RequestExists,
    RequestNotFound,
    RoleRefused,
)
from payer.requests.schemas import (
    Exclusion,
    ExclusionReason,
    Finding,
    PaymentList,
    RequestState,
    ReturnReason,
)
from switch.scheme.codes import Program

LINES = [line(n, program) for n, program in zip(range(1, 9), [*Program, *Program], strict=True)]
EXCLUDED = (
    Exclusion("", "Đinh Văn Tuấn", Program.SOCIAL_ASSISTANCE, 500_000, ExclusionReason.NO_CITIZEN_ID),
    Exclusion("001090999999", "Mai Thị Yến", Program.ELDERLY, 500_000, ExclusionReason.DECEASED),
)
REQUEST_ID = "MOLISA-2026-05-001"


@pytest.fixture
def db(engine: Engine) -> Engine:
    SQLModel.metadata.create_all(engine, tables=repository.TABLES)
    return engine


def the_list() -> PaymentList:
    return PaymentList(CYCLE, MOLISA_OFFICER, tuple(LINES), EXCLUDED)


def file_it(db: Engine) -> None:
    with db.begin() as conn:
        service.file_request(conn, REQUEST_ID, the_list(), TREASURY_PREPARER, NOW_MS)


def approve_it(db: Engine) -> None:
    with db.begin() as conn:
        decided, _review = service.review_request(conn, REQUEST_ID, AMPLE_BUDGETS_VND, TREASURY_APPROVER, NOW_MS + 9)
    assert decided.state == RequestState.APPROVED


def test_a_filed_request_reads_back_with_its_lines_exclusions_and_totals(db: Engine) -> None:
    file_it(db)
    with db.connect() as conn:
        request = service.load_request(conn, REQUEST_ID)
        lines_now, excluded = service.lines_of(conn, REQUEST_ID, 1)
    assert request == core.file(the_list(), REQUEST_ID, TREASURY_PREPARER, NOW_MS)
    assert sorted(lines_now, key=lambda x: x.key) == sorted(LINES, key=lambda x: x.key)
    assert tuple(excluded) == EXCLUDED


def test_returned_corrected_and_approved_versions_read_back_in_order_with_their_findings(db: Engine) -> None:
    file_it(db)
    reason = Finding(reason=ReturnReason.OTHER, field="lines", detail="xã Tân Phú is missing from the list")
    with db.begin() as conn:
        service.return_request(conn, REQUEST_ID, [reason], TREASURY_APPROVER, NOW_MS + 1)
    with db.begin() as conn:
        service.correct_request(conn, REQUEST_ID, payment_list(LINES[:5]), MOLISA_OFFICER, NOW_MS + 2)
    approve_it(db)
    with db.connect() as conn:
        request = service.load_request(conn, REQUEST_ID)
        version, paid = service.approved_list(conn, REQUEST_ID)
    assert [(v.version, v.state) for v in request.versions] == [(1, RequestState.RETURNED), (2, RequestState.APPROVED)]
    assert request.versions[0].findings == (reason,)
    assert request.versions[0].decided_by == TREASURY_APPROVER
    assert (version.version, version.digest) == (2, core.digest(LINES[:5]))
    assert version.decided_by == TREASURY_APPROVER and version.decided_ms == NOW_MS + 9
    assert core.digest(paid) == version.digest
    assert core.invariant_problems(request) == []


def test_the_same_request_filed_again_answers_the_request_and_other_content_is_refused(db: Engine) -> None:
    file_it(db)
    file_it(db)
    with db.begin() as conn, pytest.raises(RequestExists, match=r"request_id: MOLISA-2026-05-001 was filed with"):
        service.file_request(conn, REQUEST_ID, payment_list(LINES[:2]), TREASURY_PREPARER, NOW_MS)
    with db.connect() as conn:
        assert repository.request_ids(conn, CYCLE) == [REQUEST_ID]


def test_a_line_changed_after_filing_is_found_by_the_treasury_and_the_request_returned(db: Engine) -> None:
    file_it(db)
    with db.begin() as conn:
        service.change_filed_line(conn, REQUEST_ID, replace(LINES[0], amount_vnd=9_000_000), MOLISA_OFFICER)
    with db.begin() as conn:
        decided, review = service.review_request(conn, REQUEST_ID, AMPLE_BUDGETS_VND, TREASURY_APPROVER, NOW_MS + 1)
    assert decided.state == RequestState.RETURNED
    assert review.findings[0].reason == ReturnReason.LIST_CHANGED_AFTER_FILING
    with db.connect() as conn:
        assert service.load_request(conn, REQUEST_ID).current.findings == review.findings


def test_a_line_removed_after_filing_is_found_too(db: Engine) -> None:
    file_it(db)
    with db.begin() as conn:
        service.remove_filed_line(conn, REQUEST_ID, LINES[2].citizen_id, LINES[2].program, MOLISA_OFFICER)
    with db.begin() as conn:
        decided, _review = service.review_request(conn, REQUEST_ID, AMPLE_BUDGETS_VND, TREASURY_APPROVER, NOW_MS)
    assert decided.state == RequestState.RETURNED


def test_the_lines_of_an_approved_request_are_not_changed_through_the_service(db: Engine) -> None:
    file_it(db)
    approve_it(db)
    with db.begin() as conn, pytest.raises(AlreadyApproved):
        service.change_filed_line(conn, REQUEST_ID, replace(LINES[0], amount_vnd=9_000_000), MOLISA_OFFICER)
    with db.begin() as conn, pytest.raises(AlreadyApproved):
        service.review_request(conn, REQUEST_ID, AMPLE_BUDGETS_VND, TREASURY_APPROVER, NOW_MS)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE payer_request_line SET amount_vnd = amount_vnd + 1",
        "DELETE FROM payer_request_line",
        "UPDATE payer_request_version SET state = 'filed'",
        "UPDATE payer_request_version SET digest = 'forged'",
        "DELETE FROM payer_request_version",
    ],
)
def test_the_database_refuses_to_change_an_approved_version_or_its_lines(db: Engine, statement: str) -> None:
    file_it(db)
    approve_it(db)
    with pytest.raises(DBAPIError, match=r"never change"), db.begin() as conn:
        conn.execute(text(statement))
    with db.connect() as conn:
        version, paid = service.approved_list(conn, REQUEST_ID)
    assert version.state == RequestState.APPROVED and core.digest(paid) == core.digest(LINES)


def test_the_database_lets_a_filed_versions_lines_change_so_the_digest_can_find_it(db: Engine) -> None:
    file_it(db)
    with db.begin() as conn:
        conn.execute(text("UPDATE payer_request_line SET amount_vnd = amount_vnd + 1"))
    with db.begin() as conn:
        decided, _review = service.review_request(conn, REQUEST_ID, AMPLE_BUDGETS_VND, TREASURY_APPROVER, NOW_MS)
    assert decided.state == RequestState.RETURNED


def test_nothing_is_paid_before_approval(db: Engine) -> None:
    file_it(db)
    with db.connect() as conn, pytest.raises(NotApproved):
        service.approved_list(conn, REQUEST_ID)


def test_a_request_never_filed_is_not_found(db: Engine) -> None:
    with db.connect() as conn, pytest.raises(RequestNotFound, match=r"request_id: MOLISA-2026-05-404 was never filed"):
        service.load_request(conn, "MOLISA-2026-05-404")


def test_only_a_molisa_officer_edits_a_filed_list(db: Engine) -> None:
    file_it(db)
    with db.begin() as conn, pytest.raises(RoleRefused, match=r"by.role: treasury_approver does not edit"):
        service.change_filed_line(conn, REQUEST_ID, LINES[0], TREASURY_APPROVER)


def test_a_version_decided_by_another_officer_in_the_meantime_is_refused(db: Engine) -> None:
    file_it(db)
    with db.connect() as conn:
        stale = service.load_request(conn, REQUEST_ID)
    approve_it(db)
    reason = Finding(reason=ReturnReason.OTHER, field="lines", detail="late objection")
    late = core.return_request(stale, [reason], TREASURY_APPROVER, NOW_MS + 10)
    with db.begin() as conn:
        assert not repository.save_decision(conn, REQUEST_ID, late.current)
    with db.connect() as conn:
        assert service.load_request(conn, REQUEST_ID).state == RequestState.APPROVED


def test_a_list_longer_than_one_insert_is_written_in_chunks_and_reads_back_whole(
    db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(repository, "INSERT_CHUNK_LINES", 3)
    file_it(db)
    with db.connect() as conn:
        lines_now, excluded = service.lines_of(conn, REQUEST_ID, 1)
    assert core.digest(lines_now) == core.digest(LINES) and len(lines_now) == len(LINES) > 3
    assert tuple(excluded) == EXCLUDED
