"""The switch's record of bulk disbursements, their items and their row errors; every query on them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import BigInteger, Column, Connection, Index, Integer, String, UniqueConstraint, func, select
from sqlmodel import Field, SQLModel

from ledger.fastsql import Statement
from switch.disbursements.schemas import BatchRecord, ItemRecord
from switch.scheme.codes import DisbursementStatus, ItemStatus, Program, StatusReason
from switch.scheme.disbursement import ROW_ERRORS_LISTED_MAX, RowError


class BulkBatchRow(SQLModel, table=True):
    __tablename__ = "switch_bulk_batch"
    __table_args__ = (UniqueConstraint("debtor_agent", "message_id"),)
    id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    debtor_agent: str = Field(sa_column=Column(String(6), nullable=False))
    message_id: str = Field(sa_column=Column(String(35), nullable=False))
    digest: str = Field(sa_column=Column(String(64), nullable=False))
    source_format: str = Field(sa_column=Column(String(10), nullable=False))
    status: str = Field(sa_column=Column(String(10), nullable=False, index=True))
    reason: str | None = Field(sa_column=Column(String(4), nullable=True))
    rows_total: int = Field(sa_column=Column(Integer, nullable=False))
    rows_rejected: int = Field(sa_column=Column(Integer, nullable=False))
    items_total: int = Field(sa_column=Column(Integer, nullable=False))
    amount_total_vnd: int = Field(sa_column=Column(BigInteger, nullable=False))
    reserved_vnd: int = Field(sa_column=Column(BigInteger, nullable=False))
    received_ms: int = Field(sa_column=Column(BigInteger, nullable=False))
    completed_ms: int | None = Field(sa_column=Column(BigInteger, nullable=True))


class BulkItemRow(SQLModel, table=True):
    __tablename__ = "switch_bulk_item"
    # (batch, status, row): a pump takes the next queued rows of a batch in order without a sort.
    __table_args__ = (Index("ix_switch_bulk_item_batch_status", "batch_id", "status", "seq"),)
    batch_id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    seq: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    # program|cycle|citizen id, unique across files: nobody is paid twice for a program and cycle
    beneficiary_key: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    end_to_end_id: str = Field(sa_column=Column(String(35), nullable=False))
    citizen_id: str = Field(sa_column=Column(String(12), nullable=False))
    name: str = Field(sa_column=Column(String(140), nullable=False))
    province_code: str = Field(sa_column=Column(String(3), nullable=False))
    program: str = Field(sa_column=Column(String(20), nullable=False))
    cycle: str = Field(sa_column=Column(String(7), nullable=False))
    amount_vnd: int = Field(sa_column=Column(BigInteger, nullable=False))
    status: str = Field(sa_column=Column(String(6), nullable=False))
    reason: str | None = Field(sa_column=Column(String(4), nullable=True))
    creditor_agent: str | None = Field(sa_column=Column(String(6), nullable=True))
    attempts: int = Field(sa_column=Column(Integer, nullable=False))
    due_ms: int = Field(sa_column=Column(BigInteger, nullable=False))
    updated_ms: int = Field(sa_column=Column(BigInteger, nullable=False))


class BulkRowErrorRow(SQLModel, table=True):
    __tablename__ = "switch_bulk_row_error"
    batch_id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    ordinal: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    row: int = Field(sa_column=Column(Integer, nullable=False))
    field: str = Field(sa_column=Column(String(60), nullable=False))
    rule: str = Field(sa_column=Column(String(300), nullable=False))
    reason: str = Field(sa_column=Column(String(4), nullable=False))
    end_to_end_id: str | None = Field(sa_column=Column(String(35), nullable=True))


BATCHES = BulkBatchRow.__table__  # type: ignore[attr-defined]
ITEMS = BulkItemRow.__table__  # type: ignore[attr-defined]
ROW_ERRORS = BulkRowErrorRow.__table__  # type: ignore[attr-defined]
TABLES = [BATCHES, ITEMS, ROW_ERRORS]

_ITEM_COLUMNS = (
    "batch_id, seq, end_to_end_id, citizen_id, name, province_code, program, cycle, amount_vnd, status, reason,"
    " creditor_agent, attempts, due_ms, updated_ms"
)
_INSERT_ITEM = Statement(
    f"INSERT INTO switch_bulk_item ({_ITEM_COLUMNS}, beneficiary_key) VALUES (:batch_id, :seq, :end_to_end_id,"
    " :citizen_id, :name, :province_code, :program, :cycle, :amount_vnd, :status, :reason, :creditor_agent,"
    " :attempts, :due_ms, :updated_ms, :beneficiary_key)"
)
_EXISTING_KEYS = Statement("SELECT beneficiary_key FROM switch_bulk_item WHERE beneficiary_key = ANY(:ids)")
_LOAD_ITEMS = Statement(f"SELECT {_ITEM_COLUMNS} FROM switch_bulk_item WHERE batch_id = :batch_id AND seq = ANY(:ids)")
# Two index range scans (queued, then retries that are due), each in row order; the pump groups the
# chosen items by creditor agent itself. An OR with ORDER BY creditor would sort a whole batch.
_SENDABLE = Statement(
    f"SELECT * FROM (SELECT {_ITEM_COLUMNS} FROM switch_bulk_item WHERE batch_id = :batch_id"
    " AND status = 'queued' ORDER BY seq LIMIT :limit) AS queued"
    f" UNION ALL SELECT * FROM (SELECT {_ITEM_COLUMNS} FROM switch_bulk_item WHERE batch_id = :batch_id"
    " AND status = 'retry' AND due_ms <= :now_ms ORDER BY seq LIMIT :limit) AS due"
)
# PostgreSQL, several workers pumping one batch: an item one worker is sending is skipped by the others.
_SENDABLE_LOCKED = Statement(
    f"SELECT {_ITEM_COLUMNS} FROM switch_bulk_item WHERE batch_id = :batch_id"
    " AND (status = 'queued' OR (status = 'retry' AND due_ms <= :now_ms)) ORDER BY seq LIMIT :limit"
    " FOR UPDATE SKIP LOCKED"
)
_COUNT_SENT = Statement(
    "SELECT count(*), min(updated_ms) FROM switch_bulk_item WHERE batch_id = :batch_id AND status = 'sent'"
)
_UPDATE_ITEM = Statement(
    "UPDATE switch_bulk_item SET status = :status, reason = :reason, attempts = :attempts, due_ms = :due_ms,"
    " updated_ms = :updated_ms WHERE batch_id = :batch_id AND seq = :seq"
)
_COUNT_BY_STATUS = Statement(
    "SELECT status, count(*), coalesce(sum(amount_vnd), 0) FROM switch_bulk_item WHERE batch_id = :batch_id"
    " GROUP BY status"
)
_COUNT_OPEN = Statement(
    "SELECT count(*) FROM switch_bulk_item WHERE batch_id = :batch_id AND status IN ('queued', 'sent', 'retry')"
)
_GROUPS = Statement(
    "SELECT status, reason, creditor_agent, program, province_code, count(*), sum(amount_vnd) FROM switch_bulk_item"
    " WHERE batch_id = :batch_id GROUP BY status, reason, creditor_agent, program, province_code"
)
_PAGE = Statement(
    f"SELECT {_ITEM_COLUMNS} FROM switch_bulk_item WHERE batch_id = :batch_id AND seq > :after"
    " ORDER BY seq LIMIT :limit"
)
_PAGE_OF_STATUS = Statement(
    f"SELECT {_ITEM_COLUMNS} FROM switch_bulk_item WHERE batch_id = :batch_id AND seq > :after AND status = :status"
    " ORDER BY seq LIMIT :limit"
)
_STATUSES = {s.value: s for s in ItemStatus}
_REASONS = {r.value: r for r in StatusReason}
_PROGRAMS = {p.value: p for p in Program}


def next_batch_id(conn: Connection) -> int:
    return int(conn.execute(select(func.coalesce(func.max(BATCHES.c.id), 0) + 1)).scalar_one())


def find_batch(conn: Connection, debtor_agent: str, message_id: str) -> BatchRecord | None:
    row = conn.execute(
        select(BATCHES).where(BATCHES.c.debtor_agent == debtor_agent, BATCHES.c.message_id == message_id)
    ).first()
    return _batch(row) if row is not None else None


def load_batch(conn: Connection, batch_id: int) -> BatchRecord | None:
    row = conn.execute(select(BATCHES).where(BATCHES.c.id == batch_id)).first()
    return _batch(row) if row is not None else None


def batches(
    conn: Connection, debtor_agent: str | None = None, status: DisbursementStatus | None = None
) -> list[BatchRecord]:
    query = select(BATCHES).order_by(BATCHES.c.id)
    if debtor_agent is not None:
        query = query.where(BATCHES.c.debtor_agent == debtor_agent)
    if status is not None:
        query = query.where(BATCHES.c.status == status.value)
    return [_batch(r) for r in conn.execute(query)]


def insert_batch(conn: Connection, batch: BatchRecord) -> None:
    conn.execute(BATCHES.insert().values(**_batch_values(batch)))


def save_batch(conn: Connection, batch: BatchRecord) -> None:
    conn.execute(BATCHES.update().where(BATCHES.c.id == batch.id).values(**_batch_values(batch)))


def insert_row_errors(conn: Connection, batch_id: int, errors: Sequence[RowError]) -> None:
    """The first ROW_ERRORS_LISTED_MAX are kept with their rule; the batch counts them all."""
    errors = errors[:ROW_ERRORS_LISTED_MAX]
    if errors:
        conn.execute(
            ROW_ERRORS.insert(),
            [
                {
                    "batch_id": batch_id,
                    "ordinal": n,
                    "row": e.row,
                    "field": e.field[:60],
                    "rule": e.rule[:300],
                    "reason": e.reason.value,
                    "end_to_end_id": e.end_to_end_id,
                }
                for n, e in enumerate(errors, start=1)
            ],
        )


def count_row_errors(conn: Connection, batch_id: int) -> int:
    query = select(func.count()).select_from(ROW_ERRORS).where(ROW_ERRORS.c.batch_id == batch_id)
    return int(conn.execute(query).scalar_one())


def row_errors(conn: Connection, batch_id: int) -> list[RowError]:
    query = select(ROW_ERRORS).where(ROW_ERRORS.c.batch_id == batch_id).order_by(ROW_ERRORS.c.ordinal)
    return [RowError(r.row, r.field, r.rule, _REASONS[r.reason], r.end_to_end_id) for r in conn.execute(query)]


def existing_keys(conn: Connection, keys: Iterable[str]) -> set[str]:
    return {row[0] for row in _EXISTING_KEYS.rows(conn, ids=list(keys))}


def insert_items(conn: Connection, items: Sequence[ItemRecord]) -> None:
    _INSERT_ITEM.execute_many(conn, [(*_item_tuple(i), i.beneficiary_key) for i in items])


def load_items(conn: Connection, batch_id: int, seqs: Iterable[int]) -> dict[int, ItemRecord]:
    return {r[1]: _item(r) for r in _LOAD_ITEMS.rows(conn, batch_id=batch_id, ids=list(seqs))}


def sendable(conn: Connection, batch_id: int, now_ms: int, limit: int) -> list[ItemRecord]:
    statement = _SENDABLE_LOCKED if conn.dialect.name == "postgresql" else _SENDABLE
    return [_item(r) for r in statement.rows(conn, batch_id=batch_id, now_ms=now_ms, limit=limit)]


def sent(conn: Connection, batch_id: int) -> tuple[int, int | None]:
    """How many items are out with their creditor agents, and since when the oldest has been."""
    [(count, oldest)] = _COUNT_SENT.rows(conn, batch_id=batch_id)
    return int(count), oldest


def update_items(conn: Connection, items: Sequence[ItemRecord]) -> None:
    _UPDATE_ITEM.execute_many(
        conn,
        [
            (
                i.status.value,
                i.reason.value if i.reason else None,
                i.attempts,
                i.due_ms,
                i.updated_ms,
                i.batch_id,
                i.seq,
            )
            for i in items
        ],
    )


def counts_by_status(conn: Connection, batch_id: int) -> dict[ItemStatus, tuple[int, int]]:
    return {_STATUSES[s]: (int(c), int(a)) for s, c, a in _COUNT_BY_STATUS.rows(conn, batch_id=batch_id)}


def count_open(conn: Connection, batch_id: int) -> int:
    """Items not yet final: three seeks on the (batch, status) index, cheap enough for every batch."""
    [(count,)] = _COUNT_OPEN.rows(conn, batch_id=batch_id)
    return int(count)


_RETRIED = Statement(
    "SELECT count(*), coalesce(sum(CASE WHEN status = 'paid' THEN 1 ELSE 0 END), 0) FROM switch_bulk_item"
    " WHERE batch_id = :batch_id AND attempts > 1"
)


def retried(conn: Connection, batch_id: int) -> tuple[int, int]:
    """Items sent more than once (a timeout or an offline agent), and how many of those were paid."""
    [(count, paid)] = _RETRIED.rows(conn, batch_id=batch_id)
    return int(count), int(paid)


def groups(conn: Connection, batch_id: int) -> list[tuple[Any, ...]]:
    """(status, reason, creditor agent, program, province code, count, VND) for every combination."""
    return _GROUPS.rows(conn, batch_id=batch_id)


def page(
    conn: Connection, batch_id: int, after_seq: int, limit: int, status: ItemStatus | None = None
) -> list[ItemRecord]:
    if status is None:
        rows = _PAGE.rows(conn, batch_id=batch_id, after=after_seq, limit=limit)
    else:
        rows = _PAGE_OF_STATUS.rows(conn, batch_id=batch_id, after=after_seq, status=status.value, limit=limit)
    return [_item(r) for r in rows]


def _item_tuple(i: ItemRecord) -> tuple[Any, ...]:
    return (
        i.batch_id,
        i.seq,
        i.end_to_end_id,
        i.citizen_id,
        i.name,
        i.province_code,
        i.program.value,
        i.cycle,
        i.amount_vnd,
        i.status.value,
        i.reason.value if i.reason else None,
        i.creditor_agent,
        i.attempts,
        i.due_ms,
        i.updated_ms,
    )


def _item(row: tuple[Any, ...]) -> ItemRecord:
    return ItemRecord(
        batch_id=row[0],
        seq=row[1],
        end_to_end_id=row[2],
        citizen_id=row[3],
        name=row[4],
        province_code=row[5],
        program=_PROGRAMS[row[6]],
        cycle=row[7],
        amount_vnd=int(row[8]),
        status=_STATUSES[row[9]],
        reason=_REASONS[row[10]] if row[10] else None,
        creditor_agent=row[11],
        attempts=int(row[12]),
        due_ms=int(row[13]),
        updated_ms=int(row[14]),
    )


def _batch_values(b: BatchRecord) -> dict[str, Any]:
    return {
        "id": b.id,
        "debtor_agent": b.debtor_agent,
        "message_id": b.message_id,
        "digest": b.digest,
        "source_format": b.source_format,
        "status": b.status.value,
        "reason": b.reason.value if b.reason else None,
        "rows_total": b.rows_total,
        "rows_rejected": b.rows_rejected,
        "items_total": b.items_total,
        "amount_total_vnd": b.amount_total_vnd,
        "reserved_vnd": b.reserved_vnd,
        "received_ms": b.received_ms,
        "completed_ms": b.completed_ms,
    }


def _batch(row: Any) -> BatchRecord:
    return BatchRecord(
        id=row.id,
        debtor_agent=row.debtor_agent,
        message_id=row.message_id,
        digest=row.digest,
        source_format=row.source_format,
        status=DisbursementStatus(row.status),
        reason=_REASONS[row.reason] if row.reason else None,
        rows_total=row.rows_total,
        rows_rejected=row.rows_rejected,
        items_total=row.items_total,
        amount_total_vnd=int(row.amount_total_vnd),
        reserved_vnd=int(row.reserved_vnd),
        received_ms=int(row.received_ms),
        completed_ms=row.completed_ms,
    )
