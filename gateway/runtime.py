"""A node on the network: its inbox, its batches, its timers, and the requests waiting on it.

The same `handle(inbox, now_ms)` the in-process network calls is called here, in a worker thread,
with what reached the node over HTTP during one batch window. What the node sends goes to a
`Dispatcher` (HTTP to other nodes), back into the inbox after a delay (timers), or to an HTTP
request that is waiting for exactly that answer (a waiter).

The runtime is the one writer of its node's database in this process: batches run one at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from switch.scheme import grouping
from switch.scheme.messages import CreditTransferMessage, StatusReportMessage
from switch.scheme.transport import Envelope, Node

log = logging.getLogger("switchyard.runtime")

BATCH_WINDOW_MS = 5
BATCH_SIZE_MAX = 8_190
INBOX_LENGTH_MAX = 100_000
WAITERS_MAX = 100_000


class Dispatcher(Protocol):
    async def send(self, envelope: Envelope) -> None: ...


Shape = tuple[type[Any], bool, tuple[str, ...]]


@dataclass(slots=True, frozen=True)
class Matcher:
    """Which envelope answers a waiting request: one to `receiver` (any, when None) whose message is
    a `kind` with these field values. Waiters are indexed by it, so finding the requests an envelope
    answers costs one dictionary look-up per shape of matcher, however many requests wait.
    Made by `matcher_for`, which works the shape and key out once."""

    shape: Shape  # (kind, whether the receiver counts, the field names)
    key: tuple[Any, ...]  # (receiver or None, the field values)


def _key_of(envelope: Envelope, by_receiver: bool, names: tuple[str, ...]) -> tuple[Any, ...]:
    message = envelope.message
    return (envelope.receiver if by_receiver else None, *(getattr(message, name, None) for name in names))


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class NodeRuntime:
    def __init__(
        self,
        node: Node,
        dispatcher: Dispatcher | None = None,
        clock_ms: Callable[[], int] = wall_clock_ms,
        window_ms: int = BATCH_WINDOW_MS,
        on_batch: Callable[[list[Envelope], list[Envelope], float], None] | None = None,
        ticks: Sequence[tuple[float, Envelope]] = (),
    ) -> None:
        self.node = node
        self.on_batch = on_batch
        self.ticks = list(ticks)  # (every_s, envelope): housekeeping the node asks for on a schedule
        self.dispatcher = dispatcher
        self.clock_ms = clock_ms
        self.window_s = window_ms / 1000
        self.inbox: asyncio.Queue[Envelope] = asyncio.Queue(INBOX_LENGTH_MAX)
        # shape -> key -> the futures of the requests waiting for an envelope with that key
        self.waiters: dict[Shape, dict[tuple[Any, ...], list[asyncio.Future[Envelope]]]] = {}
        self.waiting = 0
        self.batches = 0
        self._task: asyncio.Task[None] | None = None
        self._sending: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        if self.dispatcher is None:
            raise RuntimeError(f"node {self.node.address}: attach a dispatcher before starting")
        self._task = asyncio.create_task(self._run(), name=f"node {self.node.address}")
        # A node that keeps work across restarts (running disbursements, a bank's open credits)
        # says what to arm again.
        resume = getattr(self.node, "resume", None)
        if resume is not None:
            self.emit(await asyncio.to_thread(resume))
        for every_s, envelope in self.ticks:
            task = asyncio.create_task(self._tick(every_s, envelope))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for task in list(self._sending):
            task.cancel()

    async def deliver(self, envelope: Envelope) -> None:
        """A message for this node (from HTTP or a timer): it joins the next batch."""
        if self.inbox.full():
            raise OverflowError(f"inbox of {self.node.address} is full ({INBOX_LENGTH_MAX})")
        await self.inbox.put(envelope)

    async def ask(self, envelope: Envelope, matches: Matcher, timeout_s: float) -> Envelope | None:
        """Deliver, then wait up to `timeout_s` for the first envelope the node sends that matches."""
        future = self._wait_for(matches)
        try:
            await self.deliver(envelope)
            return await asyncio.wait_for(asyncio.shield(future), timeout_s)
        except TimeoutError:
            return None
        finally:
            self._forget(matches, future)

    async def ask_many(
        self, requests: Sequence[tuple[Envelope, Matcher]], timeout_s: float
    ) -> AsyncIterator[tuple[int, Envelope | None]]:
        """Deliver every request into the same batch and yield (index, answer) as each answer comes,
        in the order they come; (index, None) for those still unanswered after `timeout_s`."""
        futures = [self._wait_for(matches) for _envelope, matches in requests]
        index_of = {id(future): index for index, future in enumerate(futures)}
        try:
            for envelope, _matches in requests:
                await self.deliver(envelope)
            pending: set[asyncio.Future[Envelope]] = set(futures)
            deadline = asyncio.get_running_loop().time() + timeout_s
            while pending:
                left_s = deadline - asyncio.get_running_loop().time()
                done, pending = await asyncio.wait(pending, timeout=max(left_s, 0), return_when="FIRST_COMPLETED")
                if not done:
                    break
                for future in done:
                    yield index_of[id(future)], future.result()
            for future in pending:
                yield index_of[id(future)], None
        finally:
            for (_envelope, matches), future in zip(requests, futures, strict=True):
                self._forget(matches, future)

    def _wait_for(self, matches: Matcher) -> asyncio.Future[Envelope]:
        if self.waiting >= WAITERS_MAX:
            raise OverflowError(f"more than {WAITERS_MAX} requests waiting on {self.node.address}")
        future: asyncio.Future[Envelope] = asyncio.get_running_loop().create_future()
        self.waiters.setdefault(matches.shape, {}).setdefault(matches.key, []).append(future)
        self.waiting += 1
        return future

    def _forget(self, matches: Matcher, future: asyncio.Future[Envelope]) -> None:
        by_key = self.waiters.get(matches.shape, {})
        futures = by_key.get(matches.key)
        if futures is None or future not in futures:
            return
        futures.remove(future)
        self.waiting -= 1
        if not futures:
            del by_key[matches.key]

    def _answer_waiters(self, envelope: Envelope) -> bool:
        """Resolve every request this envelope answers; False when none waits for it."""
        answered = False
        for (kind, by_receiver, names), by_key in self.waiters.items():
            if not by_key or not isinstance(envelope.message, kind):
                continue
            for future in by_key.get(_key_of(envelope, by_receiver, names), ()):
                if not future.done():
                    future.set_result(envelope)
                    answered = True
        return answered

    async def _tick(self, every_s: float, envelope: Envelope) -> None:
        while True:
            await asyncio.sleep(every_s)
            await self.deliver(envelope)

    async def _run(self) -> None:
        while True:
            first = await self.inbox.get()
            if self.inbox.empty():
                # It came alone: let the rest of the window arrive. When more wait already (they
                # came while the last batch ran), waiting longer would only add to their latency.
                await asyncio.sleep(self.window_s)
            batch = [first]
            while not self.inbox.empty() and len(batch) < BATCH_SIZE_MAX:
                batch.append(self.inbox.get_nowait())
            started = time.perf_counter()
            try:
                out = await asyncio.to_thread(self.node.handle, batch, self.clock_ms())
            except Exception:  # a failed batch is rolled back whole; the node goes on with the next
                log.exception("batch of %d failed at %s", len(batch), self.node.address)
                continue
            self.batches += 1
            if self.on_batch is not None:
                self.on_batch(batch, out, time.perf_counter() - started)
            for envelope in out:
                self._route(envelope)

    def emit(self, envelopes: Sequence[Envelope]) -> None:
        """What the node decided outside a batch (an API call it served directly), sent as a batch's."""
        for envelope in envelopes:
            self._route(envelope)

    def _route(self, envelope: Envelope) -> None:
        if envelope.receiver == self.node.address:  # a timer: back into the inbox, on time
            asyncio.get_running_loop().call_later(envelope.delay_ms / 1000, self.inbox.put_nowait, envelope)
            return
        if isinstance(envelope.message, CreditTransferMessage | StatusReportMessage):
            # On HTTP the dispatcher's lanes make the messages: each receiver's wire (XML documents of
            # many, JSON batch calls) and each caller waiting for its one answer take transactions.
            for single in grouping.opened([envelope]):
                self._route(single)
            return
        task = asyncio.create_task(self._release(envelope))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _release(self, envelope: Envelope) -> None:
        """After the node's own delay, the envelope answers a waiting request or goes out over HTTP."""
        if envelope.delay_ms:
            await asyncio.sleep(envelope.delay_ms / 1000)
        if not self._answer_waiters(envelope):
            assert self.dispatcher is not None  # start() checked it
            try:
                await self.dispatcher.send(envelope)
            except Exception:
                log.exception("sending %s to %s failed", type(envelope.message).__name__, envelope.receiver)


def matcher_for(kind: type[Any], receiver: str | None = None, **fields: Any) -> Matcher:
    """An envelope to `receiver` (any, when None) whose message is a `kind` with these field values."""
    names = tuple(sorted(fields))
    return Matcher((kind, receiver is not None, names), (receiver, *(fields[name] for name in names)))
