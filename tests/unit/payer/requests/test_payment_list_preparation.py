"""MOLISA prepares: the rolls checked against the police registry (C06) become the payment list,
with those left out and why, and the list's totals by program, province and overall."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from payment_request_data import CYCLE, MOLISA_OFFICER, TREASURY_PREPARER, lines

from payer.registry import Person, PopulationRegistry, generate_population
from payer.requests import core
from payer.requests.errors import InputInvalid, RoleRefused
from payer.requests.schemas import ExclusionReason, PaymentListLine
from payer.rolls import Beneficiary, build_rolls
from switch.scheme.codes import Program, StatusReason
from switch.scheme.summary import ZERO, Cell

TODAY = date(2026, 5, 1)
PEOPLE = generate_population(120, seed=15, today=TODAY, provinces=["001", "079", "048", "038"])


def rolls_of(people: list[Person], seed: int = 15) -> list[Beneficiary]:
    return build_rolls(people, random.Random(seed), TODAY)


def prepared(beneficiaries: list[Beneficiary], registry: PopulationRegistry) -> tuple[list[PaymentListLine], dict]:
    records = registry.lookup([b.citizen_id for b in beneficiaries])
    payment_list = core.prepare(beneficiaries, records, CYCLE, MOLISA_OFFICER)
    return list(payment_list.lines), {e.citizen_id: e.reason for e in payment_list.excluded}


def test_everyone_the_registry_knows_alive_and_under_the_same_name_is_on_the_list() -> None:
    rolls = rolls_of(PEOPLE)
    lines_made, excluded = prepared(rolls, PopulationRegistry(PEOPLE))
    assert excluded == {}
    assert [(x.citizen_id, x.program, x.amount_vnd) for x in lines_made] == [
        (b.citizen_id, b.program, b.amount_vnd) for b in rolls
    ]
    assert all(x.province_code == x.citizen_id[:3] for x in lines_made)


def test_the_deceased_are_left_out_as_deceased() -> None:
    registry = PopulationRegistry(PEOPLE)
    registry.record_death(PEOPLE[3].citizen_id)
    _lines, excluded = prepared(rolls_of(PEOPLE), registry)
    assert excluded == {PEOPLE[3].citizen_id: ExclusionReason.DECEASED}


def test_a_name_that_does_not_match_the_registry_is_left_out_as_an_identity_mismatch() -> None:
    rolls = rolls_of(PEOPLE)
    rolls[5] = replace(rolls[5], name="Trịnh Công Sơn")
    _lines, excluded = prepared(rolls, PopulationRegistry(PEOPLE))
    assert excluded == {rolls[5].citizen_id: ExclusionReason.IDENTITY_MISMATCH}


def test_names_compare_in_upper_case_without_diacritics_as_the_scheme_compares_them() -> None:
    person = Person("001090012345", "Nguyễn Văn Đức", date(1990, 5, 17), "001", False, "0912345678")
    written = Beneficiary(person.citizen_id, "NGUYEN VAN DUC", Program.MERIT_PERSON, 10)
    lines_made, excluded = prepared([written], PopulationRegistry([person]))
    assert excluded == {}
    assert lines_made[0].name == "NGUYEN VAN DUC"  # as the roll writes it: the switch compares it again


def test_a_left_out_middle_name_is_a_close_match_and_stays_on_the_list_as_at_the_switch() -> None:
    person = Person("079185012345", "Trần Thị Bình", date(1985, 3, 1), "079", True, "0987654321")
    written = Beneficiary(person.citizen_id, "Trần Bình", Program.SOCIAL_ASSISTANCE, 15)
    lines_made, excluded = prepared([written], PopulationRegistry([person]))
    assert excluded == {} and len(lines_made) == 1


def test_a_citizen_id_the_registry_does_not_know_is_left_out_as_unknown() -> None:
    stranger = Beneficiary("048070999999", "Lê Văn Cường", Program.ELDERLY, 10)
    _lines, excluded = prepared([*rolls_of(PEOPLE), stranger], PopulationRegistry(PEOPLE))
    assert excluded == {"048070999999": ExclusionReason.UNKNOWN_TO_REGISTRY}


@pytest.mark.parametrize("written", ["", "12345", "0010900123456", "999090012345", "00109001234A"])
def test_a_beneficiary_without_a_well_formed_citizen_id_is_left_out_as_having_none(written: str) -> None:
    someone = Beneficiary(written, "Phạm Thị Dung", Program.DISABILITY, 20)
    _lines, excluded = prepared([someone], PopulationRegistry(PEOPLE))
    assert excluded == {written: ExclusionReason.NO_CITIZEN_ID}


def test_the_same_person_twice_under_one_program_is_on_the_list_once() -> None:
    rolls = rolls_of(PEOPLE[:3])
    lines_made, excluded = prepared([*rolls, rolls[1]], PopulationRegistry(PEOPLE))
    assert len(lines_made) == 3
    assert excluded == {rolls[1].citizen_id: ExclusionReason.LISTED_TWICE}


def test_the_same_person_under_two_programs_is_on_the_list_twice() -> None:
    person = PEOPLE[0]
    both = [
        Beneficiary(person.citizen_id, person.name, Program.MERIT_PERSON, 10),
        Beneficiary(person.citizen_id, person.name, Program.DISABILITY, 25),
    ]
    lines_made, excluded = prepared(both, PopulationRegistry(PEOPLE))
    assert [x.program for x in lines_made] == [Program.MERIT_PERSON, Program.DISABILITY] and excluded == {}


def test_every_exclusion_reason_says_what_it_means_and_maps_to_the_switchs_reason_code() -> None:
    assert ExclusionReason.DECEASED.status_reason == StatusReason.MD07
    assert ExclusionReason.IDENTITY_MISMATCH.status_reason == StatusReason.BE01
    assert ExclusionReason.UNKNOWN_TO_REGISTRY.status_reason == StatusReason.BE16
    assert all(reason.meaning for reason in ExclusionReason)


def test_only_a_molisa_officer_prepares_a_payment_list() -> None:
    with pytest.raises(RoleRefused, match=r"prepared_by.role: treasury_preparer"):
        core.prepare(rolls_of(PEOPLE[:2]), {}, CYCLE, TREASURY_PREPARER)


def test_a_category_the_program_does_not_have_is_refused_naming_the_beneficiary() -> None:
    wrong = Beneficiary(PEOPLE[0].citizen_id, PEOPLE[0].name, Program.DISABILITY, 10)
    with pytest.raises(InputInvalid, match=r"beneficiaries\[1\]\.coefficient_tenths"):
        core.prepare([rolls_of(PEOPLE[:1])[0], wrong], {}, CYCLE, MOLISA_OFFICER)


def test_a_cycle_that_is_not_a_month_is_refused() -> None:
    with pytest.raises(InputInvalid, match=r"cycle: '2026-13' must be YYYY-MM"):
        core.prepare([], {}, "2026-13", MOLISA_OFFICER)


def test_totals_by_program_and_province_for_a_small_list() -> None:
    made = [
        PaymentListLine("001090012345", "Nguyễn Văn An", "001", Program.MERIT_PERSON, 2_789_000),
        PaymentListLine("001185012346", "Trần Thị Bình", "001", Program.SOCIAL_ASSISTANCE, 750_000),
        PaymentListLine("079145012347", "Lê Thị Hoa", "079", Program.ELDERLY, 500_000),
    ]
    totals = core.totals(made)
    assert totals.grand == Cell(count=3, amount_vnd=4_039_000)
    assert totals.by_program == {
        Program.ELDERLY: Cell(count=1, amount_vnd=500_000),
        Program.MERIT_PERSON: Cell(count=1, amount_vnd=2_789_000),
        Program.SOCIAL_ASSISTANCE: Cell(count=1, amount_vnd=750_000),
    }
    assert totals.by_province == {"001": Cell(count=2, amount_vnd=3_539_000), "079": Cell(count=1, amount_vnd=500_000)}


# --- properties --------------------------------------------------------------------------------------


@given(
    chosen=st.lists(st.integers(0, len(PEOPLE) - 1), min_size=0, max_size=60),
    dead=st.sets(st.integers(0, len(PEOPLE) - 1), max_size=10),
    renamed=st.sets(st.integers(0, len(PEOPLE) - 1), max_size=10),
    strangers=st.integers(0, 5),
    without_id=st.integers(0, 3),
    seed=st.integers(0, 2**16),
)
def test_a_prepared_list_accounts_for_every_beneficiary_and_its_totals_are_the_sums_of_its_lines(
    chosen: list[int], dead: set[int], renamed: set[int], strangers: int, without_id: int, seed: int
) -> None:
    registry = PopulationRegistry(PEOPLE)
    for n in dead:
        registry.record_death(PEOPLE[n].citizen_id)
    rolls = rolls_of([PEOPLE[n] for n in chosen], seed)
    rolls = [replace(b, name="Hà Văn Khánh") if chosen[i] in renamed else b for i, b in enumerate(rolls)]
    rolls += [Beneficiary(f"092070{900_000 + k:06d}", "Ngô Thị Yến", Program.ELDERLY, 10) for k in range(strangers)]
    rolls += [Beneficiary("", "Đinh Văn Tuấn", Program.SOCIAL_ASSISTANCE, 10)] * without_id
    random.Random(seed).shuffle(rolls)

    payment_list = core.prepare(rolls, registry.lookup([b.citizen_id for b in rolls]), CYCLE, MOLISA_OFFICER)

    assert len(payment_list.lines) + len(payment_list.excluded) == len(rolls)
    assert len({x.key for x in payment_list.lines}) == len(payment_list.lines)
    totals = core.totals(payment_list.lines)
    assert totals.grand == Cell(count=len(payment_list.lines), amount_vnd=sum(x.amount_vnd for x in payment_list.lines))
    assert sum(totals.by_program.values(), ZERO) == totals.grand
    assert sum(totals.by_province.values(), ZERO) == totals.grand
    reasons = Counter(e.reason for e in payment_list.excluded)
    assert reasons[ExclusionReason.NO_CITIZEN_ID] == without_id
    assert reasons[ExclusionReason.UNKNOWN_TO_REGISTRY] == strangers
    for excluded in payment_list.excluded:
        person = registry.person(excluded.citizen_id)
        if excluded.reason == ExclusionReason.DECEASED:
            assert person is not None and not registry.alive(person.citizen_id)
        elif excluded.reason == ExclusionReason.IDENTITY_MISMATCH:
            assert person is not None and registry.alive(person.citizen_id) and excluded.name == "Hà Văn Khánh"
    for made in payment_list.lines:
        assert registry.alive(made.citizen_id)


@given(made=lines(min_size=0))
def test_totals_of_any_list_are_the_sums_of_its_lines_by_program_by_province_and_overall(
    made: list[PaymentListLine],
) -> None:
    totals = core.totals(made)
    for program in Program:
        mine = [x.amount_vnd for x in made if x.program == program]
        assert totals.by_program.get(program, ZERO) == Cell(count=len(mine), amount_vnd=sum(mine))
    for code in {x.province_code for x in made}:
        mine = [x.amount_vnd for x in made if x.province_code == code]
        assert totals.by_province[code] == Cell(count=len(mine), amount_vnd=sum(mine))
    assert totals.grand == Cell(count=len(made), amount_vnd=sum(x.amount_vnd for x in made))
