"""acmt.023.001.04 / acmt.024.001.04 (identification verification: request and report) on the wire,
the scheme's Verification of Payee: parse, validate, write.

One message carries one verification (`VerificationRequest`) or one answer (`VerificationReport`):
ISO lets a message carry many, the scheme takes one, and a second is refused naming `Vrfctn` or
`Rpt`. Every document written validates against ISO's schema (`switch.scheme.xsd`); checked as it is
written in the tests, where a writer that breaks it raises AssertionError (our bug, never the
caller's fault; switch.scheme.xml says why not in use). Every document read is validated against the
schema first, then against the scheme's rules, by a parser that refuses DTDs, entities and network
access; a fault is `MessageInvalid` naming the element below the message
(`Vrfctn/PtyAndAcctId/Acct/Id/Othr/Id`) and the rule, reason FF01.

How a verification request maps onto acmt.023 (IdVrfctnReq):

    verification_id   Assgnmt/MsgId and Vrfctn/Id (read from Vrfctn/Id: the message id is the
                      message's, and an integrator may choose another)
    (created)         Assgnmt/CreDtTm
    (sender)          Assgnmt/Assgnr/Agt/FinInstnId/ClrSysMmbId/MmbId: "NAPAS" when the switch
                      asks a participant, the participant's BIN when it asks the switch
    (receiver)        Assgnmt/Assgne/Agt/FinInstnId/ClrSysMmbId/MmbId: by default the agent asked
    name              Vrfctn/PtyAndAcctId/Pty/Nm, kept exactly (diacritics and all)
    citizen_id        Vrfctn/PtyAndAcctId/Pty/Id/PrvtId/Othr/Id with SchmeNm/Cd NIDN; a Pty/Id
                      that is not exactly one NIDN identification is refused
    account           Vrfctn/PtyAndAcctId/Acct/Id/Othr/Id
    agent             Vrfctn/PtyAndAcctId/Agt/FinInstnId/ClrSysMmbId/MmbId (the account's BIN)

Assgnr and Assgne are the message's sender and receiver, as ISO defines them; the Business
Application Header says the same, so reading does not use them.

How a verification report maps onto acmt.024 (IdVrfctnRpt), in the manner of EPC Verification of
Payee (MTCH match, CMTC close match with the holder's name, NMTC no match with a reason):

    original_verification_id  Rpt/OrgnlId, OrgnlAssgnmt/MsgId and Assgnmt/MsgId (one report
                              answers one request: the scheme gives the report no id of its own)
    agent                     Rpt/UpdtdPtyAndAcctId/Agt/FinInstnId/ClrSysMmbId/MmbId (who answered)
    holder_name_masked        Rpt/UpdtdPtyAndAcctId/Pty/Nm (N***** V** DUC), when given
    outcome and reason        Rpt/Vrfctn and Rpt/Rsn:

        outcome  reason   Vrfctn  Rsn
        MTCH     -        true    -
        CMTC     -        false   Cd PN02    (ISO's ExternalVerificationReason1Code: "name is a
                                             close match"), the masked name beside it
        NMTC     AC01     false   Cd AC01    account unknown; AC04 closed, AC06 blocked or
                                             dormant, BE01 name or citizen id does not match:
                                             the scheme's status reasons, as its pacs.002 sends
                                             them (the schema takes any code of 1 to 4 characters)
        NMTC     -        false   -
        MTCH     X        true    Cd X       (these two the simulated banks never send; written
        CMTC     X        false   Prtry CMTC/X  so that every report reads back as it was)

    Read, Rsn/Cd PN01 and PI01 (ISO's list: name, identification does not match the account) are
    BE01; Rsn/Prtry may carry any outcome, `MTCH`, `CMTC` or `NMTC`, with `/reason` or without,
    and must agree with Vrfctn (true is MTCH and only MTCH).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, TypeVar

from lxml import etree
from pydantic import BaseModel, ValidationError

from switch.scheme.codes import StatusReason, VerificationOutcome
from switch.scheme.messages import VerificationReport, VerificationRequest
from switch.scheme.pacs008 import SWITCH_MEMBER_ID
from switch.scheme.validation import FieldProblem, MessageInvalid, problems_of
from switch.scheme.xml import (
    SCHEMA_ERRORS_LISTED_MAX,
    agent_xml,
    element_of,
    escaped,
    fields_of,
    first_text,
    gather,
    iso_datetime,
    iso_schema,
    read_root,
    without_namespaces,
    wrapped_xml,
    written,
)

M = TypeVar("M", bound=BaseModel)

ACMT023 = "urn:iso:std:iso:20022:tech:xsd:acmt.023.001.04"
ACMT024 = "urn:iso:std:iso:20022:tech:xsd:acmt.024.001.04"
ACMT023_NAME = "acmt.023.001.04"
ACMT024_NAME = "acmt.024.001.04"
# A verification is about 1.5 KB; this leaves room for every optional element ISO allows
# (addresses, contact details, supplementary data), pretty-printed, and nothing like a payroll.
MESSAGE_BYTES_MAX = 64 * 1024
VERIFICATIONS_PER_MESSAGE_MAX = 1  # one question, one answer: the switch matches them by id
CITIZEN_ID_SCHEME = "NIDN"  # ISO ExternalPersonIdentification1Code: national identity number
CLOSE_MATCH_CODE = "PN02"  # ISO ExternalVerificationReason1Code: name is a close match
# ISO ExternalVerificationReason1Code's mismatches, read as the scheme's one code for them.
ISO_MISMATCH_REASONS = {"PN01": StatusReason.BE01, "PI01": StatusReason.BE01}
REQUEST_ELEMENT_OF_FIELD = {  # a model field's fault, named as the element an integrator wrote
    "verification_id": "Vrfctn/Id",
    "agent": "Vrfctn/PtyAndAcctId/Agt/FinInstnId/ClrSysMmbId/MmbId",
    "account": "Vrfctn/PtyAndAcctId/Acct/Id/Othr/Id",
    "name": "Vrfctn/PtyAndAcctId/Pty/Nm",
    "citizen_id": "Vrfctn/PtyAndAcctId/Pty/Id/PrvtId/Othr/Id",
}
REPORT_ELEMENT_OF_FIELD = {
    "original_verification_id": "Rpt/OrgnlId",
    "agent": "Rpt/UpdtdPtyAndAcctId/Agt/FinInstnId/ClrSysMmbId/MmbId",
    "outcome": "Rpt/Vrfctn",
    "holder_name_masked": "Rpt/UpdtdPtyAndAcctId/Pty/Nm",
    "reason": "Rpt/Rsn/Cd",
}
_PARTY_ID = "Vrfctn/PtyAndAcctId/Pty/Id"
_REQUEST_FIELDS = fields_of(  # below the Document, through IdVrfctnReq
    ACMT023,
    {
        "verification": "IdVrfctnReq/Vrfctn",
        "party_identification": f"IdVrfctnReq/{_PARTY_ID}",
        "other_identification": f"IdVrfctnReq/{_PARTY_ID}/PrvtId/Othr",
        "other_scheme": f"IdVrfctnReq/{_PARTY_ID}/PrvtId/Othr/SchmeNm/Cd",
        **{field: f"IdVrfctnReq/{path}" for field, path in REQUEST_ELEMENT_OF_FIELD.items()},
    },
)
_REPORT_FIELDS = fields_of(  # below the Document, through IdVrfctnRpt
    ACMT024,
    {
        "report": "IdVrfctnRpt/Rpt",
        "proprietary_reason": "IdVrfctnRpt/Rpt/Rsn/Prtry",
        **{field: f"IdVrfctnRpt/{path}" for field, path in REPORT_ELEMENT_OF_FIELD.items()},
    },
)
_PROPRIETARY = re.compile(r"(MTCH|CMTC|NMTC)(?:/([A-Za-z0-9]{1,4}))?")


# --- write ---------------------------------------------------------------------------------------


def acmt023_document(
    request: VerificationRequest,
    created: datetime,
    *,
    assigner: str = SWITCH_MEMBER_ID,
    assignee: str | None = None,
) -> Any:
    """The request as an acmt.023.001.04 Document element, valid by ISO's schema. `assigner` and
    `assignee` are the sender's and receiver's member ids (the switch asking the account's agent,
    unless told otherwise)."""
    text = acmt023_xml(request, iso_datetime(created), "", assigner, assignee or request.agent)
    return element_of(text, ACMT023_NAME, ACMT023_NAME)


def acmt024_document(
    report: VerificationReport,
    created: datetime,
    *,
    assigner: str | None = None,
    assignee: str = SWITCH_MEMBER_ID,
) -> Any:
    """The report as an acmt.024.001.04 Document element, valid by ISO's schema. `assigner` and
    `assignee` are the sender's and receiver's member ids (the answering agent to the switch,
    unless told otherwise)."""
    text = acmt024_xml(report, iso_datetime(created), "", assigner or report.agent, assignee)
    return element_of(text, ACMT024_NAME, ACMT024_NAME)


def write_acmt023(
    request: VerificationRequest,
    created: datetime,
    *,
    assigner: str = SWITCH_MEMBER_ID,
    assignee: str | None = None,
) -> bytes:
    """The request as acmt.023.001.04 bytes (UTF-8), valid by ISO's schema."""
    text = acmt023_xml(request, iso_datetime(created), "", assigner, assignee or request.agent)
    return written(text, ACMT023_NAME, ACMT023_NAME)


