"""What every HTTP door checks before it reads a body: its size, counted as it arrives, and a key.

    BodyLimit   413 for a body over its path's limit: at once when Content-Length declares more,
                else as soon as the bytes that arrived pass it (a chunked body declares nothing), so
                no body is ever held whole past its limit, whoever sends it
    KeyFirst    401 for a request to a keyed door that carries no key anyone holds, before its body
                is read or parsed (a malformed body from nobody is nobody's 422)

Both are plain ASGI middleware, outermost on the switch and on every node, so they run before
FastAPI's routing, dependencies and body parsing.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway import problems
from gateway.observe import NodeMetrics, RequestObserver, SwitchMetrics

LimitFor = Callable[[Scope], int]  # bytes a request's body may have, by its path and headers


class BodyLimit:
    def __init__(self, app: ASGIApp, limit_for: LimitFor) -> None:
        self.app, self.limit_for = app, limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await too_large(limit, scope)(scope, receive, send)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise problems.BodyTooLarge(limit)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except problems.BodyTooLarge:
            if started:  # an answer is under way (a stream): nothing more can be said on it
                raise
            await too_large(limit, scope)(scope, receive, send)


def too_large(limit: int, scope: Scope) -> ASGIApp:
    rule = f"at most {limit} bytes"
    return problems.problem(
        413, "too-large", "Body too large", rule, scope.get("path", ""), [{"field": "(body)", "rule": rule}]
    )


Missing = Callable[[Scope], "tuple[str, str] | None"]  # what a request lacks: (header, rule), or None


class KeyFirst:
    """`missing(scope)` names what the request lacks to use its door, the header and its rule, or
    None when it carries a key (or the signature header) of someone allowed somewhere; paths in
    `open_paths` need nothing. Which role may use which door is still each route's to say: this only
    keeps strangers from making a door read anything."""

    def __init__(self, app: ASGIApp, missing: Missing, open_paths: frozenset[str]) -> None:
        self.app, self.missing, self.open_paths = app, missing, open_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        lacking = None if scope["type"] != "http" or scope.get("path") in self.open_paths else self.missing(scope)
        if lacking is None:
            await self.app(scope, receive, send)
            return
        field, rule = lacking
        detail = f"{field}: {rule}"
        errors = [{"field": field, "rule": rule}]
        response = problems.problem(401, "unauthenticated", "No credentials", detail, scope.get("path", ""), errors)
        await response(scope, receive, send)


BEARER_RULE = "must be 'Bearer <key>' with a key issued to you"
# Open without a key on the switch and every node: liveness, the published contract, the scrape.
OPEN_PATHS = frozenset({"/health", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", "/metrics"})


def install(app: FastAPI, missing: Missing, limit_for: LimitFor, metrics: SwitchMetrics | NodeMetrics | None) -> None:
    """The doors every app has, in their order, after its own middleware: the key, then the size,
    then (added last, so outermost) the request observer, which so sees every refusal, theirs too;
    and `/metrics`, open like the other OPEN_PATHS."""
    app.add_middleware(KeyFirst, missing=missing, open_paths=OPEN_PATHS)
    app.add_middleware(BodyLimit, limit_for=limit_for)
    if metrics is not None:
        app.add_middleware(RequestObserver, metrics=metrics)
        app.add_route("/metrics", metrics.endpoint, include_in_schema=False)


def header(scope: Scope, name: bytes) -> str | None:
    value = dict(scope.get("headers") or []).get(name)
    return None if value is None else value.decode("latin-1")


def bearer_is(scope: Scope, *expected: str | None) -> bool:
    """Whether the request's bearer key is one of `expected` (compared in constant time; None is
    nobody's key)."""
    authorization = header(scope, b"authorization") or ""
    if not authorization.startswith("Bearer "):
        return False
    given = authorization.removeprefix("Bearer ").strip().encode()
    return any(key is not None and hmac.compare_digest(given, key.encode()) for key in expected)
