"""payer.submission: a cycle's rolls as the numbered files the Treasury sends, and a payroll sent again."""

from __future__ import annotations

import json
import random
from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from payer.registry import generate_population
from payer.rolls import Beneficiary, build_rolls
from payer.submission import PayrollFile, files_needed, message_id_of, payroll_files, resent_as_new
from switch.scheme.calendar import VIETNAM
from switch.scheme.codes import Program
from switch.scheme.disbursement import FORMATS, ITEMS_PER_FILE_MAX, DisbursementItem, read_file
from switch.scheme.identifiers import check_citizen_id
from switch.scheme.pain import PAIN001

TODAY = date(2026, 12, 1)
CREATED = datetime(2026, 12, 1, 8, 0, tzinfo=VIETNAM)
CYCLE = "2026-12"
VIETINBANK = "970415"  # the Treasury's serving bank
AGRIBANK = "970405"


@pytest.fixture(scope="module")
def rolls() -> list[Beneficiary]:
    """Seven beneficiaries from Hà Nội and TP. Hồ Chí Minh, on the rolls of several programs."""
    people = generate_population(7, seed=2026, today=TODAY, provinces=("001", "079"))
    return build_rolls(people, random.Random(2026), TODAY)


def a_beneficiary(citizen_id: str, name: str, program: Program = Program.MERIT_PERSON) -> Beneficiary:
    assert check_citizen_id(citizen_id, TODAY.year) is None, citizen_id
    return Beneficiary(citizen_id, name, program, coefficient_tenths=10)


def items_of(file: PayrollFile) -> tuple[DisbursementItem, ...]:
    parsed = read_file(file.file_format, file.data, file.message_id)
    assert parsed.errors == (), parsed.errors
    return parsed.items


def by_end_to_end_id(items: tuple[DisbursementItem, ...] | list[DisbursementItem]) -> list[DisbursementItem]:
    return sorted(items, key=lambda i: i.end_to_end_id)


# --- message ids and the number of files -------------------------------------------------------------


def test_a_files_message_id_is_molisa_the_cycle_and_its_three_digit_number() -> None:
    assert message_id_of("2026-12", 1) == "MOLISA-2026-12-001"
    assert message_id_of("2026-12", 42) == "MOLISA-2026-12-042"
    assert message_id_of("2027-01", 999) == "MOLISA-2027-01-999"


@pytest.mark.parametrize(
    ("beneficiaries", "items_per_file", "files"),
    [(0, 3, 0), (1, 3, 1), (3, 3, 1), (4, 3, 2), (7, 3, 3), (9, 3, 3), (10, 3, 4), (7, 1, 7)],
)
def test_files_needed_is_the_beneficiaries_divided_by_the_file_size_rounded_up(
    beneficiaries: int, items_per_file: int, files: int
) -> None:
    assert files_needed(beneficiaries, items_per_file) == files


def test_a_national_payroll_of_a_million_needs_ten_files_at_the_default_limit() -> None:
    assert ITEMS_PER_FILE_MAX == 100_000
    assert files_needed(1_000_000) == 10
    assert files_needed(1_000_001) == 11
    assert files_needed(100_000) == 1


@given(beneficiaries=st.integers(0, 2_000_000), items_per_file=st.integers(1, ITEMS_PER_FILE_MAX))
def test_files_needed_is_the_fewest_files_of_that_size_that_hold_every_beneficiary(
    beneficiaries: int, items_per_file: int
) -> None:
    files = files_needed(beneficiaries, items_per_file)

    assert files * items_per_file >= beneficiaries
    assert (files - 1) * items_per_file < beneficiaries or files == 0


# --- files ------------------------------------------------------------------------------------------


def test_a_payroll_larger_than_one_file_goes_as_numbered_files_of_at_most_items_per_file(
    rolls: list[Beneficiary],
) -> None:
    files = list(payroll_files(rolls, CYCLE, "json", VIETINBANK, CREATED, items_per_file=3))

    assert [f.message_id for f in files] == ["MOLISA-2026-12-001", "MOLISA-2026-12-002", "MOLISA-2026-12-003"]
    assert [len(items_of(f)) for f in files] == [3, 3, 1]
    assert len(files) == files_needed(len(rolls), 3)
    assert {(f.cycle, f.file_format) for f in files} == {(CYCLE, "json")}


def test_each_file_carries_its_own_message_id_inside(rolls: list[Beneficiary]) -> None:
    for file in payroll_files(rolls, CYCLE, "json", VIETINBANK, CREATED, items_per_file=3):
        assert read_file("json", file.data).message_id == file.message_id
        assert json.loads(file.data)["message_id"] == file.message_id


