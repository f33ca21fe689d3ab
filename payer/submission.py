"""The payer's submission: a cycle's rolls as the files the Treasury sends, one file at a time.

A payroll larger than one file's limit goes as several files, numbered in order, each with its own
message id (`MOLISA-<cycle>-<number>`). The payer sends bytes, as a real payer uploads them; the
party that receives them parses them (`switch.scheme.disbursement.read_file`). A payroll sent
again under a new message id (`resent_as_new`) carries the same items: the switch refuses them
item by item as duplicates of the first file's.

A pain.001 is written as a treasury system writes one (`switch.scheme.pain.write_pain001`): free-text
PmtInfIds, each transaction's program in `Purp/Prtry`, the cycle as `ReqdExctnDt` (its first day),
category `SSBE`; so our own files go the way an outside treasury's do.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from payer.payroll import build_payroll, write_file
from payer.rolls import Beneficiary
from switch.scheme.disbursement import ITEMS_PER_FILE_MAX, read_file


@dataclass(slots=True, frozen=True)
class PayrollFile:
    message_id: str
    file_format: str  # one of switch.scheme.disbursement.FORMATS
    cycle: str
    data: bytes


def message_id_of(cycle: str, number: int) -> str:
    return f"MOLISA-{cycle}-{number:03d}"


def files_needed(beneficiaries: int, items_per_file: int = ITEMS_PER_FILE_MAX) -> int:
    _check_items_per_file(items_per_file)
    return -(-beneficiaries // items_per_file)


def _check_items_per_file(items_per_file: int) -> None:
    if not 1 <= items_per_file <= ITEMS_PER_FILE_MAX:
        raise ValueError(f"items_per_file: must be between 1 and {ITEMS_PER_FILE_MAX}")


def payroll_files(
    rolls: Sequence[Beneficiary],
    cycle: str,
    file_format: str,
    debtor_agent: str,
    created: datetime,
    items_per_file: int = ITEMS_PER_FILE_MAX,
) -> Iterator[PayrollFile]:
    """The cycle's files, written one at a time: a million items are never all in memory at once,
    as objects or as bytes. Items are numbered across the files, so every end-to-end id is unique."""
    _check_items_per_file(items_per_file)
    for number, start in enumerate(range(0, len(rolls), items_per_file), start=1):
        items = build_payroll(rolls[start : start + items_per_file], cycle, first_number=start + 1)
        message_id = message_id_of(cycle, number)
        data = write_file(file_format, message_id, items, debtor_agent, created)
        del items  # written: the items go before the receiver parses the file into its own
        yield PayrollFile(message_id, file_format, cycle, data)


def resent_as_new(file: PayrollFile, message_id: str, debtor_agent: str, created: datetime) -> PayrollFile:
    """The same items in a new file under another message id: a payroll sent twice by mistake."""
    items = read_file(file.file_format, file.data, file.message_id).items
    data = write_file(file.file_format, message_id, items, debtor_agent, created)
    return PayrollFile(message_id, file.file_format, file.cycle, data)
