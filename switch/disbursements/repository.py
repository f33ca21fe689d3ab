"""The switch's record of disbursements, their items and their row errors; every query on them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import BigInteger, Column, Connection, Index, Integer, String, func, select, text
from sqlmodel import Field, SQLModel

from ledger.fastsql import Statement
from switch.disbursements.schemas import DisbursementRecord, ItemRecord, beneficiary_key
from switch.scheme.codes import DisbursementStatus, ItemStatus, Program, StatusReason
from switch.scheme.disbursement import ROW_ERRORS_LISTED_MAX, RowError


class DisbursementRow(SQLModel, table=True):
    __tablename__ = "switch_disbursement"
    # A payer's message id names one disbursement, but for those refused whole and superseded by the
    # corrected file sent under the same id: a partial unique index (SQLite and PostgreSQL both have them).
    __table_args__ = (
        Index(
            "ux_switch_disbursement_message",
            "debtor_agent",
            "message_id",
            unique=True,
            sqlite_where=text("superseded_by IS NULL"),
            postgresql_where=text("superseded_by IS NULL"),
        ),
    )
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
    superseded_by: int | None = Field(sa_column=Column(Integer, nullable=True))


class DisbursementItemRow(SQLModel, table=True):
    __tablename__ = "switch_disbursement_item"
    # (disbursement, status, row): a pump takes the next queued rows of a disbursement in order without a sort.
    __table_args__ = (Index("ix_switch_disbursement_item_status", "disbursement_id", "status", "seq"),)
    disbursement_id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
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
    payment_info_id: str | None = Field(sa_column=Column(String(35), nullable=True))  # pain.001's, as written
    category_purpose: str | None = Field(sa_column=Column(String(4), nullable=True))  # CtgyPurp/Cd
    purpose: str | None = Field(sa_column=Column(String(4), nullable=True))  # Purp/Cd


class DisbursementRowErrorRow(SQLModel, table=True):
    __tablename__ = "switch_disbursement_row_error"
    disbursement_id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    ordinal: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    row: int = Field(sa_column=Column(Integer, nullable=False))
    field: str = Field(sa_column=Column(String(60), nullable=False))
    rule: str = Field(sa_column=Column(String(300), nullable=False))
    reason: str = Field(sa_column=Column(String(4), nullable=False))
    end_to_end_id: str | None = Field(sa_column=Column(String(35), nullable=True))
    payment_info_id: str | None = Field(sa_column=Column(String(35), nullable=True))


DISBURSEMENTS = DisbursementRow.__table__  # type: ignore[attr-defined]
ITEMS = DisbursementItemRow.__table__  # type: ignore[attr-defined]
ROW_ERRORS = DisbursementRowErrorRow.__table__  # type: ignore[attr-defined]
TABLES = [DISBURSEMENTS, ITEMS, ROW_ERRORS]

_ITEM_COLUMNS = (
    "disbursement_id, seq, end_to_end_id, citizen_id, name, province_code, program, cycle, amount_vnd, status, reason,"
    " creditor_agent, attempts, due_ms, updated_ms, payment_info_id, category_purpose, purpose"
)
# The rows of one disbursement: most statements below read or count them.
_OF_ONE = "FROM switch_disbursement_item WHERE disbursement_id = :disbursement_id"
_INSERT_ITEM = Statement(
    f"INSERT INTO switch_disbursement_item ({_ITEM_COLUMNS}, beneficiary_key) VALUES (:disbursement_id, :seq,"
    " :end_to_end_id, :citizen_id, :name, :province_code, :program, :cycle, :amount_vnd, :status, :reason,"
    " :creditor_agent, :attempts, :due_ms, :updated_ms, :payment_info_id, :category_purpose, :purpose,"
    " :beneficiary_key)"
)
_EXISTING_KEYS = Statement("SELECT beneficiary_key FROM switch_disbursement_item WHERE beneficiary_key = ANY(:ids)")
_LOAD_ITEMS = Statement(f"SELECT {_ITEM_COLUMNS} {_OF_ONE} AND seq = ANY(:ids)")
# Two index range scans (queued, then retries that are due), each in row order; the pump groups the
# chosen items by creditor agent itself. An OR with ORDER BY creditor would sort a whole disbursement.
_SENDABLE = Statement(
    f"SELECT * FROM (SELECT {_ITEM_COLUMNS} {_OF_ONE} AND status = 'queued' ORDER BY seq LIMIT :limit) AS queued"
    f" UNION ALL SELECT * FROM (SELECT {_ITEM_COLUMNS} {_OF_ONE}"
    " AND status = 'retry' AND due_ms <= :now_ms ORDER BY seq LIMIT :limit) AS due"
)
# PostgreSQL, several workers pumping one disbursement: an item one worker is sending is skipped by the others.
_SENDABLE_LOCKED = Statement(
    f"SELECT {_ITEM_COLUMNS} {_OF_ONE}"
    " AND (status = 'queued' OR (status = 'retry' AND due_ms <= :now_ms)) ORDER BY seq LIMIT :limit"
    " FOR UPDATE SKIP LOCKED"
)
_COUNT_SENT = Statement(f"SELECT count(*), min(updated_ms) {_OF_ONE} AND status = 'sent'")
_UPDATE_ITEM = Statement(
    "UPDATE switch_disbursement_item SET status = :status, reason = :reason, attempts = :attempts, due_ms = :due_ms,"
    " updated_ms = :updated_ms WHERE disbursement_id = :disbursement_id AND seq = :seq"
)
_COUNT_BY_STATUS = Statement(f"SELECT status, count(*), coalesce(sum(amount_vnd), 0) {_OF_ONE} GROUP BY status")
_COUNT_OPEN = Statement(f"SELECT count(*) {_OF_ONE} AND status IN ('queued', 'sent', 'retry')")
# Every disbursement's items: one pass over the (disbursement, status) index, for a metrics scrape.
_COUNT_ALL_BY_STATUS = Statement(
    "SELECT status, count(*), coalesce(sum(amount_vnd), 0) FROM switch_disbursement_item GROUP BY status"
)
_GROUPS = Statement(
    f"SELECT status, reason, creditor_agent, program, province_code, count(*), sum(amount_vnd) {_OF_ONE}"
    " GROUP BY status, reason, creditor_agent, program, province_code"
)
_PAGE = Statement(f"SELECT {_ITEM_COLUMNS} {_OF_ONE} AND seq > :after ORDER BY seq LIMIT :limit")
_PAGE_OF_STATUS = Statement(
    f"SELECT {_ITEM_COLUMNS} {_OF_ONE} AND seq > :after AND status = :status ORDER BY seq LIMIT :limit"
)
_STATUSES = {s.value: s for s in ItemStatus}
_REASONS = {r.value: r for r in StatusReason}
_PROGRAMS = {p.value: p for p in Program}


def next_disbursement_id(conn: Connection) -> int:
    return int(conn.execute(select(func.coalesce(func.max(DISBURSEMENTS.c.id), 0) + 1)).scalar_one())


def find_disbursement(conn: Connection, debtor_agent: str, message_id: str) -> DisbursementRecord | None:
    """The disbursement that holds the message id: not one superseded by a corrected file."""
    row = conn.execute(
        select(DISBURSEMENTS).where(
            DISBURSEMENTS.c.debtor_agent == debtor_agent,
            DISBURSEMENTS.c.message_id == message_id,
            DISBURSEMENTS.c.superseded_by.is_(None),
        )
    ).first()
    return _disbursement(row) if row is not None else None


def supersede(conn: Connection, refused: DisbursementRecord, by_id: int) -> None:
    """A disbursement refused whole gives up its message id to the corrected file's, `by_id`."""
    assert refused.status == DisbursementStatus.REJECTED, f"disbursement {refused.id} accepted items: it stays"
    refused.superseded_by = by_id
    conn.execute(DISBURSEMENTS.update().where(DISBURSEMENTS.c.id == refused.id).values(superseded_by=by_id))


