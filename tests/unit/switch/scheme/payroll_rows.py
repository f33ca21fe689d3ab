"""The payroll row the format tests start from, changed field by field."""

from __future__ import annotations

from typing import Any


def a_row(**overrides: Any) -> dict[str, Any]:
    """One merit-person payment for December 2026 to a woman registered in Hà Nội."""
    row: dict[str, Any] = {
        "end_to_end_id": "KBNN-2612-MP-000002",
        "citizen_id": "001158003217",
        "name": "Nguyễn Thị Hoa",
        "amount_vnd": 2_789_000,
        "program": "merit_person",
        "cycle": "2026-12",
    }
    row.update(overrides)
    return row
