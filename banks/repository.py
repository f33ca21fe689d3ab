"""A participant node's tables: customers, inbound credits, outbound payments."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import BigInteger, Column, Connection, Integer, String, func, select, update
from sqlmodel import Field, SQLModel

from banks.schemas import AccountStatus, Customer, InboundStatus, OutboundStatus
from ledger.fastsql import Statement


class CustomerRow(SQLModel, table=True):
    __tablename__ = "node_customer"
    account: str = Field(sa_column=Column(String(19), primary_key=True))
    holder_name: str = Field(sa_column=Column(String(140), nullable=False))
    citizen_id: str = Field(sa_column=Column(String(12), nullable=False, index=True))
    status: str = Field(sa_column=Column(String(16), nullable=False))
    phone: str | None = Field(sa_column=Column(String(10), nullable=True))
    kyc_level: int | None = Field(sa_column=Column(Integer, nullable=True))
    inflow_month: str = Field(sa_column=Column(String(7), nullable=False))
    inflow_vnd: int = Field(sa_column=Column(BigInteger, nullable=False))


class InboundRow(SQLModel, table=True):
    __tablename__ = "node_inbound"
    key: str = Field(sa_column=Column(String(42), primary_key=True))
    account: str = Field(sa_column=Column(String(19), nullable=False))
    amount_vnd: int = Field(sa_column=Column(BigInteger, nullable=False))
    status: str = Field(sa_column=Column(String(16), nullable=False, index=True))
    reason: str | None = Field(sa_column=Column(String(4), nullable=True))
    updated_ms: int = Field(sa_column=Column(BigInteger, nullable=False))


class OutboundRow(SQLModel, table=True):
    __tablename__ = "node_outbound"
    transaction_id: str = Field(sa_column=Column(String(35), primary_key=True))
    account: str = Field(sa_column=Column(String(19), nullable=False))
    amount_vnd: int = Field(sa_column=Column(BigInteger, nullable=False))
    status: str = Field(sa_column=Column(String(16), nullable=False, index=True))
    reason: str | None = Field(sa_column=Column(String(4), nullable=True))
    updated_ms: int = Field(sa_column=Column(BigInteger, nullable=False))


CUSTOMERS = CustomerRow.__table__  # type: ignore[attr-defined]
INBOUND = InboundRow.__table__  # type: ignore[attr-defined]
OUTBOUND = OutboundRow.__table__  # type: ignore[attr-defined]
TABLES = [CUSTOMERS, INBOUND, OUTBOUND]


_CUSTOMER_COLUMNS = "account, holder_name, citizen_id, status, phone, kyc_level, inflow_month, inflow_vnd"
_MOVE_COLUMNS = ("account", "amount_vnd", "status", "reason", "updated_ms")
_SELECT_CUSTOMERS = Statement(f"SELECT {_CUSTOMER_COLUMNS} FROM node_customer WHERE account = ANY(:ids)")
_SELECT_INBOUND = Statement(
    "SELECT key, account, amount_vnd, status, reason, updated_ms FROM node_inbound WHERE key = ANY(:ids)"
)
_SELECT_OUTBOUND = Statement(
    "SELECT transaction_id, account, amount_vnd, status, reason, updated_ms FROM node_outbound"
    " WHERE transaction_id = ANY(:ids)"
)
_INSERT_INBOUND = Statement(
    "INSERT INTO node_inbound (key, account, amount_vnd, status, reason, updated_ms)"
    " VALUES (:key, :account, :amount_vnd, :status, :reason, :updated_ms)"
)
_INSERT_OUTBOUND = Statement(
    "INSERT INTO node_outbound (transaction_id, account, amount_vnd, status, reason, updated_ms)"
    " VALUES (:transaction_id, :account, :amount_vnd, :status, :reason, :updated_ms)"
)
_SAVE_INFLOW = Statement("UPDATE node_customer SET inflow_month = :month, inflow_vnd = :vnd WHERE account = :account")
_UPDATE_INBOUND = Statement("UPDATE node_inbound SET status = :status, updated_ms = :updated_ms WHERE key = :key")
_UPDATE_OUTBOUND = Statement(
    "UPDATE node_outbound SET status = :status, reason = :reason, updated_ms = :updated_ms"
    " WHERE transaction_id = :transaction_id"
)


def load_customers(conn: Connection, accounts: Iterable[str]) -> dict[str, Customer]:
    wanted = list(set(accounts))
    if not wanted:
        return {}
    return {row[0]: _customer(row) for row in _SELECT_CUSTOMERS.rows(conn, ids=wanted)}


def all_customers(conn: Connection) -> list[Customer]:
    query = select(*[CUSTOMERS.c[name] for name in _CUSTOMER_COLUMNS.split(", ")]).order_by(CUSTOMERS.c.account)
    return [_customer(tuple(row)) for row in conn.execute(query)]


def insert_customers(conn: Connection, customers: Sequence[Customer]) -> None:
    if customers:
        conn.execute(CUSTOMERS.insert(), [_customer_row(c) for c in customers])


def set_customer_status(conn: Connection, account: str, status: AccountStatus) -> int:
    result = conn.execute(update(CUSTOMERS).where(CUSTOMERS.c.account == account).values(status=status.value))
    return int(result.rowcount)


def save_inflows(conn: Connection, customers: Iterable[Customer]) -> None:
    _SAVE_INFLOW.execute_many(conn, [(c.inflow_month, c.inflow_vnd, c.account) for c in customers])


_SETTLED_CREDITS = Statement(
    "SELECT count(*), coalesce(sum(amount_vnd), 0) FROM node_inbound WHERE status = 'settled' AND key LIKE :prefix"
)


def settled_credits(conn: Connection, key_prefix: str) -> tuple[int, int]:
    """Credits settled for transfers whose key (debtor agent:transaction id) starts with the prefix."""
    escaped = key_prefix.replace("%", "").replace("_", "")
    assert escaped == key_prefix, "a key prefix is digits, letters, ':' and '-': nothing LIKE treats specially"
    [(count, amount)] = _SETTLED_CREDITS.rows(conn, prefix=key_prefix + "%")
    return int(count), int(amount)


def load_inbound(conn: Connection, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
    return _load_moves(conn, _SELECT_INBOUND, "key", keys)


def load_outbound(conn: Connection, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    return _load_moves(conn, _SELECT_OUTBOUND, "transaction_id", ids)


def _load_moves(conn: Connection, statement: Statement, key: str, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
    wanted = list(set(keys))
    if not wanted:
        return {}
    return {row[0]: dict(zip((key, *_MOVE_COLUMNS), row, strict=True)) for row in statement.rows(conn, ids=wanted)}


def insert_inbound(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    _INSERT_INBOUND.execute_many(conn, [(r["key"], *(r[c] for c in _MOVE_COLUMNS)) for r in rows])


def insert_outbound(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    _INSERT_OUTBOUND.execute_many(conn, [(r["transaction_id"], *(r[c] for c in _MOVE_COLUMNS)) for r in rows])


def update_inbound(conn: Connection, rows: Sequence[tuple[str, InboundStatus, int]]) -> None:
    _UPDATE_INBOUND.execute_many(conn, [(status.value, at_ms, key) for key, status, at_ms in rows])


def update_outbound(conn: Connection, rows: Sequence[tuple[str, OutboundStatus, str | None, int]]) -> None:
    _UPDATE_OUTBOUND.execute_many(conn, [(status.value, reason, at_ms, key) for key, status, reason, at_ms in rows])


_STALE_OUTBOUND = Statement(
    "SELECT transaction_id FROM node_outbound WHERE status = 'pending' AND updated_ms <= :before_ms"
    " ORDER BY updated_ms LIMIT :limit"
)
_STALE_INBOUND = Statement(
    "SELECT key FROM node_inbound WHERE status = 'credited' AND updated_ms <= :before_ms"
    " ORDER BY updated_ms LIMIT :limit"
)
_COUNT_OPEN = Statement(
    "SELECT (SELECT count(*) FROM node_outbound WHERE status = 'pending')"
    " + (SELECT count(*) FROM node_inbound WHERE status = 'credited')"
)
assert OutboundStatus.PENDING.value == "pending" and InboundStatus.CREDITED.value == "credited"


def stale_outbound(conn: Connection, before_ms: int, limit: int) -> list[str]:
    return [row[0] for row in _STALE_OUTBOUND.rows(conn, before_ms=before_ms, limit=limit)]


def stale_inbound(conn: Connection, before_ms: int, limit: int) -> list[str]:
    return [row[0] for row in _STALE_INBOUND.rows(conn, before_ms=before_ms, limit=limit)]


def count_open(conn: Connection) -> int:
    """Payments not yet final and credits not yet confirmed: what the status sweep watches."""
    return int(_COUNT_OPEN.rows(conn)[0][0])


def count_by_status(conn: Connection, table: Any) -> dict[str, tuple[int, int]]:
    query = select(table.c.status, func.count(), func.coalesce(func.sum(table.c.amount_vnd), 0)).group_by(
        table.c.status
    )
    return {row[0]: (int(row[1]), int(row[2])) for row in conn.execute(query)}


_ACCOUNT_STATUSES = {status.value: status for status in AccountStatus}


def _customer(row: tuple[Any, ...]) -> Customer:
    return Customer(row[0], row[1], row[2], _ACCOUNT_STATUSES[row[3]], row[4], row[5], row[6], row[7])


def _customer_row(c: Customer) -> dict[str, Any]:
    return {
        "account": c.account,
        "holder_name": c.holder_name,
        "citizen_id": c.citizen_id,
        "status": c.status.value,
        "phone": c.phone,
        "kyc_level": c.kyc_level,
        "inflow_month": c.inflow_month,
        "inflow_vnd": c.inflow_vnd,
    }
