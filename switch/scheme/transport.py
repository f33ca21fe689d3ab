"""What a transport carries between nodes: envelopes, timers, and notices of failed delivery.

A node is synchronous code: `handle(inbox, now_ms)` takes the envelopes delivered to it at one
instant and returns the envelopes it sends. The in-process network and the HTTP transport both
drive nodes through this one method.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from pydantic import BaseModel

SWITCH_ADDRESS = "switch"
CITIZEN_APP_ADDRESS = "vneid"


@dataclass(slots=True, frozen=True)
class TimerFired:
    """A node's reminder to itself, delivered exactly `delay_ms` after it was sent.

    `keys` are what it is about when it is about many things at once (the transactions of one
    multi-transaction message the switch forwarded): one timer for the message, not one each. They
    take no part in its identity or its text, which stay short."""

    key: str
    keys: tuple[str, ...] = field(default=(), compare=False, repr=False)


@dataclass(slots=True, frozen=True)
class Undeliverable:
    """The transport could not reach `receiver`: it is offline or refuses connections."""

    receiver: str
    message: object  # what could not be delivered, as it was sent


@dataclass(slots=True, frozen=True)
class RawMessage:
    """A message as an external participant sent it (parsed JSON, not yet validated).

    The switch validates it itself and answers a malformed one with a status report naming the
    field, the rule and the reason code, so an integrator sees exactly what a real switch says.
    """

    kind: str  # "pacs.008"
    payload: object


Message = BaseModel | TimerFired | Undeliverable | RawMessage


@dataclass(slots=True, frozen=True)
class Envelope:
    sender: str
    receiver: str
    message: Message
    # Time the sender spends before the message leaves, on top of the network's own latency.
    delay_ms: int = 0


class Node(Protocol):
    address: str

    @property
    def offline(self) -> bool: ...

    def handle(self, inbox: Sequence[Envelope], now_ms: int) -> list[Envelope]: ...
