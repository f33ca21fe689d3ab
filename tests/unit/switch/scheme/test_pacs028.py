"""pacs.028.001.05 on the wire (`switch.scheme.pacs028`): written, read, and refused.

What the module writes is checked a second time with `xmlschema` against the shipped XSD; what it
reads includes requests built by `pyiso20022` (the sample
tests/data/iso20022/pacs.028.001.05-pyiso20022.xml is one).
"""

from __future__ import annotations

import copy
import io
from collections.abc import Callable
from datetime import datetime
from typing import Any

import built_by_lxml
import pytest
import xmlschema
from hypothesis import given
from iso_wire_data import (
    BILLION_LAUGHS,
    CREATED,
    EXTERNAL_ENTITY,
    SAMPLE_REQUEST,
    SAMPLE_REQUEST_CREATED,
    SAMPLES,
    VIETCOMBANK,
    XSD_DIR,
    creation_times,
    pyiso_pacs028,
    rendered,
    status_requests,
    with_doctype,
)
from lxml import etree

from switch.scheme.codes import StatusReason
from switch.scheme.messages import StatusRequest
from switch.scheme.pacs028 import MESSAGE_BYTES_MAX, PACS028, parse_pacs028, write_pacs028
from switch.scheme.validation import FieldProblem, MessageInvalid

XSD_PATH = XSD_DIR / "pacs.028.001.05.xsd"
XSD = xmlschema.XMLSchema(str(XSD_PATH))  # the independent validator
LXML_XSD = etree.XMLSchema(etree.parse(str(XSD_PATH)))  # only to check a hand-made fixture is schema-valid
SAMPLE = SAMPLES / "pacs.028.001.05-pyiso20022.xml"
NS = {"q": PACS028}
REQUEST = StatusRequest(
    message_id="VCB-STQ-20261201-0002", original_transaction_id="VCB-TX-0007", debtor_agent=VIETCOMBANK
)
GOOD = write_pacs028(REQUEST, CREATED)


def changed(change: Callable[[Any], None]) -> bytes:
    root = etree.fromstring(GOOD)
    change(root)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def refused(data: bytes) -> list[FieldProblem]:
    with pytest.raises(MessageInvalid) as raised:
        parse_pacs028(data)
    assert raised.value.problems and raised.value.reason == StatusReason.FF01
    return raised.value.problems


@given(request=status_requests, created=creation_times)
def test_any_valid_request_written_then_read_gives_back_the_same_request(
    request: StatusRequest, created: datetime
) -> None:
    assert parse_pacs028(write_pacs028(request, created)) == request


@given(request=status_requests, created=creation_times)
def test_every_written_request_is_valid_for_an_independent_validator(request: StatusRequest, created: datetime) -> None:
    XSD.validate(io.BytesIO(write_pacs028(request, created)))


@given(request=status_requests, created=creation_times)
def test_every_written_document_is_byte_for_byte_the_tree_built_element_by_element(
    request: StatusRequest, created: datetime
) -> None:
    assert write_pacs028(request, created) == built_by_lxml.serialised(built_by_lxml.pacs028_tree(request, created))


def test_the_written_request_asks_after_one_transaction_by_its_id_and_debtor_agent() -> None:
    root = etree.fromstring(GOOD)
    assert root.findtext("q:FIToFIPmtStsReq/q:GrpHdr/q:MsgId", namespaces=NS) == "VCB-STQ-20261201-0002"
    (tx,) = root.findall("q:FIToFIPmtStsReq/q:TxInf", NS)
    assert tx.findtext("q:OrgnlTxId", namespaces=NS) == "VCB-TX-0007"
    assert tx.findtext("q:OrgnlTxRef/q:DbtrAgt/q:FinInstnId/q:ClrSysMmbId/q:MmbId", namespaces=NS) == VIETCOMBANK


@pytest.mark.parametrize("ns_map", [None, {None: PACS028}], ids=["prefix ns0", "default namespace"])
def test_a_request_built_by_pyiso20022_is_read(ns_map: dict[str | None, str] | None) -> None:
    assert (
        parse_pacs028(rendered(pyiso_pacs028(SAMPLE_REQUEST, SAMPLE_REQUEST_CREATED), ns_map=ns_map)) == SAMPLE_REQUEST
    )