def load_disbursement(conn: Connection, disbursement_id: int) -> DisbursementRecord | None:
    row = conn.execute(select(DISBURSEMENTS).where(DISBURSEMENTS.c.id == disbursement_id)).first()
    return _disbursement(row) if row is not None else None


def disbursements(
    conn: Connection, debtor_agent: str | None = None, status: DisbursementStatus | None = None
) -> list[DisbursementRecord]:
    query = select(DISBURSEMENTS).order_by(DISBURSEMENTS.c.id)
    if debtor_agent is not None:
        query = query.where(DISBURSEMENTS.c.debtor_agent == debtor_agent)
    if status is not None:
        query = query.where(DISBURSEMENTS.c.status == status.value)
    return [_disbursement(r) for r in conn.execute(query)]


def insert_disbursement(conn: Connection, disbursement: DisbursementRecord) -> None:
    conn.execute(DISBURSEMENTS.insert().values(**_disbursement_values(disbursement)))


def save_disbursement(conn: Connection, disbursement: DisbursementRecord) -> None:
    conn.execute(
        DISBURSEMENTS.update().where(DISBURSEMENTS.c.id == disbursement.id).values(**_disbursement_values(disbursement))
    )


def insert_row_errors(conn: Connection, disbursement_id: int, errors: Sequence[RowError]) -> None:
    """The first ROW_ERRORS_LISTED_MAX are kept with their rule; the disbursement counts them all."""
    errors = errors[:ROW_ERRORS_LISTED_MAX]
    if errors:
        conn.execute(
            ROW_ERRORS.insert(),
            [
                {
                    "disbursement_id": disbursement_id,
                    "ordinal": n,
                    "row": e.row,
                    "field": e.field[:60],
                    "rule": e.rule[:300],
                    "reason": e.reason.value,
                    "end_to_end_id": e.end_to_end_id,
                    "payment_info_id": e.payment_info_id,
                }
                for n, e in enumerate(errors, start=1)
            ],
        )


