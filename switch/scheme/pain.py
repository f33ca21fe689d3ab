"""ISO 20022 bulk files: pain.001.001.09 (customer credit transfer initiation) in, pain.002.001.12
(customer payment status report) out. Parse, validate against the ISO schema, write.

Schemas: ISO's pain.001.001.09 and pain.002.001.12 XSDs, shipped in `switch.scheme.xsd`; lxml
validates (xmlschema, pure Python, takes minutes on a 100,000-item file; lxml takes a second).
The parser refuses entities, DTDs and network access.

A pain.001 is read as it is parsed (lxml's iterparse), never held whole: the tree of a 100,000-item
file is most of a GB. Each block of transactions is checked against the schema in a small Document
of its own (GrpHdr, a copy of its PmtInf's own elements, the block), with the lines of the file.
Not libxml2's validation while parsing (a schema given to iterparse or XMLPullParser): measured with
lxml 6.1, it let a file cut off in the middle through, told its faults only at the end, at line 0.

How a payroll maps onto pain.001, as a treasury system writes it (README's "Payroll files and the
payer API" tells payers the same):
- each CdtTrfTxInf is one item: EndToEndId, InstdAmt in whole VND, the beneficiary's name in Cdtr/Nm
  and citizen id in Cdtr/Id/PrvtId/Othr/Id (scheme NIDN);
- the program is its code (merit_person, social_assistance, elderly, disability), the first found of:
  CdtTrfTxInf/Purp/Prtry, CdtTrfTxInf/PmtTpInf/CtgyPurp/Prtry, PmtInf/PmtTpInf/CtgyPurp/Prtry, and
  the program part of a PmtInfId written "<cycle>/<program>" (the convention of earlier versions);
- the cycle (YYYY-MM) is the month of PmtInf/ReqdExctnDt, unless the PmtInfId is written
  "<cycle>/<program>" ("2026-12/merit_person"): that gives the cycle explicitly, for a cycle paid in
  another month (December's payroll paid on 28 November);
- any other PmtInfId is free text; each item keeps its PmtInfId, and the pain.002 reports it there;
- standard codes are accepted and kept with each item: PmtTpInf/CtgyPurp/Cd (SSBE, PENS, ...; a
  transaction's own PmtTpInf before its PmtInf's) and CdtTrfTxInf/Purp/Cd; the pain.002 gives them
  back in OrgnlTxRef;
- the debtor agent is named by its BIN in DbtrAgt/FinInstnId/ClrSysMmbId/MmbId, the same in every
  PmtInf: the Treasury participant whose key posts the file (`switch.disbursements` refuses another).
"""

from __future__ import annotations

import copy
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lxml import etree

from switch.scheme import disbursement
from switch.scheme import xml as scheme_xml
from switch.scheme.codes import Program, StatusReason
from switch.scheme.disbursement import (
    CYCLE_PATTERN,
    DisbursementFile,
    DisbursementItem,
    ItemOrigin,
    RowError,
    build_file,
    check_message_id,
    check_row_count,
    check_size,
    digest_of,
    file_problem,
    with_row_errors,
)
from switch.scheme.validation import MessageInvalid
from switch.scheme.xml import (
    XML_DECLARATION,
    agent_xml,
    checked,
    escaped,
    invalid,
    iso_schema,
    maker,
    schema_problems,
    sub_maker,
    valid,
)
from switch.scheme.xml import parser as xml_parser

