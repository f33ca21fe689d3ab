"""payer.audit.service and repository on real databases (an SQLite file and PostgreSQL): appending in
the caller's transaction, verifying page by page, rows altered with plain SQL, concurrent appenders."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from audit_data import DECEMBER_2026_MS, events
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from payer.audit import core, repository, service
from payer.audit.errors import AppendBatchTooLarge, AuditEventInvalid, AuditLogMissing
from payer.audit.schemas import (
    APPEND_BATCH_MAX,
    AuditAction,
    AuditEntry,
    AuditEvent,
    AuditRole,
    BrokenLinkReason,
    ChainHead,
    cash_list_subject,
    payment_request_subject,
    payroll_item_subject,
)

HANOI = "MOLISA-2026-12-HN-0001"
HANOI_LATER = "MOLISA-2026-12-HN-00011"  # shares HANOI's characters: must not join its timeline
MINUTE_MS = 60_000


def payroll_steps(request_id: str = HANOI, start_ms: int = DECEMBER_2026_MS) -> list[AuditEvent]:
    """The issue's story for one request: prepared, filed, returned, filed again, a refused approval by
    its preparer, approved, sent, one item paid, one paid in cash, the rest returned unclaimed."""
    v1, v2 = payment_request_subject(request_id, 1), payment_request_subject(request_id, 2)
    steps: list[tuple[str, AuditRole, AuditAction, str, dict[str, Any]]] = [
        ("Nguyễn Thị Lan", AuditRole.MOLISA_OFFICER, AuditAction.PREPARED, v1, {"items": 3, "amount_vnd": 1_500_000}),
        ("Nguyễn Thị Lan", AuditRole.MOLISA_OFFICER, AuditAction.FILED, v1, {"digest": "9f2c41"}),
        ("Lê Hoàng Yến", AuditRole.TREASURY_PREPARER, AuditAction.RETURNED, v1, {"reason": "tổng không khớp"}),
        ("Nguyễn Thị Lan", AuditRole.MOLISA_OFFICER, AuditAction.FILED, v2, {"digest": "4be0a7"}),
        ("Lê Hoàng Yến", AuditRole.TREASURY_APPROVER, AuditAction.REFUSED, v2,
         {"refused": "approved", "rule": "the preparer of a payment order never approves it"}),
        ("Trần Văn Đức", AuditRole.TREASURY_APPROVER, AuditAction.APPROVED, v2, {"items": 3}),
        ("VietinBank 970415", AuditRole.TREASURY_BANK, AuditAction.SENT, v2, {"message_id": "KBNN-2026-12-0001"}),
        ("NAPAS", AuditRole.SYSTEM, AuditAction.PAID, payroll_item_subject(request_id, "E2E-2026-12-000001"),
         {"amount_vnd": 500_000, "creditor_agent": "970436"}),
        ("Bưu điện Ba Đình", AuditRole.POST_OFFICE, AuditAction.PAID_IN_CASH,
         payroll_item_subject(request_id, "E2E-2026-12-000002"), {"amount_vnd": 500_000, "representative": True}),
        ("Bưu điện Ba Đình", AuditRole.POST_OFFICE, AuditAction.RETURNED_UNCLAIMED,
         cash_list_subject(request_id, "00004"), {"items": 1, "amount_vnd": 500_000}),
    ]  # fmt: skip
    return [
        AuditEvent(start_ms + i * MINUTE_MS, actor, role, action, subject, details)
        for i, (actor, role, action, subject, details) in enumerate(steps)
    ]


@pytest.fixture
def log(engine: Engine) -> Engine:
    service.create_tables(engine)
    return engine


def record(engine: Engine, steps: list[AuditEvent]) -> list[AuditEntry]:
    """Each step in a transaction of its own, as the payroll's steps will append them."""
    entries = []
    for step in steps:
        with engine.begin() as connection:
            entries.append(service.append(connection, step))
    return entries


def alter(engine: Engine, statement: str, **values: Any) -> None:
    """What someone with the database's password does: plain SQL, no code of ours."""
    with engine.begin() as connection:
        connection.execute(text(statement), values)


def test_a_payrolls_steps_each_in_its_own_transaction_form_a_chain_that_verifies(log: Engine) -> None:
    entries = record(log, payroll_steps())
    report = service.verify(log)
    assert report.ok
    assert report.entries == 10
    assert report.head == ChainHead(10, entries[-1].hash)
    assert [e.action for e in entries] == [s.action.value for s in payroll_steps()]


def test_what_the_database_gives_back_is_exactly_what_was_chained(log: Engine) -> None:
    steps = payroll_steps()
    record(log, steps)
    with log.connect() as connection:
        stored = repository.page(connection, 0, 100)
    assert stored == core.chain(None, steps, core.check_events(steps))
    assert stored[8].details == {"amount_vnd": 500_000, "representative": True}
    assert stored[8].actor == "Bưu điện Ba Đình"


def test_an_entry_appended_in_a_transaction_that_rolls_back_is_not_kept(log: Engine) -> None:
    record(log, payroll_steps()[:2])
    with pytest.raises(RuntimeError), log.begin() as connection:
        service.append(connection, payroll_steps()[2])
        raise RuntimeError("the return it records failed: neither is kept")
    report = service.verify(log)
    assert (report.ok, report.entries) == (True, 2)


def test_a_batch_of_steps_is_appended_in_order_in_one_transaction(log: Engine) -> None:
    with log.begin() as connection:
        entries = service.append_many(connection, payroll_steps())
    assert [e.sequence for e in entries] == list(range(1, 11))
    assert service.verify(log).ok


