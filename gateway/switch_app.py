"""The switch's HTTP application: admin API, participant read API, health.

Endpoints are thin: authenticate, parse, call the node, shape the answer. Sync endpoints run in
FastAPI's thread pool; the node does its own transactions.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

import aiohttp
from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway import limits, problems, xml_wire
from gateway.cache import TtlCache
from gateway.dispatch import HttpDispatcher, Peer, unobserved
from gateway.observe import AliasLookupOutcome, SwitchMetrics
from gateway.payer_api import DISBURSEMENTS_PATH, payer_router
from gateway.ratelimit import AliasLookupLimiter
from gateway.runtime import Matcher, NodeRuntime, matcher_for, wall_clock_ms
from gateway.schemas import (
    ALIAS_VALUE_LENGTH_MAX,
    BIN_PARAMETER_PATTERN,
    CITIZEN_ID_PARAMETER_PATTERN,
    ID_LENGTH_MAX,
    AliasChange,
    AliasOut,
    AliasRegistrationOut,
    ClearingCount,
    DisbursementFileIn,
    FundsIn,
    Health,
    LimitsIn,
    ParticipantIn,
    ParticipantOut,
    PositionOut,
    RegisteredParticipant,
    TransferPending,
    TransferStatusOut,
    WireIn,
)
from gateway.switch_xml import SwitchXmlWire, answer_transfers, read_body, takes_xml
from switch.clearing.service import EXPIRE_STALE_TIMER
from switch.errors import AliasNotFound, InputInvalid
from switch.node import SwitchNode
from switch.participants.schemas import Participant, Position
from switch.scheme.calendar import local_time
from switch.scheme.codes import AliasType, ParticipantStatus
from switch.scheme.disbursement import FILE_BYTES_MAX
from switch.scheme.identifiers import check_citizen_id
from switch.scheme.messages import (
    Alias,
    AliasRegistration,
    AliasRegistrationReport,
    AliasRemoval,
    CreditTransfer,
    CreditTransferMessage,
    StatusReport,
    StatusReportMessage,
    StatusRequest,
    VerificationReport,
    VerificationRequest,
)
from switch.scheme.transfer_message_json import parse_transfer_message
from switch.scheme.transport import CITIZEN_APP_ADDRESS, SWITCH_ADDRESS, Envelope, TimerFired
from switch.scheme.validation import parse_message
from switch.scheme.wire import WIRE_BYTES_MAX, XML_MEDIA_TYPE

BODY_BYTES_MAX = 64 * 1024
TRANSFERS_PATH = "/v1/transfers"
TRANSFER_MESSAGES_PATH = "/v1/transfer-messages"  # a pacs.008 of many transactions on the JSON wire
TRANSFER_WAIT_S = 6.0  # a little longer than the switch waits for a creditor (5 s)
REGISTRATION_WAIT_S = 12.0  # longer than the switch waits for a verification (10 s)
VERIFICATION_WAIT_S = 12.0
STATUS_WAIT_S = 5.0

# The keys, one security scheme each in the OpenAPI document (README's authorization table says
# which door takes which).
ADMIN_KEY = problems.Bearer("adminKey", "the switch's admin key (admin_key in credentials.json)")
PARTICIPANT_KEY = problems.Bearer("participantKey", "a participant's API key, issued when the admin registers it")
CITIZEN_APP_KEY = problems.Bearer("citizenAppKey", "the citizen app's key (citizen_app_key in credentials.json)")
BinCode = Annotated[str, Path(pattern=BIN_PARAMETER_PATTERN, description="a participant's 6-digit BIN")]
XML_DOCUMENT = {"schema": {"type": "string", "description": "an ISO 20022 document under a head.001 header"}}
AliasValue = Annotated[
    str, Path(min_length=1, max_length=ALIAS_VALUE_LENGTH_MAX, description="a 12-digit citizen id or a mobile number")
]


@dataclass(slots=True)
class SwitchApi:
    node: SwitchNode
    admin_key: str
    clock_ms: Callable[[], int] = wall_clock_ms
    limiter: AliasLookupLimiter = field(default_factory=AliasLookupLimiter)
    runtime: NodeRuntime | None = None  # None: read and admin endpoints only (no messages flow)
    metrics: SwitchMetrics | None = None
    citizen_app_key: str | None = None
    transfer_wait_s: float = TRANSFER_WAIT_S
    keys: TtlCache[str, str] = field(default_factory=TtlCache)  # API key -> BIN
    peers: TtlCache[str, Peer] = field(default_factory=TtlCache)  # BIN -> base URL and secret
    participants: TtlCache[str, Participant] = field(default_factory=TtlCache)

    def caller(self, authorization: str | None) -> str:
        """The BIN whose key this is, or 401."""
        found = self.keys.get(problems.bearer(authorization), self.node.authenticate)
        if found is None:
            raise problems.ApiProblem(401, "unauthenticated", "Unknown key", "no participant has this key")
        return found

    def participant(self, bin_code: str) -> Participant | None:
        return self.participants.get(bin_code, lambda b: self.node.all_participants().get(b))


EXPIRE_STALE_EVERY_S = 10.0


def expire_stale_tick() -> tuple[float, Envelope]:
    """The switch's sweep for transfers a lost timer left waiting (see ClearingService.expire_stale)."""
    return EXPIRE_STALE_EVERY_S, Envelope(SWITCH_ADDRESS, SWITCH_ADDRESS, TimerFired(EXPIRE_STALE_TIMER))


