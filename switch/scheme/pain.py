"""ISO 20022 bulk files: pain.001.001.09 (customer credit transfer initiation) in, pain.002.001.12
(customer payment status report) out. Parse, validate against the ISO schema, write.

Schemas: ISO's pain.001.001.09 and pain.002.001.12 XSDs, shipped in `switch.scheme.xsd`; lxml
validates (xmlschema, pure Python, takes minutes on a 100,000-item file; lxml takes a second).
The parser refuses entities, DTDs and network access.

How the payroll maps onto pain.001: one PmtInf per program and cycle, its PmtInfId is
"<cycle>/<program>" (for example "2026-12/merit_person"); the debtor agent is the Treasury's BIN in
DbtrAgt/FinInstnId/ClrSysMmbId/MmbId; each CdtTrfTxInf carries EndToEndId, InstdAmt in VND, the
beneficiary's name in Cdtr/Nm and citizen id in Cdtr/Id/PrvtId/Othr/Id (scheme NIDN).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lxml import etree

from switch.scheme.codes import StatusReason
from switch.scheme.disbursement import (
    DisbursementFile,
    DisbursementItem,
    RowError,
    build_file,
    check_message_id,
    check_row_count,
    check_size,
    digest_of,
    file_problem,
    with_row_errors,
)
from switch.scheme.xml import checked, iso_schema, maker, read_root, schema_problems, sub_maker

PAIN001 = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"
PAIN002 = "urn:iso:std:iso:20022:tech:xsd:pain.002.001.12"
_PAYMENT_INFO_ID = re.compile(r"(?P<cycle>[0-9]{4}-[0-9]{2})/(?P<program>[a-z_]+)")
_AMOUNT = re.compile(r"[0-9]+(\.0*)?")


def pain001_schema() -> etree.XMLSchema:
    return iso_schema("pain.001.001.09")


def pain002_schema() -> etree.XMLSchema:
    return iso_schema("pain.002.001.12")


# --- pain.001 in --------------------------------------------------------------------------------


def parse_pain001(data: bytes) -> DisbursementFile:
    check_size(data)
    root = read_root(data, PAIN001, "pain.001.001.09", "file")
    problems = schema_problems(pain001_schema(), root)
    if problems:
        raise file_problem("Document", "not valid against the pain.001.001.09 schema: " + "; ".join(problems))
    ns = {"p": PAIN001}
    header = root.find("p:CstmrCdtTrfInitn/p:GrpHdr", ns)
    message_id = check_message_id(header.findtext("p:MsgId", namespaces=ns), "GrpHdr.MsgId")
    transactions = root.findall("p:CstmrCdtTrfInitn/p:PmtInf/p:CdtTrfTxInf", ns)
    check_row_count(len(transactions))
    _check_control(header, transactions, ns)
    agents = {a.text for a in root.iterfind("p:CstmrCdtTrfInitn/p:PmtInf/p:DbtrAgt//p:ClrSysMmbId/p:MmbId", ns)}
    if len(agents) != 1:
        raise file_problem("PmtInf.DbtrAgt", "every PmtInf must name one debtor agent BIN in ClrSysMmbId/MmbId")
    rows: list[dict[str, Any]] = []
    errors: list[RowError] = []
    # Each PmtInf's id read once: lxml's find on an element walks all its children (100,000 here).
    payment_infos = root.findall("p:CstmrCdtTrfInitn/p:PmtInf", ns)
    info_ids = [info.findtext("p:PmtInfId", namespaces=ns) or "" for info in payment_infos]
    in_order = [
        (info_id, tx)
        for info, info_id in zip(payment_infos, info_ids, strict=True)
        for tx in info.iterchildren(f"{{{PAIN001}}}CdtTrfTxInf")
    ]
    for number, (payment_info, tx) in enumerate(in_order, start=1):
        row, problem = _row(payment_info, tx, ns)
        if problem is not None:  # a fault the item model cannot name: said here, with its element
            errors.append(RowError(number, problem[0], problem[1], StatusReason.FF01, row.get("end_to_end_id")))
            row = {}
        rows.append(row)
    parsed = build_file(message_id, rows, digest_of(data), "pain.001", debtor_agent=agents.pop())
    return with_row_errors(parsed, errors)


def _check_control(header: Any, transactions: list[Any], ns: dict[str, str]) -> None:
    declared = int(header.findtext("p:NbOfTxs", namespaces=ns))
    if declared != len(transactions):
        raise file_problem("GrpHdr.NbOfTxs", f"says {declared} transactions, the file holds {len(transactions)}")


def _row(payment_info: str, tx: Any, ns: dict[str, str]) -> tuple[dict[str, Any], tuple[str, str] | None]:
    """The row for the item model, or the element at fault and its rule."""
    match = _PAYMENT_INFO_ID.fullmatch(payment_info)
    amount_element = tx.find("p:Amt/p:InstdAmt", ns)
    row: dict[str, Any] = {
        "end_to_end_id": tx.findtext("p:PmtId/p:EndToEndId", namespaces=ns),
        "citizen_id": tx.findtext("p:Cdtr/p:Id/p:PrvtId/p:Othr/p:Id", namespaces=ns),
        "name": tx.findtext("p:Cdtr/p:Nm", namespaces=ns),
        "amount_vnd": _amount(amount_element),
        "program": match.group("program") if match else None,
        "cycle": match.group("cycle") if match else None,
    }
    row = {k: v for k, v in row.items() if v is not None}
    if match is None:
        return row, ("program", f"PmtInfId {payment_info[:40]!r} must be <cycle>/<program>, as 2026-12/merit_person")
    if amount_element is not None and amount_element.get("Ccy") != "VND":
        return row, ("amount_vnd", f"InstdAmt Ccy must be VND, not {amount_element.get('Ccy')!r}")
    return row, None


def _amount(element: Any) -> Any:
    """InstdAmt in VND: a whole number of dong. The schema allows five decimals; VND has none (CH20)."""
    if element is None:
        return None
    text = element.text.strip()
    if _AMOUNT.fullmatch(text):
        return int(text.split(".")[0])
    return text  # a fraction: the item model refuses it with CH20


def write_pain001(
    message_id: str,
    created: datetime,
    initiator: str,
    debtor_agent: str,
    debtor_account: str,
    items: Sequence[DisbursementItem],
) -> bytes:
    """A pain.001.001.09 for the items, one PmtInf per program and cycle; checked against the schema."""
    p = maker(PAIN001)
    groups: dict[tuple[str, str], list[DisbursementItem]] = {}
    for item in items:
        groups.setdefault((item.cycle, item.program.value), []).append(item)
    header = p(
        "GrpHdr",
        p("MsgId", message_id),
        p("CreDtTm", created.isoformat(timespec="seconds")),
        p("NbOfTxs", str(len(items))),
        p("CtrlSum", str(sum(i.amount_vnd for i in items))),
        p("InitgPty", p("Nm", initiator)),
    )
    infos = [_payment_info(p, key, group, initiator, debtor_agent, debtor_account) for key, group in groups.items()]
    document = p("Document", p("CstmrCdtTrfInitn", header, *infos))
    return checked(document, pain001_schema(), "pain.001")


def _payment_info(
    p: Any, key: tuple[str, str], items: list[DisbursementItem], initiator: str, agent: str, account: str
) -> Any:
    cycle, program = key
    info = p(
        "PmtInf",
        p("PmtInfId", f"{cycle}/{program}"),
        p("PmtMtd", "TRF"),
        p("NbOfTxs", str(len(items))),
        p("CtrlSum", str(sum(i.amount_vnd for i in items))),
        p("PmtTpInf", p("CtgyPurp", p("Cd", "SSBE"))),
        p("ReqdExctnDt", p("Dt", f"{cycle}-01")),
        p("Dbtr", p("Nm", initiator)),
        p("DbtrAcct", p("Id", p("Othr", p("Id", account)))),
        p("DbtrAgt", p("FinInstnId", p("ClrSysMmbId", p("MmbId", agent)))),
    )
    for item in items:
        _transaction(info, item)
    return info


def _transaction(info: Any, item: DisbursementItem) -> None:
    # SubElement, not the maker (switch.scheme.xml.sub_maker says why).
    sub = sub_maker(PAIN001)
    tx = sub(info, "CdtTrfTxInf")
    sub(sub(tx, "PmtId"), "EndToEndId", item.end_to_end_id)
    sub(sub(tx, "Amt"), "InstdAmt", str(item.amount_vnd)).set("Ccy", "VND")
    creditor = sub(tx, "Cdtr")
    sub(creditor, "Nm", item.name)
    other = sub(sub(sub(creditor, "Id"), "PrvtId"), "Othr")
    sub(other, "Id", item.citizen_id)
    sub(sub(other, "SchmeNm"), "Cd", "NIDN")
    sub(sub(tx, "Purp"), "Cd", "SSBE")
    sub(sub(tx, "RmtInf"), "Ustrd", f"{item.program.value} {item.cycle}")


# --- pain.002 out -------------------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class ItemReport:
    end_to_end_id: str
    payment_info_id: str  # "<cycle>/<program>", or REFUSED for a row refused at intake
    amount_vnd: int | None  # None: a refused row whose amount could not be read
    status: str  # ACSC paid, RJCT held or on the cash list, ACSP still in process
    reason: StatusReason | None
    note: str | None = None  # "cash list" for an item the post office pays


def write_pain002(
    message_id: str,
    created: datetime,
    original_message_id: str,
    group_status: str,
    items: Sequence[ItemReport],
    original_message_name: str = "pain.001.001.09",
    group_reason: StatusReason | None = None,
) -> bytes:
    """The status of every transaction of one submission, grouped by PmtInf (rows refused at intake
    included, so OrgnlNbOfTxs is the original's count); checked against the schema."""
    p = maker(PAIN002)
    groups: dict[str, list[ItemReport]] = {}
    for item in items:
        groups.setdefault(item.payment_info_id, []).append(item)
    amounts = [i.amount_vnd for i in items]
    control = [p("OrgnlCtrlSum", str(sum(a for a in amounts if a is not None)))] if None not in amounts else []
    reason = [p("StsRsnInf", p("Rsn", p("Cd", group_reason.value)))] if group_reason is not None else []
    original = p(
        "OrgnlGrpInfAndSts",
        p("OrgnlMsgId", original_message_id),
        p("OrgnlMsgNmId", original_message_name),
        p("OrgnlNbOfTxs", str(len(items))),
        *control,
        p("GrpSts", group_status),
        *reason,
    )
    infos = []
    for key, group in groups.items():
        info = p("OrgnlPmtInfAndSts", p("OrgnlPmtInfId", key))
        for item in group:
            _item_status(info, item)
        infos.append(info)
    header = p("GrpHdr", p("MsgId", message_id), p("CreDtTm", created.isoformat(timespec="seconds")))
    document = p("Document", p("CstmrPmtStsRpt", header, original, *infos))
    return checked(document, pain002_schema(), "pain.002")


def _item_status(info: Any, item: ItemReport) -> None:
    sub = sub_maker(PAIN002)
    status = sub(info, "TxInfAndSts")
    sub(status, "OrgnlEndToEndId", item.end_to_end_id)
    sub(status, "TxSts", item.status)
    if item.reason is not None:
        reason = sub(status, "StsRsnInf")
        sub(sub(reason, "Rsn"), "Cd", item.reason.value)
        if item.note:
            sub(reason, "AddtlInf", item.note)
    if item.amount_vnd is not None:
        sub(sub(sub(status, "OrgnlTxRef"), "Amt"), "InstdAmt", str(item.amount_vnd)).set("Ccy", "VND")
