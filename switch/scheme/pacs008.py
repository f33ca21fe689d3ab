"""pacs.008.001.12 (FI to FI customer credit transfer) on the wire: parse, validate, write.

One message carries one group header and 1 to TRANSACTIONS_PER_MESSAGE_MAX transactions
(`CreditTransferMessage`). Every document written validates against ISO's schema
(`switch.scheme.xsd`); every document read is validated before it is trusted, by a parser that
refuses DTDs, entities and network access.

A fault of the message itself (not XML, another namespace, too large, a group header that breaks
the schema, NbOfTxs that does not count the transactions) refuses it whole with `MessageInvalid`,
naming the element and the rule. A transaction that breaks the schema or a scheme rule is refused
on its own (`RefusedTransaction`, with its reason: CH20 for decimals, else FF01); the others go on.

How a transfer maps onto pacs.008 (the scheme's usage rules):

    message_id              GrpHdr/MsgId (each transaction carries it)
    end_to_end_id           CdtTrfTxInf/PmtId/EndToEndId
    transaction_id          CdtTrfTxInf/PmtId/TxId (required by the scheme, optional in ISO)
    amount_vnd              CdtTrfTxInf/IntrBkSttlmAmt, Ccy="VND", a whole number of dong
    debtor                  Dbtr/Nm, Dbtr/Id/PrvtId/Othr/Id with SchmeNm/Cd NIDN (the citizen id)
    debtor_account          DbtrAcct/Id/Othr/Id
    debtor_agent            DbtrAgt/FinInstnId/ClrSysMmbId/MmbId (the BIN)
    creditor_agent          CdtrAgt/FinInstnId/ClrSysMmbId/MmbId; "NAPAS" when the creditor is
                            named by alias only and the switch resolves the agent
    creditor                Cdtr/Nm, Cdtr/Id/PrvtId/Othr/Id (NIDN)
    creditor_account        CdtrAcct/Id/Othr/Id
    creditor_alias          CdtrAcct/Prxy: Tp/Cd NIDN (citizen id) or MBNO (mobile number), Id
    purpose                 Purp/Cd
    remittance_information  RmtInf/Ustrd
    charges                 ChrgBr SLEV; settlement GrpHdr/SttlmInf/SttlmMtd CLRG
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from switch.scheme.codes import AliasType, StatusReason
from switch.scheme.messages import TRANSACTIONS_PER_MESSAGE_MAX, CreditTransfer, CreditTransferMessage
from switch.scheme.validation import FieldProblem, MessageInvalid, problems_of
from switch.scheme.xml import (
    amount_value,
    element_problems,
    invalid,
    iso_schema,
    maker,
    read_root,
    schema_faults,
    serialised,
    sub_maker,
    valid,
)

PACS008 = "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.12"
PACS008_NAME = "pacs.008.001.12"
# 1,000 transactions with long names and remittance lines come to about 2.5 MB.
MESSAGE_BYTES_MAX = 4 * 1024 * 1024
SWITCH_MEMBER_ID = "NAPAS"  # CdtrAgt when the switch resolves the creditor's agent from its alias
PROXY_TYPES = {AliasType.CITIZEN_ID: "NIDN", AliasType.MSISDN: "MBNO"}
ALIAS_TYPES = {code: alias_type for alias_type, code in PROXY_TYPES.items()}
ELEMENT_OF_FIELD = {  # a scheme rule's field, named as the element an integrator wrote
    "message_id": "GrpHdr/MsgId",
    "end_to_end_id": "PmtId/EndToEndId",
    "transaction_id": "PmtId/TxId",
    "amount_vnd": "IntrBkSttlmAmt",
    "currency": "IntrBkSttlmAmt/@Ccy",
    "debtor": "Dbtr",
    "debtor_account": "DbtrAcct/Id/Othr/Id",
    "debtor_agent": "DbtrAgt/FinInstnId/ClrSysMmbId/MmbId",
    "creditor": "Cdtr",
    "creditor_account": "CdtrAcct/Id/Othr/Id",
    "creditor_alias": "CdtrAcct/Prxy",
    "creditor_agent": "CdtrAgt/FinInstnId/ClrSysMmbId/MmbId",
    "debtor.name": "Dbtr/Nm",
    "debtor.citizen_id": "Dbtr/Id/PrvtId/Othr/Id",
    "creditor.name": "Cdtr/Nm",
    "creditor.citizen_id": "Cdtr/Id/PrvtId/Othr/Id",
    "creditor_alias.type": "CdtrAcct/Prxy/Tp/Cd",
    "creditor_alias.value": "CdtrAcct/Prxy/Id",
    "purpose": "Purp/Cd",
    "remittance_information": "RmtInf/Ustrd",
}
_NS = {"p": PACS008}


@dataclass(slots=True, frozen=True)
class RefusedTransaction:
    """A transaction of the message that cannot be taken: answered RJCT on its own."""

    index: int  # 0-based, in the message's order
    end_to_end_id: str | None
    transaction_id: str | None
    debtor_agent: str | None
    problems: tuple[FieldProblem, ...]

    @property
    def reason(self) -> StatusReason:
        return MessageInvalid(list(self.problems)).reason


@dataclass(slots=True, frozen=True)
class ReadCreditTransfers:
    """A pacs.008 as read: the transactions that can be taken, in order, and those refused."""

    message_id: str
    created: datetime
    transactions: tuple[CreditTransfer, ...]
    refused: tuple[RefusedTransaction, ...]

    @property
    def count(self) -> int:
        return len(self.transactions) + len(self.refused)


# --- write ---------------------------------------------------------------------------------------


def write_pacs008(message: CreditTransferMessage, created: datetime) -> bytes:
    """The message as a pacs.008.001.12 document, checked against ISO's schema."""
    return serialised(pacs008_document(message, created))


