"""Cells of the CSV files we write, safe to open in a spreadsheet (OWASP's CSV injection advice).

A cell that begins with `=`, `+`, `-` or `@` (or a tab or carriage return, which some programs
skip before reading one of those) is a formula to Excel and LibreOffice: a beneficiary's name like
`=HYPERLINK("http://...")` would run on the post-office clerk's machine. Such a text cell is written
with a leading apostrophe, which spreadsheets show as plain text; numbers are written as they are.
Our own CSV reader takes the apostrophe off again (`unescape_cell`), so a file we write reads back
to what was written.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"


def safe_cell(value: object) -> object:
    """The value as a CSV cell that no spreadsheet takes for a formula."""
    # A text that begins with the apostrophe itself is escaped too, so that reading back is exact.
    if isinstance(value, str) and value.startswith((*FORMULA_STARTS, ESCAPE)):
        return ESCAPE + value
    return value


def safe_row(values: tuple[object, ...] | list[object]) -> tuple[object, ...]:
    return tuple(safe_cell(v) for v in values)


def unescape_cell(text: str) -> str:
    """A cell as `safe_cell` wrote it, back to its text: an apostrophe before a formula start (or
    before another apostrophe) goes."""
    if text.startswith(ESCAPE) and text[1:].startswith((*FORMULA_STARTS, ESCAPE)):
        return text[1:]
    return text
