"""pacs.002.001.12 (FI to FI payment status report) on the wire: parse, validate, write.

One message answers 1 to TRANSACTIONS_PER_MESSAGE_MAX transactions (`StatusReportMessage`), each
report naming its own original message, so one pacs.002 can answer transactions of several
pacs.008s. Every document written validates against ISO's schema (`switch.scheme.xsd`); checked as
it is written in the tests, where a writer that breaks it raises AssertionError (`switch.scheme.xml`
says why not in use). Every document read is validated before it is trusted, by a parser that
refuses DTDs, entities and network access.

A fault of the message itself (not XML, another namespace, a group header that breaks the schema,
no report or more than the limit, a group status in OrgnlGrpInfAndSts) refuses it whole with
`MessageInvalid`, naming the element and the rule. A report that breaks the schema or a scheme rule
is refused on its own (`RefusedTransaction`, its path like `TxInfAndSts[3]/TxSts`); the others are
read. ISO's pacs.002.001.12 has no count of its reports (no NbOfTxs) for a message to get wrong.

How a status report maps onto pacs.002 (TxInfAndSts, one per report):

    (message_id)             GrpHdr/MsgId; GrpHdr/CreDtTm when the message was made
    original_message_id      OrgnlGrpInf/OrgnlMsgId, with OrgnlMsgNmId "pacs.008.001.12": the
                             scheme reports on credit transfers, and a report on another message
                             is refused
    original_end_to_end_id   OrgnlEndToEndId
    original_transaction_id  OrgnlTxId
    transaction_status       TxSts (ACTC, ACSP, ACSC, RJCT, PDNG)
    status_reason            StsRsnInf/Rsn/Cd (at most one StsRsnInf, a code and not Prtry)
    additional_information   StsRsnInf/AddtlInf: ISO's Max105Text, so the text is cut into pieces
                             of at most 105 characters, and the pieces are joined again when read
                             (an empty text is written as none)
    settled_at_ms            FctvIntrBkSttlmDt/DtTm ("date and time at which a transaction is
                             completed and cleared"), in UTC with milliseconds; a time read without
                             an offset is taken as UTC, a date without a time is refused
    amount_vnd               OrgnlTxRef/IntrBkSttlmAmt, Ccy="VND", a whole number of dong
    debtor_agent             OrgnlTxRef/DbtrAgt/FinInstnId/ClrSysMmbId/MmbId (the BIN)
    creditor_agent           OrgnlTxRef/CdtrAgt/FinInstnId/ClrSysMmbId/MmbId, when known
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from switch.scheme.codes import StatusReason
from switch.scheme.messages import TRANSACTIONS_PER_MESSAGE_MAX, StatusReport, StatusReportMessage
from switch.scheme.pacs008 import PACS008_NAME, SWITCH_MEMBER_ID, RefusedTransaction
from switch.scheme.validation import FieldProblem, problems_of
from switch.scheme.xml import (
    agent_xml,
    amount_value,
    children_named,
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
    wrapped_xml,
    written,
)

PACS002 = "urn:iso:std:iso:20022:tech:xsd:pacs.002.001.12"
PACS002_NAME = "pacs.002.001.12"
# 1,000 reports with reasons and five pieces of additional information come to about 2.5 MB.
MESSAGE_BYTES_MAX = 4 * 1024 * 1024
ADDITIONAL_INFORMATION_PIECE_CHARS_MAX = 105  # ISO's Max105Text
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_MS = timedelta(milliseconds=1)
AGENT_PATH = "FinInstnId/ClrSysMmbId/MmbId"
ELEMENT_OF_FIELD = {  # a scheme rule's field, named as the element an integrator wrote
    "original_message_id": "OrgnlGrpInf/OrgnlMsgId",
    "original_end_to_end_id": "OrgnlEndToEndId",
    "original_transaction_id": "OrgnlTxId",
    "transaction_status": "TxSts",
    "status_reason": "StsRsnInf/Rsn/Cd",
    "additional_information": "StsRsnInf/AddtlInf",
    "settled_at_ms": "FctvIntrBkSttlmDt/DtTm",
    "amount_vnd": "OrgnlTxRef/IntrBkSttlmAmt",
    "debtor_agent": f"OrgnlTxRef/DbtrAgt/{AGENT_PATH}",
    "creditor_agent": f"OrgnlTxRef/CdtrAgt/{AGENT_PATH}",
}
_S = f"{{{PACS002}}}"  # an element's Clark tag is this and its name
_DOCUMENT, _BODY, _HEADER, _REPORT, _GROUP_STATUS = (
    f"{_S}{name}" for name in ("Document", "FIToFIPmtStsRpt", "GrpHdr", "TxInfAndSts", "OrgnlGrpInfAndSts")
)
_HEADER_FIELDS = fields_of(PACS002, {"message_id": "MsgId", "created": "CreDtTm"})
_REPORT_FIELDS = fields_of(
    PACS002,
    {
        **ELEMENT_OF_FIELD,
        "original_message_name": "OrgnlGrpInf/OrgnlMsgNmId",
        "reason_information": "StsRsnInf",
        "proprietary_reason": "StsRsnInf/Rsn/Prtry",
        "settlement_date": "FctvIntrBkSttlmDt/Dt",
    },
)
Found = dict[str, list[Any]]


@dataclass(slots=True, frozen=True)
class ReadStatusReports:
    """A pacs.002 as read: the reports that can be taken, in order, and those refused."""

    message_id: str
    created: datetime
    reports: tuple[StatusReport, ...]
    refused: tuple[RefusedTransaction, ...]

    @property
    def count(self) -> int:
        return len(self.reports) + len(self.refused)


# --- write ---------------------------------------------------------------------------------------


def write_pacs002(message: StatusReportMessage, created: datetime) -> bytes:
    """The message as a pacs.002.001.12 document, valid by ISO's schema."""
    return written(pacs002_xml(message, iso_datetime(created), ""), PACS002_NAME, PACS002_NAME)


