"""The participant inbound API, served by every simulated bank and wallet (and by any system that
wants to be a participant): what the switch calls. Plus the customer channel of a simulated bank.

    POST /v1/inbound/transfers        pacs.008 in, the creditor's pacs.002 out (ACSP or RJCT+reason)
    POST /v1/inbound/verifications    acmt.023 in, acmt.024 out
    POST /v1/inbound/status-reports   the switch's final pacs.002 (the status callback); 204
    POST /v1/inbound/batches          many of the above in one call, answers streamed (gateway.batches)
    The first three take JSON or, with Content-Type application/xml, the ISO 20022 documents
    under a head.001 header (gateway.xml_inbound), and answers in kind.
    POST /v1/payments                 a customer's payment order (simulated banks only); 202
    GET  /v1/payments/{order_id}      its state at the bank
    GET  /v1/admin/books              the bank's books, for an auditor

Every /v1/inbound call must carry the switch's signature (HMAC-SHA256 of the body); the customer
channel takes the node's customer key (`customer_key` in credentials.json) and the books the admin
key, as `Authorization: Bearer <key>`. A call without what its door takes is refused with 401
before its body is read, and changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Path, Request
from fastapi.responses import Response, StreamingResponse
from fastapi.security import APIKeyHeader
from pydantic import BaseModel
from starlette.types import Scope

from banks.node import ParticipantNode
from banks.schemas import PaymentOrder
from gateway import limits, problems, xml_inbound
from gateway.batches import BATCH_BYTES_MAX, BATCH_PATH, NDJSON_MEDIA_TYPE, BatchInvalid, Item, answer_line, parse_batch
from gateway.observe import BooksCollector, NodeMetrics
from gateway.runtime import Matcher, NodeRuntime, matcher_for
from gateway.schemas import ID_LENGTH_MAX, Books, NodeHealth, PaymentAccepted, PaymentState
from gateway.signing import SIGNATURE_HEADER, SIGNATURE_RULE, Verifier
from switch.scheme.messages import CreditTransfer, StatusReport, VerificationReport, VerificationRequest
from switch.scheme.transport import SWITCH_ADDRESS, Envelope
from switch.scheme.validation import FieldProblem, parse_message
from switch.scheme.wire import WIRE_BYTES_MAX, XML_MEDIA_TYPE

BODY_BYTES_MAX = 64 * 1024
ANSWER_WAIT_S = 120.0  # the node's own (simulated) latency decides when it answers
# What each door takes, one security scheme each in the OpenAPI document.
SWITCH_SIGNATURE = APIKeyHeader(
    name=SIGNATURE_HEADER, scheme_name="switchSignature", auto_error=False,
    description=f"the switch's signature of the call: {SIGNATURE_RULE}",
)  # fmt: skip
ADMIN_KEY = problems.Bearer("adminKey", "the sandbox's admin key (admin_key in credentials.json)")
CUSTOMER_KEY = problems.Bearer("customerKey", "this bank's customer channel key (customer_key in credentials.json)")
XML_DOCUMENT = {"schema": {"type": "string", "description": "an ISO 20022 document under a head.001 header"}}


@dataclass(slots=True)
class NodeApi:
    node: ParticipantNode
    runtime: NodeRuntime
    signing_secret: str
    admin_key: str | None = None
    customer_key: str | None = None  # the customer channel's (None: the channel is closed to all)
    verifier: Verifier = field(default_factory=Verifier)  # signatures, and the call ids seen (replays)


def create_node_app(api: NodeApi) -> FastAPI:
    app = FastAPI(title=f"Switchyard participant {api.node.bin} ({api.node.name})", version="1")
    problems.install(app)
    problems.publish(app, limits.OPEN_PATHS, bodies=[CreditTransfer, VerificationRequest, StatusReport])
    limits.install(app, _carries_credentials(api), _body_limit, NodeMetrics(BooksCollector(api.node)))

    @app.get("/health", tags=["operations"], response_model=NodeHealth)
    def health() -> dict[str, str]:
        return {"status": "ok", "bin": api.node.bin}

    _inbound_routes(app, api)
    _admin_routes(app, api)
    _customer_routes(app, api)
    return app


def _body_limit(scope: Scope) -> int:
    """The inbound batch and XML documents may carry a thousand messages; anything else is small."""
    if scope.get("path") == BATCH_PATH:
        return BATCH_BYTES_MAX
    if xml_inbound.is_xml(limits.header(scope, b"content-type")):
        return WIRE_BYTES_MAX
    return BODY_BYTES_MAX


def _carries_credentials(api: NodeApi) -> limits.Missing:
    """The switch's calls carry a signature (checked against the body once it is read, within its
    limit); the admin's carry the admin key. A call with neither is refused before its body is read."""

    def missing(scope: Scope) -> tuple[str, str] | None:
        path = scope.get("path", "")
        if path.startswith("/v1/inbound/"):
            signed = limits.header(scope, SIGNATURE_HEADER.lower().encode()) is not None
            return None if signed else (SIGNATURE_HEADER, SIGNATURE_RULE)
        if path.startswith("/v1/admin/"):
            return None if limits.bearer_is(scope, api.admin_key) else ("Authorization", limits.BEARER_RULE)
        if path.startswith("/v1/payments"):
            return None if limits.bearer_is(scope, api.customer_key) else ("Authorization", limits.BEARER_RULE)
        return None  # no other door: 404 or 405, as FastAPI answers

    return missing


