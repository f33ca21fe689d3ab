"""pacs.008 bodies for the load test's XML wire, made fast enough not to be the load generator's
bottleneck: one document per payer is written by the scheme's writer (so it is valid by ISO's
schema) with placeholder values, and each transfer's body is that text with its values put in.
A real bank writes its own XML; what the run measures is the switch reading it."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from switch.scheme.messages import CreditTransfer, CreditTransferMessage, Party
from switch.scheme.wire import write_wire

SWITCH_MEMBER_ID = "NAPAS"
_ID = "LTXMLPLACEHOLDER00000000000000000"  # 33 characters, where each transfer's id goes
_AMOUNT = "987654321"
_ACCOUNT = "1234567890123"
_AGENT = "970499"
_ANSWER_STATUS = re.compile(rb"<TxSts>([A-Z]{4})</TxSts>")
_ANSWER_REASON = re.compile(rb"<Rsn>\s*<Cd>([A-Z0-9]{4})</Cd>")


def transfer_template(debtor_agent: str, debtor_account: str, debtor_name: str) -> str:
    transfer = CreditTransfer(
        message_id=_ID, end_to_end_id=_ID, transaction_id=_ID, amount_vnd=int(_AMOUNT),
        debtor=Party(name=debtor_name), debtor_account=debtor_account, debtor_agent=debtor_agent,
        creditor_account=_ACCOUNT, creditor_agent=_AGENT,
    )  # fmt: skip
    message = CreditTransferMessage(message_id=_ID, transactions=(transfer,))
    return write_wire(message, debtor_agent, SWITCH_MEMBER_ID, datetime.now(UTC)).decode()


def transfer_body(template: str, transaction_id: str, amount_vnd: int, creditor_agent: str, account: str) -> bytes:
    assert len(transaction_id) <= 35 and amount_vnd > 0, (transaction_id, amount_vnd)
    text = template.replace(_ID, transaction_id).replace(_AMOUNT, str(amount_vnd))
    return text.replace(_ACCOUNT, account).replace(f">{_AGENT}<", f">{creditor_agent}<").encode()


def answer_status(content: bytes) -> tuple[str | None, str | None]:
    """The first transaction's status and reason in a pacs.002 answer (the load test sends one)."""
    status, reason = _ANSWER_STATUS.search(content), _ANSWER_REASON.search(content)
    return (status.group(1).decode() if status else None), (reason.group(1).decode() if reason else None)
