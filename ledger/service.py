"""The ledger's shell: load what a batch touches, let the core decide, persist the decision.

Methods take a Connection inside a transaction that the caller owns: the ledger never commits, so a
node can post to its ledger and write its own tables in the one transaction of its batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, Engine

from ledger import repository
from ledger.core import decide_transfers
from ledger.errors import BatchTooLarge, LedgerInvariantViolation
from ledger.schemas import (
    BATCH_SIZE_MAX,
    ID_LENGTH_MAX,
    Account,
    AccountResult,
    LedgerTotals,
    PendingStatus,
    Transfer,
    TransferKind,
    TransferResult,
)


class Ledger:
    def __init__(self, engine: Engine, batch_size_max: int = BATCH_SIZE_MAX) -> None:
        self.engine = engine
        self.batch_size_max = batch_size_max
        # Row locks matter only where several processes write one database (PostgreSQL); SQLite
        # serialises writers with BEGIN IMMEDIATE.
        self._lock_rows = engine.dialect.name == "postgresql"

    def create_tables(self) -> None:
        repository.create_tables(self.engine)

    def create_accounts(self, conn: Connection, accounts: Sequence[Account]) -> list[AccountResult]:
        self._check_size(len(accounts))
        stored = repository.load_accounts(conn, (a.id for a in accounts), lock=False)
        results: list[AccountResult] = []
        new: dict[str, Account] = {}
        for account in accounts:
            if not account.id or len(account.id) > ID_LENGTH_MAX:
                results.append(AccountResult.ID_INVALID)
                continue
            before = stored.get(account.id) or new.get(account.id)
            if before is None:
                fresh = Account(account.id, account.code, account.flags)
                new[account.id] = fresh
                results.append(AccountResult.OK)
            elif (before.code, before.flags) == (account.code, account.flags):
                results.append(AccountResult.EXISTS)
            else:
                results.append(AccountResult.EXISTS_WITH_DIFFERENT_FIELDS)
        repository.insert_accounts(conn, list(new.values()))
        return results

    def create_transfers(self, conn: Connection, transfers: Sequence[Transfer], now_ms: int) -> list[TransferResult]:
        """Post a batch; one result per transfer, in order. Never raises for a rejected transfer."""
        self._check_size(len(transfers))
        if not transfers:
            return []
        stored = repository.load_transfers(
            conn, [t.id for t in transfers] + [t.pending_id for t in transfers if t.pending_id]
        )
        existing = {key: transfer for key, (transfer, _status) in stored.items()}
        pendings = {
            key: (transfer, status)
            for key, (transfer, status) in stored.items()
            if transfer.kind == TransferKind.PENDING
        }
        account_ids = _account_ids(transfers, pendings)
        accounts = repository.load_accounts(conn, account_ids, lock=self._lock_rows)
        decision = decide_transfers(transfers, accounts, existing, pendings, now_ms)
        repository.insert_transfers(conn, decision.inserts)
        repository.save_balances(conn, decision.accounts.values())
        repository.save_pending_statuses(conn, decision.pending_statuses)
        return decision.results

    def lookup_accounts(self, conn: Connection, ids: Iterable[str]) -> dict[str, Account]:
        return repository.load_accounts(conn, ids, lock=False)

    def lookup_transfers(self, conn: Connection, ids: Iterable[str]) -> dict[str, tuple[Transfer, PendingStatus]]:
        return repository.load_transfers(conn, ids)

    def count_transfers_with_codes(self, conn: Connection, codes: Sequence[int]) -> int:
        return repository.count_transfers_with_codes(conn, codes)

    def accounts(self, conn: Connection) -> list[Account]:
        return repository.all_accounts(conn)

    def check_invariants(self, conn: Connection) -> LedgerTotals:
        """Total debits equal total credits, and the balances agree with the stored transfers."""
        totals = repository.totals(conn)
        if not totals.balanced:
            raise LedgerInvariantViolation(f"ledger does not balance: {totals}")
        posted_vnd, pending_vnd = repository.transfer_sums(conn)
        if totals.debits_posted != posted_vnd or totals.debits_pending != pending_vnd:
            raise LedgerInvariantViolation(
                f"balances {totals} disagree with transfers: posted {posted_vnd}, pending {pending_vnd}"
            )
        for account in repository.all_accounts(conn):
            try:
                account.check()
            except AssertionError as error:
                raise LedgerInvariantViolation(str(error)) from error
        return totals

    def _check_size(self, size: int) -> None:
        if size > self.batch_size_max:
            raise BatchTooLarge(size, self.batch_size_max)


def _account_ids(transfers: Sequence[Transfer], pendings: dict[str, tuple[Transfer, PendingStatus]]) -> set[str]:
    ids: set[str] = set()
    for transfer in transfers:
        if transfer.kind in (TransferKind.POST_PENDING, TransferKind.VOID_PENDING):
            found = pendings.get(transfer.pending_id or "")
            if found is not None:
                ids.add(found[0].debit_account_id)
                ids.add(found[0].credit_account_id)
        else:
            ids.add(transfer.debit_account_id)
            ids.add(transfer.credit_account_id)
    return ids
