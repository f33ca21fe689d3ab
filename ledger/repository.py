"""The ledger's tables and every query on them (SQLAlchemy Core on SQLModel table models)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Integer,
    String,
    bindparam,
    func,
    select,
    update,
)
from sqlmodel import Field, SQLModel

from ledger.schemas import (
    ID_LENGTH_MAX,
    Account,
    LedgerTotals,
    PendingStatus,
    Transfer,
    TransferKind,
)


class LedgerAccount(SQLModel, table=True):
    __tablename__ = "ledger_account"
    id: str = Field(sa_column=Column(String(ID_LENGTH_MAX), primary_key=True))
    code: int = Field(sa_column=Column(Integer, nullable=False))
    flags: int = Field(sa_column=Column(Integer, nullable=False))
    debits_pending: int = Field(sa_column=Column(BigInteger, nullable=False))
    debits_posted: int = Field(sa_column=Column(BigInteger, nullable=False))
    credits_pending: int = Field(sa_column=Column(BigInteger, nullable=False))
    credits_posted: int = Field(sa_column=Column(BigInteger, nullable=False))


class LedgerTransfer(SQLModel, table=True):
    __tablename__ = "ledger_transfer"
    id: str = Field(sa_column=Column(String(ID_LENGTH_MAX), primary_key=True))
    debit_account_id: str = Field(sa_column=Column(String(ID_LENGTH_MAX), nullable=False, index=True))
    credit_account_id: str = Field(sa_column=Column(String(ID_LENGTH_MAX), nullable=False, index=True))
    amount_vnd: int = Field(sa_column=Column(BigInteger, nullable=False))
    kind: int = Field(sa_column=Column(Integer, nullable=False))
    pending_id: str | None = Field(sa_column=Column(String(ID_LENGTH_MAX), nullable=True))
    pending_status: int = Field(sa_column=Column(Integer, nullable=False))
    code: int = Field(sa_column=Column(Integer, nullable=False))
    timestamp_ms: int = Field(sa_column=Column(BigInteger, nullable=False))


ACCOUNTS = LedgerAccount.__table__  # type: ignore[attr-defined]
TRANSFERS = LedgerTransfer.__table__  # type: ignore[attr-defined]
TABLES = [ACCOUNTS, TRANSFERS]


def create_tables(engine: Engine) -> None:
    SQLModel.metadata.create_all(engine, tables=TABLES)


# Enum members by stored value: indexing a tuple is much cheaper than calling the enum per row.
_KINDS = tuple(TransferKind)
_PENDING_STATUSES = tuple(PendingStatus)
assert all(m.value == i for members in (_KINDS, _PENDING_STATUSES) for i, m in enumerate(members))

# Statements are built once: building a statement costs more than running it on a small batch.
_SELECT_ACCOUNTS = select(ACCOUNTS).where(ACCOUNTS.c.id.in_(bindparam("ids", expanding=True))).order_by(ACCOUNTS.c.id)
_SELECT_ACCOUNTS_FOR_UPDATE = _SELECT_ACCOUNTS.with_for_update()
_SELECT_TRANSFERS = select(TRANSFERS).where(TRANSFERS.c.id.in_(bindparam("ids", expanding=True)))
_INSERT_ACCOUNTS = ACCOUNTS.insert()
_INSERT_TRANSFERS = TRANSFERS.insert()
_UPDATE_BALANCES = (
    update(ACCOUNTS)
    .where(ACCOUNTS.c.id == bindparam("key"))
    .values(
        debits_pending=bindparam("debits_pending"),
        debits_posted=bindparam("debits_posted"),
        credits_pending=bindparam("credits_pending"),
        credits_posted=bindparam("credits_posted"),
    )
)
_UPDATE_PENDING_STATUS = (
    update(TRANSFERS).where(TRANSFERS.c.id == bindparam("key")).values(pending_status=bindparam("status"))
)


def load_accounts(conn: Connection, ids: Iterable[str], lock: bool) -> dict[str, Account]:
    wanted = sorted(set(ids))  # sorted: concurrent batches lock rows in one order, no deadlock
    if not wanted:
        return {}
    accounts = {}
    for row in conn.execute(_SELECT_ACCOUNTS_FOR_UPDATE if lock else _SELECT_ACCOUNTS, {"ids": wanted}):
        account = _account_from_row(row)
        account.check()
        accounts[account.id] = account
    return accounts


def load_transfers(conn: Connection, ids: Iterable[str]) -> dict[str, tuple[Transfer, PendingStatus]]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = conn.execute(_SELECT_TRANSFERS, {"ids": wanted})
    return {row.id: (_transfer_from_row(row), _PENDING_STATUSES[row.pending_status]) for row in rows}


def _transfer_from_row(row: Any) -> Transfer:
    return Transfer(
        id=row.id,
        debit_account_id=row.debit_account_id,
        credit_account_id=row.credit_account_id,
        amount_vnd=row.amount_vnd,
        kind=_KINDS[row.kind],
        pending_id=row.pending_id,
        code=row.code,
        timestamp_ms=row.timestamp_ms,
    )


def insert_accounts(conn: Connection, accounts: Sequence[Account]) -> None:
    if accounts:
        conn.execute(_INSERT_ACCOUNTS, [_account_row(a) for a in accounts])


def save_balances(conn: Connection, accounts: Iterable[Account]) -> None:
    rows = [
        {
            "key": a.id,
            "debits_pending": a.debits_pending,
            "debits_posted": a.debits_posted,
            "credits_pending": a.credits_pending,
            "credits_posted": a.credits_posted,
        }
        for a in accounts
    ]
    if rows:
        conn.execute(_UPDATE_BALANCES, rows)


def insert_transfers(conn: Connection, transfers: Sequence[Transfer]) -> None:
    if not transfers:
        return
    rows = [
        {
            "id": t.id,
            "debit_account_id": t.debit_account_id,
            "credit_account_id": t.credit_account_id,
            "amount_vnd": t.amount_vnd,
            "kind": int(t.kind),
            "pending_id": t.pending_id,
            "pending_status": int(PendingStatus.PENDING if t.kind == TransferKind.PENDING else PendingStatus.NONE),
            "code": t.code,
            "timestamp_ms": t.timestamp_ms,
        }
        for t in transfers
    ]
    conn.execute(_INSERT_TRANSFERS, rows)


def save_pending_statuses(conn: Connection, statuses: dict[str, PendingStatus]) -> None:
    if statuses:
        conn.execute(_UPDATE_PENDING_STATUS, [{"key": key, "status": int(s)} for key, s in statuses.items()])


def count_transfers_with_codes(conn: Connection, codes: Sequence[int]) -> int:
    query = select(func.count()).select_from(TRANSFERS).where(TRANSFERS.c.code.in_(list(codes)))
    return int(conn.execute(query).scalar_one())


_SPLIT = 1_000_000_000


def _wide_sum(column: Any) -> tuple[Any, Any]:
    """A sum that cannot overflow 64 bits on SQLite: summed as high and low parts, joined in Python."""
    return func.coalesce(func.sum(column // _SPLIT), 0), func.coalesce(func.sum(column % _SPLIT), 0)


def _join(high: Any, low: Any) -> int:
    return int(high) * _SPLIT + int(low)


def totals(conn: Connection) -> LedgerTotals:
    columns = (
        ACCOUNTS.c.debits_pending,
        ACCOUNTS.c.debits_posted,
        ACCOUNTS.c.credits_pending,
        ACCOUNTS.c.credits_posted,
    )
    row = conn.execute(select(*[part for column in columns for part in _wide_sum(column)])).one()
    return LedgerTotals(*(_join(row[2 * i], row[2 * i + 1]) for i in range(4)))


def transfer_sums(conn: Connection) -> tuple[int, int]:
    """Sums of posted and still-pending amounts over the stored transfers, to check the balances."""
    posted_kinds = [int(TransferKind.POSTED), int(TransferKind.POST_PENDING)]
    amount = TRANSFERS.c.amount_vnd
    posted = conn.execute(select(*_wide_sum(amount)).where(TRANSFERS.c.kind.in_(posted_kinds))).one()
    pending = conn.execute(
        select(*_wide_sum(amount)).where(TRANSFERS.c.pending_status == int(PendingStatus.PENDING))
    ).one()
    return _join(*posted), _join(*pending)


def all_accounts(conn: Connection) -> list[Account]:
    return [_account_from_row(row) for row in conn.execute(select(ACCOUNTS).order_by(ACCOUNTS.c.id))]


def _account_from_row(row: Any) -> Account:
    return Account(
        row.id,
        row.code,
        row.flags,
        row.debits_pending,
        row.debits_posted,
        row.credits_pending,
        row.credits_posted,
    )


def _account_row(a: Account) -> dict[str, object]:
    return {
        "id": a.id,
        "code": a.code,
        "flags": int(a.flags),
        "debits_pending": a.debits_pending,
        "debits_posted": a.debits_posted,
        "credits_pending": a.credits_pending,
        "credits_posted": a.credits_posted,
    }
