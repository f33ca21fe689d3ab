"""The wire's documents as the scheme wrote them before it wrote text: an lxml tree built element
by element from the mappings in each codec's docstring, then serialised by lxml (pretty_print).
The codecs now write text; the tests hold them to these bytes, for every example, so that what
they write is provably the document this tree is, and the tree is checked against ISO's schema.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lxml import etree

from switch.scheme.acmt import ACMT023, ACMT023_NAME, ACMT024, ACMT024_NAME
from switch.scheme.codes import VerificationOutcome
from switch.scheme.head import HEAD, HEAD_NAME, BusinessHeader
from switch.scheme.messages import (
    CreditTransfer,
    CreditTransferMessage,
    Party,
    StatusReport,
    StatusReportMessage,
    StatusRequest,
    VerificationReport,
    VerificationRequest,
)
from switch.scheme.pacs002 import PACS002, PACS002_NAME, additional_information_pieces, settlement_time
from switch.scheme.pacs008 import PACS008, PACS008_NAME, PROXY_TYPES, SWITCH_MEMBER_ID
from switch.scheme.pacs028 import PACS028, PACS028_NAME
from switch.scheme.wire import WireMessage
from switch.scheme.xml import iso_schema, valid

NAPAS = SWITCH_MEMBER_ID


def sub(parent: Any, tag: str, text: str | None = None) -> Any:
    """A child in the parent's namespace, with text when given."""
    element = etree.SubElement(parent, f"{{{etree.QName(parent).namespace}}}{tag}")
    if text is not None:
        element.text = text
    return element


def root(namespace: str, tag: str) -> Any:
    return etree.Element(f"{{{namespace}}}{tag}", nsmap={None: namespace})


def path(parent: Any, steps: str, text: str | None = None) -> Any:
    """`A/B/C` below the parent, each step a new element; the text on the last."""
    *through, last = steps.split("/")
    for step in through:
        parent = sub(parent, step)
    return sub(parent, last, text)


def agent(parent: Any, tag: str, member_id: str) -> None:
    path(parent, f"{tag}/FinInstnId/ClrSysMmbId/MmbId", member_id)


