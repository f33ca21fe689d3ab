"""Volume travels as volume: a node's credit transfers and status reports to one receiver leave as
multi-transaction messages (one pacs.008, one pacs.002), and such messages are opened on arrival.

    gathered(out, room, next_message_id)   what a node sends, its transactions grouped by receiver
    opened(inbox)                          what reached a node, every message taken apart in order
    transactions_in(message)               the credit transfers a message carries, whatever its size

A group of one stays a bare transaction: a single transfer is a message of one, and a receiver
that takes single transfers only (`room` 1) gets nothing else. Transactions travel together only
when they leave at the same moment (the same `delay_ms`): a message has one time of sending.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from switch.scheme.messages import (
    TRANSACTIONS_PER_MESSAGE_MAX,
    CreditTransfer,
    CreditTransferMessage,
    StatusReport,
    StatusReportMessage,
)
from switch.scheme.transport import Envelope, TimerFired, Undeliverable

Room = Callable[[str], int]  # receiver -> transactions per message it takes, 1 to the scheme's maximum


class MessageIds:
    """The ids of the messages of many one node sends: its name, the moment, and a count this node
    keeps, so no two of its messages share an id (`at(now_ms)` is what `gathered` asks for)."""

    def __init__(self, sender: str) -> None:
        self.sender = sender
        self.sent = 0

    def at(self, now_ms: int) -> Callable[[], str]:
        def next_id() -> str:
            self.sent += 1
            return f"{self.sender}-{now_ms}-{self.sent}"

        return next_id


def transactions_in(message: object) -> tuple[CreditTransfer, ...]:
    """The credit transfers `message` carries: itself, a message's transactions, or none."""
    if isinstance(message, CreditTransfer):
        return (message,)
    if isinstance(message, CreditTransferMessage):
        return message.transactions
    return ()


def opened(inbox: Sequence[Envelope]) -> list[Envelope]:
    """The inbox with each multi-transaction message replaced by its transactions, in order, each
    from the message's sender with the message's delay: a node decides them one by one (one bad
    transaction never sinks the others) in the one batch they arrived in."""
    out: list[Envelope] = []
    for envelope in inbox:
        message = envelope.message
        if isinstance(message, CreditTransferMessage):
            out.extend(Envelope(envelope.sender, envelope.receiver, t, envelope.delay_ms) for t in message.transactions)
        elif isinstance(message, StatusReportMessage):
            out.extend(Envelope(envelope.sender, envelope.receiver, r, envelope.delay_ms) for r in message.reports)
        else:
            out.append(envelope)
    return out


def gathered(out: Sequence[Envelope], room: Room, next_message_id: Callable[[], str]) -> list[Envelope]:
    """`out` with its credit transfers and status reports to one receiver at one moment grouped into
    messages of at most `room(receiver)` transactions; each group stands where its first member
    stood, and whatever else the node sends keeps its place."""
    groups: dict[tuple[type, str, str, int], list[Any]] = {}
    order: list[Envelope | tuple[type, str, str, int]] = []
    for envelope in out:
        kind = type(envelope.message)
        if kind is not CreditTransfer and kind is not StatusReport:
            order.append(envelope)
            continue
        key = (kind, envelope.sender, envelope.receiver, envelope.delay_ms)
        members = groups.get(key)
        if members is None:
            members = groups[key] = []
            order.append(key)
        members.append(envelope.message)
    result: list[Envelope] = []
    for entry in order:
        if isinstance(entry, Envelope):
            result.append(entry)
            continue
        kind, sender, receiver, delay_ms = entry
        members = groups[entry]
        size = max(1, min(room(receiver), TRANSACTIONS_PER_MESSAGE_MAX))
        for start in range(0, len(members), size):
            chunk = members[start : start + size]
            message = chunk[0] if len(chunk) == 1 else _message(kind, chunk, next_message_id())
            result.append(Envelope(sender, receiver, message, delay_ms))
    return result


def _message(kind: type, members: list[Any], message_id: str) -> CreditTransferMessage | StatusReportMessage:
    """Members built from validated values, grouped under a new id: no second validation. A credit
    transfer carries its group header's id, so each transaction takes the message's."""
    if kind is StatusReport:
        return StatusReportMessage.unchecked(message_id=message_id, reports=tuple(members))
    transactions = tuple(
        t if t.message_id == message_id else CreditTransfer.unchecked(**{**t.__dict__, "message_id": message_id})
        for t in members
    )
    return CreditTransferMessage.unchecked(message_id=message_id, transactions=transactions)


def slices(inbox: Sequence[Envelope], transactions_max: int) -> list[Sequence[Envelope]]:
    """The inbox cut, in order, into slices of at most `transactions_max` transactions that never
    cut a message: a node decides each slice in one database transaction, so a whole message is
    always decided in one. What an envelope weighs is what it makes the node decide (`_weight`)."""
    if transactions_max < TRANSACTIONS_PER_MESSAGE_MAX:
        raise AssertionError(f"a slice of {transactions_max} could not hold a whole message")
    cuts: list[Sequence[Envelope]] = []
    start = count = 0
    for index, envelope in enumerate(inbox):
        size = _weight(envelope.message)
        if count + size > transactions_max:
            cuts.append(inbox[start:index])
            start, count = index, 0
        count += size
    cuts.append(inbox[start:])
    return cuts


def _weight(message: object) -> int:
    """How many transactions a message makes its receiver decide: a message of many its
    transactions or reports, a message's timer the transactions it watches, a bounced message what
    it carried; anything else one."""
    if isinstance(message, CreditTransferMessage):
        return len(message.transactions)
    if isinstance(message, StatusReportMessage):
        return len(message.reports)
    if isinstance(message, TimerFired):
        return max(1, len(message.keys))
    if isinstance(message, Undeliverable):
        return max(1, len(transactions_in(message.message)))
    return 1
