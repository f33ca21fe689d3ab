"""The disbursement core: pure decisions on a payroll's items and on the answers to their transfers.

No database, no clock: the shell loads the registry records, the directory's aliases and what
earlier files hold, and acts on what comes back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from switch.directory.schemas import AliasRecord
from switch.disbursements.schemas import ATTEMPTS_MAX, RETRY_DELAY_MS, RETRYABLE_REASONS, DisbursementRecord, ItemRecord
from switch.scheme.codes import (
    AliasType,
    DisbursementStatus,
    ItemStatus,
    StatusReason,
    TransactionStatus,
    VerificationOutcome,
)
from switch.scheme.disbursement import DisbursementItem
from switch.scheme.identity import IdentityRecord
from switch.scheme.messages import Alias
from switch.scheme.names import compare_names
from switch.scheme.summary import CASHLESS_TARGET_SHARE, ZERO, Cell, DisbursementSummary, Reconciliation, Retried


@dataclass(slots=True, frozen=True)
class Screened:
    status: ItemStatus  # QUEUED to pay, CASH for the post office, HELD not to pay
    reason: StatusReason | None
    creditor_agent: str | None


_CITIZEN_ALIAS_PREFIX = f"{AliasType.CITIZEN_ID.value}:"
assert Alias(type=AliasType.CITIZEN_ID, value="001085012345").key == _CITIZEN_ALIAS_PREFIX + "001085012345"


def alias_key(citizen_id: str) -> str:
    """The directory's key of a citizen-id alias (`Alias.key`), without building the model per item."""
    return _CITIZEN_ALIAS_PREFIX + citizen_id


def screen(
    item: DisbursementItem,
    identity: IdentityRecord | None,
    alias: AliasRecord | None,
) -> Screened:
    """The identity check against the population registry, then where the money can go."""
    if identity is None:
        return Screened(ItemStatus.HELD, StatusReason.BE16, None)
    if not identity.alive:
        return Screened(ItemStatus.HELD, StatusReason.MD07, None)
    if compare_names(item.name, identity.name) == VerificationOutcome.NMTC:
        return Screened(ItemStatus.HELD, StatusReason.BE01, None)
    if alias is None:
        return Screened(ItemStatus.CASH, StatusReason.BE23, None)
    return Screened(ItemStatus.QUEUED, None, alias.agent)


@dataclass(slots=True, frozen=True)
class Outcome:
    status: ItemStatus
    reason: StatusReason | None
    due_ms: int


def decide_answer(item: ItemRecord, status: TransactionStatus, reason: StatusReason | None, now_ms: int) -> Outcome:
    """A final status of the item's current attempt: paid, retried later, or the cash list."""
    assert item.status == ItemStatus.SENT, f"an answer for item {item.seq} in state {item.status}"
    assert status.is_final, f"only a final status decides an item, not {status}"
    if status == TransactionStatus.ACSC:
        return Outcome(ItemStatus.PAID, None, now_ms)
    reason = reason or StatusReason.FF01
    if reason in RETRYABLE_REASONS and item.attempts < ATTEMPTS_MAX:
        return Outcome(ItemStatus.RETRY, reason, now_ms + RETRY_DELAY_MS * item.attempts)
    return Outcome(ItemStatus.CASH, reason, now_ms)


def take_for_sending(items: Sequence[ItemRecord], room: int) -> list[ItemRecord]:
    """Up to `room` items, grouped by creditor agent so each agent gets its chunk in one delivery."""
    chosen = sorted(items, key=lambda i: (i.creditor_agent or "", i.seq))[: max(room, 0)]
    return chosen


def check_totals(counts: Mapping[ItemStatus, tuple[int, int]], items_total: int, amount_total_vnd: int) -> None:
    """Every item is in exactly one state, and the amounts add up to what was accepted."""
    count = sum(c for c, _ in counts.values())
    amount = sum(a for _, a in counts.values())
    assert count == items_total, f"items by state add up to {count}, the disbursement accepted {items_total}"
    assert amount == amount_total_vnd, (
        f"amounts by state add up to {amount}, the disbursement accepted {amount_total_vnd}"
    )