def write_acmt024(
    report: VerificationReport,
    created: datetime,
    *,
    assigner: str | None = None,
    assignee: str = SWITCH_MEMBER_ID,
) -> bytes:
    """The report as acmt.024.001.04 bytes (UTF-8), valid by ISO's schema."""
    text = acmt024_xml(report, iso_datetime(created), "", assigner or report.agent, assignee)
    return written(text, ACMT024_NAME, ACMT024_NAME)


def acmt023_xml(request: VerificationRequest, created: str, indent: str, assigner: str, assignee: str) -> str:
    """The request as acmt.023.001.04 Document text at `indent` (`created`: an ISODateTime)."""
    i = indent
    citizen_id = ""
    if request.citizen_id is not None:
        citizen_id = f"""{i}          <Id>
{i}            <PrvtId>
{i}              <Othr>
{i}                <Id>{escaped(request.citizen_id)}</Id>
{i}                <SchmeNm>
{i}                  <Cd>{CITIZEN_ID_SCHEME}</Cd>
{i}                </SchmeNm>
{i}              </Othr>
{i}            </PrvtId>
{i}          </Id>
"""
    return f"""{i}<Document xmlns="{ACMT023}">
{i}  <IdVrfctnReq>
{_assignment_xml(request.verification_id, created, assigner, assignee, i + "    ")}{i}    <Vrfctn>
{i}      <Id>{escaped(request.verification_id)}</Id>
{i}      <PtyAndAcctId>
{i}        <Pty>
{i}          <Nm>{escaped(request.name)}</Nm>
{citizen_id}{i}        </Pty>
{i}        <Acct>
{i}          <Id>
{i}            <Othr>
{i}              <Id>{escaped(request.account)}</Id>
{i}            </Othr>
{i}          </Id>
{i}        </Acct>
{agent_xml("Agt", request.agent, i + "        ")}{i}      </PtyAndAcctId>
{i}    </Vrfctn>
{i}  </IdVrfctnReq>
{i}</Document>
"""


