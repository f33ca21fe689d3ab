"""Bulk disbursement files in the payer API's JSON and CSV: the item model, parse, validate, write.

The sample files are in tests/data/payroll (its README says what each shows).
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from payroll_rows import a_row
from pydantic import ValidationError

from switch.scheme import disbursement
from switch.scheme.codes import Program, StatusReason
from switch.scheme.disbursement import (
    CSV_COLUMNS,
    ITEMS_PER_FILE_MAX,
    NO_ORIGIN,
    DisbursementFile,
    DisbursementItem,
    ItemOrigin,
    RowError,
    build_file,
    parse_csv,
    parse_json,
    write_csv,
    write_json,
)
from switch.scheme.identifiers import PROVINCE_NAMES
from switch.scheme.messages import AMOUNT_VND_MAX
from switch.scheme.validation import FieldProblem, MessageInvalid, problems_of

DATA = Path(__file__).resolve().parents[3] / "data" / "payroll"
HEADER = ",".join(CSV_COLUMNS) + "\n"
FF01, CH20, DUPL = StatusReason.FF01, StatusReason.CH20, StatusReason.DUPL

# The six payments of the sample files (tests/data/payroll), in file order.
SAMPLE_ROWS = [
    ("KBNN-2612-MP-000001", "001054012345", "Nguyễn Văn Hùng", 2_789_000, Program.MERIT_PERSON),
    ("KBNN-2612-MP-000002", "001158003217", "Nguyễn Thị Hoa", 2_789_000, Program.MERIT_PERSON),
    ("KBNN-2612-MP-000003", "079047001122", "Trần Văn Bình", 5_578_000, Program.MERIT_PERSON),
    ("KBNN-2612-SA-000001", "079140556677", "Lê Thị Mai", 750_000, Program.SOCIAL_ASSISTANCE),
    ("KBNN-2612-SA-000002", "001062334455", "Phạm Đức Thắng", 1_000_000, Program.SOCIAL_ASSISTANCE),
    ("KBNN-2612-SA-000003", "079135778899", "Hoàng Thị Lan Anh", 1_500_000, Program.SOCIAL_ASSISTANCE),
]
SAMPLE_ITEMS = [
    DisbursementItem(end_to_end_id=e, citizen_id=c, name=n, amount_vnd=a, program=p, cycle="2026-12")
    for e, c, n, a, p in SAMPLE_ROWS
]


def json_file(rows: list[Any], message_id: Any = "KBNN-2026-12-0001") -> bytes:
    return json.dumps({"message_id": message_id, "items": rows}, ensure_ascii=False).encode()


def csv_file(*lines: str) -> bytes:
    return (HEADER + "".join(line + "\n" for line in lines)).encode()


def csv_line(row: dict[str, Any]) -> str:
    return ",".join(str(row[c]) for c in CSV_COLUMNS)


def refusal(parse: Callable[[bytes], DisbursementFile], data: bytes) -> FieldProblem:
    """The one problem for which the whole file is refused."""
    with pytest.raises(MessageInvalid) as caught:
        parse(data)
    assert len(caught.value.problems) == 1, caught.value.problems
    return caught.value.problems[0]


def item_problems(raw: dict[str, Any]) -> list[FieldProblem]:
    with pytest.raises(ValidationError) as caught:
        DisbursementItem.model_validate(raw)
    return problems_of(caught.value)


def only_error(parsed: DisbursementFile) -> RowError:
    assert parsed.items == ()
    assert len(parsed.errors) == 1, parsed.errors
    return parsed.errors[0]


# --- strategies ----------------------------------------------------------------------------------

citizen_ids = st.builds(
    lambda province, century, year, serial: f"{province}{century}{year:02d}{serial:06d}",
    st.sampled_from(sorted(PROVINCE_NAMES)),
    st.integers(0, 3),  # born 1900-2099, men and women
    st.integers(0, 99),
    st.integers(0, 999_999),
)
cycles = st.builds(lambda year, month: f"{year}-{month:02d}", st.integers(2000, 2099), st.integers(1, 12))
vietnamese = "aăâbcdđeêghiklmnoôơpqrstuưvxyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ"
# Any text XML can carry (a file's ids and names travel on in the pain.002 report): no control
# characters (Cc) and no non-characters (Cn, among them U+FFFE and U+FFFF).
xml_characters = st.characters(codec="utf-8", exclude_categories=("Cc", "Cn"))
letters = st.sampled_from(vietnamese + vietnamese.upper() + " -'.,\"") | xml_characters


def items_of(chars: st.SearchStrategy[str]) -> st.SearchStrategy[list[DisbursementItem]]:
    """Lists of valid items with no repeat in the file (no end-to-end id or beneficiary twice)."""
    item = st.builds(
        DisbursementItem,
        end_to_end_id=st.text(chars, min_size=1, max_size=35),
        citizen_id=citizen_ids,
        name=st.text(chars, min_size=1, max_size=140).filter(
            lambda n: not any(ord(c) < 32 or ord(c) == 127 for c in n)
        ),
        amount_vnd=st.integers(1, AMOUNT_VND_MAX),
        program=st.sampled_from(list(Program)),
        cycle=cycles,
    )
    return st.lists(item, min_size=1, max_size=8, unique_by=(lambda i: i.end_to_end_id, lambda i: i.beneficiary_key))


message_ids = st.text(xml_characters, min_size=1, max_size=35)


# --- the item model ------------------------------------------------------------------------------


def test_a_valid_row_becomes_an_item_with_its_province_and_beneficiary_key() -> None:
    item = DisbursementItem.model_validate(a_row())
    assert item.program is Program.MERIT_PERSON
    assert item.province_code == "001"
    assert item.beneficiary_key == ("merit_person", "2026-12", "001158003217")


def test_an_item_cannot_be_changed_once_made() -> None:
    item = DisbursementItem.model_validate(a_row())
    with pytest.raises(ValidationError):
        item.amount_vnd = 1


def test_the_programs_are_the_four_welfare_programs() -> None:
    assert {p.value for p in Program} == {"merit_person", "social_assistance", "elderly", "disability"}


def test_the_file_limits_are_100_000_rows_and_enough_bytes_for_a_full_pain001() -> None:
    assert ITEMS_PER_FILE_MAX == 100_000
    assert disbursement.FILE_BYTES_MAX >= 60 * 1024 * 1024


@pytest.mark.parametrize("amount", [2_789_000.5, "2789000.5", "2789000.50", 0.5])
def test_a_fractional_amount_is_refused_with_CH20_because_VND_has_no_minor_unit(amount: object) -> None:
    [problem] = item_problems(a_row(amount_vnd=amount))
    assert (problem.field, problem.reason) == ("amount_vnd", CH20)
    assert "decimals" in problem.rule


@pytest.mark.parametrize(
    ("amount", "rule_says"),
    [
        (0, "greater than 0"),
        (-2_789_000, "greater than 0"),
        (AMOUNT_VND_MAX + 1, "per-transaction limit of 500,000,000 VND"),
        (2_789_000.0, "valid integer"),  # a whole float is still a wrong type
        ("2789000", "valid integer"),
        ("2.789.000", "valid integer"),
        (True, "boolean"),
        (None, "valid integer"),
        ([2_789_000], "valid integer"),
        (float("nan"), "valid integer"),
        (float("inf"), "valid integer"),
    ],
)
def test_an_amount_that_is_not_a_whole_positive_number_of_dong_is_refused_with_FF01(
    amount: object, rule_says: str
) -> None:
    [problem] = item_problems(a_row(amount_vnd=amount))
    assert (problem.field, problem.reason) == ("amount_vnd", FF01)
    assert rule_says in problem.rule


@pytest.mark.parametrize(
    ("citizen_id", "rule_says"),
    [
        ("00115800321", "12 digits"),
        ("0011580032177", "12 digits"),
        ("00115800321A", "12 digits"),
        ("001158003217\n", "12 digits"),
        ("001 158 003 217", "12 digits"),
        ("999158003217", "province code 999"),
        ("000158003217", "province code 000"),
        ("001458003217", "in the future"),  # century digit 4: born 2158
        (1158003217, "valid string"),  # a number: its leading zeros are gone
    ],
)
def test_a_citizen_id_that_is_not_a_cccd_is_refused_naming_the_rule(citizen_id: object, rule_says: str) -> None:
    [problem] = item_problems(a_row(citizen_id=citizen_id))
    assert (problem.field, problem.reason) == ("citizen_id", FF01)
    assert rule_says in problem.rule


@pytest.mark.parametrize(
    "cycle", ["2026-13", "2026-00", "2026-1", "26-12", "1999-12", "2026/12", "12-2026", "2026-12\n"]
)
def test_a_cycle_that_is_not_a_month_written_YYYY_MM_is_refused(cycle: str) -> None:
    [problem] = item_problems(a_row(cycle=cycle))
    assert (problem.field, problem.reason) == ("cycle", FF01)
    assert "pattern" in problem.rule


@pytest.mark.parametrize("program", ["pension", "Merit_Person", "merit person", "", 1])
def test_a_program_other_than_the_four_is_refused_naming_them(program: object) -> None:
    [problem] = item_problems(a_row(program=program))
    assert (problem.field, problem.reason) == ("program", FF01)
    assert "merit_person" in problem.rule


@pytest.mark.parametrize(
    ("field", "value", "rule_says"),
    [
        ("end_to_end_id", "E" * 36, "at most 35"),
        ("end_to_end_id", "", "at least 1"),
        ("name", "Nguyễn Thị Hoa " * 10, "at most 140"),
        ("name", "", "at least 1"),
        ("name", None, "valid string"),
    ],
)
def test_text_that_breaks_its_length_or_type_is_refused(field: str, value: object, rule_says: str) -> None:
    [problem] = item_problems(a_row(**{field: value}))
    assert (problem.field, problem.reason) == (field, FF01)
    assert rule_says in problem.rule


def test_an_item_with_an_unknown_field_or_a_missing_field_is_refused() -> None:
    raw = a_row(bank_account="0011004123456")
    del raw["cycle"]
    problems = {(p.field, p.rule) for p in item_problems(raw)}
    assert problems == {("bank_account", "Extra inputs are not permitted"), ("cycle", "Field required")}


# --- JSON ----------------------------------------------------------------------------------------


def test_the_sample_json_file_holds_the_six_payments() -> None:
    data = (DATA / "payroll_2026-12.json").read_bytes()
    parsed = parse_json(data)
    assert parsed.message_id == "KBNN-2026-12-0001"
    assert list(parsed.items) == SAMPLE_ITEMS
    assert parsed.errors == ()
    assert (parsed.rows_total, parsed.item_rows) == (6, (1, 2, 3, 4, 5, 6))
    assert (parsed.source_format, parsed.debtor_agent) == ("json", None)
    assert parsed.digest == hashlib.sha256(data).hexdigest()


def test_json_is_written_as_utf8_with_the_vietnamese_letters_as_they_are() -> None:
    data = write_json("KBNN-2026-12-0001", SAMPLE_ITEMS)
    assert "Nguyễn Thị Hoa".encode() in data
    assert json.loads(data)["items"][0] == {
        "end_to_end_id": "KBNN-2612-MP-000001",
        "citizen_id": "001054012345",
        "name": "Nguyễn Văn Hùng",
        "amount_vnd": 2_789_000,
        "program": "merit_person",
        "cycle": "2026-12",
    }


@given(message_id=message_ids, items=items_of(letters))
def test_a_json_file_read_back_gives_the_same_message_id_and_items(
    message_id: str, items: list[DisbursementItem]
) -> None:
    parsed = parse_json(write_json(message_id, items))
    assert parsed.message_id == message_id
    assert list(parsed.items) == items
    assert parsed.errors == ()
    assert parsed.item_rows == tuple(range(1, len(items) + 1))


def test_malformed_json_refuses_the_whole_file() -> None:
    problem = refusal(parse_json, (DATA / "payroll_malformed.json").read_bytes())
    assert (problem.field, problem.reason) == ("file", FF01)
    assert problem.rule.startswith("not valid JSON")


def test_json_that_is_not_utf8_is_refused_as_invalid_json() -> None:
    problem = refusal(parse_json, json_file([a_row(name="Nguyễn Thị Hoa")]).replace("ễ".encode(), b"\xea\xde"))
    assert problem.field == "file"
    assert "not valid JSON" in problem.rule


@pytest.mark.parametrize("document", [[a_row()], "KBNN-2026-12-0001", 42, None, True])
def test_json_that_is_not_an_object_refuses_the_whole_file(document: object) -> None:
    problem = refusal(parse_json, json.dumps(document).encode())
    assert (problem.field, problem.rule) == ("file", "must be a JSON object with message_id and items")


@pytest.mark.parametrize("items", [{"1": a_row()}, "[]", None, 6])
def test_items_that_are_not_a_list_refuse_the_whole_file(items: object) -> None:
    problem = refusal(parse_json, json.dumps({"message_id": "KBNN-2026-12-0001", "items": items}).encode())
    assert (problem.field, problem.rule) == ("items", "must be a list of rows")


def test_a_json_file_without_items_refuses_the_whole_file() -> None:
    problem = refusal(parse_json, b'{"message_id": "KBNN-2026-12-0001"}')
    assert (problem.field, problem.rule) == ("items", "must be a list of rows")


@pytest.mark.parametrize("message_id", [None, "", "M" * 36, 20261201])
def test_a_json_message_id_that_is_not_text_of_1_to_35_characters_refuses_the_file(message_id: object) -> None:
    problem = refusal(parse_json, json_file([a_row()], message_id=message_id))
    assert (problem.field, problem.rule) == ("message_id", "must be text of 1 to 35 characters")


def test_a_json_file_with_an_empty_list_of_items_is_refused_for_having_no_rows() -> None:
    problem = refusal(parse_json, json_file([]))
    assert (problem.field, problem.rule) == ("items", "the file has no rows")


@pytest.mark.parametrize("data", [b"", b"   \n\t\r\n"])
def test_an_empty_json_file_is_refused_as_empty(data: bytes) -> None:
    problem = refusal(parse_json, data)
    assert (problem.field, problem.rule) == ("file", "the file is empty")


def test_a_json_row_that_is_not_an_object_gets_its_own_error_and_the_other_rows_are_kept() -> None:
    parsed = parse_json(json_file([a_row(), csv_line(a_row(end_to_end_id="E2")), None, [1, 2]]))
    assert [i.end_to_end_id for i in parsed.items] == ["KBNN-2612-MP-000002"]
    assert parsed.errors == tuple(RowError(n, "(row)", "must be a JSON object", FF01) for n in (2, 3, 4))
    assert parsed.rows_total == 4


def test_the_sample_json_with_bad_rows_keeps_the_good_rows_and_names_each_fault() -> None:
    parsed = parse_json((DATA / "payroll_bad_rows.json").read_bytes())
    assert parsed.item_rows == (1, 7)
    assert [(e.row, e.field, e.reason) for e in parsed.errors] == [
        (2, "amount_vnd", CH20),  # 750000.5
        (3, "amount_vnd", FF01),  # "1000000", a string
        (4, "citizen_id", FF01),  # a number
        (5, "(row)", FF01),  # a CSV line, not an object
        (6, "citizen_id", DUPL),  # the same person as row 1, another end-to-end id
    ]
    assert parsed.errors[2].rule == "Input should be a valid string"
    assert parsed.errors[0].end_to_end_id == "KBNN-2612-SA-000001"


def test_a_fractional_amount_in_a_json_row_is_refused_with_CH20() -> None:
    error = only_error(parse_json(json_file([a_row(amount_vnd=2_789_000.5)])))
    assert (error.row, error.field, error.reason) == (1, "amount_vnd", CH20)


def test_a_json_row_error_carries_the_rows_end_to_end_id_cut_to_35_characters() -> None:
    parsed = parse_json(json_file([a_row(end_to_end_id="E" * 40), a_row(end_to_end_id=40, citizen_id="079047001122")]))
    assert [e.end_to_end_id for e in parsed.errors] == ["E" * 35, None]


def test_a_json_file_with_more_rows_than_the_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(disbursement, "ITEMS_PER_FILE_MAX", 3)
    rows = [a_row(end_to_end_id=f"E{n}", citizen_id=f"00115800321{n}") for n in range(4)]
    assert len(parse_json(json_file(rows[:3])).items) == 3
    problem = refusal(parse_json, json_file(rows))
    assert problem.field == "items"
    assert problem.rule == "4 rows is over the limit of 3 per file"


def test_a_json_file_larger_than_the_byte_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    data = json_file([a_row()])
    monkeypatch.setattr(disbursement, "FILE_BYTES_MAX", len(data))
    assert len(parse_json(data).items) == 1
    problem = refusal(parse_json, data + b" ")
    assert problem.field == "file"
    assert problem.rule == f"{len(data) + 1} bytes is over the limit of {len(data)} bytes"


def test_deeply_nested_json_is_refused_as_invalid_json_not_a_crash() -> None:
    problem = refusal(parse_json, b'{"message_id": "M", "items": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}")
    assert problem.field == "file"


@given(st.binary(max_size=300))
@example(b"\xff\xfe{\x00}\x00")
@example(b'{"message_id": "M", "items": [{"amount_vnd": 1e999}]}')
def test_any_bytes_given_as_json_are_either_read_or_refused_with_named_problems(data: bytes) -> None:
    try:
        parsed = parse_json(data)
    except MessageInvalid as error:
        assert all(p.field and p.rule for p in error.problems)
    else:
        assert parsed.rows_total == len(parsed.item_rows) + len({e.row for e in parsed.errors})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from([*CSV_COLUMNS, "x"]), inner, max_size=7)
    ),
    max_leaves=20,
)


@given(
    rows=st.lists(
        json_values | st.fixed_dictionaries({}, optional={k: st.just(v) for k, v in a_row().items()}), max_size=5
    )
)
def test_any_json_rows_are_each_accepted_or_given_errors_naming_a_field(rows: list[Any]) -> None:
    try:
        parsed = parse_json(json_file(rows))
    except MessageInvalid as error:
        assert [p.field for p in error.problems] == ["items"]  # only when there is no row
        assert rows == []
        return
    assert parsed.rows_total == len(rows)
    refused = {e.row for e in parsed.errors}
    assert refused.isdisjoint(parsed.item_rows)
    assert refused | set(parsed.item_rows) == set(range(1, len(rows) + 1))
    assert all(e.field and e.rule for e in parsed.errors)


# --- CSV -----------------------------------------------------------------------------------------


def test_the_sample_csv_file_holds_the_same_six_payments_as_the_json() -> None:
    data = (DATA / "payroll_2026-12.csv").read_bytes()
    parsed = parse_csv(data)
    assert list(parsed.items) == SAMPLE_ITEMS
    assert parsed.errors == ()
    assert (parsed.rows_total, parsed.item_rows) == (6, (1, 2, 3, 4, 5, 6))
    assert parsed.source_format == "csv"
    assert parsed.digest == hashlib.sha256(data).hexdigest()


def test_csv_is_written_with_the_header_line_first() -> None:
    lines = write_csv(SAMPLE_ITEMS).decode().split("\n")
    assert lines[0] == "end_to_end_id,citizen_id,name,amount_vnd,program,cycle"
    assert lines[2] == "KBNN-2612-MP-000002,001158003217,Nguyễn Thị Hoa,2789000,merit_person,2026-12"


@given(items=items_of(letters.filter(lambda c: c != "\r")))
def test_a_csv_file_read_back_gives_the_same_items(items: list[DisbursementItem]) -> None:
    parsed = parse_csv(write_csv(items), message_id="KBNN-2026-12-0001")
    assert list(parsed.items) == items
    assert parsed.errors == ()
    assert parsed.message_id == "KBNN-2026-12-0001"


def test_a_name_with_a_carriage_return_is_refused_so_no_file_written_can_split_a_row() -> None:
    with pytest.raises(ValidationError) as refused:
        DisbursementItem.model_validate(a_row(name="Nguyễn Thị\rHoa"))
    assert refused.value.errors()[0]["loc"] == ("name",)


def test_a_csv_message_id_defaults_to_one_taken_from_the_digest_so_the_same_bytes_give_the_same_id() -> None:
    data = (DATA / "payroll_2026-12.csv").read_bytes()
    first, again = parse_csv(data), parse_csv(bytes(data))
    assert first.message_id == again.message_id == "CSV-" + hashlib.sha256(data).hexdigest()[:24]
    assert len(first.message_id) <= 35
    other = parse_csv(data.replace(b"2789000", b"2789001", 1))
    assert other.message_id != first.message_id


def test_a_csv_message_id_given_by_the_sender_is_used() -> None:
    parsed = parse_csv((DATA / "payroll_2026-12.csv").read_bytes(), message_id="KBNN-2026-12-0001")
    assert parsed.message_id == "KBNN-2026-12-0001"


@pytest.mark.parametrize("message_id", ["", "M" * 36])
def test_a_csv_message_id_given_out_of_bounds_refuses_the_file(message_id: str) -> None:
    problem = refusal(lambda data: parse_csv(data, message_id=message_id), csv_file(csv_line(a_row())))
    assert (problem.field, problem.rule) == ("message_id", "must be text of 1 to 35 characters")


def test_a_csv_file_with_a_semicolon_header_is_refused_naming_the_header_expected() -> None:
    problem = refusal(parse_csv, (DATA / "payroll_bad_header.csv").read_bytes())
    assert (problem.field, problem.reason) == ("header", FF01)
    assert problem.rule == "the first line must be end_to_end_id,citizen_id,name,amount_vnd,program,cycle"


@pytest.mark.parametrize(
    "header",
    [
        "end_to_end_id,citizen_id,name,amount_vnd,program",  # a column short
        "citizen_id,end_to_end_id,name,amount_vnd,program,cycle",  # columns swapped
        "END_TO_END_ID,CITIZEN_ID,NAME,AMOUNT_VND,PROGRAM,CYCLE",
        "KBNN-2612-MP-000002,001158003217,Nguyễn Thị Hoa,2789000,merit_person,2026-12",  # no header at all
    ],
)
def test_a_csv_file_whose_first_line_is_not_the_header_is_refused(header: str) -> None:
    problem = refusal(parse_csv, (header + "\n" + csv_line(a_row()) + "\n").encode())
    assert problem.field == "header"


def test_a_csv_header_with_a_byte_order_mark_or_spaces_around_the_names_is_accepted() -> None:
    header = " end_to_end_id , citizen_id,name,amount_vnd,program,cycle \n"
    parsed = parse_csv(b"\xef\xbb\xbf" + (header + csv_line(a_row()) + "\n").encode())
    assert [i.name for i in parsed.items] == ["Nguyễn Thị Hoa"]


def test_a_csv_file_with_windows_line_endings_is_read() -> None:
    data = csv_file(csv_line(a_row())).replace(b"\n", b"\r\n")
    assert [i.end_to_end_id for i in parse_csv(data).items] == ["KBNN-2612-MP-000002"]


def test_a_csv_file_in_the_windows_1258_code_page_is_refused_as_not_utf8() -> None:
    problem = refusal(parse_csv, (DATA / "payroll_windows_1258.csv").read_bytes())
    assert (problem.field, problem.reason) == ("file", FF01)
    assert problem.rule.startswith("not UTF-8 text")


@pytest.mark.parametrize("data", [b"", b"\n\n  \r\n"])
def test_an_empty_csv_file_is_refused_as_empty(data: bytes) -> None:
    problem = refusal(parse_csv, data)
    assert (problem.field, problem.rule) == ("file", "the file is empty")


def test_a_csv_file_with_only_the_header_is_refused_for_having_no_rows() -> None:
    problem = refusal(parse_csv, HEADER.encode())
    assert (problem.field, problem.rule) == ("items", "the file has no rows")


def test_the_sample_csv_with_bad_rows_keeps_the_good_rows_and_names_each_fault() -> None:
    parsed = parse_csv((DATA / "payroll_bad_rows.csv").read_bytes())
    assert parsed.item_rows == (1, 11)
    assert parsed.rows_total == 11
    assert [(e.row, e.field, e.reason) for e in parsed.errors] == [
        (2, "amount_vnd", CH20),  # 750000.50
        (3, "amount_vnd", FF01),  # 0
        (4, "amount_vnd", FF01),  # -1500000
        (5, "program", FF01),  # pension
        (6, "cycle", FF01),  # 2026-13
        (7, "citizen_id", FF01),  # province 999
        (8, "(row)", FF01),  # five columns
        (9, "end_to_end_id", DUPL),  # row 1's end-to-end id again
        (10, "citizen_id", DUPL),  # row 1's beneficiary again, same program and cycle
    ]
    rules = {e.row: e.rule for e in parsed.errors}
    assert rules[7] == "province code 999 is not a CCCD province code"
    assert rules[8] == "must have 6 columns, has 5"
    assert [e.end_to_end_id for e in parsed.errors if e.row in (2, 8, 9)] == [
        "KBNN-2612-SA-000001",
        None,
        "KBNN-2612-MP-000001",
    ]


def test_a_fractional_amount_in_a_csv_row_is_refused_with_CH20() -> None:
    error = only_error(parse_csv(csv_file(csv_line(a_row(amount_vnd="2789000.50")))))
    assert (error.row, error.field, error.reason) == (1, "amount_vnd", CH20)
    assert error.end_to_end_id == "KBNN-2612-MP-000002"


@pytest.mark.parametrize(
    "amount", ["2789000.00", "2.789.000", '"2,789,000"', "2789000đ", "", "1e6", "+2789000", "0", "-5"]
)
def test_a_csv_amount_that_is_not_a_whole_positive_number_of_dong_is_refused_with_FF01(amount: str) -> None:
    error = only_error(parse_csv(csv_file(csv_line(a_row(amount_vnd=amount)))))
    assert (error.field, error.reason) == ("amount_vnd", FF01)


def test_a_csv_amount_with_spaces_around_it_is_read_as_the_number() -> None:
    parsed = parse_csv(csv_file(csv_line(a_row(amount_vnd=" 2789000 "))))
    assert [i.amount_vnd for i in parsed.items] == [2_789_000]


@pytest.mark.parametrize(
    ("line", "count"),
    [
        ("KBNN-2612-MP-000002,001158003217,Nguyễn Thị Hoa,2789000,merit_person", 5),
        ("KBNN-2612-MP-000002,001158003217,Nguyễn, Thị Hoa,2789000,merit_person,2026-12", 7),
        ("", 0),
    ],
)
def test_a_csv_row_with_the_wrong_number_of_columns_gets_one_error_and_the_other_rows_are_kept(
    line: str, count: int
) -> None:
    parsed = parse_csv(csv_file(line, csv_line(a_row(end_to_end_id="E2"))))
    assert parsed.errors == (RowError(1, "(row)", f"must have 6 columns, has {count}", FF01),)
    assert parsed.item_rows == (2,)


def test_a_quoted_csv_name_with_a_comma_is_one_field_and_one_with_a_line_break_is_refused() -> None:
    parsed = parse_csv(csv_file(csv_line(a_row(name='"Nguyễn Thị Hoa, con ông Hùng"'))))
    assert [i.name for i in parsed.items] == ["Nguyễn Thị Hoa, con ông Hùng"]
    broken = parse_csv(csv_file(csv_line(a_row(name='"Nguyễn Thị Hoa\nNguyễn Văn Hùng"'))))
    assert broken.items == () and [e.field for e in broken.errors] == ["name"]


def test_a_csv_file_with_more_rows_than_the_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(disbursement, "ITEMS_PER_FILE_MAX", 3)
    lines = [csv_line(a_row(end_to_end_id=f"E{n}", citizen_id=f"00115800321{n}")) for n in range(5)]
    assert len(parse_csv(csv_file(*lines[:3])).items) == 3
    problem = refusal(parse_csv, csv_file(*lines))
    assert problem.field == "items"
    assert "over the limit of 3 per file" in problem.rule


def test_a_csv_file_larger_than_the_byte_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    data = csv_file(csv_line(a_row()))
    monkeypatch.setattr(disbursement, "FILE_BYTES_MAX", len(data))
    assert len(parse_csv(data).items) == 1
    problem = refusal(parse_csv, data + b"\n")
    assert problem.field == "file"
    assert "over the limit" in problem.rule


def test_a_csv_field_of_200_000_characters_is_refused_with_an_error_not_a_crash() -> None:
    data = csv_file(csv_line(a_row(name="Nguyễn Thị Hoa" * 15_000)))
    try:
        parsed = parse_csv(data)
    except MessageInvalid as error:
        assert error.problems
    else:
        assert only_error(parsed).field == "name"


@given(st.binary(max_size=300))
@example(b"end_to_end_id,citizen_id,name,amount_vnd,program,cycle\n\x00,\xc3\xa9")
def test_any_bytes_given_as_csv_are_either_read_or_refused_with_named_problems(data: bytes) -> None:
    try:
        parsed = parse_csv(data)
    except MessageInvalid as error:
        assert all(p.field and p.rule for p in error.problems)
    else:
        assert parsed.rows_total == len(parsed.item_rows) + len({e.row for e in parsed.errors})


# --- duplicates within one file ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parse", "make"),
    [
        (parse_json, lambda rows: json_file(rows)),
        (parse_csv, lambda rows: csv_file(*map(csv_line, rows))),
    ],
    ids=["json", "csv"],
)
def test_a_repeated_end_to_end_id_refuses_the_later_row_with_DUPL(
    parse: Callable[[bytes], DisbursementFile], make: Callable[[list[dict[str, Any]]], bytes]
) -> None:
    first = a_row()
    again = a_row(citizen_id="079047001122", name="Trần Văn Bình")  # another person, the same id
    parsed = parse(make([first, again]))
    assert parsed.item_rows == (1,)
    [error] = parsed.errors
    assert (error.row, error.field, error.reason, error.end_to_end_id) == (
        2,
        "end_to_end_id",
        DUPL,
        first["end_to_end_id"],
    )


@pytest.mark.parametrize(
    ("parse", "make"),
    [
        (parse_json, lambda rows: json_file(rows)),
        (parse_csv, lambda rows: csv_file(*map(csv_line, rows))),
    ],
    ids=["json", "csv"],
)
def test_the_same_beneficiary_twice_for_one_program_and_cycle_refuses_the_later_row_with_DUPL(
    parse: Callable[[bytes], DisbursementFile], make: Callable[[list[dict[str, Any]]], bytes]
) -> None:
    parsed = parse(make([a_row(end_to_end_id="E1"), a_row(end_to_end_id="E2", amount_vnd=1)]))
    assert [i.end_to_end_id for i in parsed.items] == ["E1"]
    [error] = parsed.errors
    assert (error.row, error.field, error.reason, error.end_to_end_id) == (2, "citizen_id", DUPL, "E2")


def test_the_same_beneficiary_in_another_program_or_cycle_is_paid_in_the_same_file() -> None:
    parsed = parse_json(
        json_file(
            [
                a_row(end_to_end_id="E1"),
                a_row(end_to_end_id="E2", program="disability"),
                a_row(end_to_end_id="E3", cycle="2027-01"),
            ]
        )
    )
    assert parsed.errors == ()
    assert len(parsed.items) == 3


def test_each_repeat_is_reported_in_row_order_among_the_other_errors() -> None:
    rows = [a_row(end_to_end_id="E1"), a_row(end_to_end_id="E2", cycle="2026-13"), a_row(end_to_end_id="E1"), "x"]
    parsed = parse_json(json_file(rows))
    assert [(e.row, e.reason) for e in parsed.errors] == [(2, FF01), (3, DUPL), (4, FF01)]


# --- build_file: the rule for all formats --------------------------------------------------------


def test_building_a_file_never_changes_the_rows_given() -> None:
    rows: list[dict[str, Any]] = [
        a_row(end_to_end_id="E1", amount_vnd=2_789_000),
        a_row(end_to_end_id="E2", amount_vnd="2789000.5"),
        a_row(end_to_end_id="E1"),
        {"end_to_end_id": ["E4"], "unknown": {"nested": [1, 2]}},
    ]
    before = copy.deepcopy(rows)
    built = build_file("KBNN-2026-12-0001", rows, "0" * 64, "json", debtor_agent="999999")
    assert rows == before
    assert (built.item_rows, built.rows_total, built.debtor_agent) == ((1,), 4, "999999")


def test_building_a_file_merges_the_errors_found_before_in_row_order() -> None:
    earlier = RowError(2, "(row)", "must be a JSON object", FF01)
    built = build_file(
        "M", [a_row(end_to_end_id="E1"), a_row(end_to_end_id="E1"), a_row(cycle="x")], "d", "json", None, [earlier]
    )
    assert [(e.row, e.field) for e in built.errors] == [(2, "(row)"), (2, "end_to_end_id"), (3, "cycle")]


def test_writing_leaves_the_items_given_unchanged() -> None:
    items = list(SAMPLE_ITEMS)
    before = copy.deepcopy(items)
    write_json("KBNN-2026-12-0001", items)
    write_csv(items)
    assert items == before


def test_a_file_must_give_a_row_number_for_every_item() -> None:
    item = DisbursementItem.model_validate(a_row())
    with pytest.raises(AssertionError, match="row number"):
        DisbursementFile("M", (item,), (), 1, "d", "json", None, ())


def test_building_a_file_keeps_each_accepted_rows_origin_and_gives_each_refused_row_its_pmtinfid() -> None:
    rows = [a_row(end_to_end_id="E1"), a_row(end_to_end_id="E2", amount_vnd=0), a_row(end_to_end_id="E1")]
    origins = [ItemOrigin("Lô 1", "SSBE", None), ItemOrigin("Lô 1", "SSBE", None), ItemOrigin("Lô 2", "PENS", "PENS")]
    built = build_file("KBNN-2026-12-0001", rows, "d", "pain.001", "999999", origins=origins)
    assert (built.item_rows, built.item_origins) == ((1,), (ItemOrigin("Lô 1", "SSBE", None),))
    assert [(e.row, e.reason, e.payment_info_id) for e in built.errors] == [(2, FF01, "Lô 1"), (3, DUPL, "Lô 2")]


def test_a_json_or_csv_file_has_no_origin_for_its_items() -> None:
    parsed = parse_json(json.dumps({"message_id": "M", "items": [a_row(), a_row(amount_vnd=0)]}).encode())
    assert (parsed.item_origins, parsed.origins()) == ((), (NO_ORIGIN,))
    [error] = parsed.errors
    assert (error.row, error.payment_info_id) == (2, None)
    assert parse_csv(write_csv(parsed.items), "M").origins() == (NO_ORIGIN,)


def test_a_file_must_give_an_origin_for_every_item_or_for_none() -> None:
    item = DisbursementItem.model_validate(a_row())
    with pytest.raises(AssertionError, match="origin"):
        DisbursementFile("M", (item,), (), 1, "d", "pain.001", None, (1,), (NO_ORIGIN, NO_ORIGIN))