_DIMENSIONS = ("status", "reason", "participant", "program", "province", "province_status")


def summarize(
    disbursement: DisbursementRecord,
    groups: Sequence[tuple[Any, ...]],
    row_errors_listed: int,
    retried: tuple[int, int] = (0, 0),
) -> DisbursementSummary:
    """Counts and sums by status, reason, participant, program and province; progress; the cashless
    share against the target; the items sent more than once (and how many of them were paid in the
    end); and the reconciliation paid + cash + held (+ in process) = accepted."""
    by = _tally(groups)
    reconciliation = _reconcile(disbursement, by["status"])
    items_total = disbursement.items_total
    final = items_total - reconciliation.in_process.count
    payable = items_total - reconciliation.held.count - reconciliation.rejected.count
    return DisbursementSummary(
        disbursement_id=disbursement.id, message_id=disbursement.message_id, debtor_agent=disbursement.debtor_agent,
        format=disbursement.source_format, status=disbursement.status, reason=disbursement.reason,
        rows_total=disbursement.rows_total, rows_rejected=disbursement.rows_rejected,
        row_errors=disbursement.rows_rejected, row_errors_listed=row_errors_listed, items_total=items_total,
        amount_total_vnd=disbursement.amount_total_vnd,
        progress_percent=round(100 * final / items_total, 1) if items_total else 100.0,
        cashless_share=round(reconciliation.paid.count / payable, 4) if payable else 0.0,
        cashless_target_share=CASHLESS_TARGET_SHARE,
        by_status=by["status"], by_reason=by["reason"], by_participant=by["participant"], by_program=by["program"],
        by_province=by["province"], by_province_status=by["province_status"], reconciliation=reconciliation,
        retried=Retried(count=retried[0], paid=retried[1]),
        received_ms=disbursement.received_ms, completed_ms=disbursement.completed_ms,
    )  # fmt: skip


def _tally(groups: Sequence[tuple[Any, ...]]) -> dict[str, dict[str, Cell]]:
    """The repository's groups (status, reason, agent, program, province, count, VND) summed along
    each dimension, each table sorted by its keys."""
    by: dict[str, dict[str, list[int]]] = {k: {} for k in _DIMENSIONS}
    for status, reason, agent, program, province, count, amount in groups:
        keys = {
            "status": status,
            "reason": reason or "",
            "participant": agent or "",
            "program": program,
            "province": province,
            "province_status": f"{province}/{status}",
        }
        for dimension, key in keys.items():
            if dimension == "participant" and status != ItemStatus.PAID.value:
                continue  # by participant: what each creditor agent was paid
            if dimension == "reason" and not reason:
                continue
            cell = by[dimension].setdefault(key, [0, 0])
            cell[0] += int(count)
            cell[1] += int(amount)
    return {
        dimension: {key: Cell(count=c, amount_vnd=a) for key, (c, a) in sorted(table.items())}
        for dimension, table in by.items()
    }


def _reconcile(disbursement: DisbursementRecord, by_status: dict[str, Cell]) -> Reconciliation:
    paid, cash, held = (by_status.get(s.value, ZERO) for s in (ItemStatus.PAID, ItemStatus.CASH, ItemStatus.HELD))
    # A disbursement refused whole (AM04: the Treasury's funds did not cover it) stores no items: all
    # of what it accepted is rejected, none of it in process.
    submitted = Cell(count=disbursement.items_total, amount_vnd=disbursement.amount_total_vnd)
    rejected = submitted if disbursement.status == DisbursementStatus.REJECTED else ZERO
    final = paid + cash + held + rejected
    in_process = Cell(count=submitted.count - final.count, amount_vnd=submitted.amount_vnd - final.amount_vnd)
    return Reconciliation(
        submitted=submitted, paid=paid, cash=cash, held=held, rejected=rejected, in_process=in_process,
        balanced=final == submitted,
    )  # fmt: skip
