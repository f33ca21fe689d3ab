"""Signatures on the switch's calls to participants: the body, a timestamp and a call id, signed
together, so a recorded call cannot be played again (the Standard Webhooks scheme, in Stripe's
header form).

    X-Switchyard-Signature: t=<unix seconds>,id=<call id>,v1=<hex HMAC-SHA256>
    v1 = HMAC-SHA256(signing secret, "<t>.<id>." + the exact body bytes)

A participant recomputes v1 over the bytes it received and compares in constant time; refuses a
call whose t is more than SIGNATURE_WINDOW_S away from its own clock; and refuses an id it has
already seen within that window (a replay). Each call, a retry included, has its own id: the
switch's retries are new calls, and the participant's idempotency makes a repeat change nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import OrderedDict

SIGNATURE_HEADER = "X-Switchyard-Signature"
SIGNATURE_WINDOW_S = 300  # how far a call's timestamp may be from the receiver's clock, either way
CALL_ID_LENGTH_MAX = 64
IDS_REMEMBERED_MAX = 200_000  # past this the oldest are forgotten first (they leave the window first)
SIGNATURE_RULE = "must be t=<unix seconds>,id=<call id>,v1=<hex HMAC-SHA256 of '<t>.<id>.' + body>"


def sign(secret: str, body: bytes, now_s: float | None = None, call_id: str | None = None) -> str:
    """The header value for one call of `body`: now, a fresh id, and their signature."""
    stamp = int(time.time() if now_s is None else now_s)
    call = call_id or secrets.token_hex(12)
    return f"t={stamp},id={call},v1={_mac(secret, stamp, call, body)}"


def _mac(secret: str, stamp: int, call_id: str, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{stamp}.{call_id}.".encode() + body, hashlib.sha256).hexdigest()


def _parts(header: str | None) -> tuple[int, str, str] | None:
    """(t, id, v1) of a header, or None when it is not of the documented form."""
    if not header:
        return None
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    stamp, call_id, mac = fields.get("t", ""), fields.get("id", ""), fields.get("v1", "")
    if not stamp.isdigit() or not 0 < len(call_id) <= CALL_ID_LENGTH_MAX or not mac:
        return None
    return int(stamp), call_id, mac


def problem(secret: str, body: bytes, header: str | None, now_s: float | None = None) -> str | None:
    """What is wrong with a call's signature (the rule it breaks), or None: form, window, match."""
    parts = _parts(header)
    return SIGNATURE_RULE if parts is None else _broken(secret, body, parts, now_s)


def _broken(secret: str, body: bytes, parts: tuple[int, str, str], now_s: float | None) -> str | None:
    stamp, call_id, mac = parts
    now = time.time() if now_s is None else now_s
    if abs(now - stamp) > SIGNATURE_WINDOW_S:
        return f"t must be within {SIGNATURE_WINDOW_S} s of now: this call was signed at {stamp}, now is {int(now)}"
    if not hmac.compare_digest(_mac(secret, stamp, call_id, body), mac):
        return "v1 does not match the body: sign '<t>.<id>.' + the exact body with the signing secret"
    return None


def verify(secret: str, body: bytes, header: str | None, now_s: float | None = None) -> bool:
    """Whether the signature is well formed, recent and matches (no memory of ids: see Verifier)."""
    return problem(secret, body, header, now_s) is None


class Verifier:
    """A participant's check of the switch's calls, with the ids it has seen in the window, so a
    call played again is refused even with its valid signature."""

    def __init__(self, ids_max: int = IDS_REMEMBERED_MAX) -> None:
        self.ids_max = ids_max
        self.seen: OrderedDict[str, int] = OrderedDict()  # call id -> its t, oldest first

    def check(self, secret: str, body: bytes, header: str | None, now_s: float | None = None) -> str | None:
        """None for a good, fresh call (and it is remembered), else the rule it breaks."""
        parts = _parts(header)
        if parts is None:
            return SIGNATURE_RULE
        broken = _broken(secret, body, parts, now_s)
        if broken is not None:
            return broken
        stamp, call_id, _mac_hex = parts
        self._forget_before((time.time() if now_s is None else now_s) - SIGNATURE_WINDOW_S)
        if call_id in self.seen:
            return f"id {call_id} was already used: a call is never played twice"
        self.seen[call_id] = stamp
        while len(self.seen) > self.ids_max:
            self.seen.popitem(last=False)
        return None

    def _forget_before(self, oldest_s: float) -> None:
        while self.seen:
            call_id, stamp = next(iter(self.seen.items()))
            if stamp >= oldest_s:
                return
            del self.seen[call_id]
