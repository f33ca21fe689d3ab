"""The switch's participant API on the ISO 20022 XML wire: the same paths as JSON, chosen by
Content-Type application/xml, answered in kind.

    POST /v1/transfers        pacs.008 (1 to 1,000 transactions) -> pacs.002, one report each:
                              200 when every one is final, 202 when some are still PDNG
    POST /v1/status-requests  pacs.028 -> pacs.002
    POST /v1/verifications    acmt.023 -> acmt.024

The header says who speaks: AppHdr/Fr must be the BIN of the key's participant (403 otherwise)
and AppHdr/To the switch, NAPAS. A document that cannot be read whole gets a problem+json naming
the element and the rule, and nothing moves; one bad transaction is RJCT on its own, with the
element and the rule in StsRsnInf/AddtlInf, and the others go on.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway import problems, xml_wire
from gateway.runtime import NodeRuntime, matcher_for
from gateway.xml_inbound import is_xml
from switch.scheme.messages import StatusReport, StatusRequest, VerificationReport, VerificationRequest
from switch.scheme.pacs008 import ReadCreditTransfers
from switch.scheme.transport import SWITCH_ADDRESS, Envelope
from switch.scheme.validation import MessageInvalid
from switch.scheme.wire import XML_MEDIA_TYPE

XML_PATHS: dict[str, tuple[type[Any], str]] = {  # what each path takes
    "/v1/transfers": (ReadCreditTransfers, "pacs.008"),
    "/v1/status-requests": (StatusRequest, "pacs.028"),
    "/v1/verifications": (VerificationRequest, "acmt.023"),
}
STATUS_WAIT_S = 5.0
VERIFICATION_WAIT_S = 12.0  # longer than the switch waits for the account holder's bank (10 s)


def takes_xml(scope: Scope) -> bool:
    """A POST of an XML document to one of the paths that take one."""
    if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] not in XML_PATHS:
        return False
    content_type = dict(scope.get("headers") or []).get(b"content-type", b"")
    return is_xml(content_type.decode("latin-1"))


class SwitchXmlWire:
    """Answers the XML documents itself (before FastAPI's routes, which read JSON bodies)."""

    def __init__(self, app: ASGIApp, api: Any) -> None:
        self.app, self.api = app, api  # api: gateway.switch_app.SwitchApi

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not takes_xml(scope):
            await self.app(scope, receive, send)
            return
        scope["route"] = scope["path"]  # for the latency metric's route label
        try:
            response = await self._answer(scope, await read_body(receive))
        except problems.ApiProblem as error:
            response = problems.problem(
                error.status, error.slug, error.title, error.detail, scope["path"], error.errors
            )
        except MessageInvalid as error:
            errors = [{"field": p.field, "rule": p.rule, "reason": p.reason.value} for p in error.problems]
            response = problems.problem(
                400, "message-invalid", "The message breaks the scheme's format", str(error), scope["path"], errors
            )
        except OverflowError as error:  # the switch's inbox is full: nothing was taken, come back
            response = problems.problem(503, "busy", "Too busy", str(error), scope["path"])
        await response(scope, receive, send)

    async def _answer(self, scope: Scope, body: bytes) -> Response:
        authorization = dict(scope["headers"]).get(b"authorization")
        caller: str = self.api.caller(authorization.decode("latin-1") if authorization else None)
        if self.api.runtime is None:
            raise problems.ApiProblem(503, "not-running", "Not running", "this switch takes no messages right now")
        switch = xml_wire.member_id(SWITCH_ADDRESS)
        read = xml_wire.addressed(xml_wire.read(body), caller, switch, "the BIN of the key's participant")
        path = scope["path"]
        message = xml_wire.of_kind(read, *XML_PATHS[path])
        if path == "/v1/transfers":
            return await self._transfers(self.api.runtime, caller, message)
        if path == "/v1/status-requests":
            return await _status_request(self.api.runtime, caller, message)
        return await _verification(self.api.runtime, caller, message)

    async def _transfers(self, runtime: NodeRuntime, caller: str, message: ReadCreditTransfers) -> Response:
        answers = await answer_transfers(runtime, caller, message, self.api.transfer_wait_s)
        pending = any(not report.transaction_status.is_final for report in answers)
        content = xml_wire.write(xml_wire.reports_message(answers), SWITCH_ADDRESS, caller)
        return Response(content, status_code=202 if pending else 200, media_type=XML_MEDIA_TYPE)


async def answer_transfers(
    runtime: NodeRuntime, caller: str, message: ReadCreditTransfers, wait_s: float, json_wire: bool = False
) -> list[StatusReport]:
    """One report per transaction, in the message's order: the final status when it came within
    `wait_s`, PDNG when not; a transaction that could not be read, or is not the caller's, RJCT
    (naming the field as the caller's wire does: an element path, or `transactions.N.debtor_agent`)."""
    by_index: dict[int, StatusReport] = {}
    for refused in message.refused:
        by_index[refused.index] = xml_wire.refusal_report(refused, message.message_id, caller)
    taken_indices = sorted(set(range(message.count)) - set(by_index))
    questions = []
    for index, transfer in zip(taken_indices, message.transactions, strict=True):
        if transfer.debtor_agent != caller:
            field = f"transactions.{index}.debtor_agent" if json_wire else xml_wire.XML_DEBTOR_AGENT_FIELD
            by_index[index] = xml_wire.not_theirs_report(transfer, caller, field)
            continue
        final = matcher_for(StatusReport, caller, debtor_agent=caller, original_transaction_id=transfer.transaction_id)
        questions.append((index, transfer, Envelope(caller, SWITCH_ADDRESS, transfer), final))
    asked = [(envelope, final) for _index, _transfer, envelope, final in questions]
    async for position, found in runtime.ask_many(asked, wait_s):
        index, transfer = questions[position][0], questions[position][1]
        answer = found.message if found is not None else None
        by_index[index] = answer if isinstance(answer, StatusReport) else xml_wire.pending_report(transfer)
    return [by_index[index] for index in range(message.count)]


async def _status_request(runtime: NodeRuntime, caller: str, request: StatusRequest) -> Response:
    report = matcher_for(StatusReport, caller, original_transaction_id=request.original_transaction_id)
    found = await runtime.ask(Envelope(caller, SWITCH_ADDRESS, request), report, STATUS_WAIT_S)
    if found is None or not isinstance(found.message, StatusReport):
        raise _no_answer(STATUS_WAIT_S)
    content = xml_wire.write(xml_wire.reports_message([found.message]), SWITCH_ADDRESS, caller)
    return Response(content, media_type=XML_MEDIA_TYPE)


async def _verification(runtime: NodeRuntime, caller: str, request: VerificationRequest) -> Response:
    report = matcher_for(VerificationReport, caller, original_verification_id=request.verification_id)
    found = await runtime.ask(Envelope(caller, SWITCH_ADDRESS, request), report, VERIFICATION_WAIT_S)
    if found is None or not isinstance(found.message, VerificationReport):
        raise _no_answer(VERIFICATION_WAIT_S)
    content = xml_wire.write(found.message, SWITCH_ADDRESS, caller)
    return Response(content, media_type=XML_MEDIA_TYPE)


def _no_answer(wait_s: float) -> problems.ApiProblem:
    detail = f"no answer within {wait_s:.0f} s; ask again (the same id is safe to repeat)"
    return problems.ApiProblem(503, "busy", "No answer in time", detail)


async def read_body(receive: Receive) -> bytes:
    """The whole body. It is never more than its door's limit: gateway.limits.BodyLimit, outermost,
    counts the bytes as they arrive and answers 413 once they pass it."""
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)
