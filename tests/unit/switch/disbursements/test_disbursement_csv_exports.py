"""The cash list and items.csv open safely in a spreadsheet: a name a payer sent that begins like a
formula (=, +, -, @) is written as text, with a leading apostrophe, and every other cell as it was."""

from __future__ import annotations

import csv
import io

from switch.disbursements.reports import cash_list_csv, items_csv
from switch.disbursements.schemas import ItemRecord
from switch.scheme.codes import ItemStatus, Program, StatusReason

NAMES = ['=HYPERLINK("http://example.invalid","Nguyễn Văn An")', "+Trần Thị Bình", "-Lê Văn Cường", "@Phạm Thị Dung"]
CITIZEN_IDS = ["001090012345", "079185012345", "048070012345", "038088012345"]


def cash_item(seq: int, name: str, citizen_id: str) -> ItemRecord:
    return ItemRecord(
        disbursement_id=1, seq=seq, end_to_end_id=f"MOLISA-2026-12-{seq:06d}", citizen_id=citizen_id, name=name,
        province_code=citizen_id[:3], program=Program.SOCIAL_ASSISTANCE, cycle="2026-12", amount_vnd=500_000,
        status=ItemStatus.CASH, reason=StatusReason.BE23, creditor_agent=None, attempts=0, due_ms=0, updated_ms=0,
    )  # fmt: skip


ITEMS = [cash_item(n + 1, name, CITIZEN_IDS[n]) for n, name in enumerate(NAMES)]


def rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode())))


def test_the_cash_list_writes_formula_like_names_as_text() -> None:
    written = rows(cash_list_csv(ITEMS))
    assert sorted(r["name"] for r in written) == sorted("'" + name for name in NAMES)
    assert all(not value.startswith(("=", "+", "-", "@")) for r in written for value in r.values())
    assert {r["amount_vnd"] for r in written} == {"500000"}  # numbers stay numbers


def test_items_csv_writes_formula_like_names_as_text_and_keeps_the_other_cells() -> None:
    written = rows(items_csv(ITEMS))
    assert [r["name"] for r in written] == ["'" + name for name in NAMES]
    assert [r["citizen_id"] for r in written] == CITIZEN_IDS
    assert [r["status"] for r in written] == ["cash"] * len(NAMES)
