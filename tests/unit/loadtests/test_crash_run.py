"""`switchyard bench payroll-crash` (loadtests.crash_run): where the kills fall, and how the
outcomes are counted and named."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadtests.crash_run import (
    Anchor,
    CrashRunSummary,
    Kill,
    Phase,
    PointOutcome,
    Reached,
    plan_kill_points,
    rescaled,
    summary_lines,
)

# An uninterrupted run of 8,000 beneficiaries on this machine: the interpreter loaded and db/
# written at 0.8 s, prepared.json at 1.5 s, the JSON line at 2.9 s.
DATABASE_S, PREPARED_S, WALL_S = 0.8, 1.5, 2.9
PHASES_S = {Anchor.START: DATABASE_S, Anchor.DATABASE: PREPARED_S - DATABASE_S, Anchor.PREPARED: WALL_S - PREPARED_S}


def plan(points: int = 100, kill_seed: int = 2026, shares: dict[str, float] | None = None) -> list[Kill]:
    return plan_kill_points(points, kill_seed, DATABASE_S, PREPARED_S, WALL_S, **(shares or {}))


def test_the_same_kill_seed_plans_the_same_moments_and_another_seed_others() -> None:
    assert plan(kill_seed=2026) == plan(kill_seed=2026)
    assert plan(kill_seed=2026) != plan(kill_seed=2027)


@pytest.mark.parametrize(
    ("points", "shares", "expected"),
    [
        (100, {}, {Anchor.START: 5, Anchor.DATABASE: 25, Anchor.PREPARED: 70}),
        (7, {}, {Anchor.START: 0, Anchor.DATABASE: 2, Anchor.PREPARED: 5}),
        (10, {"paying_share": 1.0}, {Anchor.START: 0, Anchor.DATABASE: 0, Anchor.PREPARED: 10}),
        (4, {"paying_share": 0.0, "starting_share": 0.5}, {Anchor.START: 2, Anchor.DATABASE: 2, Anchor.PREPARED: 0}),
    ],
)
def test_most_points_fall_inside_the_paying_phase_and_a_few_while_the_process_starts(
    points: int, shares: dict[str, float], expected: dict[Anchor, int]
) -> None:
    kills = plan(points, shares=shares)
    assert {anchor: sum(kill.anchor is anchor for kill in kills) for anchor in Anchor} == expected
    # In the order of the run: starting, then preparing, then paying, each by its delay.
    order = list(Anchor)
    assert kills == sorted(kills, key=lambda kill: (order.index(kill.anchor), kill.delay_s))


def test_each_phase_is_cut_into_equal_slices_with_one_kill_in_each() -> None:
    kills = plan()
    for anchor, length_s in PHASES_S.items():
        moments = [kill.delay_s for kill in kills if kill.anchor is anchor]
        slice_s = length_s / len(moments)
        assert [int(moment // slice_s) for moment in moments] == list(range(len(moments))), anchor


def test_a_point_tried_again_after_a_faster_run_keeps_its_place_in_the_phase() -> None:
    # Planned at 1.05 s of a paying phase of 1.4 s (three quarters in); the run paid in 0.9 s.
    again = rescaled(Kill(Anchor.PREPARED, 1.05), expected_s=1.4, observed_s=0.9)
    assert again.anchor is Anchor.PREPARED
    assert again.delay_s == pytest.approx(0.675)  # three quarters of 0.9 s


def outcome(index: int, phase: Phase, problems: list[str]) -> PointOutcome:
    kill = Kill(Anchor.PREPARED, 0.25)
    return PointOutcome(index, kill, 1, Reached(phase, ""), problems, 4.2, Path(f"out/point-{index:03d}"))


def test_the_summary_counts_submitting_and_closing_as_paying_and_names_the_failed_folder() -> None:
    summary = CrashRunSummary(5, DATABASE_S, PREPARED_S, WALL_S, wall_s=30.0)
    problem = "credited more than once: {'999999:PR202612-000042': 2}"
    summary.outcomes += [
        outcome(1, Phase.BEFORE, []),
        outcome(2, Phase.PREPARING, []),
        outcome(3, Phase.SUBMITTING, []),
        outcome(4, Phase.CLOSING, []),
        outcome(5, Phase.PAYING, [problem]),
    ]
    assert summary.by_group() == {"before preparing": 1, "preparing": 1, "paying": 3, "after finish": 0}
    lines = list(summary_lines(summary))
    assert lines[1] == "4 held, 1 failed; 30 s in all"
    assert lines[2] == f"FAILED point 5 (out/point-005): {problem}"
    assert summary.as_json()["failed"] == [{"point": 5, "folder": "out/point-005", "problems": [problem]}]
