"""The ledger's functional core: decide a batch of transfers from the state it touches.

`decide_transfers` is pure: it takes the accounts, the transfers already stored under the batch's
ids, the pending transfers the batch refers to, and returns results and the writes to make. The
shell (`service.py`) loads that state, calls this, and persists the decision in one transaction.
Transfers apply in order, so a later transfer in a batch sees the effect of an earlier one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ledger.schemas import (
    ID_LENGTH_MAX,
    LEDGER_AMOUNT_VND_MAX,
    Account,
    AccountFlag,
    PendingStatus,
    Transfer,
    TransferKind,
    TransferResult,
)

# Plain ints: testing an IntFlag member costs ten times an int test, and this runs per transfer.
_DEBITS_MUST_NOT_EXCEED_CREDITS = int(AccountFlag.DEBITS_MUST_NOT_EXCEED_CREDITS)
_CREDITS_MUST_NOT_EXCEED_DEBITS = int(AccountFlag.CREDITS_MUST_NOT_EXCEED_DEBITS)


@dataclass(slots=True)
class BatchDecision:
    results: list[TransferResult] = field(default_factory=list)
    inserts: list[Transfer] = field(default_factory=list)
    accounts: dict[str, Account] = field(default_factory=dict)  # touched accounts, new balances
    pending_statuses: dict[str, PendingStatus] = field(default_factory=dict)


@dataclass(slots=True)
class _State:
    accounts: dict[str, Account]
    existing: dict[str, Transfer]
    pendings: dict[str, tuple[Transfer, PendingStatus]]
    decision: BatchDecision


def decide_transfers(
    batch: Sequence[Transfer],
    accounts: Mapping[str, Account],
    existing: Mapping[str, Transfer],
    pendings: Mapping[str, tuple[Transfer, PendingStatus]],
    now_ms: int,
) -> BatchDecision:
    state = _State(
        accounts={key: account.copy() for key, account in accounts.items()},
        existing=dict(existing),
        pendings=dict(pendings),
        decision=BatchDecision(),
    )
    for transfer in batch:
        state.decision.results.append(_apply(state, transfer, now_ms))
    touched = {t.debit_account_id for t in state.decision.inserts}
    touched |= {t.credit_account_id for t in state.decision.inserts}
    state.decision.accounts = {key: state.accounts[key] for key in touched}
    _assert_balanced(accounts, state.decision.accounts)
    return state.decision


def _apply(state: _State, transfer: Transfer, now_ms: int) -> TransferResult:
    if not transfer.id or len(transfer.id) > ID_LENGTH_MAX:
        return TransferResult.ID_INVALID
    stored = state.existing.get(transfer.id)
    if stored is not None:
        if stored.same_content(transfer):
            return TransferResult.EXISTS
        return TransferResult.EXISTS_WITH_DIFFERENT_FIELDS
    if transfer.kind in (TransferKind.POST_PENDING, TransferKind.VOID_PENDING):
        return _apply_second_phase(state, transfer, now_ms)
    return _apply_first_phase(state, transfer, now_ms)


def _apply_first_phase(state: _State, transfer: Transfer, now_ms: int) -> TransferResult:
    amount = transfer.amount_vnd
    # bool is an int in Python; a flag is never an amount.
    if type(amount) is not int or amount <= 0:
        return TransferResult.AMOUNT_MUST_BE_POSITIVE_INTEGER
    if amount > LEDGER_AMOUNT_VND_MAX:
        return TransferResult.AMOUNT_EXCEEDS_MAXIMUM
    if transfer.debit_account_id == transfer.credit_account_id:
        return TransferResult.ACCOUNTS_MUST_BE_DIFFERENT
    debit = state.accounts.get(transfer.debit_account_id)
    if debit is None:
        return TransferResult.DEBIT_ACCOUNT_NOT_FOUND
    credit = state.accounts.get(transfer.credit_account_id)
    if credit is None:
        return TransferResult.CREDIT_ACCOUNT_NOT_FOUND
    if debit.flags & _DEBITS_MUST_NOT_EXCEED_CREDITS:
        if debit.debits_pending + debit.debits_posted + amount > debit.credits_posted:
            return TransferResult.EXCEEDS_CREDITS
    if credit.flags & _CREDITS_MUST_NOT_EXCEED_DEBITS:
        if credit.credits_pending + credit.credits_posted + amount > credit.debits_posted:
            return TransferResult.EXCEEDS_DEBITS
    if _overflows(debit, credit, amount):
        return TransferResult.OVERFLOWS_BALANCE
    stamped = _stamped(transfer, transfer.debit_account_id, transfer.credit_account_id, amount, now_ms)
    if transfer.kind == TransferKind.PENDING:
        debit.debits_pending += amount
        credit.credits_pending += amount
        state.pendings[transfer.id] = (stamped, PendingStatus.PENDING)
    else:
        debit.debits_posted += amount
        credit.credits_posted += amount
    _record(state, stamped)
    return TransferResult.OK


def _apply_second_phase(state: _State, transfer: Transfer, now_ms: int) -> TransferResult:
    if not transfer.pending_id:
        return TransferResult.PENDING_ID_REQUIRED
    found = state.pendings.get(transfer.pending_id)
    if found is None:
        return TransferResult.PENDING_TRANSFER_NOT_FOUND
    pending, status = found
    if status == PendingStatus.POSTED:
        return TransferResult.PENDING_TRANSFER_ALREADY_POSTED
    if status == PendingStatus.VOIDED:
        return TransferResult.PENDING_TRANSFER_ALREADY_VOIDED
    debit = state.accounts[pending.debit_account_id]
    credit = state.accounts[pending.credit_account_id]
    amount = pending.amount_vnd
    debit.debits_pending -= amount
    credit.credits_pending -= amount
    if transfer.kind == TransferKind.POST_PENDING:
        debit.debits_posted += amount
        credit.credits_posted += amount
        new_status = PendingStatus.POSTED
    else:
        new_status = PendingStatus.VOIDED
    state.pendings[pending.id] = (pending, new_status)
    state.decision.pending_statuses[pending.id] = new_status
    _record(state, _stamped(transfer, pending.debit_account_id, pending.credit_account_id, amount, now_ms))
    return TransferResult.OK


def _overflows(debit: Account, credit: Account, amount_vnd: int) -> bool:
    """Whether a posting would push a balance past 64 bits (pending and posted both count)."""
    debits = debit.debits_pending + debit.debits_posted + amount_vnd
    credits = credit.credits_pending + credit.credits_posted + amount_vnd
    return debits > LEDGER_AMOUNT_VND_MAX or credits > LEDGER_AMOUNT_VND_MAX


def _stamped(transfer: Transfer, debit_id: str, credit_id: str, amount_vnd: int, now_ms: int) -> Transfer:
    """The transfer as stored: accounts and amount filled in (second phases), the ledger's time."""
    return Transfer(
        transfer.id, debit_id, credit_id, amount_vnd, transfer.kind, transfer.pending_id, transfer.code, now_ms
    )


def _record(state: _State, transfer: Transfer) -> None:
    state.existing[transfer.id] = transfer
    state.decision.inserts.append(transfer)


def _assert_balanced(before: Mapping[str, Account], after: Mapping[str, Account]) -> None:
    """Every batch moves as much to debits as to credits, and no account breaks its flags."""
    delta_debits = delta_credits = 0
    for key, account in after.items():
        account.check()
        old = before[key]
        delta_debits += (account.debits_pending + account.debits_posted) - (old.debits_pending + old.debits_posted)
        delta_credits += (account.credits_pending + account.credits_posted) - (old.credits_pending + old.credits_posted)
    if delta_debits != delta_credits:
        raise AssertionError(f"batch unbalanced: debits moved {delta_debits}, credits {delta_credits}")
