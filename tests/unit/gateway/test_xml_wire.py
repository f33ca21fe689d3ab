"""The ISO 20022 XML wire at a participant: a simulated bank's inbound API taking signed documents
(gateway.xml_inbound), and the switch's dispatcher gathering what one batch decides for an XML
participant into one pacs.008 and one pacs.002 (gateway.dispatch, gateway.xml_wire). Everything
runs on real sockets inside one `asyncio.run` per test: the bank node served by uvicorn, small
aiohttp participants; every document is written and read by the scheme's codec (switch.scheme.wire).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
from aiohttp import web
from live import (
    AN,
    BIDV,
    BINH,
    CREATED,
    HONG,
    NAPAS,
    NOW,
    SECRET,
    UNKNOWN_ACCOUNT,
    VIETCOMBANK,
    VIETINBANK,
    WAIT_S,
    acsp,
    aiohttp_serving,
    bidv_serving,
    eventually,
    free_socket,
    url_of,
)
from pydantic import BaseModel

from gateway.dispatch import HttpDispatcher, Peer
from gateway.signing import SIGNATURE_HEADER, sign, verify
from switch.scheme.codes import Purpose, StatusReason, TransactionStatus, VerificationOutcome, WireFormat
from switch.scheme.messages import (
    CreditTransfer,
    CreditTransferMessage,
    Party,
    StatusReport,
    StatusReportMessage,
    VerificationReport,
    VerificationRequest,
)
from switch.scheme.pacs002 import ReadStatusReports
from switch.scheme.pacs008 import ReadCreditTransfers
from switch.scheme.transport import SWITCH_ADDRESS, Envelope, Undeliverable
from switch.scheme.wire import XML_MEDIA_TYPE, read_wire, write_wire

MESSAGE_ID = "NAPAS20261201093000000001"


def credit_transfer(
    tx: str, account: str = AN.account, amount_vnd: int = 500_000, message_id: str = MESSAGE_ID,
    debtor_agent: str = VIETCOMBANK,
) -> CreditTransfer:  # fmt: skip
    return CreditTransfer(
        message_id=message_id, end_to_end_id=f"E{tx}", transaction_id=tx, amount_vnd=amount_vnd,
        debtor=Party(name="Võ Thị Lan", citizen_id="001185004321"), debtor_account="0011001234567",
        debtor_agent=debtor_agent, creditor_account=account, creditor_agent=BIDV, purpose=Purpose.SSBE,
        remittance_information="Trợ cấp xã hội tháng 12/2026",
    )  # fmt: skip


def final_report(transfer: CreditTransfer, status: TransactionStatus = TransactionStatus.ACSC) -> StatusReport:
    return StatusReport(
        original_message_id=transfer.message_id, original_end_to_end_id=transfer.end_to_end_id,
        original_transaction_id=transfer.transaction_id, debtor_agent=transfer.debtor_agent,
        transaction_status=status, creditor_agent=BIDV, amount_vnd=transfer.amount_vnd, settled_at_ms=NOW,
    )  # fmt: skip


def pacs008(transfers: Sequence[CreditTransfer], sender: str = NAPAS, receiver: str = BIDV) -> bytes:
    message = CreditTransferMessage(message_id=transfers[0].message_id, transactions=tuple(transfers))
    return write_wire(message, sender, receiver, CREATED)


def pacs002(reports: Sequence[StatusReport], sender: str = NAPAS, receiver: str = BIDV) -> bytes:
    message = StatusReportMessage(message_id="NAPAS20261201093000000002", reports=tuple(reports))
    return write_wire(message, sender, receiver, CREATED)


def acmt023(verification_id: str, account: str, name: str) -> bytes:
    request = VerificationRequest(verification_id=verification_id, agent=BIDV, account=account, name=name)
    return write_wire(request, NAPAS, BIDV, CREATED)


def signed_xml(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return {"Content-Type": XML_MEDIA_TYPE, SIGNATURE_HEADER: sign(secret, body)}


# --- a simulated bank on the XML wire --------------------------------------------------------------


async def post(url: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(timeout=WAIT_S * 2) as client:
        return await client.post(url, content=body, headers=headers)


def outcomes(content: bytes) -> dict[str, tuple[TransactionStatus, StatusReason | None]]:
    """The pacs.002's reports by transaction id, once its header says BIDV answered the switch."""
    read = read_wire(content)
    assert (read.header.sender, read.header.receiver) == (BIDV, NAPAS)
    assert read.header.message_definition == "pacs.002.001.12"
    assert isinstance(read.message, ReadStatusReports) and read.message.refused == ()
    by_id = {r.original_transaction_id: (r.transaction_status, r.status_reason) for r in read.message.reports}
    assert len(by_id) == len(read.message.reports)
    return by_id


