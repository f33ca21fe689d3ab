"""HMAC-SHA256 signatures on the switch's calls to participants.

The switch signs the exact body it sends with the participant's signing secret and puts the hex
digest in `X-Switchyard-Signature: sha256=<hex>`; the participant recomputes it over the bytes it
received and compares in constant time.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Switchyard-Signature"
PREFIX = "sha256="


def sign(secret: str, body: bytes) -> str:
    return PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str | None) -> bool:
    if not signature or not signature.startswith(PREFIX):
        return False
    return hmac.compare_digest(sign(secret, body), signature)
