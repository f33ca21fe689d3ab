"""The files a payroll leaves behind for people: for each disbursement its items and its pain.002,
and one cash list for the post offices over the whole payroll. Used by the scenario runner (and so
the demo)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from network.participants import TREASURY_BIN
from network.sandbox import Sandbox
from switch.scheme.summary import DisbursementSummary


def write_reports(out: Path, sandbox: Sandbox, summaries: Sequence[DisbursementSummary]) -> list[Path]:
    files = []
    cash_lines: list[bytes] = []
    now_ms = sandbox.now_ms
    for summary in summaries:
        disbursement_id = summary.disbursement_id
        for kind, name in (("items", f"items-{disbursement_id}.csv"), ("pain.002", f"pain.002-{disbursement_id}.xml")):
            path = out / name
            path.write_bytes(sandbox.switch.disbursement_export(TREASURY_BIN, disbursement_id, kind, now_ms))
            files.append(path)
        lines = sandbox.switch.disbursement_export(TREASURY_BIN, disbursement_id, "cash-list", now_ms).splitlines(True)
        cash_lines += lines if not cash_lines else lines[1:]  # one header for the whole list
    path = out / "cash-list.csv"
    path.write_bytes(b"".join(cash_lines))
    return [*files, path]
