"""The population registry as the switch sees it (the Ministry of Public Security's C06 data): a port.

The payer's registry implements it; the composition root hands it to the switch, which asks it, in
bulk, who a payroll's citizen ids belong to before paying anyone.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Protocol


@dataclass(slots=True, frozen=True)
class IdentityRecord:
    citizen_id: str
    name: str  # as the registry holds it, with diacritics
    alive: bool


class IdentityRegistry(Protocol):
    def lookup(self, citizen_ids: Collection[str]) -> Mapping[str, IdentityRecord]:
        """The records of the ids the registry knows; an unknown id is simply absent."""
        ...
