"""POST /v1/inbound/batches on a real simulated bank, NodeRuntime.ask_many, and the switch's lane of
batch calls (HttpDispatcher) falling back to a call per message. Everything runs on real sockets
inside one `asyncio.run` per test: a bank node served by uvicorn, small aiohttp participants."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import time
from collections import Counter
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import aiohttp
import httpx
import pytest
from aiohttp import web
from live import (
    AN,
    BIDV,
    BINH,
    HONG,
    NOW,
    SECRET,
    UNKNOWN_ACCOUNT,
    VIETCOMBANK,
    WAIT_S,
    Outbox,
    acsp,
    aiohttp_serving,
    bidv_serving,
    eventually,
    free_socket,
    url_of,
)
from pydantic import BaseModel

from gateway.batches import (
    BATCH_BYTES_MAX,
    BATCH_PATH,
    MESSAGES_PER_BATCH_MAX,
    NDJSON_MEDIA_TYPE,
    answer_line,
    parse_answer_line,
    parse_batch,
    write_batch,
)
from gateway.dispatch import HttpDispatcher, Peer
from gateway.runtime import NodeRuntime, matcher_for
from gateway.signing import SIGNATURE_HEADER, sign, verify
from switch.scheme.codes import Purpose, StatusReason, TransactionStatus, VerificationOutcome
from switch.scheme.messages import CreditTransfer, Party, StatusReport, VerificationReport, VerificationRequest
from switch.scheme.transport import SWITCH_ADDRESS, Envelope, Undeliverable


def credit_transfer(tx: str, account: str = AN.account, amount_vnd: int = 500_000) -> CreditTransfer:
    return CreditTransfer(
        message_id=f"M{tx}", end_to_end_id=f"E{tx}", transaction_id=tx, amount_vnd=amount_vnd,
        debtor=Party(name="Võ Thị Lan", citizen_id="001185004321"), debtor_account="0011001234567",
        debtor_agent=VIETCOMBANK, creditor_account=account, creditor_agent=BIDV, purpose=Purpose.SSBE,
        remittance_information="Trợ cấp xã hội tháng 12/2026",
    )  # fmt: skip


def final_report(tx: str, amount_vnd: int = 500_000) -> StatusReport:
    return StatusReport(
        original_message_id=f"M{tx}", original_end_to_end_id=f"E{tx}", original_transaction_id=tx,
        debtor_agent=VIETCOMBANK, transaction_status=TransactionStatus.ACSC, creditor_agent=BIDV,
        amount_vnd=amount_vnd, settled_at_ms=NOW,
    )  # fmt: skip


def verification(verification_id: str, account: str = AN.account, name: str = "Lê Văn An") -> VerificationRequest:
    return VerificationRequest(verification_id=verification_id, agent=BIDV, account=account, name=name)


def signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return {"Content-Type": "application/json", SIGNATURE_HEADER: sign(secret, body)}


# --- the bank node serving batches ----------------------------------------------------------------


async def post_batch(url: str, body: bytes, headers: dict[str, str]) -> tuple[httpx.Response, list[bytes]]:
    """The call and its answer lines, read as they stream in."""
    async with (
        httpx.AsyncClient(timeout=WAIT_S) as client,
        client.stream("POST", url + BATCH_PATH, content=body, headers=headers) as response,
    ):
        lines = [line.encode() async for line in response.aiter_lines() if line.strip()]
    return response, lines


def with_bad_amount(messages: list[BaseModel], index: int, amount: object) -> bytes:
    document = json.loads(write_batch(messages))
    document["messages"][index]["message"]["amount_vnd"] = amount
    return json.dumps(document, ensure_ascii=False).encode()


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {SIGNATURE_HEADER: ""},
        {SIGNATURE_HEADER: "sha256=" + "0" * 64},
        {SIGNATURE_HEADER: "wrong-secret"},
        {SIGNATURE_HEADER: "of-another-body"},
        {SIGNATURE_HEADER: "without-timestamp"},
        {SIGNATURE_HEADER: "an-hour-old"},
        {SIGNATURE_HEADER: "old-form"},
    ],
    ids=["unsigned", "empty", "zeros", "wrong-secret", "another-body", "no-timestamp", "an-hour-old", "old-form"],
)
def test_an_unsigned_or_wrongly_signed_batch_is_refused_with_401_and_changes_nothing(
    tmp_path: Path, headers: dict[str, str]
) -> None:
    messages: list[BaseModel] = [credit_transfer("VCB1"), final_report("VCB0"), verification("VER1")]
    body = write_batch(messages)
    given = headers.get(SIGNATURE_HEADER)
    if given == "wrong-secret":
        headers = {SIGNATURE_HEADER: sign("b2" * 32, body)}
    elif given == "of-another-body":
        headers = {SIGNATURE_HEADER: sign(SECRET, write_batch([credit_transfer("VCB2")]))}
    elif given == "without-timestamp":
        headers = {SIGNATURE_HEADER: ",".join(p for p in sign(SECRET, body).split(",") if not p.startswith("t="))}
    elif given == "an-hour-old":
        headers = {SIGNATURE_HEADER: sign(SECRET, body, now_s=time.time() - 3_600)}
    elif given == "old-form":  # before issue 14: the body alone, replayable forever
        headers = {SIGNATURE_HEADER: "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()}

    async def run() -> None:
        async with bidv_serving(tmp_path) as bank:
            before = bank.state()
            response, _lines = await post_batch(bank.url, body, {"Content-Type": "application/json", **headers})
            assert response.status_code == 401
            assert response.headers["content-type"] == "application/problem+json"
            await asyncio.sleep(0.1)  # long enough for a batch window and the bank's answers
            assert bank.state() == before
            assert bank.runtime.batches == 0 and bank.runtime.inbox.empty() and bank.runtime.waiting == 0
            assert bank.outbox.sent == []

    asyncio.run(run())


def test_a_signed_batch_gets_one_answer_line_per_message_and_a_bad_message_its_own_400_line(tmp_path: Path) -> None:
    sent: list[BaseModel] = [
        credit_transfer("VCB1", AN.account, 500_000),
        credit_transfer("VCB2", UNKNOWN_ACCOUNT, 750_000),
        credit_transfer("VCB3", HONG.account, 1_000),  # its amount is broken below
        credit_transfer("VCB4", HONG.account, 2_789_000),
        credit_transfer("VCB5", BINH.account, 300_000),
        verification("VER1", AN.account, "Lê Văn An"),
    ]
    body = with_bad_amount(sent, 2, 1000.5)

    async def run() -> None:
        async with bidv_serving(tmp_path) as bank:
            response, lines = await post_batch(bank.url, body, signed(body))
            assert response.status_code == 200
            assert response.headers["content-type"].startswith(NDJSON_MEDIA_TYPE)
            documents = [json.loads(line) for line in lines]
            assert sorted(d["index"] for d in documents) == list(range(len(sent)))

            # The bad message is answered at once, before any answer the bank takes time over.
            assert documents[0] == {
                "index": 2, "status": 400,
                "problem": {"errors": [{
                    "field": "messages.2.message.amount_vnd",
                    "rule": "VND has no minor unit: decimals are not allowed", "reason": "CH20",
                }]},
            }  # fmt: skip
            answers = {p.index: p for p in (parse_answer_line(line, sent) for line in lines)}
            assert {i: a.status for i, a in answers.items()} == {0: 200, 1: 200, 2: 400, 3: 200, 4: 200, 5: 200}
            outcomes = {
                i: (a.answer.original_transaction_id, a.answer.transaction_status, a.answer.status_reason)
                for i, a in answers.items()
                if isinstance(a.answer, StatusReport)
            }
            assert outcomes == {
                0: ("VCB1", TransactionStatus.ACSP, None),
                1: ("VCB2", TransactionStatus.RJCT, StatusReason.AC01),
                3: ("VCB4", TransactionStatus.ACSP, None),
                4: ("VCB5", TransactionStatus.RJCT, StatusReason.AC04),
            }
            report = answers[5].answer
            assert isinstance(report, VerificationReport)
            assert (report.original_verification_id, report.outcome) == ("VER1", VerificationOutcome.MTCH)

            # Credited pending until the switch's final status; the bad message did nothing.
            counts = bank.node.inbound_counts()
            assert counts == {"credited": (2, 500_000 + 2_789_000), "rejected": (2, 750_000 + 300_000)}
            assert bank.runtime.waiting == 0 and bank.outbox.sent == []  # every answer went on its line

    asyncio.run(run())


def test_a_final_status_report_in_a_batch_is_answered_204_and_settles_the_credit(tmp_path: Path) -> None:
    async def run() -> None:
        async with bidv_serving(tmp_path) as bank:
            credit: list[BaseModel] = [credit_transfer("VCB1", AN.account, 500_000)]
            body = write_batch(credit)
            _response, [line] = await post_batch(bank.url, body, signed(body))
            answered = parse_answer_line(line, credit).answer
            assert isinstance(answered, StatusReport) and answered.transaction_status == TransactionStatus.ACSP
            assert bank.node.balances()[f"c:{AN.account}"].balance_vnd == 0  # pending until final

            finals: list[BaseModel] = [final_report("VCB1", 500_000)]
            body = write_batch(finals)
            response, lines = await post_batch(bank.url, body, signed(body))
            assert response.status_code == 200
            assert [json.loads(line) for line in lines] == [{"index": 0, "status": 204}]
            await eventually(lambda: bank.node.inbound_counts() == {"settled": (1, 500_000)})
            assert bank.node.balances()[f"c:{AN.account}"].balance_vnd == 500_000

            # The same final again (a retried call) is taken again and changes nothing.
            response, lines = await post_batch(bank.url, body, signed(body))
            assert [json.loads(line) for line in lines] == [{"index": 0, "status": 204}]
            batches = bank.runtime.batches
            await eventually(lambda: bank.runtime.batches > batches)
            assert bank.node.inbound_counts() == {"settled": (1, 500_000)}
            assert bank.node.balances()[f"c:{AN.account}"].balance_vnd == 500_000
            assert bank.node.books()["balanced"]

    asyncio.run(run())


def test_a_batch_of_only_bad_messages_is_answered_line_by_line_and_asks_the_bank_nothing(tmp_path: Path) -> None:
    sent: list[BaseModel] = [credit_transfer("VCB1"), credit_transfer("VCB2")]
    document = json.loads(write_batch(sent))
    document["messages"][0]["type"] = "pacs.009"
    document["messages"][1]["message"]["amount_vnd"] = "500000"
    body = json.dumps(document).encode()

    async def run() -> None:
        async with bidv_serving(tmp_path) as bank:
            response, lines = await post_batch(bank.url, body, signed(body))
            assert response.status_code == 200
            errors = {d["index"]: d["problem"]["errors"] for d in map(json.loads, lines)}
            assert [(e["field"], e["reason"]) for e in errors[0]] == [("messages.0.type", "FF01")]
            assert [(e["field"], e["reason"]) for e in errors[1]] == [("messages.1.message.amount_vnd", "FF01")]
            await asyncio.sleep(0.05)
            assert bank.runtime.batches == 0 and bank.node.inbound_counts() == {}

    asyncio.run(run())


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (b"{not json", 400, "(body)"),
        (b'{"messages": []}', 400, "messages"),
        (b'{"transfers": []}', 400, "messages"),
        (
            json.dumps({"messages": [{"type": "pacs.002", "message": {}}] * (MESSAGES_PER_BATCH_MAX + 1)}).encode(),
            400,
            "messages",
        ),
        (b" " * (BATCH_BYTES_MAX + 1), 413, "(body)"),
    ],
    ids=["not-json", "empty", "no-messages", "too-many", "too-large"],
)
def test_a_signed_batch_that_cannot_be_read_is_refused_whole_as_a_problem(
    tmp_path: Path, body: bytes, status: int, field: str
) -> None:
    async def run() -> None:
        async with bidv_serving(tmp_path) as bank:
            async with httpx.AsyncClient(timeout=WAIT_S) as client:
                response = await client.post(bank.url + BATCH_PATH, content=body, headers=signed(body))
            assert response.status_code == status
            assert response.headers["content-type"] == "application/problem+json"
            if status == 400:
                assert [e["field"] for e in response.json()["errors"]] == [field]
            assert bank.runtime.batches == 0 and bank.node.inbound_counts() == {}

    asyncio.run(run())


# --- NodeRuntime.ask_many ----------------------------------------------------------------------------


class ScriptedBank:
    """A node that answers each verification after the delay its account is given (None: never)."""

    address = BIDV
    offline = False

    def __init__(self, delays_ms: dict[str, int | None]) -> None:
        self.delays_ms = delays_ms
        self.seen: list[str] = []

    def handle(self, inbox: Sequence[Envelope], now_ms: int) -> list[Envelope]:
        out = []
        for envelope in inbox:
            request = envelope.message
            assert isinstance(request, VerificationRequest)
            self.seen.append(request.verification_id)
            delay_ms = self.delays_ms[request.account]
            if delay_ms is not None:
                report = VerificationReport(
                    original_verification_id=request.verification_id, agent=BIDV, outcome=VerificationOutcome.MTCH
                )
                out.append(Envelope(BIDV, SWITCH_ADDRESS, report, delay_ms))
        return out


def question(verification_id: str, account: str) -> tuple[Envelope, Any]:
    request = verification(verification_id, account)
    return Envelope(SWITCH_ADDRESS, BIDV, request), matcher_for(
        VerificationReport, original_verification_id=verification_id
    )


def no_waiter_left(runtime: NodeRuntime) -> bool:
    return runtime.waiting == 0 and all(not by_key for by_key in runtime.waiters.values())


def test_ask_many_yields_answers_in_the_order_they_come_and_none_for_those_unanswered_in_time() -> None:
    bank = ScriptedBank({"1000000001": 150, "1000000002": 10, "1000000003": None, "1000000004": 600})
    questions = [
        question("SLOW", "1000000001"),
        question("FAST", "1000000002"),
        question("NEVER", "1000000003"),
        question("LATE", "1000000004"),
    ]

    async def run() -> None:
        outbox = Outbox()
        runtime = NodeRuntime(bank, outbox)
        await runtime.start()
        try:
            started = time.monotonic()
            answers = [(i, found) async for i, found in runtime.ask_many(questions, 0.35)]
            elapsed_s = time.monotonic() - started
            assert [i for i, _found in answers[:2]] == [1, 0]
            assert {i for i, _found in answers[2:]} == {2, 3}
            assert [found is None for _i, found in answers] == [False, False, True, True]
            for i, found in answers[:2]:
                assert found is not None and isinstance(found.message, VerificationReport)
                assert found.message.original_verification_id == ["SLOW", "FAST"][i]
                assert (found.sender, found.receiver) == (BIDV, SWITCH_ADDRESS)
            assert 0.3 <= elapsed_s < 2.0
            assert bank.seen == ["SLOW", "FAST", "NEVER", "LATE"]  # all in one batch, in order
            assert runtime.batches == 1
            assert no_waiter_left(runtime)
            # The late answer, with nobody waiting any more, goes out like any other message.
            await eventually(lambda: len(outbox.sent) == 1)
            late = outbox.sent[0].message
            assert isinstance(late, VerificationReport) and late.original_verification_id == "LATE"
        finally:
            await runtime.stop()

    asyncio.run(run())


def test_ask_many_stopped_early_leaves_no_waiter_behind() -> None:
    bank = ScriptedBank({"1000000001": 5, "1000000002": 300, "1000000003": None})
    questions = [question("A", "1000000001"), question("B", "1000000002"), question("C", "1000000003")]

    async def run() -> None:
        runtime = NodeRuntime(bank, Outbox())
        await runtime.start()
        try:
            answers = cast(AsyncGenerator[tuple[int, Envelope | None], None], runtime.ask_many(questions, 5.0))
            first = await anext(answers)
            assert first[0] == 0 and first[1] is not None
            await answers.aclose()  # the client went away: the stream is closed
            assert no_waiter_left(runtime)
        finally:
            await runtime.stop()

    asyncio.run(run())


def test_ask_many_with_the_same_question_twice_answers_both_and_forgets_both() -> None:
    bank = ScriptedBank({"1000000001": 20})
    questions = [question("SAME", "1000000001"), question("SAME", "1000000001")]

    async def run() -> None:
        runtime = NodeRuntime(bank, Outbox())
        await runtime.start()
        try:
            answers = [(i, found) async for i, found in runtime.ask_many(questions, 2.0)]
            assert sorted(i for i, _found in answers) == [0, 1]
            assert all(found is not None for _i, found in answers)
            assert no_waiter_left(runtime)
        finally:
            await runtime.stop()

    asyncio.run(run())


def test_ask_many_with_no_questions_yields_nothing() -> None:
    async def run() -> None:
        runtime = NodeRuntime(ScriptedBank({}), Outbox())
        await runtime.start()
        try:
            assert [answer async for answer in runtime.ask_many([], 1.0)] == []
            assert no_waiter_left(runtime) and runtime.batches == 0
        finally:
            await runtime.stop()

    asyncio.run(run())


# --- the switch's lane: batch calls, and a call per message when a batch call fails ---------------


@dataclass
class DevParticipant:
    """A participant that says it serves batches; `batch` decides what its batch endpoint does."""

    batch: Callable[[web.Request, DevParticipant], Awaitable[web.StreamResponse]]
    batch_calls: int = 0
    single: list[tuple[str, str]] = field(default_factory=list)  # (endpoint, transaction or verification id)
    unsigned: int = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post(BATCH_PATH, self._batch)
        app.router.add_post("/v1/inbound/transfers", self._transfer)
        app.router.add_post("/v1/inbound/verifications", self._verification)
        app.router.add_post("/v1/inbound/status-reports", self._status_report)
        return app

    async def _signed(self, request: web.Request) -> bytes | None:
        body = await request.read()
        if not verify(SECRET, body, request.headers.get(SIGNATURE_HEADER)):
            self.unsigned += 1
            return None
        return body

    async def _batch(self, request: web.Request) -> web.StreamResponse:
        self.batch_calls += 1
        if await self._signed(request) is None:
            return web.Response(status=401)
        return await self.batch(request, self)

    async def _transfer(self, request: web.Request) -> web.Response:
        body = await self._signed(request)
        if body is None:
            return web.Response(status=401)
        transfer = CreditTransfer.model_validate_json(body)
        self.single.append(("transfers", transfer.transaction_id))
        return web.Response(body=acsp(transfer).model_dump_json(), content_type="application/json")

    async def _verification(self, request: web.Request) -> web.Response:
        body = await self._signed(request)
        if body is None:
            return web.Response(status=401)
        asked = VerificationRequest.model_validate_json(body)
        self.single.append(("verifications", asked.verification_id))
        report = VerificationReport(
            original_verification_id=asked.verification_id, agent=BIDV, outcome=VerificationOutcome.MTCH
        )
        return web.Response(body=report.model_dump_json(), content_type="application/json")

    async def _status_report(self, request: web.Request) -> web.Response:
        body = await self._signed(request)
        if body is None:
            return web.Response(status=401)
        self.single.append(("status-reports", StatusReport.model_validate_json(body).original_transaction_id))
        return web.Response(status=204)


async def answers_500(request: web.Request, participant: DevParticipant) -> web.StreamResponse:
    return web.Response(status=500, text="core banking is down")


async def answers_404(request: web.Request, participant: DevParticipant) -> web.StreamResponse:
    return web.Response(status=404)


async def breaks_after_the_first_line(request: web.Request, participant: DevParticipant) -> web.StreamResponse:
    """Answers the batch's first message, then the connection drops mid-stream."""
    items = parse_batch(await request.read())
    first = items[0].message
    assert isinstance(first, CreditTransfer)
    response = web.StreamResponse(headers={"Content-Type": NDJSON_MEDIA_TYPE})
    await response.prepare(request)
    await response.write(answer_line(0, 200, answer=acsp(first)))
    await asyncio.sleep(0.05)
    assert request.transport is not None
    request.transport.close()
    return response


