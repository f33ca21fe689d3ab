"""Directory tables: the alias map, its history, and registrations waiting for verification."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import BigInteger, Column, Connection, Integer, String, delete, select
from sqlmodel import Field, SQLModel

from ledger.fastsql import Statement
from switch.directory.schemas import AliasAction, AliasRecord, PendingRegistration
from switch.scheme.codes import AliasType


class AliasRow(SQLModel, table=True):
    __tablename__ = "switch_alias"
    key: str = Field(sa_column=Column(String(40), primary_key=True))
    type: str = Field(sa_column=Column(String(16), nullable=False))
    value: str = Field(sa_column=Column(String(20), nullable=False))
    citizen_id: str = Field(sa_column=Column(String(12), nullable=False, index=True))
    agent: str = Field(sa_column=Column(String(6), nullable=False))
    account: str = Field(sa_column=Column(String(19), nullable=False))
    holder_name_masked: str = Field(sa_column=Column(String(140), nullable=False))
    registered_ms: int = Field(sa_column=Column(BigInteger, nullable=False))


class AliasHistoryRow(SQLModel, table=True):
    __tablename__ = "switch_alias_history"
    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    key: str = Field(sa_column=Column(String(40), nullable=False, index=True))
    action: str = Field(sa_column=Column(String(16), nullable=False))
    citizen_id: str = Field(sa_column=Column(String(12), nullable=False))
    agent: str = Field(sa_column=Column(String(6), nullable=False))
    account: str = Field(sa_column=Column(String(19), nullable=False))
    at_ms: int = Field(sa_column=Column(BigInteger, nullable=False))


class PendingRegistrationRow(SQLModel, table=True):
    __tablename__ = "switch_alias_registration"
    request_id: str = Field(sa_column=Column(String(35), primary_key=True))
    alias_key: str = Field(sa_column=Column(String(40), nullable=False))
    alias_type: str = Field(sa_column=Column(String(16), nullable=False))
    alias_value: str = Field(sa_column=Column(String(20), nullable=False))
    citizen_id: str = Field(sa_column=Column(String(12), nullable=False))
    name: str = Field(sa_column=Column(String(140), nullable=False))
    agent: str = Field(sa_column=Column(String(6), nullable=False))
    account: str = Field(sa_column=Column(String(19), nullable=False))
    requested_ms: int = Field(sa_column=Column(BigInteger, nullable=False))


class VerificationRelayRow(SQLModel, table=True):
    """A participant's acmt.023 the switch passed on: whom to tell when the answer comes."""

    __tablename__ = "switch_verification_relay"
    relay_id: str = Field(sa_column=Column(String(35), primary_key=True))
    requester: str = Field(sa_column=Column(String(6), nullable=False))
    original_id: str = Field(sa_column=Column(String(35), nullable=False))
    agent: str = Field(sa_column=Column(String(6), nullable=False))
    requested_ms: int = Field(sa_column=Column(BigInteger, nullable=False))


ALIASES = AliasRow.__table__  # type: ignore[attr-defined]
HISTORY = AliasHistoryRow.__table__  # type: ignore[attr-defined]
PENDING = PendingRegistrationRow.__table__  # type: ignore[attr-defined]
RELAYS = VerificationRelayRow.__table__  # type: ignore[attr-defined]
TABLES = [ALIASES, HISTORY, PENDING, RELAYS]


# Hot: every batch of transfers and every payroll file resolves its aliases here, in one statement.
_SELECT_ALIASES = Statement(
    "SELECT key, type, value, citizen_id, agent, account, holder_name_masked, registered_ms"
    " FROM switch_alias WHERE key = ANY(:ids)"
)
_ALIAS_TYPES = {t.value: t for t in AliasType}


def load_aliases(conn: Connection, keys: Iterable[str]) -> dict[str, AliasRecord]:
    wanted = list(set(keys))
    if not wanted:
        return {}
    return {row[0]: _alias_from_tuple(row) for row in _SELECT_ALIASES.rows(conn, ids=wanted)}


def _alias_from_tuple(row: tuple[Any, ...]) -> AliasRecord:
    key, alias_type, value, citizen_id, agent, account, masked, registered_ms = row
    return AliasRecord(key, _ALIAS_TYPES[alias_type], value, citizen_id, agent, account, masked, int(registered_ms))


