"""Errors as RFC 9457 problem details (application/problem+json), mapped in this one module.

    status  problem type            raised as
    400     message-invalid         switch.scheme.validation.MessageInvalid (FF01, CH20)
    401     unauthenticated         missing or unknown key
    403     forbidden               switch.errors.Forbidden (suspended: RR04), another's resource
    404     not-found               switch.errors.NotFound (RC04, BE23, NOOR)
    405     method-not-allowed      a known path, another method (with Allow: the methods it takes)
    409     conflict                switch.errors.Conflict (DUPL, AM04)
    413     too-large               a body over the limit
    422     input-invalid           switch.errors.InputInvalid; FastAPI's request validation
    429     rate-limited            the alias look-up budget is spent
    503     busy                    a bounded queue is full, or no answer came in time; ask again

Every problem names the field and the rule in `errors`, so a client never guesses what to fix.
The OpenAPI document says the same: `answers(...)` documents a route's problems with the one
`Problem` schema, and `publish` adds what every door answers (401 off the open paths, 413, 422).
"""

from __future__ import annotations

import functools
import hmac
import re
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBearer
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from switch.errors import Conflict, Forbidden, InputInvalid, NotFound, SwitchError
from switch.scheme.codes import StatusReason
from switch.scheme.validation import MessageInvalid, problems_of

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://switchyard.dev/problems/"


class FieldRule(BaseModel):
    """What to fix: the field (a JSON path, a header, an XML element, or "(body)") and its rule."""

    field: str
    rule: str
    reason: StatusReason | None = None  # the ISO 20022 reason, when the fault is the message's own


class Problem(BaseModel):
    """An error as RFC 9457 problem details (application/problem+json)."""

    type: str = Field(examples=[TYPE_BASE + "input-invalid"])
    title: str
    status: int = Field(ge=400, le=599)
    detail: str
    instance: str  # the path asked for
    errors: list[FieldRule]


PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
ANSWERED_WHEN: dict[int, str] = {
    400: "the message cannot be read as a whole (its format): nothing is taken",
    401: "no key, or not a key this door takes",
    403: "the key's holder may not do this",
    404: "no such resource (for this caller)",
    405: "the path takes other methods (Allow names them)",
    409: "conflicts with the current state",
    413: "the body is over this door's limit",
    422: "a field breaks a rule (named in errors)",
    429: "too many calls: come back after Retry-After seconds",
    503: "busy, or no answer in time: ask again (the same id is safe to repeat)",
    504: "the node did not answer in time",
}
_HEADERS: dict[int, dict[str, Any]] = {
    405: {"Allow": {"description": "the methods the path takes", "schema": {"type": "string"}}},
    429: {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer", "minimum": 0}}},
}


def answers(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The problems a route answers, for its `responses=`: each with the one Problem schema."""
    documented: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        documented[status] = {
            "description": ANSWERED_WHEN[status], "content": {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_REF}},
        }  # fmt: skip
        if status in _HEADERS:
            documented[status]["headers"] = _HEADERS[status]
    return documented


class Bearer(HTTPBearer):
    """A bearer key in the OpenAPI document (one security scheme per kind of key); the route gets
    the Authorization header as it came, for `bearer` and `require_key` to judge and name the rule."""

    def __init__(self, scheme_name: str, description: str) -> None:
        super().__init__(scheme_name=scheme_name, description=description, auto_error=False)

    async def __call__(self, request: Request) -> str | None:  # type: ignore[override]
        return request.headers.get("authorization")


class ApiProblem(Exception):
    """A problem raised by the HTTP layer itself (authentication, limits)."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str,
        field: str = "",
        rule: str = "",
        reason: StatusReason | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.slug, self.title, self.detail = status, slug, title, detail
        self.headers = headers or {}  # e.g. Retry-After on a 429
        self.errors = [{"field": field, "rule": rule}] if field else []
        if field and reason is not None:  # a fault of the message itself, as an ISO reason code
            self.errors[0]["reason"] = reason.value


class BodyTooLarge(StarletteHTTPException):
    """Raised from `receive` once a body passes its limit (gateway.limits.BodyLimit): FastAPI passes
    an HTTPException through its body reading untouched, and it is answered 413 like any other."""

    def __init__(self, limit_bytes: int) -> None:
        super().__init__(413, f"Body too large: at most {limit_bytes} bytes")
        self.limit_bytes = limit_bytes


def bearer(authorization: str | None) -> str:
    """The key in 'Authorization: Bearer <key>', or 401 naming the header and its form."""
    if not authorization or not authorization.startswith("Bearer "):
        raise ApiProblem(
            401, "unauthenticated", "No key", "send the key as 'Authorization: Bearer <key>'", "Authorization",
            "must be 'Bearer <key>'",
        )  # fmt: skip
    return authorization.removeprefix("Bearer ").strip()


def require_key(authorization: str | None, expected: str | None, which: str) -> None:
    """401 unless the bearer key is `expected` (compared in constant time); None opens nothing."""
    given = bearer(authorization)
    if expected is None or not hmac.compare_digest(given.encode(), expected.encode()):
        raise ApiProblem(401, "unauthenticated", "Unknown key", f"this is not {which}")


def problem(
    status: int, slug: str, title: str, detail: str, instance: str, errors: list[dict[str, Any]] | None = None
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        "errors": errors or [],
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE)


def _switch_error(request: Request, error: SwitchError) -> JSONResponse:
    status, slug, title = 422, "input-invalid", "A field breaks a rule"
    if isinstance(error, NotFound):
        status, slug, title = 404, "not-found", "Not found"
    elif isinstance(error, Conflict):
        status, slug, title = 409, "conflict", "Conflicts with the current state"
    elif isinstance(error, Forbidden):
        status, slug, title = 403, "forbidden", "Not allowed"
    elif not isinstance(error, InputInvalid):
        status, slug, title = 400, "bad-request", "Bad request"
    errors = [{"field": error.field, "rule": error.rule, "reason": error.reason.value}]
    return problem(status, slug, title, str(error), request.url.path, errors)


def _message_invalid(request: Request, error: MessageInvalid) -> JSONResponse:
    errors = [{"field": p.field, "rule": p.rule, "reason": p.reason.value} for p in error.problems]
    return problem(
        400, "message-invalid", "The message breaks the scheme's format", str(error), request.url.path, errors
    )


def _request_invalid(request: Request, error: RequestValidationError) -> JSONResponse:
    errors = []
    for item in error.errors():
        location = [str(part) for part in item.get("loc", ()) if part not in ("body", "query", "path", "header")]
        reason = StatusReason.CH20 if item.get("type") == "decimals_not_allowed" else StatusReason.FF01
        field, rule = ".".join(location) or "(body)", item.get("msg", "")
        if item.get("type") == "json_invalid":  # its location is the character where decoding stopped
            field, rule = "(body)", f"must be JSON: {rule} at character {location[0] if location else 0}"
        errors.append({"field": field, "rule": rule, "reason": reason.value})
    detail = "; ".join(f"{e['field']}: {e['rule']}" for e in errors)
    return problem(422, "input-invalid", "A field breaks a rule", detail, request.url.path, errors)


def _api_problem(request: Request, error: ApiProblem) -> JSONResponse:
    response = problem(error.status, error.slug, error.title, error.detail, request.url.path, error.errors)
    response.headers.update(error.headers)
    return response


def _http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
    slugs = {400: "message-invalid", 404: "not-found", 405: "method-not-allowed", 413: "too-large"}
    slug = slugs.get(error.status_code, "http-error")
    errors = None
    headers = dict(error.headers or {})
    if error.status_code == 400:  # FastAPI could not decode the body (not UTF-8, say)
        errors = [{"field": "(body)", "rule": f"must be JSON in UTF-8: {error.detail}"}]
    if isinstance(error, BodyTooLarge):
        errors = [{"field": "(body)", "rule": f"at most {error.limit_bytes} bytes"}]
    if error.status_code == 405:
        # Starlette names only the methods of the first route that matched the path; the path may
        # have others (POST and PUT /v1/aliases), and Allow must name them all (RFC 9110).
        allowed = allowed_methods(request, headers.get("Allow", ""))
        headers["Allow"] = ", ".join(allowed)
        errors = [{"field": "(method)", "rule": f"must be one of {', '.join(allowed)}"}]
    response = problem(error.status_code, slug, str(error.detail), str(error.detail), request.url.path, errors)
    response.headers.update(headers)
    return response


def allowed_methods(request: Request, first_route_allows: str) -> list[str]:
    """Every method the app takes at this request's path: those of the route Starlette tried, and
    those its published document gives any path template that matches."""
    methods = {method.strip() for method in first_route_allows.split(",") if method.strip()}
    for template, operations in request.app.openapi().get("paths", {}).items():
        if path_pattern(template).fullmatch(request.url.path):
            methods |= {method.upper() for method in operations if method in HTTP_METHODS}
    if "GET" in methods:
        methods.add("HEAD")  # Starlette answers HEAD wherever it answers GET
    return sorted(methods)


HTTP_METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options"})


@functools.lru_cache(maxsize=256)
def path_pattern(template: str) -> re.Pattern[str]:
    """/v1/transfers/{transaction_id} as a pattern: a parameter is one path segment."""
    return re.compile(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)))


