"""The XML wire as the gateway speaks it: every message travels as a Business Application Header
(head.001.001.02) and its ISO 20022 Document, side by side in an envelope, in the manner of
Swift's FINplus / CBPR+ envelopes:

    <Envelope>                                   (no namespace)
      <AppHdr xmlns="urn:iso:std:iso:20022:tech:xsd:head.001.001.02"> ... </AppHdr>
      <Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.12"> ... </Document>
    </Envelope>

The messages and their versions (the header's MsgDefIdr):

    CreditTransferMessage   pacs.008.001.12   switch.scheme.pacs008
    StatusReportMessage     pacs.002.001.12   switch.scheme.pacs002
    StatusRequest           pacs.028.001.05   switch.scheme.pacs028
    VerificationRequest     acmt.023.001.04   switch.scheme.acmt
    VerificationReport      acmt.024.001.04   switch.scheme.acmt

Written, the header's BizMsgIdr is the message's own id, and the header and the Document are each
valid by ISO's schema (checked as they are written in the tests, where a fault is AssertionError,
our bug: switch.scheme.xml says why not in use). Read, the envelope is refused whole
(`MessageInvalid`, naming the element and the rule) when it is over WIRE_BYTES_MAX, not well-formed,
carries a DOCTYPE, is not an Envelope of an AppHdr then a Document, has a header that breaks
head.001.001.02, names in MsgDefIdr a message or version the scheme does not read, or holds a
Document whose namespace is not the one MsgDefIdr names. Then the Document goes to its codec, which
validates it in turn. Whether the header's `Fr` is the caller is the gateway's question.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lxml import etree

from switch.scheme.acmt import (
    ACMT023,
    ACMT023_NAME,
    ACMT024,
    ACMT024_NAME,
    acmt023_from_document,
    acmt023_xml,
    acmt024_from_document,
    acmt024_xml,
)
from switch.scheme.head import HEAD_NAME, BusinessHeader, header_from_element, header_xml
from switch.scheme.messages import (
    CreditTransfer,
    CreditTransferMessage,
    StatusReport,
    StatusReportMessage,
    StatusRequest,
    VerificationReport,
    VerificationRequest,
)
from switch.scheme.pacs002 import PACS002, PACS002_NAME, ReadStatusReports, pacs002_from_document, pacs002_xml
from switch.scheme.pacs008 import (
    PACS008,
    PACS008_NAME,
    SWITCH_MEMBER_ID,
    ReadCreditTransfers,
    pacs008_from_document,
    pacs008_xml,
)
from switch.scheme.pacs028 import PACS028, PACS028_NAME, pacs028_from_document, pacs028_xml
from switch.scheme.transport import SWITCH_ADDRESS
from switch.scheme.xml import XML_DECLARATION, invalid, iso_datetime, parse_safely, written_envelope

XML_MEDIA_TYPE = "application/xml"
# A full pacs.008 (1,000 transactions) is about 2.5 MB; the header adds under a kilobyte.
WIRE_BYTES_MAX = 4 * 1024 * 1024
ENVELOPE = "Envelope"
_SHAPE = f"must be an {ENVELOPE} (no namespace) holding an AppHdr ({HEAD_NAME}) then a Document"

WireMessage = CreditTransferMessage | StatusReportMessage | StatusRequest | VerificationRequest | VerificationReport
ReadMessage = ReadCreditTransfers | ReadStatusReports | StatusRequest | VerificationRequest | VerificationReport

NAMESPACE_OF = {  # MsgDefIdr -> the Document's namespace
    PACS008_NAME: PACS008,
    PACS002_NAME: PACS002,
    PACS028_NAME: PACS028,
    ACMT023_NAME: ACMT023,
    ACMT024_NAME: ACMT024,
}
READER_OF: dict[str, Callable[[Any], ReadMessage]] = {
    PACS008_NAME: pacs008_from_document,
    PACS002_NAME: pacs002_from_document,
    PACS028_NAME: pacs028_from_document,
    ACMT023_NAME: acmt023_from_document,
    ACMT024_NAME: acmt024_from_document,
}


@dataclass(slots=True, frozen=True)
class ReadWire:
    """An envelope as read: its header, and its Document as its codec reads it."""

    header: BusinessHeader
    message: ReadMessage


def member_id(address: str) -> str:
    """A node's name in the header: its BIN, or NAPAS for the switch."""
    return SWITCH_MEMBER_ID if address == SWITCH_ADDRESS else address