PAIN001 = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"
PAIN002 = "urn:iso:std:iso:20022:tech:xsd:pain.002.001.12"
NS = {"p": PAIN001}
DEBTOR_AGENT_PATH = "DbtrAgt/FinInstnId/ClrSysMmbId/MmbId"
DEBTOR_AGENT_RULE = (
    f"every PmtInf names the debtor agent by its BIN in {DEBTOR_AGENT_PATH} (not by a BIC alone): the"
    " Treasury participant whose key posts the file, 999999 in the sandbox"
)
_Q = f"{{{PAIN001}}}"  # an element's tag is this and its local name
_TRANSACTION, _PMT_INF = f"{_Q}CdtTrfTxInf", f"{_Q}PmtInf"
_NAME = "pain.001.001.09"
# Transactions held in the tree at most: checked against the schema and read a block at a time, so
# reading a 100,000-item file holds a block (a few MB), not the file's tree (most of a GB).
TRANSACTIONS_PER_CHECK_MAX = 1_000
_PMT_ID, _AMT, _CDTR, _PURP, _PMT_TP_INF = (f"{_Q}{n}" for n in ("PmtId", "Amt", "Cdtr", "Purp", "PmtTpInf"))
_CONVENTION = re.compile(r"(?P<cycle>[0-9]{4}-[0-9]{2})/(?P<program>[a-z_]+)")
_CYCLE = re.compile(CYCLE_PATTERN)
_PROGRAMS = frozenset(p.value for p in Program)
_PROGRAM_LIST = ", ".join(p.value for p in Program)
_AMOUNT = re.compile(r"[0-9]+(\.0*)?")


def pain001_schema() -> etree.XMLSchema:
    return iso_schema("pain.001.001.09")


def pain002_schema() -> etree.XMLSchema:
    return iso_schema("pain.002.001.12")


# --- pain.001 in --------------------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class _PaymentInfo:
    """What one PmtInf says of all its transactions."""

    path: str  # "PmtInf[2]": where its elements are, in errors
    payment_info_id: str
    program: tuple[str, str] | None  # the code and the element it was read from
    cycle: str
    cycle_problem: str | None  # why the cycle cannot be taken, naming its element
    origin: ItemOrigin  # of a transaction that says nothing of its own: PmtInfId and PmtTpInf/CtgyPurp/Cd


def parse_pain001(data: bytes) -> DisbursementFile:
    """Read as it is parsed, never held whole: each block of transactions is checked against the
    schema, read, and let go of (`_check_block`), so the tree holds at most TRANSACTIONS_PER_CHECK_MAX
    of them and what the parser has read ahead. A fault of the file is told as it would be were the
    file read whole: not well-formed first, then the schema, then the header's count, then the rest."""
    check_size(data)
    if b"<!DOCTYPE" in data:
        raise invalid("file", f"a DOCTYPE is not allowed in a {_NAME}: no DTDs, no entities")
    reading = _Reading()
    events = etree.iterparse(
        io.BytesIO(data), events=("start", "end"), tag=("{*}Document", _PMT_INF, _TRANSACTION),
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
    )  # fmt: skip
    try:
        for event, element in events:
            _step(reading, event, element)
        if reading.root is None:  # no Document at all: a root by another name
            _begin(reading, events.root)
    except etree.XMLSyntaxError as error:
        raise file_problem("file", f"not well-formed XML: {error}") from None
    except MessageInvalid:
        _check_well_formed(data)
        raise
    return _finish(reading, data)


@dataclass(slots=True)
class _Reading:
    """What reading a pain.001 has gathered so far: all that is kept of the transactions read."""

    root: Any = None
    pending: list[Any] = field(default_factory=list)  # transactions parsed, not yet checked and read
    kept: Any = None  # the last transaction checked, left in the tree so its PmtInf stays valid
    shell: Any = None  # the check Document's PmtInf (`_shell`) for the PmtInf being read
    shell_of: Any = None  # that PmtInf
    message_id: str | None = None  # GrpHdr's, once it is checked
    declared: int = 0  # GrpHdr/NbOfTxs
    count: int = 0
    info_element: Any = None  # the PmtInf being read
    info: _PaymentInfo | None = None
    infos: int = 0  # PmtInfs read
    position: int = 0  # of the transaction within its PmtInf
    finished: Any = None  # the PmtInf read last, kept so the last check sees a whole Document
    debtor_agent: str | None = None
    fault: MessageInvalid | None = None  # a fault of the file told once the schema has seen all of it
    rows: list[dict[str, Any]] = field(default_factory=list)
    origins: list[ItemOrigin] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def _step(reading: _Reading, event: str, element: Any) -> None:
    """One event of the parse. The parser reads ahead of its events, so the tree may hold part of
    an element not ended yet: only what has ended is checked, in a Document of its own, but at the
    Document's end, when the tree is whole."""
    if event == "start":
        if reading.root is None and element.getparent() is None:
            _begin(reading, element)
        return
    parent = element.getparent()
    if parent is None:  # the Document's end: what is left of it is checked whole
        _valid(reading.root)
    elif element.tag == _TRANSACTION and parent.getparent().getparent() is reading.root:
        reading.pending.append(element)
        if len(reading.pending) >= TRANSACTIONS_PER_CHECK_MAX:
            _check_block(reading)
    elif element.tag == _PMT_INF and parent.getparent() is reading.root:
        _check_block(reading)
        _valid(_check_document(reading, copy.deepcopy(element)))  # its own elements, after its transactions
        if reading.finished is not None:
            parent.remove(reading.finished)
        reading.finished = element


