"""The in-process network: a deterministic event scheduler on a simulated clock.

Envelopes wait in a heap keyed by (delivery time, sequence number). Each step takes every envelope
due at the earliest time, groups them by receiver and hands each node its batch, so messages that
arrive together are processed together (one database transaction per node per step), as a real
node batches what reaches it in one poll. Link latency and faults come from one seeded random
generator: the same seed gives the same run.
"""

from __future__ import annotations

import heapq
import random
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from switch.scheme.transport import Envelope, Node, TimerFired, Undeliverable

EVENTS_PER_RUN_MAX = 50_000_000
QUEUE_LENGTH_MAX = 5_000_000
TIMER_HOLD_MS = 1_000
TIMER_HOLDS_MAX = 3_600  # an hour of holding a down node's timer


@dataclass(slots=True)
class LinkFaults:
    latency_ms_min: int = 1
    latency_ms_max: int = 5
    duplicate_rate: float = 0.0  # a message delivered twice, the copy somewhat later
    drop_rate: float = 0.0  # a message lost on the way, nobody told (a reset after the request was read)
    delay_rate: float = 0.0  # a message held up on the way by `delay_ms_max` at most
    delay_ms_max: int = 0
    # A node takes what reached it at the end of each window of this many ms as one batch, as a real
    # node polls its queue; 1 means every millisecond. Timers keep their exact time.
    batch_window_ms: int = 5


@dataclass(slots=True)
class NetworkStats:
    delivered: int = 0
    duplicated: int = 0
    dropped: int = 0
    delayed: int = 0
    undeliverable: int = 0
    steps: int = 0
    batches: int = 0
    by_receiver: dict[str, int] = field(default_factory=lambda: defaultdict(int))


