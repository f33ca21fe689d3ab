"""Disbursement files (the payer API's JSON and CSV; pain.001 lives in `pain`): parse, validate,
write, and `read_file`, the one place a format is chosen by its name or its media type.

A file is a message id and rows. Each row is one payment to one beneficiary: end-to-end id, citizen
id, name, amount in VND, program and cycle (YYYY-MM). A row that breaks a rule is reported with its
row number, field, rule and ISO reason code, and the other rows go on. A fault of the file itself
(not JSON, wrong header, too large, too many rows) refuses the whole file with `MessageInvalid`.

CSV columns, in this order, with this header line, UTF-8:

    end_to_end_id,citizen_id,name,amount_vnd,program,cycle

JSON: {"message_id": "...", "items": [{"end_to_end_id": ..., "citizen_id": ..., "name": ...,
"amount_vnd": 2789000, "program": "merit_person", "cycle": "2026-12"}, ...]}
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, Field, ValidationError
from pydantic_core import PydanticCustomError

from switch.scheme.codes import Program, StatusReason
from switch.scheme.identifiers import check_citizen_id
from switch.scheme.messages import AmountVnd, Max35Text, SchemeMessage
from switch.scheme.spreadsheet import safe_row, unescape_cell
from switch.scheme.validation import FieldProblem, MessageInvalid, problems_of

PAYROLL_DEBTOR_ACCOUNT = "1200100000001"  # the payer's (MOLISA's) payroll account at the Treasury
ITEMS_PER_FILE_MAX = 100_000
FILE_BYTES_MAX = 96 * 1024 * 1024  # a pain.001 of 100,000 items is about 64 MB (names vary)
ROW_ERRORS_LISTED_MAX = 1_000  # beyond this a file's row errors are counted, not listed
CSV_COLUMNS = ("end_to_end_id", "citizen_id", "name", "amount_vnd", "program", "cycle")
CYCLE_PATTERN = r"^20[0-9]{2}-(0[1-9]|1[0-2])$"
CITIZEN_BIRTH_YEAR_MAX = 2099  # the century digits 0 to 3 cover 1900-2099; the registry knows the rest
_INTEGER = re.compile(r"-?[0-9]+")
FORMATS = ("json", "csv", "pain.001")
FORMAT_OF_MEDIA_TYPE = {
    "application/json": "json",
    "text/csv": "csv",
    "application/xml": "pain.001",
    "text/xml": "pain.001",
}


def _citizen_id(value: str) -> str:
    # The structure only: whether the person exists, and is alive, is the identity check's business.
    problem = check_citizen_id(value, CITIZEN_BIRTH_YEAR_MAX)
    if problem:
        raise PydanticCustomError("identifier_rule", problem)
    return value


class DisbursementItem(SchemeMessage):
    """One row: pay `amount_vnd` to the beneficiary with this citizen id, for a program and cycle."""

    end_to_end_id: Max35Text
    citizen_id: Annotated[str, AfterValidator(_citizen_id)]
    name: Annotated[str, Field(min_length=1, max_length=140, pattern=r"^[^\x00-\x1f\x7f]+$")]  # no control chars
    amount_vnd: AmountVnd
    program: Program
    cycle: Annotated[str, Field(pattern=CYCLE_PATTERN)]

    @property
    def beneficiary_key(self) -> tuple[str, str, str]:
        """What makes a payment unique across files: nobody is paid twice for a program and cycle."""
        return (self.program.value, self.cycle, self.citizen_id)

    @property
    def province_code(self) -> str:
        return self.citizen_id[:3]  # a CCCD begins with the province of birth registration


@dataclass(slots=True, frozen=True)
class RowError:
    row: int  # 1-based: the first item (the first line after the CSV header) is row 1
    field: str
    rule: str
    reason: StatusReason
    end_to_end_id: str | None = None
    payment_info_id: str | None = None  # a pain.001 row's PmtInfId, as written: its pain.002 group


@dataclass(slots=True, frozen=True)
class ItemOrigin:
    """What a pain.001 says of a row besides the item itself, kept so its pain.002 can answer in the
    file's own terms. JSON and CSV rows have none (every field None)."""

    payment_info_id: str | None = None  # PmtInf/PmtInfId, free text, as written
    category_purpose: str | None = None  # PmtTpInf/CtgyPurp/Cd, such as SSBE or PENS
    purpose: str | None = None  # CdtTrfTxInf/Purp/Cd, such as SSBE or PENS


NO_ORIGIN = ItemOrigin()