def acmt024_xml(report: VerificationReport, created: str, indent: str, assigner: str, assignee: str) -> str:
    """The report as acmt.024.001.04 Document text at `indent` (`created`: an ISODateTime)."""
    i = indent
    message_id = escaped(report.original_verification_id)
    masked = report.holder_name_masked
    holder = "" if masked is None else wrapped_xml("Pty", "Nm", masked, i + "        ")
    return f"""{i}<Document xmlns="{ACMT024}">
{i}  <IdVrfctnRpt>
{_assignment_xml(report.original_verification_id, created, assigner, assignee, i + "    ")}{i}    <OrgnlAssgnmt>
{i}      <MsgId>{message_id}</MsgId>
{i}    </OrgnlAssgnmt>
{i}    <Rpt>
{i}      <OrgnlId>{message_id}</OrgnlId>
{i}      <Vrfctn>{"true" if report.outcome == VerificationOutcome.MTCH else "false"}</Vrfctn>
{_reason_xml(report, i + "      ")}{i}      <UpdtdPtyAndAcctId>
{holder}{agent_xml("Agt", report.agent, i + "        ")}{i}      </UpdtdPtyAndAcctId>
{i}    </Rpt>
{i}  </IdVrfctnRpt>
{i}</Document>
"""


def _reason_xml(report: VerificationReport, indent: str) -> str:
    """Rsn, or nothing: the table in the module's docstring."""
    if report.outcome == VerificationOutcome.CMTC:
        if report.reason is None:
            return wrapped_xml("Rsn", "Cd", CLOSE_MATCH_CODE, indent)
        return wrapped_xml("Rsn", "Prtry", f"{report.outcome.value}/{report.reason.value}", indent)
    return "" if report.reason is None else wrapped_xml("Rsn", "Cd", report.reason.value, indent)


