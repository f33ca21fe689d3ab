"""The post office's tables, its cash lists and their lines, and every query on them.

A payout is recorded on its line (a line is paid at most once): the state, when, and for a
representative who they are and their authorisation. Each state change is an UPDATE guarded by
the state it leaves, so a line paid by one counter is never paid again by another: the guard's
row count is checked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import BigInteger, Column, Connection, Integer, String, bindparam, func, select, update
from sqlmodel import Field, SQLModel

from post_office.schemas import (
    AUTHORISATION_REFERENCE_LENGTH_MAX,
    IDENTITY_DOCUMENT_LENGTH_MAX,
    ByState,
    CashList,
    CashListLine,
    CashReason,
    ListStatus,
    Payout,
    PayoutState,
    Representative,
    Tally,
)
from switch.scheme.codes import Program, StatusReason

INSERT_CHUNK_LINES = 5_000


class CashListRow(SQLModel, table=True):
    __tablename__ = "post_cash_list"
    request_id: str = Field(sa_column=Column(String(35), primary_key=True))
    commune_code: str = Field(sa_column=Column(String(5), primary_key=True))
    cycle: str = Field(sa_column=Column(String(7), nullable=False))
    digest: str = Field(sa_column=Column(String(64), nullable=False))
    deadline_ms: int = Field(sa_column=Column(BigInteger, nullable=False))
    lines_count: int = Field(sa_column=Column(Integer, nullable=False))
    total_vnd: int = Field(sa_column=Column(BigInteger, nullable=False))
    received_ms: int = Field(sa_column=Column(BigInteger, nullable=False))
    funding_id: str | None = Field(sa_column=Column(String(35), nullable=True))
    funded_count: int = Field(sa_column=Column(Integer, nullable=False))
    funded_vnd: int = Field(sa_column=Column(BigInteger, nullable=False))
    funded_ms: int | None = Field(sa_column=Column(BigInteger, nullable=True))
    closed_ms: int | None = Field(sa_column=Column(BigInteger, nullable=True))
    returned_ms: int | None = Field(sa_column=Column(BigInteger, nullable=True))


class CashLineRow(SQLModel, table=True):
    __tablename__ = "post_cash_line"
    request_id: str = Field(sa_column=Column(String(35), primary_key=True))
    commune_code: str = Field(sa_column=Column(String(5), primary_key=True))
    line_id: str = Field(sa_column=Column(String(35), primary_key=True))
    citizen_id: str | None = Field(sa_column=Column(String(12), nullable=True, index=True))
    identity_document: str | None = Field(sa_column=Column(String(IDENTITY_DOCUMENT_LENGTH_MAX), nullable=True))
    name: str = Field(sa_column=Column(String(140), nullable=False))
    province_code: str = Field(sa_column=Column(String(3), nullable=False))
    program: str = Field(sa_column=Column(String(24), nullable=False))
    amount_vnd: int = Field(sa_column=Column(BigInteger, nullable=False))
    reason: str = Field(sa_column=Column(String(32), nullable=False))
    status_reason: str | None = Field(sa_column=Column(String(4), nullable=True))
    state: str = Field(sa_column=Column(String(24), nullable=False))
    state_ms: int | None = Field(sa_column=Column(BigInteger, nullable=True))
    representative_citizen_id: str | None = Field(sa_column=Column(String(12), nullable=True))
    representative_name: str | None = Field(sa_column=Column(String(140), nullable=True))
    authorisation_reference: str | None = Field(
        sa_column=Column(String(AUTHORISATION_REFERENCE_LENGTH_MAX), nullable=True)
    )


LISTS = CashListRow.__table__  # type: ignore[attr-defined]
LINES = CashLineRow.__table__  # type: ignore[attr-defined]
TABLES = [LISTS, LINES]
_LINE_FIELDS = (
    "line_id", "citizen_id", "identity_document", "name", "province_code", "program", "amount_vnd", "reason",
    "status_reason", "commune_code",
)  # fmt: skip


def find_list(conn: Connection, request_id: str, commune_code: str, lock: bool) -> ListStatus | None:
    """The list's status; `lock` holds its row until the transaction ends (PostgreSQL: two counters
    paying from one list take turns; SQLite's BEGIN IMMEDIATE already serialises writers)."""
    query = select(LISTS).where(LISTS.c.request_id == request_id, LISTS.c.commune_code == commune_code)
    if lock:
        query = query.with_for_update()
    row = conn.execute(query).one_or_none()
    return None if row is None else _status(row)


def all_lists(conn: Connection) -> list[ListStatus]:
    query = select(LISTS).order_by(LISTS.c.request_id, LISTS.c.commune_code)
    return [_status(row) for row in conn.execute(query)]