def test_the_files_items_are_the_rolls_in_order_with_the_rolls_names_ids_and_amounts(
    rolls: list[Beneficiary],
) -> None:
    files = payroll_files(rolls, CYCLE, "json", VIETINBANK, CREATED, items_per_file=3)
    items = [item for file in files for item in items_of(file)]

    assert [(i.citizen_id, i.name, i.amount_vnd, i.program, i.cycle) for i in items] == [
        (b.citizen_id, b.name, b.amount_vnd, b.program, CYCLE) for b in rolls
    ]


def test_end_to_end_ids_are_numbered_on_from_the_previous_file_so_none_repeats(rolls: list[Beneficiary]) -> None:
    files = list(payroll_files(rolls, CYCLE, "json", VIETINBANK, CREATED, items_per_file=3))
    ids = [item.end_to_end_id for file in files for item in items_of(file)]

    assert len(set(ids)) == len(ids) == 7
    assert [int(i[-8:]) for i in ids] == [1, 2, 3, 4, 5, 6, 7]
    assert items_of(files[1])[0].end_to_end_id.endswith("00000004")
    assert items_of(files[2])[0].end_to_end_id.endswith("00000007")


def test_an_end_to_end_id_names_the_cycle_and_the_program() -> None:
    rolls = [
        a_beneficiary("001054012345", "Nguyễn Văn Đức", Program.MERIT_PERSON),
        a_beneficiary("079140556677", "Lê Thị Mai", Program.SOCIAL_ASSISTANCE),
    ]
    (file,) = payroll_files(rolls, CYCLE, "json", VIETINBANK, CREATED)

    assert [i.end_to_end_id for i in items_of(file)] == ["202612MP00000001", "202612SA00000002"]
    assert [i.amount_vnd for i in items_of(file)] == [2_789_000, 500_000]


@pytest.mark.parametrize("file_format", FORMATS)
def test_every_format_reads_back_as_the_same_items(rolls: list[Beneficiary], file_format: str) -> None:
    as_json = [
        i for f in payroll_files(rolls, CYCLE, "json", VIETINBANK, CREATED, items_per_file=3) for i in items_of(f)
    ]
    files = list(payroll_files(rolls, CYCLE, file_format, VIETINBANK, CREATED, items_per_file=3))
    items = [item for file in files for item in items_of(file)]

    assert {f.file_format for f in files} == {file_format}
    # pain.001 groups a file's transactions by program (one PmtInf each): the same items, in another order.
    assert by_end_to_end_id(items) == by_end_to_end_id(as_json)
    if file_format != "pain.001":
        assert items == as_json


def test_a_pain001_file_names_the_treasurys_serving_bank_as_debtor_agent(rolls: list[Beneficiary]) -> None:
    for file in payroll_files(rolls, CYCLE, "pain.001", AGRIBANK, CREATED, items_per_file=3):
        parsed = read_file("pain.001", file.data)
        assert parsed.debtor_agent == AGRIBANK
        assert parsed.message_id == file.message_id


def test_a_pain001_payroll_file_carries_program_and_cycle_in_the_standard_elements(rolls: list[Beneficiary]) -> None:
    ns = {"p": PAIN001}
    for file in payroll_files(rolls, "2027-02", "pain.001", VIETINBANK, CREATED, items_per_file=3):
        root = etree.fromstring(file.data)
        infos = root.findall(".//p:PmtInf", ns)
        # PmtInfId is free text, not the earlier "<cycle>/<program>": the switch reads the standard elements.
        assert [i.findtext("p:PmtInfId", namespaces=ns) for i in infos] == [
            f"{file.message_id}/{n}" for n in range(1, len(infos) + 1)
        ]
        assert {i.findtext("p:ReqdExctnDt/p:Dt", namespaces=ns) for i in infos} == {"2027-02-01"}
        assert {i.findtext("p:PmtTpInf/p:CtgyPurp/p:Cd", namespaces=ns) for i in infos} == {"SSBE"}
        parsed = read_file("pain.001", file.data)
        written = root.xpath("//p:CdtTrfTxInf/p:Purp/p:Prtry/text()", namespaces=ns)
        assert written == [i.program.value for i in parsed.items]
        assert {i.cycle for i in parsed.items} == {"2027-02"}


def test_a_csv_file_is_read_under_the_message_id_it_was_sent_with(rolls: list[Beneficiary]) -> None:
    files = list(payroll_files(rolls, CYCLE, "csv", VIETINBANK, CREATED, items_per_file=3))

    assert [read_file("csv", f.data, f.message_id).message_id for f in files] == [f.message_id for f in files]
    assert files[0].data.startswith(b"end_to_end_id,citizen_id,name,amount_vnd,program,cycle\n")


def test_a_payroll_that_fits_in_one_file_goes_as_file_001(rolls: list[Beneficiary]) -> None:
    files = list(payroll_files(rolls, CYCLE, "json", VIETINBANK, CREATED))

    assert [f.message_id for f in files] == ["MOLISA-2026-12-001"]
    assert len(items_of(files[0])) == len(rolls)


