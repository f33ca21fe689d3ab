"""The participant inbound API on the ISO 20022 XML wire: what a simulated bank or wallet does with
a signed document from the switch (the same paths as JSON, chosen by Content-Type).

    POST /v1/inbound/transfers        pacs.008 (1 to 1,000 credits) -> pacs.002 answering them
    POST /v1/inbound/status-reports   pacs.002 (1 to 1,000 final statuses) -> 204
    POST /v1/inbound/verifications    acmt.023 -> acmt.024

A credit the node has not decided within XML_ANSWER_WAIT_S is left out of the pacs.002: the switch
waits 5 s per transaction and ends it RJCT AB05, and the node voids it when that final status
comes. So one slow credit never holds back the others' answers past the switch's timeout.
"""

from __future__ import annotations

from fastapi.responses import Response

from gateway import problems, xml_wire
from gateway.runtime import Matcher, NodeRuntime, matcher_for
from switch.scheme.messages import CreditTransfer, StatusReport, VerificationReport, VerificationRequest
from switch.scheme.pacs002 import ReadStatusReports
from switch.scheme.pacs008 import ReadCreditTransfers
from switch.scheme.transport import SWITCH_ADDRESS, Envelope
from switch.scheme.validation import MessageInvalid
from switch.scheme.wire import XML_MEDIA_TYPE, ReadWire

XML_ANSWER_WAIT_S = 4.0  # under the switch's 5 s, so the answer reaches it in time


def is_xml(content_type: str | None) -> bool:
    return (content_type or "").split(";")[0].strip().lower() in (XML_MEDIA_TYPE, "text/xml")


def read_from_switch(body: bytes, own_bin: str) -> ReadWire:
    """The document, once its header says it is from the switch to us."""
    return xml_wire.addressed(xml_wire.read(body), xml_wire.member_id(SWITCH_ADDRESS), own_bin, "the switch")


async def transfers(runtime: NodeRuntime, own_bin: str, body: bytes) -> Response:
    read = read_from_switch(body, own_bin)
    message = xml_wire.of_kind(read, ReadCreditTransfers, "pacs.008")
    reports = [xml_wire.refusal_report(r, message.message_id, r.debtor_agent or own_bin) for r in message.refused]
    questions = [(Envelope(SWITCH_ADDRESS, own_bin, t), _answer_to(t)) for t in message.transactions]
    async for _position, found in runtime.ask_many(questions, XML_ANSWER_WAIT_S):
        if found is not None and isinstance(found.message, StatusReport):
            reports.append(found.message)
    if not reports:
        raise problems.ApiProblem(504, "no-answer", "No answer", "the bank decided none of the credits in time")
    content = xml_wire.write(xml_wire.reports_message(reports), own_bin, SWITCH_ADDRESS)
    return Response(content, media_type=XML_MEDIA_TYPE)


async def status_reports(runtime: NodeRuntime, own_bin: str, body: bytes) -> Response:
    read = read_from_switch(body, own_bin)
    message = xml_wire.of_kind(read, ReadStatusReports, "pacs.002")
    for report in message.reports:
        await runtime.deliver(Envelope(SWITCH_ADDRESS, own_bin, report))
    if message.refused:  # the good ones are taken; the switch is told which were not
        raise MessageInvalid([p for r in message.refused for p in r.problems])
    return Response(status_code=204)


async def verification(runtime: NodeRuntime, own_bin: str, body: bytes) -> Response:
    read = read_from_switch(body, own_bin)
    request = xml_wire.of_kind(read, VerificationRequest, "acmt.023")
    matches = matcher_for(VerificationReport, original_verification_id=request.verification_id)
    found = await runtime.ask(Envelope(SWITCH_ADDRESS, own_bin, request), matches, XML_ANSWER_WAIT_S)
    if found is None or not isinstance(found.message, VerificationReport):
        raise problems.ApiProblem(504, "no-answer", "No answer", "the bank did not answer")
    content = xml_wire.write(found.message, own_bin, SWITCH_ADDRESS)
    return Response(content, media_type=XML_MEDIA_TYPE)


def _answer_to(transfer: CreditTransfer) -> Matcher:
    return matcher_for(
        StatusReport, SWITCH_ADDRESS, original_transaction_id=transfer.transaction_id,
        debtor_agent=transfer.debtor_agent,
    )  # fmt: skip
