"""`switchyard fuzz`: random scenarios under random faults hold every invariant; a failing seed
is reported with the command that replays it."""

from __future__ import annotations

from pathlib import Path

import pytest

import scenarios.fuzz
from scenarios.fuzz import FuzzFailure, fuzz, random_case

SUITE_SEEDS = 50


def test_fifty_random_scenarios_under_faults_hold_every_invariant(tmp_path: Path) -> None:
    failures = fuzz(SUITE_SEEDS, 0, tmp_path)
    assert failures == [], "\n".join(f"{f.seed}: {f.problem} (replay: {f.replay})" for f in failures)
    assert list(tmp_path.iterdir()) == []  # a passing seed leaves nothing behind


def test_a_seed_is_the_whole_case_the_same_seed_makes_the_same_scenario_and_faults() -> None:
    assert random_case(17) == random_case(17)
    assert random_case(17) != random_case(18)


def test_the_cases_cover_every_kind_of_fault_and_event() -> None:
    kinds: set[str] = set()
    dropped = duplicated = delayed = 0
    for seed in range(200):
        scenario, faults = random_case(seed)
        kinds.update(event.event for event in scenario.timeline)
        dropped += faults.drop_rate > 0
        duplicated += faults.duplicate_rate > 0
        delayed += faults.delay_rate > 0
    assert kinds == {
        "submit_payroll", "outage", "latency_spike", "suspend", "participant_restart", "switch_restart",
        "duplicate_submission", "customer_payments",
    }  # fmt: skip
    assert dropped and duplicated and delayed


def test_a_failing_seed_is_reported_with_the_command_that_replays_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> object:
        raise AssertionError("the scenario did not settle in 7200 simulated seconds")

    monkeypatch.setattr(scenarios.fuzz, "run_scenario", broken)
    failures = fuzz(2, 40, tmp_path)
    assert failures == [
        FuzzFailure(40, "AssertionError: the scenario did not settle in 7200 simulated seconds"),
        FuzzFailure(41, "AssertionError: the scenario did not settle in 7200 simulated seconds"),
    ]
    assert failures[0].replay == "switchyard fuzz --seeds 1 --from 40 --keep"
