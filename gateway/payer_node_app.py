"""The payer node's HTTP door: MOLISA files payment requests, the Treasury reviews, returns and
approves them, and an auditor verifies the audit trail. It calls the same PayerNode methods the
in-process network calls.

    POST /v1/payment-requests                         MOLISA files a list (its lines, or from_rolls): 201
    GET  /v1/payment-requests/{id}                    the request and its versions (any officer)
    GET  /v1/payment-requests/{id}/versions/{v}/lines a page of a version's lines (any officer)
    POST /v1/payment-requests/{id}/versions           MOLISA corrects a returned request, files it again: 201
    POST /v1/payment-requests/{id}/versions/{v}/line-changes
                                                      MOLISA changes a line of a filed version in place: 204
    POST /v1/payment-requests/{id}/reviews            a Treasury officer's review: its findings; changes nothing
    POST /v1/payment-requests/{id}/returns            a Treasury officer returns it with reasons
    POST /v1/payment-requests/{id}/approval           the Treasury's approver approves it
    GET  /v1/payment-requests/{id}/payment-order?part=N
                                                      part N of the approved request's payment order, a
                                                      pain.001 to the serving bank (a Treasury officer)
    GET  /v1/payment-requests/{id}/audit              its audit timeline (any officer, the admin)
    GET  /v1/audit/verification                       the audit chain verified (the admin)

A key per person: `officers` maps each key to its officer (id, name, role: MOLISA officer, Treasury
preparer, Treasury approver), so maker–checker compares the people behind the keys. The admin key
opens the audit; the post office's key is known here (its cash list comes to this node later) and
opens nothing yet. Every key is `Authorization: Bearer <key>`.

Who is refused where: a call without a known key is refused 401 before its body is read
(gateway.limits.KeyFirst). A key that is not an officer's (the admin's, the post office's) is refused
403 at the door of an officer's action. An officer's action goes to the node whatever the officer's
role: the node refuses a role that does not do it (403) and records the refusal in the audit trail,
as it records every refused action; so does this door for a body it cannot take (400 malformed JSON,
422 a field of the wrong type or out of bounds). A body over its limit (413) is refused before anyone
reads it, and recorded nowhere.
"""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

from fastapi import Depends, FastAPI, Path, Query, Request, Response
from fastapi.security import HTTPBearer
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.types import Scope

from gateway import limits, payer_node_problems, problems
from gateway.observe import NodeMetrics
from gateway.payer_node_schemas import (
    BODIES,
    LINE_KEY,
    REQUEST_ID,
    CorrectionIn,
    FilingIn,
    LineIn,
    LinesPage,
    PayerHealth,
    PaymentRequestOut,
    ReturnIn,
    ReviewOut,
    Timeline,
    Verification,
    VersionIn,
    entry_out,
    line_key,
    line_out,
    request_out,
    review_out,
    verification,
)
from payer.audit.core import parse_head
from payer.audit.schemas import TIMELINE_ROWS_MAX
from payer.node import LINES_PAGE_MAX, PAYER_NODE_NAME, PayerAction, PayerNode
from payer.requests.schemas import LINES_PER_LIST_MAX, REQUEST_ID_LENGTH_MAX, VERSIONS_PER_REQUEST_MAX, Officer, Role
from switch.scheme.codes import Program

M = TypeVar("M", bound=BaseModel)
BODY_BYTES_MAX = 64 * 1024
LIST_BODY_BYTES_MAX = 16 * 1024 * 1024  # a list filed as JSON: up to LINES_PER_FILING_MAX lines of about 110 bytes
REQUESTS_PATH = "/v1/payment-requests"
TIMELINE_PAGE_DEFAULT = 1_000
PARTS_TOTAL_HEADER = "X-Parts-Total"
XML_MEDIA_TYPE = "application/xml"
LINES_PAGE_DEFAULT = 100

