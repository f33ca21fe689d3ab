"""The switch's record of every credit transfer it cleared, and every query on it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import BigInteger, Column, Connection, String, and_, bindparam, func, select, update
from sqlmodel import Field, SQLModel

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


_SELECT = select(TRANSFERS).where(TRANSFERS.c.key.in_(bindparam("keys", expanding=True)))
_INSERT = TRANSFERS.insert()
# The guard on PDNG makes a second finality a no-op, never a flip.
_FINALIZE = (
    update(TRANSFERS)
    .where(and_(TRANSFERS.c.key == bindparam("k"), TRANSFERS.c.status == TransactionStatus.PDNG.value))
    .values(status=bindparam("s"), reason=bindparam("r"), updated_ms=bindparam("u"))
)


_SELECT_PENDING = select(TRANSFERS).where(
    and_(TRANSFERS.c.key.in_(bindparam("keys", expanding=True)), TRANSFERS.c.status == TransactionStatus.PDNG.value)
)
_STATUSES = {status.value: status for status in TransactionStatus}
_REASONS = {reason.value: reason for reason in StatusReason}


def load_pending(conn: Connection, keys: Iterable[str]) -> dict[str, ClearingRecord]:
    """Only the records still waiting: a timer for a settled transfer costs no row."""
    wanted = list(set(keys))
    if not wanted:
        return {}
    return {row.key: _from_row(row) for row in conn.execute(_SELECT_PENDING, {"keys": wanted})}


def load(conn: Connection, keys: Iterable[str]) -> dict[str, ClearingRecord]:
    wanted = list(set(keys))
    if not wanted:
        return {}
    rows = conn.execute(_SELECT, {"keys": wanted})
    return {row.key: _from_row(row) for row in rows}


def insert(conn: Connection, records: Sequence[ClearingRecord]) -> None:
    if records:
        conn.execute(_INSERT, [_to_row(r) for r in records])


def finalize(conn: Connection, records: Sequence[ClearingRecord]) -> None:
    """Move records out of PDNG."""
    if not records:
        return
    conn.execute(
        _FINALIZE,
        [
            {"k": r.key, "s": r.status.value, "r": r.reason.value if r.reason else None, "u": r.updated_ms}
            for r in records
        ],
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
    return [dict(row._mapping) for row in conn.execute(query)]


def status_counts(conn: Connection) -> Counter[str]:
    query = select(TRANSFERS.c.status, func.count()).group_by(TRANSFERS.c.status)
    return Counter({row[0]: int(row[1]) for row in conn.execute(query)})


def _to_row(r: ClearingRecord) -> dict[str, Any]:
    return {
        "key": r.key,
        "debtor_agent": r.debtor_agent,
        "transaction_id": r.transaction_id,
        "message_id": r.message_id,
        "end_to_end_id": r.end_to_end_id,
        "digest": r.digest,
        "amount_vnd": r.amount_vnd,
        "debtor_account": r.debtor_account,
        "creditor_agent": r.creditor_agent,
        "creditor_account": r.creditor_account,
        "status": r.status.value,
        "reason": r.reason.value if r.reason else None,
        "created_ms": r.created_ms,
        "updated_ms": r.updated_ms,
    }


def _from_row(row: Any) -> ClearingRecord:
    return ClearingRecord(
        key=row.key,
        debtor_agent=row.debtor_agent,
        transaction_id=row.transaction_id,
        message_id=row.message_id,
        end_to_end_id=row.end_to_end_id,
        digest=row.digest,
        amount_vnd=row.amount_vnd,
        debtor_account=row.debtor_account,
        creditor_agent=row.creditor_agent,
        creditor_account=row.creditor_account,
        status=_STATUSES[row.status],
        reason=_REASONS[row.reason] if row.reason else None,
        created_ms=row.created_ms,
        updated_ms=row.updated_ms,
    )
