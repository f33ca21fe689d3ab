"""Value types of the ledger. Amounts are integer VND: the currency has no minor unit."""

from __future__ import annotations

import enum
from dataclasses import dataclass

ID_LENGTH_MAX = 96
# Amounts and balances live in signed 64-bit columns (BIGINT): nothing may pass this.
LEDGER_AMOUNT_VND_MAX = 2**63 - 1
BATCH_SIZE_MAX = 8190  # TigerBeetle's batch limit: one database transaction holds at most this many


class AccountFlag(enum.IntFlag):
    NONE = 0
    # The account can never owe: an asset the holder owns outright (a customer's deposit).
    DEBITS_MUST_NOT_EXCEED_CREDITS = 1
    # The account can never be owed more than it was paid.
    CREDITS_MUST_NOT_EXCEED_DEBITS = 2


# Plain ints for the checks run on every account of every batch: an IntFlag's `&` costs ten times more.
_DEBITS_MUST_NOT_EXCEED_CREDITS = int(AccountFlag.DEBITS_MUST_NOT_EXCEED_CREDITS)
_CREDITS_MUST_NOT_EXCEED_DEBITS = int(AccountFlag.CREDITS_MUST_NOT_EXCEED_DEBITS)


class TransferKind(enum.IntEnum):
    """Single-phase posting or the two phases of a reservation (TigerBeetle's pending transfers)."""

    POSTED = 0
    PENDING = 1
    POST_PENDING = 2
    VOID_PENDING = 3


class PendingStatus(enum.IntEnum):
    NONE = 0  # not a pending transfer
    PENDING = 1
    POSTED = 2
    VOIDED = 3


class TransferResult(enum.StrEnum):
    """Outcome of one transfer in a batch; stable values, stored and shown."""

    OK = "ok"
    EXISTS = "exists"  # same id, same content: already posted, nothing moved again
    EXISTS_WITH_DIFFERENT_FIELDS = "exists_with_different_fields"
    ID_INVALID = "id_invalid"
    AMOUNT_MUST_BE_POSITIVE_INTEGER = "amount_must_be_positive_integer"
    AMOUNT_EXCEEDS_MAXIMUM = "amount_exceeds_maximum"
    OVERFLOWS_BALANCE = "overflows_balance"
    ACCOUNTS_MUST_BE_DIFFERENT = "accounts_must_be_different"
    DEBIT_ACCOUNT_NOT_FOUND = "debit_account_not_found"
    CREDIT_ACCOUNT_NOT_FOUND = "credit_account_not_found"
    EXCEEDS_CREDITS = "exceeds_credits"
    EXCEEDS_DEBITS = "exceeds_debits"
    PENDING_ID_REQUIRED = "pending_id_required"
    PENDING_TRANSFER_NOT_FOUND = "pending_transfer_not_found"
    PENDING_TRANSFER_ALREADY_POSTED = "pending_transfer_already_posted"
    PENDING_TRANSFER_ALREADY_VOIDED = "pending_transfer_already_voided"


class AccountResult(enum.StrEnum):
    OK = "ok"
    EXISTS = "exists"
    EXISTS_WITH_DIFFERENT_FIELDS = "exists_with_different_fields"
    ID_INVALID = "id_invalid"


@dataclass(slots=True)
class Account:
    id: str
    code: int = 0
    flags: int = AccountFlag.NONE  # AccountFlag bits, kept a plain int: tested per transfer
    debits_pending: int = 0
    debits_posted: int = 0
    credits_pending: int = 0
    credits_posted: int = 0

    @property
    def balance_vnd(self) -> int:
        """Posted credits less posted debits: what a deposit holder owns."""
        return self.credits_posted - self.debits_posted

    @property
    def available_vnd(self) -> int:
        """What can still be debited: posted credits less posted and reserved debits."""
        return self.credits_posted - self.debits_posted - self.debits_pending

    def copy(self) -> Account:
        return Account(
            self.id,
            self.code,
            self.flags,
            self.debits_pending,
            self.debits_posted,
            self.credits_pending,
            self.credits_posted,
        )

    def check(self) -> None:
        """The account's own invariants; called after reading and before writing."""
        for value in (self.debits_pending, self.debits_posted, self.credits_pending, self.credits_posted):
            if value < 0:
                raise AssertionError(f"account {self.id}: negative balance component {value}")
        if self.flags & _DEBITS_MUST_NOT_EXCEED_CREDITS:
            if self.debits_pending + self.debits_posted > self.credits_posted:
                raise AssertionError(f"account {self.id}: debits exceed credits")
        if self.flags & _CREDITS_MUST_NOT_EXCEED_DEBITS:
            if self.credits_pending + self.credits_posted > self.debits_posted:
                raise AssertionError(f"account {self.id}: credits exceed debits")


@dataclass(slots=True, frozen=True)
class Transfer:
    """A movement between two accounts of one ledger.

    For POST_PENDING and VOID_PENDING only `id` and `pending_id` matter: the accounts and the amount
    are those of the pending transfer, and the ledger fills them in.
    """

    id: str
    debit_account_id: str = ""
    credit_account_id: str = ""
    amount_vnd: int = 0
    kind: TransferKind = TransferKind.POSTED
    pending_id: str | None = None
    code: int = 0
    timestamp_ms: int = 0  # set by the ledger from the injected clock

    def same_content(self, other: Transfer) -> bool:
        """Idempotency compares what the sender chose, not what the ledger filled in."""
        if self.kind != other.kind or self.code != other.code:
            return False
        if self.kind in (TransferKind.POST_PENDING, TransferKind.VOID_PENDING):
            return self.pending_id == other.pending_id
        return (
            self.debit_account_id == other.debit_account_id
            and self.credit_account_id == other.credit_account_id
            and self.amount_vnd == other.amount_vnd
        )


@dataclass(slots=True, frozen=True)
class LedgerTotals:
    debits_pending: int
    debits_posted: int
    credits_pending: int
    credits_posted: int

    @property
    def balanced(self) -> bool:
        return self.debits_pending == self.credits_pending and self.debits_posted == self.credits_posted