def test_a_signed_pacs008_of_several_credits_gets_one_pacs002_answering_each(tmp_path: Path) -> None:
    sent = [
        credit_transfer("VCB1", AN.account, 500_000),
        credit_transfer("VCB2", UNKNOWN_ACCOUNT, 750_000),
        credit_transfer("VCB3", BINH.account, 300_000),
        credit_transfer("VCB4", HONG.account, 2_789_000),
    ]
    body = pacs008(sent)

    async def run() -> None:
        async with bidv_serving(tmp_path) as bank:
            response = await post(bank.url + "/v1/inbound/transfers", body, signed_xml(body))
            assert response.status_code == 200, response.text
            assert response.headers["content-type"].startswith(XML_MEDIA_TYPE)
            assert outcomes(response.content) == {
                "VCB1": (TransactionStatus.ACSP, None),
                "VCB2": (TransactionStatus.RJCT, StatusReason.AC01),
                "VCB3": (TransactionStatus.RJCT, StatusReason.AC04),
                "VCB4": (TransactionStatus.ACSP, None),
            }
            read = read_wire(response.content).message
            assert isinstance(read, ReadStatusReports)
            assert {(r.original_message_id, r.debtor_agent) for r in read.reports} == {(MESSAGE_ID, VIETCOMBANK)}
            # Credited pending until the switch's final status; every answer went in the response.
            counts = bank.node.inbound_counts()
            assert counts == {"credited": (2, 500_000 + 2_789_000), "rejected": (2, 750_000 + 300_000)}
            assert bank.balance_vnd(AN) == 0 and bank.balance_vnd(HONG) == 2_000_000
            assert bank.outbox.sent == [] and bank.runtime.waiting == 0

    asyncio.run(run())


@pytest.mark.parametrize("signature", ["unsigned", "wrong-secret", "another-body", "zeros"])
def test_a_pacs008_whose_signature_does_not_match_is_refused_with_401_and_credits_nothing(
    tmp_path: Path, signature: str
) -> None:
    body = pacs008([credit_transfer("VCB1", AN.account), credit_transfer("VCB2", HONG.account)])
    headers = {"Content-Type": XML_MEDIA_TYPE}
    if signature == "wrong-secret":
        headers[SIGNATURE_HEADER] = sign("b2" * 32, body)
    elif signature == "another-body":
        headers[SIGNATURE_HEADER] = sign(SECRET, pacs008([credit_transfer("VCB1", AN.account)]))
    elif signature == "zeros":
        headers[SIGNATURE_HEADER] = "sha256=" + "0" * 64

    async def run() -> None:
        async with bidv_serving(tmp_path) as bank:
            before = bank.state()
            response = await post(bank.url + "/v1/inbound/transfers", body, headers)
            assert response.status_code == 401
            assert response.headers["content-type"] == "application/problem+json"
            assert [e["field"] for e in response.json()["errors"]] == [SIGNATURE_HEADER]
            await asyncio.sleep(0.1)  # long enough for a batch window and the bank's answers
            assert bank.state() == before
            assert bank.runtime.batches == 0 and bank.node.inbound_counts() == {}

    asyncio.run(run())


