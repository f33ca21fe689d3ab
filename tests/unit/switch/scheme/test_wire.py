"""The XML wire (`switch.scheme.wire`): every message in an envelope of a Business Application Header
and its Document, written, read, and refused.

Both parts of what is written are checked again with `xmlschema` against the shipped XSDs;
envelopes whose header and Document `pyiso20022` built are read (the sample
tests/data/iso20022/envelope-pacs.002.001.12-pyiso20022.xml is one).
"""

from __future__ import annotations

import io
import time
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
    BILLION_LAUGHS,
    CREATED,
    EXTERNAL_ENTITY,
    NAPAS,
    SAMPLE_REPORTS,
    SAMPLE_STATUS_CREATED,
    SAMPLE_STATUS_MESSAGE_ID,
    SAMPLES,
    VIETCOMBANK,
    XSD_DIR,
    bins,
    creation_times,
    enveloped,
    ids,
    member_ids,
    pyiso_header,
    rendered,
    status_report_messages,
    status_requests,
    with_doctype,
)
from lxml import etree
from test_pacs008 import GOOD_MESSAGE as CREDITS
from test_pacs008 import PYISO_CREATED, PYISO_MESSAGE_ID, PYISO_TRANSFERS, pyiso20022_document
from test_pacs008 import messages as credit_transfer_messages

from switch.scheme.codes import StatusReason, VerificationOutcome
from switch.scheme.head import HEAD, BusinessHeader
from switch.scheme.messages import (
    CreditTransferMessage,
    Party,
    StatusReportMessage,
    StatusRequest,
    VerificationReport,
    VerificationRequest,
)
from switch.scheme.pacs002 import ReadStatusReports
from switch.scheme.pacs008 import ReadCreditTransfers
from switch.scheme.validation import FieldProblem, MessageInvalid
from switch.scheme.wire import WIRE_BYTES_MAX, XML_MEDIA_TYPE, WireMessage, read_wire, write_wire

DEFINITION_OF = {
    CreditTransferMessage: "pacs.008.001.12",
    StatusReportMessage: "pacs.002.001.12",
    StatusRequest: "pacs.028.001.05",
    VerificationRequest: "acmt.023.001.04",
    VerificationReport: "acmt.024.001.04",
}
XSD = {name: xmlschema.XMLSchema(str(XSD_DIR / f"{name}.xsd")) for name in [*DEFINITION_OF.values(), "head.001.001.02"]}
ENVELOPE = SAMPLES / "envelope-pacs.002.001.12-pyiso20022.xml"
H = {"h": HEAD}

verification_requests = st.builds(
    VerificationRequest,
    verification_id=ids,
    agent=bins,
    account=st.text("0123456789", min_size=6, max_size=19),
    name=st.sampled_from(["Nguyễn Văn Đức", "Trần Thị Hồng", "Hoàng Thị Ánh Tuyết", "Bùi Xuân Trường"]),
    citizen_id=st.none() | st.just("001085012345"),
)
ANSWERS = [
    (VerificationOutcome.MTCH, None, None),
    (VerificationOutcome.CMTC, "N***** V** DUC", None),
    (VerificationOutcome.NMTC, None, StatusReason.AC01),
    (VerificationOutcome.NMTC, None, StatusReason.BE01),
    (VerificationOutcome.NMTC, None, None),
]
verification_reports = st.builds(
    lambda verification_id, agent, answer: VerificationReport(
        original_verification_id=verification_id,
        agent=agent,
        outcome=answer[0],
        holder_name_masked=answer[1],
        reason=answer[2],
    ),
    ids,
    bins,
    st.sampled_from(ANSWERS),
)
wire_messages: st.SearchStrategy[WireMessage] = st.one_of(
    credit_transfer_messages(), status_report_messages(), status_requests, verification_requests, verification_reports
)


def message_id(message: WireMessage) -> str:
    if isinstance(message, VerificationRequest):
        return message.verification_id
    if isinstance(message, VerificationReport):
        return message.original_verification_id
    return message.message_id


def as_written(message: WireMessage, read: Any) -> Any:
    """What a reader gets, in the message's own terms."""
    if isinstance(read, ReadCreditTransfers):
        assert read.refused == ()
        return CreditTransferMessage(message_id=read.message_id, transactions=read.transactions)
    if isinstance(read, ReadStatusReports):
        assert read.refused == ()
        return StatusReportMessage(message_id=read.message_id, reports=read.reports)
    return read