def _begin(reading: _Reading, root: Any) -> None:
    """The root, once the parser has it: the DTD (a DOCTYPE the byte search did not see, in an encoding
    other than UTF-8) and the namespace are known before any of its content."""
    if root.getroottree().docinfo.doctype:
        raise invalid("file", f"a DOCTYPE is not allowed in a {_NAME}: no DTDs, no entities")
    if root.tag != f"{_Q}Document":
        raise invalid("Document", f"must be a {_NAME} Document in namespace {PAIN001}")
    reading.root = root


def _valid(document: Any) -> None:
    problems = schema_problems(pain001_schema(), document)
    if problems:
        raise file_problem("Document", f"not valid against the {_NAME} schema: " + "; ".join(problems))


def _check_document(reading: _Reading, payment_info: Any) -> Any:
    """A Document of GrpHdr (a copy) and `payment_info`: what the schema checks a part of the file in."""
    document = etree.Element(f"{_Q}Document", nsmap={None: PAIN001})
    initiation = etree.SubElement(document, f"{_Q}CstmrCdtTrfInitn")
    header = reading.root.find("p:CstmrCdtTrfInitn/p:GrpHdr", NS)
    if header is not None:  # else the check says it is missing
        initiation.append(copy.deepcopy(header))
    initiation.append(payment_info)
    return document


def _shell(reading: _Reading, live: Any) -> Any:
    """A copy of a PmtInf's own elements (the schema puts them before its first transaction), in a
    check Document, for its transactions to be checked in a block at a time."""
    shell = etree.Element(_PMT_INF)
    shell.text = live.text
    for child in live:
        if child.tag == _TRANSACTION:
            break
        shell.append(copy.deepcopy(child))
    _check_document(reading, shell)
    return shell


def _check_block(reading: _Reading) -> None:
    """Check the transactions parsed since the last check against the schema, read them, and let
    go of them: moved out of the tree into the check Document, but the last, which keeps its PmtInf
    a valid one (the schema wants a transaction) until the next block moves it out in turn."""
    pending = reading.pending
    if not pending:
        return
    live = pending[0].getparent()
    if reading.shell_of is not live:
        reading.shell, reading.shell_of, reading.kept = _shell(reading, live), live, None
    shell = reading.shell
    if reading.kept is not None:  # read already; checked again with the text that follows it
        shell.append(reading.kept)
    for tx in pending[:-1]:
        shell.append(tx)
    shell.append(copy.deepcopy(pending[-1]))
    _valid(shell.getroottree())
    if reading.message_id is None:
        header = reading.root.find("p:CstmrCdtTrfInitn/p:GrpHdr", NS)
        reading.message_id = header.findtext("p:MsgId", namespaces=NS)
        reading.declared = int(header.findtext("p:NbOfTxs", namespaces=NS))
    for tx in pending:
        _take(reading, live, tx)
    for tx in shell.findall(_TRANSACTION):
        shell.remove(tx)
    reading.kept = pending[-1]
    pending.clear()