async def answers_a_line_that_is_not_an_object(request: web.Request, participant: DevParticipant) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": NDJSON_MEDIA_TYPE})
    await response.prepare(request)
    await response.write(b"null\n")
    await response.write_eof()
    return response


@dataclass
class Switch:
    dispatcher: HttpDispatcher
    delivered: list[Envelope]


@contextlib.asynccontextmanager
async def switch_sending_to(url: str) -> AsyncIterator[Switch]:
    peer = Peer(url, signing_secret=SECRET, inbound_batches=True)
    delivered: list[Envelope] = []

    async def deliver(envelope: Envelope) -> None:
        delivered.append(envelope)

    async with aiohttp.ClientSession() as client:
        yield Switch(HttpDispatcher(SWITCH_ADDRESS, {BIDV: peer}.get, deliver, client), delivered)


async def send_all(dispatcher: HttpDispatcher, messages: Sequence[BaseModel]) -> None:
    """Sent in one turn of the loop, as one switch batch decides them; then every call finished."""
    for message in messages:
        await dispatcher.send(Envelope(SWITCH_ADDRESS, BIDV, message))
    await asyncio.sleep(0)  # the lane flushes after this turn of the loop
    assert dispatcher.calls or not any(lane.queue for lane in dispatcher.lanes.values())
    deadline = time.monotonic() + WAIT_S
    while dispatcher.calls:
        assert time.monotonic() < deadline, "the lane's calls did not finish"
        await asyncio.wait(set(dispatcher.calls), timeout=WAIT_S)