MOLISA_KEY = problems.Bearer("molisaOfficerKey", "a MOLISA officer's key (officers in credentials.json)")
PREPARER_KEY = problems.Bearer("treasuryPreparerKey", "a Treasury preparer's key (officers in credentials.json)")
APPROVER_KEY = problems.Bearer("treasuryApproverKey", "a Treasury approver's key (officers in credentials.json)")
ADMIN_KEY = problems.Bearer("adminKey", "the sandbox's admin key (admin_key in credentials.json)")
SCHEMES: dict[Role, HTTPBearer] = {
    Role.MOLISA_OFFICER: MOLISA_KEY, Role.TREASURY_PREPARER: PREPARER_KEY, Role.TREASURY_APPROVER: APPROVER_KEY,
}  # fmt: skip

RequestId = Annotated[
    str, Path(pattern=REQUEST_ID, max_length=REQUEST_ID_LENGTH_MAX, examples=["MOLISA-2026-12-HN-0001"])
]
VersionNumber = Annotated[int, Path(ge=1, le=VERSIONS_PER_REQUEST_MAX)]


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(slots=True)
class PayerNodeApi:
    node: PayerNode
    officers: Mapping[str, Officer]  # key -> the person who holds it
    admin_key: str | None = None
    post_office_key: str | None = None
    clock_ms: Callable[[], int] = field(default=wall_clock_ms)

    def holder(self, key: str) -> Officer | str | None:
        """Whose key this is: an officer, "admin", "post office", or None (nobody's). Every key is
        compared, in constant time, so the answer's timing does not tell which came close."""
        found: Officer | str | None = None
        for known, officer in self.officers.items():
            if hmac.compare_digest(key.encode(), known.encode()):
                found = officer
        for known_key, name in ((self.admin_key, "admin"), (self.post_office_key, "post office")):
            if known_key is not None and hmac.compare_digest(key.encode(), known_key.encode()):
                found = name
        return found

    def credentials(self) -> dict[str, Any]:
        """What serve would write to credentials.json for this node."""
        return {
            "admin_key": self.admin_key,
            "post_office_key": self.post_office_key,
            "officers": {key: officer.model_dump(mode="json") for key, officer in self.officers.items()},
        }


def create_payer_node_app(api: PayerNodeApi) -> FastAPI:
    app = FastAPI(title="Switchyard payer node (MOLISA and the State Treasury)", version="1")
    app.state.payer_node_api = api  # for the doors' dependencies
    payer_node_problems.install(app)
    problems.publish(app, limits.OPEN_PATHS, bodies=BODIES)
    limits.install(app, _carries_a_key(api), _body_limit, NodeMetrics(_PayerReadings(api.node)))

    @app.get("/health", tags=["operations"], response_model=PayerHealth)
    def health() -> PayerHealth:
        return PayerHealth(status="ok", node=PAYER_NODE_NAME)

    _molisa_routes(app, api)
    _treasury_routes(app, api)
    _reading_routes(app, api)
    _payment_order_routes(app, api)
    _audit_routes(app, api)
    return app


def _body_limit(scope: Scope) -> int:
    """A list's filing and its correction carry the lines; every other body is small."""
    path = str(scope.get("path", ""))
    if scope.get("method") == "POST" and (path == REQUESTS_PATH or path.endswith("/versions")):
        return LIST_BODY_BYTES_MAX
    return BODY_BYTES_MAX


def _carries_a_key(api: PayerNodeApi) -> limits.Missing:
    def missing(scope: Scope) -> tuple[str, str] | None:
        keys = (*api.officers, api.admin_key, api.post_office_key)
        return None if limits.bearer_is(scope, *keys) else ("Authorization", limits.BEARER_RULE)

    return missing


# --- the doors: who holds the key ----------------------------------------------------------------


def _holder(api: PayerNodeApi, request: Request) -> Officer | str:
    holder = api.holder(problems.bearer(request.headers.get("authorization")))
    if holder is None:
        raise problems.ApiProblem(401, "unauthenticated", "Unknown key", "this is not a key this node issued")
    return holder