def carrying(message: object, report_message_id: str) -> WireMessage:
    """One scheme message as the document that carries it: a credit as a pacs.008 of one, under
    its own message id; a status report as a pacs.002 of one, under `report_message_id` (a report
    has no message id of its own); a message of many and the others are documents as they are."""
    if isinstance(message, CreditTransfer):
        return CreditTransferMessage.unchecked(message_id=message.message_id, transactions=(message,))
    if isinstance(message, StatusReport):
        return StatusReportMessage.unchecked(message_id=report_message_id, reports=(message,))
    kinds = CreditTransferMessage | StatusReportMessage | StatusRequest | VerificationRequest | VerificationReport
    assert isinstance(message, kinds), type(message)
    return message


# --- write ---------------------------------------------------------------------------------------


def write_wire(message: WireMessage, sender: str, receiver: str, created: datetime) -> bytes:
    """The message in its envelope, from `sender` to `receiver` (member ids: a BIN, or NAPAS)."""
    moment = iso_datetime(created)
    document, definition, message_id = _document(message, sender, receiver, moment)
    header = header_xml(BusinessHeader(sender, receiver, message_id, definition, created), "  ", moment)
    data = f"{XML_DECLARATION}<{ENVELOPE}>\n{header}{document}</{ENVELOPE}>\n".encode()
    return written_envelope(data, (HEAD_NAME, definition))


def _document(message: WireMessage, sender: str, receiver: str, created: str) -> tuple[str, str, str]:
    """The message's Document text in the envelope, its MsgDefIdr and its id."""
    if isinstance(message, CreditTransferMessage):
        return pacs008_xml(message, created, "  "), PACS008_NAME, message.message_id
    if isinstance(message, StatusReportMessage):
        return pacs002_xml(message, created, "  "), PACS002_NAME, message.message_id
    if isinstance(message, StatusRequest):
        return pacs028_xml(message, created, "  "), PACS028_NAME, message.message_id
    if isinstance(message, VerificationRequest):
        document = acmt023_xml(message, created, "  ", sender, receiver)
        return document, ACMT023_NAME, message.verification_id
    document = acmt024_xml(message, created, "  ", sender, receiver)
    return document, ACMT024_NAME, message.original_verification_id


# --- read ----------------------------------------------------------------------------------------


def read_wire(data: bytes) -> ReadWire:
    """Read an envelope: its header, validated, and its Document, read by its codec."""
    if len(data) > WIRE_BYTES_MAX:
        raise invalid("(message)", f"{len(data)} bytes is over the limit of {WIRE_BYTES_MAX} bytes")
    envelope = parse_safely(data, "business message", "(message)")
    header_node, document = _parts(envelope)
    header = header_from_element(header_node)
    namespace = NAMESPACE_OF.get(header.message_definition)
    if namespace is None:
        known = ", ".join(NAMESPACE_OF)
        rule = f"{header.message_definition!r} is not a message this scheme reads: one of {known}"
        raise invalid("AppHdr/MsgDefIdr", rule)
    found = etree.QName(document).namespace
    if found != namespace:
        agreed = f"does not agree with AppHdr/MsgDefIdr {header.message_definition}: must be {namespace}"
        raise invalid("Document", f"namespace {found!r} {agreed}")
    return ReadWire(header, READER_OF[header.message_definition](document))


def _parts(envelope: Any) -> tuple[Any, Any]:
    """The envelope's AppHdr and Document, or MessageInvalid saying what the envelope must hold."""
    if envelope.tag != ENVELOPE:
        raise invalid(ENVELOPE, f"{_SHAPE}, not {etree.QName(envelope).localname}")
    children = [child for child in envelope if child.tag.__class__ is str]  # comments aside
    if len(children) != 2 or not (children[0].tag.endswith("}AppHdr") and children[1].tag.endswith("}Document")):
        names = [etree.QName(child).localname for child in children]
        if names != ["AppHdr", "Document"]:  # an AppHdr or a Document in no namespace
            raise invalid(ENVELOPE, f"{_SHAPE}, not {names or 'nothing'}")
    return children[0], children[1]  # the header's namespace is header_from_element's to check