def _take(reading: _Reading, live: Any, tx: Any) -> None:
    """One transaction of the PmtInf `live`, checked: its row, or its fault with its row number."""
    reading.count += 1
    if reading.fault is not None or reading.count > disbursement.ITEMS_PER_FILE_MAX:
        return  # the file will be refused: only counted, for the error to say how many it holds
    if live is not reading.info_element:
        _begin_payment_info(reading, live)
        if reading.fault is not None:
            return
    assert reading.info is not None, "a transaction is read in its PmtInf"
    reading.position += 1
    row, origin, problem = _row(reading.info, reading.position, tx)
    if problem is not None:  # a fault the item model cannot name: said here, with its element
        e2e = row.get("end_to_end_id")
        reading.errors.append(RowError(reading.count, *problem, StatusReason.FF01, e2e, origin.payment_info_id))
        row = {}
    reading.rows.append(row)
    reading.origins.append(origin)


def _begin_payment_info(reading: _Reading, element: Any) -> None:
    reading.infos += 1
    reading.info_element, reading.position = element, 0
    own = _own_elements(element)
    try:
        reading.debtor_agent = _debtor_agent(reading.infos, own, reading.debtor_agent)
    except MessageInvalid as fault:
        reading.fault = fault
        return
    reading.info = _payment_info(reading.infos, own)


def _finish(reading: _Reading, data: bytes) -> DisbursementFile:
    message_id = check_message_id(reading.message_id, "GrpHdr.MsgId")
    check_row_count(reading.count)
    if reading.declared != reading.count:
        raise file_problem("GrpHdr.NbOfTxs", f"says {reading.declared} transactions, the file holds {reading.count}")
    if reading.fault is not None:
        raise reading.fault
    assert reading.debtor_agent is not None, "the schema asks for at least one PmtInf"
    parsed = build_file(
        message_id, reading.rows, digest_of(data), "pain.001", debtor_agent=reading.debtor_agent,
        origins=reading.origins,
    )  # fmt: skip
    return with_row_errors(parsed, reading.errors)


class _Nothing:
    """A parser target that keeps nothing: the parser only says whether the text is well-formed."""

    def close(self) -> None:
        return None


def _check_well_formed(data: bytes) -> None:
    """Before a fault found part way is told: a file not well-formed further on is refused as that,
    as it was when a file was parsed whole before anything else was looked at."""
    parser = etree.XMLParser(target=_Nothing(), resolve_entities=False, no_network=True, load_dtd=False)
    try:
        etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        raise file_problem("file", f"not well-formed XML: {error}") from None


def _children(element: Any, until: str | None = None) -> dict[str, Any]:
    """An element's children by local name, up to the first `until`: one pass, where lxml's find
    walks every child (100,000 transactions in a PmtInf) looking for one that is not there."""
    found: dict[str, Any] = {}
    for child in element:
        if not isinstance(child.tag, str):  # a comment or processing instruction
            continue
        if child.tag == until:
            break
        found[child.tag[len(_Q) :]] = child
    return found


def _own_elements(payment_info: Any) -> dict[str, Any]:
    """A PmtInf's own elements: the schema puts them all before its first transaction."""
    return _children(payment_info, until=_TRANSACTION)


def _choice(element: Any | None) -> tuple[str, str] | None:
    """A code choice (CtgyPurp, Purp) as ("Cd" or "Prtry", its text)."""
    if element is None:
        return None
    for child in element:
        if isinstance(child.tag, str):  # not a comment: the one element the schema lets it hold
            return child.tag[len(_Q) :], (child.text or "").strip()
    raise AssertionError("the schema gives a code choice one element")


def _category(payment_type: Any | None) -> tuple[str, str] | None:
    """PmtTpInf/CtgyPurp, as a code choice."""
    return _choice(payment_type.find("p:CtgyPurp", NS)) if payment_type is not None else None