def count_row_errors(conn: Connection, disbursement_id: int) -> int:
    query = select(func.count()).select_from(ROW_ERRORS).where(ROW_ERRORS.c.disbursement_id == disbursement_id)
    return int(conn.execute(query).scalar_one())


def row_errors(conn: Connection, disbursement_id: int) -> list[RowError]:
    query = select(ROW_ERRORS).where(ROW_ERRORS.c.disbursement_id == disbursement_id).order_by(ROW_ERRORS.c.ordinal)
    return [
        RowError(r.row, r.field, r.rule, _REASONS[r.reason], r.end_to_end_id, r.payment_info_id)
        for r in conn.execute(query)
    ]


def existing_keys(conn: Connection, keys: Iterable[str]) -> set[str]:
    return {row[0] for row in _EXISTING_KEYS.rows(conn, ids=list(keys))}


def insert_items(conn: Connection, items: Sequence[ItemRecord], payer: str) -> None:
    """The items of one payer's disbursement, each under its beneficiary key (unique per payer)."""
    rows = [(*_item_tuple(i), beneficiary_key(payer, i.program.value, i.cycle, i.citizen_id)) for i in items]
    _INSERT_ITEM.execute_many(conn, rows)


def load_items(conn: Connection, disbursement_id: int, seqs: Iterable[int]) -> dict[int, ItemRecord]:
    return {r[1]: _item(r) for r in _LOAD_ITEMS.rows(conn, disbursement_id=disbursement_id, ids=list(seqs))}


def sendable(conn: Connection, disbursement_id: int, now_ms: int, limit: int) -> list[ItemRecord]:
    statement = _SENDABLE_LOCKED if conn.dialect.name == "postgresql" else _SENDABLE
    return [_item(r) for r in statement.rows(conn, disbursement_id=disbursement_id, now_ms=now_ms, limit=limit)]


def sent(conn: Connection, disbursement_id: int) -> tuple[int, int | None]:
    """How many items are out with their creditor agents, and since when the oldest has been."""
    [(count, oldest)] = _COUNT_SENT.rows(conn, disbursement_id=disbursement_id)
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
                i.disbursement_id,
                i.seq,
            )
            for i in items
        ],
    )


def counts_by_status(conn: Connection, disbursement_id: int) -> dict[ItemStatus, tuple[int, int]]:
    return {_STATUSES[s]: (int(c), int(a)) for s, c, a in _COUNT_BY_STATUS.rows(conn, disbursement_id=disbursement_id)}


def counts_by_status_all(conn: Connection) -> dict[ItemStatus, tuple[int, int]]:
    """(count, VND) of every disbursement's items by status: every status present, zero if none."""
    found = {_STATUSES[s]: (int(c), int(a)) for s, c, a in _COUNT_ALL_BY_STATUS.rows(conn)}
    return {status: found.get(status, (0, 0)) for status in ItemStatus}


def count_open(conn: Connection, disbursement_id: int) -> int:
    """Items not yet final: three seeks on the (disbursement, status) index, cheap enough for every disbursement."""
    [(count,)] = _COUNT_OPEN.rows(conn, disbursement_id=disbursement_id)
    return int(count)


_RETRIED = Statement(
    "SELECT count(*), coalesce(sum(CASE WHEN status = 'paid' THEN 1 ELSE 0 END), 0) FROM switch_disbursement_item"
    " WHERE disbursement_id = :disbursement_id AND attempts > 1"
)


def retried(conn: Connection, disbursement_id: int) -> tuple[int, int]:
    """Items sent more than once (a timeout or an offline agent), and how many of those were paid."""
    [(count, paid)] = _RETRIED.rows(conn, disbursement_id=disbursement_id)
    return int(count), int(paid)


def groups(conn: Connection, disbursement_id: int) -> list[tuple[Any, ...]]:
    """(status, reason, creditor agent, program, province code, count, VND) for every combination."""
    return _GROUPS.rows(conn, disbursement_id=disbursement_id)


def page(
    conn: Connection, disbursement_id: int, after_seq: int, limit: int, status: ItemStatus | None = None
) -> list[ItemRecord]:
    if status is None:
        rows = _PAGE.rows(conn, disbursement_id=disbursement_id, after=after_seq, limit=limit)
    else:
        rows = _PAGE_OF_STATUS.rows(
            conn, disbursement_id=disbursement_id, after=after_seq, status=status.value, limit=limit
        )
    return [_item(r) for r in rows]


def _item_tuple(i: ItemRecord) -> tuple[Any, ...]:
    return (
        i.disbursement_id,
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
        i.payment_info_id,
        i.category_purpose,
        i.purpose,
    )


def _item(row: tuple[Any, ...]) -> ItemRecord:
    return ItemRecord(
        disbursement_id=row[0],
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
        payment_info_id=row[15],
        category_purpose=row[16],
        purpose=row[17],
    )


def _disbursement_values(b: DisbursementRecord) -> dict[str, Any]:
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
        "superseded_by": b.superseded_by,
    }


def _disbursement(row: Any) -> DisbursementRecord:
    return DisbursementRecord(
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
        superseded_by=row.superseded_by,
    )
