"""head.001.001.02, the Business Application Header (`switch.scheme.head`): written, read, refused.

A header written is checked again with `xmlschema` against the shipped XSD; headers built by
`pyiso20022` are read (tests/data/iso20022/head.001.001.02-pyiso20022.xml is one).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime
from typing import Any

import built_by_lxml
import pytest
import xmlschema
from hypothesis import given
from hypothesis import strategies as st
from iso_wire_data import (
    BIDV,
    CREATED,
    NAPAS,
    SAMPLE_STATUS_CREATED,
    SAMPLE_STATUS_MESSAGE_ID,
    SAMPLES,
    VIETCOMBANK,
    XSD_DIR,
    creation_times,
    ids,
    member_ids,
    pyiso_header,
    rendered,
)
from lxml import etree

from switch.scheme.head import HEAD, BusinessHeader, header_element, header_from_element
from switch.scheme.validation import FieldProblem, MessageInvalid
from switch.scheme.xml import serialised

XSD = xmlschema.XMLSchema(str(XSD_DIR / "head.001.001.02.xsd"))
SAMPLE = SAMPLES / "head.001.001.02-pyiso20022.xml"
NS = {"h": HEAD}
DEFINITIONS = ("pacs.008.001.12", "pacs.002.001.12", "pacs.028.001.05", "acmt.023.001.04", "acmt.024.001.04")
HEADER = BusinessHeader(VIETCOMBANK, NAPAS, "VCB-20261201-000042", "pacs.008.001.12", CREATED)

headers = st.builds(
    BusinessHeader,
    sender=member_ids,
    receiver=member_ids,
    business_message_id=ids,
    message_definition=st.sampled_from(DEFINITIONS),
    created=creation_times,
)


def written(header: BusinessHeader = HEADER) -> Any:
    """The header written and parsed again, as a reader gets it."""
    return etree.fromstring(serialised(header_element(header)))


def refused(element: Any) -> list[FieldProblem]:
    with pytest.raises(MessageInvalid) as raised:
        header_from_element(element)
    assert raised.value.problems
    return raised.value.problems


@given(header=headers)
def test_any_header_written_then_read_gives_back_the_same_header(header: BusinessHeader) -> None:
    read = header_from_element(written(header))
    assert read == header
    assert read.created.utcoffset() == header.created.utcoffset()


@given(header=headers)
def test_every_written_header_is_valid_for_an_independent_validator(header: BusinessHeader) -> None:
    XSD.validate(io.BytesIO(serialised(header_element(header))))


@given(header=headers)
def test_every_written_header_is_byte_for_byte_the_tree_built_element_by_element(header: BusinessHeader) -> None:
    assert serialised(header_element(header)) == built_by_lxml.serialised(built_by_lxml.header_tree(header))


def test_the_written_header_names_both_parties_by_member_id() -> None:
    element = written()
    assert element.tag == f"{{{HEAD}}}AppHdr"
    assert element.findtext("h:Fr/h:FIId/h:FinInstnId/h:ClrSysMmbId/h:MmbId", namespaces=NS) == VIETCOMBANK
    assert element.findtext("h:To/h:FIId/h:FinInstnId/h:ClrSysMmbId/h:MmbId", namespaces=NS) == NAPAS
    assert element.findtext("h:MsgDefIdr", namespaces=NS) == "pacs.008.001.12"
    assert element.findtext("h:CreDt", namespaces=NS) == "2026-12-01T08:30:00.000+07:00"


def test_a_header_built_by_pyiso20022_is_read_and_so_is_the_saved_sample() -> None:
    expected = BusinessHeader(BIDV, NAPAS, SAMPLE_STATUS_MESSAGE_ID, "pacs.002.001.12", SAMPLE_STATUS_CREATED)
    built = pyiso_header(BIDV, NAPAS, SAMPLE_STATUS_MESSAGE_ID, "pacs.002.001.12", SAMPLE_STATUS_CREATED)
    assert header_from_element(etree.fromstring(rendered(built))) == expected
    saved = SAMPLE.read_bytes()
    XSD.validate(io.BytesIO(saved))
    assert header_from_element(etree.fromstring(saved)) == expected


def _organisation_sender(root: Any) -> None:
    sender = root.find("h:Fr", NS)
    sender.remove(sender.find("h:FIId", NS))
    etree.SubElement(etree.SubElement(sender, f"{{{HEAD}}}OrgId"), f"{{{HEAD}}}Nm").text = "Ngân hàng TMCP Ngoại thương"


def _bic_receiver(root: Any) -> None:
    institution = root.find("h:To/h:FIId/h:FinInstnId", NS)
    institution.remove(institution.find("h:ClrSysMmbId", NS))
    etree.SubElement(institution, f"{{{HEAD}}}BICFI").text = "BFTVVNVX"


def _set(path: str, value: str) -> Callable[[Any], None]:
    def change(root: Any) -> None:
        root.find(path, NS).text = value

    return change


def _no_message_id(root: Any) -> None:
    root.remove(root.find("h:BizMsgIdr", NS))


@pytest.mark.parametrize(
    ("change", "field", "rule_says"),
    [
        pytest.param(_organisation_sender, "AppHdr/Fr/FIId/FinInstnId/ClrSysMmbId/MmbId", "member id", id="OrgId"),
        pytest.param(_bic_receiver, "AppHdr/To/FIId/FinInstnId/ClrSysMmbId/MmbId", "member id", id="BIC only"),
        pytest.param(_set("h:MsgDefIdr", "p" * 36), "AppHdr/MsgDefIdr", "maxLength", id="MsgDefIdr too long"),
        pytest.param(_set("h:CreDt", "yesterday"), "AppHdr/CreDt", "ISODateTime", id="CreDt not a time"),
        pytest.param(_no_message_id, "AppHdr/MsgDefIdr", "BizMsgIdr", id="no BizMsgIdr"),
    ],
)
def test_a_header_the_scheme_cannot_read_is_refused_naming_the_element_and_the_rule(
    change: Callable[[Any], None], field: str, rule_says: str
) -> None:
    element = written()
    change(element)
    (problem,) = refused(element)
    assert problem.field == field
    assert rule_says in problem.rule


def test_a_header_of_another_version_is_refused_naming_apphdr() -> None:
    data = serialised(header_element(HEADER)).replace(HEAD.encode(), b"urn:iso:std:iso:20022:tech:xsd:head.001.001.01")
    (problem,) = refused(etree.fromstring(data))
    assert problem.field == "AppHdr" and HEAD in problem.rule


def test_a_creation_time_python_cannot_read_is_refused_naming_credt() -> None:
    element = written()
    _set("h:CreDt", "2026-12-01T24:00:00+07:00")(element)
    try:
        read = header_from_element(element)
    except MessageInvalid as refusal:
        assert [p.field for p in refusal.problems] == ["AppHdr/CreDt"]
    else:
        assert read.created == datetime(2026, 12, 2, tzinfo=CREATED.tzinfo)