class InProcessNetwork:
    def __init__(self, start_ms: int, seed: int = 0, faults: LinkFaults | None = None) -> None:
        self.now_ms = start_ms
        self.random = random.Random(seed)
        self.faults = faults or LinkFaults()
        self.nodes: dict[str, Node] = {}
        # Addresses without a node (a customer channel, the citizen app) keep what they were sent.
        self.mailboxes: dict[str, list[Envelope]] = defaultdict(list)
        self.stats = NetworkStats()
        self._queue: list[tuple[int, int, Envelope]] = []
        self._timer_holds: dict[tuple[str, str], int] = {}
        self._sequence = 0
        # Addresses whose messages cross a codec on the way, as on HTTP (network.xml_link).
        self.codecs: dict[str, Callable[[Envelope], Envelope]] = {}

    def add(self, node: Node) -> None:
        if node.address in self.nodes:
            raise ValueError(f"address {node.address} is already on the network")
        self.nodes[node.address] = node

    def inject(self, envelopes: Iterable[Envelope], at_ms: int | None = None) -> None:
        """Put messages from outside (customers, the citizen app) on the network."""
        when = self.now_ms if at_ms is None else at_ms
        if when < self.now_ms:
            raise ValueError(f"at_ms: {when} is in the past (now {self.now_ms})")
        for envelope in envelopes:
            self._push(when + envelope.delay_ms, envelope)

    def dispatch(self, envelopes: Iterable[Envelope]) -> None:
        """What a node decided outside a delivery (an admin call, a restart), sent as it would be."""
        for envelope in envelopes:
            self._send(envelope)

    def pending(self) -> int:
        return len(self._queue)

    def run(self, until_ms: int | None = None, events_max: int = EVENTS_PER_RUN_MAX) -> None:
        """Deliver until nothing is left (or the clock would pass `until_ms`)."""
        delivered_before = self.stats.delivered
        while self._queue:
            if until_ms is not None and self._queue[0][0] > until_ms:
                self.now_ms = max(self.now_ms, until_ms)  # the clock never runs backwards
                return
            self.step()
            if self.stats.delivered - delivered_before > events_max:
                raise RuntimeError(f"more than {events_max} deliveries in one run: a message loop?")
        if until_ms is not None:
            self.now_ms = max(self.now_ms, until_ms)

    def step(self) -> None:
        at_ms = self._queue[0][0]
        self.now_ms = at_ms
        due: dict[str, list[Envelope]] = defaultdict(list)
        while self._queue and self._queue[0][0] == at_ms:
            _, _, envelope = heapq.heappop(self._queue)
            due[envelope.receiver].append(envelope)
        self.stats.steps += 1
        for receiver in sorted(due):  # sorted: the order of nodes in a step never depends on chance
            self._deliver(receiver, due[receiver])

    def _deliver(self, receiver: str, inbox: list[Envelope]) -> None:
        node = self.nodes.get(receiver)
        if node is None:
            self.mailboxes[receiver].extend(inbox)
            return
        if node.offline:
            for envelope in inbox:
                if envelope.sender == receiver:
                    self._hold(envelope)
                else:
                    self._bounce(envelope)
            return
        if self._timer_holds:  # the node is back: its held timers start a fresh count next outage
            for envelope in inbox:
                if envelope.sender == receiver:
                    self._timer_holds.pop((receiver, str(envelope.message)), None)
        self.stats.delivered += len(inbox)
        self.stats.batches += 1
        self.stats.by_receiver[receiver] += len(inbox)
        for envelope in node.handle(inbox, self.now_ms):
            self._send(envelope)

    def _send(self, envelope: Envelope) -> None:
        if envelope.sender == envelope.receiver:  # a timer: exactly on time, never duplicated
            self._push(self.now_ms + envelope.delay_ms, envelope)
            return
        codec = self.codecs.get(envelope.receiver) or self.codecs.get(envelope.sender)
        if codec is not None:
            envelope = codec(envelope)
        faults = self.faults
        if faults.drop_rate and self.random.random() < faults.drop_rate:
            self.stats.dropped += 1
            return
        extra_ms = 0
        if faults.delay_rate and self.random.random() < faults.delay_rate:
            self.stats.delayed += 1
            extra_ms = int(self.random.random() * faults.delay_ms_max)
        self._push(self._window(self.now_ms + envelope.delay_ms + self._latency() + extra_ms), envelope)
        if faults.duplicate_rate and self.random.random() < faults.duplicate_rate:
            self.stats.duplicated += 1
            self._push(self._window(self.now_ms + envelope.delay_ms + 4 * self._latency()), envelope)

    def _hold(self, timer: Envelope) -> None:
        """A node's own timer while it is down waits for it, as its scheduler resumes on restart."""
        key = (timer.receiver, str(timer.message))
        held = self._timer_holds.get(key, 0)
        if held >= TIMER_HOLDS_MAX:
            self._timer_holds.pop(key, None)
            return  # down for hours: the timer is dropped, the node re-arms what it needs
        self._timer_holds[key] = held + 1
        self._push(self.now_ms + TIMER_HOLD_MS, timer)

    def _bounce(self, envelope: Envelope) -> None:
        if isinstance(envelope.message, Undeliverable | TimerFired):
            return  # nobody to tell
        notice = Envelope(envelope.receiver, envelope.sender, Undeliverable(envelope.receiver, envelope.message))
        if envelope.sender not in self.nodes:  # a customer or the citizen app: told in its mailbox
            self.mailboxes[envelope.sender].append(notice)
            return
        self.stats.undeliverable += 1
        self._push(self._window(self.now_ms + self._latency()), notice)

    def _window(self, at_ms: int) -> int:
        """The end of the batch window that `at_ms` falls in: deliveries wait for their node's poll."""
        window = self.faults.batch_window_ms
        return -(-at_ms // window) * window

    def _latency(self) -> int:
        # random() and a product, not randint(): randint costs four times as much, per message.
        low, high = self.faults.latency_ms_min, self.faults.latency_ms_max
        return low + int(self.random.random() * (high - low + 1))

    def _push(self, at_ms: int, envelope: Envelope) -> None:
        if len(self._queue) >= QUEUE_LENGTH_MAX:
            raise RuntimeError(f"network queue over {QUEUE_LENGTH_MAX} envelopes")
        self._sequence += 1
        heapq.heappush(self._queue, (at_ms, self._sequence, envelope))