def refused(data: bytes) -> list[FieldProblem]:
    with pytest.raises(MessageInvalid) as raised:
        read_wire(data)
    assert raised.value.problems and raised.value.reason == StatusReason.FF01
    return raised.value.problems


GOOD = write_wire(CREDITS, VIETCOMBANK, NAPAS, CREATED)


# --- round trip ------------------------------------------------------------------------------------


@given(message=wire_messages, sender=member_ids, receiver=member_ids, created=creation_times)
def test_any_message_written_in_its_envelope_reads_back_with_its_header_and_the_same_message(
    message: WireMessage, sender: str, receiver: str, created: datetime
) -> None:
    read = read_wire(write_wire(message, sender, receiver, created))
    definition = DEFINITION_OF[type(message)]
    assert read.header == BusinessHeader(sender, receiver, message_id(message), definition, created)
    assert as_written(message, read.message) == message


@given(message=wire_messages, created=creation_times)
def test_both_parts_of_every_envelope_are_valid_for_an_independent_validator(
    message: WireMessage, created: datetime
) -> None:
    envelope = etree.fromstring(write_wire(message, NAPAS, BIDV, created))
    header, document = envelope
    assert (envelope.tag, etree.QName(header).localname, etree.QName(document).localname) == (
        "Envelope",
        "AppHdr",
        "Document",
    )
    XSD["head.001.001.02"].validate(io.BytesIO(etree.tostring(header)))
    XSD[DEFINITION_OF[type(message)]].validate(io.BytesIO(etree.tostring(document)))


@given(message=wire_messages, sender=member_ids, receiver=member_ids, created=creation_times)
def test_every_envelope_is_byte_for_byte_the_tree_built_element_by_element(
    message: WireMessage, sender: str, receiver: str, created: datetime
) -> None:
    assert write_wire(message, sender, receiver, created) == built_by_lxml.envelope(message, sender, receiver, created)


# Any text a model takes: XML's special characters, quotes, `]]>`, tabs, carriage returns and new
# lines, letters beyond the Basic Multilingual Plane, and control characters XML cannot carry.
any_text = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=140)


def written_or_refused(write: Callable[..., bytes], message: WireMessage, created: datetime) -> bytes | str:
    try:
        return write(message, VIETCOMBANK, NAPAS, created)
    except ValueError as error:
        return f"ValueError: {error}"


@given(name=any_text, remittance=any_text, information=any_text, created=creation_times)
def test_any_text_is_written_as_the_tree_writes_it_or_refused_as_lxml_refuses_it(
    name: str, remittance: str, information: str, created: datetime
) -> None:
    # Built unchecked: the models refuse what XML cannot carry at the door, and this is about the writer.
    creditor = Party.model_construct(name=name, citizen_id=None)
    transfer = CREDITS.transactions[0].model_copy(update={"creditor": creditor, "remittance_information": remittance})
    credits = CreditTransferMessage(message_id=CREDITS.message_id, transactions=(transfer,))
    report = SAMPLE_REPORTS[1].model_copy(update={"additional_information": information})
    reports = StatusReportMessage(message_id="NAPAS-STS-1", reports=(report,))
    for message in (credits, reports):
        ours = written_or_refused(write_wire, message, created)
        assert ours == written_or_refused(built_by_lxml.envelope, message, created)
        if isinstance(ours, bytes):
            assert as_written(message, read_wire(ours).message) == message


def test_the_envelope_holds_the_header_then_the_document_each_in_its_own_namespace() -> None:
    envelope = etree.fromstring(GOOD)
    assert envelope.tag == "Envelope" and envelope.nsmap == {}
    header, document = envelope
    assert header.tag == f"{{{HEAD}}}AppHdr"
    assert document.tag == "{urn:iso:std:iso:20022:tech:xsd:pacs.008.001.12}Document"
    assert header.findtext("h:BizMsgIdr", namespaces=H) == CREDITS.message_id
    assert header.findtext("h:MsgDefIdr", namespaces=H) == "pacs.008.001.12"
    assert "Nguyễn Văn Đức".encode() in GOOD  # UTF-8 throughout
    assert XML_MEDIA_TYPE == "application/xml"