def _debtor_agent(number: int, own: dict[str, Any], first: str | None) -> str:
    """PmtInf[number]'s debtor agent, the same as `first`, PmtInf[1]'s (None when this is PmtInf[1])."""
    path = f"PmtInf[{number}]/{DEBTOR_AGENT_PATH}"
    agent: str | None = own["DbtrAgt"].findtext("p:FinInstnId/p:ClrSysMmbId/p:MmbId", namespaces=NS)
    if agent is None:
        raise file_problem(path, f"missing: {DEBTOR_AGENT_RULE}")
    if first is not None and agent != first:
        raise file_problem(path, f"names {agent} where PmtInf[1] names {first}: {DEBTOR_AGENT_RULE}")
    return agent


def _payment_info(number: int, own: dict[str, Any]) -> _PaymentInfo:
    path = f"PmtInf[{number}]"
    payment_info_id = own["PmtInfId"].text
    convention = _CONVENTION.fullmatch(payment_info_id)
    category = _category(own.get("PmtTpInf"))
    program: tuple[str, str] | None = None
    if category is not None and category[0] == "Prtry":
        program = (category[1], f"{path}/PmtTpInf/CtgyPurp/Prtry")
    elif convention is not None:
        program = (convention["program"], f"{path}/PmtInfId")
    if convention is not None:
        cycle, source = convention["cycle"], f"{path}/PmtInfId {payment_info_id!r}"
    else:
        [(kind, date)] = _children(own["ReqdExctnDt"]).items()  # Dt or DtTm: the schema's choice
        cycle, source = date.text.strip()[:7], f"{path}/ReqdExctnDt/{kind} {date.text.strip()!r}"
    problem = (
        None if _CYCLE.fullmatch(cycle) else f"{source} gives the cycle {cycle!r}: a month from 2000-01 to 2099-12"
    )
    code = category[1] if category is not None and category[0] == "Cd" else None
    return _PaymentInfo(path, payment_info_id, program, cycle, problem, ItemOrigin(payment_info_id, code))


def _row(info: _PaymentInfo, position: int, tx: Any) -> tuple[dict[str, Any], ItemOrigin, tuple[str, str] | None]:
    """The row for the item model, what the file says of it besides, and the element at fault and its rule."""
    parts = {child.tag: child for child in tx}  # a comment's key is a function: never looked up
    creditor, amount_element = parts.get(_CDTR), parts[_AMT].find("p:InstdAmt", NS)
    purpose, category = _choice(parts.get(_PURP)), _category(parts.get(_PMT_TP_INF))
    row: dict[str, Any] = {
        "end_to_end_id": parts[_PMT_ID].findtext("p:EndToEndId", namespaces=NS),
        "citizen_id": creditor.findtext("p:Id/p:PrvtId/p:Othr/p:Id", namespaces=NS) if creditor is not None else None,
        "name": creditor.findtext("p:Nm", namespaces=NS) if creditor is not None else None,
        "amount_vnd": _amount(amount_element),
        "cycle": info.cycle,
    }
    program, problem = _program(info, position, purpose, category)
    row["program"] = program
    row = {k: v for k, v in row.items() if v is not None}
    origin = info.origin  # shared by the PmtInf's transactions, unless one says more of its own
    if purpose is not None or category is not None:
        own_category = category[1] if category is not None and category[0] == "Cd" else None
        own_purpose = purpose[1] if purpose is not None and purpose[0] == "Cd" else None
        origin = ItemOrigin(info.payment_info_id, own_category or origin.category_purpose, own_purpose)
    if problem is None and info.cycle_problem is not None:
        problem = ("cycle", info.cycle_problem)
    if problem is None and amount_element is not None and amount_element.get("Ccy") != "VND":
        path = f"{info.path}/CdtTrfTxInf[{position}]/Amt/InstdAmt"
        problem = ("amount_vnd", f"{path} Ccy must be VND, not {amount_element.get('Ccy')!r}")
    return row, origin, problem


