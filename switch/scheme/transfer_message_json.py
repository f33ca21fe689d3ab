"""A multi-transaction pacs.008 on the JSON wire: parse and validate (never mutates).

    {"message_id": "VCB-20261201-000042",
     "transactions": [{"end_to_end_id": ..., "transaction_id": ..., "amount_vnd": ..., ...}, ...]}

The message as a whole must be readable: a JSON object, a message id of 1 to 35 characters and 1
to TRANSACTIONS_PER_MESSAGE_MAX transactions, else MessageInvalid and nothing is taken. Each
transaction is then checked on its own, as the XML reader does (`switch.scheme.pacs008`): one that
breaks a rule is refused with the field (as `transactions.N.field`) and the rule, and the others go
on. A transaction may leave out `message_id` (it is the message's); one that gives another is
refused. The answer is a StatusReportMessage, one report per transaction in the message's order.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from switch.scheme.codes import StatusReason
from switch.scheme.messages import TRANSACTIONS_PER_MESSAGE_MAX, CreditTransfer
from switch.scheme.pacs008 import ReadCreditTransfers, RefusedTransaction
from switch.scheme.validation import FieldProblem, MessageInvalid, parse_message
from switch.scheme.wire import WIRE_BYTES_MAX

MESSAGE_ID_LENGTH_MAX = 35


def parse_transfer_message(data: bytes, received: datetime | None = None) -> ReadCreditTransfers:
    """Read a JSON pacs.008 of many: the transactions that can be taken, in order, and those refused."""
    if len(data) > WIRE_BYTES_MAX:
        raise _invalid("(message)", f"{len(data)} bytes is over the limit of {WIRE_BYTES_MAX} bytes")
    try:
        raw = json.loads(data)
    except (ValueError, RecursionError) as error:
        raise _invalid("(message)", f"must be JSON: {error}") from None
    message_id, transactions = _envelope(raw)
    taken: list[CreditTransfer] = []
    refused: list[RefusedTransaction] = []
    for index, transaction in enumerate(transactions):
        read = _transaction(index, transaction, message_id)
        if isinstance(read, CreditTransfer):
            taken.append(read)
        else:
            refused.append(read)
    return ReadCreditTransfers(message_id, received or datetime.now(UTC), tuple(taken), tuple(refused))


def _envelope(raw: Any) -> tuple[str, list[Any]]:
    """The message's id and its transactions, or MessageInvalid naming what the whole lacks."""
    if not isinstance(raw, dict):
        raise _invalid("(message)", "must be a JSON object with message_id and transactions")
    unknown = sorted(set(raw) - {"message_id", "transactions"})
    if unknown:
        raise _invalid(unknown[0], "is not a field of a credit transfer message (message_id, transactions)")
    message_id = raw.get("message_id")
    if not isinstance(message_id, str) or not 1 <= len(message_id) <= MESSAGE_ID_LENGTH_MAX:
        raise _invalid("message_id", f"must be text of 1 to {MESSAGE_ID_LENGTH_MAX} characters")
    transactions = raw.get("transactions")
    if not isinstance(transactions, list) or not 1 <= len(transactions) <= TRANSACTIONS_PER_MESSAGE_MAX:
        raise _invalid("transactions", f"must be a list of 1 to {TRANSACTIONS_PER_MESSAGE_MAX} credit transfers")
    return message_id, transactions


def _transaction(index: int, raw: Any, message_id: str) -> CreditTransfer | RefusedTransaction:
    where = f"transactions.{index}"
    if not isinstance(raw, dict):
        return _refused(index, {}, [FieldProblem(where, "must be a JSON object", StatusReason.FF01)])
    given = raw.get("message_id", message_id)
    if given != message_id:
        rule = f"must be the message's id {message_id!r}, or left out"
        return _refused(index, raw, [FieldProblem(f"{where}.message_id", rule, StatusReason.FF01)])
    try:
        return parse_message(CreditTransfer, {**raw, "message_id": message_id})
    except MessageInvalid as error:
        problems = [FieldProblem(f"{where}.{p.field}", p.rule, p.reason) for p in error.problems]
        return _refused(index, raw, problems)


def _refused(index: int, raw: dict[str, Any], problems: list[FieldProblem]) -> RefusedTransaction:
    def text(name: str) -> str | None:
        value = raw.get(name)
        return value if isinstance(value, str) and value else None

    return RefusedTransaction(
        index, text("end_to_end_id"), text("transaction_id"), text("debtor_agent"), tuple(problems)
    )


def _invalid(field: str, rule: str) -> MessageInvalid:
    return MessageInvalid([FieldProblem(field, rule, StatusReason.FF01)])
