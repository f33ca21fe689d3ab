"""`switchyard fuzz --seeds N [--from S]`: random scenarios under random faults, checked against
the invariants (the approach of TigerBeetle's VOPR: the seed is the whole test case).

Each seed makes one scenario: a small population, a network whose participants answer slowly,
late or with rejects, link faults (messages dropped, duplicated, delayed), and a timeline with an
outage, a latency spike, a suspension, crashes and restarts of a participant or of the switch, and
the payroll sent again, customers of a participant with little room at the switch paying out.
The run must end with every invariant holding (money conserved, every
transfer and item final, each bank's credits equal to what the switch paid), nobody paid twice,
and the payroll settled. A failing seed is printed with the command that replays it.
"""

from __future__ import annotations

import random
import shutil
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from network.inprocess import LinkFaults
from scenarios.runner import run_scenario
from scenarios.scenario import KNOWN_BINS, Scenario

SEEDS_MAX = 1_000_000
FUZZ_POPULATION_MIN, FUZZ_POPULATION_MAX = 150, 600
FUZZ_SECONDS_MAX = 2 * 3600  # a payroll of 600 people not settled in two simulated hours is stuck


@dataclass(frozen=True, slots=True)
class FuzzFailure:
    seed: int
    problem: str

    @property
    def replay(self) -> str:
        return f"switchyard fuzz --seeds 1 --from {self.seed} --keep"


def random_case(seed: int) -> tuple[Scenario, LinkFaults]:
    """The scenario and link faults of one seed: the same seed, the same case."""
    rng = random.Random(seed)
    participants: dict[str, dict[str, Any]] = {
        bin_code: {
            "latency_ms": rng.choice([5, 20, 40, 200]),
            "timeout_rate": rng.choice([0.0, 0.0, 0.02, 0.1]),
            "late_answer_ms": rng.choice([6_000, 8_000, 30_000]),
            "reject_rate": rng.choice([0.0, 0.0, 0.01, 0.05]),
        }
        for bin_code in rng.sample(KNOWN_BINS, rng.randint(0, 3))
    }
    for bin_code in rng.sample(KNOWN_BINS, rng.randint(0, 2)):  # a participant with little room at the switch
        participants.setdefault(bin_code, {}).update(prefund_vnd=rng.choice([0, 50_000_000]), net_debit_cap_vnd=0)
    # Events land while the payroll runs (it takes a few simulated seconds at this size), or before.
    timeline: list[dict[str, Any]] = [{"at_s": rng.randint(0, 4), "event": "submit_payroll"}]
    for _ in range(rng.randint(1, 4)):
        timeline.append(_random_event(rng))
    document = {
        "scenario": {"name": f"Fuzz seed {seed}", "seed": seed},
        "population": {
            "size": rng.randint(FUZZ_POPULATION_MIN, FUZZ_POPULATION_MAX),
            "registration_share": rng.choice([0.3, 0.6, 0.9]),
            "closed_share": rng.choice([0.0, 0.01, 0.05]),
            "blocked_share": rng.choice([0.0, 0.01, 0.05]),
        },
        "network": {"participants": participants},
        "timeline": timeline,
    }
    faults = LinkFaults(
        latency_ms_min=1,
        latency_ms_max=rng.choice([5, 50, 500]),
        duplicate_rate=rng.choice([0.0, 0.01, 0.05]),
        drop_rate=rng.choice([0.0, 0.0, 0.005, 0.02]),
        delay_rate=rng.choice([0.0, 0.01, 0.05]),
        delay_ms_max=rng.choice([1_000, 7_000, 20_000]),
    )
    return Scenario.model_validate(document), faults


def _random_event(rng: random.Random) -> dict[str, Any]:
    at_s = rng.randint(0, 6)
    who = rng.choice(KNOWN_BINS)
    kind = rng.choice(
        [
            "outage", "latency_spike", "suspend", "participant_restart", "switch_restart", "duplicate_submission",
            "customer_payments",
        ]
    )  # fmt: skip
    if kind in ("outage", "suspend"):
        return {"at_s": at_s, "event": kind, "participant": who, "until_s": at_s + rng.randint(1, 60)}
    if kind == "latency_spike":
        latency_ms = rng.choice([3_000, 6_000, 12_000])
        return {"at_s": at_s, "event": kind, "participant": who, "latency_ms": latency_ms, "until_s": at_s + 30}
    if kind == "participant_restart":
        return {"at_s": at_s, "event": kind, "participant": who}
    if kind == "customer_payments":
        count, amount_vnd = rng.randint(10, 200), rng.choice([100_000, 1_000_000, 5_000_000])
        return {"at_s": at_s, "event": kind, "participant": who, "count": count, "amount_vnd": amount_vnd}
    if kind == "duplicate_submission":
        return {"at_s": at_s, "event": kind, "resend": rng.choice(["same-file", "new-file"])}
    return {"at_s": at_s, "event": kind}


def fuzz(
    seeds: int, first: int, out: Path, keep: bool = False, progress: Callable[[int, int], None] | None = None
) -> list[FuzzFailure]:
    if not 0 < seeds <= SEEDS_MAX:
        raise ValueError(f"seeds: 1 to {SEEDS_MAX}, not {seeds}")
    failures = []
    for number, seed in enumerate(range(first, first + seeds), start=1):
        failure = run_case(seed, out / f"seed-{seed}")
        if failure is not None:
            failures.append(failure)
        elif not keep:
            shutil.rmtree(out / f"seed-{seed}", ignore_errors=True)
        if progress is not None:
            progress(number, len(failures))
    return failures


def run_case(seed: int, out: Path) -> FuzzFailure | None:
    scenario, faults = random_case(seed)
    try:
        result = run_scenario(scenario, out, seed, f"fuzz seed {seed}", faults=faults, seconds_max=FUZZ_SECONDS_MAX)
    except Exception:  # noqa: BLE001  # a crash is a finding like any other: the seed replays it
        return FuzzFailure(seed, traceback.format_exc(limit=6).strip().splitlines()[-1])
    problems = list(result.failures)
    outcome = result.report["outcome"]
    if outcome["paid_twice"]:
        problems.append(f"{outcome['paid_twice']} beneficiaries paid twice")
    if outcome["reconciliation"].get("in_process", {}).get("count", 0):
        problems.append(f"{outcome['reconciliation']['in_process']['count']} items never reached a final state")
    return FuzzFailure(seed, "; ".join(problems)) if problems else None