@dataclass(slots=True, frozen=True)
class DisbursementFile:
    message_id: str
    items: tuple[DisbursementItem, ...]
    errors: tuple[RowError, ...]
    rows_total: int
    digest: str  # SHA-256 of the file as received: the same id with other content is a duplicate
    source_format: str  # "json", "csv" or "pain.001"
    debtor_agent: str | None = None  # pain.001 names the debtor's agent; JSON and CSV take the sender's
    item_rows: tuple[int, ...] = ()  # the row number of each item, in the same order
    item_origins: tuple[ItemOrigin, ...] = ()  # each item's origin, in the same order; () for none

    def __post_init__(self) -> None:
        assert len(self.item_rows) == len(self.items), "every item has its row number"
        assert len(self.item_origins) in (0, len(self.items)), "an origin for every item, or for none"

    def origins(self) -> tuple[ItemOrigin, ...]:
        """Each item's origin, NO_ORIGIN for a file that has none (JSON, CSV)."""
        return self.item_origins or (NO_ORIGIN,) * len(self.items)


def file_problem(field: str, rule: str, reason: StatusReason = StatusReason.FF01) -> MessageInvalid:
    return MessageInvalid([FieldProblem(field, rule, reason)])


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # what XML 1.0 cannot carry


def check_size(data: bytes) -> None:
    if len(data) > FILE_BYTES_MAX:
        raise file_problem("file", f"{len(data)} bytes is over the limit of {FILE_BYTES_MAX} bytes")
    if not data.strip():
        raise file_problem("file", "the file is empty")


def check_row_count(count: int) -> None:
    if count > ITEMS_PER_FILE_MAX:
        raise file_problem("items", f"{count} rows is over the limit of {ITEMS_PER_FILE_MAX} per file")
    if count == 0:
        raise file_problem("items", "the file has no rows")


def check_message_id(message_id: object, field: str = "message_id") -> str:
    # Printable: the pain.002 report carries it in XML, which cannot carry a control character.
    if not isinstance(message_id, str) or not 1 <= len(message_id) <= 35:
        raise file_problem(field, "must be text of 1 to 35 characters")
    if _CONTROL.search(message_id):
        raise file_problem(field, "must not hold a control character")
    return message_id


def build_file(
    message_id: str,
    rows: Sequence[dict[str, Any]],
    digest: str,
    source_format: str,
    debtor_agent: str | None = None,
    errors_before: Iterable[RowError] = (),
    origins: Sequence[ItemOrigin] = (),
) -> DisbursementFile:
    """Validate each row (never changing it) and drop repeats within the file: the rule for all formats.
    `origins`, one per row if given, go with the rows' items and errors."""
    check_row_count(len(rows))
    assert len(origins) in (0, len(rows)), "an origin for every row, or for none"
    items: list[DisbursementItem] = []
    item_rows: list[int] = []
    kept_origins: list[ItemOrigin] = []
    errors = list(errors_before)
    seen_keys: set[tuple[str, str, str]] = set()
    seen_ids: set[str] = set()
    for number, raw in enumerate(rows, start=1):
        origin = origins[number - 1] if origins else NO_ORIGIN
        try:
            item = DisbursementItem.model_validate(raw)
        except ValidationError as error:
            end_to_end_id = raw.get("end_to_end_id") if isinstance(raw, dict) else None
            errors += _row_errors(number, problems_of(error), end_to_end_id, origin.payment_info_id)
            continue
        repeat = _repeat(item, seen_keys, seen_ids)
        if repeat is not None:
            errors.append(RowError(number, *repeat, StatusReason.DUPL, item.end_to_end_id, origin.payment_info_id))
            continue
        seen_keys.add(item.beneficiary_key)
        seen_ids.add(item.end_to_end_id)
        items.append(item)
        item_rows.append(number)
        kept_origins.append(origin)
    errors.sort(key=lambda e: e.row)
    return DisbursementFile(
        message_id, tuple(items), tuple(errors), len(rows), digest, source_format, debtor_agent, tuple(item_rows),
        tuple(kept_origins) if origins else (),
    )  # fmt: skip


def _repeat(item: DisbursementItem, keys: set[tuple[str, str, str]], ids: set[str]) -> tuple[str, str] | None:
    if item.end_to_end_id in ids:
        return "end_to_end_id", "the same end-to-end id is on an earlier row of this file"
    if item.beneficiary_key in keys:
        return "citizen_id", "this beneficiary is already on an earlier row for the same program and cycle"
    return None


