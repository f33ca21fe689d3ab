"""Scenarios end to end: the shipped files on the in-process network, SQLite files in a temporary folder.

Each run is a small population (1,500 beneficiaries in the default eight provinces) so the whole module stays
in seconds; the shipped runs are made once per module and read by several tests.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scenarios.runner import REPORT_HTML, REPORT_JSON, ScenarioResult, run_scenario
from scenarios.scenario import Scenario, load_scenario, parse_scenario
from switchyard.cli import main

FILES = Path(__file__).resolve().parents[2] / "scenarios" / "files"
SHIPPED = sorted(path.stem for path in FILES.glob("*.toml"))
POPULATION = 1_500
VIETCOMBANK = "970436"
OTHER_SEED = 2027

RunShipped = Callable[[str], ScenarioResult]


def sized(scenario: Scenario, size: int = POPULATION) -> Scenario:
    return scenario.model_copy(update={"population": scenario.population.model_copy(update={"size": size})})


def shipped(stem: str) -> Scenario:
    return sized(load_scenario(FILES / f"{stem}.toml"))


def payroll_cycles(scenario: Scenario) -> list[str]:
    return [e.cycle or scenario.scenario.cycle for e in scenario.timeline if e.event == "submit_payroll"]


@pytest.fixture(scope="module")
def run_shipped(tmp_path_factory: pytest.TempPathFactory) -> RunShipped:
    """A shipped scenario's run at the small population, made once for the module."""
    done: dict[str, ScenarioResult] = {}

    def run(stem: str) -> ScenarioResult:
        if stem not in done:
            done[stem] = run_scenario(shipped(stem), tmp_path_factory.mktemp(stem), name=f"{stem}.toml")
        return done[stem]

    return run


def failing_scenario_text() -> str:
    """December's payroll with an expectation no 30%-registered population can meet."""
    text = (FILES / "monthly-payroll.toml").read_text(encoding="utf-8")
    return text.replace("min = 0.2\nmax = 0.35", "min = 0.99")


# --- the shipped scenarios -----------------------------------------------------------------------


def test_the_six_shipped_scenarios_are_all_run_here() -> None:
    assert len(SHIPPED) == 7


@pytest.mark.parametrize("stem", SHIPPED)
def test_every_shipped_scenario_passes_its_own_expectations_and_invariants(stem: str, run_shipped: RunShipped) -> None:
    result = run_shipped(stem)
    report = result.report

    assert result.failures == []
    assert result.ok and report["ok"]
    assert report["invariants"] == {"ok": True, "failures": []}
    assert report["expectations"] and all(e["passed"] for e in report["expectations"]), report["expectations"]
    assert report["population"] == POPULATION
    assert report["scenario"]["file"] == f"{stem}.toml"
    outcome = report["outcome"]
    cycles = payroll_cycles(shipped(stem))
    assert outcome["submitted"] == POPULATION * len(cycles)
    assert outcome["paid"] + outcome["cash"] + outcome["held"] + outcome["rejected"] == outcome["submitted"]
    assert outcome["reconciliation"]["balanced"] is True
    assert outcome["reconciliation"]["in_process"]["count"] == 0
    assert sorted(outcome["by_cycle"]) == sorted(cycles)
    assert outcome["paid_twice"] == 0
    assert (result.out / REPORT_JSON).is_file() and (result.out / REPORT_HTML).is_file()
    assert json.loads((result.out / REPORT_JSON).read_text(encoding="utf-8")) == report


def test_the_registration_drive_pays_three_cycles_with_a_rising_cashless_share(run_shipped: RunShipped) -> None:
    by_cycle = run_shipped("registration-drive").report["outcome"]["by_cycle"]

    assert list(by_cycle) == ["2026-12", "2027-01", "2027-02"]
    shares = [cycle["cashless_share"] for cycle in by_cycle.values()]
    assert shares == sorted(shares) and shares[0] < shares[-1]
    assert shares[0] <= 0.35 and shares[-1] >= 0.5
    assert all(sum(cycle[s] for s in ("paid", "cash", "held", "rejected")) == POPULATION for cycle in by_cycle.values())