def test_a_pacs002_of_final_acsc_reports_is_answered_204_and_posts_the_credits_once(tmp_path: Path) -> None:
    credits = [credit_transfer("VCB1", AN.account, 500_000), credit_transfer("VCB2", HONG.account, 2_789_000)]

    async def run() -> None:
        async with bidv_serving(tmp_path) as bank:
            body = pacs008(credits)
            accepted = await post(bank.url + "/v1/inbound/transfers", body, signed_xml(body))
            assert set(outcomes(accepted.content).values()) == {(TransactionStatus.ACSP, None)}
            assert bank.balance_vnd(AN) == 0  # pending until final

            body = pacs002([final_report(t) for t in credits])
            response = await post(bank.url + "/v1/inbound/status-reports", body, signed_xml(body))
            assert response.status_code == 204, response.text
            await eventually(lambda: bank.node.inbound_counts() == {"settled": (2, 3_289_000)})
            assert bank.balance_vnd(AN) == 500_000 and bank.balance_vnd(HONG) == 2_000_000 + 2_789_000
            settled = bank.state()

            # The same pacs.002 again (the switch retrying a call it thinks failed) changes nothing.
            batches = bank.runtime.batches
            again = await post(bank.url + "/v1/inbound/status-reports", body, signed_xml(body))
            assert again.status_code == 204
            await eventually(lambda: bank.runtime.batches > batches)
            assert bank.state() == settled
            assert bank.node.books()["balanced"] and bank.node.books()["open_items"] == 0

    asyncio.run(run())


def test_a_pacs002_of_rjct_ab05_after_acceptance_voids_the_credit_and_settles_the_other(tmp_path: Path) -> None:
    late, on_time = credit_transfer("VCB1", AN.account, 500_000), credit_transfer("VCB2", HONG.account, 2_789_000)

    async def run() -> None:
        async with bidv_serving(tmp_path) as bank:
            body = pacs008([late, on_time])
            accepted = await post(bank.url + "/v1/inbound/transfers", body, signed_xml(body))
            assert set(outcomes(accepted.content).values()) == {(TransactionStatus.ACSP, None)}

            # The switch gave up on VCB1 (its answer came after 5 s): RJCT AB05 in the same pacs.002.
            voided = final_report(late, TransactionStatus.RJCT).model_copy(
                update={"status_reason": StatusReason.AB05, "settled_at_ms": None}
            )
            body = pacs002([voided, final_report(on_time)])
            response = await post(bank.url + "/v1/inbound/status-reports", body, signed_xml(body))
            assert response.status_code == 204, response.text
            expected = {"reversed": (1, 500_000), "settled": (1, 2_789_000)}
            await eventually(lambda: bank.node.inbound_counts() == expected)
            assert bank.balance_vnd(AN) == 0 and bank.balance_vnd(HONG) == 2_000_000 + 2_789_000
            assert bank.node.books()["balanced"] and bank.node.books()["open_items"] == 0

    asyncio.run(run())


@pytest.mark.parametrize(
    ("account", "name", "outcome", "reason"),
    [
        (AN.account, "Lê Văn An", VerificationOutcome.MTCH, None),
        (UNKNOWN_ACCOUNT, "Lê Văn An", VerificationOutcome.NMTC, StatusReason.AC01),
        (BINH.account, "Trần Văn Bình", VerificationOutcome.NMTC, StatusReason.AC04),
    ],
    ids=["match", "unknown", "closed"],
)
def test_an_acmt023_is_answered_with_an_acmt024(
    tmp_path: Path, account: str, name: str, outcome: VerificationOutcome, reason: StatusReason | None
) -> None:
    body = acmt023("VER20261201000001", account, name)

    async def run() -> None:
        async with bidv_serving(tmp_path) as bank:
            response = await post(bank.url + "/v1/inbound/verifications", body, signed_xml(body))
            assert response.status_code == 200, response.text
            assert response.headers["content-type"].startswith(XML_MEDIA_TYPE)
            read = read_wire(response.content)
            assert (read.header.sender, read.header.receiver) == (BIDV, NAPAS)
            assert read.header.message_definition == "acmt.024.001.04"
            report = read.message
            assert isinstance(report, VerificationReport)
            assert (report.original_verification_id, report.agent) == ("VER20261201000001", BIDV)
            assert (report.outcome, report.reason) == (outcome, reason)

    asyncio.run(run())