# Registrations come by the ten thousand in a registration drive: one statement each, written once.
_DELETE_ALIAS = Statement("DELETE FROM switch_alias WHERE key = :key")
_INSERT_ALIAS = Statement(
    "INSERT INTO switch_alias (key, type, value, citizen_id, agent, account, holder_name_masked, registered_ms)"
    " VALUES (:key, :type, :value, :citizen_id, :agent, :account, :holder_name_masked, :registered_ms)"
)
_INSERT_HISTORY = Statement(
    "INSERT INTO switch_alias_history (key, action, citizen_id, agent, account, at_ms)"
    " VALUES (:key, :action, :citizen_id, :agent, :account, :at_ms)"
)
_PENDING_COLUMNS = "request_id, alias_key, alias_type, alias_value, citizen_id, name, agent, account, requested_ms"
_INSERT_PENDING = Statement(
    f"INSERT INTO switch_alias_registration ({_PENDING_COLUMNS}) VALUES (:request_id, :alias_key, :alias_type,"
    " :alias_value, :citizen_id, :name, :agent, :account, :requested_ms)"
)
_SELECT_PENDING = Statement(f"SELECT {_PENDING_COLUMNS} FROM switch_alias_registration WHERE request_id = :id")
_DELETE_PENDING = Statement("DELETE FROM switch_alias_registration WHERE request_id = :id")


def upsert_alias(conn: Connection, record: AliasRecord, action: AliasAction) -> None:
    _DELETE_ALIAS.execute(conn, key=record.key)
    _INSERT_ALIAS.execute(
        conn, key=record.key, type=record.type.value, value=record.value, citizen_id=record.citizen_id,
        agent=record.agent, account=record.account, holder_name_masked=record.holder_name_masked,
        registered_ms=record.registered_ms,
    )  # fmt: skip
    _history(conn, record, action, record.registered_ms)


def remove_alias(conn: Connection, record: AliasRecord, now_ms: int) -> None:
    _DELETE_ALIAS.execute(conn, key=record.key)
    _history(conn, record, AliasAction.REMOVED, now_ms)


def history(conn: Connection, key: str) -> list[dict[str, Any]]:
    rows = conn.execute(select(HISTORY).where(HISTORY.c.key == key).order_by(HISTORY.c.id))
    return [dict(row._mapping) for row in rows]


def insert_pending(conn: Connection, pending: PendingRegistration) -> None:
    _INSERT_PENDING.execute(
        conn, request_id=pending.request_id, alias_key=pending.alias_key, alias_type=pending.alias_type.value,
        alias_value=pending.alias_value, citizen_id=pending.citizen_id, name=pending.name, agent=pending.agent,
        account=pending.account, requested_ms=pending.requested_ms,
    )  # fmt: skip


def load_pending(conn: Connection, request_id: str) -> PendingRegistration | None:
    rows = _SELECT_PENDING.rows(conn, id=request_id)
    if not rows:
        return None
    request, key, alias_type, value, citizen_id, name, agent, account, requested_ms = rows[0]
    return PendingRegistration(
        request, key, _ALIAS_TYPES[alias_type], value, citizen_id, name, agent, account, int(requested_ms)
    )


def delete_pending(conn: Connection, request_id: str) -> None:
    """A registration completes once: whatever answers arrive later find nothing to complete."""
    _DELETE_PENDING.execute(conn, id=request_id)


def pending_exists(conn: Connection, request_id: str) -> bool:
    return bool(_SELECT_PENDING.rows(conn, id=request_id))


def _history(conn: Connection, record: AliasRecord, action: AliasAction, at_ms: int) -> None:
    _INSERT_HISTORY.execute(
        conn, key=record.key, action=action.value, citizen_id=record.citizen_id, agent=record.agent,
        account=record.account, at_ms=at_ms,
    )  # fmt: skip


def insert_relay(conn: Connection, relay_id: str, requester: str, original_id: str, agent: str, now_ms: int) -> bool:
    """False when the same request is already on its way (the same id from the same requester)."""
    if conn.execute(select(RELAYS.c.relay_id).where(RELAYS.c.relay_id == relay_id)).first() is not None:
        return False
    conn.execute(
        RELAYS.insert(),
        {
            "relay_id": relay_id,
            "requester": requester,
            "original_id": original_id,
            "agent": agent,
            "requested_ms": now_ms,
        },
    )
    return True


def load_relay(conn: Connection, relay_id: str) -> tuple[str, str, str] | None:
    """(requester, original id, agent) of a verification on its way, or None."""
    row = conn.execute(select(RELAYS).where(RELAYS.c.relay_id == relay_id)).first()
    return None if row is None else (str(row.requester), str(row.original_id), str(row.agent))


def delete_relay(conn: Connection, relay_id: str) -> None:
    """A relay is answered once: later answers find nothing."""
    conn.execute(delete(RELAYS).where(RELAYS.c.relay_id == relay_id))
