"""Welfare programs and their amount rules (defaults from the decrees in force for 2026).

Amounts are the program's standard times a category coefficient. Coefficients are kept in tenths
so the amount is integer arithmetic: 500,000 x 1.5 is 500,000 x 15 // 10 = 750,000 VND.
"""

from __future__ import annotations

from dataclasses import dataclass

from switch.scheme.codes import Program

SOCIAL_ASSISTANCE_STANDARD_VND = 500_000  # Decree 76/2024
MERIT_PERSON_STANDARD_VND = 2_789_000  # Decree 77/2024


@dataclass(slots=True, frozen=True)
class ProgramRule:
    program: Program
    standard_vnd: int
    coefficients_tenths: tuple[int, ...]  # the categories a beneficiary can be in
    label: str


RULES: dict[Program, ProgramRule] = {
    # Merit persons: the standard, with higher categories (war invalids by loss of capacity) above it.
    Program.MERIT_PERSON: ProgramRule(
        Program.MERIT_PERSON, MERIT_PERSON_STANDARD_VND, (10, 10, 10, 15, 20), "Người có công"
    ),
    # Social assistance: orphans, single parents in poor households, and others; coefficient 1.0 to 3.0.
    Program.SOCIAL_ASSISTANCE: ProgramRule(
        Program.SOCIAL_ASSISTANCE, SOCIAL_ASSISTANCE_STANDARD_VND, (10, 10, 15, 25, 30), "Trợ cấp xã hội"
    ),
    # The elderly: 80 and over without a pension (1.0); 75 to 80 in poor households (1.5).
    Program.ELDERLY: ProgramRule(Program.ELDERLY, SOCIAL_ASSISTANCE_STANDARD_VND, (10, 10, 10, 15), "Người cao tuổi"),
    # Disability: severe (2.0) and especially severe (2.5).
    Program.DISABILITY: ProgramRule(
        Program.DISABILITY, SOCIAL_ASSISTANCE_STANDARD_VND, (20, 20, 25), "Người khuyết tật"
    ),
}


def amount_vnd(program: Program, coefficient_tenths: int) -> int:
    rule = RULES[program]
    if coefficient_tenths not in rule.coefficients_tenths:
        raise ValueError(f"coefficient_tenths: {coefficient_tenths} is not a category of {program.value}")
    amount = rule.standard_vnd * coefficient_tenths
    assert amount % 10 == 0, "every standard is a multiple of 10 VND, so the coefficient gives whole dong"
    return amount // 10