@pytest.mark.parametrize(
    ("sender", "receiver", "status", "element"),
    [(VIETCOMBANK, BIDV, 403, "AppHdr/Fr"), (NAPAS, VIETINBANK, 400, "AppHdr/To")],
    ids=["from-a-bank", "to-another-bank"],
)
def test_a_document_not_from_the_switch_to_this_bank_is_refused_naming_the_header_and_credits_nothing(
    tmp_path: Path, sender: str, receiver: str, status: int, element: str
) -> None:
    body = pacs008([credit_transfer("VCB1", AN.account)], sender=sender, receiver=receiver)

    async def run() -> None:
        async with bidv_serving(tmp_path) as bank:
            before = bank.state()
            response = await post(bank.url + "/v1/inbound/transfers", body, signed_xml(body))
            assert response.status_code == status
            assert response.headers["content-type"] == "application/problem+json"
            assert [e["field"] for e in response.json()["errors"]] == [element]
            await asyncio.sleep(0.1)
            assert bank.state() == before and bank.runtime.batches == 0

    asyncio.run(run())


def wrong_kinds() -> list[Any]:
    transfer = credit_transfer("VCB1", AN.account)
    return [
        pytest.param("/v1/inbound/transfers", pacs002([final_report(transfer)]), "pacs.008", id="pacs002-as-transfers"),
        pytest.param("/v1/inbound/status-reports", pacs008([transfer]), "pacs.002", id="pacs008-as-reports"),
        pytest.param("/v1/inbound/verifications", pacs008([transfer]), "acmt.023", id="pacs008-as-verification"),
        pytest.param("/v1/inbound/transfers", acmt023("VER1", AN.account, "Lê Văn An"), "pacs.008", id="acmt023"),
    ]


@pytest.mark.parametrize(("path", "body", "expected"), wrong_kinds())
def test_a_document_of_the_wrong_kind_for_the_path_is_refused_with_400_naming_the_msgdefidr(
    tmp_path: Path, path: str, body: bytes, expected: str
) -> None:
    async def run() -> None:
        async with bidv_serving(tmp_path) as bank:
            before = bank.state()
            response = await post(bank.url + path, body, signed_xml(body))
            assert response.status_code == 400
            assert response.headers["content-type"] == "application/problem+json"
            [error] = response.json()["errors"]
            assert error["field"] == "AppHdr/MsgDefIdr" and expected in error["rule"]
            await asyncio.sleep(0.1)
            assert bank.state() == before and bank.runtime.batches == 0

    asyncio.run(run())


