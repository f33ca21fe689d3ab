"""`switchyard bench payroll`: the whole payroll path in process on SQLite files, timed.

Preparation (population, rolls, accounts, registrations through the citizen app) is set up first
and not counted. What is counted: the Treasury's files parsed, the identity check against the
registry, aliases resolved in bulk, funds reserved, items routed by creditor agent, credited at
the banks and wallets, statuses collected, and the reconciliation against every ledger. The
figure is beneficiaries (payroll items) settled per second: paid, on the cash list or held. Paid
transfers per second are printed beside it, and the bare-SQLite ceiling is measured in the same
run on the same disk: ledger-shaped rows with executemany in one transaction.

A registration share of 1.0 is the population where every item is a payment
(`network.payroll.every_item_paid`), so the paid path is measured on its own. Several formats run
one after the other, each in a fresh process of its own, so one run's peak RSS and warm caches are
not the next one's.
"""

from __future__ import annotations

import multiprocessing
import resource
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from loadtests.bench import _bare_sqlite
from network import collector
from network.payroll import PayrollConfig, every_item_paid, prepare, reconcile, run_until_complete, submit
from network.storage import Storage
from switch.scheme.disbursement import FORMATS

CEILING_ROWS = 200_000
REGISTRATION_SHARE_DEFAULT = PayrollConfig().registration_share


def bench_payroll(
    beneficiaries: int,
    file_format: str = "json",
    database: str | None = None,
    registration_share: float = REGISTRATION_SHARE_DEFAULT,
) -> dict[str, Any]:
    """One run's figures (keys in BENCHMARKS.md). `database`: a postgresql:// URL (each node in a
    schema of its own, dropped afterwards) instead of SQLite files in a temporary folder."""
    _check(file_format, registration_share)
    collector.tune_for_throughput()  # also in a format's own process, which the command line did not start
    with tempfile.TemporaryDirectory(prefix="switchyard-bench-payroll-") as folder:
        prefix = f"bench_payroll_{int(time.time())}"
        config = payroll_config(beneficiaries, file_format, registration_share, database, Path(folder) / "db", prefix)
        run = prepare(config)
        collector.settle_after_setup()  # the population and registry live through the run: out of the collector's walk
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
        "registration_share": registration_share,
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


def bench_payroll_formats(
    beneficiaries: int,
    file_formats: Sequence[str],
    database: str | None = None,
    registration_share: float = REGISTRATION_SHARE_DEFAULT,
) -> dict[str, Any]:
    """One format: `bench_payroll`'s figures as they are. Several: {"runs": [one run's figures per
    format, in the order given]}, each run in a fresh process (spawned, not forked: a fork would
    start with this process's memory) and each with its own ceiling measured right after it."""
    for file_format in file_formats:
        _check(file_format, registration_share)
    if len(file_formats) == 1:
        return bench_payroll(beneficiaries, file_formats[0], database, registration_share)
    runs = []
    for file_format in file_formats:
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
            runs.append(pool.submit(bench_payroll, beneficiaries, file_format, database, registration_share).result())
    return {"runs": runs}


def payroll_config(
    beneficiaries: int,
    file_format: str,
    registration_share: float,
    database: str | None = None,
    folder: Path | None = None,
    schema_prefix: str = "switchyard",
) -> PayrollConfig:
    """The demo's population with the given registration share; at 1.0, every item a payment."""
    config = PayrollConfig(
        beneficiaries=beneficiaries, file_format=file_format, database=database, folder=folder,
        schema_prefix=schema_prefix, registration_share=registration_share,
    )  # fmt: skip
    return every_item_paid(config) if registration_share == 1.0 else config


def _check(file_format: str, registration_share: float) -> None:
    if file_format not in FORMATS:
        raise ValueError(f"format: must be one of {', '.join(FORMATS)}, not {file_format!r}")
    if not 0 < registration_share <= 1:
        raise ValueError(f"registration_share: must be more than 0 and at most 1, not {registration_share}")


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB on Linux
