"""The `switchyard` command: the composition root for the terminal.

switchyard demo                 the default scenario on embedded SQLite, with a summary
switchyard bench transfers      transfers per second in process, next to the bare-SQLite ceiling
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from network.participants import DEFAULT_PARTICIPANTS
from payer.programs import RULES
from scenarios.demo import DemoConfig, DemoResult, run_demo
from switch.scheme.codes import StatusReason
from switch.scheme.disbursement import ITEMS_PER_FILE_MAX


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="switchyard", description="A sandbox national payment switch.")
    commands = parser.add_subparsers(dest="command", required=True)
    defaults = DemoConfig()
    demo = commands.add_parser("demo", help="run the default scenario and print its summary")
    demo.add_argument("--beneficiaries", type=_positive, default=defaults.beneficiaries, help="people on the rolls")
    demo.add_argument("--seed", type=int, default=defaults.seed)
    demo.add_argument("--format", choices=["pain.001", "json", "csv"], default=defaults.file_format)
    demo.add_argument("--out", type=Path, default=defaults.out, help="folder for databases and the reports")
    demo.add_argument(
        "--database", type=_database_url, default=None, help="postgresql://... (default: SQLite files under --out)"
    )
    payroll = commands.add_parser("payroll", help="a month's payroll that resumes after a crash; prints JSON")
    payroll.add_argument("--beneficiaries", type=_positive, default=10_000)
    payroll.add_argument("--seed", type=int, default=defaults.seed)
    payroll.add_argument("--format", choices=["pain.001", "json", "csv"], default="json")
    payroll.add_argument("--items-per-file", type=_positive, default=ITEMS_PER_FILE_MAX)
    payroll.add_argument("--out", type=Path, default=Path("out/payroll"), help="folder for databases (kept)")
    load = commands.add_parser("loadtest", help="locust against the networked sandbox, with thresholds")
    load.add_argument("--profile", choices=["p2p", "skewed", "bulk", "aliases"], default="p2p")
    load.add_argument("--duration", type=_positive, default=60, help="seconds of load")
    load.add_argument("--users", type=_positive, default=50, help="locust users")
    load.add_argument("--database", type=_database_url, default=None, help="postgresql://... (default: SQLite)")
    load.add_argument("--workers", type=_positive, default=1, help="switch worker processes (PostgreSQL only)")
    load.add_argument("--processes", type=_positive, default=1, help="locust load-generating processes")
    load.add_argument("--out", type=Path, default=Path("out/loadtest"), help="folder for locust's CSV and logs")
    load.add_argument("--no-ceiling", action="store_true", help="skip the bare-FastAPI ceiling run")
    load.add_argument("--json", action="store_true", help="print one JSON object")
    bench = commands.add_parser("bench", help="measure throughput in process")
    bench.add_argument("what", choices=["transfers", "payroll"])
    bench.add_argument("--count", type=_positive, default=20_000, help="transfers per mode")
    bench.add_argument("--beneficiaries", type=_positive, default=100_000, help="payroll: people on the rolls")
    bench.add_argument("--format", choices=["json", "csv", "pain.001"], default="json", help="payroll: file format")
    bench.add_argument("--json", action="store_true", help="print one JSON object")
    bench.add_argument(
        "--database", type=_database_url, default=None, help="postgresql://... (default: SQLite files in a temp folder)"
    )
    run = commands.add_parser("run", help="a scenario file on the simulated network; report.json and report.html")
    run.add_argument("scenario", type=Path, help="a scenario TOML file (scenarios/files/ has the shipped ones)")
    run.add_argument("--seed", type=int, default=None, help="default: the scenario's own seed")
    run.add_argument("--out", type=Path, default=None, help="default: out/run/<scenario file name>")
    run.add_argument("--population", type=_positive, default=None, help="override the scenario's population size")
    run.add_argument(
        "--database", type=_database_url, default=None, help="postgresql://... (default: SQLite files under --out)"
    )
    fuzz = commands.add_parser("fuzz", help="random scenarios under random faults, checked against the invariants")
    fuzz.add_argument("--seeds", type=_positive, default=50, help="how many seeds to run")
    fuzz.add_argument("--from", dest="first", type=int, default=0, help="the first seed")
    fuzz.add_argument("--out", type=Path, default=Path("out/fuzz"), help="each failing seed's databases and report")
    fuzz.add_argument("--keep", action="store_true", help="keep every seed's folder, not only the failing ones")
    serve = commands.add_parser("serve", help="the networked sandbox: the switch and every node over HTTP")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument(
        "--port", type=_positive, default=8000, help="the switch's port; participants take the next ones"
    )
    serve.add_argument("--database", type=_database_url, default=None, help="postgresql://... (default: SQLite files)")
    serve.add_argument("--out", type=Path, default=Path("out/serve"), help="folder for databases and credentials")
    serve.add_argument("--workers", type=_positive, default=1, help="switch worker processes (PostgreSQL only)")
    serve.add_argument("--admin-key", default=None, help="the admin API key (default: a new random one)")
    serve.add_argument("--schema-prefix", default="switchyard", help="PostgreSQL: schemas are <prefix>_<node>")
    args = parser.parse_args(argv)
    if args.command == "demo":
        return _demo(args)
    if args.command == "serve":
        return _serve(args)
    if args.command == "payroll":
        return _payroll(args)
    if args.command == "loadtest":
        return _loadtest(args)
    if args.command == "run":
        return _run(args)
    if args.command == "fuzz":
        return _fuzz(args)
    return _bench(args)


@contextlib.contextmanager
def _phases(console: Console) -> Iterator[Callable[[str, float], None]]:
    """A progress bar that shows the current phase (population, registrations, payroll, ...)."""
    with Progress(TextColumn("{task.description:<14}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeElapsedColumn(), console=console, transient=True) as progress:  # fmt: skip
        task = progress.add_task("population", total=100)

        def advance(phase: str, fraction: float) -> None:
            progress.update(task, completed=100 * fraction, description=phase)

        yield advance


def _run(args: argparse.Namespace) -> int:
    """Exit 0 when every invariant and expectation holds, 1 naming the ones that failed, 2 for a
    scenario file that cannot be run (its line, key and rule)."""
    from scenarios.runner import REPORT_HTML, REPORT_JSON, run_scenario
    from scenarios.scenario import ScenarioInvalid, load_scenario

    console = Console()
    try:
        scenario = load_scenario(args.scenario)
    except (ScenarioInvalid, OSError) as error:
        print(f"switchyard run: {error}", file=sys.stderr)
        return 2
    if args.population is not None:
        population = scenario.population.model_copy(update={"size": args.population})
        scenario = scenario.model_copy(update={"population": population})
    out = args.out or Path("out/run") / args.scenario.stem
    with _phases(console) as advance:
        result = run_scenario(scenario, out, args.seed, args.scenario.name, advance, database=args.database)
    outcome = result.report["outcome"]
    console.print(_cells_table("Payroll items by final state", outcome["by_status"], _STATE_MEANINGS))
    console.print(f"Cashless share {outcome['cashless_share']:.1%} (target {outcome['cashless_target_share']:.0%})")
    for failure in result.failures:
        console.print(f"[red]FAILED[/red] {failure}")
    console.print(f"Report: {(out / REPORT_HTML).resolve()} and {REPORT_JSON}")
    return 0 if result.ok else 1


def _fuzz(args: argparse.Namespace) -> int:
    """Exit 1 when a seed fails, each failing seed printed with the command that replays it."""
    from scenarios.fuzz import fuzz

    console = Console()
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=console, transient=True) as progress:  # fmt: skip
        task = progress.add_task("fuzz", total=args.seeds)

        def advance(done: int, failed: int) -> None:
            progress.update(task, completed=done, description=f"fuzz ({failed} failed)")

        failures = fuzz(args.seeds, args.first, args.out, args.keep, advance)
    last = args.first + args.seeds - 1
    for failure in failures:
        console.print(f"[red]seed {failure.seed} FAILED[/red]: {failure.problem}")
        console.print(f"  replay: {failure.replay}  (report in {args.out / f'seed-{failure.seed}'})")
    console.print(f"{args.seeds - len(failures)} of {args.seeds} seeds ({args.first} to {last}) held every invariant.")
    return 1 if failures else 0


def _serve(args: argparse.Namespace) -> int:
    import asyncio

    from gateway.serve import ServeConfig, serve

    if args.workers > 1 and args.database is None:
        print("switchyard serve: --workers above 1 needs --database postgresql://...", file=sys.stderr)
        return 2
    config = ServeConfig(
        host=args.host, port=args.port, database=args.database, out=args.out, admin_key=args.admin_key,
        workers=args.workers, schema_prefix=args.schema_prefix,
    )  # fmt: skip
    # uvloop (installed with uvicorn[standard]): uvicorn picks it only when it owns the loop, and
    # serve runs nine servers on one loop of its own.
    import uvloop

    with contextlib.suppress(KeyboardInterrupt), asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(serve(config))
    return 0


def _loadtest(args: argparse.Namespace) -> int:
    from loadtests import THRESHOLD_VARIABLES
    from loadtests.loadtest import LoadtestConfig, run_loadtest

    if args.workers > 1 and args.database is None:
        print("switchyard loadtest: --workers above 1 needs --database postgresql://...", file=sys.stderr)
        return 2
    thresholds = {k: v for k, v in os.environ.items() if k in THRESHOLD_VARIABLES}
    config = LoadtestConfig(
        profile=args.profile, duration_s=args.duration, users=args.users, database=args.database,
        workers=args.workers, processes=args.processes, out=args.out, ceiling=not args.no_ceiling,
        thresholds=thresholds,
    )  # fmt: skip
    result = run_loadtest(config)
    if args.json:
        print(json.dumps(result, sort_keys=True))
    else:
        _print_loadtest(Console(), result)
    return 0 if result["ok"] else 1


def _print_loadtest(console: Console, result: dict[str, Any]) -> None:
    locust = result["locust"]
    table = Table(title=f"Load test {result['profile']}: {result['users']} users, {result['duration_s']} s, "
                  f"{result['database']}, {result['switch_workers']} switch worker(s)")  # fmt: skip
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key in ("requests", "failures", "requests_per_second", "p50_ms", "p95_ms", "p99_ms"):
        table.add_row(key.replace("_", " "), f"{locust[key]:,}" if locust[key] is not None else "-")
    if "ceiling" in result:
        table.add_row("bare FastAPI ceiling, requests/s", f"{result['ceiling']['requests_per_second']:,}")
        table.add_row("share of the ceiling", f"{result['share_of_ceiling']}")
    console.print(table)
    console.print(f"outcomes: {locust['outcomes']}; failures by kind: {locust['failures_by_kind'] or 'none'}")
    console.print(locust["thresholds"])
    server = result["server"]
    verdict = (
        "[green]server checks passed[/green]" if not server["checks_failed"] else "[red]server checks failed[/red]"
    )
    console.print(f"{verdict}: the switch settled {server['settled']:,} transfers; {server['checks_failed'] or ''}")


def _payroll(args: argparse.Namespace) -> int:
    from network.payroll import PayrollConfig, run_resumable

    config = PayrollConfig(
        beneficiaries=args.beneficiaries, seed=args.seed, file_format=args.format,
        items_per_file=min(args.items_per_file, ITEMS_PER_FILE_MAX), folder=args.out / "db",
    )  # fmt: skip
    run, report = run_resumable(config, args.out)
    summaries = [run.sandbox.switch.disbursement_summary(None, b.id) for b in run.sandbox.switch.disbursements()]
    result = {
        "ok": report.ok,
        "failures": report.failures,
        "paid_count": report.payroll_paid_count,
        "paid_vnd": report.payroll_paid_vnd,
        "disbursements": [
            {k: s[k] for k in ("disbursement_id", "status", "items_total", "by_status", "reconciliation")}
            for s in summaries
        ],
    }
    print(json.dumps(result, sort_keys=True))
    run.sandbox.close()
    return 0 if report.ok else 1


def _database_url(text: str) -> str:
    if not text.startswith(("postgresql://", "postgresql+psycopg://")):
        raise argparse.ArgumentTypeError(f"must be a postgresql:// URL (SQLite files are the default), got {text!r}")
    return text


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _demo(args: argparse.Namespace) -> int:
    console = Console()
    config = DemoConfig(
        beneficiaries=args.beneficiaries, seed=args.seed, out=args.out, database=args.database, file_format=args.format
    )
    with _phases(console) as advance:
        result = run_demo(config, advance)
    _print_demo(console, result)
    for failure in result.failures:
        console.print(f"[red]FAILED[/red] {failure}")
    return 0 if not result.failures else 1


def _print_demo(console: Console, result: DemoResult) -> None:
    summary = result.summary
    console.print(_cells_table("Payroll items by final state", summary["by_status"], _STATE_MEANINGS))
    reasons = {r.value: r.description for r in StatusReason}
    console.print(
        _cells_table("Not paid by transfer, by reason (held or on the cash list)", summary["by_reason"], reasons)
    )
    labels = {program.value: rule.label for program, rule in RULES.items()}
    console.print(_cells_table("By program", summary["by_program"], labels))
    names = {spec.bin: spec.name for spec in DEFAULT_PARTICIPANTS}
    console.print(_cells_table("Paid, by creditor agent", summary["by_participant"], names))
    provinces = Table(title=f"Cashless share by province (target {summary['cashless_target_share']:.0%})")
    for column in ("code", "province", "paid", "payable", "share"):
        provinces.add_column(column, justify="right" if column in ("paid", "payable", "share") else "left")
    for code, row in summary["cashless_share_by_province"].items():
        mark = "green" if row["share"] >= summary["cashless_target_share"] else "yellow"
        provinces.add_row(
            code, row["province"], f"{row['paid']:,}", f"{row['payable']:,}", f"[{mark}]{row['share']:.1%}"
        )
    console.print(provinces)
    r = summary["reconciliation"]
    console.print(
        f"Reconciliation: paid {r['paid']['count']:,} ({r['paid']['amount_vnd']:,} VND) + cash {r['cash']['count']:,}"
        f" ({r['cash']['amount_vnd']:,} VND) + held {r['held']['count']:,} ({r['held']['amount_vnd']:,} VND)"
        f" = submitted {r['submitted']['count']:,} ({r['submitted']['amount_vnd']:,} VND):"
        f" {'[green]balanced[/green]' if r['balanced'] else '[red]NOT balanced[/red]'}."
        f" Cashless share {summary['cashless_share']:.1%} against the {summary['cashless_target_share']:.0%} target."
    )
    retried = summary["retried"]
    console.print(
        f"Retried after a timeout or an offline agent: {retried['count']:,} items, {retried['paid']:,} of them paid"
        " in the end (the rest are on the cash list with AB05 or AB08)."
    )
    report = result.invariants
    if report.ok:
        console.print(
            f"[green]Checks passed[/green]: the banks and wallets credited exactly what the switch paid"
            f" ({report.payroll_paid_count:,} items, {report.payroll_paid_vnd:,} VND); customers hold"
            f" {report.customer_money_vnd:,} VND, their deposits plus the payroll; every item and transfer is final;"
            " every ledger balances."
        )
    else:
        console.print("[red]Invariant failures:[/red]")
        for failure in report.failures:
            console.print(f"  - {failure}")
    console.print(f"Reports written to {result.out.resolve()}:")
    for path in result.files:
        console.print(f"  {path.name}")


_STATE_MEANINGS = {
    "paid": "credited to the registered account",
    "cash": "on the cash list for the post office",
    "held": "not paid: identity check failed",
}


def _cells_table(title: str, cells: dict[str, dict[str, int]], meanings: dict[str, str]) -> Table:
    table = Table(title=title)
    for column in ("", "meaning", "count", "VND"):
        table.add_column(column, justify="right" if column in ("count", "VND") else "left")
    for key, cell in cells.items():
        table.add_row(key, meanings.get(key, ""), f"{cell['count']:,}", f"{cell['amount_vnd']:,}")
    return table


def _group(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    grouped: dict[tuple[str, str | None], list[int]] = {}
    for row in rows:
        entry = grouped.setdefault((row["status"], row["reason"]), [0, 0])
        entry[0] += row["count"]
        entry[1] += row["amount_vnd"]
    return [
        {"status": s, "reason": r, "count": c, "amount_vnd": a}
        for (s, r), (c, a) in sorted(grouped.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))
    ]


def _status_table(title: str, rows: list[dict[str, Any]]) -> Table:
    table = Table(title=title)
    for column in ("status", "reason", "meaning", "count", "VND"):
        table.add_column(column, justify="right" if column in ("count", "VND") else "left")
    for row in rows:
        reason = row["reason"]
        meaning = (
            StatusReason(reason).description if reason in StatusReason.__members__ else _status_meaning(row["status"])
        )
        table.add_row(row["status"], reason or "", meaning, f"{row['count']:,}", f"{row['amount_vnd']:,}")
    return table


def _status_meaning(status: str) -> str:
    return {"ACSC": "settled", "settled": "settled", "RJCT": "rejected", "rejected": "rejected"}.get(status, status)


def _bench(args: argparse.Namespace) -> int:
    if args.what == "payroll":
        return _bench_payroll(args)
    from loadtests.bench import bench_transfers

    figures = bench_transfers(args.count, args.database)
    if args.json:
        print(json.dumps(figures, sort_keys=True))
    else:
        console = Console()
        table = Table(title=f"In-process throughput, {args.count:,} transfers per mode (SQLite files, one per node)")
        table.add_column("mode")
        table.add_column("transfers/s", justify="right")
        table.add_column("ceiling it is measured against", justify="left")
        table.add_column("share", justify="right")
        batched = figures["bare_sqlite_rows_per_second"]
        sequential = figures["bare_sqlite_single_row_transactions_per_second"]
        for mode, value in figures["modes"].items():
            one_by_one = "sequential" in mode
            ceiling, name = (sequential, "one row per transaction") if one_by_one else (batched, "batched rows")
            table.add_row(mode, f"{value:,.0f}", f"bare sqlite3, {name}: {ceiling:,.0f}/s", f"{value / ceiling:.3f}")
        console.print(table)
    return 0


def _bench_payroll(args: argparse.Namespace) -> int:
    from loadtests.bench_payroll import bench_payroll

    figures = bench_payroll(args.beneficiaries, args.format, args.database)
    if args.json:
        print(json.dumps(figures, sort_keys=True))
        return 0
    console = Console()
    table = Table(
        title=f"Payroll in process: {args.beneficiaries:,} beneficiaries, {args.format} files, {figures['database']}"
    )
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key in ("seconds", "beneficiaries_per_second", "paid", "payments_per_second", "peak_rss_mb"):
        table.add_row(key.replace("_", " "), f"{figures[key]:,}")
    table.add_row("bare sqlite3 ceiling, rows/s", f"{figures['bare_sqlite_rows_per_second']:,}")
    share = figures["beneficiaries_per_second"] / figures["bare_sqlite_rows_per_second"]
    table.add_row("beneficiaries/s as a share of it", f"{share:.3f}")
    console.print(table)
    console.print(f"phases (s): {figures['phases_seconds']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
