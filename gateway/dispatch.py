"""Sending a node's envelopes over HTTP, and turning the answers back into envelopes.

Each scheme message has one endpoint on the receiving side. Exchanges that answer in the response
(a credit transfer answered by the creditor's pacs.002, a verification by its acmt.024, a payment
submitted to the switch by its final status) come back into the sender's inbox as messages from the
receiver. A receiver that cannot be reached comes back as `Undeliverable`, as in process. Status
callbacks are retried with a bounded backoff; a participant that gets one twice changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp
from pydantic import BaseModel

from gateway.batches import ANSWERS, BATCH_PATH, MESSAGES_PER_BATCH_MAX, TYPE_OF, parse_answer_line, write_batch
from gateway.signing import SIGNATURE_HEADER, sign
from switch.scheme.messages import CreditTransfer, StatusReport, StatusRequest, VerificationRequest
from switch.scheme.transport import SWITCH_ADDRESS, Envelope, Undeliverable

log = logging.getLogger("switchyard.dispatch")

CALLBACK_ATTEMPTS_MAX = 6
CALLBACK_BACKOFF_S = 0.2  # doubled after each failed attempt: 0.2, 0.4, ... 6.4 s
EXCHANGE_TIMEOUT_S = 120.0  # longer than any creditor timeout: a late answer must still arrive
EXCHANGE_TIMEOUT = aiohttp.ClientTimeout(total=EXCHANGE_TIMEOUT_S)
CALLBACK_TIMEOUT = aiohttp.ClientTimeout(total=10.0)
CONNECT_ATTEMPTS_MAX = 3
CONNECT_BACKOFF_S = 0.1  # 0.1 then 0.2 s: an unreachable creditor is AB08 within half a second


@dataclass(slots=True, frozen=True)
class Peer:
    base_url: str
    signing_secret: str | None = None  # the switch signs calls to participants
    api_key: str | None = None  # participants authenticate to the switch
    inbound_batches: bool = False  # it serves POST /v1/inbound/batches (gateway.batches)


LANE_LENGTH_MAX = 50_000  # messages queued for one participant's batches; past it, a call each
# Batch calls to one participant that are waiting for prompt answers. While they are out, what the
# switch decides next waits in the queue and goes in the next call: under load the batches grow
# by themselves, and when the network is quiet a message goes at once.
LANE_CALLS_BUSY_MAX = 2
LANE_BUSY_MS_MAX = 50  # a call still waiting after this is waiting for late answers: it frees its slot
LANE_CALLS_OPEN_MAX = 64  # all calls open to one participant, late answers included


Deliver = Callable[[Envelope], Awaitable[None]]
PeerLookup = Callable[[str], Peer | None]

ENDPOINTS: dict[tuple[bool, type[BaseModel]], str] = {
    # (sent by the switch?, message) -> path on the receiver
    (True, CreditTransfer): "/v1/inbound/transfers",
    (True, VerificationRequest): "/v1/inbound/verifications",
    (True, StatusReport): "/v1/inbound/status-reports",
    (False, CreditTransfer): "/v1/transfers",
    (False, StatusRequest): "/v1/status-requests",
}


class HttpDispatcher:
    def __init__(self, address: str, peers: PeerLookup, deliver: Deliver, client: aiohttp.ClientSession) -> None:
        self.address = address
        self.peers = peers  # cached (gateway.cache): a look-up on the event loop is a dictionary read
        self.deliver = deliver
        self.client = client
        self.lanes: dict[str, _Lane] = {}
        self.calls: set[asyncio.Task[None]] = set()  # batch calls under way (kept so none is collected)

    async def send(self, envelope: Envelope) -> None:
        message = envelope.message
        if not isinstance(message, BaseModel):
            return
        path = ENDPOINTS.get((self.address == SWITCH_ADDRESS, type(message)))
        peer = self.peers(envelope.receiver)
        if path is None or peer is None:
            log.info("no endpoint for %s to %s: dropped", type(message).__name__, envelope.receiver)
            return
        if peer.inbound_batches and self.address == SWITCH_ADDRESS and type(message) in TYPE_OF:
            lane = self.lanes.get(envelope.receiver)
            if lane is None:
                lane = self.lanes[envelope.receiver] = _Lane(self, envelope.receiver)
            if lane.add(envelope, peer):
                return
        await self.send_one(envelope, peer, path)

    async def send_one(self, envelope: Envelope, peer: Peer, path: str | None = None) -> None:
        """The message in a call of its own, to the endpoint for its kind."""
        message = envelope.message
        assert isinstance(message, BaseModel)
        path = path or ENDPOINTS[(self.address == SWITCH_ADDRESS, type(message))]
        body = message.model_dump_json().encode()
        headers = _headers(peer, body)
        url = peer.base_url.rstrip("/") + path
        if isinstance(message, StatusReport) and self.address == SWITCH_ADDRESS:
            await self._callback(url, body, headers, envelope)
        else:
            await self._exchange(url, body, headers, envelope)

    async def _exchange(self, url: str, body: bytes, headers: dict[str, str], envelope: Envelope) -> None:
        response = await self._post_with_retries(url, body, headers)
        if response is None:
            notice = Undeliverable(envelope.receiver, envelope.message)
            await self.deliver(Envelope(envelope.receiver, self.address, notice))
            return
        status, content = response
        message = envelope.message
        answer_type = ANSWERS.get(type(message)) if isinstance(message, BaseModel) else None
        if status == 200 and answer_type is not None:
            answer = answer_type.model_validate_json(content)
            await self.deliver(Envelope(envelope.receiver, self.address, answer))
        elif status >= 400:
            log.warning("%s answered %s: %s", url, status, content[:500].decode(errors="replace"))

    async def _post_with_retries(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes] | None:
        """A refused or reset connection is tried again, quickly and a bounded number of times: the
        receiver is idempotent, so a repeat is safe, and well inside the switch's 5 s timeout. A
        call that reached the receiver and is merely slow is not repeated: its answer is awaited."""
        delay_s = CONNECT_BACKOFF_S
        for attempt in range(1, CONNECT_ATTEMPTS_MAX + 1):
            try:
                async with self.client.post(url, data=body, headers=headers, timeout=EXCHANGE_TIMEOUT) as response:
                    return response.status, await response.read()
            except (aiohttp.ClientConnectorError, aiohttp.ServerDisconnectedError):
                if attempt == CONNECT_ATTEMPTS_MAX:
                    return None
                await asyncio.sleep(delay_s)
                delay_s *= 2
            except (aiohttp.ClientError, TimeoutError):
                return None
        return None

    async def _callback(self, url: str, body: bytes, headers: dict[str, str], envelope: Envelope) -> None:
        delay_s = CALLBACK_BACKOFF_S
        for attempt in range(1, CALLBACK_ATTEMPTS_MAX + 1):
            try:
                async with self.client.post(url, data=body, headers=headers, timeout=CALLBACK_TIMEOUT) as response:
                    if response.status < 500:
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            if attempt < CALLBACK_ATTEMPTS_MAX:
                await asyncio.sleep(delay_s)
                delay_s *= 2
        log.warning(
            "status callback to %s failed %d times; the participant can ask (pacs.028)", url, CALLBACK_ATTEMPTS_MAX
        )


def _headers(peer: Peer, body: bytes) -> dict[str, str]:
    """A call's headers: the body signed with the peer's secret (the switch's calls), or the key
    the peer gave us (a participant's calls to the switch)."""
    headers = {"Content-Type": "application/json"}
    if peer.signing_secret:
        headers[SIGNATURE_HEADER] = sign(peer.signing_secret, body)
    if peer.api_key:
        headers["Authorization"] = f"Bearer {peer.api_key}"
    return headers


class _Lane:
    """The switch's messages for one participant that serves batches: what one switch batch decided
    for it goes in one call, at most LANE_CALLS_BUSY_MAX of them waiting for prompt answers. Answers come back
    line by line into the switch's inbox, each when the participant has it. A message whose call
    fails before its line came is sent again in a call of its own, with that path's retries (the
    participant is idempotent, so a repeat is safe)."""

    def __init__(self, dispatcher: HttpDispatcher, receiver: str) -> None:
        self.dispatcher = dispatcher
        self.receiver = receiver
        self.queue: list[Envelope] = []
        self.peer: Peer | None = None
        self.busy = 0  # calls waiting for prompt answers
        self.open = 0  # all calls not yet finished
        self.flushing = False

    def add(self, envelope: Envelope, peer: Peer) -> bool:
        """Queue the envelope for the next batch call; False when the lane is full."""
        if len(self.queue) >= LANE_LENGTH_MAX:
            return False
        self.peer = peer
        self.queue.append(envelope)
        self._schedule_flush()
        return True

    def _schedule_flush(self) -> None:
        if not self.flushing:
            self.flushing = True
            # After the envelopes released in this turn of the loop have joined the queue.
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self.flushing = False
        while self.queue and self.busy < LANE_CALLS_BUSY_MAX and self.open < LANE_CALLS_OPEN_MAX:
            batch, self.queue = self.queue[:MESSAGES_PER_BATCH_MAX], self.queue[MESSAGES_PER_BATCH_MAX:]
            self.busy += 1
            self.open += 1
            idle = asyncio.Event()
            task = asyncio.create_task(self._call(batch, idle))
            self.dispatcher.calls.add(task)
            task.add_done_callback(self._finished)
            freed = asyncio.create_task(self._free_when_idle(idle))
            self.dispatcher.calls.add(freed)
            freed.add_done_callback(self.dispatcher.calls.discard)

    async def _free_when_idle(self, idle: asyncio.Event) -> None:
        """The call's busy slot comes back when its prompt answers are in, or after LANE_BUSY_MS_MAX."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(idle.wait(), LANE_BUSY_MS_MAX / 1000)
        self.busy -= 1
        if self.queue:
            self._schedule_flush()

    def _finished(self, task: asyncio.Task[None]) -> None:
        self.dispatcher.calls.discard(task)
        self.open -= 1
        if self.queue:
            self._schedule_flush()

    async def _call(self, batch: list[Envelope], idle: asyncio.Event) -> None:
        peer = self.peer
        assert peer is not None  # add() set it
        messages = [envelope.message for envelope in batch]
        body = write_batch(messages)  # type: ignore[arg-type]  # send() let only scheme messages in
        headers = _headers(peer, body)
        answered: set[int] = set()
        try:
            url = peer.base_url.rstrip("/") + BATCH_PATH
            client = self.dispatcher.client
            async with client.post(url, data=body, headers=headers, timeout=EXCHANGE_TIMEOUT) as response:
                if response.status == 200:
                    await self._read_answers(response, messages, answered)  # type: ignore[arg-type]
                else:
                    log.warning("batch call to %s answered %s", url, response.status)
        except Exception as error:  # noqa: BLE001  # whatever broke the call, its messages go one by one below
            given = f"{len(answered)} of {len(batch)}"
            log.warning("batch call to %s broke after %s answers: %s", self.receiver, given, error)
        finally:
            idle.set()
        for index, envelope in enumerate(batch):
            if index not in answered:
                await self.dispatcher.send_one(envelope, peer)

    async def _read_answers(
        self, response: aiohttp.ClientResponse, messages: list[BaseModel], answered: set[int]
    ) -> None:
        async for line in response.content:
            if not line.strip():
                continue
            parsed = parse_answer_line(line, messages)
            answered.add(parsed.index)
            if parsed.answer is not None:
                await self.dispatcher.deliver(Envelope(self.receiver, SWITCH_ADDRESS, parsed.answer))
            elif parsed.status >= 400:
                kind = TYPE_OF[type(messages[parsed.index])]
                log.warning("%s answered %s to a %s of a batch", self.receiver, parsed.status, kind)