def networked_switch_api(node: SwitchNode, admin_key: str, citizen_app_key: str | None) -> SwitchApi:
    """The switch as `serve` and its workers run it: metrics, a runtime with the stale sweep; the
    HTTP client comes later (`connect`), when an event loop has one."""
    metrics = SwitchMetrics(readings=node)
    runtime = NodeRuntime(node, on_batch=metrics.on_batch, ticks=[expire_stale_tick()])
    return SwitchApi(node, admin_key, runtime=runtime, citizen_app_key=citizen_app_key, metrics=metrics)


def connect(api: SwitchApi, client: aiohttp.ClientSession) -> None:
    """Calls to participants go to their registered base URL, signed with their secret."""
    node = api.node

    def load(bin_code: str) -> Peer | None:
        participant = node.all_participants().get(bin_code)
        if participant is None or participant.base_url is None:
            return None
        secret = node.signing_secret(bin_code)
        return Peer(
            participant.base_url, signing_secret=secret, inbound_batches=participant.inbound_batches,
            wire=participant.wire,
        )  # fmt: skip

    def peers(bin_code: str) -> Peer | None:
        return api.peers.get(bin_code, load)

    runtime = _runtime(api)
    observe = api.metrics.on_participant_call if api.metrics is not None else unobserved
    runtime.dispatcher = HttpDispatcher(SWITCH_ADDRESS, peers, runtime.deliver, client, on_call=observe)


def _count_lookup(api: SwitchApi, outcome: AliasLookupOutcome) -> None:
    if api.metrics is not None:
        api.metrics.on_alias_lookup(outcome)


def create_switch_app(api: SwitchApi) -> FastAPI:
    app = FastAPI(
        title="Switchyard switch",
        version="1",
        description=(
            "A sandbox national payment switch modelled on NAPAS. JSON with ISO 20022 names, or, with "
            "Content-Type application/xml, ISO 20022 documents under a head.001 header (pacs.008, pacs.028 "
            "and acmt.023 to /v1/transfers, /v1/status-requests and /v1/verifications, answered in kind)."
        ),
    )
    problems.install(app)
    problems.publish(app, limits.OPEN_PATHS, bodies=[DisbursementFileIn])
    app.state.api = api
    app.add_middleware(TransferFastPath, api=api)
    app.add_middleware(SwitchXmlWire, api=api)
    limits.install(app, _holds_a_key(api), _body_limit, api.metrics)

    @app.get("/health", tags=["operations"], response_model=Health)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(_admin_router(api), prefix="/v1/admin", tags=["admin"])
    app.include_router(_participant_router(api), prefix="/v1", tags=["participant"])
    app.include_router(_citizen_router(api), prefix="/v1", tags=["citizen"])
    app.include_router(payer_router(api), prefix=DISBURSEMENTS_PATH, tags=["payer"])
    _document_inbound_api(app)
    return app