def test_files_exactly_full_leave_no_empty_file_at_the_end(rolls: list[Beneficiary]) -> None:
    files = list(payroll_files(rolls[:6], CYCLE, "json", VIETINBANK, CREATED, items_per_file=3))

    assert [len(items_of(f)) for f in files] == [3, 3]


def test_empty_rolls_give_no_file() -> None:
    assert list(payroll_files([], CYCLE, "json", VIETINBANK, CREATED)) == []


@pytest.mark.parametrize("items_per_file", [1, 2, 3, 6, 7, 8])
def test_the_number_of_files_is_files_needed(rolls: list[Beneficiary], items_per_file: int) -> None:
    files = list(payroll_files(rolls, CYCLE, "csv", VIETINBANK, CREATED, items_per_file=items_per_file))

    assert len(files) == files_needed(len(rolls), items_per_file)
    assert sum(len(items_of(f)) for f in files) == len(rolls)


@pytest.mark.parametrize("items_per_file", [0, -1, ITEMS_PER_FILE_MAX + 1])
def test_items_per_file_out_of_range_is_refused_naming_items_per_file(
    rolls: list[Beneficiary], items_per_file: int
) -> None:
    with pytest.raises(ValueError, match=rf"^items_per_file: must be between 1 and {ITEMS_PER_FILE_MAX}$"):
        list(payroll_files(rolls, CYCLE, "json", VIETINBANK, CREATED, items_per_file=items_per_file))


def test_a_cycle_that_is_not_yyyy_mm_is_refused_naming_the_cycle(rolls: list[Beneficiary]) -> None:
    with pytest.raises(ValueError, match=r"^cycle: "):
        list(payroll_files(rolls, "12/2026", "json", VIETINBANK, CREATED))


def test_an_unknown_format_is_refused_naming_the_format(rolls: list[Beneficiary]) -> None:
    with pytest.raises(ValueError, match=r"^format: 'xlsx'"):
        list(payroll_files(rolls, CYCLE, "xlsx", VIETINBANK, CREATED))


# --- a payroll sent again ------------------------------------------------------------------------------


@pytest.mark.parametrize("file_format", FORMATS)
def test_a_payroll_resent_as_new_keeps_the_items_under_another_message_id(
    rolls: list[Beneficiary], file_format: str
) -> None:
    first = next(payroll_files(rolls, CYCLE, file_format, VIETINBANK, CREATED, items_per_file=3))

    again = resent_as_new(first, "MOLISA-2026-12-001-R", VIETINBANK, CREATED)

    assert again.message_id == "MOLISA-2026-12-001-R"
    assert (again.file_format, again.cycle) == (file_format, CYCLE)
    assert items_of(again) == items_of(first)
    assert read_file(file_format, again.data, again.message_id).message_id == "MOLISA-2026-12-001-R"


def test_a_json_payroll_resent_as_new_differs_only_in_its_message_id(rolls: list[Beneficiary]) -> None:
    first = next(payroll_files(rolls, CYCLE, "json", VIETINBANK, CREATED))

    again = json.loads(resent_as_new(first, "MOLISA-2026-12-101", VIETINBANK, CREATED).data)
    original = json.loads(first.data)

    assert again.pop("message_id") == "MOLISA-2026-12-101"
    assert original.pop("message_id") == "MOLISA-2026-12-001"
    assert again == original


def test_a_pain001_payroll_resent_as_new_differs_only_in_its_msgid(rolls: list[Beneficiary]) -> None:
    first = next(payroll_files(rolls, CYCLE, "pain.001", VIETINBANK, CREATED))

    again = resent_as_new(first, "MOLISA-2026-12-101", VIETINBANK, CREATED)

    assert again.data != first.data
    assert again.data == first.data.replace(b"MOLISA-2026-12-001", b"MOLISA-2026-12-101")


def test_a_csv_payroll_resent_as_new_is_the_same_bytes_since_csv_carries_no_message_id(
    rolls: list[Beneficiary],
) -> None:
    first = next(payroll_files(rolls, CYCLE, "csv", VIETINBANK, CREATED))

    again = resent_as_new(first, "MOLISA-2026-12-101", VIETINBANK, CREATED)

    assert again.data == first.data
    assert again.message_id != first.message_id


def test_a_pain001_resent_through_another_serving_bank_names_that_bank(rolls: list[Beneficiary]) -> None:
    first = next(payroll_files(rolls, CYCLE, "pain.001", VIETINBANK, CREATED))

    again = resent_as_new(first, "MOLISA-2026-12-101", AGRIBANK, CREATED)

    assert read_file("pain.001", again.data).debtor_agent == AGRIBANK
    assert items_of(again) == items_of(first)


@pytest.mark.parametrize("items_per_file", [0, -1, 100_001])
def test_files_needed_refuses_a_file_size_outside_the_file_limit(items_per_file: int) -> None:
    with pytest.raises(ValueError, match="items_per_file: must be between 1 and 100000"):
        files_needed(1_000, items_per_file)
