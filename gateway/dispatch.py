"""Sending a node's envelopes over HTTP, and turning the answers back into envelopes.

Each scheme message has one endpoint on the receiving side. Exchanges that answer in the response
(a credit transfer answered by the creditor's pacs.002, a verification by its acmt.024, a payment
submitted to the switch by its final status) come back into the sender's inbox as messages from the
receiver. A receiver that cannot be reached comes back as `Undeliverable`, as in process. Status
callbacks are retried with a bounded backoff; a participant that gets one twice changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
from pydantic import BaseModel

from gateway.signing import SIGNATURE_HEADER, sign
from switch.scheme.messages import CreditTransfer, StatusReport, StatusRequest, VerificationReport, VerificationRequest
from switch.scheme.transport import SWITCH_ADDRESS, Envelope, Undeliverable

log = logging.getLogger("switchyard.dispatch")

CALLBACK_ATTEMPTS_MAX = 6
CALLBACK_BACKOFF_S = 0.2  # doubled after each failed attempt: 0.2, 0.4, ... 6.4 s
EXCHANGE_TIMEOUT_S = 120.0  # longer than any creditor timeout: a late answer must still arrive
CONNECT_ATTEMPTS_MAX = 3
CONNECT_BACKOFF_S = 0.1  # 0.1 then 0.2 s: an unreachable creditor is AB08 within half a second


@dataclass(slots=True, frozen=True)
class Peer:
    base_url: str
    signing_secret: str | None = None  # the switch signs calls to participants
    api_key: str | None = None  # participants authenticate to the switch


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
ANSWERS: dict[type[BaseModel], type[BaseModel]] = {
    CreditTransfer: StatusReport,
    VerificationRequest: VerificationReport,
    StatusRequest: StatusReport,
}


class HttpDispatcher:
    def __init__(self, address: str, peers: PeerLookup, deliver: Deliver, client: httpx.AsyncClient) -> None:
        self.address = address
        self.peers = peers
        self.deliver = deliver
        self.client = client

    async def send(self, envelope: Envelope) -> None:
        message = envelope.message
        if not isinstance(message, BaseModel):
            return
        path = ENDPOINTS.get((self.address == SWITCH_ADDRESS, type(message)))
        peer = await asyncio.to_thread(self.peers, envelope.receiver)
        if path is None or peer is None:
            log.info("no endpoint for %s to %s: dropped", type(message).__name__, envelope.receiver)
            return
        body = message.model_dump_json().encode()
        headers = {"Content-Type": "application/json"}
        if peer.signing_secret:
            headers[SIGNATURE_HEADER] = sign(peer.signing_secret, body)
        if peer.api_key:
            headers["Authorization"] = f"Bearer {peer.api_key}"
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
        message = envelope.message
        answer_type = ANSWERS.get(type(message)) if isinstance(message, BaseModel) else None
        if response.status_code == 200 and answer_type is not None:
            answer = answer_type.model_validate_json(response.content)
            await self.deliver(Envelope(envelope.receiver, self.address, answer))
        elif response.status_code >= 400:
            log.warning("%s answered %s: %s", url, response.status_code, response.text[:500])

    async def _post_with_retries(self, url: str, body: bytes, headers: dict[str, str]) -> httpx.Response | None:
        """A refused or reset connection is tried again, quickly and a bounded number of times: the
        receiver is idempotent, so a repeat is safe, and well inside the switch's 5 s timeout. A
        call that reached the receiver and is merely slow is not repeated: its answer is awaited."""
        delay_s = CONNECT_BACKOFF_S
        for attempt in range(1, CONNECT_ATTEMPTS_MAX + 1):
            try:
                return await self.client.post(url, content=body, headers=headers, timeout=EXCHANGE_TIMEOUT_S)
            except (httpx.ConnectError, httpx.RemoteProtocolError):
                if attempt == CONNECT_ATTEMPTS_MAX:
                    return None
                await asyncio.sleep(delay_s)
                delay_s *= 2
            except httpx.TransportError:
                return None
        return None

    async def _callback(self, url: str, body: bytes, headers: dict[str, str], envelope: Envelope) -> None:
        delay_s = CALLBACK_BACKOFF_S
        for attempt in range(1, CALLBACK_ATTEMPTS_MAX + 1):
            try:
                response = await self.client.post(url, content=body, headers=headers, timeout=10.0)
                if response.status_code < 500:
                    return
            except httpx.TransportError:
                pass
            if attempt < CALLBACK_ATTEMPTS_MAX:
                await asyncio.sleep(delay_s)
                delay_s *= 2
        log.warning(
            "status callback to %s failed %d times; the participant can ask (pacs.028)", url, CALLBACK_ATTEMPTS_MAX
        )
