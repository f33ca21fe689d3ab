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
    agent_xml,
    amount_value,
    children_named,
    element_of,
    element_problems,
    escaped,
    escaped_attribute,
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
    """The message as a pacs.008.001.12 document, valid by ISO's schema."""
    return written(pacs008_xml(message, iso_datetime(created), ""), PACS008_NAME, PACS008_NAME)


def pacs008_document(message: CreditTransferMessage, created: datetime) -> Any:
    """The message as a pacs.008.001.12 Document element, valid by ISO's schema."""
    return element_of(pacs008_xml(message, iso_datetime(created), ""), PACS008_NAME, PACS008_NAME)


def pacs008_xml(message: CreditTransferMessage, created: str, indent: str) -> str:
    """The message as pacs.008.001.12 Document text at `indent` (`created`: an ISODateTime)."""
    i = indent
    body = i + "    "
    return "".join(
        (
            f"""{i}<Document xmlns="{PACS008}">
{i}  <FIToFICstmrCdtTrf>
{i}    <GrpHdr>
{i}      <MsgId>{escaped(message.message_id)}</MsgId>
{i}      <CreDtTm>{created}</CreDtTm>
{i}      <NbOfTxs>{len(message.transactions)}</NbOfTxs>
{i}      <SttlmInf>
{i}        <SttlmMtd>CLRG</SttlmMtd>
{i}      </SttlmInf>
{i}    </GrpHdr>
""",
            *[_transaction_xml(transfer, body) for transfer in message.transactions],
            f"{i}  </FIToFICstmrCdtTrf>\n{i}</Document>\n",
        )
    )


def _transaction_xml(transfer: CreditTransfer, indent: str) -> str:
    i, inner = indent, indent + "  "
    remittance = transfer.remittance_information
    return "".join(
        (
            f"""{i}<CdtTrfTxInf>
{i}  <PmtId>
{i}    <EndToEndId>{escaped(transfer.end_to_end_id)}</EndToEndId>
{i}    <TxId>{escaped(transfer.transaction_id)}</TxId>
{i}  </PmtId>
{i}  <IntrBkSttlmAmt Ccy="{escaped_attribute(transfer.currency)}">{transfer.amount_vnd}</IntrBkSttlmAmt>
{i}  <ChrgBr>SLEV</ChrgBr>
""",
            _party_xml("Dbtr", transfer.debtor.name, transfer.debtor.citizen_id, inner),
            f"{i}  <DbtrAcct>\n{_account_id_xml(transfer.debtor_account, inner + '  ')}{i}  </DbtrAcct>\n",
            agent_xml("DbtrAgt", transfer.debtor_agent, inner),
            agent_xml("CdtrAgt", transfer.creditor_agent or SWITCH_MEMBER_ID, inner),
            _party_xml("Cdtr", transfer.creditor.name, transfer.creditor.citizen_id, inner),
            _creditor_account_xml(transfer, inner),
            wrapped_xml("Purp", "Cd", transfer.purpose.value, inner),
            "" if remittance is None else wrapped_xml("RmtInf", "Ustrd", remittance, inner),
            f"{i}</CdtTrfTxInf>\n",
        )
    )


def _party_xml(tag: str, name: str | None, citizen_id: str | None, indent: str) -> str:
    i = indent
    if name is None and citizen_id is None:
        return f"{i}<{tag}/>\n"
    named = "" if name is None else f"{i}  <Nm>{escaped(name)}</Nm>\n"
    if citizen_id is None:
        return f"{i}<{tag}>\n{named}{i}</{tag}>\n"
    return f"""{i}<{tag}>
{named}{i}  <Id>
{i}    <PrvtId>
{i}      <Othr>
{i}        <Id>{escaped(citizen_id)}</Id>
{i}        <SchmeNm>
{i}          <Cd>NIDN</Cd>
{i}        </SchmeNm>
{i}      </Othr>
{i}    </PrvtId>
{i}  </Id>
{i}</{tag}>
"""


def _account_id_xml(account: str, indent: str) -> str:
    """Id/Othr/Id: an account by its number."""
    i = indent
    return f"{i}<Id>\n{i}  <Othr>\n{i}    <Id>{escaped(account)}</Id>\n{i}  </Othr>\n{i}</Id>\n"


def _creditor_account_xml(transfer: CreditTransfer, indent: str) -> str:
    i = indent
    account, alias = transfer.creditor_account, transfer.creditor_alias
    if account is None and alias is None:
        return ""
    by_number = "" if account is None else _account_id_xml(account, i + "  ")
    by_alias = ""
    if alias is not None:
        by_alias = f"""{i}  <Prxy>
{i}    <Tp>
{i}      <Cd>{PROXY_TYPES[alias.type]}</Cd>
{i}    </Tp>
{i}    <Id>{escaped(alias.value)}</Id>
{i}  </Prxy>
"""
    return f"{i}<CdtrAcct>\n{by_number}{by_alias}{i}</CdtrAcct>\n"


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