def pacs002_document(message: StatusReportMessage, created: datetime) -> Any:
    """The message as a pacs.002.001.12 Document element, valid by ISO's schema."""
    return element_of(pacs002_xml(message, iso_datetime(created), ""), PACS002_NAME, PACS002_NAME)


def pacs002_xml(message: StatusReportMessage, created: str, indent: str) -> str:
    """The message as pacs.002.001.12 Document text at `indent` (`created`: an ISODateTime)."""
    i = indent
    body = i + "    "
    return "".join(
        (
            f"""{i}<Document xmlns="{PACS002}">
{i}  <FIToFIPmtStsRpt>
{i}    <GrpHdr>
{i}      <MsgId>{escaped(message.message_id)}</MsgId>
{i}      <CreDtTm>{created}</CreDtTm>
{i}    </GrpHdr>
""",
            *[_report_xml(report, body) for report in message.reports],
            f"{i}  </FIToFIPmtStsRpt>\n{i}</Document>\n",
        )
    )


def _report_xml(report: StatusReport, indent: str) -> str:
    i, inner = indent, indent + "  "
    settled, amount = report.settled_at_ms, report.amount_vnd
    return "".join(
        (
            f"""{i}<TxInfAndSts>
{i}  <OrgnlGrpInf>
{i}    <OrgnlMsgId>{escaped(report.original_message_id)}</OrgnlMsgId>
{i}    <OrgnlMsgNmId>{PACS008_NAME}</OrgnlMsgNmId>
{i}  </OrgnlGrpInf>
{i}  <OrgnlEndToEndId>{escaped(report.original_end_to_end_id)}</OrgnlEndToEndId>
{i}  <OrgnlTxId>{escaped(report.original_transaction_id)}</OrgnlTxId>
{i}  <TxSts>{escaped(report.transaction_status.value)}</TxSts>
""",
            _reason_xml(report, inner),
            "" if settled is None else wrapped_xml("FctvIntrBkSttlmDt", "DtTm", settlement_time(settled), inner),
            f"{i}  <OrgnlTxRef>\n",
            "" if amount is None else f'{i}    <IntrBkSttlmAmt Ccy="VND">{amount}</IntrBkSttlmAmt>\n',
            agent_xml("DbtrAgt", report.debtor_agent, inner + "  "),
            "" if report.creditor_agent is None else agent_xml("CdtrAgt", report.creditor_agent, inner + "  "),
            f"{i}  </OrgnlTxRef>\n{i}</TxInfAndSts>\n",
        )
    )