def _overloaded(request: Request, error: OverflowError) -> JSONResponse:
    """A bounded queue is full: the caller should come back, nothing was taken."""
    return problem(503, "busy", "Too busy", str(error), request.url.path)


def install(app: FastAPI) -> None:
    app.add_exception_handler(SwitchError, _switch_error)  # type: ignore[arg-type]
    app.add_exception_handler(MessageInvalid, _message_invalid)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _request_invalid)  # type: ignore[arg-type]
    app.add_exception_handler(ApiProblem, _api_problem)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(OverflowError, _overloaded)  # type: ignore[arg-type]


def publish(app: FastAPI, open_paths: frozenset[str], bodies: Sequence[type[BaseModel]] = ()) -> None:
    """The app's OpenAPI document says what its doors answer before any route runs: 401 on every
    path not in `open_paths` (gateway.limits.KeyFirst), 413 everywhere (gateway.limits.BodyLimit),
    400 wherever a body is read (FastAPI's answer to one it cannot decode), and 422 as the Problem
    it is (FastAPI documents its own validation error, which we never send).
    `bodies` are the models of bodies a route reads itself (documented by `openapi_extra` with a
    `$ref` to them), which FastAPI does not see."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = with_problems(generate(), open_paths, (Problem, *bodies))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def with_problems(
    document: dict[str, Any], open_paths: frozenset[str], models: Sequence[type[BaseModel]]
) -> dict[str, Any]:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for model in models:
        model_schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(model_schema.pop("$defs", {}))
        schemas[model.__name__] = model_schema
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    everywhere = answers(400, 401, 413, 422)
    for path, operations in document.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            if "422" in responses:
                responses["422"] = everywhere[422]
            if "requestBody" in operation:  # a body that cannot be decoded at all (not UTF-8)
                responses.setdefault("400", everywhere[400])
            if path not in open_paths:
                responses.setdefault("401", everywhere[401])
            responses.setdefault("413", everywhere[413])
    return document


__all__ = ["ApiProblem", "BodyTooLarge", "Problem", "answers", "install", "problem", "problems_of", "publish"]