def _program(
    info: _PaymentInfo, position: int, purpose: tuple[str, str] | None, category: tuple[str, str] | None
) -> tuple[str | None, tuple[str, str] | None]:
    """The transaction's program: its own Purp/Prtry or CtgyPurp/Prtry first, then its PmtInf's. The
    element paths are made only for an error: most of 100,000 rows have none."""
    transaction = f"{info.path}/CdtTrfTxInf[{position}]"
    if purpose is not None and purpose[0] == "Prtry":
        code, source = purpose[1], "/Purp/Prtry"
    elif category is not None and category[0] == "Prtry":
        code, source = category[1], "/PmtTpInf/CtgyPurp/Prtry"
    elif info.program is not None:
        (code, source), transaction = info.program, ""
    else:
        rule = (
            f"{transaction} has no program: write its code ({_PROGRAM_LIST}) in CdtTrfTxInf/Purp/Prtry or"
            f" PmtInf/PmtTpInf/CtgyPurp/Prtry (PmtInfId {info.payment_info_id!r} is free text)"
        )
        return None, ("program", rule)
    if code not in _PROGRAMS:
        return None, ("program", f"{transaction}{source} {code[:35]!r} is not a program code: one of {_PROGRAM_LIST}")
    return code, None


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
    """A pain.001.001.09 for the items, as a treasury system writes one: a PmtInf per program and
    cycle, its PmtInfId free text ("<message id>/<n>"), its category SSBE, the cycle's first day as
    ReqdExctnDt, each transaction's program in Purp/Prtry.

    Written as text, a transaction at a time, never as a tree (a 100,000-item file's was 644 MB): the
    bytes lxml's pretty_print writes for the tree, which the tests hold it to. The counts and sums come
    first in the file, so they are taken in a pass of their own over the items. Checked against the
    schema: its skeleton in use (`_check_skeleton`), the whole file when VALIDATE_WRITTEN."""
    groups: dict[tuple[str, str], list[DisbursementItem]] = {}
    for item in items:
        groups.setdefault((item.cycle, item.program.value), []).append(item)
    header = _group_header_xml(message_id, created, initiator, len(items), sum(i.amount_vnd for i in items))
    infos = [
        (_payment_info_xml(f"{message_id[:31]}/{n}", cycle, group, initiator, debtor_agent, debtor_account), group)
        for n, ((cycle, _program), group) in enumerate(groups.items(), start=1)
    ]
    if not scheme_xml.VALIDATE_WRITTEN:  # else the whole file is checked below
        _check_skeleton(header, infos)
    out = io.BytesIO()  # the file's bytes, grown as written: no list of pieces beside them
    out.write((XML_DECLARATION + header).encode())
    for info, group in infos:
        out.write(info.encode())
        for item in group:
            out.write(_transaction_xml(item).encode())
        out.write(_PMT_INF_END.encode())
    out.write(_DOCUMENT_END.encode())
    data = out.getvalue()
    if scheme_xml.VALIDATE_WRITTEN:
        valid(etree.fromstring(data, xml_parser()), pain001_schema(), "pain.001")
    return data


def _check_skeleton(header: str, infos: list[tuple[str, list[DisbursementItem]]]) -> None:
    """The file without all but each PmtInf's first transaction, checked against the schema
    (AssertionError: our writer's bug, never the caller's). It holds every value that is not an
    item's (the message id, the initiator, the debtor's account and agent); the item model holds each
    item's values to the schema's limits. The whole file is checked when VALIDATE_WRITTEN (the tests)."""
    body = "".join(info + _transaction_xml(group[0]) + _PMT_INF_END for info, group in infos)
    skeleton = (XML_DECLARATION + header + body + _DOCUMENT_END).encode()
    valid(etree.fromstring(skeleton, xml_parser()), pain001_schema(), "pain.001")


_PMT_INF_END = "    </PmtInf>\n"
_DOCUMENT_END = "  </CstmrCdtTrfInitn>\n</Document>\n"


def _group_header_xml(message_id: str, created: datetime, initiator: str, count: int, total_vnd: int) -> str:
    return f"""<Document xmlns="{PAIN001}">
  <CstmrCdtTrfInitn>
    <GrpHdr>
      <MsgId>{escaped(message_id)}</MsgId>
      <CreDtTm>{escaped(created.isoformat(timespec="seconds"))}</CreDtTm>
      <NbOfTxs>{count}</NbOfTxs>
      <CtrlSum>{total_vnd}</CtrlSum>
      <InitgPty>
        <Nm>{escaped(initiator)}</Nm>
      </InitgPty>
    </GrpHdr>
"""