def _assignment_xml(message_id: str, created: str, assigner: str, assignee: str, indent: str) -> str:
    i = indent
    return f"""{i}<Assgnmt>
{i}  <MsgId>{escaped(message_id)}</MsgId>
{i}  <CreDtTm>{created}</CreDtTm>
{i}  <Assgnr>
{agent_xml("Agt", assigner, i + "    ")}{i}  </Assgnr>
{i}  <Assgne>
{agent_xml("Agt", assignee, i + "    ")}{i}  </Assgne>
{i}</Assgnmt>
"""


# --- read ----------------------------------------------------------------------------------------


def parse_acmt023(data: bytes) -> VerificationRequest:
    """Read and validate an acmt.023.001.04 message: its one verification request."""
    return acmt023_from_document(_root(data, ACMT023, ACMT023_NAME))


def parse_acmt024(data: bytes) -> VerificationReport:
    """Read and validate an acmt.024.001.04 message: its one verification report."""
    return acmt024_from_document(_root(data, ACMT024, ACMT024_NAME))


def acmt023_from_document(root: Any) -> VerificationRequest:
    """The request an acmt.023 Document element carries: ISO's schema first, then the scheme's."""
    _check_document(root, ACMT023, ACMT023_NAME)
    found = gather(root, _REQUEST_FIELDS)
    _the_one(found["verification"], "Vrfctn")  # ISO's schema requires at least one
    fields = {field: first_text(found, field) for field in REQUEST_ELEMENT_OF_FIELD if field != "citizen_id"}
    fields["citizen_id"] = _citizen_id(found)
    return _validated(VerificationRequest, fields, REQUEST_ELEMENT_OF_FIELD)


def acmt024_from_document(root: Any) -> VerificationReport:
    """The report an acmt.024 Document element carries: ISO's schema first, then the scheme's."""
    _check_document(root, ACMT024, ACMT024_NAME)
    found = gather(root, _REPORT_FIELDS)
    _the_one(found["report"], "Rpt")  # ISO's schema requires at least one
    matched = (first_text(found, "outcome") or "").strip() in ("true", "1")
    outcome, reason, reason_element = _outcome(found, matched)
    fields = {
        "original_verification_id": first_text(found, "original_verification_id"),
        "agent": first_text(found, "agent"),
        "outcome": outcome,
        "holder_name_masked": first_text(found, "holder_name_masked"),
        "reason": reason,
    }
    elements = {**REPORT_ELEMENT_OF_FIELD, "reason": reason_element}
    return _validated(VerificationReport, fields, elements)


def _outcome(found: dict[str, list[Any]], matched: bool) -> tuple[str, str | None, str]:
    """(outcome, reason code, the element the reason came from): the docstring's table, read."""
    proprietary = first_text(found, "proprietary_reason")
    if proprietary is not None:
        match = _PROPRIETARY.fullmatch(proprietary.strip())
        if match is None or (match[1] == VerificationOutcome.MTCH) != matched:
            rule = (
                "must be a Verification of Payee outcome (MTCH, CMTC or NMTC), with /reason or without, "
                f"and MTCH exactly when Vrfctn is true (it is {str(matched).lower()}), not {proprietary!r}"
            )
            raise _problem("Rpt/Rsn/Prtry", rule)
        return match[1], match[2], "Rpt/Rsn/Prtry"
    code = first_text(found, "reason")
    if code in (CLOSE_MATCH_CODE, *ISO_MISMATCH_REASONS) and matched:
        rule = f"{code} says the account is not this person's, or not exactly: Vrfctn must be false"
        raise _problem("Rpt/Rsn/Cd", rule)
    if code == CLOSE_MATCH_CODE:
        return VerificationOutcome.CMTC, None, "Rpt/Rsn/Cd"
    outcome = VerificationOutcome.MTCH if matched else VerificationOutcome.NMTC
    return outcome, ISO_MISMATCH_REASONS.get(code or "", code), "Rpt/Rsn/Cd"


