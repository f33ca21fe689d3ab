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
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import aiohttp
from pydantic import BaseModel

from gateway import xml_wire
from gateway.batches import ANSWERS, BATCH_PATH, MESSAGES_PER_BATCH_MAX, TYPE_OF, parse_answer_line, write_batch
from gateway.signing import SIGNATURE_HEADER, sign
from switch.scheme.codes import TransactionStatus, WireFormat
from switch.scheme.messages import (
    TRANSACTIONS_PER_MESSAGE_MAX,
    CreditTransfer,
    StatusReport,
    StatusRequest,
    VerificationReport,
    VerificationRequest,
)
from switch.scheme.pacs002 import ReadStatusReports
from switch.scheme.transport import SWITCH_ADDRESS, Envelope, Undeliverable
from switch.scheme.validation import MessageInvalid
from switch.scheme.wire import XML_MEDIA_TYPE

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
    wire: WireFormat = WireFormat.JSON  # ISO 20022 XML documents, or JSON with ISO names

    @property
    def xml(self) -> bool:
        return self.wire == WireFormat.ISO20022_XML


LANE_LENGTH_MAX = 50_000  # messages queued for one participant's batches; past it, a call each
# Batch calls to one participant that are waiting for prompt answers. While they are out, what the
# switch decides next waits in the queue and goes in the next call: under load the batches grow
# by themselves, and when the network is quiet a message goes at once.
LANE_CALLS_BUSY_MAX = 2
LANE_BUSY_MS_MAX = 50  # a call still waiting after this is waiting for late answers: it frees its slot
LANE_CALLS_OPEN_MAX = 64  # all calls open to one participant, late answers included


Deliver = Callable[[Envelope], Awaitable[None]]
PeerLookup = Callable[[str], Peer | None]
CallObserver = Callable[[str, str, str, float], None]  # receiver, path, outcome, seconds


def unobserved(_receiver: str, _path: str, _outcome: str, _seconds: float) -> None:
    return None


ENDPOINTS: dict[tuple[bool, type[BaseModel]], str] = {
    # (sent by the switch?, message) -> path on the receiver
    (True, CreditTransfer): "/v1/inbound/transfers",
    (True, VerificationRequest): "/v1/inbound/verifications",
    (True, StatusReport): "/v1/inbound/status-reports",
    (False, CreditTransfer): "/v1/transfers",
    (False, StatusRequest): "/v1/status-requests",
}


