"""The payment order: an approved payment request written as pain.001 documents addressed to the
Treasury's serving bank (the commercial bank that holds its account), the bank named as the debtor
agent (DbtrAgt, by BIN) and the Treasury's account there as the debtor account.

Pure: no database and no clock. The same approved request gives byte-identical documents whenever it
is asked for: the lines are taken in canonical order (citizen id, program), the ids are derived from
the request, and the creation time is the approval time.

A module of its own rather than part of `core`: `core` decides (prepares, files, controls), this
writes what was decided in the scheme's format, and it is the only part of `payer.requests` that
needs the scheme's pain.001 writer.

Building the documents sends nothing: handing them to the bank, the bank's debit of the Treasury's
account and the audit trail's "sent" step belong to the sending, not to this.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from payer.payroll import PROGRAM_CODES
from payer.requests.errors import InputInvalid, NotApproved, NotFound
from payer.requests.schemas import (
    LINES_PER_LIST_MAX,
    REQUEST_ID_LENGTH_MAX,
    VERSIONS_PER_REQUEST_MAX,
    PaymentListLine,
    PaymentRequest,
    RequestState,
    ServingBank,
)
from switch.scheme.calendar import local_time
from switch.scheme.disbursement import ITEMS_PER_FILE_MAX, DisbursementItem, check_message_id
from switch.scheme.pain import write_pain001
from switch.scheme.validation import MessageInvalid

TREASURY_NAME = "Kho bạc Nhà nước"  # the initiating party and the debtor of every payment order
MESSAGE_ID_LENGTH_MAX = 35  # ISO 20022 Max35Text, as the scheme's check_message_id holds it
REQUEST_TAG_LENGTH = 8  # hex digits of the request id's sha-256 in each end-to-end id
POSITION_DIGITS = len(str(LINES_PER_LIST_MAX))


@dataclass(slots=True, frozen=True)
class PaymentOrderPart:
    """One pain.001 of a payment order: its share of the lines, in canonical order, each an item with
    its end-to-end id."""

    message_id: str
    part: int
    parts_total: int
    created: datetime
    bank: ServingBank
    items: tuple[DisbursementItem, ...]

    def pain001(self) -> bytes:
        return write_pain001(
            self.message_id, self.created, TREASURY_NAME, self.bank.bin, self.bank.treasury_account, self.items
        )


def parts_total(line_count: int, items_per_part: int = ITEMS_PER_FILE_MAX) -> int:
    _check_part_size(items_per_part)
    return max(1, -(-line_count // items_per_part))


def message_id(request_id: str, version: int, part: int) -> str:
    return f"{request_id}-V{version}-P{part}"


def end_to_end_id(request_id: str, cycle: str, version: int, line: PaymentListLine, position: int) -> str:
    """<cycle>-<program>-<request tag>-V<version>-<position>, 30 characters: unique within a request
    and version by the position (1-based, in canonical order, across all parts), and across requests
    by the tag, a digest of the request id (the whole id would not fit in 35 characters)."""
    tag = hashlib.sha256(request_id.encode()).hexdigest()[:REQUEST_TAG_LENGTH].upper()
    code = PROGRAM_CODES[line.program.value]
    return f"{cycle.replace('-', '')}-{code}-{tag}-V{version:02d}-{position:0{POSITION_DIGITS}d}"


def payment_order_part(
    request: PaymentRequest,
    lines: Sequence[PaymentListLine],
    bank: ServingBank,
    part: int,
    items_per_part: int = ITEMS_PER_FILE_MAX,
) -> PaymentOrderPart:
    """Part `part` (1-based) of the approved request's payment order: its lines in canonical order,
    `items_per_part` to a document (at most the scheme's ITEMS_PER_FILE_MAX). Refused before approval
    (NotApproved, naming `state`), for a part the order does not have (NotFound, naming `part`) and
    for a request id too long to name the order's messages (InputInvalid, naming `request_id`)."""
    approved = request.current
    if approved.state != RequestState.APPROVED or approved.decided_ms is None:
        state = approved.state.value
        raise NotApproved("state", f"version {approved.version} is {state}: nothing is paid before approval")
    total = parts_total(len(lines), items_per_part)
    _check_message_ids(request.request_id, approved.version, total)
    if not 1 <= part <= total:
        raise NotFound("part", f"the payment order of {request.request_id} has parts 1 to {total}")
    canonical = sorted(lines, key=lambda line: line.key)
    first = (part - 1) * items_per_part
    items = tuple(
        DisbursementItem(
            end_to_end_id=end_to_end_id(request.request_id, request.cycle, approved.version, line, position),
            citizen_id=line.citizen_id,
            name=line.name,
            amount_vnd=line.amount_vnd,
            program=line.program,
            cycle=request.cycle,
        )
        for position, line in enumerate(canonical[first : first + items_per_part], start=first + 1)
    )
    created = local_time(approved.decided_ms)  # the approval's time: the same request, the same bytes
    return PaymentOrderPart(message_id(request.request_id, approved.version, part), part, total, created, bank, items)


def _check_message_ids(request_id: str, version: int, total: int) -> None:
    """The longest message id of the order, the last part's, within the scheme's rule."""
    longest = message_id(request_id, version, total)
    if len(longest) > MESSAGE_ID_LENGTH_MAX:
        room = MESSAGE_ID_LENGTH_MAX - (len(longest) - len(request_id))
        rule = (
            f"is {len(request_id)} characters: its payment order's message ids, {longest} the longest, hold at"
            f" most {MESSAGE_ID_LENGTH_MAX}, so a request paid in {total} part(s) has an id of at most {room}"
        )
        raise InputInvalid("request_id", rule)
    try:
        check_message_id(longest)
    except MessageInvalid as error:
        rule = f"makes the message id {longest!r}, which {error.problems[0].rule}"
        raise InputInvalid("request_id", rule) from None


def _check_part_size(items_per_part: int) -> None:
    if not 1 <= items_per_part <= ITEMS_PER_FILE_MAX:
        raise ValueError(f"items_per_part: {items_per_part} must be from 1 to {ITEMS_PER_FILE_MAX:,}")


# Any request id the payer files names every message of its order at the scheme's part size.
assert len(message_id("X" * REQUEST_ID_LENGTH_MAX, VERSIONS_PER_REQUEST_MAX, parts_total(LINES_PER_LIST_MAX))) <= 35
