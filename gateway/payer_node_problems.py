"""The payer node's refusals as problem details (application/problem+json), mapped in this one place,
beside gateway.problems (which maps the switch's errors the same way):

    status  problem type     raised as
    403     forbidden        payer.requests.errors.Forbidden: a role that does not do this, or
                             maker–checker (whoever made a request never checks it)
    404     not-found        payer.requests.errors.NotFound: no such request, version, or part of
                             a payment order
    409     conflict         payer.requests.errors.Conflict: approved already, not filed, not
                             returned, decided meanwhile, not the current version, a review with findings,
                             not approved (no payment order before approval)
    422     input-invalid    payer.requests.errors.InputInvalid; payer.audit's ExpectedHeadInvalid

Each names the field and the rule in `errors`, as every problem of the project does.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from gateway import problems
from payer.audit.errors import ExpectedHeadInvalid
from payer.requests.errors import Conflict, Forbidden, InputInvalid, NotFound, RequestError

# (status, problem type, title) by kind of refusal; the first class that matches wins.
KINDS: tuple[tuple[type[RequestError], int, str, str], ...] = (
    (InputInvalid, 422, "input-invalid", "A field breaks a rule"),
    (NotFound, 404, "not-found", "Not found"),
    (Conflict, 409, "conflict", "Conflicts with the current state"),
    (Forbidden, 403, "forbidden", "Not allowed"),
)


def status_of(error: RequestError) -> tuple[int, str, str]:
    for kind, status, slug, title in KINDS:
        if isinstance(error, kind):
            return status, slug, title
    return 422, "input-invalid", "A field breaks a rule"  # a new kind of refusal is still the caller's to fix


def _request_error(request: Request, error: RequestError) -> JSONResponse:
    status, slug, title = status_of(error)
    errors = [{"field": error.field, "rule": error.rule}]
    return problems.problem(status, slug, title, str(error), request.url.path, errors)


def _expected_head_invalid(request: Request, error: ExpectedHeadInvalid) -> JSONResponse:
    errors = [{"field": "expected_head", "rule": error.rule}]
    return problems.problem(422, "input-invalid", "A field breaks a rule", str(error), request.url.path, errors)


def install(app: FastAPI) -> None:
    """The project's handlers (gateway.problems.install), and the payer's errors."""
    problems.install(app)
    app.add_exception_handler(RequestError, _request_error)  # type: ignore[arg-type]
    app.add_exception_handler(ExpectedHeadInvalid, _expected_head_invalid)  # type: ignore[arg-type]
