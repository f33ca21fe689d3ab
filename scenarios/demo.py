"""`switchyard demo`: a month's welfare payroll on the default network, with a summary a person can
read and the report files a payer and the post offices would take away.

100,000 beneficiaries over eight provinces; about 30% registered an account for welfare (a mix of
banks and wallets, some accounts closed or blocked since, one wallet on the 2021 pilot's cap); a
few died since the roll was written or are on it under another name. The Treasury submits the
payroll; the switch pays who it can, retries Agribank's slow answers, and lists the rest for cash.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from network.checks import InvariantReport
from network.payroll import Progress
from payer.reconciliation import PayrollSummary, combine
from scenarios.runner import run_scenario
from scenarios.scenario import Scenario, load_scenario

DEMO_SCHEMA_PREFIX = "switchyard_demo"


@dataclass(slots=True, frozen=True)
class DemoConfig:
    beneficiaries: int = 100_000
    seed: int = 2026
    out: Path = Path("out/demo")
    database: str | None = None  # a postgresql:// URL; SQLite files under out/ when None
    file_format: str = "pain.001"


@dataclass(slots=True)
class DemoResult:
    out: Path
    summary: PayrollSummary
    files: list[Path]
    invariants: InvariantReport
    failures: list[str]  # invariants and the default scenario's expectations that did not hold


DEFAULT_SCENARIO = Path(__file__).parent / "files" / "monthly-payroll.toml"


def run_demo(config: DemoConfig, progress: Progress | None = None) -> DemoResult:
    """The default scenario (scenarios/files/monthly-payroll.toml) at the demo's size, seed and file
    format; its report.json and report.html, and summary.json beside them."""
    scenario = _sized(load_scenario(DEFAULT_SCENARIO), config)
    result = run_scenario(
        scenario, config.out, config.seed, DEFAULT_SCENARIO.name, progress, database=config.database,
        schema_prefix=DEMO_SCHEMA_PREFIX,
    )  # fmt: skip
    summary = combine(result.summaries)
    document = {
        **summary.model_dump(mode="json"),
        "invariants": {"ok": result.invariants.ok, "failures": result.invariants.failures},
        "customer_money_vnd": result.invariants.customer_money_vnd,
    }
    path = config.out / "summary.json"
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
    return DemoResult(config.out, summary, [path, *result.files], result.invariants, result.failures)


def _sized(scenario: Scenario, config: DemoConfig) -> Scenario:
    population = scenario.population.model_copy(update={"size": config.beneficiaries})
    timeline = [
        e.model_copy(update={"file_format": config.file_format}) if e.event == "submit_payroll" else e
        for e in scenario.timeline
    ]
    return scenario.model_copy(update={"population": population, "timeline": timeline})
