"""pain.001 as `switch.scheme.pain.write_pain001` wrote it before it wrote text: the whole lxml tree,
built element by element, then serialised (pretty_print). The writer now writes as it goes; the tests
hold it to these bytes, so that what it writes is provably the document this tree is."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from switch.scheme.disbursement import DisbursementItem
from switch.scheme.pain import PAIN001, pain001_schema
from switch.scheme.xml import checked, maker, sub_maker


def pain001_by_tree(
    message_id: str,
    created: datetime,
    initiator: str,
    debtor_agent: str,
    debtor_account: str,
    items: Sequence[DisbursementItem],
) -> bytes:
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
    infos = [
        _payment_info_element(p, f"{message_id[:31]}/{n}", cycle, group, initiator, debtor_agent, debtor_account)
        for n, ((cycle, _program), group) in enumerate(groups.items(), start=1)
    ]
    document = p("Document", p("CstmrCdtTrfInitn", header, *infos))
    return checked(document, pain001_schema(), "pain.001")


def _payment_info_element(
    p: Any, payment_info_id: str, cycle: str, items: list[DisbursementItem], initiator: str, agent: str, account: str
) -> Any:
    info = p(
        "PmtInf",
        p("PmtInfId", payment_info_id),
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
    sub = sub_maker(PAIN001)
    tx = sub(info, "CdtTrfTxInf")
    sub(sub(tx, "PmtId"), "EndToEndId", item.end_to_end_id)
    sub(sub(tx, "Amt"), "InstdAmt", str(item.amount_vnd)).set("Ccy", "VND")
    creditor = sub(tx, "Cdtr")
    sub(creditor, "Nm", item.name)
    other = sub(sub(sub(creditor, "Id"), "PrvtId"), "Othr")
    sub(other, "Id", item.citizen_id)
    sub(sub(other, "SchmeNm"), "Cd", "NIDN")
    sub(sub(tx, "Purp"), "Prtry", item.program.value)
    sub(sub(tx, "RmtInf"), "Ustrd", f"{item.program.value} {item.cycle}")
