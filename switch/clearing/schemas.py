from __future__ import annotations

from dataclasses import dataclass

from switch.scheme.codes import StatusReason, TransactionStatus
from switch.scheme.messages import SCHEME_TRANSFER_LIMIT_VND

TRANSFER_LIMIT_VND = SCHEME_TRANSFER_LIMIT_VND  # NAPAS's per-transaction limit for 24/7 fast transfers
CREDITOR_TIMEOUT_MS = 5_000
INTAKE_BATCH_MAX = 8_190  # one ledger batch
TIMER_PREFIX = "timeout:"  # the creditor timer of one transfer sent on its own: the key follows
MESSAGE_TIMER_PREFIX = "timeout-message:"  # of a multi-transaction message: its transactions' keys ride along


def clearing_key(debtor_agent: str, transaction_id: str) -> str:
    """Ids are chosen by the sender, so they are unique per debtor agent, not across the scheme."""
    return f"{debtor_agent}:{transaction_id}"


@dataclass(slots=True, frozen=True)
class Route:
    creditor_agent: str
    creditor_account: str
    creditor_citizen_id: str | None


@dataclass(slots=True)
class ClearingRecord:
    key: str
    debtor_agent: str
    transaction_id: str
    message_id: str
    end_to_end_id: str
    digest: str
    amount_vnd: int
    debtor_account: str
    creditor_agent: str | None
    creditor_account: str | None
    status: TransactionStatus
    reason: StatusReason | None
    created_ms: int
    updated_ms: int
