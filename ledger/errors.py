"""Errors the ledger raises (a rejected transfer is a result, not an error).

LedgerError
├── BatchTooLarge             a batch over the limit; nothing was posted
└── LedgerInvariantViolation  the books do not balance: a bug, never bad input
"""


class LedgerError(Exception):
    """Base of every ledger error."""


class BatchTooLarge(LedgerError):
    def __init__(self, size: int, size_max: int) -> None:
        super().__init__(f"batch of {size} items is over the limit of {size_max}")
        self.size = size
        self.size_max = size_max


class LedgerInvariantViolation(LedgerError):
    """Raised when an invariant fails after reading or before writing. Always a bug."""
