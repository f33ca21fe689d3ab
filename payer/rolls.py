"""Beneficiary rolls: who the payer pays under which program, in which category.

A roll is the payer's own list, kept by communes and districts, so it can lag the population
registry: a beneficiary may have died since, or be written with a typo. The identity check at the
switch catches both before anyone is paid.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from payer.programs import RULES, amount_vnd
from payer.registry import Person
from switch.scheme.codes import Program

ROLL_SIZE_MAX = 2_000_000
PROGRAM_SHARES: tuple[tuple[Program, float], ...] = (
    (Program.MERIT_PERSON, 0.15),
    (Program.SOCIAL_ASSISTANCE, 0.35),
    (Program.DISABILITY, 0.20),
    (Program.ELDERLY, 0.30),
)


@dataclass(slots=True, frozen=True)
class Beneficiary:
    citizen_id: str
    name: str  # as the roll writes it
    program: Program
    coefficient_tenths: int

    @property
    def amount_vnd(self) -> int:
        return amount_vnd(self.program, self.coefficient_tenths)


def build_rolls(
    people: Sequence[Person],
    rng: random.Random,
    today: date,
    name_typo_share: float = 0.0,
    shares: Sequence[tuple[Program, float]] = PROGRAM_SHARES,
) -> list[Beneficiary]:
    """Everyone given is on one roll: the elderly (80 and over) on the elderly roll unless they are
    merit persons; the others by the program shares (the elderly share aside: it is by age)."""
    if len(people) > ROLL_SIZE_MAX:
        raise ValueError(f"people: {len(people)} is over the roll limit of {ROLL_SIZE_MAX}")
    rolls = []
    for person in people:
        program = _program(person, rng, today, shares)
        coefficient = rng.choice(RULES[program].coefficients_tenths)
        name = _typo(person.name, rng) if rng.random() < name_typo_share else person.name
        rolls.append(Beneficiary(person.citizen_id, name, program, coefficient))
    return rolls


def _program(person: Person, rng: random.Random, today: date, shares: Sequence[tuple[Program, float]]) -> Program:
    roll = rng.random()
    age = today.year - person.birth_date.year
    if age >= 80:
        return Program.MERIT_PERSON if roll < 0.2 else Program.ELDERLY
    for program, share in shares:
        if program == Program.ELDERLY:
            continue
        if roll < share:
            return program
        roll -= share
    return Program.SOCIAL_ASSISTANCE


def _typo(name: str, rng: random.Random) -> str:
    """Another person's given name on the roll: the kind of error that makes a name not match."""
    words = name.split()
    replacement = rng.choice(("Tuấn", "Hùng", "Lan", "Hoa", "Phúc", "Nga", "Sơn", "Yến"))
    if words[-1] == replacement:
        replacement = "Khánh"
    return " ".join([*words[:-1], replacement]) if len(words) > 1 else replacement
