"""payer.registry: the population registry's synthetic citizens (CCCD ids, Vietnamese names, phones)."""

from __future__ import annotations

from datetime import date

import pytest
from faker import Faker

from payer.registry import (
    FEMALE_MIDDLE_NAMES,
    MALE_MIDDLE_NAMES,
    POPULATION_MAX,
    Person,
    citizen_id_for,
    generate_population,
    vietnamese_name,
)
from switch.scheme.identifiers import (
    PROVINCE_NAMES,
    check_citizen_id,
    check_msisdn,
    citizen_birth_year,
    citizen_is_female,
)

TODAY = date(2026, 12, 1)
NAMES = Faker("vi_VN").provider("faker.providers.person")
FAMILY_NAMES = set(NAMES.last_names)
MIDDLE_NAMES = set(MALE_MIDDLE_NAMES) | set(FEMALE_MIDDLE_NAMES)
GIVEN_FEMALE = set(NAMES.first_names_female)
GIVEN_MALE = set(NAMES.first_names_male)
HONORIFICS = {"Ông", "Bà", "Anh", "Chị", "Cô", "Quý", "Bác", "Em"}


@pytest.fixture(scope="module")
def people() -> list[Person]:
    return generate_population(3_000, seed=2026, today=TODAY)


# --- citizen ids -----------------------------------------------------------------------------------


def test_citizen_id_for_a_man_born_in_1990_in_ha_noi() -> None:
    assert citizen_id_for("001", date(1990, 5, 17), female=False, serial=12_345) == "001090012345"


def test_citizen_id_for_a_woman_born_in_2001_in_ho_chi_minh_city() -> None:
    assert citizen_id_for("079", date(2001, 2, 3), female=True, serial=7) == "079301000007"


def test_citizen_id_for_a_woman_born_in_the_1900s_has_century_digit_one() -> None:
    assert citizen_id_for("048", date(1945, 9, 2), female=True, serial=999_999) == "048145999999"


def test_every_citizen_id_is_a_valid_cccd_agreeing_with_the_persons_birth_year_sex_and_province(
    people: list[Person],
) -> None:
    for person in people:
        assert check_citizen_id(person.citizen_id, TODAY.year, person.birth_date.year) is None
        assert person.citizen_id[:3] == person.province_code
        assert citizen_birth_year(person.citizen_id) == person.birth_date.year
        assert citizen_is_female(person.citizen_id) == person.female


def test_citizen_ids_and_phone_numbers_are_unique(people: list[Person]) -> None:
    assert len({p.citizen_id for p in people}) == len(people)
    assert len({p.phone for p in people}) == len(people)


def test_every_phone_is_a_vietnamese_mobile_number(people: list[Person]) -> None:
    for person in people:
        assert check_msisdn(person.phone) is None


def test_every_birth_date_lies_18_to_95_years_of_365_days_before_today(people: list[Person]) -> None:
    for person in people:
        assert 18 * 365 <= (TODAY - person.birth_date).days <= 95 * 365


def test_people_come_from_many_provinces_and_are_about_half_women(people: list[Person]) -> None:
    assert len({p.province_code for p in people}) == len(PROVINCE_NAMES)
    assert sum(p.female for p in people) / len(people) == pytest.approx(0.5, abs=0.05)
    assert all(p.alive for p in people)


def test_a_persons_province_is_named_from_its_cccd_code() -> None:
    person = generate_population(1, seed=1, today=TODAY, provinces=["046"])[0]

    assert (person.province_code, person.province) == ("046", "Thừa Thiên Huế")


# --- names -----------------------------------------------------------------------------------------


def test_names_are_in_the_vietnamese_order_family_middle_given(people: list[Person]) -> None:
    for person in people:
        parts = person.name.split()
        family, middle, given = parts[0], " ".join(parts[1:-1]), parts[-1]
        assert family in FAMILY_NAMES, person.name
        assert middle in MIDDLE_NAMES, person.name
        assert given in (GIVEN_FEMALE if person.female else GIVEN_MALE), person.name


def test_names_carry_no_honorific(people: list[Person]) -> None:
    for person in people:
        assert person.name.split()[0] not in HONORIFICS, person.name


def test_names_keep_their_diacritics(people: list[Person]) -> None:
    assert any(not p.name.isascii() for p in people)
    assert any(p.name.startswith("Nguyễn ") for p in people)


def test_no_man_carries_the_womens_middle_name_thi(people: list[Person]) -> None:
    men_named_thi = [p.name for p in people if not p.female and " Thị " in p.name]

    assert men_named_thi == []


def test_vietnamese_name_puts_the_given_name_last() -> None:
    fake = Faker("vi_VN")
    fake.seed_instance(5)

    name = vietnamese_name(fake, female=True)

    assert name.split()[-1] in GIVEN_FEMALE
    assert name.split()[0] in FAMILY_NAMES


# --- determinism and size ----------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_population() -> None:
    assert generate_population(200, seed=42, today=TODAY) == generate_population(200, seed=42, today=TODAY)


def test_another_seed_gives_other_people() -> None:
    first = generate_population(50, seed=1, today=TODAY)
    second = generate_population(50, seed=2, today=TODAY)

    assert {p.citizen_id for p in first}.isdisjoint({p.citizen_id for p in second})


def test_a_larger_population_with_the_same_seed_starts_with_the_smaller_one() -> None:
    assert generate_population(300, seed=9, today=TODAY)[:100] == generate_population(100, seed=9, today=TODAY)


def test_a_population_of_zero_is_empty() -> None:
    assert generate_population(0, seed=1, today=TODAY) == []


def test_people_can_be_drawn_from_chosen_provinces_only() -> None:
    people = generate_population(200, seed=4, today=TODAY, provinces=["001", "079"])

    assert {p.province_code for p in people} == {"001", "079"}
    assert all(p.citizen_id[:3] in ("001", "079") for p in people)


@pytest.mark.parametrize("size", [-1, POPULATION_MAX + 1])
def test_a_size_outside_zero_to_the_maximum_is_refused_naming_the_field(size: int) -> None:
    with pytest.raises(ValueError, match=f"size: must be between 0 and {POPULATION_MAX}"):
        generate_population(size, seed=1, today=TODAY)


@pytest.mark.parametrize(
    "provinces",
    [
        pytest.param(["001", "003"], id="003 is not a province code"),
        pytest.param(["1"], id="a code must have three digits"),
        pytest.param(["Hà Nội"], id="a name is not a code"),
    ],
)
def test_an_unknown_province_code_is_refused_naming_the_field(provinces: list[str]) -> None:
    with pytest.raises(ValueError, match=r"provinces: \[.*\] are not CCCD province codes"):
        generate_population(10, seed=1, today=TODAY, provinces=provinces)


def test_an_empty_list_of_provinces_is_refused_rather_than_read_as_every_province() -> None:
    with pytest.raises(ValueError, match="provinces"):
        generate_population(10, seed=1, today=TODAY, provinces=[])