def _reason_xml(report: StatusReport, indent: str) -> str:
    """StsRsnInf: the reason's code and the additional information in pieces, or nothing."""
    i = indent
    pieces = additional_information_pieces(report.additional_information)
    if report.status_reason is None and not pieces:
        return ""
    reason = "" if report.status_reason is None else wrapped_xml("Rsn", "Cd", report.status_reason.value, i + "  ")
    information = "".join(f"{i}  <AddtlInf>{escaped(piece)}</AddtlInf>\n" for piece in pieces)
    return f"{i}<StsRsnInf>\n{reason}{information}{i}</StsRsnInf>\n"


def additional_information_pieces(text: str | None) -> list[str]:
    """The text in pieces of at most 105 characters, in order: joined, they are the text."""
    if not text:
        return []
    size = ADDITIONAL_INFORMATION_PIECE_CHARS_MAX
    return [text[start : start + size] for start in range(0, len(text), size)]


def settlement_time(settled_at_ms: int) -> str:
    """Milliseconds since the epoch as an ISO date and time in UTC, to the millisecond."""
    return (EPOCH + settled_at_ms * ONE_MS).isoformat(timespec="milliseconds")


# --- read ----------------------------------------------------------------------------------------


def parse_pacs002(data: bytes) -> ReadStatusReports:
    """Read and validate a pacs.002: its reports that can be taken and those refused."""
    if len(data) > MESSAGE_BYTES_MAX:
        raise invalid("(message)", f"{len(data)} bytes is over the limit of {MESSAGE_BYTES_MAX} bytes")
    return pacs002_from_document(read_root(data, PACS002, PACS002_NAME, "(message)"))


def pacs002_from_document(root: Any) -> ReadStatusReports:
    """The reports a pacs.002 Document element carries (the root of a document, or the Document
    of an envelope), read and validated."""
    if root.tag != _DOCUMENT:
        raise invalid("Document", f"must be a {PACS002_NAME} Document in namespace {PACS002}")
    bodies = children_named(root, _BODY)
    reports = [tx for body in bodies for tx in children_named(body, _REPORT)]
    bad = schema_faults(root, iso_schema(PACS002_NAME), reports)
    _check_message(bodies, len(reports))
    header = gather(children_named(bodies[0], _HEADER)[0], _HEADER_FIELDS)  # the schema requires both
    taken: list[StatusReport] = []
    refused: list[RefusedTransaction] = []
    for index, tx in enumerate(reports):
        read = _report_read(index, gather(tx, _REPORT_FIELDS), bad.get(index))
        if isinstance(read, StatusReport):
            taken.append(read)
        else:
            refused.append(read)
    message_id = first_text(header, "message_id") or ""
    return ReadStatusReports(message_id, _created(header), tuple(taken), tuple(refused))


def _check_message(bodies: list[Any], count: int) -> None:
    if any(children_named(body, _GROUP_STATUS) for body in bodies):
        rule = "a group status is not read: the scheme reports each transaction in its own TxInfAndSts"
        raise invalid("OrgnlGrpInfAndSts", rule)
    if count == 0:
        raise invalid("TxInfAndSts", "at least one is required: the scheme reports each transaction")
    if count > TRANSACTIONS_PER_MESSAGE_MAX:
        raise invalid("TxInfAndSts", f"{count} reports is over the limit of {TRANSACTIONS_PER_MESSAGE_MAX}")


