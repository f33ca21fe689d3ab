"""A participant node's tables: customers, inbound credits, outbound payments."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import BigInteger, Column, Connection, Integer, String, bindparam, func, select, update
from sqlmodel import Field, SQLModel

from banks.schemas import AccountStatus, Customer, InboundStatus, OutboundStatus


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
    status: str = Field(sa_column=Column(String(16), nullable=False))
    reason: str | None = Field(sa_column=Column(String(4), nullable=True))
    updated_ms: int = Field(sa_column=Column(BigInteger, nullable=False))


class OutboundRow(SQLModel, table=True):
    __tablename__ = "node_outbound"
    transaction_id: str = Field(sa_column=Column(String(35), primary_key=True))
    account: str = Field(sa_column=Column(String(19), nullable=False))
    amount_vnd: int = Field(sa_column=Column(BigInteger, nullable=False))
    status: str = Field(sa_column=Column(String(16), nullable=False))
    reason: str | None = Field(sa_column=Column(String(4), nullable=True))
    updated_ms: int = Field(sa_column=Column(BigInteger, nullable=False))


CUSTOMERS = CustomerRow.__table__  # type: ignore[attr-defined]
INBOUND = InboundRow.__table__  # type: ignore[attr-defined]
OUTBOUND = OutboundRow.__table__  # type: ignore[attr-defined]
TABLES = [CUSTOMERS, INBOUND, OUTBOUND]


# Statements are built once: building a statement costs more than running it on a small batch.
_SELECT_CUSTOMERS = select(CUSTOMERS).where(CUSTOMERS.c.account.in_(bindparam("keys", expanding=True)))
_SELECT_INBOUND = select(INBOUND).where(INBOUND.c.key.in_(bindparam("keys", expanding=True)))
_SELECT_OUTBOUND = select(OUTBOUND).where(OUTBOUND.c.transaction_id.in_(bindparam("keys", expanding=True)))
_SAVE_INFLOW = (
    update(CUSTOMERS)
    .where(CUSTOMERS.c.account == bindparam("k"))
    .values(inflow_month=bindparam("m"), inflow_vnd=bindparam("v"))
)
_UPDATE_INBOUND = (
    update(INBOUND).where(INBOUND.c.key == bindparam("k")).values(status=bindparam("s"), updated_ms=bindparam("u"))
)
_UPDATE_OUTBOUND = (
    update(OUTBOUND)
    .where(OUTBOUND.c.transaction_id == bindparam("k"))
    .values(status=bindparam("s"), reason=bindparam("r"), updated_ms=bindparam("u"))
)


def load_customers(conn: Connection, accounts: Iterable[str]) -> dict[str, Customer]:
    wanted = list(set(accounts))
    if not wanted:
        return {}
    return {row.account: _customer(row) for row in conn.execute(_SELECT_CUSTOMERS, {"keys": wanted})}


def all_customers(conn: Connection) -> list[Customer]:
    return [_customer(row) for row in conn.execute(select(CUSTOMERS).order_by(CUSTOMERS.c.account))]


def insert_customers(conn: Connection, customers: Sequence[Customer]) -> None:
    if customers:
        conn.execute(CUSTOMERS.insert(), [_customer_row(c) for c in customers])


def set_customer_status(conn: Connection, account: str, status: AccountStatus) -> int:
    result = conn.execute(update(CUSTOMERS).where(CUSTOMERS.c.account == account).values(status=status.value))
    return int(result.rowcount)


def save_inflows(conn: Connection, customers: Iterable[Customer]) -> None:
    rows = [{"k": c.account, "m": c.inflow_month, "v": c.inflow_vnd} for c in customers]
    if rows:
        conn.execute(_SAVE_INFLOW, rows)


def load_inbound(conn: Connection, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
    wanted = list(set(keys))
    if not wanted:
        return {}
    return {row.key: dict(row._mapping) for row in conn.execute(_SELECT_INBOUND, {"keys": wanted})}


def load_outbound(conn: Connection, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    return {row.transaction_id: dict(row._mapping) for row in conn.execute(_SELECT_OUTBOUND, {"keys": wanted})}


def insert_inbound(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        conn.execute(INBOUND.insert(), list(rows))


def insert_outbound(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        conn.execute(OUTBOUND.insert(), list(rows))


def update_inbound(conn: Connection, rows: Sequence[tuple[str, InboundStatus, int]]) -> None:
    if rows:
        conn.execute(_UPDATE_INBOUND, [{"k": k, "s": s.value, "u": u} for k, s, u in rows])


def update_outbound(conn: Connection, rows: Sequence[tuple[str, OutboundStatus, str | None, int]]) -> None:
    if rows:
        conn.execute(_UPDATE_OUTBOUND, [{"k": k, "s": s.value, "r": r, "u": u} for k, s, r, u in rows])


def count_by_status(conn: Connection, table: Any) -> dict[str, tuple[int, int]]:
    query = select(table.c.status, func.count(), func.coalesce(func.sum(table.c.amount_vnd), 0)).group_by(
        table.c.status
    )
    return {row[0]: (int(row[1]), int(row[2])) for row in conn.execute(query)}


def count_by_status_and_reason(conn: Connection, table: Any) -> list[tuple[str, str | None, int, int]]:
    query = select(
        table.c.status, table.c.reason, func.count(), func.coalesce(func.sum(table.c.amount_vnd), 0)
    ).group_by(table.c.status, table.c.reason)
    return [(row[0], row[1], int(row[2]), int(row[3])) for row in conn.execute(query)]


def _customer(row: Any) -> Customer:
    return Customer(
        account=row.account,
        holder_name=row.holder_name,
        citizen_id=row.citizen_id,
        status=AccountStatus(row.status),
        phone=row.phone,
        kyc_level=row.kyc_level,
        inflow_month=row.inflow_month,
        inflow_vnd=row.inflow_vnd,
    )


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