def answered(delivered: list[Envelope]) -> Counter[str]:
    ids = Counter[str]()
    for envelope in delivered:
        assert (envelope.sender, envelope.receiver) == (BIDV, SWITCH_ADDRESS)
        message = envelope.message
        if isinstance(message, StatusReport):
            assert message.transaction_status == TransactionStatus.ACSP
            ids[message.original_transaction_id] += 1
        else:
            assert isinstance(message, VerificationReport) and message.outcome == VerificationOutcome.MTCH
            ids[message.original_verification_id] += 1
    return ids


MESSAGES: list[BaseModel] = [
    credit_transfer("VCB1"),
    credit_transfer("VCB2", HONG.account),
    final_report("VCB0"),
    verification("VER1"),
    credit_transfer("VCB3", HONG.account, 2_789_000),
]


@pytest.mark.parametrize("batch", [answers_500, answers_404], ids=["500", "404"])
def test_a_failed_batch_call_is_delivered_one_call_per_message_and_each_answer_comes_back(
    batch: Callable[[web.Request, DevParticipant], Awaitable[web.StreamResponse]],
) -> None:
    participant = DevParticipant(batch)

    async def run() -> None:
        async with aiohttp_serving(participant.app()) as url, switch_sending_to(url) as switch:
            await send_all(switch.dispatcher, MESSAGES)
            assert participant.batch_calls == 1  # the five went in one batch call
            assert Counter(participant.single) == {
                ("transfers", "VCB1"): 1, ("transfers", "VCB2"): 1, ("transfers", "VCB3"): 1,
                ("status-reports", "VCB0"): 1, ("verifications", "VER1"): 1,
            }  # fmt: skip
            assert participant.unsigned == 0
            assert answered(switch.delivered) == {"VCB1": 1, "VCB2": 1, "VCB3": 1, "VER1": 1}

    asyncio.run(run())


