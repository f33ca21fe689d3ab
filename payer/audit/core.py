"""The audit trail's chain, pure: canonical bytes, SHA-256 links, and the check that finds the first
broken link.

Each entry is hashed over its canonical JSON (keys sorted, UTF-8, no insignificant whitespace, no
floats), which includes its sequence number and the previous entry's hash; the first entry's previous
hash is `GENESIS_HASH`. So altering any field of a row changes its hash, and a row deleted, reordered or
inserted breaks the numbering or the link to the row before it. `verify` walks the entries in order
and names the first place this fails.

What the chain cannot show, honestly:
- A cut tail. Deleting the last rows leaves a shorter chain that is whole. `verify` prints the head
  (its sequence number and hash); an operator who keeps that value somewhere the database's writers
  cannot reach (a ticket, a signed e-mail, another system) can later pass it as the expected head,
  and verify then fails if the log no longer contains that entry unchanged.
- A rewrite. Whoever can write the table can also recompute every hash from an altered row onward:
  there is no secret in the chain. The pinned head catches a rewrite of every entry up to it, never of
  entries appended after it. Keeping the database's writers away from the table (the code only ever
  INSERTs) and pinning heads often is the defence; the chain makes tampering evident, not impossible.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from payer.audit.errors import AuditEventInvalid, ExpectedHeadInvalid
from payer.audit.schemas import (
    ACTOR_LENGTH_MAX,
    DETAILS_BYTES_MAX,
    DETAILS_DEPTH_MAX,
    DETAILS_INTEGER_MAX,
    DETAILS_KEY_LENGTH_MAX,
    HASH_HEX_LENGTH,
    SUBJECT_LENGTH_MAX,
    TIME_MS_MAX,
    AuditAction,
    AuditEntry,
    AuditEvent,
    AuditRole,
    BrokenLink,
    BrokenLinkReason,
    ChainHead,
    VerifyReport,
)

# A fixed label's hash rather than zeros: a chain of this log can never be mistaken for another
# log's chain that happens to start from zeros too.
GENESIS_HASH = hashlib.sha256(b"switchyard payer audit trail, version 1").hexdigest()
GENESIS = ChainHead(0, GENESIS_HASH)
_HASH_PATTERN = re.compile(rf"^[0-9a-f]{{{HASH_HEX_LENGTH}}}$")


# --- checking what a step reports ---------------------------------------------------------------


def check_event(event: AuditEvent) -> str:
    """The event's details as canonical JSON, once every field keeps its rule; else AuditEventInvalid
    naming the first field that does not."""
    if type(event.time_ms) is not int or not 0 <= event.time_ms <= TIME_MS_MAX:
        raise AuditEventInvalid("time_ms", f"must be an integer number of milliseconds from 0 to {TIME_MS_MAX}")
    _check_text("actor", event.actor, ACTOR_LENGTH_MAX)
    if not isinstance(event.role, AuditRole):
        raise AuditEventInvalid("role", f"must be one of {', '.join(AuditRole)}")
    if not isinstance(event.action, AuditAction):
        raise AuditEventInvalid("action", f"must be one of {', '.join(AuditAction)}")
    _check_text("subject", event.subject, SUBJECT_LENGTH_MAX)
    if not isinstance(event.details, dict):
        raise AuditEventInvalid("details", "must be a JSON object")
    _check_json("details", event.details, depth=0)
    text = canonical_json(event.details)
    size = len(text.encode("utf-8"))
    if size > DETAILS_BYTES_MAX:
        raise AuditEventInvalid("details", f"must be at most {DETAILS_BYTES_MAX} bytes as JSON, is {size}")
    return text


def _check_text(name: str, value: object, length_max: int) -> None:
    if not isinstance(value, str) or not 1 <= len(value) <= length_max:
        raise AuditEventInvalid(name, f"must be text of 1 to {length_max} characters")
    if value != value.strip():
        raise AuditEventInvalid(name, "must not start or end with spaces")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs") for c in value):
        raise AuditEventInvalid(name, "must not contain control characters")


def _check_json(path: str, value: object, depth: int) -> None:
    """Strings, integers, true/false, null, lists and objects: JSON every reader reads the same way.
    Floats are refused (money is integer VND, and a float's text is not canonical across languages)."""
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, int):
        if not -DETAILS_INTEGER_MAX - 1 <= value <= DETAILS_INTEGER_MAX:
            raise AuditEventInvalid(path, "must be an integer that fits 64 bits")
        return
    if isinstance(value, str):
        if any(unicodedata.category(c) == "Cs" for c in value):
            raise AuditEventInvalid(path, "must be valid Unicode text")
        return
    if isinstance(value, float):
        raise AuditEventInvalid(path, "must not be a float: use an integer (money is integer VND)")
    if depth >= DETAILS_DEPTH_MAX and isinstance(value, list | dict):
        raise AuditEventInvalid(path, f"nests lists and objects more than {DETAILS_DEPTH_MAX} deep")
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check_json(f"{path}[{index}]", item, depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or not 1 <= len(key) <= DETAILS_KEY_LENGTH_MAX:
                raise AuditEventInvalid(path, f"keys must be text of 1 to {DETAILS_KEY_LENGTH_MAX} characters")
            _check_json(f"{path}.{key}", item, depth + 1)
        return
    kinds = "text, integer, true/false, null, list or object"
    raise AuditEventInvalid(path, f"must be JSON ({kinds}), not {type(value).__name__}")


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 text as is: one text for one value."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


# --- the chain ----------------------------------------------------------------------------------


def entry_bytes(entry: AuditEntry) -> bytes:
    """What an entry's hash covers: every field but the hash, as canonical JSON. The details go in as
    the stored text itself, so verify hashes exactly what is in the row. It never fails, whatever an
    altered row holds (a value of the wrong type simply hashes differently)."""
    details = entry.details_json if isinstance(entry.details_json, str) else _value(entry.details_json)
    text = (
        f'{{"action":{_value(entry.action)},"actor":{_value(entry.actor)},"details":{details},'
        f'"previous_hash":{_value(entry.previous_hash)},"role":{_value(entry.role)},'
        f'"sequence":{_value(entry.sequence)},"subject":{_value(entry.subject)},"time_ms":{_value(entry.time_ms)}}}'
    )
    return text.encode("utf-8", "surrogatepass")


def _value(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, default=repr)


def hash_of(entry: AuditEntry) -> str:
    return hashlib.sha256(entry_bytes(entry)).hexdigest()


def seal(previous: ChainHead, event: AuditEvent, details_json: str) -> AuditEntry:
    """The entry that follows `previous`, its hash computed. `details_json` is check_event's answer."""
    unsealed = AuditEntry(
        sequence=previous.sequence + 1,
        time_ms=event.time_ms,
        actor=event.actor,
        role=event.role.value,
        action=event.action.value,
        subject=event.subject,
        details_json=details_json,
        previous_hash=previous.hash,
        hash="",
    )
    return _with_hash(unsealed)


def _with_hash(entry: AuditEntry) -> AuditEntry:
    return AuditEntry(
        entry.sequence, entry.time_ms, entry.actor, entry.role, entry.action, entry.subject,
        entry.details_json, entry.previous_hash, hash_of(entry),
    )  # fmt: skip


def check_events(events: Sequence[AuditEvent]) -> list[str]:
    """Each event's canonical details, once all are valid: one bad event and none is appended."""
    return [check_event(event) for event in events]


def chain(head: ChainHead | None, events: Sequence[AuditEvent], details_json: Sequence[str]) -> list[AuditEntry]:
    """The entries that record `events` after `head` (None: an empty log); `details_json` is what
    check_events answered for them."""
    previous = head or GENESIS
    entries = []
    for event, details in zip(events, details_json, strict=True):
        entry = seal(previous, event, details)
        entries.append(entry)
        previous = ChainHead(entry.sequence, entry.hash)
    return entries


def verify(entries: Iterable[AuditEntry], expected_head: ChainHead | None = None) -> VerifyReport:
    """Walks the entries in sequence order from the first and stops at the first broken link. Reads
    `entries` lazily, so a caller can stream a table through it page by page."""
    previous = GENESIS
    count = 0
    for entry in entries:
        broken = _first_problem(previous, entry, expected_head)
        if broken is not None:
            return VerifyReport(count, _head_or_none(previous), broken)
        previous = ChainHead(entry.sequence, entry.hash)
        count += 1
    if expected_head is not None and previous.sequence < expected_head.sequence:
        found = f"the log ends at {previous}" if count else "an empty log"
        missing = BrokenLink(previous.sequence + 1, BrokenLinkReason.EXPECTED_HEAD_MISSING, str(expected_head), found)
        return VerifyReport(count, _head_or_none(previous), missing)
    return VerifyReport(count, _head_or_none(previous), None)


def _first_problem(previous: ChainHead, entry: AuditEntry, expected_head: ChainHead | None) -> BrokenLink | None:
    sequence = previous.sequence + 1
    # The row's own hash first: an altered row is named as altered, whichever field changed.
    computed = hash_of(entry)
    if computed != entry.hash:
        return BrokenLink(sequence, BrokenLinkReason.HASH_MISMATCH, computed, str(entry.hash))
    if entry.sequence != sequence:
        return BrokenLink(sequence, BrokenLinkReason.SEQUENCE_GAP, str(sequence), str(entry.sequence))
    if entry.previous_hash != previous.hash:
        return BrokenLink(sequence, BrokenLinkReason.PREVIOUS_HASH_MISMATCH, previous.hash, str(entry.previous_hash))
    if expected_head is not None and sequence == expected_head.sequence and entry.hash != expected_head.hash:
        return BrokenLink(sequence, BrokenLinkReason.EXPECTED_HEAD_DIFFERS, expected_head.hash, entry.hash)
    return None


def _head_or_none(head: ChainHead) -> ChainHead | None:
    return None if head.sequence == 0 else head


def parse_head(text: str) -> ChainHead:
    """`SEQ:HASH` as verify prints it, e.g. `1042:9f86d0...`."""
    sequence_text, _, hash_text = text.strip().partition(":")
    if not sequence_text.isascii() or not sequence_text.isdigit() or int(sequence_text) < 1:
        raise ExpectedHeadInvalid(text, "must start with a positive sequence number, as SEQ:HASH")
    hash_text = hash_text.lower()
    if not _HASH_PATTERN.match(hash_text):
        raise ExpectedHeadInvalid(text, f"must end with the entry's hash, {HASH_HEX_LENGTH} hex digits, as SEQ:HASH")
    return ChainHead(int(sequence_text), hash_text)