ENTITY_BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<Envelope>&lol3;</Envelope>"""


@pytest.mark.parametrize(
    "body",
    [b"<Envelope><AppHdr>", b"not xml at all", ENTITY_BOMB, b"<Envelope/>"],
    ids=["truncated", "not-xml", "entity-bomb", "empty-envelope"],
)
def test_a_signed_body_that_is_no_readable_document_is_refused_with_400_and_changes_nothing(
    tmp_path: Path, body: bytes
) -> None:
    async def run() -> None:
        async with bidv_serving(tmp_path) as bank:
            before = bank.state()
            for path in ("/v1/inbound/transfers", "/v1/inbound/status-reports", "/v1/inbound/verifications"):
                response = await post(bank.url + path, body, signed_xml(body))
                assert response.status_code == 400, (path, response.text)
                assert response.headers["content-type"] == "application/problem+json"
                assert response.json()["errors"], path
            await asyncio.sleep(0.1)
            assert bank.state() == before and bank.runtime.batches == 0

    asyncio.run(run())


def test_the_bank_still_answers_json_on_the_same_path(tmp_path: Path) -> None:
    transfer = credit_transfer("VCB1", AN.account)
    body = transfer.model_dump_json().encode()

    async def run() -> None:
        async with bidv_serving(tmp_path) as bank:
            headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(SECRET, body)}
            response = await post(bank.url + "/v1/inbound/transfers", body, headers)
            assert response.status_code == 200 and response.headers["content-type"] == "application/json"
            report = StatusReport.model_validate_json(response.content)
            assert (report.original_transaction_id, report.transaction_status) == ("VCB1", TransactionStatus.ACSP)

    asyncio.run(run())


# --- the switch's dispatcher to a participant on the XML wire ---------------------------------------


@dataclass
class XmlParticipant:
    """BIDV on the XML wire, as a developer writes it: reads each signed document, answers every
    credit ACSP under the message id it came with, takes the final statuses with 204."""

    transfer_calls: list[ReadCreditTransfers] = field(default_factory=list)
    report_calls: list[ReadStatusReports] = field(default_factory=list)
    headers: list[tuple[str, str, str, str]] = field(default_factory=list)  # (content type, Fr, To, MsgDefIdr)
    unsigned: int = 0
    answer_from: str = BIDV  # AppHdr/Fr of its answers

    def app(self) -> web.Application:
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_post("/v1/inbound/transfers", self._transfers)
        app.router.add_post("/v1/inbound/status-reports", self._status_reports)
        return app

    async def _read(self, request: web.Request) -> Any:
        body = await request.read()
        if not verify(SECRET, body, request.headers.get(SIGNATURE_HEADER)):
            self.unsigned += 1
            return None
        read = read_wire(body)
        header = read.header
        self.headers.append((request.content_type, header.sender, header.receiver, header.message_definition))
        return read.message

    async def _transfers(self, request: web.Request) -> web.Response:
        message = await self._read(request)
        if not isinstance(message, ReadCreditTransfers):
            return web.Response(status=401 if message is None else 400)
        self.transfer_calls.append(message)
        answer = StatusReportMessage(
            message_id=f"BIDV{len(self.transfer_calls):031d}", reports=tuple(acsp(t) for t in message.transactions)
        )
        return web.Response(body=write_wire(answer, self.answer_from, NAPAS, CREATED), content_type=XML_MEDIA_TYPE)

    async def _status_reports(self, request: web.Request) -> web.Response:
        message = await self._read(request)
        if not isinstance(message, ReadStatusReports):
            return web.Response(status=401 if message is None else 400)
        self.report_calls.append(message)
        return web.Response(status=204)


@dataclass
class Switch:
    dispatcher: HttpDispatcher
    delivered: list[Envelope]


@contextlib.asynccontextmanager
async def switch_sending_to(url: str, peers: dict[str, Peer] | None = None) -> AsyncIterator[Switch]:
    """The switch's dispatcher to BIDV on the XML wire (or as `peers` says at each call)."""
    peers = peers if peers is not None else {BIDV: Peer(url, signing_secret=SECRET, wire=WireFormat.ISO20022_XML)}
    delivered: list[Envelope] = []

    async def deliver(envelope: Envelope) -> None:
        delivered.append(envelope)

    async with aiohttp.ClientSession() as client:
        yield Switch(HttpDispatcher(SWITCH_ADDRESS, peers.get, deliver, client), delivered)


async def send_all(dispatcher: HttpDispatcher, messages: Sequence[BaseModel]) -> None:
    """Sent in one turn of the loop, as one switch batch decides them; then every call finished."""
    for message in messages:
        await dispatcher.send(Envelope(SWITCH_ADDRESS, BIDV, message))
    await asyncio.sleep(0)  # the lane flushes after this turn of the loop
    deadline = time.monotonic() + WAIT_S * 3
    while dispatcher.calls:
        assert time.monotonic() < deadline, "the lane's calls did not finish"
        await asyncio.wait(set(dispatcher.calls), timeout=WAIT_S)


