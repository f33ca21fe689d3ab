"""pacs.028.001.05 (FI to FI payment status request) on the wire: parse, validate, write.

One message asks after one transaction (`StatusRequest`): ISO lets a message ask after many, or
after a whole original message (OrgnlGrpInf); the scheme takes exactly one TxInf, and anything else
is refused naming the element. Every document written validates against ISO's schema (checked as it
is written in the tests: switch.scheme.xml); every document read is validated before it is trusted,
by a parser that refuses DTDs, entities and network access. A fault is `MessageInvalid` naming the
element below the message (`TxInf/OrgnlTxId`) and the rule, reason FF01.

How a status request maps onto pacs.028 (FIToFIPmtStsReq):

    message_id               GrpHdr/MsgId; GrpHdr/CreDtTm when the request was made
    original_transaction_id  TxInf/OrgnlTxId: the transaction asked after, by the id its debtor
                             agent gave it
    debtor_agent             TxInf/OrgnlTxRef/DbtrAgt/FinInstnId/ClrSysMmbId/MmbId (the BIN of
                             the agent asking, whose transaction it is)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError

from switch.scheme.messages import StatusRequest
from switch.scheme.validation import MessageInvalid, problems_of
from switch.scheme.xml import (
    agent_xml,
    element_of,
    element_problems,
    escaped,
    fields_of,
    first_text,
    gather,
    invalid,
    iso_datetime,
    iso_schema,
    read_root,
    schema_faults,
    written,
)

PACS028 = "urn:iso:std:iso:20022:tech:xsd:pacs.028.001.05"
PACS028_NAME = "pacs.028.001.05"
MESSAGE_BYTES_MAX = 64 * 1024  # one request is about 1 KB
DEBTOR_AGENT_PATH = "TxInf/OrgnlTxRef/DbtrAgt/FinInstnId/ClrSysMmbId/MmbId"
ELEMENT_OF_FIELD = {
    "message_id": "GrpHdr/MsgId",
    "original_transaction_id": "TxInf/OrgnlTxId",
    "debtor_agent": DEBTOR_AGENT_PATH,
}
_DOCUMENT = f"{{{PACS028}}}Document"
_FIELDS = fields_of(  # below the Document, through FIToFIPmtStsReq
    PACS028,
    {
        "group": "FIToFIPmtStsReq/OrgnlGrpInf",
        "transaction": "FIToFIPmtStsReq/TxInf",
        **{field: f"FIToFIPmtStsReq/{path}" for field, path in ELEMENT_OF_FIELD.items()},
    },
)


def write_pacs028(request: StatusRequest, created: datetime) -> bytes:
    """The request as a pacs.028.001.05 document, valid by ISO's schema."""
    return written(pacs028_xml(request, iso_datetime(created), ""), PACS028_NAME, PACS028_NAME)


def pacs028_document(request: StatusRequest, created: datetime) -> Any:
    """The request as a pacs.028.001.05 Document element, valid by ISO's schema."""
    return element_of(pacs028_xml(request, iso_datetime(created), ""), PACS028_NAME, PACS028_NAME)


def pacs028_xml(request: StatusRequest, created: str, indent: str) -> str:
    """The request as pacs.028.001.05 Document text at `indent` (`created`: an ISODateTime)."""
    i = indent
    return f"""{i}<Document xmlns="{PACS028}">
{i}  <FIToFIPmtStsReq>
{i}    <GrpHdr>
{i}      <MsgId>{escaped(request.message_id)}</MsgId>
{i}      <CreDtTm>{created}</CreDtTm>
{i}    </GrpHdr>
{i}    <TxInf>
{i}      <OrgnlTxId>{escaped(request.original_transaction_id)}</OrgnlTxId>
{i}      <OrgnlTxRef>
{agent_xml("DbtrAgt", request.debtor_agent, i + "        ")}{i}      </OrgnlTxRef>
{i}    </TxInf>
{i}  </FIToFIPmtStsReq>
{i}</Document>
"""


def parse_pacs028(data: bytes) -> StatusRequest:
    """Read and validate a pacs.028: the one status request it carries."""
    if len(data) > MESSAGE_BYTES_MAX:
        raise invalid("(message)", f"{len(data)} bytes is over the limit of {MESSAGE_BYTES_MAX} bytes")
    return pacs028_from_document(read_root(data, PACS028, PACS028_NAME, "(message)"))


def pacs028_from_document(root: Any) -> StatusRequest:
    """The request a pacs.028 Document element carries (the root of a document, or the Document
    of an envelope): ISO's schema first, then the scheme's rules."""
    if root.tag != _DOCUMENT:
        raise invalid("Document", f"must be a {PACS028_NAME} Document in namespace {PACS028}")
    schema_faults(root, iso_schema(PACS028_NAME))  # raises for any fault
    found = gather(root, _FIELDS)
    if "group" in found:
        raise invalid("OrgnlGrpInf", "not read: the scheme asks after one transaction, in TxInf")
    transactions = found.get("transaction", ())
    if len(transactions) != 1:
        raise invalid("TxInf", f"exactly one: a status request asks after one transaction, not {len(transactions)}")
    fields = {field: first_text(found, field) for field in ELEMENT_OF_FIELD}
    try:
        return StatusRequest.model_validate({key: value for key, value in fields.items() if value is not None})
    except ValidationError as error:
        raise MessageInvalid(element_problems("", problems_of(error), ELEMENT_OF_FIELD)) from None