def _officer(request: Request) -> Officer:
    """An officer's action: any officer passes (the node refuses a role that does not do it, and
    records that); another key is refused here."""
    holder = _holder(request.app.state.payer_node_api, request)
    if isinstance(holder, Officer):
        return holder
    rule = "must be an officer's key (a MOLISA officer, a Treasury preparer or approver)"
    detail = f"the {holder}'s key does not act on payment requests"
    raise problems.ApiProblem(403, "forbidden", "Not allowed", detail, "Authorization", rule)


Caller = Annotated[Officer, Depends(_officer)]


def _reader_door(api: PayerNodeApi, admin: bool) -> Callable[[Request], Officer | str]:
    def reader(request: Request) -> Officer | str:
        holder = _holder(api, request)
        if isinstance(holder, Officer) or (admin and holder == "admin"):
            return holder
        rule = "must be an officer's key" + (" or the admin key" if admin else "")
        raise problems.ApiProblem(403, "forbidden", "Not allowed", f"the {holder}'s key does not read this",
                                  "Authorization", rule)  # fmt: skip

    return reader


def _schemes(*roles: Role) -> list[Any]:
    """The keys that may do it, as the OpenAPI document's security requirements (any one of them)."""
    return [Depends(SCHEMES[role]) for role in roles]


def _body(model: type[BaseModel]) -> dict[str, Any]:
    """The request body of a route that reads it itself (to record a refusal of it)."""
    schema = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


ACTION_ANSWERS = problems.answers(403, 404, 409, 422)


# --- reading a body, and recording a refusal of it -----------------------------------------------


async def _read(
    api: PayerNodeApi, request: Request, model: type[M], action: PayerAction, officer: Officer, request_id: str
) -> M:
    """The body as `model`; a body it cannot be is refused (400 not JSON, 422 a field breaks a rule)
    and the refusal recorded against `request_id` (for a filing, the id the body names, if any)."""
    raw = await request.body()
    try:
        return model.model_validate_json(raw)
    except ValidationError as error:
        errors = [_field_rule(item) for item in error.errors(include_url=False)]
        malformed = any(item["type"] == "json_invalid" for item in error.errors(include_url=False))
        request_id = request_id or _named_id(raw)
        version = _named_version(raw)
        first = errors[0]
        await run_in_threadpool(
            api.node.record_refusal, action, request_id, version, officer, first["field"], first["rule"], api.clock_ms()
        )
        status, slug, title = (400, "malformed-json", "Malformed JSON") if malformed else (
            422, "input-invalid", "A field breaks a rule",
        )  # fmt: skip
        refused = problems.ApiProblem(status, slug, title, "; ".join(f"{e['field']}: {e['rule']}" for e in errors))
        refused.errors = errors
        raise refused from None


def _field_rule(item: Any) -> dict[str, str]:
    """lines[3].amount_vnd, as payer.requests names a field."""
    if item["type"] == "json_invalid":
        return {"field": "(body)", "rule": f"must be JSON: {item['msg']}"}
    field_name = ""
    for part in item["loc"]:
        field_name += f"[{part}]" if isinstance(part, int) else (f".{part}" if field_name else str(part))
    return {"field": field_name or "(body)", "rule": item["msg"]}