def insert_list(conn: Connection, status: ListStatus, cash_list: CashList, now_ms: int) -> None:
    conn.execute(
        LISTS.insert(),
        {
            "request_id": status.request_id, "commune_code": status.commune_code, "cycle": cash_list.cycle,
            "digest": status.digest, "deadline_ms": status.deadline_ms, "lines_count": status.total.count,
            "total_vnd": status.total.amount_vnd, "received_ms": now_ms, "funding_id": None, "funded_count": 0,
            "funded_vnd": 0, "funded_ms": None, "closed_ms": None, "returned_ms": None,
        },
    )  # fmt: skip
    rows = [_line_row(cash_list.request_id, line) for line in cash_list.lines]
    for start in range(0, len(rows), INSERT_CHUNK_LINES):
        conn.execute(LINES.insert(), rows[start : start + INSERT_CHUNK_LINES])


def set_funded(conn: Connection, status: ListStatus, now_ms: int) -> None:
    assert status.funding_id is not None
    result = conn.execute(
        update(LISTS)
        .where(_list_is(status), LISTS.c.funding_id.is_(None))
        .values(
            funding_id=status.funding_id,
            funded_count=status.funded.count,
            funded_vnd=status.funded.amount_vnd,
            funded_ms=now_ms,
        )
    )
    assert result.rowcount == 1, f"{status.request_id}/{status.commune_code} was funded meanwhile"


def set_closed(conn: Connection, status: ListStatus, now_ms: int) -> None:
    result = conn.execute(update(LISTS).where(_list_is(status), LISTS.c.closed_ms.is_(None)).values(closed_ms=now_ms))
    assert result.rowcount == 1, f"{status.request_id}/{status.commune_code} was closed meanwhile"


def set_returned(conn: Connection, status: ListStatus, now_ms: int) -> None:
    result = conn.execute(
        update(LISTS).where(_list_is(status), LISTS.c.returned_ms.is_(None)).values(returned_ms=now_ms)
    )
    assert result.rowcount == 1, f"{status.request_id}/{status.commune_code} was returned meanwhile"


def load_lines(
    conn: Connection, request_id: str, commune_code: str, line_ids: Iterable[str]
) -> dict[str, tuple[CashListLine, PayoutState]]:
    wanted = sorted(set(line_ids))
    if not wanted:
        return {}
    query = select(LINES).where(
        LINES.c.request_id == request_id, LINES.c.commune_code == commune_code, LINES.c.line_id.in_(wanted)
    )
    return {row.line_id: (_line(row), PayoutState(row.state)) for row in conn.execute(query)}


def amounts_in_state(conn: Connection, request_id: str, commune_code: str, state: PayoutState) -> dict[str, int]:
    """line id → VND of the list's lines in one state."""
    query = select(LINES.c.line_id, LINES.c.amount_vnd).where(
        LINES.c.request_id == request_id, LINES.c.commune_code == commune_code, LINES.c.state == state.value
    )
    return {row.line_id: int(row.amount_vnd) for row in conn.execute(query)}


def by_state(conn: Connection, request_id: str | None = None, commune_code: str | None = None) -> ByState:
    """Lines counted by state: of one list, or of every list."""
    query = select(LINES.c.state, func.count(), func.coalesce(func.sum(LINES.c.amount_vnd), 0)).group_by(LINES.c.state)
    if request_id is not None:
        query = query.where(LINES.c.request_id == request_id, LINES.c.commune_code == commune_code)
    found = {row[0]: Tally(count=int(row[1]), amount_vnd=int(row[2])) for row in conn.execute(query)}
    unknown = set(found) - {state.value for state in PayoutState}
    assert not unknown, f"lines in states the post office does not know: {unknown}"
    return ByState(**found)


_RECORD_PAYOUT = (
    update(LINES)
    .where(
        LINES.c.request_id == bindparam("b_request_id"),
        LINES.c.commune_code == bindparam("b_commune_code"),
        LINES.c.line_id == bindparam("b_line_id"),
        LINES.c.state == PayoutState.AWAITING.value,
    )
    .values(
        state=bindparam("b_state"),
        state_ms=bindparam("b_state_ms"),
        representative_citizen_id=bindparam("b_representative_citizen_id"),
        representative_name=bindparam("b_representative_name"),
        authorisation_reference=bindparam("b_authorisation_reference"),
    )
)


def record_payouts(conn: Connection, payouts: Sequence[Payout]) -> None:
    if not payouts:
        return
    rows = [_payout_params(payout) for payout in payouts]
    result = conn.execute(_RECORD_PAYOUT, rows)
    assert result.rowcount == len(rows), f"{len(rows) - result.rowcount} lines were paid meanwhile"


