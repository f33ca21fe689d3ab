"""The clearing core: pure decisions on a batch of credit transfers and on their answers.

No database, no clock, no I/O: the shell passes in what it loaded and acts on what comes back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from switch.clearing.schemas import ClearingRecord, Route, clearing_key
from switch.directory.schemas import AliasRecord
from switch.participants.schemas import Participant
from switch.scheme.codes import StatusReason, TransactionStatus
from switch.scheme.messages import CreditTransfer


@dataclass(slots=True, frozen=True)
class IntakeDecision:
    transfer: CreditTransfer
    key: str
    digest: str
    reject: StatusReason | None = None
    route: Route | None = None
    duplicate_of: ClearingRecord | None = None
    store: bool = True  # a reject that must not take the id (DUPL, wrong sender) is not stored
    repeat_in_batch: bool = False  # the same transfer earlier in this batch: that one answers


def digest_of(transfer: CreditTransfer) -> str:
    return hashlib.sha256(transfer.model_dump_json().encode()).hexdigest()


def decide_intake(
    items: Sequence[tuple[str, CreditTransfer]],
    participants: Mapping[str, Participant],
    aliases: Mapping[str, AliasRecord],
    existing: Mapping[str, ClearingRecord],
    transfer_limit_vnd: int,
) -> list[IntakeDecision]:
    """One decision per (sender, transfer), in order; senders share one batch."""
    seen: dict[str, str] = {}  # key -> digest of the first occurrence in this batch
    decisions = []
    for sender, transfer in items:
        key = clearing_key(transfer.debtor_agent, transfer.transaction_id)
        digest = digest_of(transfer)
        decisions.append(
            _decide_one(sender, transfer, key, digest, participants, aliases, existing, seen, transfer_limit_vnd)
        )
        seen.setdefault(key, digest)
    return decisions


def _decide_one(
    sender: str,
    transfer: CreditTransfer,
    key: str,
    digest: str,
    participants: Mapping[str, Participant],
    aliases: Mapping[str, AliasRecord],
    existing: Mapping[str, ClearingRecord],
    seen: Mapping[str, str],
    transfer_limit_vnd: int,
) -> IntakeDecision:
    if transfer.debtor_agent != sender:
        return IntakeDecision(transfer, key, digest, reject=StatusReason.FF01, store=False)
    stored = existing.get(key)
    earlier_digest = stored.digest if stored is not None else seen.get(key)
    if earlier_digest is not None:
        if earlier_digest != digest:
            return IntakeDecision(transfer, key, digest, reject=StatusReason.DUPL, store=False)
        if stored is None:
            return IntakeDecision(transfer, key, digest, store=False, repeat_in_batch=True)
        return IntakeDecision(transfer, key, digest, duplicate_of=stored, store=False)
    reject, route = _route(transfer, participants, aliases, transfer_limit_vnd)
    return IntakeDecision(transfer, key, digest, reject=reject, route=route)


def _route(
    transfer: CreditTransfer,
    participants: Mapping[str, Participant],
    aliases: Mapping[str, AliasRecord],
    transfer_limit_vnd: int,
) -> tuple[StatusReason | None, Route | None]:
    debtor = participants.get(transfer.debtor_agent)
    if debtor is None:
        return StatusReason.RC04, None
    if not debtor.active:
        return StatusReason.RR04, None
    if transfer.amount_vnd > transfer_limit_vnd:
        return StatusReason.AM02, None
    if transfer.creditor_alias is not None:
        record = aliases.get(transfer.creditor_alias.key)
        if record is None:
            return StatusReason.BE23, None
        route = Route(record.agent, record.account, record.citizen_id)
    else:
        assert transfer.creditor_agent is not None and transfer.creditor_account is not None
        route = Route(transfer.creditor_agent, transfer.creditor_account, transfer.creditor.citizen_id)
    creditor = participants.get(route.creditor_agent)
    if creditor is None:
        return StatusReason.RC04, None
    if not creditor.active:
        return StatusReason.RR04, None
    return None, route


def forwarded(transfer: CreditTransfer, route: Route) -> CreditTransfer:
    """The transfer as the creditor agent receives it: address resolved, alias kept for its records."""
    creditor = transfer.creditor
    if route.creditor_citizen_id and creditor.citizen_id is None:
        creditor = creditor.model_copy(update={"citizen_id": route.creditor_citizen_id})
    return transfer.model_copy(
        update={
            "creditor_agent": route.creditor_agent,
            "creditor_account": route.creditor_account,
            "creditor": creditor,
        }
    )


def decide_answer(record: ClearingRecord, status: TransactionStatus) -> str:
    """What a creditor's answer does to a record: 'settle', 'reject', 'refuse_late' or 'ignore'."""
    # ACTC only says the message was well formed: the creditor has not taken the money yet.
    accepted = status in (TransactionStatus.ACSP, TransactionStatus.ACSC)
    if record.status == TransactionStatus.PDNG:
        if accepted:
            return "settle"
        return "reject" if status == TransactionStatus.RJCT else "ignore"
    if record.status == TransactionStatus.RJCT and accepted and record.reason in (StatusReason.AB05, StatusReason.AB08):
        return "refuse_late"  # the creditor credited after the switch gave up: it must reverse
    return "ignore"
