"""The audit trail's shell: append a step in the caller's transaction, verify a whole log.

A step appends its entry in the same transaction as the change it records, so the entry and the
change commit together or not at all; `append` never commits. A refusal is recorded the same way, in
a transaction of its own that the refused change never touched:

    with engine.begin() as connection:
        service.append(connection, AuditEvent(clock.now_ms(), "Trần Thị Hoa", AuditRole.TREASURY_APPROVER,
                                               AuditAction.REFUSED, payment_request_subject(request_id, 2),
                                               {"refused": "approved", "rule": "the preparer cannot approve"}))
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from sqlalchemy import Connection, Engine, text

from ledger.storage import SCHEMA_NAME_PATTERN, open_engine
from payer.audit import core, repository
from payer.audit.errors import AppendBatchTooLarge, AuditLogMissing
from payer.audit.schemas import (
    APPEND_BATCH_MAX,
    TIMELINE_ROWS_MAX,
    VERIFY_PAGE_ROWS_DEFAULT,
    AuditEntry,
    AuditEvent,
    ChainHead,
    VerifyReport,
    timeline_prefix,
)

create_tables = repository.create_tables


def append(connection: Connection, event: AuditEvent) -> AuditEntry:
    """Records one step; AuditEventInvalid (naming the field) appends nothing."""
    return append_many(connection, [event])[0]


def append_many(connection: Connection, events: Sequence[AuditEvent]) -> list[AuditEntry]:
    """Records steps in order, in one INSERT, e.g. a pain.002's paid items. The events are checked
    before the log is locked, so bad input neither waits for nor holds the lock."""
    if len(events) > APPEND_BATCH_MAX:
        raise AppendBatchTooLarge(len(events), APPEND_BATCH_MAX)
    details = core.check_events(events)
    if not events:
        return []
    repository.lock_for_append(connection)
    entries = core.chain(repository.head(connection), events, details)
    repository.insert_entries(connection, entries)
    return entries


def head(connection: Connection) -> ChainHead | None:
    return repository.head(connection)


def timeline(connection: Connection, request_id: str, limit: int = TIMELINE_ROWS_MAX) -> list[AuditEntry]:
    """A payment request's steps in order: its versions, its items, its cash lists (at most `limit`)."""
    return repository.about(connection, timeline_prefix(request_id), 0, limit)


def verify(
    engine: Engine, expected_head: ChainHead | None = None, page_rows: int = VERIFY_PAGE_ROWS_DEFAULT
) -> VerifyReport:
    """The whole log checked from its first entry, `page_rows` entries in memory at a time. Each page
    is read in a short transaction of its own, so writers wait for one page at most; rows are only
    ever added after the head, so paging by sequence number misses none."""
    with engine.connect() as connection:
        if not repository.table_exists(connection):
            raise AuditLogMissing(engine.url.render_as_string(hide_password=True))
    return core.verify(_entries(engine, page_rows), expected_head)


def _entries(engine: Engine, page_rows: int) -> Iterator[AuditEntry]:
    after = 0
    while True:
        with engine.connect() as connection:
            entries = repository.page(connection, after, page_rows)
        yield from entries
        if len(entries) < page_rows:
            return
        after = entries[-1].sequence


def open_database(where: str, schema: str | None = None) -> Engine:
    """The engine of a node's database to verify: an SQLite file's path (or sqlite: URL), or a
    postgresql:// URL with the node's schema. It never creates anything: a missing file or schema is
    AuditLogMissing, where opening it the ordinary way would make a new, empty one."""
    if where.startswith("postgresql"):
        return _open_postgres(where, schema)
    if schema is not None:
        raise AuditLogMissing(where, "--schema is for PostgreSQL only")
    path = Path(where.removeprefix("sqlite:///")) if where.startswith("sqlite:///") else Path(where)
    if not path.is_file():
        raise AuditLogMissing(where, "no such file")
    return open_engine(f"sqlite:///{path}")


def _open_postgres(url: str, schema: str | None) -> Engine:
    if schema is None:
        return open_engine(url)
    if not SCHEMA_NAME_PATTERN.match(schema):
        raise AuditLogMissing(f"schema {schema!r}", f"must match {SCHEMA_NAME_PATTERN.pattern}")
    plain = open_engine(url)
    try:
        with plain.connect() as connection:
            found = connection.execute(
                text("SELECT 1 FROM information_schema.schemata WHERE schema_name = :schema"), {"schema": schema}
            ).first()
    finally:
        plain.dispose()
    if found is None:
        raise AuditLogMissing(plain.url.render_as_string(hide_password=True), f"no schema {schema!r}")
    return open_engine(url, schema=schema)
