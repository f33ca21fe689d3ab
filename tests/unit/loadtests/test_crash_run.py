"""`switchyard bench payroll-crash` (loadtests.crash_run): where the kills fall, and how the
outcomes are counted and named."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadtests.crash_run import CrashRunSummary, Kill, Phase, PointOutcome, Reached, plan_kill_points, summary_lines

PREPARED_S = 1.5  # an uninterrupted run of 8,000 beneficiaries on a laptop: prepared.json at 1.5 s
WALL_S = 2.9


def test_the_same_kill_seed_plans_the_same_moments_and_another_seed_others() -> None:
    plan = plan_kill_points(100, 2026, PREPARED_S, WALL_S)
    assert plan == plan_kill_points(100, 2026, PREPARED_S, WALL_S)
    assert plan != plan_kill_points(100, 2027, PREPARED_S, WALL_S)


@pytest.mark.parametrize(
    ("points", "paying_share", "paying"), [(100, 0.7, 70), (7, 0.7, 5), (10, 1.0, 10), (3, 0.0, 0)]
)
def test_the_share_asked_for_is_killed_inside_the_paying_phase(points: int, paying_share: float, paying: int) -> None:
    plan = plan_kill_points(points, 2026, PREPARED_S, WALL_S, paying_share)
    assert len(plan) == points
    assert sum(kill.after_prepared for kill in plan) == paying
    # The points before prepared.json come first, then those after it: the order of the run.
    assert plan == sorted(plan, key=lambda kill: (kill.after_prepared, kill.delay_s))


def test_each_phase_is_cut_into_equal_slices_with_one_kill_in_each() -> None:
    plan = plan_kill_points(100, 2026, PREPARED_S, WALL_S)
    for after_prepared, length_s in ((False, PREPARED_S), (True, WALL_S - PREPARED_S)):
        moments = [kill.delay_s for kill in plan if kill.after_prepared is after_prepared]
        slice_s = length_s / len(moments)
        slices = [int(moment // slice_s) for moment in moments]
        assert slices == list(range(len(moments))), f"after prepared.json: {after_prepared}"


def outcome(index: int, phase: Phase, problems: list[str]) -> PointOutcome:
    return PointOutcome(index, Kill(True, 0.25), Reached(phase, ""), problems, 4.2, Path(f"out/point-{index:03d}"))


def test_the_summary_counts_submitting_and_closing_as_paying_and_names_the_failed_folder() -> None:
    summary = CrashRunSummary(points=5, baseline_wall_s=WALL_S, baseline_prepared_s=PREPARED_S, wall_s=30.0)
    summary.outcomes += [
        outcome(1, Phase.BEFORE, []),
        outcome(2, Phase.PREPARING, []),
        outcome(3, Phase.SUBMITTING, []),
        outcome(4, Phase.CLOSING, []),
        outcome(5, Phase.PAYING, ["credited more than once: {'999999:PR202612-000042': 2}"]),
    ]
    assert summary.by_group() == {"before preparing": 1, "preparing": 1, "paying": 3, "after finish": 0}
    lines = list(summary_lines(summary))
    assert lines[1] == "4 held, 1 failed; 30 s in all"
    assert lines[2] == "FAILED point 5 (out/point-005): credited more than once: {'999999:PR202612-000042': 2}"
    assert summary.as_json()["failed"] == [
        {"point": 5, "folder": "out/point-005", "problems": ["credited more than once: {'999999:PR202612-000042': 2}"]}
    ]
