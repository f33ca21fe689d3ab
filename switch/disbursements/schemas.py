"""Records and limits of disbursements at the switch."""

from __future__ import annotations

from dataclasses import dataclass

from switch.scheme.codes import DisbursementStatus, ItemStatus, Program, StatusReason

IN_FLIGHT_ITEMS_MAX = 8_000  # per disbursement: what one pump may have out with the creditor agents at once
PUMP_ITEMS_MAX = 8_000  # items sent by one pump; one clearing intake (8,190 at most)
ATTEMPTS_MAX = 3  # an item that timed out or found its agent offline this often goes to the cash list
RETRY_DELAY_MS = 30_000
PUMP_INTERVAL_MS = 1_000  # while a disbursement runs, its timer looks for due retries and lost answers
DISBURSEMENTS_RUNNING_MAX = 100
TIMER_PREFIX = "disbursement:"
TRANSFER_CODE_RESERVE = 20
TRANSFER_CODE_RELEASE = 21
ACCOUNT_CODE_RESERVE = 3
RETRYABLE_REASONS = frozenset({StatusReason.AB05, StatusReason.AB08})
assert PUMP_ITEMS_MAX <= 8_190


def reserve_account(disbursement_id: int) -> str:
    """Where a disbursement's funds wait between the Treasury's position and the items' transfers."""
    return f"disbursement:{disbursement_id}:reserve"


def transaction_id(disbursement_id: int, seq: int, attempt: int) -> str:
    """An item's attempt as a pacs.008 TxId: the disbursement, the row and the attempt, so an answer finds
    its item without a lookup and a retry never reuses an id."""
    return f"PR{disbursement_id:07d}-{seq:06d}-{attempt}"


def parse_transaction_id(value: str) -> tuple[int, int, int] | None:
    if not value.startswith("PR") or len(value) != 18 or value[9] != "-" or value[16] != "-":
        return None
    head, seq, attempt = value[2:9], value[10:16], value[17:]
    if not (head.isdigit() and seq.isdigit() and attempt.isdigit()):
        return None
    return int(head), int(seq), int(attempt)


@dataclass(slots=True)
class DisbursementRecord:
    id: int
    debtor_agent: str
    message_id: str
    digest: str
    source_format: str
    status: DisbursementStatus
    reason: StatusReason | None
    rows_total: int
    rows_rejected: int
    items_total: int
    amount_total_vnd: int
    reserved_vnd: int  # what the funds check reserved: the items that have an account to pay
    received_ms: int
    completed_ms: int | None = None
    # A disbursement refused whole (nothing of it accepted) gives up its message id to the corrected
    # file sent under it: that file's disbursement.
    superseded_by: int | None = None


@dataclass(slots=True)
class ItemRecord:
    disbursement_id: int
    seq: int  # the row number in the file
    end_to_end_id: str
    citizen_id: str
    name: str
    province_code: str
    program: Program
    cycle: str
    amount_vnd: int
    status: ItemStatus
    reason: StatusReason | None
    creditor_agent: str | None
    attempts: int
    due_ms: int  # a RETRY item is sent again from this time on
    updated_ms: int
    payment_info_id: str | None = None  # a pain.001's PmtInfId, as written; None for JSON and CSV
    category_purpose: str | None = None  # the file's CtgyPurp/Cd for it (SSBE, PENS, ...)
    purpose: str | None = None  # the file's Purp/Cd for it


def beneficiary_key(payer: str, program: str, cycle: str, citizen_id: str) -> str:
    """Nobody is paid twice by one payer for a program and cycle. The payer is part of the key: what
    one payer sends never changes what another can pay (a second treasury's item for a citizen
    must not make the real Treasury's item for that citizen a duplicate)."""
    return f"{payer}|{program}|{cycle}|{citizen_id}"
