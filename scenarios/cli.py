"""The `switchyard` command: the composition root for the terminal.

switchyard demo                 the default scenario on embedded SQLite, with a summary
switchyard bench transfers      transfers per second in process, next to the bare-SQLite ceiling
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from scenarios.demo import DemoConfig, DemoResult, run_demo
from switch.scheme.codes import StatusReason

DEMO_STEPS = 3 + 20  # population, accounts, registrations, then 20 slices of the payment window


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="switchyard", description="A sandbox national payment switch.")
    commands = parser.add_subparsers(dest="command", required=True)
    defaults = DemoConfig()
    demo = commands.add_parser("demo", help="run the default scenario and print its summary")
    demo.add_argument("--people", type=_positive, default=defaults.people, help="population size")
    demo.add_argument("--transfers", type=_positive, default=defaults.transfers, help="payments to make")
    demo.add_argument("--seed", type=int, default=defaults.seed)
    demo.add_argument("--out", type=Path, default=defaults.out, help="folder for databases and summary.json")
    demo.add_argument(
        "--database", type=_database_url, default=None, help="postgresql://... (default: SQLite files under --out)"
    )
    bench = commands.add_parser("bench", help="measure throughput in process")
    bench.add_argument("what", choices=["transfers"])
    bench.add_argument("--count", type=_positive, default=20_000, help="transfers per mode")
    bench.add_argument("--json", action="store_true", help="print one JSON object")
    bench.add_argument(
        "--database", type=_database_url, default=None, help="postgresql://... (default: SQLite files in a temp folder)"
    )
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
    return _bench(args)


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
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(config))
    return 0


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
        people=args.people, transfers=args.transfers, seed=args.seed, out=args.out, database=args.database
    )
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeElapsedColumn(), console=console, transient=True) as progress:  # fmt: skip
        task = progress.add_task("building the network", total=DEMO_STEPS)

        def advance(label: str, amount: int) -> None:
            progress.update(task, advance=amount, description=label)

        result = run_demo(config, advance)
    _print_demo(console, result)
    return 0 if result.invariants.ok else 1


def _print_demo(console: Console, result: DemoResult) -> None:
    registrations = Table(title="Welfare account registrations (citizen app → switch → bank)")
    registrations.add_column("outcome")
    registrations.add_column("count", justify="right")
    for outcome, count in sorted(result.registrations.items()):
        registrations.add_row(outcome, f"{count:,}")
    console.print(registrations)
    console.print(_status_table("Transfers at the switch by status and reason", _group(result.transfers)))
    console.print(
        _status_table("Payments as customers saw them (refusals by their own bank included)", result.payments)
    )
    participants = Table(title="Participants")
    for column in (
        "BIN",
        "name",
        "customers",
        "sent",
        "sent VND",
        "received",
        "received VND",
        "liquidity at switch VND",
    ):
        participants.add_column(column, justify="left" if column in ("BIN", "name") else "right")
    for row in result.participants:
        participants.add_row(
            row["bin"], row["name"], f"{row['customers']:,}", f"{row['sent']:,}", f"{row['sent_vnd']:,}",
            f"{row['received']:,}", f"{row['received_vnd']:,}", f"{row['liquidity_vnd']:,}",
        )  # fmt: skip
    console.print(participants)
    console.print(
        f"Late acceptances refused by the switch (creditor reversed its credit): {result.late_acceptances_refused}"
    )
    report = result.invariants
    if report.ok:
        console.print(
            f"[green]Conservation check passed[/green]: customers hold {report.customer_money_vnd:,} VND, "
            f"exactly what they were given; {report.settled_count:,} transfers settled ({report.settled_vnd:,} VND), "
            "each credited once and debited once; every transfer is final; every ledger balances."
        )
    else:
        console.print("[red]Invariant failures:[/red]")
        for failure in report.failures:
            console.print(f"  - {failure}")
    console.print(f"Summary written to {(result.out / 'summary.json').resolve()}")


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
    from scenarios.bench import bench_transfers

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


if __name__ == "__main__":
    sys.exit(main())