def test_a_batch_call_that_breaks_mid_stream_resends_only_the_messages_without_a_line() -> None:
    participant = DevParticipant(breaks_after_the_first_line)

    async def run() -> None:
        async with aiohttp_serving(participant.app()) as url, switch_sending_to(url) as switch:
            await send_all(switch.dispatcher, MESSAGES)
            assert participant.batch_calls == 1
            assert Counter(participant.single) == {
                ("transfers", "VCB2"): 1, ("transfers", "VCB3"): 1, ("status-reports", "VCB0"): 1,
                ("verifications", "VER1"): 1,
            }  # fmt: skip
            assert answered(switch.delivered) == {"VCB1": 1, "VCB2": 1, "VCB3": 1, "VER1": 1}

    asyncio.run(run())


def test_a_batch_to_an_unreachable_participant_comes_back_undeliverable_for_each_message() -> None:
    sock = free_socket()  # bound, never listening: connections are refused
    url = url_of(sock)

    async def run() -> None:
        async with switch_sending_to(url) as switch:
            await send_all(switch.dispatcher, [credit_transfer("VCB1"), credit_transfer("VCB2")])
            undelivered: list[str] = []
            for envelope in switch.delivered:
                notice = envelope.message
                assert isinstance(notice, Undeliverable) and notice.receiver == BIDV
                assert isinstance(notice.message, CreditTransfer)
                undelivered.append(notice.message.transaction_id)
            assert sorted(undelivered) == ["VCB1", "VCB2"]

    try:
        asyncio.run(run())
    finally:
        sock.close()