def _payment_info_xml(
    payment_info_id: str, cycle: str, items: list[DisbursementItem], initiator: str, agent: str, account: str
) -> str:
    """A PmtInf's own elements, before its transactions."""
    return f"""    <PmtInf>
      <PmtInfId>{escaped(payment_info_id)}</PmtInfId>
      <PmtMtd>TRF</PmtMtd>
      <NbOfTxs>{len(items)}</NbOfTxs>
      <CtrlSum>{sum(i.amount_vnd for i in items)}</CtrlSum>
      <PmtTpInf>
        <CtgyPurp>
          <Cd>SSBE</Cd>
        </CtgyPurp>
      </PmtTpInf>
      <ReqdExctnDt>
        <Dt>{escaped(cycle)}-01</Dt>
      </ReqdExctnDt>
      <Dbtr>
        <Nm>{escaped(initiator)}</Nm>
      </Dbtr>
      <DbtrAcct>
        <Id>
          <Othr>
            <Id>{escaped(account)}</Id>
          </Othr>
        </Id>
      </DbtrAcct>
{agent_xml("DbtrAgt", agent, "      ")}"""


def _transaction_xml(item: DisbursementItem) -> str:
    program = escaped(item.program.value)
    return f"""      <CdtTrfTxInf>
        <PmtId>
          <EndToEndId>{escaped(item.end_to_end_id)}</EndToEndId>
        </PmtId>
        <Amt>
          <InstdAmt Ccy="VND">{item.amount_vnd}</InstdAmt>
        </Amt>
        <Cdtr>
          <Nm>{escaped(item.name)}</Nm>
          <Id>
            <PrvtId>
              <Othr>
                <Id>{escaped(item.citizen_id)}</Id>
                <SchmeNm>
                  <Cd>NIDN</Cd>
                </SchmeNm>
              </Othr>
            </PrvtId>
          </Id>
        </Cdtr>
        <Purp>
          <Prtry>{program}</Prtry>
        </Purp>
        <RmtInf>
          <Ustrd>{program} {escaped(item.cycle)}</Ustrd>
        </RmtInf>
      </CdtTrfTxInf>
"""


# --- pain.002 out -------------------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class ItemReport:
    end_to_end_id: str  # as the original had it
    payment_info_id: str  # the original's PmtInfId, as written (a JSON or CSV file's message id)
    amount_vnd: int | None  # None: a refused row whose amount could not be read
    status: str  # ACSC paid, RJCT held or on the cash list, ACSP still in process
    reason: StatusReason | None
    note: str | None = None  # "cash list" for an item the post office pays
    category_purpose: str | None = None  # the original's CtgyPurp/Cd (SSBE, PENS), given back
    purpose: str | None = None  # the original's Purp/Cd, given back


def write_pain002(
    message_id: str,
    created: datetime,
    original_message_id: str,
    group_status: str,
    items: Sequence[ItemReport],
    original_message_name: str = "pain.001.001.09",
    group_reason: StatusReason | None = None,
) -> bytes:
    """The status of every transaction of one submission, each under its original PmtInfId (the
    groups in the order they first come), rows refused at intake included, so OrgnlNbOfTxs is the
    original's count; checked against the schema."""
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
    if item.amount_vnd is None and item.category_purpose is None and item.purpose is None:
        return
    reference = sub(status, "OrgnlTxRef")  # its children in the schema's order: Amt, PmtTpInf, Purp
    if item.amount_vnd is not None:
        sub(sub(reference, "Amt"), "InstdAmt", str(item.amount_vnd)).set("Ccy", "VND")
    if item.category_purpose is not None:
        sub(sub(sub(reference, "PmtTpInf"), "CtgyPurp"), "Cd", item.category_purpose)
    if item.purpose is not None:
        sub(sub(reference, "Purp"), "Cd", item.purpose)
