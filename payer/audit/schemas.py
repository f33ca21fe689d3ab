"""The audit trail's value types and limits.

An `AuditEvent` is what a step reports (who, in which role, did what to which subject, when, with a few
details); an `AuditEntry` is that event as stored: numbered, chained to the entry before it and sealed
with its own hash. The values of `AuditAction` and `AuditRole` are stored and hashed: never rename one.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from typing import Any

HASH_HEX_LENGTH = 64  # SHA-256, lower-case hex
ACTOR_LENGTH_MAX = 128
SUBJECT_LENGTH_MAX = 140
DETAILS_BYTES_MAX = 2_048  # the canonical JSON of an entry's details, in UTF-8
DETAILS_DEPTH_MAX = 4  # objects and lists nested in the details object
DETAILS_KEY_LENGTH_MAX = 64
DETAILS_INTEGER_MAX = 2**63 - 1  # details' integers fit a signed 64-bit column (VND amounts do)
TIME_MS_MAX = 2**63 - 1
APPEND_BATCH_MAX = 8_190  # entries one append writes: one database transaction, as a ledger batch
VERIFY_PAGE_ROWS_DEFAULT = 5_000  # entries verify reads at a time: a million rows are never all in memory
VERIFY_PAGE_ROWS_MAX = 50_000
TIMELINE_ROWS_MAX = 10_000


class AuditAction(enum.StrEnum):
    """A step of the payroll (issue 15), or a refusal of one."""

    PREPARED = "prepared"  # MOLISA drew up the payment list
    FILED = "filed"  # MOLISA filed the payment request with the Treasury
    RETURNED = "returned"  # the Treasury returned the request with reasons
    APPROVED = "approved"  # the Treasury's approver approved it (maker–checker)
    SENT = "sent"  # the approved list went to the Treasury's serving bank as a pain.001
    PAID = "paid"  # a payment reached the citizen's account or wallet
    PAID_IN_CASH = "paid_in_cash"  # the post office paid a person (or their authorised representative)
    RETURNED_UNCLAIMED = "returned_unclaimed"  # the post office returned money nobody came for
    REFUSED = "refused"  # an action refused as bad input; the details say which and why


class AuditRole(enum.StrEnum):
    """Who acts in the payroll: the people's roles as payer.requests names them, then the institutions."""

    MOLISA_OFFICER = "molisa_officer"  # values as payer.requests.schemas.Role names them
    TREASURY_PREPARER = "treasury_preparer"
    TREASURY_APPROVER = "treasury_approver"
    TREASURY_BANK = "treasury_bank"  # the commercial bank holding the Treasury's account
    POST_OFFICE = "post_office"
    SYSTEM = "system"  # a step no person takes: a deadline passing, a payment's final status


@dataclass(slots=True, frozen=True)
class AuditEvent:
    """A step to record. `subject` names what it was done to, e.g. `payment_request_subject(...)`;
    `details` is a small JSON object (no floats: money is integer VND). Checked by `core.check_event`."""

    time_ms: int
    actor: str
    role: AuditRole
    action: AuditAction
    subject: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True, frozen=True)
class AuditEntry:
    """One stored row, exactly as read: a row someone altered may hold anything, so nothing here is
    validated; `core.verify` decides whether it is whole. `details_json` is the canonical JSON text
    that was hashed, kept as text so that verify hashes the very bytes stored."""

    sequence: int
    time_ms: int
    actor: str
    role: str
    action: str
    subject: str
    details_json: str
    previous_hash: str
    hash: str

    @property
    def details(self) -> Any:
        return json.loads(self.details_json)


@dataclass(slots=True, frozen=True)
class ChainHead:
    """The last entry's sequence number and hash: what an operator pins to detect a cut tail."""

    sequence: int
    hash: str

    def __str__(self) -> str:
        return f"{self.sequence}:{self.hash}"


class BrokenLinkReason(enum.StrEnum):
    HASH_MISMATCH = "hash_mismatch"  # the row's content no longer hashes to its stored hash: altered
    SEQUENCE_GAP = "sequence_gap"  # the numbering skips or repeats: a row deleted (or renumbered)
    PREVIOUS_HASH_MISMATCH = "previous_hash_mismatch"  # a sealed row chained to another: reordered or inserted
    EXPECTED_HEAD_MISSING = "expected_head_missing"  # the log ends before the pinned head: its tail was cut
    EXPECTED_HEAD_DIFFERS = "expected_head_differs"  # the pinned head's row was replaced: the chain was rewritten


# What is wrong, and how the two values that disagree read.
BROKEN_LINK_MEANINGS = {
    BrokenLinkReason.HASH_MISMATCH: "the row was altered: its content hashes to {expected}, its stored hash is {found}",
    BrokenLinkReason.SEQUENCE_GAP: "a row is missing or was renumbered: expected sequence {expected}, found {found}",
    BrokenLinkReason.PREVIOUS_HASH_MISMATCH: (
        "the row is not chained to the one before it (reordered or inserted):"
        " the one before hashes to {expected}, the row names {found}"
    ),
    BrokenLinkReason.EXPECTED_HEAD_MISSING: (
        "the log ends before the expected head {expected} (its tail was cut): {found}"
    ),
    BrokenLinkReason.EXPECTED_HEAD_DIFFERS: (
        "the expected head's row differs (the chain was rewritten): expected hash {expected}, found {found}"
    ),
}


@dataclass(slots=True, frozen=True)
class BrokenLink:
    """The first place the chain does not hold: the sequence number where the next whole entry was
    expected, what is wrong, and the two values that disagree."""

    sequence: int
    reason: BrokenLinkReason
    expected: str
    found: str

    @property
    def message(self) -> str:
        meaning = BROKEN_LINK_MEANINGS[self.reason].format(expected=self.expected, found=self.found)
        return f"sequence {self.sequence}: {self.reason.value}, {meaning}"


@dataclass(slots=True, frozen=True)
class VerifyReport:
    """`entries` whole entries from the start, ending at `head` (None for an empty log); `broken`
    names the first broken link, or is None when the chain is whole."""

    entries: int
    head: ChainHead | None
    broken: BrokenLink | None

    @property
    def ok(self) -> bool:
        return self.broken is None

    def as_json(self) -> dict[str, Any]:
        result: dict[str, Any] = {"ok": self.ok, "entries": self.entries, "head": str(self.head) if self.head else None}
        if self.broken is not None:
            result["broken"] = {
                "sequence": self.broken.sequence,
                "reason": self.broken.reason.value,
                "expected": self.broken.expected,
                "found": self.broken.found,
                "message": self.broken.message,
            }
        return result


# Subjects start with the payment request's id, so one prefix query finds a payroll's whole timeline
# (`timeline_prefix`): the request's versions, its items and its cash lists.


def payment_request_subject(request_id: str, version: int) -> str:
    """A payment request as filed: its id and the version (a returned request filed again is the next)."""
    return f"{request_id}/v{version}"


def payroll_item_subject(request_id: str, end_to_end_id: str) -> str:
    """One person's line of a payment request."""
    return f"{request_id}/item/{end_to_end_id}"


def cash_list_subject(request_id: str, commune_code: str) -> str:
    """The post office's cash list of one commune for a payment request."""
    return f"{request_id}/cash/{commune_code}"


def timeline_prefix(request_id: str) -> str:
    return f"{request_id}/"