def test_the_bank_outage_marks_vietcombank_offline_during_the_outage_and_counts_ab08(run_shipped: RunShipped) -> None:
    report = run_shipped("bank-outage").report
    outage = next(e for e in shipped("bank-outage").timeline if e.event == "outage")
    assert outage.until_s is not None
    start, end = int(outage.at_s), int(outage.until_s)

    timeline = report["timeline"]
    assert [sample["t_s"] for sample in timeline] == list(range(len(timeline)))
    assert len(timeline) > end
    for sample in timeline:
        expected = [VIETCOMBANK] if start <= sample["t_s"] < end else []
        assert sample["offline"] == expected, sample
    ab08 = report["outcome"]["transfers"]["RJCT"]["AB08"]
    assert ab08 >= 1
    assert sum(sample["rejected_by_reason"].get("AB08", 0) for sample in timeline) == ab08
    assert all(VIETCOMBANK in s["offline"] for s in timeline if s["rejected_by_reason"].get("AB08"))
    assert {"at_s": start, "event": f"{VIETCOMBANK} offline"} in report["events"]
    assert {"at_s": end, "event": f"{VIETCOMBANK} back"} in report["events"]


def test_after_the_outage_vietcombank_customers_are_paid_on_retry(run_shipped: RunShipped) -> None:
    outcome = run_shipped("bank-outage").report["outcome"]

    assert outcome["retried"]["paid"] >= 1
    assert outcome["by_participant"][VIETCOMBANK]["count"] >= 1


def test_the_duplicate_payroll_pays_nobody_twice(run_shipped: RunShipped) -> None:
    outcome = run_shipped("duplicate-payroll").report["outcome"]
    once = run_shipped("monthly-payroll").report["outcome"]  # the same seed and population, sent once

    assert outcome["paid_twice"] == 0
    assert outcome["files"] == {"submitted": 2, "rows_refused": POPULATION}
    assert outcome["paid"] == once["paid"]
    assert outcome["transfers"]["ACSC"] == once["transfers"]["ACSC"]
    assert outcome["by_status"] == once["by_status"]


# --- determinism ---------------------------------------------------------------------------------


def test_two_runs_with_one_seed_write_byte_identical_reports(run_shipped: RunShipped, tmp_path: Path) -> None:
    first = run_shipped("bank-outage")

    again = run_scenario(shipped("bank-outage"), tmp_path / "again", name="bank-outage.toml")

    assert (again.out / REPORT_JSON).read_bytes() == (first.out / REPORT_JSON).read_bytes()
    assert (again.out / REPORT_HTML).read_bytes() == (first.out / REPORT_HTML).read_bytes()


def test_a_run_into_a_folder_that_holds_an_earlier_run_starts_from_nothing(
    run_shipped: RunShipped, tmp_path: Path
) -> None:
    first = run_shipped("duplicate-payroll")
    run_scenario(shipped("duplicate-payroll"), tmp_path, seed=OTHER_SEED, name="duplicate-payroll.toml")

    again = run_scenario(shipped("duplicate-payroll"), tmp_path, name="duplicate-payroll.toml")

    assert (again.out / REPORT_JSON).read_bytes() == (first.out / REPORT_JSON).read_bytes()


def test_a_different_seed_writes_a_different_report(run_shipped: RunShipped, tmp_path: Path) -> None:
    first = run_shipped("bank-outage")

    other = run_scenario(shipped("bank-outage"), tmp_path, seed=OTHER_SEED, name="bank-outage.toml")

    assert other.ok, other.failures
    assert other.report["seed"] == OTHER_SEED and first.report["seed"] == 2026
    assert (other.out / REPORT_JSON).read_bytes() != (first.out / REPORT_JSON).read_bytes()
    assert other.report["outcome"] != first.report["outcome"]


# --- expectations that fail, and files that cannot run ---------------------------------------------


def test_an_expectation_that_cannot_hold_fails_naming_the_expectation(tmp_path: Path) -> None:
    scenario = sized(parse_scenario(failing_scenario_text(), "unreachable.toml"))

    result = run_scenario(scenario, tmp_path, name="unreachable.toml")

    assert not result.ok and result.report["ok"] is False
    assert result.report["invariants"]["ok"] is True  # the network is fine: only the expectation fails
    assert len(result.failures) == 1
    [failure] = result.failures
    assert failure.startswith("expectation: cashless_share should be at least 0.99; it is 0.")
    [judged] = [e for e in result.report["expectations"] if e["metric"] == "cashless_share"]
    assert judged["passed"] is False and judged["min"] == 0.99 and judged["actual"] < 0.99
    assert json.loads((tmp_path / REPORT_JSON).read_text(encoding="utf-8"))["ok"] is False
    assert "Failed: see the checks below." in (tmp_path / REPORT_HTML).read_text(encoding="utf-8")