def test_a_batch_answered_with_a_line_that_is_not_an_object_is_delivered_one_call_per_message() -> None:
    participant = DevParticipant(answers_a_line_that_is_not_an_object)

    async def run() -> None:
        async with aiohttp_serving(participant.app()) as url, switch_sending_to(url) as switch:
            await send_all(switch.dispatcher, [credit_transfer("VCB1"), credit_transfer("VCB2")])
            await asyncio.sleep(0.2)
            assert Counter(participant.single) == {("transfers", "VCB1"): 1, ("transfers", "VCB2"): 1}
            assert answered(switch.delivered) == {"VCB1": 1, "VCB2": 1}

    asyncio.run(run())


def test_the_lane_against_a_real_bank_gets_every_answer_from_the_batch_with_no_call_per_message(
    tmp_path: Path,
) -> None:
    messages: list[BaseModel] = [
        credit_transfer("VCB1", AN.account),
        credit_transfer("VCB2", UNKNOWN_ACCOUNT),
        verification("VER1", HONG.account, "Nguyễn Thị Hồng"),
    ]

    async def run() -> None:
        async with bidv_serving(tmp_path) as bank, switch_sending_to(bank.url) as switch:
            await send_all(switch.dispatcher, messages)
            by_id: dict[str, BaseModel] = {}
            for envelope in switch.delivered:
                assert (envelope.sender, envelope.receiver) == (BIDV, SWITCH_ADDRESS)
                message = envelope.message
                if isinstance(message, StatusReport):
                    by_id[message.original_transaction_id] = message
                elif isinstance(message, VerificationReport):
                    by_id[message.original_verification_id] = message
            assert sorted(by_id) == ["VCB1", "VCB2", "VER1"] and len(switch.delivered) == 3
            first, second, third = by_id["VCB1"], by_id["VCB2"], by_id["VER1"]
            assert isinstance(first, StatusReport) and first.transaction_status == TransactionStatus.ACSP
            assert isinstance(second, StatusReport) and second.status_reason == StatusReason.AC01
            assert isinstance(third, VerificationReport) and third.outcome == VerificationOutcome.MTCH
            assert bank.runtime.batches == 1  # one call, one batch at the bank
            assert bank.node.inbound_counts() == {"credited": (1, 500_000), "rejected": (1, 500_000)}

    asyncio.run(run())
