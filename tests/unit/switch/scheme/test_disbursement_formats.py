"""switch.scheme.disbursement.read_file and read_upload: a disbursement file's format chosen by its name
or by the upload's media type, the one place a format is dispatched; unknown ones refused naming the
field and the rule."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from switch.scheme.calendar import VIETNAM
from switch.scheme.codes import Program, StatusReason
from switch.scheme.disbursement import (
    FORMAT_OF_MEDIA_TYPE,
    FORMATS,
    DisbursementFile,
    DisbursementItem,
    parse_csv,
    parse_json,
    read_file,
    read_upload,
    write_csv,
    write_json,
)
from switch.scheme.pain import parse_pain001, write_pain001
from switch.scheme.validation import FieldProblem, MessageInvalid

MESSAGE_ID = "MOLISA-2026-12-001"
VIETINBANK = "970415"  # the Treasury's serving bank, the pain.001's debtor agent
CREATED = datetime(2026, 12, 1, 8, 0, tzinfo=VIETNAM)
ITEMS = [
    DisbursementItem(
        end_to_end_id="202612MP00000001", citizen_id="001054012345", name="Nguyễn Văn Đức",
        amount_vnd=2_789_000, program=Program.MERIT_PERSON, cycle="2026-12",
    ),
    DisbursementItem(
        end_to_end_id="202612SA00000002", citizen_id="079140556677", name="Lê Thị Mai",
        amount_vnd=750_000, program=Program.SOCIAL_ASSISTANCE, cycle="2026-12",
    ),
    DisbursementItem(
        end_to_end_id="202612MP00000003", citizen_id="079047001122", name="Trần Văn Bình",
        amount_vnd=5_578_000, program=Program.MERIT_PERSON, cycle="2026-12",
    ),
]  # fmt: skip


def written(format_name: str, items: list[DisbursementItem] = ITEMS) -> bytes:
    if format_name == "json":
        return write_json(MESSAGE_ID, items)
    if format_name == "csv":
        return write_csv(items)
    assert format_name == "pain.001"
    return write_pain001(MESSAGE_ID, CREATED, "Bộ Lao động - Thương binh và Xã hội", VIETINBANK, "1200100000001", items)


def parsed_directly(format_name: str, data: bytes, message_id: str | None = None) -> DisbursementFile:
    if format_name == "json":
        return parse_json(data)
    if format_name == "csv":
        return parse_csv(data, message_id)
    return parse_pain001(data)


def refusal(read: Callable[..., DisbursementFile], *args: object) -> FieldProblem:
    """The one problem for which the whole file is refused."""
    with pytest.raises(MessageInvalid) as caught:
        read(*args)
    assert len(caught.value.problems) == 1, caught.value.problems
    return caught.value.problems[0]


# --- by name -------------------------------------------------------------------------------------------


def test_the_formats_are_json_csv_and_pain001() -> None:
    assert FORMATS == ("json", "csv", "pain.001")


@pytest.mark.parametrize("format_name", FORMATS)
def test_read_file_reads_each_format_as_its_own_parser_does(format_name: str) -> None:
    data = written(format_name)

    file = read_file(format_name, data, MESSAGE_ID)

    assert file == parsed_directly(format_name, data, MESSAGE_ID)
    assert file.source_format == format_name
    assert file.message_id == MESSAGE_ID
    assert file.errors == ()
    assert file.rows_total == 3
    assert sorted(file.items, key=lambda i: i.end_to_end_id) == sorted(ITEMS, key=lambda i: i.end_to_end_id)


def test_read_file_keeps_the_order_of_a_json_or_csv_file() -> None:
    assert list(read_file("json", written("json")).items) == ITEMS
    assert list(read_file("csv", written("csv"), MESSAGE_ID).items) == ITEMS


def test_a_pain001_read_by_name_names_its_debtor_agent_and_json_and_csv_do_not() -> None:
    assert read_file("pain.001", written("pain.001")).debtor_agent == VIETINBANK
    assert read_file("json", written("json")).debtor_agent is None
    assert read_file("csv", written("csv"), MESSAGE_ID).debtor_agent is None


def test_a_csv_read_without_a_message_id_takes_one_from_its_digest() -> None:
    data = written("csv")

    file = read_file("csv", data)

    assert file.message_id == f"CSV-{file.digest[:24]}"
    assert file == parse_csv(data)


@pytest.mark.parametrize("format_name", ["json", "pain.001"])
def test_json_and_pain001_carry_their_own_message_id_whatever_is_given(format_name: str) -> None:
    assert read_file(format_name, written(format_name), "MOLISA-2026-12-999").message_id == MESSAGE_ID


@pytest.mark.parametrize("format_name", ["xlsx", "JSON", "pain.002", "", "csv "])
def test_an_unknown_format_name_is_refused_naming_the_format_and_the_ones_there_are(format_name: str) -> None:
    problem = refusal(read_file, format_name, written("json"), MESSAGE_ID)

    assert problem.field == "format"
    assert problem.rule == f"must be one of json, csv, pain.001, not {format_name!r}"
    assert problem.reason == StatusReason.FF01


def test_read_file_passes_on_a_fault_of_the_file_itself_from_its_parser() -> None:
    assert refusal(read_file, "json", b"{not json", None).field == "file"
    assert refusal(read_file, "csv", b"so_cccd,ho_ten\n001054012345,Nguyen\n", MESSAGE_ID).field == "header"
    assert refusal(read_file, "pain.001", b"<Document/>", None).field == "Document"


def test_a_json_file_read_as_csv_is_refused_for_its_header() -> None:
    problem = refusal(read_file, "csv", written("json"), MESSAGE_ID)

    assert problem.field == "header"


# --- by media type ------------------------------------------------------------------------------------


def test_every_media_type_names_one_of_the_formats() -> None:
    assert FORMAT_OF_MEDIA_TYPE == {
        "application/json": "json",
        "text/csv": "csv",
        "application/xml": "pain.001",
        "text/xml": "pain.001",
    }
    assert set(FORMAT_OF_MEDIA_TYPE.values()) == set(FORMATS)


@pytest.mark.parametrize(("media_type", "format_name"), sorted(FORMAT_OF_MEDIA_TYPE.items()))
def test_an_upload_is_read_in_the_format_of_its_media_type(media_type: str, format_name: str) -> None:
    data = written(format_name)

    file = read_upload(media_type, data, MESSAGE_ID)

    assert file == read_file(format_name, data, MESSAGE_ID)
    assert file.source_format == format_name
    assert file.message_id == MESSAGE_ID


def test_a_csv_upload_takes_the_message_id_it_is_given() -> None:
    assert read_upload("text/csv", written("csv"), "MOLISA-2026-12-002").message_id == "MOLISA-2026-12-002"


@pytest.mark.parametrize("media_type", ["text/plain", "application/vnd.ms-excel", "multipart/form-data"])
def test_an_upload_of_another_media_type_is_refused_naming_the_content_type(media_type: str) -> None:
    problem = refusal(read_upload, media_type, written("json"), MESSAGE_ID)

    assert problem.field == "Content-Type"
    assert problem.rule == (f"must be one of application/json, text/csv, application/xml, text/xml, not {media_type!r}")
    assert problem.reason == StatusReason.FF01


def test_an_upload_with_no_content_type_is_refused_as_missing() -> None:
    problem = refusal(read_upload, "", written("json"), MESSAGE_ID)

    assert problem.field == "Content-Type"
    assert "missing" in problem.rule
    assert problem.rule.startswith("must be one of application/json, text/csv, application/xml, text/xml")


def test_an_upload_whose_body_is_not_its_media_type_is_refused_by_that_formats_parser() -> None:
    problem = refusal(read_upload, "application/xml", written("json"), MESSAGE_ID)

    assert problem.field == "file"
    assert problem.rule.startswith("not well-formed XML")