def move_lines(
    conn: Connection,
    status: ListStatus,
    line_ids: Sequence[str],
    leaving: PayoutState,
    entering: PayoutState,
    at_ms: int,
) -> None:
    """Lines from one state to another (awaiting → unclaimed at closing, unclaimed → returned)."""
    if not line_ids:
        return
    statement = (
        update(LINES)
        .where(_line_of(status), LINES.c.line_id == bindparam("b_line_id"), LINES.c.state == leaving.value)
        .values(state=entering.value, state_ms=at_ms)
    )
    result = conn.execute(statement, [{"b_line_id": line_id} for line_id in line_ids])
    assert result.rowcount == len(line_ids), f"{len(line_ids) - result.rowcount} lines left {leaving} meanwhile"


def payouts(conn: Connection, request_id: str, commune_code: str) -> list[Payout]:
    """The list's payouts in the order they were made."""
    paid = (PayoutState.PAID.value, PayoutState.PAID_TO_REPRESENTATIVE.value)
    query = (
        select(LINES)
        .where(LINES.c.request_id == request_id, LINES.c.commune_code == commune_code, LINES.c.state.in_(paid))
        .order_by(LINES.c.state_ms, LINES.c.line_id)
    )
    return [_payout(row) for row in conn.execute(query)]


def line_states(conn: Connection, request_id: str, commune_code: str) -> dict[str, PayoutState]:
    query = select(LINES.c.line_id, LINES.c.state).where(
        LINES.c.request_id == request_id, LINES.c.commune_code == commune_code
    )
    return {row.line_id: PayoutState(row.state) for row in conn.execute(query)}


def lines_of(conn: Connection, request_id: str, commune_code: str) -> list[CashListLine]:
    query = (
        select(LINES)
        .where(LINES.c.request_id == request_id, LINES.c.commune_code == commune_code)
        .order_by(LINES.c.line_id)
    )
    return [_line(row) for row in conn.execute(query)]


def _list_is(status: ListStatus) -> Any:
    return (LISTS.c.request_id == status.request_id) & (LISTS.c.commune_code == status.commune_code)


def _line_of(status: ListStatus) -> Any:
    return (LINES.c.request_id == status.request_id) & (LINES.c.commune_code == status.commune_code)


def _status(row: Any) -> ListStatus:
    return ListStatus(
        request_id=row.request_id,
        commune_code=row.commune_code,
        digest=row.digest,
        deadline_ms=row.deadline_ms,
        total=Tally(count=row.lines_count, amount_vnd=row.total_vnd),
        funding_id=row.funding_id,
        funded=Tally(count=row.funded_count, amount_vnd=row.funded_vnd),
        closed_ms=row.closed_ms,
        returned_ms=row.returned_ms,
    )


def _line_row(request_id: str, line: CashListLine) -> dict[str, Any]:
    row: dict[str, Any] = {name: getattr(line, name) for name in _LINE_FIELDS}
    row |= {
        "request_id": request_id,
        "program": line.program.value,
        "reason": line.reason.value,
        "status_reason": line.status_reason.value if line.status_reason else None,
        "state": PayoutState.AWAITING.value,
        "state_ms": None,
        "representative_citizen_id": None,
        "representative_name": None,
        "authorisation_reference": None,
    }
    return row


def _line(row: Any) -> CashListLine:
    values: Mapping[str, Any] = {name: getattr(row, name) for name in _LINE_FIELDS}
    return CashListLine(
        **(
            dict(values)
            | {
                "program": Program(row.program),
                "reason": CashReason(row.reason),
                "status_reason": StatusReason(row.status_reason) if row.status_reason else None,
            }
        )
    )


def _payout_params(payout: Payout) -> dict[str, Any]:
    representative = payout.representative
    return {
        "b_request_id": payout.request_id,
        "b_commune_code": payout.commune_code,
        "b_line_id": payout.line_id,
        "b_state": payout.state.value,
        "b_state_ms": payout.paid_ms,
        "b_representative_citizen_id": representative.citizen_id if representative else None,
        "b_representative_name": representative.name if representative else None,
        "b_authorisation_reference": representative.authorisation_reference if representative else None,
    }


def _payout(row: Any) -> Payout:
    representative = None
    if row.representative_citizen_id is not None:
        representative = Representative(
            citizen_id=row.representative_citizen_id,
            name=row.representative_name,
            authorisation_reference=row.authorisation_reference,
        )
    return Payout(
        request_id=row.request_id,
        commune_code=row.commune_code,
        line_id=row.line_id,
        amount_vnd=row.amount_vnd,
        state=PayoutState(row.state),
        paid_ms=row.state_ms,
        representative=representative,
    )