def test_names_keep_their_diacritics_through_the_envelope() -> None:
    read = read_wire(GOOD).message
    assert isinstance(read, ReadCreditTransfers)
    assert {t.debtor.name for t in read.transactions} == {"Nguyễn Văn Đức"}
    assert {t.creditor.name for t in read.transactions} == {"Trần Thị Hồng"}


# --- envelopes built with pyiso20022 ---------------------------------------------------------------------


def test_an_envelope_of_a_header_and_a_pacs008_built_by_pyiso20022_is_read() -> None:
    header = pyiso_header(VIETCOMBANK, NAPAS, PYISO_MESSAGE_ID, "pacs.008.001.12", PYISO_CREATED)
    data = enveloped(rendered(header), rendered(pyiso20022_document(PYISO_MESSAGE_ID, PYISO_CREATED, PYISO_TRANSFERS)))
    read = read_wire(data)
    assert read.header == BusinessHeader(VIETCOMBANK, NAPAS, PYISO_MESSAGE_ID, "pacs.008.001.12", PYISO_CREATED)
    assert isinstance(read.message, ReadCreditTransfers)
    assert (read.message.transactions, read.message.refused) == (PYISO_TRANSFERS, ())


def test_the_saved_pyiso20022_envelope_is_read() -> None:
    read = read_wire(ENVELOPE.read_bytes())
    assert read.header == BusinessHeader(
        BIDV, NAPAS, SAMPLE_STATUS_MESSAGE_ID, "pacs.002.001.12", SAMPLE_STATUS_CREATED
    )
    assert isinstance(read.message, ReadStatusReports)
    assert (read.message.reports, read.message.refused) == (SAMPLE_REPORTS, ())


# --- refused whole ------------------------------------------------------------------------------------------


def _part(data: bytes, tag: bytes) -> bytes:
    """`<tag ...>...</tag>` out of an envelope."""
    start = data.index(b"<" + tag)
    end = data.index(b"</" + tag + b">") + len(tag) + 3
    return data[start:end]


DOCUMENT, HEADER = _part(GOOD, b"Document"), _part(GOOD, b"AppHdr")


def _envelope(*parts: bytes, definition: str = "pacs.008.001.12") -> bytes:
    body = b"\n".join(parts).replace(b"<MsgDefIdr>pacs.008.001.12<", f"<MsgDefIdr>{definition}<".encode())
    return b"<?xml version='1.0' encoding='UTF-8'?>\n<Envelope>\n" + body + b"\n</Envelope>\n"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(GOOD[: len(GOOD) // 2], id="cut off halfway"),
        pytest.param(GOOD.replace(b"</AppHdr>", b"</AppHeader>"), id="mismatched end tag"),
        pytest.param(with_doctype(BILLION_LAUGHS, GOOD, "Lương".encode(), b"&lol9;"), id="billion laughs"),
        pytest.param(with_doctype(EXTERNAL_ENTITY, GOOD, "Lương".encode(), b"&secret;"), id="external entity"),
        pytest.param(GOOD + b" " * (WIRE_BYTES_MAX - len(GOOD) + 1), id="a byte over the limit"),
    ],
)
def test_an_envelope_that_is_not_safe_well_formed_xml_within_the_limit_is_refused_naming_the_message(
    data: bytes,
) -> None:
    started = time.monotonic()
    (problem,) = refused(data)
    assert time.monotonic() - started < 2.0
    assert problem.field == "(message)"
    assert "lollol" not in problem.rule


def test_an_envelope_at_the_byte_limit_is_read() -> None:
    at_limit = GOOD + b" " * (WIRE_BYTES_MAX - len(GOOD))
    message = read_wire(at_limit).message
    assert isinstance(message, ReadCreditTransfers) and message.transactions == CREDITS.transactions