def pacs008_document(message: CreditTransferMessage, created: datetime) -> Any:
    """The message as a pacs.008.001.12 Document element, valid by ISO's schema (an envelope
    embeds it as it is)."""
    p = maker(PACS008)
    header = p(
        "GrpHdr",
        p("MsgId", message.message_id),
        p("CreDtTm", created.isoformat(timespec="milliseconds")),
        p("NbOfTxs", str(len(message.transactions))),
        p("SttlmInf", p("SttlmMtd", "CLRG")),
    )
    body = p("FIToFICstmrCdtTrf", header)
    for transfer in message.transactions:
        _transaction(body, transfer)
    return valid(p("Document", body), iso_schema(PACS008_NAME), PACS008_NAME)


def _transaction(body: Any, transfer: CreditTransfer) -> None:
    sub = sub_maker(PACS008)
    tx = sub(body, "CdtTrfTxInf")
    ids = sub(tx, "PmtId")
    sub(ids, "EndToEndId", transfer.end_to_end_id)
    sub(ids, "TxId", transfer.transaction_id)
    sub(tx, "IntrBkSttlmAmt", str(transfer.amount_vnd)).set("Ccy", transfer.currency)
    sub(tx, "ChrgBr", "SLEV")
    _party(sub(tx, "Dbtr"), transfer.debtor.name, transfer.debtor.citizen_id)
    sub(sub(sub(sub(tx, "DbtrAcct"), "Id"), "Othr"), "Id", transfer.debtor_account)
    _agent(sub(tx, "DbtrAgt"), transfer.debtor_agent)
    _agent(sub(tx, "CdtrAgt"), transfer.creditor_agent or SWITCH_MEMBER_ID)
    _party(sub(tx, "Cdtr"), transfer.creditor.name, transfer.creditor.citizen_id)
    if transfer.creditor_account is not None or transfer.creditor_alias is not None:
        account = sub(tx, "CdtrAcct")
        if transfer.creditor_account is not None:
            sub(sub(sub(account, "Id"), "Othr"), "Id", transfer.creditor_account)
        if transfer.creditor_alias is not None:
            proxy = sub(account, "Prxy")
            sub(sub(proxy, "Tp"), "Cd", PROXY_TYPES[transfer.creditor_alias.type])
            sub(proxy, "Id", transfer.creditor_alias.value)
    sub(sub(tx, "Purp"), "Cd", transfer.purpose.value)
    if transfer.remittance_information is not None:
        sub(sub(tx, "RmtInf"), "Ustrd", transfer.remittance_information)


def _party(party: Any, name: str | None, citizen_id: str | None) -> None:
    sub = sub_maker(PACS008)
    if name is not None:
        sub(party, "Nm", name)
    if citizen_id is not None:
        other = sub(sub(sub(party, "Id"), "PrvtId"), "Othr")
        sub(other, "Id", citizen_id)
        sub(sub(other, "SchmeNm"), "Cd", "NIDN")


def _agent(agent: Any, member_id: str) -> None:
    sub = sub_maker(PACS008)
    sub(sub(sub(agent, "FinInstnId"), "ClrSysMmbId"), "MmbId", member_id)


# --- read ----------------------------------------------------------------------------------------


def parse_pacs008(data: bytes) -> ReadCreditTransfers:
    """Read and validate a pacs.008: its transactions that can be taken and those refused."""
    if len(data) > MESSAGE_BYTES_MAX:
        raise invalid("(message)", f"{len(data)} bytes is over the limit of {MESSAGE_BYTES_MAX} bytes")
    return pacs008_from_document(read_root(data, PACS008, PACS008_NAME, "(message)"))


def pacs008_from_document(root: Any) -> ReadCreditTransfers:
    """The transactions a pacs.008 Document element carries (the root of a document, or the
    Document of an envelope), read and validated."""
    if root.tag != f"{{{PACS008}}}Document":
        raise invalid("Document", f"must be a {PACS008_NAME} Document in namespace {PACS008}")
    transactions = root.findall("p:FIToFICstmrCdtTrf/p:CdtTrfTxInf", _NS)
    bad = schema_faults(root, iso_schema(PACS008_NAME), transactions)
    header = root.find("p:FIToFICstmrCdtTrf/p:GrpHdr", _NS)
    _check_header(header, len(transactions))
    message_id = header.findtext("p:MsgId", namespaces=_NS) or ""
    taken: list[CreditTransfer] = []
    refused: list[RefusedTransaction] = []
    for index, tx in enumerate(transactions):
        read = _transaction_read(index, tx, message_id, bad.get(index))
        if isinstance(read, CreditTransfer):
            taken.append(read)
        else:
            refused.append(read)
    return ReadCreditTransfers(message_id, _created(header), tuple(taken), tuple(refused))


