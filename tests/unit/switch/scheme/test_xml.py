"""What the wire formats share (`switch.scheme.xml`): text escaped as lxml escapes it, dates as
ISO writes them, fields gathered as ElementPath finds them, and the check of what is written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from iso_wire_data import CREATED, SAMPLE_REQUEST, creation_times
from lxml import etree

import switch.scheme.xml as scheme_xml
from switch.scheme.acmt import write_acmt024
from switch.scheme.codes import StatusReason, VerificationOutcome
from switch.scheme.messages import VerificationReport
from switch.scheme.pacs028 import write_pacs028
from switch.scheme.xml import escaped, escaped_attribute, fields_of, first_text, gather, iso_datetime

NS = "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.12"
# Any text Python holds but a lone surrogate (which fails to encode, for lxml and for us alike).
any_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=60)


def lxml_writes(text: str, attribute: bool) -> str:
    """What lxml writes for the text in an element or an attribute, or the error it raises."""
    element = etree.Element(f"{{{NS}}}Nm", nsmap={None: NS})
    try:
        if attribute:
            element.set("Ccy", text)
        else:
            element.text = text
    except ValueError as error:
        return f"ValueError: {error}"
    written = etree.tostring(element, encoding="UTF-8").decode()
    if attribute:
        return written.split('Ccy="', 1)[1].rsplit('"', 1)[0]
    return written.split(">", 1)[1].rsplit("</Nm>", 1)[0] if "</Nm>" in written else ""


def ours(escape: object, text: str) -> str:
    try:
        return escape(text)  # type: ignore[operator]
    except ValueError as error:
        return f"ValueError: {error}"


@given(text=any_text)
def test_any_text_is_escaped_between_tags_as_lxml_writes_it_or_refused_as_lxml_refuses_it(text: str) -> None:
    assert ours(escaped, text) == lxml_writes(text, attribute=False)


@given(text=any_text)
def test_any_text_is_escaped_in_an_attribute_as_lxml_writes_it_or_refused_as_lxml_refuses_it(text: str) -> None:
    assert ours(escaped_attribute, text) == lxml_writes(text, attribute=True)


def test_a_carriage_return_is_written_as_a_character_reference_so_it_reads_back() -> None:
    text = "Trần\r\nThị & <Hồng>"
    assert etree.fromstring(("<Nm>" + escaped(text) + "</Nm>").encode()).text == text


@given(moment=creation_times)
def test_a_date_and_time_is_written_to_the_millisecond_with_its_offset(moment: datetime) -> None:
    assert iso_datetime(moment) == moment.isoformat(timespec="milliseconds")


def test_an_offset_of_seconds_which_iso_cannot_write_is_refused() -> None:
    with pytest.raises(ValueError, match="whole minutes"):
        iso_datetime(datetime(2026, 12, 1, 8, 30, tzinfo=timezone(timedelta(hours=7, seconds=30))))
    assert iso_datetime(datetime(2026, 12, 1, 1, 30, 15, 250000, tzinfo=UTC)) == "2026-12-01T01:30:15.250+00:00"


# --- gathering fields as ElementPath finds them ------------------------------------------------------------

STEPS = ("A", "B", "C")


@st.composite
def trees(draw: st.DrawFn, depth: int = 0) -> etree._Element:
    """A small tree of A, B and C elements in one namespace, with texts (some empty), comments and
    elements of another namespace among them."""
    element = etree.Element(f"{{{NS}}}{draw(st.sampled_from(STEPS))}")
    element.text = draw(st.none() | st.sampled_from(["", "x", "Nguyễn Văn Đức"]))
    for _ in range(draw(st.integers(0, 3 if depth < 3 else 0))):
        kind = draw(st.sampled_from(["element", "element", "comment", "foreign"]))
        if kind == "comment":
            element.append(etree.Comment("a comment"))
        elif kind == "foreign":
            etree.SubElement(element, "{urn:other}A").text = "not ours"
        else:
            element.append(draw(trees(depth + 1)))
    return element


paths = st.lists(st.sampled_from(STEPS), min_size=1, max_size=3).map("/".join)


@given(tree=trees(), chosen=st.lists(paths, min_size=1, max_size=5, unique=True))
def test_gathered_fields_are_what_findtext_and_findall_find(tree: etree._Element, chosen: list[str]) -> None:
    fields = {f"field{number}": path for number, path in enumerate(chosen)}
    found = gather(tree, fields_of(NS, fields))
    for field, path in fields.items():
        clark = "/".join(f"{{{NS}}}{step}" for step in path.split("/"))
        assert first_text(found, field) == tree.findtext(clark)
        assert found.get(field, []) == tree.findall(clark)


def test_two_fields_at_one_path_are_a_mistake_of_the_reader() -> None:
    with pytest.raises(AssertionError, match="two fields at A/B"):
        fields_of(NS, {"one": "A/B", "two": "A/B"})


# --- the check of what is written ----------------------------------------------------------------------


def test_the_tests_check_every_document_written_against_iso_s_schema() -> None:
    assert scheme_xml.VALIDATE_WRITTEN  # tests/conftest.py turns it on; in use it is off


def test_a_writer_bug_is_an_assertion_when_checked_and_a_document_a_reader_refuses_when_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    report = VerificationReport(
        original_verification_id="VRF-1", agent="970405", outcome=VerificationOutcome.NMTC, reason=StatusReason.AC01
    ).model_copy(update={"holder_name_masked": "N" * 141})  # past the model's check: ISO's limit is 140
    with pytest.raises(AssertionError, match=r"acmt\.024\.001\.04 written is not valid"):
        write_acmt024(report, CREATED)
    monkeypatch.setattr(scheme_xml, "VALIDATE_WRITTEN", False)
    schema = scheme_xml.iso_schema("acmt.024.001.04")
    assert not schema.validate(etree.fromstring(write_acmt024(report, CREATED)))
    assert schema.validate(
        etree.fromstring(write_acmt024(report.model_copy(update={"holder_name_masked": None}), CREATED))
    )


def test_unchecked_the_same_document_is_written(monkeypatch: pytest.MonkeyPatch) -> None:
    checked = write_pacs028(SAMPLE_REQUEST, CREATED)
    monkeypatch.setattr(scheme_xml, "VALIDATE_WRITTEN", False)
    assert write_pacs028(SAMPLE_REQUEST, CREATED) == checked
