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
    children_named,
    element_problems,
    fields_of,
    first_text,
    gather,
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
# ELEMENT_OF_FIELD's fields that are read otherwise: the message's id from the header, the amount
# and its currency from one element, each party from its name and citizen id.
_NOT_READ_AS = {"message_id", "amount_vnd", "currency", "debtor", "creditor"}
_P = f"{{{PACS008}}}"  # an element's Clark tag is this and its name
_DOCUMENT, _BODY, _HEADER, _TRANSACTION = (
    f"{_P}{name}" for name in ("Document", "FIToFICstmrCdtTrf", "GrpHdr", "CdtTrfTxInf")
)
_HEADER_FIELDS = fields_of(
    PACS008,
    {"message_id": "MsgId", "created": "CreDtTm", "count": "NbOfTxs", "settlement_method": "SttlmInf/SttlmMtd"},
)
_TRANSACTION_FIELDS = fields_of(
    PACS008,
    {
        **{field: path for field, path in ELEMENT_OF_FIELD.items() if field not in _NOT_READ_AS},
        "amount": "IntrBkSttlmAmt",
        "charges": "ChrgBr",
    },
)


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
    if root.tag != _DOCUMENT:
        raise invalid("Document", f"must be a {PACS008_NAME} Document in namespace {PACS008}")
    bodies = children_named(root, _BODY)
    transactions = [tx for body in bodies for tx in children_named(body, _TRANSACTION)]
    bad = schema_faults(root, iso_schema(PACS008_NAME), transactions)
    header = gather(children_named(bodies[0], _HEADER)[0], _HEADER_FIELDS)  # the schema requires both
    _check_header(header, len(transactions))
    message_id = first_text(header, "message_id") or ""
    taken: list[CreditTransfer] = []
    refused: list[RefusedTransaction] = []
    for index, tx in enumerate(transactions):
        read = _transaction_read(index, tx, message_id, bad.get(index))
        if isinstance(read, CreditTransfer):
            taken.append(read)
        else:
            refused.append(read)
    return ReadCreditTransfers(message_id, _created(header), tuple(taken), tuple(refused))


def _check_header(header: dict[str, list[Any]], count: int) -> None:
    declared = int(first_text(header, "count") or "0")
    if declared != count:
        raise _message_problem("GrpHdr/NbOfTxs", f"says {declared} transactions, the message holds {count}")
    method = first_text(header, "settlement_method")
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
    found = gather(tx, _TRANSACTION_FIELDS)
    if schema_faults:
        return _refused(index, found, schema_faults)
    charges = first_text(found, "charges")
    if charges != "SLEV":
        rule = f"must be SLEV (each side bears its own charges, as the scheme's rule), not {charges!r}"
        return _refused(index, found, [FieldProblem(f"CdtTrfTxInf[{index + 1}]/ChrgBr", rule, StatusReason.FF01)])
    try:
        return CreditTransfer.model_validate(_fields(message_id, found))
    except ValidationError as error:
        problems = element_problems(f"CdtTrfTxInf[{index + 1}]", problems_of(error), ELEMENT_OF_FIELD)
        return _refused(index, found, problems)


def _created(header: dict[str, list[Any]]) -> datetime:
    text = first_text(header, "created") or ""
    try:
        return datetime.fromisoformat(text)
    except ValueError:  # the schema takes 24:00:00, Python does not
        raise _message_problem("GrpHdr/CreDtTm", f"{text!r} is not a date and time this scheme reads") from None


def _fields(message_id: str, found: dict[str, list[Any]]) -> dict[str, Any]:
    """The model's fields from the transaction's elements (`gather`'s), as the model reads them:
    an element that is not there is a field not given."""
    amount = found["amount"][0]  # the schema requires IntrBkSttlmAmt
    creditor_agent = first_text(found, "creditor_agent")
    fields: dict[str, Any] = {
        "message_id": message_id,
        "end_to_end_id": first_text(found, "end_to_end_id"),
        "transaction_id": first_text(found, "transaction_id"),
        "amount_vnd": amount_value(amount.text),
        "currency": amount.get("Ccy"),
        "debtor": _party_fields(found, "debtor"),
        "debtor_account": first_text(found, "debtor_account"),
        "debtor_agent": first_text(found, "debtor_agent"),
        "creditor": _party_fields(found, "creditor"),
        "creditor_account": first_text(found, "creditor_account"),
        "creditor_agent": None if creditor_agent == SWITCH_MEMBER_ID else creditor_agent,
        "purpose": first_text(found, "purpose"),
        "remittance_information": first_text(found, "remittance_information"),
    }
    if "creditor_alias" in found:
        code = first_text(found, "creditor_alias.type")
        alias_type = ALIAS_TYPES.get(code or "", code)
        fields["creditor_alias"] = {"type": alias_type, "value": first_text(found, "creditor_alias.value")}
    return {key: value for key, value in fields.items() if value is not None}


def _party_fields(found: dict[str, list[Any]], party: str) -> dict[str, Any]:
    values = {"name": first_text(found, f"{party}.name"), "citizen_id": first_text(found, f"{party}.citizen_id")}
    return {key: value for key, value in values.items() if value is not None}


def _refused(index: int, found: dict[str, list[Any]], problems: list[FieldProblem]) -> RefusedTransaction:
    return RefusedTransaction(
        index,
        first_text(found, "end_to_end_id"),
        first_text(found, "transaction_id"),
        first_text(found, "debtor_agent"),
        tuple(problems),
    )


def _message_problem(field: str, rule: str) -> MessageInvalid:
    return invalid(field, rule)
