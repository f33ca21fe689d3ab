"""What a payroll leaves behind for people: one summary over every file of a payroll, the cashless
share by province, and the files a payer and the post offices take away (items, pain.002, the
cash list). Used by the scenario runner and the demo."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from network.participants import TREASURY_BIN
from switch.scheme.identifiers import PROVINCE_NAMES


def write_reports(out: Path, sandbox: Any, summaries: list[dict[str, Any]]) -> list[Path]:
    files = []
    cash_lines: list[bytes] = []
    for summary in summaries:
        disbursement_id = summary["disbursement_id"]
        now_ms = sandbox.now_ms
        for kind, name in (("items", f"items-{disbursement_id}.csv"), ("pain.002", f"pain.002-{disbursement_id}.xml")):
            path = out / name
            path.write_bytes(sandbox.switch.disbursement_export(TREASURY_BIN, disbursement_id, kind, now_ms))
            files.append(path)
        lines = sandbox.switch.disbursement_export(TREASURY_BIN, disbursement_id, "cash-list", now_ms).splitlines(True)
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
