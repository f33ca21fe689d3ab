"""What a payer takes away from a disbursement: the items as CSV, the cash list for the post
offices, and the pain.002 status report."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime

from switch.disbursements.schemas import DisbursementRecord, ItemRecord
from switch.scheme.codes import DisbursementStatus, ItemStatus
from switch.scheme.disbursement import RowError
from switch.scheme.identifiers import PROVINCE_NAMES
from switch.scheme.pain import ItemReport, write_pain002
from switch.scheme.spreadsheet import safe_row

ITEM_COLUMNS = (
    "row", "end_to_end_id", "citizen_id", "name", "province_code", "program", "cycle", "amount_vnd", "status",
    "reason", "creditor_agent", "attempts", "payment_info_id", "category_purpose", "purpose",
)  # fmt: skip
CASH_LIST_COLUMNS = (
    "name", "citizen_id", "province", "amount_vnd", "program", "reason", "reason_text", "end_to_end_id", "cycle",
)  # fmt: skip
TRANSACTION_STATUS = {
    ItemStatus.PAID: "ACSC",
    ItemStatus.CASH: "RJCT",
    ItemStatus.HELD: "RJCT",
    ItemStatus.QUEUED: "ACSP",
    ItemStatus.SENT: "ACSP",
    ItemStatus.RETRY: "ACSP",
}


def items_csv(items: Sequence[ItemRecord]) -> bytes:
    return _csv(ITEM_COLUMNS, [_item_row(i) for i in items])


def cash_list_csv(items: Sequence[ItemRecord]) -> bytes:
    """The post offices' list: who to pay in cash, where, how much, and why not by transfer."""
    cash = sorted((i for i in items if i.status == ItemStatus.CASH), key=lambda i: (i.province_code, i.seq))
    return _csv(CASH_LIST_COLUMNS, [_cash_row(i) for i in cash])


def item_fields(i: ItemRecord) -> dict[str, object]:
    """One item as the payer sees it: the items CSV's columns, and the items API's JSON."""
    values = (
        i.seq, i.end_to_end_id, i.citizen_id, i.name, i.province_code, i.program.value, i.cycle, i.amount_vnd,
        i.status.value, i.reason.value if i.reason else None, i.creditor_agent, i.attempts, i.payment_info_id,
        i.category_purpose, i.purpose,
    )  # fmt: skip
    return dict(zip(ITEM_COLUMNS, values, strict=True))


def _item_row(i: ItemRecord) -> tuple[object, ...]:
    return tuple("" if v is None else v for v in item_fields(i).values())


def _cash_row(i: ItemRecord) -> tuple[object, ...]:
    province = PROVINCE_NAMES.get(i.province_code, i.province_code)
    reason, text = (i.reason.value, i.reason.description) if i.reason else ("", "")
    return (i.name, i.citizen_id, province, i.amount_vnd, i.program.value, reason, text, i.end_to_end_id, i.cycle)


NOTE_LENGTH_MAX = 105  # ISO Max105Text
ITEM_NOTES = {ItemStatus.CASH: "cash list", ItemStatus.HELD: "held"}


def pain002(
    disbursement: DisbursementRecord, items: Sequence[ItemRecord], refused: Sequence[RowError], created: datetime
) -> bytes:
    """Every item's status, and every row refused at intake as RJCT with its reason and rule, in the
    file's row order, each under the PmtInfId the file gave it. JSON and CSV files have no payment
    information: their rows are reported under the file's message id."""
    whole = disbursement.message_id
    reports = [
        (
            i.seq,
            ItemReport(
                i.end_to_end_id, i.payment_info_id or whole, i.amount_vnd, TRANSACTION_STATUS[i.status], i.reason,
                ITEM_NOTES.get(i.status), i.category_purpose, i.purpose,
            ),
        )
        for i in items
    ]  # fmt: skip
    reports += [
        (
            e.row,
            ItemReport(
                e.end_to_end_id or "NOTPROVIDED", e.payment_info_id or whole, None, "RJCT", e.reason,
                f"row {e.row}: {e.field}: {e.rule}"[:NOTE_LENGTH_MAX],
            ),
        )
        for e in _first_error_of_each_row(refused)
    ]  # fmt: skip
    reports.sort(key=lambda r: r[0])
    name = "pain.001.001.09" if disbursement.source_format == "pain.001" else f"switchyard.{disbursement.source_format}"
    return write_pain002(
        f"PR{disbursement.id:07d}-STATUS",
        created,
        disbursement.message_id,
        group_status(disbursement, items),
        [r for _row, r in reports],
        name,
        disbursement.reason,
    )


def _first_error_of_each_row(errors: Sequence[RowError]) -> list[RowError]:
    """One transaction, one status: a row with several faults is reported with its first."""
    seen: set[int] = set()
    first = []
    for error in errors:
        if error.row not in seen:
            seen.add(error.row)
            first.append(error)
    return first


def group_status(disbursement: DisbursementRecord, items: Sequence[ItemRecord]) -> str:
    """RJCT nothing accepted or nothing paid; ACSC all paid; PART some; ACSP while it runs."""
    if disbursement.status == DisbursementStatus.REJECTED:
        return "RJCT"
    if disbursement.status == DisbursementStatus.RUNNING:
        return "ACSP"
    paid = sum(1 for i in items if i.status == ItemStatus.PAID)
    if paid == len(items):
        return "ACSC"
    return "PART" if paid else "RJCT"


def _csv(header: Sequence[str], rows: Sequence[tuple[object, ...]]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(safe_row(row) for row in rows)  # a name like "=HYPERLINK(...)" stays text
    return out.getvalue().encode()
