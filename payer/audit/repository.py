"""The audit trail's table and every query on it. The code only ever INSERTs and SELECTs here.

Two writers must never fork the chain (both chaining an entry to the same head). Three things see to it:
- the sequence number is the primary key, so the database refuses a second entry with a number
  already taken, whatever happens above it;
- on PostgreSQL, `lock_for_append` takes a table lock that only one transaction holds at a time
  (SHARE ROW EXCLUSIVE: readers, verify among them, are not blocked), until that transaction ends;
- on SQLite, every transaction of a node's engine begins IMMEDIATE (ledger.storage), which holds the
  database's one write lock from the start, so the head read is the head at commit.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import BigInteger, Column, Connection, Engine, String, Text, insert, inspect, select, text
from sqlmodel import Field, SQLModel

from payer.audit.schemas import (
    ACTOR_LENGTH_MAX,
    HASH_HEX_LENGTH,
    SUBJECT_LENGTH_MAX,
    TIMELINE_ROWS_MAX,
    VERIFY_PAGE_ROWS_MAX,
    AuditEntry,
    ChainHead,
)

TABLE_NAME = "payer_audit_entry"
_CODE_LENGTH_MAX = 32  # the stored values of AuditAction and AuditRole


class AuditEntryRow(SQLModel, table=True):
    __tablename__ = TABLE_NAME
    sequence: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    time_ms: int = Field(sa_column=Column(BigInteger, nullable=False))
    actor: str = Field(sa_column=Column(String(ACTOR_LENGTH_MAX), nullable=False))
    role: str = Field(sa_column=Column(String(_CODE_LENGTH_MAX), nullable=False))
    action: str = Field(sa_column=Column(String(_CODE_LENGTH_MAX), nullable=False))
    subject: str = Field(sa_column=Column(String(SUBJECT_LENGTH_MAX), nullable=False, index=True))
    # Text, not JSON/JSONB: PostgreSQL would reorder a JSONB object's keys, and verify must hash the
    # very text that was hashed when the entry was written.
    details_json: str = Field(sa_column=Column(Text, nullable=False))
    previous_hash: str = Field(sa_column=Column(String(HASH_HEX_LENGTH), nullable=False))
    hash: str = Field(sa_column=Column(String(HASH_HEX_LENGTH), nullable=False))


ENTRIES = AuditEntryRow.__table__  # type: ignore[attr-defined]
_COLUMNS = (
    ENTRIES.c.sequence, ENTRIES.c.time_ms, ENTRIES.c.actor, ENTRIES.c.role, ENTRIES.c.action,
    ENTRIES.c.subject, ENTRIES.c.details_json, ENTRIES.c.previous_hash, ENTRIES.c.hash,
)  # fmt: skip


def create_tables(engine: Engine) -> None:
    SQLModel.metadata.create_all(engine, tables=[ENTRIES])


def table_exists(connection: Connection) -> bool:
    return inspect(connection).has_table(TABLE_NAME)


def lock_for_append(connection: Connection) -> None:
    """Holds the right to append until the caller's transaction ends (see the module docstring)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"LOCK TABLE {TABLE_NAME} IN SHARE ROW EXCLUSIVE MODE"))


def head(connection: Connection) -> ChainHead | None:
    row = connection.execute(
        select(ENTRIES.c.sequence, ENTRIES.c.hash).order_by(ENTRIES.c.sequence.desc()).limit(1)
    ).first()
    return None if row is None else ChainHead(row.sequence, row.hash)


def insert_entries(connection: Connection, entries: Sequence[AuditEntry]) -> None:
    """One executemany for the batch."""
    if entries:
        connection.execute(insert(ENTRIES), [_row(entry) for entry in entries])


def page(connection: Connection, after_sequence: int, limit: int) -> list[AuditEntry]:
    """The next `limit` entries after `after_sequence`, in sequence order (keyset paging)."""
    _check_limit(limit, VERIFY_PAGE_ROWS_MAX)
    query = select(*_COLUMNS).where(ENTRIES.c.sequence > after_sequence).order_by(ENTRIES.c.sequence).limit(limit)
    return [AuditEntry(*row) for row in connection.execute(query)]


def about(connection: Connection, subject_prefix: str, after_sequence: int, limit: int) -> list[AuditEntry]:
    """Entries whose subject starts with `subject_prefix` (a payroll's timeline), in sequence order."""
    _check_limit(limit, TIMELINE_ROWS_MAX)
    query = (
        select(*_COLUMNS)
        .where(ENTRIES.c.subject.startswith(subject_prefix, autoescape=True), ENTRIES.c.sequence > after_sequence)
        .order_by(ENTRIES.c.sequence)
        .limit(limit)
    )
    return [AuditEntry(*row) for row in connection.execute(query)]


def _check_limit(limit: int, limit_max: int) -> None:
    if not 1 <= limit <= limit_max:
        raise ValueError(f"limit: must be from 1 to {limit_max}, got {limit}")


def _row(entry: AuditEntry) -> dict[str, object]:
    return {
        "sequence": entry.sequence,
        "time_ms": entry.time_ms,
        "actor": entry.actor,
        "role": entry.role,
        "action": entry.action,
        "subject": entry.subject,
        "details_json": entry.details_json,
        "previous_hash": entry.previous_hash,
        "hash": entry.hash,
    }