def _inbound_routes(app: FastAPI, api: NodeApi) -> None:
    """What the switch calls: every body must carry its signature."""
    signed = [Depends(SWITCH_SIGNATURE)]  # documents it: signed_body checks it against the body

    async def signed_body(request: Request) -> Any:
        body = await request.body()  # within its door's limit: BodyLimit counts it as it arrives
        broken = api.verifier.check(api.signing_secret, body, request.headers.get(SIGNATURE_HEADER))
        if broken is not None:
            raise problems.ApiProblem(
                401, "bad-signature", "Signature refused", broken, SIGNATURE_HEADER, broken,
            )  # fmt: skip
        return body

    @app.post(
        "/v1/inbound/transfers", response_model=StatusReport, tags=["inbound"], dependencies=signed,
        openapi_extra=_body(CreditTransfer, xml=True),
        responses={200: {"content": {XML_MEDIA_TYPE: XML_DOCUMENT}}, **problems.answers(400, 403, 504)},
    )  # fmt: skip
    async def inbound_transfer(request: Request) -> Any:
        if xml_inbound.is_xml(request.headers.get("content-type")):
            body = await signed_body(request)
            return await xml_inbound.transfers(api.runtime, api.node.bin, body)
        return await _asked(api, parse_message(CreditTransfer, _json(await signed_body(request))))

    @app.post(
        "/v1/inbound/verifications", response_model=VerificationReport, tags=["inbound"], dependencies=signed,
        openapi_extra=_body(VerificationRequest, xml=True),
        responses={200: {"content": {XML_MEDIA_TYPE: XML_DOCUMENT}}, **problems.answers(400, 403, 504)},
    )  # fmt: skip
    async def inbound_verification(request: Request) -> Any:
        if xml_inbound.is_xml(request.headers.get("content-type")):
            body = await signed_body(request)
            return await xml_inbound.verification(api.runtime, api.node.bin, body)
        return await _asked(api, parse_message(VerificationRequest, _json(await signed_body(request))))

    @app.post(
        BATCH_PATH, tags=["inbound"], response_class=StreamingResponse, dependencies=signed,
        openapi_extra={"requestBody": {"required": True, "content": {NDJSON_MEDIA_TYPE: TEXT}}},
        responses={200: {"content": {NDJSON_MEDIA_TYPE: TEXT}}, **problems.answers(400)},
    )  # fmt: skip
    async def inbound_batch(request: Request) -> StreamingResponse:
        """Many messages in one call; each answer is a line of NDJSON, sent when it is ready (see
        gateway.batches). A message that breaks the format gets its problem on its line."""
        try:
            items = parse_batch(await signed_body(request))
        except BatchInvalid as error:
            raise problems.ApiProblem(
                400, "message-invalid", "The batch cannot be read", str(error), error.field, error.rule
            ) from None
        return StreamingResponse(_batch_answers(api, items), media_type=NDJSON_MEDIA_TYPE)

    @app.post(
        "/v1/inbound/status-reports", status_code=204, tags=["inbound"], dependencies=signed,
        openapi_extra=_body(StatusReport, xml=True), responses=problems.answers(400, 403),
    )  # fmt: skip
    async def status_callback(request: Request) -> Response:
        if xml_inbound.is_xml(request.headers.get("content-type")):
            body = await signed_body(request)
            return await xml_inbound.status_reports(api.runtime, api.node.bin, body)
        report = parse_message(StatusReport, _json(await signed_body(request)))
        await api.runtime.deliver(Envelope(SWITCH_ADDRESS, api.node.bin, report))
        return Response(status_code=204)