@pytest.mark.parametrize(
    ("data", "field", "rule_says"),
    [
        pytest.param(DOCUMENT, "Envelope", "Envelope", id="a bare Document"),
        pytest.param(_envelope(DOCUMENT), "Envelope", "AppHdr", id="no AppHdr"),
        pytest.param(_envelope(DOCUMENT, HEADER), "Envelope", "then a Document", id="AppHdr after the Document"),
        pytest.param(_envelope(HEADER, DOCUMENT, DOCUMENT), "Envelope", "then a Document", id="two Documents"),
        pytest.param(
            GOOD.replace(HEAD.encode(), b"urn:iso:std:iso:20022:tech:xsd:head.001.001.01"),
            "AppHdr",
            HEAD,
            id="head.001.001.01",
        ),
        pytest.param(GOOD.replace(b"<Envelope>", b'<Envelope xmlns="urn:swift:xsd:envelope">'), "Envelope", "Envelope"),
        pytest.param(
            _envelope(HEADER, DOCUMENT, definition="pacs.008.001.08"), "AppHdr/MsgDefIdr", "not a message", id="08"
        ),
        pytest.param(_envelope(HEADER, DOCUMENT, definition="camt.053.001.08"), "AppHdr/MsgDefIdr", "pacs.002.001.12"),
        pytest.param(
            _envelope(HEADER, DOCUMENT, definition="pacs.002.001.12"),
            "Document",
            "does not agree with AppHdr/MsgDefIdr pacs.002.001.12",
            id="a pacs.008 under a header saying pacs.002",
        ),
        pytest.param(
            GOOD.replace(
                b'"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.12"', b'"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"'
            ),
            "Document",
            "must be urn:iso:std:iso:20022:tech:xsd:pacs.008.001.12",
            id="a pacs.008.001.08 Document under a header saying pacs.008.001.12",
        ),
        pytest.param(
            GOOD.replace(b"<MsgDefIdr>pacs.008.001.12</MsgDefIdr>", b"<MsgDefIdr>" + b"p" * 36 + b"</MsgDefIdr>"),
            "AppHdr/MsgDefIdr",
            "maxLength",
            id="MsgDefIdr over 35 characters",
        ),
    ],
)
def test_an_envelope_of_the_wrong_shape_namespace_or_version_is_refused_naming_where_and_why(
    data: bytes, field: str, rule_says: str
) -> None:
    problems = refused(data)
    assert [p.field for p in problems] == [field]
    assert rule_says in problems[0].rule


# --- one bad transaction among good ones, through the envelope -----------------------------------------------


def test_one_bad_transaction_in_an_enveloped_pacs008_is_refused_on_its_own_with_its_path() -> None:
    tx = b"<ChrgBr>SLEV</ChrgBr>"
    position = GOOD.index(tx, GOOD.index(tx) + 1)  # the second transaction's
    data = GOOD[:position] + b"<ChrgBr>XXXX</ChrgBr>" + GOOD[position + len(tx) :]
    read = read_wire(data).message
    assert isinstance(read, ReadCreditTransfers)
    (bad,) = read.refused
    assert (bad.index, [p.field for p in bad.problems]) == (1, ["CdtTrfTxInf[2]/ChrgBr"])
    assert read.transactions == (CREDITS.transactions[0], *CREDITS.transactions[2:])


def test_one_bad_report_in_an_enveloped_pacs002_is_refused_on_its_own_with_its_path() -> None:
    data = ENVELOPE.read_bytes().replace(b"<ns0:TxSts>RJCT</ns0:TxSts>", b"<ns0:TxSts>REJECTED</ns0:TxSts>")
    read = read_wire(data).message
    assert isinstance(read, ReadStatusReports)
    (bad,) = read.refused
    assert (bad.index, [p.field for p in bad.problems]) == (1, ["TxInfAndSts[2]/TxSts"])
    assert read.reports == (SAMPLE_REPORTS[0], SAMPLE_REPORTS[2])


def test_a_fault_in_an_enveloped_request_refuses_it_naming_the_element_below_the_message() -> None:
    request = StatusRequest(message_id="VCB-STQ-1", original_transaction_id="VCB-TX-0001", debtor_agent=VIETCOMBANK)
    written = write_wire(request, VIETCOMBANK, NAPAS, CREATED)
    data = written.replace(b"<OrgnlTxId>VCB-TX-0001<", b"<OrgnlTxId>" + b"T" * 36 + b"<")
    (problem,) = refused(data)
    assert problem.field == "TxInf/OrgnlTxId" and "maxLength" in problem.rule