def _created(header: Found) -> datetime:
    text = first_text(header, "created") or ""
    try:
        return datetime.fromisoformat(text)
    except ValueError:  # the schema takes 24:00:00, Python does not
        raise invalid("GrpHdr/CreDtTm", f"{text!r} is not a date and time this scheme reads") from None


def _report_read(index: int, found: Found, broken: list[FieldProblem] | None) -> StatusReport | RefusedTransaction:
    """The report (its elements, `gather`'s), or its refusal: ISO's schema first (`broken`), then
    the scheme's rules."""
    if broken:
        return _refused(index, found, broken)
    prefix = f"TxInfAndSts[{index + 1}]"
    faults = [FieldProblem(f"{prefix}/{element}", rule, StatusReason.FF01) for element, rule in _usage_faults(found)]
    if faults:
        return _refused(index, found, faults)
    try:
        return StatusReport.model_validate(_fields(found))
    except ValidationError as error:
        return _refused(index, found, element_problems(prefix, problems_of(error), ELEMENT_OF_FIELD))


def _usage_faults(found: Found) -> list[tuple[str, str]]:
    """What ISO's schema allows and the scheme's usage does not: (element, rule) pairs."""
    faults = []
    name = first_text(found, "original_message_name")
    if name is not None and name != PACS008_NAME:
        rule = f"must be {PACS008_NAME}, the credit transfer reported on, not {name!r}"
        faults.append(("OrgnlGrpInf/OrgnlMsgNmId", rule))
    reasons = found.get("reason_information", ())
    if len(reasons) > 1:
        faults.append(("StsRsnInf", f"at most one: the scheme gives one reason per transaction, not {len(reasons)}"))
    if "proprietary_reason" in found:
        faults.append(("StsRsnInf/Rsn/Prtry", "not read: the reason must be an ISO code in Rsn/Cd"))
    if "settlement_date" in found:
        faults.append(("FctvIntrBkSttlmDt/Dt", "must be DtTm: the time of settlement, not only its date"))
    amounts = found.get("amount_vnd")
    if amounts is not None and amounts[0].get("Ccy") != "VND":
        faults.append(("OrgnlTxRef/IntrBkSttlmAmt/@Ccy", f"must be 'VND', not {amounts[0].get('Ccy')!r}"))
    return faults


def _fields(found: Found) -> dict[str, Any]:
    """The model's fields from the report's elements, as the model reads them: an element that
    is not there is a field not given."""
    information = [piece.text or "" for piece in found.get("additional_information", ())]
    creditor_agent = first_text(found, "creditor_agent")
    amount = first_text(found, "amount_vnd")
    settled = first_text(found, "settled_at_ms")
    fields: dict[str, Any] = {
        "original_message_id": first_text(found, "original_message_id"),
        "original_end_to_end_id": first_text(found, "original_end_to_end_id"),
        "original_transaction_id": first_text(found, "original_transaction_id"),
        "debtor_agent": first_text(found, "debtor_agent"),
        "transaction_status": first_text(found, "transaction_status"),
        "status_reason": first_text(found, "status_reason"),
        "creditor_agent": None if creditor_agent == SWITCH_MEMBER_ID else creditor_agent,
        "amount_vnd": None if amount is None else amount_value(amount),
        "settled_at_ms": None if settled is None else _milliseconds(settled),
        "additional_information": "".join(information) if information else None,
    }
    return {key: value for key, value in fields.items() if value is not None}


def _milliseconds(text: str) -> Any:
    """Milliseconds since the epoch; a time without an offset is UTC's. What Python cannot read
    goes to the model as text, which refuses it naming FctvIntrBkSttlmDt/DtTm."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return text
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // ONE_MS


def _refused(index: int, found: Found, problems: list[FieldProblem]) -> RefusedTransaction:
    return RefusedTransaction(
        index,
        first_text(found, "original_end_to_end_id"),
        first_text(found, "original_transaction_id"),
        first_text(found, "debtor_agent"),
        tuple(problems),
    )
