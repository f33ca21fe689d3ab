"""Double-entry ledger core: accounts, transfers posted in batches, invariants.

Imports nothing else of Switchyard's. Every node (the switch, each bank, each wallet provider) keeps
its own ledger in its own database.
"""

from ledger.errors import BatchTooLarge, LedgerError, LedgerInvariantViolation
from ledger.schemas import (
    Account,
    AccountFlag,
    AccountResult,
    LedgerTotals,
    PendingStatus,
    Transfer,
    TransferKind,
    TransferResult,
)
from ledger.service import Ledger

__all__ = [
    "Account",
    "AccountFlag",
    "AccountResult",
    "BatchTooLarge",
    "Ledger",
    "LedgerError",
    "LedgerInvariantViolation",
    "LedgerTotals",
    "PendingStatus",
    "Transfer",
    "TransferKind",
    "TransferResult",
]