def serialised(element: Any) -> bytes:
    return bytes(etree.tostring(element, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def when(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


# --- each document -------------------------------------------------------------------------------------


def header_tree(header: BusinessHeader) -> Any:
    element = root(HEAD, "AppHdr")
    agent(sub(element, "Fr"), "FIId", header.sender)
    agent(sub(element, "To"), "FIId", header.receiver)
    sub(element, "BizMsgIdr", header.business_message_id)
    sub(element, "MsgDefIdr", header.message_definition)
    sub(element, "CreDt", when(header.created))
    return valid(element, iso_schema(HEAD_NAME), HEAD_NAME)


def pacs008_tree(message: CreditTransferMessage, created: datetime) -> Any:
    document = root(PACS008, "Document")
    body = sub(document, "FIToFICstmrCdtTrf")
    header = sub(body, "GrpHdr")
    sub(header, "MsgId", message.message_id)
    sub(header, "CreDtTm", when(created))
    sub(header, "NbOfTxs", str(len(message.transactions)))
    path(header, "SttlmInf/SttlmMtd", "CLRG")
    for transfer in message.transactions:
        _transaction(sub(body, "CdtTrfTxInf"), transfer)
    return valid(document, iso_schema(PACS008_NAME), PACS008_NAME)


def _transaction(tx: Any, transfer: CreditTransfer) -> None:
    path(tx, "PmtId/EndToEndId", transfer.end_to_end_id)
    path(tx.find(f"{{{PACS008}}}PmtId"), "TxId", transfer.transaction_id)
    sub(tx, "IntrBkSttlmAmt", str(transfer.amount_vnd)).set("Ccy", transfer.currency)
    sub(tx, "ChrgBr", "SLEV")
    _party(sub(tx, "Dbtr"), transfer.debtor)
    path(tx, "DbtrAcct/Id/Othr/Id", transfer.debtor_account)
    agent(tx, "DbtrAgt", transfer.debtor_agent)
    agent(tx, "CdtrAgt", transfer.creditor_agent or SWITCH_MEMBER_ID)
    _party(sub(tx, "Cdtr"), transfer.creditor)
    if transfer.creditor_account is not None or transfer.creditor_alias is not None:
        account = sub(tx, "CdtrAcct")
        if transfer.creditor_account is not None:
            path(account, "Id/Othr/Id", transfer.creditor_account)
        if transfer.creditor_alias is not None:
            proxy = sub(account, "Prxy")
            path(proxy, "Tp/Cd", PROXY_TYPES[transfer.creditor_alias.type])
            sub(proxy, "Id", transfer.creditor_alias.value)
    path(tx, "Purp/Cd", transfer.purpose.value)
    if transfer.remittance_information is not None:
        path(tx, "RmtInf/Ustrd", transfer.remittance_information)


def _party(element: Any, party: Party) -> None:
    if party.name is not None:
        sub(element, "Nm", party.name)
    if party.citizen_id is not None:
        other = path(element, "Id/PrvtId/Othr")
        sub(other, "Id", party.citizen_id)
        path(other, "SchmeNm/Cd", "NIDN")


def pacs002_tree(message: StatusReportMessage, created: datetime) -> Any:
    document = root(PACS002, "Document")
    body = sub(document, "FIToFIPmtStsRpt")
    header = sub(body, "GrpHdr")
    sub(header, "MsgId", message.message_id)
    sub(header, "CreDtTm", when(created))
    for report in message.reports:
        _report(sub(body, "TxInfAndSts"), report)
    return valid(document, iso_schema(PACS002_NAME), PACS002_NAME)


def _report(tx: Any, report: StatusReport) -> None:
    group = sub(tx, "OrgnlGrpInf")
    sub(group, "OrgnlMsgId", report.original_message_id)
    sub(group, "OrgnlMsgNmId", PACS008_NAME)
    sub(tx, "OrgnlEndToEndId", report.original_end_to_end_id)
    sub(tx, "OrgnlTxId", report.original_transaction_id)
    sub(tx, "TxSts", report.transaction_status.value)
    pieces = additional_information_pieces(report.additional_information)
    if report.status_reason is not None or pieces:
        reason = sub(tx, "StsRsnInf")
        if report.status_reason is not None:
            path(reason, "Rsn/Cd", report.status_reason.value)
        for piece in pieces:
            sub(reason, "AddtlInf", piece)
    if report.settled_at_ms is not None:
        path(tx, "FctvIntrBkSttlmDt/DtTm", settlement_time(report.settled_at_ms))
    reference = sub(tx, "OrgnlTxRef")
    if report.amount_vnd is not None:
        sub(reference, "IntrBkSttlmAmt", str(report.amount_vnd)).set("Ccy", "VND")
    agent(reference, "DbtrAgt", report.debtor_agent)
    if report.creditor_agent is not None:
        agent(reference, "CdtrAgt", report.creditor_agent)


def pacs028_tree(request: StatusRequest, created: datetime) -> Any:
    document = root(PACS028, "Document")
    body = sub(document, "FIToFIPmtStsReq")
    header = sub(body, "GrpHdr")
    sub(header, "MsgId", request.message_id)
    sub(header, "CreDtTm", when(created))
    transaction = sub(body, "TxInf")
    sub(transaction, "OrgnlTxId", request.original_transaction_id)
    agent(sub(transaction, "OrgnlTxRef"), "DbtrAgt", request.debtor_agent)
    return valid(document, iso_schema(PACS028_NAME), PACS028_NAME)


def _assignment(body: Any, message_id: str, created: datetime, assigner: str, assignee: str) -> None:
    assignment = sub(body, "Assgnmt")
    sub(assignment, "MsgId", message_id)
    sub(assignment, "CreDtTm", when(created))
    agent(sub(assignment, "Assgnr"), "Agt", assigner)
    agent(sub(assignment, "Assgne"), "Agt", assignee)


def acmt023_tree(request: VerificationRequest, created: datetime, assigner: str, assignee: str) -> Any:
    document = root(ACMT023, "Document")
    body = sub(document, "IdVrfctnReq")
    _assignment(body, request.verification_id, created, assigner, assignee)
    verification = sub(body, "Vrfctn")
    sub(verification, "Id", request.verification_id)
    identification = sub(verification, "PtyAndAcctId")
    party = sub(identification, "Pty")
    sub(party, "Nm", request.name)
    if request.citizen_id is not None:
        other = path(party, "Id/PrvtId/Othr")
        sub(other, "Id", request.citizen_id)
        path(other, "SchmeNm/Cd", "NIDN")
    path(identification, "Acct/Id/Othr/Id", request.account)
    agent(identification, "Agt", request.agent)
    return valid(document, iso_schema(ACMT023_NAME), ACMT023_NAME)


def acmt024_tree(report: VerificationReport, created: datetime, assigner: str, assignee: str) -> Any:
    document = root(ACMT024, "Document")
    body = sub(document, "IdVrfctnRpt")
    _assignment(body, report.original_verification_id, created, assigner, assignee)
    path(body, "OrgnlAssgnmt/MsgId", report.original_verification_id)
    answer = sub(body, "Rpt")
    sub(answer, "OrgnlId", report.original_verification_id)
    sub(answer, "Vrfctn", "true" if report.outcome == VerificationOutcome.MTCH else "false")
    if report.outcome == VerificationOutcome.CMTC and report.reason is None:
        path(answer, "Rsn/Cd", "PN02")
    elif report.outcome == VerificationOutcome.CMTC:
        path(answer, "Rsn/Prtry", f"CMTC/{report.reason}")
    elif report.reason is not None:
        path(answer, "Rsn/Cd", report.reason.value)
    updated = sub(answer, "UpdtdPtyAndAcctId")
    if report.holder_name_masked is not None:
        path(updated, "Pty/Nm", report.holder_name_masked)
    agent(updated, "Agt", report.agent)
    return valid(document, iso_schema(ACMT024_NAME), ACMT024_NAME)


def envelope(message: WireMessage, sender: str, receiver: str, created: datetime) -> bytes:
    """The message in its envelope (switch.scheme.wire's), as a tree."""
    if isinstance(message, CreditTransferMessage):
        document, definition, message_id = pacs008_tree(message, created), PACS008_NAME, message.message_id
    elif isinstance(message, StatusReportMessage):
        document, definition, message_id = pacs002_tree(message, created), PACS002_NAME, message.message_id
    elif isinstance(message, StatusRequest):
        document, definition, message_id = pacs028_tree(message, created), PACS028_NAME, message.message_id
    elif isinstance(message, VerificationRequest):
        document = acmt023_tree(message, created, sender, receiver)
        definition, message_id = ACMT023_NAME, message.verification_id
    else:
        document = acmt024_tree(message, created, sender, receiver)
        definition, message_id = ACMT024_NAME, message.original_verification_id
    top = etree.Element("Envelope")
    top.append(header_tree(BusinessHeader(sender, receiver, message_id, definition, created)))
    top.append(document)
    return serialised(top)
