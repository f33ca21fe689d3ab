"""The population registry (the Ministry of Public Security's data, C06): citizen id to person.

`generate_population` makes a reproducible synthetic population: Vietnamese names from Faker's
vi_VN locale, birth dates, provinces, and citizen ids that follow the CCCD structure (province
code, century-and-gender digit, two birth-year digits, six serial digits).
"""

from __future__ import annotations

import random
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from faker import Faker

from switch.scheme.identifiers import MOBILE_PREFIXES, PROVINCE_NAMES, check_citizen_id
from switch.scheme.identity import IdentityRecord

POPULATION_MAX = 2_000_000
# Faker's vi_VN middle names do not follow sex; "Thị" is a woman's middle name, "Văn" a man's.
MALE_MIDDLE_NAMES = ("Văn", "Hữu", "Đức", "Minh", "Quang", "Công", "Thanh", "Xuân", "Ngọc", "Duy")
FEMALE_MIDDLE_NAMES = ("Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Minh", "Kim", "Hồng", "Bảo")


@dataclass(slots=True, frozen=True)
class Person:
    citizen_id: str
    name: str  # as the registry holds it, with diacritics
    birth_date: date
    province_code: str
    female: bool
    phone: str
    alive: bool = True

    @property
    def province(self) -> str:
        return PROVINCE_NAMES[self.province_code]


def citizen_id_for(province_code: str, birth_date: date, female: bool, serial: int) -> str:
    century_digit = 2 * ((birth_date.year - 1900) // 100) + (1 if female else 0)
    return f"{province_code}{century_digit}{birth_date.year % 100:02d}{serial:06d}"


def vietnamese_name(fake: Faker, female: bool) -> str:
    """Family name, middle name, given name: the Vietnamese order. Faker's vi_VN `name()` puts the
    given name first and adds honorifics, so the parts are composed here."""
    given = fake.first_name_female() if female else fake.first_name_male()
    middle = fake.random_element(FEMALE_MIDDLE_NAMES if female else MALE_MIDDLE_NAMES)
    return f"{fake.last_name()} {middle} {given}"


def generate_population(
    size: int,
    seed: int,
    today: date,
    provinces: Sequence[str] | None = None,
) -> list[Person]:
    if not 0 <= size <= POPULATION_MAX:
        raise ValueError(f"size: must be between 0 and {POPULATION_MAX}")
    if provinces is not None and not provinces:
        raise ValueError("provinces: give at least one CCCD province code, or none for all of them")
    codes = list(provinces if provinces is not None else PROVINCE_NAMES)
    unknown = [c for c in codes if c not in PROVINCE_NAMES]
    if unknown:
        raise ValueError(f"provinces: {unknown} are not CCCD province codes")
    rng = random.Random(seed)
    fake = Faker("vi_VN")
    fake.seed_instance(seed)
    prefixes = sorted(MOBILE_PREFIXES)
    people: list[Person] = []
    used_ids: set[str] = set()
    used_phones: set[str] = set()
    while len(people) < size:
        female = rng.random() < 0.5
        birth_date = today - timedelta(days=rng.randint(18 * 365, 95 * 365))
        province = rng.choice(codes)
        citizen_id = citizen_id_for(province, birth_date, female, rng.randrange(1_000_000))
        phone = rng.choice(prefixes) + f"{rng.randrange(10_000_000):07d}"
        if citizen_id in used_ids or phone in used_phones:
            continue
        assert check_citizen_id(citizen_id, today.year, birth_date.year) is None
        used_ids.add(citizen_id)
        used_phones.add(phone)
        name = vietnamese_name(fake, female)
        people.append(Person(citizen_id, name, birth_date, province, female, phone))
    return people


class PopulationRegistry:
    """The registry as the switch asks it (`switch.scheme.identity.IdentityRegistry`): citizen id to
    name and whether the person is alive. Deaths are recorded as they are reported."""

    def __init__(self, people: Sequence[Person]) -> None:
        self._people = {p.citizen_id: p for p in people}
        self._deceased: set[str] = set()

    def __len__(self) -> int:
        return len(self._people)

    def people(self) -> list[Person]:
        return list(self._people.values())

    def person(self, citizen_id: str) -> Person | None:
        return self._people.get(citizen_id)

    def record_death(self, citizen_id: str) -> None:
        if citizen_id not in self._people:
            raise KeyError(f"citizen_id: {citizen_id} is not in the registry")
        self._deceased.add(citizen_id)

    def alive(self, citizen_id: str) -> bool:
        person = self._people.get(citizen_id)
        return person is not None and person.alive and citizen_id not in self._deceased

    def lookup(self, citizen_ids: Collection[str]) -> dict[str, IdentityRecord]:
        found = {}
        for citizen_id in citizen_ids:
            person = self._people.get(citizen_id)
            if person is not None:
                found[citizen_id] = IdentityRecord(citizen_id, person.name, self.alive(citizen_id))
        return found
