"""The ISO 20022 XML wire at the gateway: scheme messages to and from the documents a participant
that chose `iso20022-xml` sends and receives (switch.scheme.wire is the codec; this is its use).

Both ends name each other in the Business Application Header by member id: a participant by its
BIN, the switch as NAPAS. What one batch of the switch decides for a participant travels as few
messages: its credits in one pacs.008, its final statuses in one pacs.002 (each at most
TRANSACTIONS_PER_MESSAGE_MAX transactions).

When the switch forwards transactions from several debtor agents in one pacs.008, the message is
the switch's own (a new MsgId, as an instructing agent's is); each transaction keeps its ids, and
the creditor's answers are read back against the transactions sent, so the switch sees each
answer under the debtor's original message id.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from gateway import problems
from switch.scheme.codes import StatusReason, TransactionStatus
from switch.scheme.messages import (
    TRANSACTIONS_PER_MESSAGE_MAX,
    CreditTransfer,
    CreditTransferMessage,
    StatusReport,
    StatusReportMessage,
)
from switch.scheme.pacs008 import RefusedTransaction
from switch.scheme.wire import ReadWire, WireMessage, carrying, member_id, read_wire, write_wire

ADDITIONAL_INFORMATION_CHARS_MAX = 500  # StatusReport.additional_information's limit


def new_message_id() -> str:
    return uuid.uuid4().hex  # 32 characters: a MsgId is at most 35


def now() -> datetime:
    return datetime.now(UTC)


def write(message: WireMessage, sender: str, receiver: str) -> bytes:
    return write_wire(message, member_id(sender), member_id(receiver), now())


def transfers_message(transfers: Sequence[CreditTransfer]) -> CreditTransferMessage:
    """One pacs.008 for transfers that may come from several messages: the message is new, and
    each transaction carries its id (the scheme's rule); `answers_to` puts them back."""
    assert 0 < len(transfers) <= TRANSACTIONS_PER_MESSAGE_MAX, len(transfers)
    ids = {transfer.message_id for transfer in transfers}
    if len(ids) == 1:
        return CreditTransferMessage.unchecked(message_id=transfers[0].message_id, transactions=tuple(transfers))
    message_id = new_message_id()
    renamed = tuple(transfer.model_copy(update={"message_id": message_id}) for transfer in transfers)
    return CreditTransferMessage.unchecked(message_id=message_id, transactions=renamed)


def reports_message(reports: Sequence[StatusReport]) -> StatusReportMessage:
    assert 0 < len(reports) <= TRANSACTIONS_PER_MESSAGE_MAX, len(reports)
    return StatusReportMessage.unchecked(message_id=new_message_id(), reports=tuple(reports))


def single(message: BaseModel) -> WireMessage:
    """A message sent on its own, as the document that carries it."""
    return carrying(message, new_message_id())


def answers_to(sent: Sequence[CreditTransfer], reports: Sequence[StatusReport]) -> list[StatusReport]:
    """The creditor's reports on the transfers sent, each under the original message id it was
    sent with; a report on a transaction that was not in the message is dropped."""
    originals = {(t.debtor_agent, t.transaction_id): t.message_id for t in sent}
    answers = []
    for report in reports:
        original = originals.get((report.debtor_agent, report.original_transaction_id))
        if original is not None:
            answers.append(report.model_copy(update={"original_message_id": original}))
    return answers


def refusal_report(refused: RefusedTransaction, message_id: str, debtor_agent: str) -> StatusReport:
    """RJCT for a transaction that could not be read, naming the element and the rule."""
    detail = "; ".join(f"{p.field}: {p.rule}" for p in refused.problems)
    return StatusReport(
        original_message_id=message_id,
        original_end_to_end_id=(refused.end_to_end_id or "NOTPROVIDED")[:35],
        original_transaction_id=(refused.transaction_id or "NOTPROVIDED")[:35],
        debtor_agent=debtor_agent,
        transaction_status=TransactionStatus.RJCT,
        status_reason=refused.reason,
        additional_information=detail[:ADDITIONAL_INFORMATION_CHARS_MAX],
    )


def pending_report(transfer: CreditTransfer) -> StatusReport:
    return StatusReport(
        original_message_id=transfer.message_id,
        original_end_to_end_id=transfer.end_to_end_id,
        original_transaction_id=transfer.transaction_id,
        debtor_agent=transfer.debtor_agent,
        transaction_status=TransactionStatus.PDNG,
        creditor_agent=transfer.creditor_agent,
        amount_vnd=transfer.amount_vnd,
    )


XML_DEBTOR_AGENT_FIELD = "DbtrAgt/FinInstnId/ClrSysMmbId/MmbId"


def not_theirs_report(transfer: CreditTransfer, caller: str, field: str = XML_DEBTOR_AGENT_FIELD) -> StatusReport:
    """A transaction whose debtor agent is not the caller: refused, the others go on. `field` names
    the debtor agent as the caller's wire does."""
    return StatusReport(
        original_message_id=transfer.message_id,
        original_end_to_end_id=transfer.end_to_end_id,
        original_transaction_id=transfer.transaction_id,
        debtor_agent=transfer.debtor_agent,
        transaction_status=TransactionStatus.RJCT,
        status_reason=StatusReason.FF01,
        additional_information=f"{field}: must be {caller}, the sender's BIN",
    )


def read(data: bytes) -> ReadWire:
    return read_wire(data)


def addressed(read: ReadWire, sender: str, receiver: str, who: str) -> ReadWire:
    """The document, once its header says it is from `sender` (`who`, in words) to `receiver`:
    403 naming AppHdr/Fr when another speaks, 400 naming AppHdr/To when it is for someone else."""
    if read.header.sender != sender:
        raise problems.ApiProblem(
            403, "forbidden", "Not the sender", f"AppHdr/Fr is {read.header.sender!r}", "AppHdr/Fr",
            f"must be {sender}, {who}", StatusReason.FF01,
        )  # fmt: skip
    if read.header.receiver != receiver:
        raise problems.ApiProblem(
            400, "message-invalid", "Not for this receiver", f"AppHdr/To is {read.header.receiver!r}", "AppHdr/To",
            f"must be {receiver}", StatusReason.FF01,
        )  # fmt: skip
    return read


def of_kind(read: ReadWire, kind: type[Any], name: str) -> Any:
    """The message, when it is the kind this path takes; else 400 naming AppHdr/MsgDefIdr."""
    if not isinstance(read.message, kind):
        raise problems.ApiProblem(
            400, "message-invalid", "Wrong message for this path", f"this path takes a {name}",
            "AppHdr/MsgDefIdr", f"must be a {name}, not {read.header.message_definition}", StatusReason.FF01,
        )  # fmt: skip
    return read.message
