from __future__ import annotations

import enum
from dataclasses import dataclass

from switch.scheme.codes import AliasType


class AliasAction(enum.StrEnum):
    REGISTERED = "registered"
    CHANGED = "changed"
    REMOVED = "removed"


@dataclass(slots=True, frozen=True)
class AliasRecord:
    key: str
    type: AliasType
    value: str
    citizen_id: str
    agent: str
    account: str
    holder_name_masked: str
    registered_ms: int


@dataclass(slots=True, frozen=True)
class PendingRegistration:
    request_id: str
    alias_key: str
    alias_type: AliasType
    alias_value: str
    citizen_id: str
    name: str
    agent: str
    account: str
    requested_ms: int
