"""The switch's record of every credit transfer it cleared, and every query on it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import BigInteger, Column, Connection, String, func, select
from sqlmodel import Field, SQLModel

from ledger.fastsql import Statement
from switch.clearing.schemas import ClearingRecord
from switch.scheme.codes import StatusReason, TransactionStatus


class ClearingTransferRow(SQLModel, table=True):
    __tablename__ = "switch_clearing_transfer"
    key: str = Field(sa_column=Column(String(42), primary_key=True))
    debtor_agent: str = Field(sa_column=Column(String(6), nullable=False))
    transaction_id: str = Field(sa_column=Column(String(35), nullable=False))
    message_id: str = Field(sa_column=Column(String(35), nullable=False))
    end_to_end_id: str = Field(sa_column=Column(String(35), nullable=False))
    digest: str = Field(sa_column=Column(String(64), nullable=False))
    amount_vnd: int = Field(sa_column=Column(BigInteger, nullable=False))
    debtor_account: str = Field(sa_column=Column(String(19), nullable=False))
    creditor_agent: str | None = Field(sa_column=Column(String(6), nullable=True))
    creditor_account: str | None = Field(sa_column=Column(String(19), nullable=True))
    status: str = Field(sa_column=Column(String(4), nullable=False, index=True))
    reason: str | None = Field(sa_column=Column(String(4), nullable=True))
    created_ms: int = Field(sa_column=Column(BigInteger, nullable=False))
    updated_ms: int = Field(sa_column=Column(BigInteger, nullable=False))


TRANSFERS = ClearingTransferRow.__table__  # type: ignore[attr-defined]
TABLES = [TRANSFERS]


_COLUMNS = (
    "key, debtor_agent, transaction_id, message_id, end_to_end_id, digest, amount_vnd, debtor_account,"
    " creditor_agent, creditor_account, status, reason, created_ms, updated_ms"
)
_SELECT = Statement(f"SELECT {_COLUMNS} FROM switch_clearing_transfer WHERE key = ANY(:ids)")
_SELECT_PENDING = Statement(
    f"SELECT {_COLUMNS} FROM switch_clearing_transfer WHERE key = ANY(:ids) AND status = 'PDNG'"
)
# PostgreSQL, several workers: a record being released is locked, and another worker's sweep skips it.
_SELECT_PENDING_LOCKED = Statement(
    f"SELECT {_COLUMNS} FROM switch_clearing_transfer WHERE key = ANY(:ids) AND status = 'PDNG'"
    " ORDER BY key FOR UPDATE SKIP LOCKED"
)
_STALE = Statement(
    "SELECT key FROM switch_clearing_transfer WHERE status = 'PDNG' AND created_ms <= :before_ms"
    " ORDER BY created_ms LIMIT :limit"
)
_INSERT = Statement(
    f"INSERT INTO switch_clearing_transfer ({_COLUMNS}) VALUES (:key, :debtor_agent, :transaction_id, :message_id,"
    " :end_to_end_id, :digest, :amount_vnd, :debtor_account, :creditor_agent, :creditor_account, :status, :reason,"
    " :created_ms, :updated_ms)"
)
# The guard on PDNG makes a second finality a no-op, never a flip.
_FINALIZE = Statement(
    "UPDATE switch_clearing_transfer SET status = :status, reason = :reason, updated_ms = :updated_ms"
    " WHERE key = :key AND status = 'PDNG'"
)
_STATUSES = {status.value: status for status in TransactionStatus}
_REASONS = {reason.value: reason for reason in StatusReason}
assert TransactionStatus.PDNG.value == "PDNG"


def load_pending(conn: Connection, keys: Iterable[str]) -> dict[str, ClearingRecord]:
    """Only the records still waiting: a timer for a settled transfer costs no row."""
    wanted = list(set(keys))
    if not wanted:
        return {}
    statement = _SELECT_PENDING_LOCKED if conn.dialect.name == "postgresql" else _SELECT_PENDING
    return {row[0]: _from_row(row) for row in statement.rows(conn, ids=wanted)}


def stale_pending_keys(conn: Connection, before_ms: int, limit: int) -> list[str]:
    """Transfers still waiting that were taken before `before_ms`: their timer should have fired."""
    return [row[0] for row in _STALE.rows(conn, before_ms=before_ms, limit=limit)]


def load(conn: Connection, keys: Iterable[str]) -> dict[str, ClearingRecord]:
    wanted = list(set(keys))
    if not wanted:
        return {}
    return {row[0]: _from_row(row) for row in _SELECT.rows(conn, ids=wanted)}


def insert(conn: Connection, records: Sequence[ClearingRecord]) -> None:
    _INSERT.execute_many(conn, [_to_row(r) for r in records])


def finalize(conn: Connection, records: Sequence[ClearingRecord]) -> None:
    """Move records out of PDNG."""
    _FINALIZE.execute_many(
        conn, [(r.status.value, r.reason.value if r.reason else None, r.updated_ms, r.key) for r in records]
    )


def summary(conn: Connection) -> list[dict[str, Any]]:
    """Counts and sums by status, reason, debtor agent and creditor agent."""
    query = select(
        TRANSFERS.c.status,
        TRANSFERS.c.reason,
        TRANSFERS.c.debtor_agent,
        TRANSFERS.c.creditor_agent,
        func.count().label("count"),
        func.coalesce(func.sum(TRANSFERS.c.amount_vnd), 0).label("amount_vnd"),
    ).group_by(TRANSFERS.c.status, TRANSFERS.c.reason, TRANSFERS.c.debtor_agent, TRANSFERS.c.creditor_agent)
    rows = [dict(row._mapping) for row in conn.execute(query)]
    for row in rows:  # PostgreSQL sums a BIGINT into NUMERIC: money is an int of VND everywhere
        row["count"], row["amount_vnd"] = int(row["count"]), int(row["amount_vnd"])
    return rows


_COUNT_PENDING = Statement("SELECT count(*) FROM switch_clearing_transfer WHERE status = 'PDNG'")


def count_pending(conn: Connection) -> int:
    return int(_COUNT_PENDING.rows(conn)[0][0])


def _to_row(r: ClearingRecord) -> tuple[Any, ...]:
    return (
        r.key,
        r.debtor_agent,
        r.transaction_id,
        r.message_id,
        r.end_to_end_id,
        r.digest,
        r.amount_vnd,
        r.debtor_account,
        r.creditor_agent,
        r.creditor_account,
        r.status.value,
        r.reason.value if r.reason else None,
        r.created_ms,
        r.updated_ms,
    )


def _from_row(row: tuple[Any, ...]) -> ClearingRecord:
    return ClearingRecord(
        key=row[0],
        debtor_agent=row[1],
        transaction_id=row[2],
        message_id=row[3],
        end_to_end_id=row[4],
        digest=row[5],
        amount_vnd=row[6],
        debtor_account=row[7],
        creditor_agent=row[8],
        creditor_account=row[9],
        status=_STATUSES[row[10]],
        reason=_REASONS[row[11]] if row[11] else None,
        created_ms=row[12],
        updated_ms=row[13],
    )
