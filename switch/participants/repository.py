"""The participant table and its queries."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Column, Connection, String, select, update
from sqlmodel import Field, SQLModel

from switch.participants.schemas import Participant
from switch.scheme.codes import ParticipantKind, ParticipantStatus


class ParticipantRow(SQLModel, table=True):
    __tablename__ = "switch_participant"
    bin: str = Field(sa_column=Column(String(6), primary_key=True))
    name: str = Field(sa_column=Column(String(140), nullable=False))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    status: str = Field(sa_column=Column(String(16), nullable=False))
    net_debit_cap_vnd: int = Field(sa_column=Column(BigInteger, nullable=False))
    base_url: str | None = Field(sa_column=Column(String(300), nullable=True))


PARTICIPANTS = ParticipantRow.__table__  # type: ignore[attr-defined]
TABLES = [PARTICIPANTS]


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
        },
    )


def set_status(conn: Connection, bin_code: str, status: ParticipantStatus) -> None:
    conn.execute(update(PARTICIPANTS).where(PARTICIPANTS.c.bin == bin_code).values(status=status.value))


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
    )