class HttpDispatcher:
    def __init__(
        self,
        address: str,
        peers: PeerLookup,
        deliver: Deliver,
        client: aiohttp.ClientSession,
        on_call: CallObserver = unobserved,
    ) -> None:
        self.address = address
        self.peers = peers  # cached (gateway.cache): a look-up on the event loop is a dictionary read
        self.deliver = deliver
        self.client = client
        self.on_call = on_call  # each call's latency and outcome, for the sender's metrics
        self.lanes: dict[str, _Lane] = {}
        self.calls: set[asyncio.Task[None]] = set()  # batch calls under way (kept so none is collected)

    @contextlib.asynccontextmanager
    async def post(
        self, receiver: str, peer: Peer, url: str, body: bytes, timeout: aiohttp.ClientTimeout
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """One signed call, observed: its time until the answer's headers and its outcome (2xx,
        4xx, 5xx, unreachable, timeout or broken), whatever the caller then does with the answer."""
        path = url.removeprefix(peer.base_url.rstrip("/"))
        headers = _headers(peer, body)  # each call its own signature (a fresh id)
        started = time.perf_counter()
        answered = False
        try:
            async with self.client.post(url, data=body, headers=headers, timeout=timeout) as response:
                answered = True
                self.on_call(receiver, path, f"{response.status // 100}xx", time.perf_counter() - started)
                yield response
        except Exception as error:
            if not answered:
                self.on_call(receiver, path, _failure(error), time.perf_counter() - started)
            raise

    async def send(self, envelope: Envelope) -> None:
        message = envelope.message
        if not isinstance(message, BaseModel):
            return
        path = ENDPOINTS.get((self.address == SWITCH_ADDRESS, type(message)))
        peer = self.peers(envelope.receiver)
        if path is None or peer is None:
            log.info("no endpoint for %s to %s: dropped", type(message).__name__, envelope.receiver)
            return
        if self._lane_for(envelope, peer) is not None and self.lanes[envelope.receiver].add(envelope, peer):
            return
        await self.send_one(envelope, peer, path)

    def _lane_for(self, envelope: Envelope, peer: Peer) -> _Lane | None:
        """The lane that gathers this message with others for the same receiver, if it travels so:
        on the XML wire credits and statuses go many to a document; on JSON, batch calls to a
        participant that serves them."""
        kind = type(envelope.message)
        if peer.xml:
            gathered = kind in (CreditTransfer, StatusReport)
        else:
            gathered = peer.inbound_batches and self.address == SWITCH_ADDRESS and kind in TYPE_OF
        if not gathered:
            return None
        lane = self.lanes.get(envelope.receiver)
        lane_class = _XmlLane if peer.xml else _Lane
        if type(lane) is not lane_class:  # none yet, or the admin changed its wire: calls under way finish as they were
            lane = self.lanes[envelope.receiver] = lane_class(self, envelope.receiver)
        return lane

    async def send_one(self, envelope: Envelope, peer: Peer, path: str | None = None) -> None:
        """The message in a call of its own, to the endpoint for its kind."""
        message = envelope.message
        assert isinstance(message, BaseModel)
        path = path or ENDPOINTS[(self.address == SWITCH_ADDRESS, type(message))]
        if peer.xml:
            body = xml_wire.write(xml_wire.single(message), self.address, envelope.receiver)
        else:
            body = message.model_dump_json().encode()
        url = peer.base_url.rstrip("/") + path
        if isinstance(message, StatusReport) and self.address == SWITCH_ADDRESS:
            await self._callback(url, body, peer, envelope)
        else:
            await self._exchange(url, body, [envelope], peer)

    async def _exchange(self, url: str, body: bytes, envelopes: list[Envelope], peer: Peer) -> None:
        """A call whose answer comes in the response: each answer goes into the sender's inbox."""
        receiver = envelopes[0].receiver
        response = await self._post_with_retries(receiver, url, body, peer)
        if response is None:
            for envelope in envelopes:
                await self.deliver(Envelope(receiver, self.address, Undeliverable(receiver, envelope.message)))
            return
        status, content = response
        if status >= 400:
            log.warning("%s answered %s: %s", url, status, content[:500].decode(errors="replace"))
            return
        try:
            answers = answers_of(status, content, [e.message for e in envelopes], peer, receiver)  # type: ignore[misc]
        except (MessageInvalid, ValueError) as error:
            log.warning("%s answered what cannot be read: %s", url, error)
            return
        for answer in answers:
            await self.deliver(Envelope(receiver, self.address, answer))

    async def _post_with_retries(self, receiver: str, url: str, body: bytes, peer: Peer) -> tuple[int, bytes] | None:
        """A refused or reset connection is tried again, quickly and a bounded number of times: the
        receiver is idempotent, so a repeat is safe, and well inside the switch's 5 s timeout. A
        call that reached the receiver and is merely slow is not repeated: its answer is awaited."""
        delay_s = CONNECT_BACKOFF_S
        for attempt in range(1, CONNECT_ATTEMPTS_MAX + 1):
            try:
                async with self.post(receiver, peer, url, body, EXCHANGE_TIMEOUT) as response:
                    return response.status, await response.read()
            except (aiohttp.ClientConnectorError, aiohttp.ServerDisconnectedError):
                if attempt == CONNECT_ATTEMPTS_MAX:
                    return None
                await asyncio.sleep(delay_s)
                delay_s *= 2
            except (aiohttp.ClientError, TimeoutError):
                return None
        return None

    async def _callback(self, url: str, body: bytes, peer: Peer, envelope: Envelope) -> None:
        delay_s = CALLBACK_BACKOFF_S
        for attempt in range(1, CALLBACK_ATTEMPTS_MAX + 1):
            try:
                async with self.post(envelope.receiver, peer, url, body, CALLBACK_TIMEOUT) as response:
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


def _failure(error: Exception) -> str:
    if isinstance(error, aiohttp.ClientConnectorError | aiohttp.ServerDisconnectedError):
        return "unreachable"
    return "timeout" if isinstance(error, TimeoutError) else "broken"


def _headers(peer: Peer, body: bytes) -> dict[str, str]:
    """A call's headers: the body signed with the peer's secret (the switch's calls), or the key
    the peer gave us (a participant's calls to the switch)."""
    headers = {"Content-Type": XML_MEDIA_TYPE if peer.xml else "application/json"}
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
        answered: set[int] = set()
        try:
            url = peer.base_url.rstrip("/") + BATCH_PATH
            async with self.dispatcher.post(self.receiver, peer, url, body, EXCHANGE_TIMEOUT) as response:
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


def answers_of(status: int, content: bytes, sent: list[BaseModel], peer: Peer, receiver: str) -> list[BaseModel]:
    """What answers the messages sent to `receiver`: final statuses, a verification report. A
    pending status (202, PDNG) is no answer: the final one follows by callback or status request."""
    if status != 200 and not (peer.xml and status == 202):
        return []
    if not peer.xml:
        answer_type = ANSWERS.get(type(sent[0]))
        return [] if answer_type is None else [answer_type.model_validate_json(content)]
    read = xml_wire.read(content)
    if read.header.sender != xml_wire.member_id(receiver):
        raise ValueError(f"AppHdr/Fr is {read.header.sender!r}, not {xml_wire.member_id(receiver)!r} who was called")
    message = read.message
    if isinstance(message, ReadStatusReports):
        transfers = [m for m in sent if isinstance(m, CreditTransfer)]
        reports = xml_wire.answers_to(transfers, message.reports) if transfers else list(message.reports)
        return [r for r in reports if r.transaction_status != TransactionStatus.PDNG]
    if isinstance(message, VerificationReport):
        return [message]
    raise ValueError(f"{read.header.message_definition} answers none of the messages sent")


class _XmlLane(_Lane):
    """The messages for a peer on the XML wire, gathered as a batch of the JSON lane is: what one
    batch decided goes as one pacs.008 for the credits and one pacs.002 for the statuses, each
    answered in kind (a pacs.002 for the credits, 204 for the statuses)."""

    async def _call(self, batch: list[Envelope], idle: asyncio.Event) -> None:
        peer = self.peer
        assert peer is not None  # add() set it
        try:
            transfers = [e for e in batch if isinstance(e.message, CreditTransfer)]
            reports = [e for e in batch if isinstance(e.message, StatusReport)]
            calls = [self._transfers(part, peer) for part in self._credit_messages(transfers)]
            calls += [self._reports(part, peer) for part in _parts(reports)]
            await asyncio.gather(*calls)
        except Exception:  # a document we cannot write: its credits time out (AB05), the
            # participant asks for its statuses (pacs.028); the lane goes on with the next batch
            log.exception("an XML batch for %s could not be sent", self.receiver)
        finally:
            idle.set()

    def _credit_messages(self, transfers: list[Envelope]) -> list[list[Envelope]]:
        """The switch puts credits from many debtors in one message of its own. A debtor agent
        keeps each of its messages whole: the switch's duplicate check compares a transaction's
        content, its message id included, so a retry must travel under the id it had."""
        if self.dispatcher.address == SWITCH_ADDRESS:
            return _parts(transfers)
        by_message: dict[str, list[Envelope]] = {}
        for envelope in transfers:
            by_message.setdefault(envelope.message.message_id, []).append(envelope)  # type: ignore[union-attr]
        return [part for group in by_message.values() for part in _parts(group)]

    async def _transfers(self, envelopes: list[Envelope], peer: Peer) -> None:
        dispatcher = self.dispatcher
        sent = [e.message for e in envelopes]
        message = xml_wire.transfers_message(sent)  # type: ignore[arg-type]  # _call let only credits in
        body = xml_wire.write(message, dispatcher.address, self.receiver)
        url = peer.base_url.rstrip("/") + ENDPOINTS[(dispatcher.address == SWITCH_ADDRESS, CreditTransfer)]
        await dispatcher._exchange(url, body, envelopes, peer)

    async def _reports(self, envelopes: list[Envelope], peer: Peer) -> None:
        dispatcher = self.dispatcher
        message = xml_wire.reports_message([e.message for e in envelopes])  # type: ignore[misc]
        body = xml_wire.write(message, dispatcher.address, self.receiver)
        url = peer.base_url.rstrip("/") + ENDPOINTS[(True, StatusReport)]
        await dispatcher._callback(url, body, peer, envelopes[0])


def _parts(envelopes: list[Envelope]) -> list[list[Envelope]]:
    size = TRANSACTIONS_PER_MESSAGE_MAX
    return [envelopes[start : start + size] for start in range(0, len(envelopes), size)]
