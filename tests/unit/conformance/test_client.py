"""conformance.client: it signs every body as the switch does, writes the participant's wire (JSON, or
ISO 20022 XML from NAPAS to the participant) and reads the answer only when it is in kind, from the
participant, and of a bounded size. The participant here is BIDV (970418), played in the test."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from conformance.client import ANSWER_BYTES_MAX, ParticipantClient, new_ids
from gateway.signing import SIGNATURE_HEADER, verify
from switch.scheme.codes import TransactionStatus, WireFormat
from switch.scheme.messages import CreditTransfer, Party, StatusReport, StatusReportMessage
from switch.scheme.wire import read_wire, write_wire

BIDV = "970418"
SECRET = "bidv-signing-secret"
CREATED = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)


def _transfer() -> CreditTransfer:
    message_id, end_to_end_id, transaction_id = new_ids()
    return CreditTransfer(
        message_id=message_id, end_to_end_id=end_to_end_id, transaction_id=transaction_id, amount_vnd=10_000,
        debtor=Party(name="Nguyễn Văn Đức"), debtor_account="9704360000001", debtor_agent="970436",
        creditor=Party(name="Mai Kim Xuân"), creditor_account="9704180000000", creditor_agent=BIDV,
    )  # fmt: skip


def _accepted(transfer: CreditTransfer) -> StatusReport:
    return StatusReport(
        original_message_id=transfer.message_id, original_end_to_end_id=transfer.end_to_end_id,
        original_transaction_id=transfer.transaction_id, debtor_agent=transfer.debtor_agent,
        transaction_status=TransactionStatus.ACSP, creditor_agent=BIDV,
    )  # fmt: skip


def _client(answer: Callable[[httpx.Request], httpx.Response], wire: WireFormat) -> ParticipantClient:
    return ParticipantClient(
        "http://bidv.test", BIDV, SECRET, wire, httpx.Client(transport=httpx.MockTransport(answer))
    )


def _xml_answer(report: StatusReport, sender: str = BIDV) -> bytes:
    message = StatusReportMessage(message_id=new_ids()[0], reports=(report,))
    return write_wire(message, sender, "NAPAS", CREATED)


@pytest.mark.parametrize("wire", list(WireFormat))
def test_every_body_is_signed_with_the_participant_s_secret_and_a_wrong_one_on_request(wire: WireFormat) -> None:
    seen: list[tuple[bool, bool]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        body = request.read()
        seen.append(
            (
                verify(SECRET, body, request.headers[SIGNATURE_HEADER]),
                verify("other", body, request.headers[SIGNATURE_HEADER]),
            )
        )
        return httpx.Response(401)

    client = _client(answer, wire)
    client.credit([_transfer()], "signed")
    client.credit([_transfer()], "signed with another secret", secret="other")
    assert seen == [(True, False), (False, True)]
    assert [call.what for call in client.calls] == ["signed", "signed with another secret"]


def test_on_the_xml_wire_a_credit_goes_from_napas_to_the_participant_and_its_pacs002_is_read() -> None:
    transfer = _transfer()

    def answer(request: httpx.Request) -> httpx.Response:
        read = read_wire(request.read())
        assert (read.header.sender, read.header.receiver, read.header.message_definition) == (
            "NAPAS", BIDV, "pacs.008.001.12",
        )  # fmt: skip
        assert request.headers["content-type"] == "application/xml"
        return httpx.Response(
            200, content=_xml_answer(_accepted(transfer)), headers={"content-type": "application/xml"}
        )

    reply = _client(answer, WireFormat.ISO20022_XML).credit([transfer], "credit")
    assert reply.problem is None
    assert [(r.original_transaction_id, r.transaction_status) for r in reply.answers] == [
        (transfer.transaction_id, TransactionStatus.ACSP)
    ]


def test_the_same_transfer_is_the_same_bytes_as_a_switch_s_retry_is() -> None:
    bodies: list[bytes] = []

    def answer(request: httpx.Request) -> httpx.Response:
        bodies.append(request.read())
        return httpx.Response(503)

    client = _client(answer, WireFormat.ISO20022_XML)
    transfer = _transfer()
    client.credit([transfer], "first")
    client.credit([transfer], "again")
    assert bodies[0] == bodies[1]


def test_a_json_answer_to_an_xml_call_is_no_answer_on_that_wire() -> None:
    transfer = _transfer()

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=_accepted(transfer).model_dump(mode="json"))

    reply = _client(answer, WireFormat.ISO20022_XML).credit([transfer], "credit")
    assert reply.answers == ()
    assert reply.problem == "the answer cannot be read: answered application/json to an application/xml call"


def test_an_xml_answer_that_claims_to_come_from_another_bank_is_refused() -> None:
    transfer = _transfer()

    def answer(request: httpx.Request) -> httpx.Response:
        body = _xml_answer(_accepted(transfer), sender="970436")
        return httpx.Response(200, content=body, headers={"content-type": "application/xml"})

    reply = _client(answer, WireFormat.ISO20022_XML).credit([transfer], "credit")
    assert reply.problem == "the answer cannot be read: AppHdr Fr/To are 970436/NAPAS, expected from 970418 to NAPAS"


def test_a_json_answer_with_a_decimal_amount_is_refused_naming_the_field() -> None:
    transfer = _transfer()

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, content=_accepted(transfer).model_dump_json().replace('"amount_vnd":null', '"amount_vnd":10000.5')
        )

    reply = _client(answer, WireFormat.JSON).credit([transfer], "credit")
    assert reply.problem is not None and "amount_vnd" in reply.problem


def test_an_answer_over_the_size_limit_is_not_read_whole() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b" " * (ANSWER_BYTES_MAX + 1))

    reply = _client(answer, WireFormat.JSON).credit([_transfer()], "credit")
    assert reply.status is None
    assert reply.problem == f"DecodingError: answer larger than {ANSWER_BYTES_MAX} bytes"


def test_a_problem_json_answer_is_quoted_by_its_title_and_detail() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        problem = {"title": "Signature does not match", "detail": "sign the body with HMAC-SHA256"}
        return httpx.Response(401, json=problem)

    reply = _client(answer, WireFormat.JSON).credit([_transfer()], "credit")
    assert reply.describe() == "HTTP 401: Signature does not match: sign the body with HMAC-SHA256"
