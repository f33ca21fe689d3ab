"""`switchyard demo`: a month's welfare payroll on the default network, with a summary a person can
read and the report files a payer and the post offices would take away.

100,000 beneficiaries over eight provinces; about 30% registered an account for welfare (a mix of
banks and wallets, some accounts closed or blocked since, one wallet on the 2021 pilot's cap); a
few died since the roll was written or are on it under another name. The Treasury submits the
payroll; the switch pays who it can, retries Agribank's slow answers, and lists the rest for cash.
"""

from __future__ import annotations

import json
import shutil
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scenarios.checks import InvariantReport
from scenarios.payroll import PayrollConfig, Progress, prepare, reconcile, run_until_complete, submit
from scenarios.sandbox import TREASURY_BIN
from scenarios.storage import Storage
from switch.scheme.identifiers import PROVINCE_NAMES

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
    summary: dict[str, Any]
    files: list[Path]
    invariants: InvariantReport


def run_demo(config: DemoConfig, progress: Progress | None = None) -> DemoResult:
    # A demo starts from nothing, so the same seed gives the same figures: its SQLite files, or its
    # own schemas on a PostgreSQL server (never those of `serve`, which have another prefix).
    db_folder = config.out / "db"
    if db_folder.exists():
        shutil.rmtree(db_folder)
    if config.database is not None:
        Storage(url=config.database, schema_prefix=DEMO_SCHEMA_PREFIX).drop()
    payroll = PayrollConfig(
        beneficiaries=config.beneficiaries,
        seed=config.seed,
        file_format=config.file_format,
        database=config.database,
        schema_prefix=DEMO_SCHEMA_PREFIX,
        folder=db_folder,
    )
    run = prepare(payroll, progress)
    submit(run, progress)
    run_until_complete(run, progress)
    invariants = reconcile(run)
    switch = run.sandbox.switch
    config.out.mkdir(parents=True, exist_ok=True)
    summaries = [switch.disbursement_summary(TREASURY_BIN, b.id) for b in switch.disbursements(TREASURY_BIN)]
    files = _write_reports(config.out, run.sandbox, summaries)
    summary = combine(summaries)
    summary["invariants"] = {"ok": invariants.ok, "failures": invariants.failures}
    summary["customer_money_vnd"] = invariants.customer_money_vnd
    (config.out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
    run.sandbox.close()
    return DemoResult(config.out, summary, [config.out / "summary.json", *files], invariants)


def _write_reports(out: Path, sandbox: Any, summaries: list[dict[str, Any]]) -> list[Path]:
    files = []
    cash_lines: list[bytes] = []
    for summary in summaries:
        batch_id = summary["disbursement_id"]
        now_ms = sandbox.now_ms
        for kind, name in (("items", f"items-{batch_id}.csv"), ("pain.002", f"pain.002-{batch_id}.xml")):
            path = out / name
            path.write_bytes(sandbox.switch.disbursement_export(TREASURY_BIN, batch_id, kind, now_ms))
            files.append(path)
        lines = sandbox.switch.disbursement_export(TREASURY_BIN, batch_id, "cash-list", now_ms).splitlines(True)
        cash_lines += lines if not cash_lines else lines[1:]  # one header for the whole list
    path = out / "cash-list.csv"
    path.write_bytes(b"".join(cash_lines))
    return [*files, path]


def combine(summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """One summary over every file of the payroll: the sums of each file's counts and amounts."""
    combined: dict[str, Any] = {"disbursements": [s["disbursement_id"] for s in summaries]}
    for dimension in ("by_status", "by_reason", "by_participant", "by_program", "by_province"):
        table: dict[str, dict[str, int]] = defaultdict(lambda: {"count": 0, "amount_vnd": 0})
        for summary in summaries:
            for key, cell in summary[dimension].items():
                table[key]["count"] += cell["count"]
                table[key]["amount_vnd"] += cell["amount_vnd"]
        combined[dimension] = dict(sorted(table.items()))
    reconciliation: dict[str, dict[str, int]] = defaultdict(lambda: {"count": 0, "amount_vnd": 0})
    for summary in summaries:
        for key, cell in summary["reconciliation"].items():
            if isinstance(cell, dict):
                reconciliation[key]["count"] += cell["count"]
                reconciliation[key]["amount_vnd"] += cell["amount_vnd"]
    combined["reconciliation"] = dict(reconciliation)
    combined["retried"] = {
        "count": sum(s["retried"]["count"] for s in summaries),
        "paid": sum(s["retried"]["paid"] for s in summaries),
    }
    combined["reconciliation"]["balanced"] = all(s["reconciliation"]["balanced"] for s in summaries)
    combined["cashless_share_by_province"] = cashless_by_province(summaries)
    paid = combined["by_status"].get("paid", {}).get("count", 0)
    held = combined["by_status"].get("held", {}).get("count", 0)
    total = sum(s["items_total"] for s in summaries)
    combined["cashless_share"] = round(paid / (total - held), 4) if total > held else 0.0
    combined["cashless_target_share"] = summaries[0]["cashless_target_share"] if summaries else 0.3
    return combined


def cashless_by_province(summaries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Paid without cash, of the items each province could be paid (held items aside)."""
    paid: dict[str, int] = defaultdict(int)
    payable: dict[str, int] = defaultdict(int)
    for summary in summaries:
        for key, cell in summary["by_province_status"].items():
            province, status = key.split("/")
            if status != "held":
                payable[province] += cell["count"]
            if status == "paid":
                paid[province] += cell["count"]
    return {
        code: {
            "province": PROVINCE_NAMES.get(code, code),
            "paid": paid[code],
            "payable": payable[code],
            "share": round(paid[code] / payable[code], 4) if payable[code] else 0.0,
        }
        for code in sorted(payable)
    }