def test_the_saved_pyiso20022_sample_validates_and_reads_as_the_sample_request() -> None:
    saved = SAMPLE.read_bytes()
    XSD.validate(io.BytesIO(saved))
    assert parse_pacs028(saved) == SAMPLE_REQUEST
    assert parse_pacs028(rendered(pyiso_pacs028(SAMPLE_REQUEST, SAMPLE_REQUEST_CREATED), "  ")) == SAMPLE_REQUEST


# --- refused ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"not xml", id="text"),
        pytest.param(GOOD[:-30], id="cut off"),
        pytest.param(with_doctype(BILLION_LAUGHS, GOOD, b"VCB-TX-0007", b"&lol9;"), id="billion laughs"),
        pytest.param(with_doctype(EXTERNAL_ENTITY, GOOD, b"VCB-TX-0007", b"&secret;"), id="external entity"),
        pytest.param(GOOD + b" " * MESSAGE_BYTES_MAX, id="over the byte limit"),
    ],
)
def test_a_request_that_is_not_safe_well_formed_xml_is_refused_naming_the_message(data: bytes) -> None:
    (problem,) = refused(data)
    assert problem.field == "(message)"
    assert "lollol" not in problem.rule


def test_a_request_of_another_version_is_refused_naming_document() -> None:
    (problem,) = refused(GOOD.replace(PACS028.encode(), b"urn:iso:std:iso:20022:tech:xsd:pacs.028.001.03"))
    assert problem.field == "Document" and PACS028 in problem.rule


def _transactions(count: int) -> Callable[[Any], None]:
    def change(root: Any) -> None:
        body = root.find("q:FIToFIPmtStsReq", NS)
        (tx,) = body.findall("q:TxInf", NS)
        body.remove(tx)
        body.extend(copy.deepcopy(tx) for _ in range(count))

    return change


def _original_group(root: Any) -> None:
    group = etree.Element(f"{{{PACS028}}}OrgnlGrpInf")
    etree.SubElement(group, f"{{{PACS028}}}OrgnlMsgId").text = "VCB-20261201-000042"
    etree.SubElement(group, f"{{{PACS028}}}OrgnlMsgNmId").text = "pacs.008.001.12"
    root.find("q:FIToFIPmtStsReq/q:GrpHdr", NS).addnext(group)


def _set(path: str, value: str) -> Callable[[Any], None]:
    def change(root: Any) -> None:
        root.find(path, NS).text = value

    return change


def _no_transaction_id(root: Any) -> None:
    tx = root.find("q:FIToFIPmtStsReq/q:TxInf", NS)
    tx.remove(tx.find("q:OrgnlTxId", NS))


@pytest.mark.parametrize(
    ("change", "field", "rule_says"),
    [
        pytest.param(_transactions(2), "TxInf", "exactly one", id="two TxInf"),
        pytest.param(_transactions(0), "TxInf", "not 0", id="no TxInf"),
        pytest.param(_original_group, "OrgnlGrpInf", "one transaction", id="a whole message asked after"),
        pytest.param(
            _set("q:FIToFIPmtStsReq/q:TxInf/q:OrgnlTxRef/q:DbtrAgt/q:FinInstnId/q:ClrSysMmbId/q:MmbId", "VCB"),
            "TxInf/OrgnlTxRef/DbtrAgt/FinInstnId/ClrSysMmbId/MmbId",
            "6-digit",
            id="not a BIN",
        ),
        pytest.param(_no_transaction_id, "TxInf/OrgnlTxId", "required", id="no OrgnlTxId"),
        pytest.param(_set("q:FIToFIPmtStsReq/q:GrpHdr/q:MsgId", "M" * 36), "GrpHdr/MsgId", "maxLength", id="MsgId"),
        pytest.param(_set("q:FIToFIPmtStsReq/q:TxInf/q:OrgnlTxId", "T" * 36), "TxInf/OrgnlTxId", "maxLength"),
    ],
)
def test_a_request_the_scheme_cannot_take_is_refused_naming_the_element_and_the_rule(
    change: Callable[[Any], None], field: str, rule_says: str
) -> None:
    (problem,) = refused(changed(change))
    assert problem.field == field
    assert rule_says in problem.rule


def test_a_request_for_one_transaction_of_a_whole_message_is_valid_iso_that_the_scheme_refuses() -> None:
    assert LXML_XSD.validate(etree.fromstring(changed(_original_group)))
    assert LXML_XSD.validate(etree.fromstring(changed(_transactions(2))))
