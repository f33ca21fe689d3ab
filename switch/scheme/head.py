"""head.001.001.02, the Business Application Header: who sends a message to whom, which message
it is and when it was made. Every XML message on the wire travels under one (`switch.scheme.wire`
puts the two together in an envelope).

How a header maps onto head.001.001.02 (AppHdr):

    sender               Fr/FIId/FinInstnId/ClrSysMmbId/MmbId: a participant's BIN, or "NAPAS"
                         for the switch (SWITCH_MEMBER_ID)
    receiver             To/FIId/FinInstnId/ClrSysMmbId/MmbId, the same way
    business_message_id  BizMsgIdr: the message's own id (its MsgId, or the verification's id)
    message_definition   MsgDefIdr: the Document's message and version, `pacs.008.001.12`
    created              CreDt, with milliseconds and the offset it was given

Participants are named by their clearing system member id (the BIN), as everywhere else on the
wire: a header naming a party by `OrgId`, or an agent by BIC only, is refused naming the element.
Every header written validates against ISO's schema (checked as it is written in the tests, where a
writer that breaks it raises AssertionError: switch.scheme.xml); every header read is validated
before it is trusted, and a fault is `MessageInvalid` naming the element
(`AppHdr/Fr/FIId/FinInstnId/ClrSysMmbId/MmbId`) and the rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from switch.scheme.xml import (
    agent_xml,
    element_of,
    escaped,
    fields_of,
    first_text,
    gather,
    header_path,
    invalid,
    iso_datetime,
    iso_schema,
    schema_faults,
)

HEAD = "urn:iso:std:iso:20022:tech:xsd:head.001.001.02"
HEAD_NAME = "head.001.001.02"
MEMBER_ID_PATH = "FIId/FinInstnId/ClrSysMmbId/MmbId"
_APP_HDR = f"{{{HEAD}}}AppHdr"
_FIELDS = fields_of(
    HEAD,
    {
        "Fr": f"Fr/{MEMBER_ID_PATH}",
        "To": f"To/{MEMBER_ID_PATH}",
        "BizMsgIdr": "BizMsgIdr",
        "MsgDefIdr": "MsgDefIdr",
        "CreDt": "CreDt",
    },
)


@dataclass(slots=True, frozen=True)
class BusinessHeader:
    """A Business Application Header, as read or to be written."""

    sender: str
    receiver: str
    business_message_id: str
    message_definition: str
    created: datetime


def header_element(header: BusinessHeader) -> Any:
    """The header as a head.001.001.02 AppHdr element, valid by ISO's schema."""
    return element_of(header_xml(header, ""), HEAD_NAME, HEAD_NAME)


def header_xml(header: BusinessHeader, indent: str, created: str | None = None) -> str:
    """The header as head.001.001.02 AppHdr text at `indent` (`created`: the header's time as
    written already, when the Document has it too)."""
    i = indent
    created = iso_datetime(header.created) if created is None else created
    return f"""{i}<AppHdr xmlns="{HEAD}">
{i}  <Fr>
{agent_xml("FIId", header.sender, i + "    ")}{i}  </Fr>
{i}  <To>
{agent_xml("FIId", header.receiver, i + "    ")}{i}  </To>
{i}  <BizMsgIdr>{escaped(header.business_message_id)}</BizMsgIdr>
{i}  <MsgDefIdr>{escaped(header.message_definition)}</MsgDefIdr>
{i}  <CreDt>{created}</CreDt>
{i}</AppHdr>
"""


def header_from_element(element: Any) -> BusinessHeader:
    """The header an AppHdr element carries, once it is valid by ISO's schema and names both
    parties by member id; else MessageInvalid naming the element and the rule."""
    if element is None or element.tag != _APP_HDR:
        raise invalid("AppHdr", f"must be a {HEAD_NAME} AppHdr in namespace {HEAD}")
    schema_faults(element, iso_schema(HEAD_NAME), path=header_path)  # raises for any fault
    found = gather(element, _FIELDS)
    return BusinessHeader(
        sender=_member_id(found, "Fr"),
        receiver=_member_id(found, "To"),
        business_message_id=first_text(found, "BizMsgIdr") or "",
        message_definition=first_text(found, "MsgDefIdr") or "",
        created=_created(found),
    )


def _member_id(found: dict[str, list[Any]], party: str) -> str:
    member_id = first_text(found, party)
    if member_id is None:
        rule = "required: the scheme names a participant by its member id (the BIN), or NAPAS for the switch"
        raise invalid(f"AppHdr/{party}/{MEMBER_ID_PATH}", rule)
    return member_id


def _created(found: dict[str, list[Any]]) -> datetime:
    text = first_text(found, "CreDt") or ""
    try:
        return datetime.fromisoformat(text)
    except ValueError:  # the schema takes 24:00:00, Python does not
        raise invalid("AppHdr/CreDt", f"{text!r} is not a date and time this scheme reads") from None