def _parsed(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _named_id(raw: bytes) -> str:
    body = _parsed(raw)
    named = body.get("request_id") if isinstance(body, dict) else None
    return named if isinstance(named, str) else ""


def _named_version(raw: bytes) -> int | None:
    body = _parsed(raw)
    named = body.get("version") if isinstance(body, dict) else None
    return named if type(named) is int else None


async def _refuse(
    api: PayerNodeApi,
    action: PayerAction,
    request_id: str,
    version: int | None,
    officer: Officer,
    field: str,
    rule: str,
) -> None:
    await run_in_threadpool(api.node.record_refusal, action, request_id, version, officer, field, rule, api.clock_ms())
    raise problems.ApiProblem(422, "input-invalid", "A field breaks a rule", f"{field}: {rule}", field, rule)


async def _one_source(api: PayerNodeApi, body: FilingIn | CorrectionIn, action: PayerAction, request_id: str,
                      version: int | None, officer: Officer) -> None:  # fmt: skip
    if body.from_rolls == (body.lines is not None):
        rule = "give the lines, or from_rolls: true for the node to prepare them from its rolls (one, not both)"
        await _refuse(api, action, request_id, version, officer, "lines", rule)


# --- MOLISA --------------------------------------------------------------------------------------


def _molisa_routes(app: FastAPI, api: PayerNodeApi) -> None:

    @app.post(
        REQUESTS_PATH, tags=["MOLISA"], status_code=201, response_model=PaymentRequestOut,
        dependencies=_schemes(Role.MOLISA_OFFICER), openapi_extra=_body(FilingIn),
        responses={200: {"description": "the same request filed again: as it stands", "model": PaymentRequestOut},
                   **ACTION_ANSWERS},
    )  # fmt: skip
    async def file_request(request: Request, response: Response, officer: Caller) -> PaymentRequestOut:
        """File a payment request with the Treasury: the list's lines with the totals and digest the
        filer states, or `from_rolls` for the node to prepare it against the police registry."""
        body = await _read(api, request, FilingIn, PayerAction.FILE, officer, "")
        await _one_source(api, body, PayerAction.FILE, body.request_id, 1, officer)
        filing = await run_in_threadpool(
            api.node.file, body.request_id, body.cycle, officer, api.clock_ms(), body.given_lines(), body.totals,
            body.digest,
        )  # fmt: skip
        if not filing.new:
            response.status_code = 200
        response.headers["Location"] = f"{REQUESTS_PATH}/{body.request_id}"
        return request_out(filing.request)

    @app.post(
        REQUESTS_PATH + "/{request_id}/versions", tags=["MOLISA"], status_code=201, response_model=PaymentRequestOut,
        dependencies=_schemes(Role.MOLISA_OFFICER), openapi_extra=_body(CorrectionIn), responses=ACTION_ANSWERS,
    )  # fmt: skip
    async def correct_request(request_id: RequestId, request: Request, officer: Caller) -> PaymentRequestOut:
        """File a returned request again, corrected, as its next version."""
        body = await _read(api, request, CorrectionIn, PayerAction.CORRECT, officer, request_id)
        await _one_source(api, body, PayerAction.CORRECT, request_id, body.version, officer)
        corrected = await run_in_threadpool(
            api.node.correct, request_id, body.version, officer, api.clock_ms(), body.given_lines(), body.totals,
            body.digest,
        )  # fmt: skip
        return request_out(corrected)

    @app.post(
        REQUESTS_PATH + "/{request_id}/versions/{version}/line-changes", tags=["MOLISA"], status_code=204,
        dependencies=_schemes(Role.MOLISA_OFFICER), openapi_extra=_body(LineIn), responses=ACTION_ANSWERS,
    )  # fmt: skip
    async def change_line(request_id: RequestId, version: VersionNumber, request: Request, officer: Caller) -> Response:
        """Change (or add) one line of a filed version in place. The list is then not the one filed:
        the Treasury's review finds it by the digest and returns the request."""
        body = await _read(api, request, LineIn, PayerAction.CHANGE_LINE, officer, request_id)
        await run_in_threadpool(api.node.change_line, request_id, version, body.line(), officer, api.clock_ms())
        return Response(status_code=204)


# --- the Treasury --------------------------------------------------------------------------------


def _treasury_routes(app: FastAPI, api: PayerNodeApi) -> None:
    checkers = _schemes(Role.TREASURY_PREPARER, Role.TREASURY_APPROVER)

    @app.post(
        REQUESTS_PATH + "/{request_id}/reviews", tags=["Treasury"], response_model=ReviewOut, dependencies=checkers,
        openapi_extra=_body(VersionIn), responses=ACTION_ANSWERS,
    )  # fmt: skip
    async def review(request_id: RequestId, request: Request, officer: Caller) -> ReviewOut:
        """Check the filed version against the list held now and the budgets: every reason to
        return it, or none. It changes nothing."""
        body = await _read(api, request, VersionIn, PayerAction.REVIEW, officer, request_id)
        done = await run_in_threadpool(api.node.review, request_id, body.version, officer, api.clock_ms())
        return review_out(done)

    @app.post(
        REQUESTS_PATH + "/{request_id}/returns", tags=["Treasury"], response_model=PaymentRequestOut,
        dependencies=checkers, openapi_extra=_body(ReturnIn), responses=ACTION_ANSWERS,
    )  # fmt: skip
    async def return_request(request_id: RequestId, request: Request, officer: Caller) -> PaymentRequestOut:
        """Return the filed version with its reasons (a review's findings, or the officer's own)."""
        body = await _read(api, request, ReturnIn, PayerAction.RETURN, officer, request_id)
        returned = await run_in_threadpool(
            api.node.return_request, request_id, body.version, body.findings, officer, api.clock_ms()
        )
        return request_out(returned)

    @app.post(
        REQUESTS_PATH + "/{request_id}/approval", tags=["Treasury"], response_model=PaymentRequestOut,
        dependencies=_schemes(Role.TREASURY_APPROVER), openapi_extra=_body(VersionIn), responses=ACTION_ANSWERS,
    )  # fmt: skip
    async def approve(request_id: RequestId, request: Request, officer: Caller) -> PaymentRequestOut:
        """Approve the filed version: a Treasury approver who made no version of it (403 names the
        maker–checker rule), and only if the review finds nothing (409 otherwise: return it)."""
        body = await _read(api, request, VersionIn, PayerAction.APPROVE, officer, request_id)
        approved = await run_in_threadpool(api.node.approve, request_id, body.version, officer, api.clock_ms())
        return request_out(approved)


# --- reading -------------------------------------------------------------------------------------


def _reading_routes(app: FastAPI, api: PayerNodeApi) -> None:
    officers = [Depends(_reader_door(api, admin=False)), *_schemes(*Role)]

    @app.get(
        REQUESTS_PATH + "/{request_id}", tags=["reading"], response_model=PaymentRequestOut, dependencies=officers,
        responses=problems.answers(403, 404, 422),
    )  # fmt: skip
    def payment_request(request_id: RequestId) -> PaymentRequestOut:
        return request_out(api.node.request(request_id))

    @app.get(
        REQUESTS_PATH + "/{request_id}/versions/{version}/lines", tags=["reading"], response_model=LinesPage,
        dependencies=officers, responses=problems.answers(403, 404, 422),
    )  # fmt: skip
    def lines(
        request_id: RequestId,
        version: VersionNumber,
        after: Annotated[
            str | None, Query(pattern=LINE_KEY, description="citizen_id:program of the last line seen")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=LINES_PAGE_MAX)] = LINES_PAGE_DEFAULT,
    ) -> LinesPage:
        """A version's lines as held now, in order of citizen id and program, a page at a time."""
        start = None if after is None else (after[:12], Program(after[13:]))
        page = api.node.lines_page(request_id, version, start, limit)
        next_after = line_key(page[-1]) if len(page) == limit else None
        return LinesPage(
            request_id=request_id, version=version, lines=[line_out(x) for x in page], next_after=next_after
        )