def _document_inbound_api(app: FastAPI) -> None:
    """The participant inbound API, as OpenAPI webhooks: what the switch calls at a participant's
    base URL, each call signed in X-Switchyard-Signature (t=<unix s>,id=<call id>,v1=<hex HMAC-SHA256
    of "<t>.<id>." and the body>; refuse one outside 300 s of now or with an id already seen)."""

    @app.webhooks.post("inbound-transfers", response_model=StatusReport)
    def inbound_transfers(transfer: CreditTransfer) -> None:
        """POST {base_url}/v1/inbound/transfers: credit the account and answer ACSP, or answer RJCT
        with a reason (AC01, AC04, AC06, BE01, AM02). An answer later than 5 s ends the transfer AB05."""

    @app.webhooks.post("inbound-verifications", response_model=VerificationReport)
    def inbound_verifications(request: VerificationRequest) -> None:
        """POST {base_url}/v1/inbound/verifications: MTCH, CMTC with the holder's masked name, or NMTC."""

    @app.webhooks.post("inbound-status-reports", status_code=204)
    def inbound_status_reports(report: StatusReport) -> None:
        """POST {base_url}/v1/inbound/status-reports: the final status; RJCT AB05 after an acceptance
        means void that credit. Retried with backoff: the same report twice changes nothing."""


def _body_limit(scope: Scope) -> int:
    """A payroll file may be large (its endpoint is counted against FILE_BYTES_MAX); an ISO 20022
    document or a JSON pacs.008 of many may carry a thousand transactions; anything else is small."""
    if scope.get("path") == DISBURSEMENTS_PATH:
        return FILE_BYTES_MAX
    if takes_xml(scope) or scope.get("path") == TRANSFER_MESSAGES_PATH:
        return WIRE_BYTES_MAX
    return BODY_BYTES_MAX


def _holds_a_key(api: SwitchApi) -> limits.Missing:
    """Nothing missing when a request carries the admin key, the citizen app's key or a participant's."""

    def missing(scope: Scope) -> tuple[str, str] | None:
        if limits.bearer_is(scope, api.admin_key, api.citizen_app_key):
            return None
        try:
            api.caller(limits.header(scope, b"authorization"))  # a participant's key, or 401
        except problems.ApiProblem:
            return "Authorization", limits.BEARER_RULE
        return None

    return missing


async def _answer(api: SwitchApi, envelope: Envelope, matches: Matcher, timeout_s: float) -> Any:
    """Deliver to the switch and return the message that answers it, or 503 when none comes in time."""
    answer = await _runtime(api).ask(envelope, matches, timeout_s)
    if answer is None:
        detail = f"no answer within {timeout_s:.0f} s; ask again (the same id is safe to repeat)"
        raise problems.ApiProblem(503, "busy", "No answer in time", detail)
    return answer.message


async def answer_transfer(api: SwitchApi, bin_code: str, transfer: CreditTransfer) -> tuple[int, bytes, dict[str, str]]:
    """The switch's answer to a participant's pacs.008: 200 with the final pacs.002, or 202 PDNG with
    where to ask when the creditor has not answered in time. One code path for the FastAPI route
    and the fast path (TransferFastPath)."""
    key = transfer.transaction_id
    final = matcher_for(StatusReport, bin_code, debtor_agent=bin_code, original_transaction_id=key)
    answer = await _runtime(api).ask(Envelope(bin_code, SWITCH_ADDRESS, transfer), final, api.transfer_wait_s)
    if answer is None or not isinstance(answer.message, StatusReport):
        pending = {"original_transaction_id": key, "debtor_agent": bin_code, "transaction_status": "PDNG"}
        return 202, json.dumps(pending).encode(), {"Location": f"/v1/transfers/{key}"}
    # Dumped once by pydantic: FastAPI would validate the report again and encode it field by field.
    return 200, answer.message.model_dump_json().encode(), {}