def _row_errors(
    number: int, problems: list[FieldProblem], end_to_end_id: object, payment_info_id: str | None
) -> list[RowError]:
    e2e = end_to_end_id[:35] if isinstance(end_to_end_id, str) else None
    return [RowError(number, p.field, p.rule, p.reason, e2e, payment_info_id) for p in problems]


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_file(format_name: str, data: bytes, message_id: str | None = None) -> DisbursementFile:
    """A file in one of FORMATS. `message_id` is CSV's (it has no header record for one); JSON and
    pain.001 carry their own."""
    if format_name == "json":
        return parse_json(data)
    if format_name == "csv":
        return parse_csv(data, message_id)
    if format_name == "pain.001":
        # pain.001 is read by `pain`, which builds on this module's rules: imported when asked for.
        from switch.scheme.pain import parse_pain001

        return parse_pain001(data)
    raise file_problem("format", f"must be one of {', '.join(FORMATS)}, not {format_name!r}")


def read_upload(media_type: str, data: bytes, message_id: str | None = None) -> DisbursementFile:
    """A file as the payer API receives it: its format chosen by the Content-Type's media type."""
    format_name = FORMAT_OF_MEDIA_TYPE.get(media_type)
    if format_name is None:
        accepted = ", ".join(FORMAT_OF_MEDIA_TYPE)
        raise file_problem("Content-Type", f"must be one of {accepted}, not {media_type or 'missing'!r}")
    return read_file(format_name, data, message_id)


# --- JSON -------------------------------------------------------------------------------------


def parse_json(data: bytes) -> DisbursementFile:
    check_size(data)
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise file_problem("file", f"not valid JSON: {error}") from None
    except RecursionError:
        raise file_problem("file", "not valid JSON: nested too deeply") from None
    if not isinstance(document, dict):
        raise file_problem("file", "must be a JSON object with message_id and items")
    message_id = check_message_id(document.get("message_id"))
    rows = document.get("items")
    if not isinstance(rows, list):
        raise file_problem("items", "must be a list of rows")
    check_row_count(len(rows))
    errors = [RowError(n, "(row)", "must be a JSON object", StatusReason.FF01) for n, r in _non_objects(rows)]
    objects = [r if isinstance(r, dict) else {} for r in rows]
    parsed = build_file(message_id, objects, digest_of(data), "json")
    return with_row_errors(parsed, errors)


def with_row_errors(parsed: DisbursementFile, errors: list[RowError]) -> DisbursementFile:
    """A row that could not be read at all has its own error in place of the item model's."""
    if not errors:
        return parsed
    unreadable = {e.row for e in errors}
    kept = tuple(e for e in parsed.errors if e.row not in unreadable)
    return dataclasses.replace(parsed, errors=tuple(sorted(kept + tuple(errors), key=lambda e: e.row)))


def _non_objects(rows: list[Any]) -> list[tuple[int, Any]]:
    return [(n, r) for n, r in enumerate(rows, start=1) if not isinstance(r, dict)]


def write_json(message_id: str, items: Sequence[DisbursementItem]) -> bytes:
    document = {"message_id": message_id, "items": [i.model_dump(mode="json") for i in items]}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


# --- CSV --------------------------------------------------------------------------------------


def parse_csv(data: bytes, message_id: str | None = None) -> DisbursementFile:
    """CSV has no header record for the message id: it is given, or taken from the file's digest, so
    the same file sent twice has the same id."""
    check_size(data)
    digest = digest_of(data)
    message_id = check_message_id(message_id if message_id is not None else f"CSV-{digest[:24]}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise file_problem("file", f"not UTF-8 text: {error}") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None or tuple(h.strip() for h in header) != CSV_COLUMNS:
        raise file_problem("header", f"the first line must be {','.join(CSV_COLUMNS)}")
    rows: list[dict[str, Any]] = []
    errors: list[RowError] = []
    for number, record in enumerate(_records(reader), start=1):
        if number > ITEMS_PER_FILE_MAX:
            check_row_count(number)
        if len(record) != len(CSV_COLUMNS):
            errors.append(
                RowError(number, "(row)", f"must have {len(CSV_COLUMNS)} columns, has {len(record)}", StatusReason.FF01)
            )
            rows.append({"__skip__": True})
            continue
        # A text cell a spreadsheet-safe writer escaped ("'=...") reads back as written.
        row: dict[str, Any] = dict(zip(CSV_COLUMNS, (unescape_cell(cell) for cell in record), strict=True))
        amount = row["amount_vnd"].strip()
        row["amount_vnd"] = int(amount) if _INTEGER.fullmatch(amount) else amount
        rows.append(row)
    return with_row_errors(build_file(message_id, rows, digest, "csv"), errors)


def _records(reader: Any) -> Any:
    try:
        yield from reader
    except csv.Error as error:  # a field over the csv module's limit, a stray quote at the end
        raise file_problem("file", f"not readable as CSV: {error}") from None


def write_csv(items: Sequence[DisbursementItem]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for i in items:
        writer.writerow(safe_row((i.end_to_end_id, i.citizen_id, i.name, i.amount_vnd, i.program.value, i.cycle)))
    return out.getvalue().encode()
