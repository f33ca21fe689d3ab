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
    func,
    select,
)
from sqlmodel import Field, SQLModel

from ledger.fastsql import Statement
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

_ACCOUNT_COLUMNS = "id, code, flags, debits_pending, debits_posted, credits_pending, credits_posted"
_TRANSFER_COLUMNS = "id, debit_account_id, credit_account_id, amount_vnd, kind, pending_id, code, timestamp_ms"
_SELECT_ACCOUNTS = Statement(f"SELECT {_ACCOUNT_COLUMNS} FROM ledger_account WHERE id = ANY(:ids) ORDER BY id")
_SELECT_ACCOUNTS_FOR_UPDATE = Statement(
    f"SELECT {_ACCOUNT_COLUMNS} FROM ledger_account WHERE id = ANY(:ids) ORDER BY id FOR UPDATE"
)
_SELECT_TRANSFERS = Statement(f"SELECT {_TRANSFER_COLUMNS}, pending_status FROM ledger_transfer WHERE id = ANY(:ids)")
_INSERT_ACCOUNTS = Statement(
    "INSERT INTO ledger_account (id, code, flags, debits_pending, debits_posted, credits_pending, credits_posted)"
    " VALUES (:id, :code, :flags, :debits_pending, :debits_posted, :credits_pending, :credits_posted)"
)
_INSERT_TRANSFERS = Statement(
    "INSERT INTO ledger_transfer (id, debit_account_id, credit_account_id, amount_vnd, kind, pending_id,"
    " pending_status, code, timestamp_ms) VALUES (:id, :debit_account_id, :credit_account_id, :amount_vnd, :kind,"
    " :pending_id, :pending_status, :code, :timestamp_ms)"
)
_UPDATE_BALANCES = Statement(
    "UPDATE ledger_account SET debits_pending = :debits_pending, debits_posted = :debits_posted,"
    " credits_pending = :credits_pending, credits_posted = :credits_posted WHERE id = :id"
)
_UPDATE_PENDING_STATUS = Statement("UPDATE ledger_transfer SET pending_status = :status WHERE id = :id")


def load_accounts(conn: Connection, ids: Iterable[str], lock: bool) -> dict[str, Account]:
    wanted = sorted(set(ids))  # sorted: concurrent batches lock rows in one order, no deadlock
    if not wanted:
        return {}
    statement = _SELECT_ACCOUNTS_FOR_UPDATE if lock else _SELECT_ACCOUNTS
    accounts = {}
    for row in statement.rows(conn, ids=wanted):
        account = Account(*row)
        account.check()
        accounts[account.id] = account
    return accounts


def load_transfers(conn: Connection, ids: Iterable[str]) -> dict[str, tuple[Transfer, PendingStatus]]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    found = {}
    for row in _SELECT_TRANSFERS.rows(conn, ids=wanted):
        transfer = Transfer(row[0], row[1], row[2], row[3], _KINDS[row[4]], row[5], row[6], row[7])
        found[transfer.id] = (transfer, _PENDING_STATUSES[row[8]])
    return found


def insert_accounts(conn: Connection, accounts: Sequence[Account]) -> None:
    _INSERT_ACCOUNTS.execute_many(
        conn,
        [
            (a.id, a.code, int(a.flags), a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted)
            for a in accounts
        ],
    )


def save_balances(conn: Connection, accounts: Iterable[Account]) -> None:
    _UPDATE_BALANCES.execute_many(
        conn, [(a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted, a.id) for a in accounts]
    )


def insert_transfers(conn: Connection, transfers: Sequence[Transfer]) -> None:
    pending, none = int(PendingStatus.PENDING), int(PendingStatus.NONE)
    rows = [
        (
            t.id,
            t.debit_account_id,
            t.credit_account_id,
            t.amount_vnd,
            int(t.kind),
            t.pending_id,
            pending if t.kind == TransferKind.PENDING else none,
            t.code,
            t.timestamp_ms,
        )
        for t in transfers
    ]
    _INSERT_TRANSFERS.execute_many(conn, rows)


def save_pending_statuses(conn: Connection, statuses: dict[str, PendingStatus]) -> None:
    _UPDATE_PENDING_STATUS.execute_many(conn, [(int(status), key) for key, status in statuses.items()])


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
