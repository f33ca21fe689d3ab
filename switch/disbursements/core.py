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


CASHLESS_TARGET_SHARE = 0.30  # the government's target for welfare paid without cash


def summarize(
    disbursement: DisbursementRecord,
    groups: Sequence[tuple[Any, ...]],
    row_errors: int,
    retried: tuple[int, int] = (0, 0),
) -> dict[str, Any]:
    """Counts and sums by status, reason, participant, program and province; progress; the cashless
    share against the target; the items sent more than once (and how many of them were paid in the
    end); and the reconciliation paid + cash + held (+ in process) = accepted."""
    dimensions = ("status", "reason", "participant", "program", "province", "province_status")
    by: dict[str, dict[str, list[int]]] = {k: {} for k in dimensions}
    for status, reason, agent, program, province, count, amount in groups:
        keys = {
            "status": status,
            "reason": reason or "",
            "participant": agent or "",
            "program": program,
            "province": province,
            "province_status": f"{province}/{status}",  # for the cashless share by province
        }
        for dimension, key in keys.items():
            if dimension == "participant" and status != ItemStatus.PAID.value:
                continue  # by participant: what each creditor agent was paid
            if dimension == "reason" and not reason:
                continue
            cell = by[dimension].setdefault(key, [0, 0])
            cell[0] += int(count)
            cell[1] += int(amount)
    totals = {s.value: tuple(by["status"].get(s.value, [0, 0])) for s in ItemStatus}
    paid, cash, held = totals[ItemStatus.PAID.value], totals[ItemStatus.CASH.value], totals[ItemStatus.HELD.value]
    # A disbursement refused whole (AM04: the Treasury's funds did not cover it) stores no items: all of
    # what it accepted is rejected, none of it in process.
    refused_whole = disbursement.status == DisbursementStatus.REJECTED
    rejected = (disbursement.items_total, disbursement.amount_total_vnd) if refused_whole else (0, 0)
    final = paid[0] + cash[0] + held[0] + rejected[0]
    final_vnd = paid[1] + cash[1] + held[1] + rejected[1]
    payable = disbursement.items_total - held[0] - rejected[0]
    reconciliation = {
        "submitted": {"count": disbursement.items_total, "amount_vnd": disbursement.amount_total_vnd},
        "paid": _cell(paid),
        "cash": _cell(cash),
        "held": _cell(held),
        "rejected": _cell(rejected),
        "in_process": {
            "count": disbursement.items_total - final,
            "amount_vnd": disbursement.amount_total_vnd - final_vnd,
        },
        "balanced": final == disbursement.items_total and final_vnd == disbursement.amount_total_vnd,
    }
    return {
        "disbursement_id": disbursement.id,
        "message_id": disbursement.message_id,
        "debtor_agent": disbursement.debtor_agent,
        "format": disbursement.source_format,
        "status": disbursement.status.value,
        "reason": disbursement.reason.value if disbursement.reason else None,
        "rows_total": disbursement.rows_total,
        "rows_rejected": disbursement.rows_rejected,
        "row_errors": disbursement.rows_rejected,
        "row_errors_listed": row_errors,
        "items_total": disbursement.items_total,
        "amount_total_vnd": disbursement.amount_total_vnd,
        "progress_percent": round(100 * final / disbursement.items_total, 1) if disbursement.items_total else 100.0,
        "cashless_share": round(paid[0] / payable, 4) if payable else 0.0,
        "cashless_target_share": CASHLESS_TARGET_SHARE,
        "by_status": _cells(by["status"]),
        "by_reason": _cells(by["reason"]),
        "by_participant": _cells(by["participant"]),
        "by_program": _cells(by["program"]),
        "by_province": _cells(by["province"]),
        "by_province_status": _cells(by["province_status"]),
        "reconciliation": reconciliation,
        "retried": {"count": retried[0], "paid": retried[1]},
        "received_ms": disbursement.received_ms,
        "completed_ms": disbursement.completed_ms,
    }


def _cell(pair: tuple[int, ...] | list[int]) -> dict[str, int]:
    return {"count": pair[0], "amount_vnd": pair[1]}


def _cells(table: dict[str, list[int]]) -> dict[str, dict[str, int]]:
    return {key: _cell(table[key]) for key in sorted(table)}