def thirty_transfers() -> list[CreditTransfer]:
    """Credits from two debtor agents, each from a message of its own."""
    return [
        credit_transfer(
            f"TX{n:02d}",
            HONG.account if n % 3 else AN.account,
            100_000 + n * 1_000,
            message_id=f"MSG{n:02d}",
            debtor_agent=VIETCOMBANK if n % 2 else VIETINBANK,
        )
        for n in range(30)
    ]


def test_thirty_credits_released_together_go_as_one_pacs008_answered_under_their_own_message_ids() -> None:
    participant = XmlParticipant()
    sent = thirty_transfers()

    async def run() -> None:
        async with aiohttp_serving(participant.app()) as url, switch_sending_to(url) as switch:
            await send_all(switch.dispatcher, sent)
            assert len(participant.transfer_calls) == 1 and participant.unsigned == 0
            assert participant.headers == [(XML_MEDIA_TYPE, NAPAS, BIDV, "pacs.008.001.12")]
            [message] = participant.transfer_calls
            assert message.refused == ()
            # The switch's own message: one new id, every transaction with its ids and amount.
            assert message.message_id not in {t.message_id for t in sent}
            assert {t.message_id for t in message.transactions} == {message.message_id}
            expected = [(t.transaction_id, t.debtor_agent, t.amount_vnd) for t in sent]
            assert sorted((t.transaction_id, t.debtor_agent, t.amount_vnd) for t in message.transactions) == expected

            answers: dict[str, StatusReport] = {}
            for envelope in switch.delivered:
                assert (envelope.sender, envelope.receiver) == (BIDV, SWITCH_ADDRESS)
                assert isinstance(envelope.message, StatusReport)
                answers[envelope.message.original_transaction_id] = envelope.message
            assert len(switch.delivered) == len(sent) == len(answers)
            for transfer in sent:
                answer = answers[transfer.transaction_id]
                assert answer.original_message_id == transfer.message_id  # not the switch's message's id
                assert (answer.debtor_agent, answer.transaction_status) == (
                    transfer.debtor_agent,
                    TransactionStatus.ACSP,
                )

    asyncio.run(run())


def test_credits_of_one_message_keep_its_id_on_the_wire() -> None:
    participant = XmlParticipant()
    sent = [credit_transfer(f"TX{n}", AN.account, 200_000 + n) for n in range(3)]

    async def run() -> None:
        async with aiohttp_serving(participant.app()) as url, switch_sending_to(url) as switch:
            await send_all(switch.dispatcher, sent)
            [message] = participant.transfer_calls
            assert message.message_id == MESSAGE_ID
            assert sorted(e.message.original_message_id for e in switch.delivered) == [MESSAGE_ID] * 3  # type: ignore[union-attr]

    asyncio.run(run())


def test_answers_whose_header_is_not_from_the_participant_called_are_not_taken() -> None:
    participant = XmlParticipant(answer_from=VIETINBANK)

    async def run() -> None:
        async with aiohttp_serving(participant.app()) as url, switch_sending_to(url) as switch:
            await send_all(switch.dispatcher, thirty_transfers()[:3])
            assert len(participant.transfer_calls) == 1
            assert switch.delivered == []  # the switch's timer ends them AB05, as unanswered

    asyncio.run(run())


def test_final_statuses_released_in_one_turn_go_as_one_pacs002() -> None:
    participant = XmlParticipant()
    finals = [final_report(t) for t in thirty_transfers()]

    async def run() -> None:
        async with aiohttp_serving(participant.app()) as url, switch_sending_to(url) as switch:
            await send_all(switch.dispatcher, finals)
            assert len(participant.report_calls) == 1 and participant.transfer_calls == []
            assert participant.headers == [(XML_MEDIA_TYPE, NAPAS, BIDV, "pacs.002.001.12")]
            [message] = participant.report_calls
            assert message.refused == ()
            got = {(r.original_message_id, r.original_transaction_id, r.transaction_status) for r in message.reports}
            assert got == {(r.original_message_id, r.original_transaction_id, r.transaction_status) for r in finals}
            assert len(message.reports) == 30
            assert switch.delivered == []  # 204 answers nothing

    asyncio.run(run())


