"""Errors as RFC 9457 problem details (application/problem+json), mapped in this one module.

    status  problem type            raised as
    400     message-invalid         switch.scheme.validation.MessageInvalid (FF01, CH20)
    401     unauthenticated         missing or unknown key
    403     forbidden               switch.errors.Forbidden (suspended: RR04), another's resource
    404     not-found               switch.errors.NotFound (RC04, BE23, NOOR)
    409     conflict                switch.errors.Conflict (DUPL, AM04)
    413     too-large               a body over the limit
    422     input-invalid           switch.errors.InputInvalid; FastAPI's request validation
    429     rate-limited            the alias look-up budget is spent
    503     busy                    a bounded queue is full, or no answer came in time; ask again

Every problem names the field and the rule in `errors`, so a client never guesses what to fix.
"""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from switch.errors import Conflict, Forbidden, InputInvalid, NotFound, SwitchError
from switch.scheme.codes import StatusReason
from switch.scheme.validation import MessageInvalid, problems_of

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://switchyard.dev/problems/"


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
        errors.append({"field": ".".join(location) or "(body)", "rule": item.get("msg", ""), "reason": reason.value})
    detail = "; ".join(f"{e['field']}: {e['rule']}" for e in errors)
    return problem(422, "input-invalid", "A field breaks a rule", detail, request.url.path, errors)


def _api_problem(request: Request, error: ApiProblem) -> JSONResponse:
    response = problem(error.status, error.slug, error.title, error.detail, request.url.path, error.errors)
    response.headers.update(error.headers)
    return response


def _http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
    slug = {404: "not-found", 405: "method-not-allowed", 413: "too-large"}.get(error.status_code, "http-error")
    errors = None
    if isinstance(error, BodyTooLarge):
        errors = [{"field": "(body)", "rule": f"at most {error.limit_bytes} bytes"}]
    return problem(error.status_code, slug, str(error.detail), str(error.detail), request.url.path, errors)


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


__all__ = ["ApiProblem", "BodyTooLarge", "install", "problem", "problems_of"]
