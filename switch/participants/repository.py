"""The participant table and its queries."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Boolean, Column, Connection, Integer, String, delete, select, text, update
from sqlmodel import Field, SQLModel

from switch.participants.schemas import Participant
from switch.scheme.codes import ParticipantKind, ParticipantStatus, WireFormat
from switch.scheme.messages import TRANSACTIONS_PER_MESSAGE_MAX


class ParticipantRow(SQLModel, table=True):
    __tablename__ = "switch_participant"
    bin: str = Field(sa_column=Column(String(6), primary_key=True))
    name: str = Field(sa_column=Column(String(140), nullable=False))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    status: str = Field(sa_column=Column(String(16), nullable=False))
    net_debit_cap_vnd: int = Field(sa_column=Column(BigInteger, nullable=False))
    base_url: str | None = Field(sa_column=Column(String(300), nullable=True))
    inbound_batches: bool = Field(sa_column=Column(Boolean, nullable=False, server_default="0"))
    wire: str = Field(sa_column=Column(String(16), nullable=False, server_default=WireFormat.JSON.value))
    transactions_per_message_max: int = Field(
        sa_column=Column(Integer, nullable=False, server_default=str(TRANSACTIONS_PER_MESSAGE_MAX))
    )


class CredentialRow(SQLModel, table=True):
    """A participant's API key (only its SHA-256 is kept) and the secret the switch signs calls with."""

    __tablename__ = "switch_participant_credential"
    bin: str = Field(sa_column=Column(String(6), primary_key=True))
    key_sha256: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    signing_secret: str = Field(sa_column=Column(String(64), nullable=False))
    issued_ms: int = Field(sa_column=Column(BigInteger, nullable=False))


PARTICIPANTS = ParticipantRow.__table__  # type: ignore[attr-defined]
CREDENTIALS = CredentialRow.__table__  # type: ignore[attr-defined]
TABLES = [PARTICIPANTS, CREDENTIALS]


_SELECT_ALL = select(PARTICIPANTS)


def load_all(conn: Connection) -> dict[str, Participant]:
    return {row.bin: _from_row(row) for row in conn.execute(_SELECT_ALL)}


def insert(conn: Connection, participant: Participant) -> None:
    conn.execute(
        PARTICIPANTS.insert(),
        {
            "bin": participant.bin,
            "name": participant.name,
            "kind": participant.kind.value,
            "status": participant.status.value,
            "net_debit_cap_vnd": participant.net_debit_cap_vnd,
            "base_url": participant.base_url,
            "inbound_batches": participant.inbound_batches,
            "wire": participant.wire.value,
            "transactions_per_message_max": participant.transactions_per_message_max,
        },
    )


def save_credentials(conn: Connection, bin_code: str, key_sha256: str, signing_secret: str, now_ms: int) -> None:
    conn.execute(delete(CREDENTIALS).where(CREDENTIALS.c.bin == bin_code))
    conn.execute(
        CREDENTIALS.insert(),
        {"bin": bin_code, "key_sha256": key_sha256, "signing_secret": signing_secret, "issued_ms": now_ms},
    )


def bin_for_key(conn: Connection, key_sha256: str) -> str | None:
    row = conn.execute(select(CREDENTIALS.c.bin).where(CREDENTIALS.c.key_sha256 == key_sha256)).first()
    return None if row is None else str(row[0])


def signing_secret(conn: Connection, bin_code: str) -> str | None:
    row = conn.execute(select(CREDENTIALS.c.signing_secret).where(CREDENTIALS.c.bin == bin_code)).first()
    return None if row is None else str(row[0])


def set_status(conn: Connection, bin_code: str, status: ParticipantStatus) -> None:
    conn.execute(update(PARTICIPANTS).where(PARTICIPANTS.c.bin == bin_code).values(status=status.value))


def set_wire(conn: Connection, bin_code: str, wire: WireFormat) -> None:
    conn.execute(update(PARTICIPANTS).where(PARTICIPANTS.c.bin == bin_code).values(wire=wire.value))


def set_cap(conn: Connection, bin_code: str, cap_vnd: int) -> None:
    conn.execute(update(PARTICIPANTS).where(PARTICIPANTS.c.bin == bin_code).values(net_debit_cap_vnd=cap_vnd))


def _from_row(row: Any) -> Participant:
    return Participant(
        bin=row.bin,
        name=row.name,
        kind=ParticipantKind(row.kind),
        status=ParticipantStatus(row.status),
        net_debit_cap_vnd=row.net_debit_cap_vnd,
        base_url=row.base_url,
        inbound_batches=bool(row.inbound_batches),
        wire=WireFormat(row.wire),
        transactions_per_message_max=row.transactions_per_message_max,
    )


def add_missing_columns(conn: Connection) -> None:
    """A switch database made before a column existed gets it, with its default, on setup."""
    # Read through the connection's own search path (PostgreSQL nodes live in their own schema).
    present = set(conn.execute(text(f"SELECT * FROM {PARTICIPANTS.name} LIMIT 0")).keys())
    if "inbound_batches" not in present:
        conn.execute(text(f"ALTER TABLE {PARTICIPANTS.name} ADD COLUMN inbound_batches BOOLEAN NOT NULL DEFAULT FALSE"))
    if "wire" not in present:
        conn.execute(text(f"ALTER TABLE {PARTICIPANTS.name} ADD COLUMN wire VARCHAR(16) NOT NULL DEFAULT 'json'"))
    if "transactions_per_message_max" not in present:
        column = f"transactions_per_message_max INTEGER NOT NULL DEFAULT {TRANSACTIONS_PER_MESSAGE_MAX}"
        conn.execute(text(f"ALTER TABLE {PARTICIPANTS.name} ADD COLUMN {column}"))