def test_credits_to_an_unreachable_xml_participant_come_back_undeliverable_for_each_message() -> None:
    sock = free_socket()  # bound, never listening: connections are refused
    sent = thirty_transfers()[:5]

    async def run() -> None:
        async with switch_sending_to(url_of(sock)) as switch:
            await send_all(switch.dispatcher, sent)
            undelivered: list[tuple[str, str]] = []
            for envelope in switch.delivered:
                notice = envelope.message
                assert isinstance(notice, Undeliverable) and notice.receiver == BIDV
                assert isinstance(notice.message, CreditTransfer)
                undelivered.append((notice.message.message_id, notice.message.transaction_id))
            assert sorted(undelivered) == sorted((t.message_id, t.transaction_id) for t in sent)

    try:
        asyncio.run(run())
    finally:
        sock.close()


def test_the_dispatcher_against_a_real_bank_on_xml_gets_every_answer_in_one_call(tmp_path: Path) -> None:
    sent = [
        credit_transfer("VCB1", AN.account, 500_000, message_id="MVCB1"),
        credit_transfer("VCB2", UNKNOWN_ACCOUNT, 750_000, message_id="MVCB2"),
        credit_transfer("CTG1", BINH.account, 300_000, message_id="MCTG1", debtor_agent=VIETINBANK),
    ]

    async def run() -> None:
        async with bidv_serving(tmp_path) as bank, switch_sending_to(bank.url) as switch:
            await send_all(switch.dispatcher, sent)
            got = {}
            for envelope in switch.delivered:
                report = envelope.message
                assert isinstance(report, StatusReport)
                got[report.original_transaction_id] = (
                    report.original_message_id, report.transaction_status, report.status_reason
                )  # fmt: skip
            assert got == {
                "VCB1": ("MVCB1", TransactionStatus.ACSP, None),
                "VCB2": ("MVCB2", TransactionStatus.RJCT, StatusReason.AC01),
                "CTG1": ("MCTG1", TransactionStatus.RJCT, StatusReason.AC04),
            }
            assert bank.runtime.batches == 1  # one call, one batch at the bank
            assert bank.node.inbound_counts() == {"credited": (1, 500_000), "rejected": (2, 1_050_000)}

    asyncio.run(run())


def test_a_participant_whose_wire_changes_gets_the_next_messages_on_its_new_wire(tmp_path: Path) -> None:
    """As `serve` registers a simulated bank (it serves batches) and the admin then changes its wire:
    the lane the dispatcher kept for it must not go on speaking the old wire."""
    xml_peer = Peer("", signing_secret=SECRET, inbound_batches=True, wire=WireFormat.ISO20022_XML)
    json_peer = Peer("", signing_secret=SECRET, inbound_batches=True, wire=WireFormat.JSON)
    rounds = [(xml_peer, "/v1/inbound/transfers", XML_MEDIA_TYPE), (json_peer, "/v1/inbound/batches",
              "application/json"), (xml_peer, "/v1/inbound/transfers", XML_MEDIA_TYPE)]  # fmt: skip

    async def run() -> None:
        peers: dict[str, Peer] = {}
        async with bidv_serving(tmp_path) as bank, switch_sending_to(bank.url, peers) as switch:
            for number, (peer, path, content_type) in enumerate(rounds):
                peers[BIDV] = dataclasses.replace(peer, base_url=bank.url)
                sent = [
                    credit_transfer(f"R{number}TX{n}", AN.account, 100_000, message_id=f"R{number}") for n in (1, 2)
                ]
                bank.calls.seen.clear()
                switch.delivered.clear()
                await send_all(switch.dispatcher, sent)
                assert bank.calls.seen == [(path, content_type)], number
                answers = {(e.message.original_transaction_id, e.message.transaction_status) for e in switch.delivered}  # type: ignore[union-attr]
                assert answers == {(t.transaction_id, TransactionStatus.ACSP) for t in sent}, number

    asyncio.run(run())