def test_switchyard_run_exits_1_and_prints_failed_with_the_metric(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # rich wraps at the terminal's width; keep each failure on one line
    path = tmp_path / "unreachable.toml"
    path.write_text(failing_scenario_text(), encoding="utf-8")
    out = tmp_path / "out"

    code = main(["run", str(path), "--out", str(out), "--population", str(POPULATION)])

    assert code == 1
    printed = capsys.readouterr().out
    [failed] = [line for line in printed.splitlines() if "FAILED" in line]
    assert "cashless_share should be at least 0.99" in failed
    report: dict[str, Any] = json.loads((out / REPORT_JSON).read_text(encoding="utf-8"))
    assert (report["population"], report["ok"], report["scenario"]["file"]) == (POPULATION, False, "unreachable.toml")


def test_switchyard_run_exits_2_naming_the_line_and_key_of_a_bad_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (FILES / "bank-outage.toml").read_text(encoding="utf-8").replace("size = 20000", "size = -20000")
    line = text.splitlines().index("size = -20000") + 1
    path = tmp_path / "bank-outage.toml"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "out"

    code = main(["run", str(path), "--out", str(out), "--population", str(POPULATION)])

    assert code == 2
    captured = capsys.readouterr()
    assert f"{path}:{line}: population.size: " in captured.err
    assert "greater than or equal to 1" in captured.err
    assert not out.exists()  # refused before anything ran


def test_switchyard_run_exits_2_for_a_file_that_is_not_toml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "payroll.toml"
    path.write_text('[scenario]\nname = "December"\n[population\nsize = 1500\n', encoding="utf-8")

    code = main(["run", str(path), "--out", str(tmp_path / "out")])

    assert code == 2
    assert f"{path}:3: (toml): " in capsys.readouterr().err


def test_switchyard_run_exits_2_for_a_file_that_does_not_exist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["run", str(tmp_path / "no-such-scenario.toml"), "--out", str(tmp_path / "out")])

    assert code == 2
    assert "no-such-scenario.toml" in capsys.readouterr().err


# --- report.html ---------------------------------------------------------------------------------


@pytest.mark.parametrize("stem", SHIPPED)
def test_report_html_is_one_self_contained_page_of_svg_charts(stem: str, run_shipped: RunShipped) -> None:
    html = (run_shipped(stem).out / REPORT_HTML).read_text(encoding="utf-8")

    assert html.startswith("<!doctype html>")
    assert html.count("<svg") >= 5  # states, reasons, provinces, participants, timeline
    assert "<script" not in html.lower()
    assert "src=" not in html and "<link" not in html  # nothing loaded from beside it
    assert "Every invariant and expectation holds." in html


def test_report_html_shades_the_seconds_vietcombank_was_offline(run_shipped: RunShipped) -> None:
    report = run_shipped("bank-outage").report
    html = (run_shipped("bank-outage").out / REPORT_HTML).read_text(encoding="utf-8")

    offline_seconds = sum(1 for sample in report["timeline"] if sample["offline"])
    assert offline_seconds > 0
    assert html.count('fill="#eee"') == offline_seconds


def test_report_html_escapes_markup_written_in_the_scenario_file(tmp_path: Path) -> None:
    text = (FILES / "monthly-payroll.toml").read_text(encoding="utf-8")
    text = text.replace('name = "Monthly national payroll"', 'name = "Chi trả tháng 12 <script>alert(1)</script>"')
    scenario = sized(parse_scenario(text, "markup.toml"))

    result = run_scenario(scenario, tmp_path, name="markup.toml")

    html = (result.out / REPORT_HTML).read_text(encoding="utf-8")
    assert "<script" not in html.lower()
    assert "Chi trả tháng 12 &lt;script&gt;alert(1)&lt;/script&gt;" in html