class TransferFastPath:
    """POST /v1/transfers, well-formed and from the debtor agent's own key, answered without
    FastAPI's routing, dependency and response machinery: this call is nearly all the traffic, and
    that machinery is a large share of what each call costs. Anything else -- no or an unknown key,
    a body that breaks a rule, another's debtor agent -- goes on to the FastAPI route with the body
    as read, which answers it (and its errors) as always."""

    def __init__(self, app: ASGIApp, api: SwitchApi) -> None:
        self.app, self.api = app, api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != TRANSFERS_PATH:
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)  # within its limit: BodyLimit counts it as it arrives
        transfer, bin_code = self._well_formed(scope, body)
        if transfer is None or bin_code is None or self.api.runtime is None:
            await self.app(scope, _replay(body), send)
            return
        scope["route"] = TRANSFERS_PATH  # for the latency metric's route label
        status, content, headers = await answer_transfer(self.api, bin_code, transfer)
        raw_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode())]
        raw_headers += [(name.lower().encode(), value.encode()) for name, value in headers.items()]
        await send({"type": "http.response.start", "status": status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": content})

    def _well_formed(self, scope: Scope, body: bytes) -> tuple[CreditTransfer | None, str | None]:
        authorization = dict(scope["headers"]).get(b"authorization")
        try:
            bin_code = self.api.caller(authorization.decode("latin-1") if authorization else None)
            transfer = CreditTransfer.model_validate_json(body)
        except (problems.ApiProblem, ValidationError):
            return None, None
        return (transfer, bin_code) if transfer.debtor_agent == bin_code else (None, None)


def _replay(body: bytes) -> Receive:
    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _runtime(api: SwitchApi) -> NodeRuntime:
    if api.runtime is None:
        raise problems.ApiProblem(503, "not-running", "Not running", "this switch takes no messages right now")
    return api.runtime


def _admin_router(api: SwitchApi) -> APIRouter:
    def require_admin(authorization: Annotated[str | None, Depends(ADMIN_KEY)]) -> None:
        problems.require_key(authorization, api.admin_key, "the admin key")

    router = APIRouter(dependencies=[Depends(require_admin)])
    _participant_admin_routes(router, api)
    _position_admin_routes(router, api)
    _clearing_admin_routes(router, api)
    return router


def _participant_admin_routes(router: APIRouter, api: SwitchApi) -> None:
    """Registering participants and changing their status or cap."""

    def forget_participants() -> None:
        """An admin change here is seen at once by this process (others see it within a second)."""
        api.keys.clear()
        api.peers.clear()
        api.participants.clear()

    @router.post(
        "/participants", status_code=201, response_model=RegisteredParticipant,
        dependencies=[Depends(forget_participants)], responses=problems.answers(409),
    )  # fmt: skip
    def register(body: ParticipantIn) -> RegisteredParticipant:
        now_ms = api.clock_ms()
        participant = api.node.register_participant(
            Participant(
                body.bin,
                body.name,
                body.kind,
                net_debit_cap_vnd=body.net_debit_cap_vnd,
                base_url=body.base_url,
                inbound_batches=body.inbound_batches,
                wire=body.wire,
                transactions_per_message_max=body.transactions_per_message_max,
            ),
            now_ms,
        )
        credentials = api.node.issue_credentials(participant.bin, now_ms)
        return RegisteredParticipant(
            **_participant_out(participant).model_dump(),
            api_key=credentials.api_key,
            signing_secret=credentials.signing_secret,
        )

    @router.get("/participants", response_model=list[ParticipantOut])
    def participants() -> list[ParticipantOut]:
        return [_participant_out(p) for p in api.node.all_participants().values()]

    @router.post(
        "/participants/{bin_code}/suspend", response_model=ParticipantOut, dependencies=[Depends(forget_participants)],
        responses=problems.answers(404),
    )  # fmt: skip
    def suspend(bin_code: BinCode) -> ParticipantOut:
        return _participant_out(api.node.set_status(bin_code, ParticipantStatus.SUSPENDED))

    @router.post(
        "/participants/{bin_code}/resume", response_model=ParticipantOut, dependencies=[Depends(forget_participants)],
        responses=problems.answers(404),
    )  # fmt: skip
    def resume(bin_code: BinCode) -> ParticipantOut:
        return _participant_out(api.node.set_status(bin_code, ParticipantStatus.ACTIVE))

    @router.put(
        "/participants/{bin_code}/wire", response_model=ParticipantOut, dependencies=[Depends(forget_participants)],
        responses=problems.answers(404),
    )  # fmt: skip
    def wire(bin_code: BinCode, body: WireIn) -> ParticipantOut:
        """Its messages from now on as ISO 20022 XML or as JSON (the next call uses it)."""
        return _participant_out(api.node.set_wire(bin_code, body.wire))

    @router.put(
        "/participants/{bin_code}/limits", response_model=ParticipantOut, dependencies=[Depends(forget_participants)],
        responses=problems.answers(404, 409),
    )  # fmt: skip
    def limits(bin_code: BinCode, body: LimitsIn) -> ParticipantOut:
        return _participant_out(api.node.set_cap(bin_code, body.net_debit_cap_vnd, api.clock_ms()))


def _position_admin_routes(router: APIRouter, api: SwitchApi) -> None:
    """Money in and out of a participant's position, and every position."""

    @router.post("/participants/{bin_code}/funds-in", response_model=PositionOut, responses=problems.answers(404))
    def funds_in(bin_code: BinCode, body: FundsIn) -> PositionOut:
        return _position_out(api.node.fund_in(bin_code, body.amount_vnd, api.clock_ms()))

    @router.post("/participants/{bin_code}/funds-out", response_model=PositionOut, responses=problems.answers(404, 409))
    def funds_out(bin_code: BinCode, body: FundsIn) -> PositionOut:
        return _position_out(api.node.fund_out(bin_code, body.amount_vnd, api.clock_ms()))

    @router.get("/positions", response_model=list[PositionOut])
    def positions() -> list[PositionOut]:
        return [_position_out(p) for p in api.node.positions().values()]


def _clearing_admin_routes(router: APIRouter, api: SwitchApi) -> None:
    @router.get("/clearing-summary", response_model=list[ClearingCount])
    def clearing_summary() -> list[dict[str, Any]]:
        """Transfers the switch cleared, by status, reason, debtor agent and creditor agent: what a
        load test counts against (from the database, so it is the same from every worker)."""
        return api.node.clearing_summary()


def _transfer_message_route(router: APIRouter, api: SwitchApi, caller: Callable[..., Any]) -> None:
    """POST /v1/transfer-messages: a pacs.008 of many on the JSON wire."""

    @router.post(
        TRANSFER_MESSAGES_PATH.removeprefix("/v1"),
        response_model=StatusReportMessage,
        responses={
            202: {
                "description": "some transactions not final yet (PDNG): their status follows by callback and GET",
                "model": StatusReportMessage,
            },
            **problems.answers(400, 503),
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": CreditTransferMessage.model_json_schema()}},
            }
        },
    )
    async def submit_transfer_message(request: Request, bin_code: str = Depends(caller)) -> Any:
        """pacs.008 of 1 to 1,000 transactions in; one pacs.002 out with a report per transaction,
        in the message's order: final where the creditor answered in time, PDNG (202) where not. A
        transaction that breaks a rule, or is not the caller's, is RJCT on its own."""
        message = parse_transfer_message(await request.body())  # MessageInvalid: 400, nothing taken
        answers = await answer_transfers(_runtime(api), bin_code, message, api.transfer_wait_s, json_wire=True)
        pending = any(not report.transaction_status.is_final for report in answers)
        content = xml_wire.reports_message(answers).model_dump_json().encode()
        return Response(content, status_code=202 if pending else 200, media_type="application/json")


def _participant_router(api: SwitchApi) -> APIRouter:
    async def caller(authorization: Annotated[str | None, Depends(PARTICIPANT_KEY)]) -> str:
        # async: a sync dependency costs a thread hop per request; this is a cached look-up.
        return api.caller(authorization)

    router = APIRouter()

    @router.post(
        "/transfers",
        response_model=StatusReport,
        responses={
            200: {"content": {XML_MEDIA_TYPE: XML_DOCUMENT}, "description": "the final pacs.002"},
            202: {
                "description": "not final yet: the status follows by callback and by GET (Location)",
                "model": TransferPending,
                "headers": {"Location": {"description": "where to ask", "schema": {"type": "string"}}},
                "content": {XML_MEDIA_TYPE: XML_DOCUMENT},
            },
            **problems.answers(400, 403, 503),
        },
        openapi_extra=_takes_xml_too(CreditTransfer),
    )
    async def submit_transfer(transfer: CreditTransfer, bin_code: str = Depends(caller)) -> Any:
        """pacs.008 in; the final pacs.002 out when the creditor answers in time, else 202."""
        if transfer.debtor_agent != bin_code:
            raise problems.ApiProblem(
                403, "forbidden", "Not your transfer", "debtor_agent must be the BIN of the key's participant",
                "debtor_agent", f"must be {bin_code}",
            )  # fmt: skip
        status, body, headers = await answer_transfer(api, bin_code, transfer)
        return Response(body, status_code=status, headers=headers, media_type="application/json")

    _transfer_message_route(router, api, caller)

    @router.post(
        "/verifications", response_model=VerificationReport, openapi_extra=_takes_xml_too(VerificationRequest),
        responses={
            200: {"content": {XML_MEDIA_TYPE: XML_DOCUMENT}, "description": "acmt.024"},
            **problems.answers(400, 403, 503),
        },
    )  # fmt: skip
    async def verify_account(request: VerificationRequest, bin_code: str = Depends(caller)) -> Any:
        """acmt.023 in, acmt.024 out: is this the account of the person I am about to pay?"""
        report = matcher_for(VerificationReport, bin_code, original_verification_id=request.verification_id)
        return await _answer(api, Envelope(bin_code, SWITCH_ADDRESS, request), report, VERIFICATION_WAIT_S)

    @router.post(
        "/status-requests", response_model=StatusReport, openapi_extra=_takes_xml_too(StatusRequest),
        responses={
            200: {"content": {XML_MEDIA_TYPE: XML_DOCUMENT}, "description": "pacs.002"},
            **problems.answers(400, 403, 503),
        },
    )  # fmt: skip
    async def status_request(request: StatusRequest, bin_code: str = Depends(caller)) -> Any:
        """pacs.028: the state of a transaction, for its debtor or creditor agent (NOOR for others)."""
        report = matcher_for(StatusReport, bin_code, original_transaction_id=request.original_transaction_id)
        return await _answer(api, Envelope(bin_code, SWITCH_ADDRESS, request), report, STATUS_WAIT_S)

    _participant_reads(router, api, caller)
    return router


def _participant_reads(router: APIRouter, api: SwitchApi, caller: Callable[..., Any]) -> None:
    """What a participant may read: its own transfers' statuses, and the directory (rate-limited)."""

    @router.get("/transfers/{transaction_id}", response_model=TransferStatusOut, responses=problems.answers(404))
    def transfer_status(
        transaction_id: Annotated[str, Path(min_length=1, max_length=ID_LENGTH_MAX)], bin_code: str = Depends(caller)
    ) -> TransferStatusOut:
        """A participant sees only the transfers it sent: anybody else's id is unknown (404 NOOR)."""
        record = api.node.transfer_status(bin_code, transaction_id)
        return TransferStatusOut(
            original_message_id=record.message_id,
            original_end_to_end_id=record.end_to_end_id,
            original_transaction_id=record.transaction_id,
            debtor_agent=record.debtor_agent,
            creditor_agent=record.creditor_agent,
            amount_vnd=record.amount_vnd,
            transaction_status=record.status,
            status_reason=record.reason,
        )

    @router.get("/aliases/{alias_type}/{value}", response_model=AliasOut, responses=problems.answers(400, 404, 429))
    def alias(alias_type: AliasType, value: AliasValue, bin_code: str = Depends(caller)) -> AliasOut:
        now_ms = api.clock_ms()
        if not api.limiter.allowed(bin_code, now_ms):
            _count_lookup(api, AliasLookupOutcome.THROTTLED)
            raise problems.ApiProblem(
                429, "rate-limited", "Too many look-ups", "the alias look-up budget is spent; a miss costs more",
                headers={"Retry-After": str(api.limiter.retry_after_s(bin_code, now_ms))},
            )  # fmt: skip
        parsed = parse_message(Alias, {"type": alias_type.value, "value": value})
        try:
            record = api.node.lookup_alias(parsed)
        except AliasNotFound:
            api.limiter.charge(bin_code, now_ms, hit=False)
            _count_lookup(api, AliasLookupOutcome.NOT_FOUND)
            raise
        api.limiter.charge(bin_code, now_ms, hit=True)
        _count_lookup(api, AliasLookupOutcome.FOUND)
        return AliasOut(agent=record.agent, holder_name_masked=record.holder_name_masked)


def _citizen_router(api: SwitchApi) -> APIRouter:
    def require_citizen_app(authorization: Annotated[str | None, Depends(CITIZEN_APP_KEY)]) -> None:
        problems.require_key(authorization, api.citizen_app_key, "the citizen app's key")

    router = APIRouter(dependencies=[Depends(require_citizen_app)])

    async def _register(request: AliasRegistration) -> Any:
        # The id's rules that need today's date (a province code that exists, a birth year not in the
        # future) are checked at the door, so the citizen app hears the field and the rule (422).
        problem = check_citizen_id(request.citizen_id, local_time(api.clock_ms()).year)
        if problem is not None:
            raise InputInvalid("citizen_id", problem)
        report = matcher_for(AliasRegistrationReport, original_request_id=request.request_id)
        return await _answer(api, Envelope(CITIZEN_APP_ADDRESS, SWITCH_ADDRESS, request), report, REGISTRATION_WAIT_S)

    @router.post("/aliases", response_model=AliasRegistrationReport, responses=problems.answers(503))
    async def register_alias(request: AliasRegistration) -> Any:
        """Make this account the one that receives welfare: verified with its bank (acmt.023) first."""
        return await _register(request)

    @router.put("/aliases", response_model=AliasRegistrationReport, responses=problems.answers(503))
    async def change_alias(request: AliasRegistration) -> Any:
        """The same as registering: the new account replaces the old one, which stays in the history."""
        return await _register(request)

    @router.get(
        "/aliases/{alias_type}/{value}/registration", response_model=AliasRegistrationOut,
        responses=problems.answers(400, 404),
    )  # fmt: skip
    def read_registration(
        alias_type: AliasType,
        value: AliasValue,
        citizen_id: Annotated[str, Query(pattern=CITIZEN_ID_PARAMETER_PATTERN, description="the registrant's")],
    ) -> AliasRegistrationOut:
        """The account a citizen registered, and its history: for its owner only (else 404, BE23)."""
        alias = parse_message(Alias, {"type": alias_type.value, "value": value})
        record = api.node.lookup_alias(alias)
        if not hmac.compare_digest(record.citizen_id.encode(), citizen_id.encode()):
            raise AliasNotFound("alias", f"{alias.type.value} {alias.value} is not registered to this citizen")
        history = [
            AliasChange(action=row["action"], agent=row["agent"], account=row["account"], at_ms=row["at_ms"])
            for row in api.node.alias_history(alias)
        ]
        return AliasRegistrationOut(
            alias=alias, agent=record.agent, account=record.account, registered_ms=record.registered_ms, history=history
        )

    @router.post("/aliases/removals", response_model=AliasRegistrationReport, responses=problems.answers(503))
    async def remove_alias(request: AliasRemoval) -> Any:
        report = matcher_for(AliasRegistrationReport, original_request_id=request.request_id)
        return await _answer(api, Envelope(CITIZEN_APP_ADDRESS, SWITCH_ADDRESS, request), report, STATUS_WAIT_S)

    return router


def _takes_xml_too(model: type[Any]) -> dict[str, Any]:
    """The request body of a route that takes JSON, or the same message as an ISO 20022 document
    (gateway.switch_xml answers that one before the route)."""
    json_schema = {"$ref": f"#/components/schemas/{model.__name__}"}
    content = {"application/json": {"schema": json_schema}, XML_MEDIA_TYPE: XML_DOCUMENT}
    return {"requestBody": {"required": True, "content": content}}


def _participant_out(p: Participant) -> ParticipantOut:
    return ParticipantOut(
        bin=p.bin, name=p.name, kind=p.kind, status=p.status, net_debit_cap_vnd=p.net_debit_cap_vnd,
        base_url=p.base_url, inbound_batches=p.inbound_batches, wire=p.wire,
        transactions_per_message_max=p.transactions_per_message_max,
    )  # fmt: skip


def _position_out(p: Position) -> PositionOut:
    return PositionOut(
        bin=p.bin,
        liquidity_vnd=p.liquidity_vnd,
        reserved_vnd=p.reserved_vnd,
        net_debit_cap_vnd=p.net_debit_cap_vnd,
        available_vnd=p.available_vnd,
    )