async def _asked(api: NodeApi, message: CreditTransfer | VerificationRequest) -> Any:
    """The switch's call answered in its response: the node's pacs.002 or acmt.024, or 504."""
    found = await api.runtime.ask(Envelope(SWITCH_ADDRESS, api.node.bin, message), _answer_to(message), ANSWER_WAIT_S)
    if found is None:
        raise problems.ApiProblem(504, "no-answer", "No answer", "the bank did not answer")
    return found.message


def _admin_routes(app: FastAPI, api: NodeApi) -> None:
    @app.get("/v1/admin/books", tags=["admin"], response_model=Books)
    def books(authorization: Annotated[str | None, Depends(ADMIN_KEY)]) -> dict[str, int | bool]:
        """The bank's books for an auditor (admin key): its settlement account mirrors its position."""
        problems.require_key(authorization, api.admin_key, "the admin key")
        return api.node.books()


def _customer_routes(app: FastAPI, api: NodeApi) -> None:
    """The customer channel of a simulated bank."""

    def require_customer_key(authorization: Annotated[str | None, Depends(CUSTOMER_KEY)]) -> None:
        problems.require_key(authorization, api.customer_key, "this bank's customer key")

    @app.post(
        "/v1/payments", status_code=202, tags=["customers"], dependencies=[Depends(require_customer_key)],
        response_model=PaymentAccepted, responses=problems.answers(503),
    )  # fmt: skip
    async def pay(order: PaymentOrder) -> dict[str, str]:
        await api.runtime.deliver(Envelope("customers", api.node.bin, order))
        return {"order_id": order.order_id, "status": "accepted for processing"}

    @app.get(
        "/v1/payments/{order_id}", tags=["customers"], dependencies=[Depends(require_customer_key)],
        response_model=PaymentState, responses=problems.answers(404),
    )  # fmt: skip
    def payment(order_id: Annotated[str, Path(min_length=1, max_length=ID_LENGTH_MAX)]) -> dict[str, Any]:
        found = api.node.payment(order_id)
        if found is None:
            raise problems.ApiProblem(404, "not-found", "No such payment", f"no payment {order_id}")
        return found


async def _batch_answers(api: NodeApi, items: list[Item]) -> AsyncIterator[bytes]:
    questions: list[tuple[Envelope, Matcher]] = []
    indices: list[int] = []
    for item in items:
        message = item.message
        if message is None:
            yield answer_line(item.index, 400, problem={"errors": [_problem(p) for p in item.problems]})
        elif isinstance(message, StatusReport):
            await api.runtime.deliver(Envelope(SWITCH_ADDRESS, api.node.bin, message))
            yield answer_line(item.index, 204)
        else:
            questions.append((Envelope(SWITCH_ADDRESS, api.node.bin, message), _answer_to(message)))
            indices.append(item.index)
    async for position, found in api.runtime.ask_many(questions, ANSWER_WAIT_S):
        if found is None or not isinstance(found.message, BaseModel):
            yield answer_line(indices[position], 504)
        else:
            yield answer_line(indices[position], 200, answer=found.message)


def _answer_to(message: Any) -> Matcher:
    if isinstance(message, CreditTransfer):
        return matcher_for(
            StatusReport, SWITCH_ADDRESS, original_transaction_id=message.transaction_id,
            debtor_agent=message.debtor_agent,
        )  # fmt: skip
    return matcher_for(VerificationReport, original_verification_id=message.verification_id)


TEXT = {"schema": {"type": "string"}}


def _body(model: type[BaseModel], xml: bool) -> dict[str, Any]:
    """The request body of a route that reads it itself (to check its signature first)."""
    content: dict[str, Any] = {"application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}
    if xml:
        content[XML_MEDIA_TYPE] = XML_DOCUMENT
    return {"requestBody": {"required": True, "content": content}}


def _problem(problem: FieldProblem) -> dict[str, str]:
    return {"field": problem.field, "rule": problem.rule, "reason": problem.reason.value}


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError as error:
        raise problems.ApiProblem(
            400, "malformed-json", "Malformed JSON", str(error), "(body)", "must be JSON"
        ) from None
