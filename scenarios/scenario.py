"""Scenario files: a network, a population, a timeline of events and the expected outcome, in TOML.

    [scenario]                      name, description, seed (the run's default), cycle (YYYY-MM)
    [population]                    size, provinces, registration_share, deceased_share,
                                    name_typo_share, closed_share, blocked_share, near_cap_share
    [population.programs]           merit_person, social_assistance, disability, elderly: the mix
    [network.participants.970405]   how one participant of the default network differs from it:
                                    latency_ms, timeout_rate, late_answer_ms, reject_rate,
                                    pilot_2021_cap (wallets: 10,000,000 VND a month),
                                    net_debit_cap_vnd, prefund_vnd (its position at the switch),
                                    wire (iso20022-xml or json: each message through that codec),
                                    transactions_per_message_max (1: single transfers only)
    [[timeline]]                    at_s (simulated seconds from the start), event, and its fields:
        submit_payroll              cycle, file_format (json, csv, pain.001)
        duplicate_submission        cycle, resend ("same-file": the same file again; "new-file": the
                                    same items under a new message id)
        outage                      participant, until_s (the node answers nothing in between)
        latency_spike               participant, latency_ms, until_s
        suspend                     participant, until_s (the switch refuses it RR04 in between)
        switch_restart              (the switch starts again from its database; timers re-armed)
        participant_restart         participant (a bank or wallet crashes and starts again on its database)
        registration_drive          share (of the population that newly registers an account)
        customer_payments           participant, count, amount_vnd (its customers pay people at
                                    other banks: traffic that draws on its position)
    [[expect]]                      metric (a dotted path into report.json's "outcome"), and min,
                                    max or equals

A file that is not TOML, or breaks a rule, is refused with ScenarioInvalid, naming the line, the
key and the rule. Parse (`load_scenario`), validate (pydantic, never mutates) and nothing else here:
`scenarios.runner` runs them.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from network.participants import DEFAULT_PARTICIPANTS
from network.payroll import PROVINCES
from payer.registry import PROVINCE_NAMES
from payer.rolls import PROGRAM_SHARES
from switch.scheme.codes import Program, WireFormat
from switch.scheme.messages import AMOUNT_VND_MAX, TRANSACTIONS_PER_MESSAGE_MAX

SCENARIO_BYTES_MAX = 256 * 1024
EVENTS_MAX = 200
EXPECTATIONS_MAX = 100
SCENARIO_POPULATION_MAX = 1_000_000
TIMELINE_S_MAX = 24 * 3600  # a simulated day
KNOWN_BINS = tuple(spec.bin for spec in DEFAULT_PARTICIPANTS)
PAYMENTS_PER_EVENT_MAX = 100_000

# strict: TOML's true is no share, no size and no second (lax pydantic would read it as 1)
Share = Annotated[float, Field(strict=True, ge=0.0, le=1.0)]
Seconds = Annotated[float, Field(strict=True, ge=0.0, le=TIMELINE_S_MAX)]
Cycle = Annotated[str, Field(pattern=r"^20[2-9][0-9]-(0[1-9]|1[0-2])$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScenarioMeta(Strict):
    name: Annotated[str, Field(min_length=1, max_length=140)]
    description: Annotated[str, Field(max_length=4_000)] = ""
    seed: Annotated[int, Field(strict=True, ge=0, le=2**63 - 1)] = 2026
    cycle: Cycle = "2026-12"


class PopulationSpec(Strict):
    size: Annotated[int, Field(strict=True, ge=1, le=SCENARIO_POPULATION_MAX)]
    provinces: tuple[str, ...] = PROVINCES
    registration_share: Share = 0.30
    deceased_share: Share = 0.004
    name_typo_share: Share = 0.003
    closed_share: Share = 0.01
    blocked_share: Share = 0.01
    near_cap_share: Share = 0.3
    # The rolls' mix under 80 (80 and over are on the elderly roll, or merit persons); the rest of
    # 1 is social assistance. Default: payer.rolls.PROGRAM_SHARES.
    programs: dict[Program, Share] = {program: share for program, share in PROGRAM_SHARES}

    @model_validator(mode="after")
    def _program_mix(self) -> PopulationSpec:
        if sum(self.programs.values()) > 1.0 + 1e-9:
            raise ValueError(f"programs: the shares add up to {sum(self.programs.values()):g}, more than 1")
        return self

    @model_validator(mode="after")
    def _known_provinces(self) -> PopulationSpec:
        unknown = sorted(set(self.provinces) - set(PROVINCE_NAMES))
        if unknown or not self.provinces:
            raise ValueError(f"provinces: {unknown or 'none'} are not province codes (3 digits, e.g. {PROVINCES})")
        return self


class ParticipantOverride(Strict):
    latency_ms: Annotated[int, Field(strict=True, ge=0, le=60_000)] | None = None
    timeout_rate: Share | None = None
    late_answer_ms: Annotated[int, Field(strict=True, ge=0, le=600_000)] | None = None
    reject_rate: Share | None = None
    pilot_2021_cap: bool | None = None
    net_debit_cap_vnd: Annotated[int, Field(strict=True, ge=0, le=AMOUNT_VND_MAX)] | None = None
    prefund_vnd: Annotated[int, Field(strict=True, ge=0, le=AMOUNT_VND_MAX)] | None = None
    wire: WireFormat | None = None  # "iso20022-xml" or "json": its registration, and its wire under serve
    # 1: it takes single transfers only; else pacs.008s and pacs.002s of up to this many transactions
    transactions_per_message_max: Annotated[int, Field(strict=True, ge=1, le=TRANSACTIONS_PER_MESSAGE_MAX)] | None = (
        None
    )


class NetworkSpec(Strict):
    participants: dict[str, ParticipantOverride] = {}

    @field_validator("participants", mode="before")
    @classmethod
    def _known_participants(cls, value: Any) -> Any:
        unknown = sorted(set(value) - set(KNOWN_BINS)) if isinstance(value, dict) else []
        if unknown:
            raise PydanticCustomError(
                "unknown_participant", "{unknown} are not BINs of the default network {known}",
                {"unknown": ", ".join(unknown), "known": ", ".join(KNOWN_BINS)},
            )  # fmt: skip
        return value


EventKind = Literal[
    "submit_payroll", "duplicate_submission", "outage", "latency_spike", "suspend", "switch_restart",
    "participant_restart", "registration_drive", "customer_payments",
]  # fmt: skip
NEEDS: dict[str, tuple[str, ...]] = {
    "submit_payroll": (),
    "duplicate_submission": (),
    "outage": ("participant", "until_s"),
    "latency_spike": ("participant", "latency_ms", "until_s"),
    "suspend": ("participant", "until_s"),
    "switch_restart": (),
    "participant_restart": ("participant",),
    "registration_drive": ("share",),
    "customer_payments": ("participant", "count", "amount_vnd"),
}


class Event(Strict):
    at_s: Seconds
    event: EventKind
    cycle: Cycle | None = None  # submit_payroll, duplicate_submission: the scenario's cycle when absent
    file_format: Literal["json", "csv", "pain.001"] = "json"
    resend: Literal["same-file", "new-file"] = "new-file"
    participant: str | None = None
    until_s: Seconds | None = None
    latency_ms: Annotated[int, Field(strict=True, ge=0, le=60_000)] | None = None
    share: Share | None = None
    count: Annotated[int, Field(strict=True, ge=1, le=PAYMENTS_PER_EVENT_MAX)] | None = None
    amount_vnd: Annotated[int, Field(strict=True, ge=1, le=AMOUNT_VND_MAX)] | None = None

    @model_validator(mode="after")
    def _fields_of_its_kind(self) -> Event:
        missing = [name for name in NEEDS[self.event] if getattr(self, name) is None]
        if missing:
            raise ValueError(f"{self.event} needs {', '.join(missing)}")
        if self.participant is not None and self.participant not in KNOWN_BINS:
            raise ValueError(f"participant: {self.participant} is not a BIN of the default network {KNOWN_BINS}")
        if self.until_s is not None and self.until_s <= self.at_s:
            raise ValueError(f"until_s: must be after at_s ({self.at_s})")
        return self


class Expectation(Strict):
    metric: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.\-]+$", max_length=200)]
    min: float | None = None
    max: float | None = None
    equals: float | None = None

    @model_validator(mode="after")
    def _a_bound(self) -> Expectation:
        if self.min is None and self.max is None and self.equals is None:
            raise ValueError("an expectation needs min, max or equals")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min:g}) is above max ({self.max:g}): no outcome could pass")
        return self


class Scenario(Strict):
    scenario: ScenarioMeta
    population: PopulationSpec
    network: NetworkSpec = NetworkSpec()
    timeline: Annotated[list[Event], Field(min_length=1, max_length=EVENTS_MAX)]
    expect: Annotated[list[Expectation], Field(max_length=EXPECTATIONS_MAX)] = []

    @model_validator(mode="after")
    def _a_payroll(self) -> Scenario:
        if not any(event.event == "submit_payroll" for event in self.timeline):
            raise ValueError("timeline: needs at least one submit_payroll event")
        return self


class ScenarioInvalid(ValueError):
    """A scenario file that cannot be run: where (line and key) and which rule."""

    def __init__(self, path: str, problems: list[tuple[int | None, str, str]]) -> None:
        self.path, self.problems = path, problems
        lines = [f"{path}:{line or '?'}: {key}: {rule}" for line, key, rule in problems]
        super().__init__("\n".join(lines))


def load_scenario(path: Path) -> Scenario:
    data = path.read_bytes()
    if len(data) > SCENARIO_BYTES_MAX:
        raise ScenarioInvalid(str(path), [(None, "(file)", f"at most {SCENARIO_BYTES_MAX} bytes")])
    return parse_scenario(data.decode("utf-8", errors="replace"), str(path))


def parse_scenario(text: str, name: str = "<scenario>") -> Scenario:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line = _line_of_decode_error(str(error))
        raise ScenarioInvalid(name, [(line, "(toml)", str(error))]) from None
    try:
        return Scenario.model_validate(document)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            location = list(item["loc"])
            if item["type"] == "unknown_participant":  # point at the first unknown BIN's own table
                location.append(str(item.get("ctx", {}).get("unknown", "")).split(", ")[0])
            key = ".".join(str(part) for part in location) or "(scenario)"
            problems.append((locate(text, location), key, item["msg"]))
        raise ScenarioInvalid(name, problems) from None


def _line_of_decode_error(message: str) -> int | None:
    found = re.search(r"line (\d+)", message)
    return int(found.group(1)) if found else None


def locate(text: str, location: list[Any]) -> int | None:
    """The line a key path points at: the key's own line inside its table ([a.b] or the n-th
    [[a]]), or the table's header when the key is not written (a missing field, a rule on the table)."""
    lines = text.splitlines()
    tables, index, key = _split(location)
    header = _header_line(lines, tables, index)
    if key is None or header is None:
        return header
    for number in range(header, len(lines)):  # the lines after the header, up to the next table
        stripped = lines[number].split("#", 1)[0].strip()
        if stripped.startswith("["):
            break
        if re.match(rf"^{re.escape(key)}\s*=", stripped):
            return number + 1
    return header


def _split(location: list[Any]) -> tuple[list[str], int | None, str | None]:
    """(tables, index in an array of tables, key) of a pydantic error location."""
    if not location:
        return [], None, None
    if location[0] == "network":
        return [str(p) for p in location[:3]], None, (str(location[3]) if len(location) > 3 else None)
    if len(location) > 1 and isinstance(location[1], int):
        return [str(location[0])], location[1], (str(location[2]) if len(location) > 2 else None)
    return [str(location[0])], None, (str(location[1]) if len(location) > 1 else None)


def _header_line(lines: list[str], tables: list[str], index: int | None) -> int | None:
    if not tables:
        return None
    dotted = ".".join(tables)
    seen = 0
    for number, line in enumerate(lines):
        stripped = line.split("#", 1)[0].strip().replace('"', "").replace(" ", "")
        if index is not None and stripped == f"[[{dotted}]]":
            if seen == index:
                return number + 1
            seen += 1
        elif index is None and stripped == f"[{dotted}]":
            return number + 1
    return None