def _treasury_door(api: PayerNodeApi) -> Callable[[Request], Officer]:
    """A Treasury officer's read: the preparer's or the approver's key; any other is refused (403)."""

    def treasury(request: Request) -> Officer:
        holder = _holder(api, request)
        if isinstance(holder, Officer) and holder.role in (Role.TREASURY_PREPARER, Role.TREASURY_APPROVER):
            return holder
        whose = holder.role.value if isinstance(holder, Officer) else holder
        raise problems.ApiProblem(403, "forbidden", "Not allowed", f"the {whose}'s key does not read this",
                                  "Authorization", "must be a Treasury preparer's or approver's key")  # fmt: skip

    return treasury


PAYMENT_ORDER_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the part, a pain.001.001.09 whose DbtrAgt is the serving bank",
        "content": {XML_MEDIA_TYPE: {"schema": {"type": "string", "description": "pain.001.001.09"}}},
        "headers": {
            PARTS_TOTAL_HEADER: {
                "description": "how many parts (pain.001 documents) the payment order has",
                "schema": {"type": "integer", "minimum": 1},
            }
        },
    },
    **problems.answers(403, 404, 409, 422),
}


def _payment_order_routes(app: FastAPI, api: PayerNodeApi) -> None:
    treasury = [Depends(_treasury_door(api)), *_schemes(Role.TREASURY_PREPARER, Role.TREASURY_APPROVER)]

    @app.get(
        REQUESTS_PATH + "/{request_id}/payment-order", tags=["Treasury"], response_class=Response,
        dependencies=treasury, responses=PAYMENT_ORDER_ANSWERS,
    )  # fmt: skip
    def payment_order(
        request_id: RequestId,
        part: Annotated[int, Query(ge=1, le=LINES_PER_LIST_MAX, description="which document, from 1")] = 1,
    ) -> Response:
        """The approved request's payment order to the Treasury's serving bank: part `part` as a
        pain.001 (DbtrAgt the bank's BIN, the debtor account the Treasury's there), the same bytes at
        every call, and the number of parts in X-Parts-Total. Before approval 409 (naming `state`), a
        part the order does not have 404 (naming `part`). Reading it sends nothing to the bank."""
        document, total = api.node.payment_order(request_id, part)
        return Response(document, media_type=XML_MEDIA_TYPE, headers={PARTS_TOTAL_HEADER: str(total)})


