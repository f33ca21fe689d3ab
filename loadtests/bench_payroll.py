"""`switchyard bench payroll`: the whole payroll path in process on SQLite files, timed.

Preparation (population, rolls, accounts, registrations through the citizen app) is set up first
and not counted. What is counted: the Treasury's files parsed, the identity check against the
registry, aliases resolved in bulk, funds reserved, items routed by creditor agent, credited at
the banks and wallets, statuses collected, and the reconciliation against every ledger. The
figure is beneficiaries (payroll items) settled per second: paid, on the cash list or held. Paid
transfers per second are printed beside it, and the bare-SQLite ceiling is measured in the same
run on the same disk: ledger-shaped rows with executemany in one transaction.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from loadtests.bench import _bare_sqlite
from network.payroll import PayrollConfig, prepare, reconcile, run_until_complete, submit
from network.storage import Storage

CEILING_ROWS = 200_000


def bench_payroll(beneficiaries: int, file_format: str = "json", database: str | None = None) -> dict[str, Any]:
    """`database`: a postgresql:// URL (each node in a schema of its own, dropped afterwards) instead
    of SQLite files in a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="switchyard-bench-payroll-") as folder:
        prefix = f"bench_payroll_{int(time.time())}"
        config = PayrollConfig(
            beneficiaries=beneficiaries, folder=Path(folder) / "db", file_format=file_format, database=database,
            schema_prefix=prefix,
        )  # fmt: skip
        run = prepare(config)
        started = time.perf_counter()
        submit(run)
        run_until_complete(run)
        report = reconcile(run)
        elapsed_s = time.perf_counter() - started
        run.sandbox.close()
        if database is not None:
            Storage(url=database, schema_prefix=prefix).drop()
    if not report.ok:
        raise AssertionError(f"the payroll bench broke an invariant: {report.failures}")
    ceiling = _bare_sqlite(CEILING_ROWS, batched=True)
    return {
        "beneficiaries": beneficiaries,
        "format": file_format,
        "database": "postgresql" if database else "sqlite",
        "paid": report.payroll_paid_count,
        "seconds": round(elapsed_s, 2),
        "beneficiaries_per_second": round(beneficiaries / elapsed_s),
        "payments_per_second": round(report.payroll_paid_count / elapsed_s),
        "phases_seconds": {k: round(v, 2) for k, v in run.timings_s.items()},
        "peak_rss_mb": round(_peak_rss_mb()),
        "bare_sqlite_rows_per_second": round(ceiling),
        "invariants_ok": report.ok,
    }


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB on Linux