def _citizen_id(found: dict[str, list[Any]]) -> str | None:
    """Pty/Id's citizen id: one PrvtId/Othr with SchmeNm/Cd NIDN, or nothing; anything else there
    is refused rather than left unchecked."""
    if "party_identification" not in found:
        return None
    others = found.get("other_identification", ())
    if len(others) != 1 or first_text(found, "other_scheme") != CITIZEN_ID_SCHEME:
        rule = (
            "the scheme identifies a person by one citizen id: PrvtId/Othr/Id with SchmeNm/Cd "
            f"{CITIZEN_ID_SCHEME} (12 digits), and no other identification"
        )
        raise _problem("Vrfctn/PtyAndAcctId/Pty/Id", rule)
    return first_text(found, "citizen_id")


def _the_one(found: list[Any], name: str) -> Any:
    if len(found) > VERIFICATIONS_PER_MESSAGE_MAX:
        rule = f"{len(found)} in one message is over the scheme's limit of {VERIFICATIONS_PER_MESSAGE_MAX}"
        raise _problem(name, rule)
    return found[0]  # ISO's schema requires at least one


def _validated(model: type[M], fields: dict[str, Any], elements: dict[str, str]) -> M:
    try:
        return model.model_validate({key: value for key, value in fields.items() if value is not None})
    except ValidationError as error:
        problems = [FieldProblem(elements.get(p.field, p.field), p.rule, p.reason) for p in problems_of(error)]
        raise MessageInvalid(problems) from None


def _root(data: bytes, namespace: str, name: str) -> Any:
    if len(data) > MESSAGE_BYTES_MAX:
        raise _problem("(message)", f"{len(data)} bytes is over the limit of {MESSAGE_BYTES_MAX} bytes")
    return read_root(data, namespace, name, "(message)")


def _check_document(root: Any, namespace: str, name: str) -> None:
    """The root is this message's Document, and valid by ISO's schema (every fault, each named)."""
    if root.tag != f"{{{namespace}}}Document":
        raise _problem("Document", f"must be a {name} Document in namespace {namespace}")
    schema = iso_schema(name)
    try:
        if schema.validate(root):
            return
    except etree.XMLSchemaValidateError as error:  # an unresolved entity reference, say
        raise _problem("(message)", f"cannot be checked against the schema: {error}") from None
    faults = list(schema.error_log)[:SCHEMA_ERRORS_LISTED_MAX]
    problems = [
        FieldProblem(_path(root, _element_at(root, e.path)), without_namespaces(e.message), StatusReason.FF01)
        for e in faults
    ]
    raise MessageInvalid(problems)


def _element_at(root: Any, path: str | None) -> Any:
    """lxml names a schema fault's element by a positional XPath (`/*/*[2]/*[1]`) from the element
    validated, as if it were the root (so a Document inside an envelope is named rightly)."""
    if not path or not path.startswith("/*"):
        return None
    try:
        found = root.xpath("." + path[2:])
    except etree.XPathError:
        found = []
    return found[0] if found and isinstance(found[0], etree._Element) else None


def _path(root: Any, element: Any) -> str:
    """`Vrfctn/PtyAndAcctId/Acct/Id/Othr/Id`: the element's path below the message (IdVrfctnReq or
    IdVrfctnRpt); a step among siblings of its name counted from 1 (`Othr[2]`)."""
    steps: list[str] = []
    node = element
    while node is not None and node is not root:
        parent = node.getparent()
        name = etree.QName(node).localname
        namesakes = [] if parent is None else [s for s in parent if s.tag == node.tag]
        steps.append(f"{name}[{namesakes.index(node) + 1}]" if len(namesakes) > 1 else name)
        node = parent
    steps.reverse()
    if node is None:  # not below the root after all: name nothing rather than the wrong thing
        return "Document"
    return "/".join(steps[1:]) if len(steps) > 1 else (steps[0] if steps else "Document")


def _problem(field: str, rule: str) -> MessageInvalid:
    return MessageInvalid([FieldProblem(field, rule, StatusReason.FF01)])