def _check_header(header: Any, count: int) -> None:
    declared = int(header.findtext("p:NbOfTxs", namespaces=_NS) or "0")
    if declared != count:
        raise _message_problem("GrpHdr/NbOfTxs", f"says {declared} transactions, the message holds {count}")
    method = header.findtext("p:SttlmInf/p:SttlmMtd", namespaces=_NS)
    if method != "CLRG":
        raise _message_problem("GrpHdr/SttlmInf/SttlmMtd", f"must be CLRG (settled through the switch), not {method!r}")
    if count > TRANSACTIONS_PER_MESSAGE_MAX:
        raise _message_problem(
            "CdtTrfTxInf", f"{count} transactions is over the limit of {TRANSACTIONS_PER_MESSAGE_MAX}"
        )


def _transaction_read(
    index: int, tx: Any, message_id: str, schema_faults: list[FieldProblem] | None
) -> CreditTransfer | RefusedTransaction:
    """The transaction, or its refusal: ISO's schema first, then the scheme's rules."""
    if schema_faults:
        return _refused(index, tx, schema_faults)
    charges = tx.findtext("p:ChrgBr", namespaces=_NS)
    if charges != "SLEV":
        rule = f"must be SLEV (each side bears its own charges, as the scheme's rule), not {charges!r}"
        return _refused(index, tx, [FieldProblem(f"CdtTrfTxInf[{index + 1}]/ChrgBr", rule, StatusReason.FF01)])
    try:
        return CreditTransfer.model_validate(_fields(message_id, tx))
    except ValidationError as error:
        return _refused(index, tx, element_problems(f"CdtTrfTxInf[{index + 1}]", problems_of(error), ELEMENT_OF_FIELD))


def _created(header: Any) -> datetime:
    text = header.findtext("p:CreDtTm", namespaces=_NS) or ""
    try:
        return datetime.fromisoformat(text)
    except ValueError:  # the schema takes 24:00:00, Python does not
        raise _message_problem("GrpHdr/CreDtTm", f"{text!r} is not a date and time this scheme reads") from None


def _fields(message_id: str, tx: Any) -> dict[str, Any]:
    def text(path: str) -> str | None:
        return tx.findtext(path, namespaces=_NS)

    amount = tx.find("p:IntrBkSttlmAmt", _NS)
    creditor_agent = text("p:CdtrAgt/p:FinInstnId/p:ClrSysMmbId/p:MmbId")
    fields: dict[str, Any] = {
        "message_id": message_id,
        "end_to_end_id": text("p:PmtId/p:EndToEndId"),
        "transaction_id": text("p:PmtId/p:TxId"),
        "amount_vnd": amount_value(amount.text),
        "currency": amount.get("Ccy"),
        "debtor": _party_fields(tx.find("p:Dbtr", _NS)),
        "debtor_account": text("p:DbtrAcct/p:Id/p:Othr/p:Id"),
        "debtor_agent": text("p:DbtrAgt/p:FinInstnId/p:ClrSysMmbId/p:MmbId"),
        "creditor": _party_fields(tx.find("p:Cdtr", _NS)),
        "creditor_account": text("p:CdtrAcct/p:Id/p:Othr/p:Id"),
        "creditor_agent": None if creditor_agent == SWITCH_MEMBER_ID else creditor_agent,
        "purpose": text("p:Purp/p:Cd"),
        "remittance_information": text("p:RmtInf/p:Ustrd"),
    }
    proxy = tx.find("p:CdtrAcct/p:Prxy", _NS)
    if proxy is not None:
        code = proxy.findtext("p:Tp/p:Cd", namespaces=_NS)
        alias_type = ALIAS_TYPES.get(code or "", code)
        fields["creditor_alias"] = {"type": alias_type, "value": proxy.findtext("p:Id", namespaces=_NS)}
    return {key: value for key, value in fields.items() if value is not None}


def _party_fields(party: Any) -> dict[str, Any]:
    if party is None:
        return {}
    values = {
        "name": party.findtext("p:Nm", namespaces=_NS),
        "citizen_id": party.findtext("p:Id/p:PrvtId/p:Othr/p:Id", namespaces=_NS),
    }
    return {key: value for key, value in values.items() if value is not None}


def _refused(index: int, tx: Any, problems: list[FieldProblem]) -> RefusedTransaction:
    return RefusedTransaction(
        index,
        tx.findtext("p:PmtId/p:EndToEndId", namespaces=_NS),
        tx.findtext("p:PmtId/p:TxId", namespaces=_NS),
        tx.findtext("p:DbtrAgt/p:FinInstnId/p:ClrSysMmbId/p:MmbId", namespaces=_NS),
        tuple(problems),
    )


def _message_problem(field: str, rule: str) -> MessageInvalid:
    return invalid(field, rule)