def _audit_routes(app: FastAPI, api: PayerNodeApi) -> None:
    @app.get(
        REQUESTS_PATH + "/{request_id}/audit", tags=["audit"], response_model=Timeline,
        dependencies=[Depends(_reader_door(api, admin=True)), *_schemes(*Role), Depends(ADMIN_KEY)],
        responses=problems.answers(403, 422),
    )  # fmt: skip
    def timeline(
        request_id: RequestId,
        after_sequence: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
        limit: Annotated[int, Query(ge=1, le=TIMELINE_ROWS_MAX)] = TIMELINE_PAGE_DEFAULT,
    ) -> Timeline:
        """The request's steps in order, who took each and when, refusals among them."""
        entries = api.node.timeline(request_id, after_sequence, limit)
        return Timeline(request_id=request_id, entries=[entry_out(entry) for entry in entries])

    def require_admin(authorization: Annotated[str | None, Depends(ADMIN_KEY)], request: Request) -> None:
        if _holder(api, request) != "admin":
            raise problems.ApiProblem(403, "forbidden", "Not allowed", "the audit chain is verified with the admin key",
                                      "Authorization", "must be the admin key")  # fmt: skip

    @app.get(
        "/v1/audit/verification", tags=["audit"], response_model=Verification,
        dependencies=[Depends(require_admin)], responses=problems.answers(403, 422),
    )  # fmt: skip
    def verify(
        expected_head: Annotated[
            str | None, Query(max_length=90, description="SEQ:HASH of a head pinned earlier: a cut tail shows")
        ] = None,
    ) -> Verification:
        """The whole audit chain checked from its first entry: ok, or the first broken link."""
        report = api.node.verify_audit(None if expected_head is None else parse_head(expected_head))
        return verification(report)


# --- metrics -------------------------------------------------------------------------------------


class _PayerReadings(Collector):
    def __init__(self, node: PayerNode) -> None:
        self.node = node

    def collect(self) -> Iterator[GaugeMetricFamily]:
        versions = GaugeMetricFamily(
            "switchyard_payer_request_versions", "Payment request versions by state", labels=["state"]
        )
        for state, count in self.node.versions_by_state().items():
            versions.add_metric([state.value], count)
        yield versions
        head = self.node.audit_head()
        yield GaugeMetricFamily(
            "switchyard_payer_audit_entries", "Entries in the audit trail", value=head.sequence if head else 0
        )
