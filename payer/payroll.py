"""A month's payroll: one item per beneficiary, the amount from the program's rule, written as the
files the Treasury submits (JSON, CSV or pain.001), each within the file limit."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from payer.rolls import Beneficiary
from switch.scheme.disbursement import (
    PAYROLL_DEBTOR_ACCOUNT,
    DisbursementItem,
    write_csv,
    write_json,
)
from switch.scheme.pain import write_pain001

CYCLE = re.compile(r"20[0-9]{2}-(0[1-9]|1[0-2])")
PAYER_NAME = "Bộ Lao động - Thương binh và Xã hội"
PROGRAM_CODES = {"merit_person": "MP", "social_assistance": "SA", "elderly": "EL", "disability": "DI"}


def build_payroll(rolls: Sequence[Beneficiary], cycle: str, first_number: int = 1) -> list[DisbursementItem]:
    """Items for these beneficiaries, numbered from `first_number` (a payroll built file by file
    numbers each slice of the rolls from where the last one ended)."""
    if not CYCLE.fullmatch(cycle):
        raise ValueError(f"cycle: {cycle!r} must be YYYY-MM")
    compact = cycle.replace("-", "")
    return [
        DisbursementItem(
            end_to_end_id=f"{compact}{PROGRAM_CODES[b.program.value]}{number:08d}",
            citizen_id=b.citizen_id,
            name=b.name,
            amount_vnd=b.amount_vnd,
            program=b.program,
            cycle=cycle,
        )
        for number, b in enumerate(rolls, start=first_number)
    ]


def write_file(
    format_name: str, message_id: str, items: Sequence[DisbursementItem], debtor_agent: str, created: datetime
) -> bytes:
    if format_name == "json":
        return write_json(message_id, items)
    if format_name == "csv":
        return write_csv(items)
    if format_name == "pain.001":
        return write_pain001(message_id, created, PAYER_NAME, debtor_agent, PAYROLL_DEBTOR_ACCOUNT, items)
    raise ValueError(f"format: {format_name!r} is not json, csv or pain.001")
