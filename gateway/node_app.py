"""The participant inbound API, served by every simulated bank and wallet (and by any system that
wants to be a participant): what the switch calls. Plus the customer channel of a simulated bank.

    POST /v1/inbound/transfers        pacs.008 in, the creditor's pacs.002 out (ACSP or RJCT+reason)
    POST /v1/inbound/verifications    acmt.023 in, acmt.024 out
    POST /v1/inbound/status-reports   the switch's final pacs.002 (the status callback); 204
    POST /v1/payments                 a customer's payment order (simulated banks only); 202
    GET  /v1/payments/{order_id}      its state at the bank

Every /v1/inbound call must carry the switch's signature (HMAC-SHA256 of the body); a call without
a valid one is refused with 401 and changes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import FastAPI, Header, Request
from fastapi.responses import Response

from banks.node import ParticipantNode
from banks.schemas import PaymentOrder
from gateway import problems
from gateway.runtime import NodeRuntime, matcher_for
from gateway.signing import SIGNATURE_HEADER, verify
from switch.scheme.messages import CreditTransfer, StatusReport, VerificationReport, VerificationRequest
from switch.scheme.transport import SWITCH_ADDRESS, Envelope
from switch.scheme.validation import parse_message

BODY_BYTES_MAX = 64 * 1024
ANSWER_WAIT_S = 120.0  # the node's own (simulated) latency decides when it answers


@dataclass(slots=True)
class NodeApi:
    node: ParticipantNode
    runtime: NodeRuntime
    signing_secret: str
    admin_key: str | None = None


def create_node_app(api: NodeApi) -> FastAPI:
    app = FastAPI(title=f"Switchyard participant {api.node.bin} ({api.node.name})", version="1")
    problems.install(app)

    async def signed_body(request: Request) -> Any:
        body = await request.body()
        if len(body) > BODY_BYTES_MAX:
            raise problems.ApiProblem(413, "too-large", "Body too large", f"at most {BODY_BYTES_MAX} bytes")
        if not verify(api.signing_secret, body, request.headers.get(SIGNATURE_HEADER)):
            raise problems.ApiProblem(
                401, "bad-signature", "Signature does not match", "sign the body with HMAC-SHA256",
                SIGNATURE_HEADER, "must be sha256=<hex HMAC-SHA256 of the body with the signing secret>",
            )  # fmt: skip
        return body

    @app.get("/health", tags=["operations"])
    def health() -> dict[str, str]:
        return {"status": "ok", "bin": api.node.bin}

    @app.post("/v1/inbound/transfers", response_model=StatusReport, tags=["inbound"])
    async def inbound_transfer(request: Request) -> Any:
        transfer = parse_message(CreditTransfer, _json(await signed_body(request)))

        answer = matcher_for(
            StatusReport,
            SWITCH_ADDRESS,
            original_transaction_id=transfer.transaction_id,
            debtor_agent=transfer.debtor_agent,
        )
        found = await api.runtime.ask(Envelope(SWITCH_ADDRESS, api.node.bin, transfer), answer, ANSWER_WAIT_S)
        if found is None:
            raise problems.ApiProblem(504, "no-answer", "No answer", "the bank did not answer")
        return found.message

    @app.post("/v1/inbound/verifications", response_model=VerificationReport, tags=["inbound"])
    async def inbound_verification(request: Request) -> Any:
        verification = parse_message(VerificationRequest, _json(await signed_body(request)))

        answer = matcher_for(VerificationReport, original_verification_id=verification.verification_id)
        found = await api.runtime.ask(Envelope(SWITCH_ADDRESS, api.node.bin, verification), answer, ANSWER_WAIT_S)
        if found is None:
            raise problems.ApiProblem(504, "no-answer", "No answer", "the bank did not answer")
        return found.message

    @app.post("/v1/inbound/status-reports", status_code=204, tags=["inbound"])
    async def status_callback(request: Request) -> Response:
        report = parse_message(StatusReport, _json(await signed_body(request)))
        await api.runtime.deliver(Envelope(SWITCH_ADDRESS, api.node.bin, report))
        return Response(status_code=204)

    @app.get("/v1/admin/books", tags=["admin"])
    def books(authorization: Annotated[str | None, Header()] = None) -> dict[str, int | bool]:
        """The bank's books for an auditor (admin key): its settlement account mirrors its position."""
        problems.require_key(authorization, api.admin_key, "the admin key")
        return api.node.books()

    @app.post("/v1/payments", status_code=202, tags=["customers"])
    async def pay(order: PaymentOrder) -> dict[str, str]:
        await api.runtime.deliver(Envelope("customers", api.node.bin, order))
        return {"order_id": order.order_id, "status": "accepted for processing"}

    @app.get("/v1/payments/{order_id}", tags=["customers"])
    def payment(order_id: str) -> dict[str, Any]:
        found = api.node.payment(order_id[:35])
        if found is None:
            raise problems.ApiProblem(404, "not-found", "No such payment", f"no payment {order_id[:35]}")
        return found

    return app


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError as error:
        raise problems.ApiProblem(
            400, "malformed-json", "Malformed JSON", str(error), "(body)", "must be JSON"
        ) from None