def test_a_bad_event_appends_nothing_and_names_its_field(log: Engine) -> None:
    good = payroll_steps()[0]
    bad = AuditEvent(good.time_ms, good.actor, good.role, good.action, good.subject, {"amount_vnd": 1_500_000.0})
    with log.begin() as connection:
        with pytest.raises(AuditEventInvalid, match=r"details\.amount_vnd: must not be a float"):
            service.append_many(connection, [good, bad])
        assert service.head(connection) is None


def test_more_events_than_one_append_takes_are_refused() -> None:
    step = payroll_steps()[0]
    with pytest.raises(AppendBatchTooLarge):
        service.append_many(None, [step] * (APPEND_BATCH_MAX + 1))  # type: ignore[arg-type]


def test_a_row_altered_with_plain_sql_is_named_with_its_sequence_number(log: Engine) -> None:
    record(log, payroll_steps())
    alter(log, "UPDATE payer_audit_entry SET actor = :actor WHERE sequence = 6", actor="Lê Hoàng Yến")
    report = service.verify(log)
    assert report.broken is not None
    assert (report.broken.sequence, report.broken.reason) == (6, BrokenLinkReason.HASH_MISMATCH)
    assert report.entries == 5


def test_an_amount_altered_inside_the_details_is_named(log: Engine) -> None:
    record(log, payroll_steps())
    alter(log, "UPDATE payer_audit_entry SET details_json = :details WHERE sequence = 9",
          details='{"amount_vnd":5000000,"representative":true}')  # fmt: skip
    report = service.verify(log)
    assert report.broken is not None
    assert (report.broken.sequence, report.broken.reason) == (9, BrokenLinkReason.HASH_MISMATCH)


def test_a_row_deleted_with_plain_sql_is_named_as_a_gap(log: Engine) -> None:
    record(log, payroll_steps())
    alter(log, "DELETE FROM payer_audit_entry WHERE sequence = 5")  # the refused approval, hidden
    report = service.verify(log)
    assert report.broken is not None
    assert (report.broken.sequence, report.broken.reason) == (5, BrokenLinkReason.SEQUENCE_GAP)


def test_a_cut_tail_is_named_against_the_head_pinned_before(log: Engine) -> None:
    record(log, payroll_steps())
    pinned = service.verify(log).head
    alter(log, "DELETE FROM payer_audit_entry WHERE sequence >= 9")
    assert service.verify(log).ok
    report = service.verify(log, expected_head=pinned)
    assert report.broken is not None
    assert (report.broken.sequence, report.broken.reason) == (9, BrokenLinkReason.EXPECTED_HEAD_MISSING)


@pytest.mark.parametrize("altered", [1, 5, 6, 7, 23])
def test_verify_reads_in_pages_and_finds_the_same_first_broken_link(log: Engine, altered: int) -> None:
    record(log, payroll_steps() + payroll_steps(HANOI_LATER) + payroll_steps()[:3])
    whole = service.verify(log, page_rows=5)
    assert (whole.ok, whole.entries) == (True, 23)
    assert whole == service.verify(log)
    alter(log, "UPDATE payer_audit_entry SET time_ms = time_ms + 1 WHERE sequence = :sequence", sequence=altered)
    report = service.verify(log, page_rows=5)
    assert report.broken is not None
    assert (report.broken.sequence, report.entries) == (altered, altered - 1)
    assert report == service.verify(log)


def test_a_payrolls_timeline_holds_its_versions_items_and_cash_lists_in_order_and_no_other_payroll(
    log: Engine,
) -> None:
    record(log, payroll_steps(HANOI_LATER)[:3] + payroll_steps())
    with log.connect() as connection:
        timeline = service.timeline(connection, HANOI)
    assert [e.action for e in timeline] == [s.action.value for s in payroll_steps()]
    assert all(e.subject.startswith(HANOI + "/") for e in timeline)


def test_verify_says_so_when_the_database_has_no_audit_trail(engine: Engine) -> None:
    with pytest.raises(AuditLogMissing, match="no table payer_audit_entry"):
        service.verify(engine)


@settings(max_examples=15)
@given(st.lists(st.lists(events, min_size=1, max_size=6), min_size=1, max_size=4))
def test_any_steps_appended_on_sqlite_and_postgresql_verify_and_read_back_as_appended(
    log: Engine, transactions: list[list[AuditEvent]]
) -> None:
    with log.connect() as connection:
        before = service.head(connection)
    appended: list[AuditEntry] = []
    for steps in transactions:
        with log.begin() as connection:
            appended += service.append_many(connection, steps)
    report = service.verify(log, page_rows=4)
    assert report.ok
    assert report.head == ChainHead(appended[-1].sequence, appended[-1].hash)
    with log.connect() as connection:
        assert repository.page(connection, before.sequence if before else 0, 100) == appended


def test_concurrent_appenders_never_fork_the_chain(log: Engine) -> None:
    threads_count, steps_each = 4, 20
    start = threading.Barrier(threads_count)
    failures: list[BaseException] = []

    def appender(number: int) -> None:
        steps = payroll_steps(f"MOLISA-2026-12-HN-{number:04d}", DECEMBER_2026_MS + number) * 2
        try:
            start.wait()
            record(log, steps[:steps_each])
        except BaseException as error:  # noqa: BLE001 - reported below, with the thread that raised it
            failures.append(error)

    threads = [threading.Thread(target=appender, args=(n,)) for n in range(1, threads_count + 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    report = service.verify(log)
    assert (report.ok, report.entries) == (True, threads_count * steps_each)
    with log.connect() as connection:
        for number in range(1, threads_count + 1):
            assert len(service.timeline(connection, f"MOLISA-2026-12-HN-{number:04d}")) == steps_each
