"""What the `switchyard` command shows a person: progress bars while it works, and tables of the
payroll, the load test and the benches when it is done (rich)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from network.checks import InvariantReport
from network.participants import DEFAULT_PARTICIPANTS
from payer.programs import RULES
from payer.reconciliation import PayrollSummary
from switch.scheme.codes import StatusReason
from switch.scheme.summary import Cell

WIRE_TABLE_WIDTH = 100
PAYROLL_TABLE_WIDTH = 128
STATE_MEANINGS = {
    "paid": "credited to the registered account",
    "cash": "on the cash list for the post office",
    "held": "not paid: identity check failed",
}


@contextlib.contextmanager
def phases(console: Console) -> Iterator[Callable[[str, float], None]]:
    """A progress bar that shows the current phase (population, registrations, payroll, ...)."""
    with Progress(TextColumn("{task.description:<14}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeElapsedColumn(), console=console, transient=True) as progress:  # fmt: skip
        task = progress.add_task("population", total=100)

        def advance(phase: str, fraction: float) -> None:
            progress.update(task, completed=100 * fraction, description=phase)

        yield advance


@contextlib.contextmanager
def seeds(console: Console, total: int) -> Iterator[Callable[[int, int], None]]:
    """A progress bar over fuzz seeds, with the count of failed ones."""
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=console, transient=True) as progress:  # fmt: skip
        task = progress.add_task("fuzz", total=total)

        def advance(done: int, failed: int) -> None:
            progress.update(task, completed=done, description=f"fuzz ({failed} failed)")

        yield advance


def cells_table(title: str, cells: Mapping[str, Cell], meanings: Mapping[str, str]) -> Table:
    table = Table(title=title)
    for column in ("", "meaning", "count", "VND"):
        table.add_column(column, justify="right" if column in ("count", "VND") else "left")
    for key, cell in cells.items():
        table.add_row(key, meanings.get(key, ""), f"{cell.count:,}", f"{cell.amount_vnd:,}")
    return table


def print_payroll(console: Console, summary: PayrollSummary) -> None:
    """The payroll's outcome by state, reason, program and creditor agent; the cashless share by
    province; the reconciliation and the retries."""
    console.print(cells_table("Payroll items by final state", summary.by_status, STATE_MEANINGS))
    reasons = {r.value: r.description for r in StatusReason}
    console.print(cells_table("Not paid by transfer, by reason (held or on the cash list)", summary.by_reason, reasons))
    labels = {program.value: rule.label for program, rule in RULES.items()}
    console.print(cells_table("By program", summary.by_program, labels))
    names = {spec.bin: spec.name for spec in DEFAULT_PARTICIPANTS}
    console.print(cells_table("Paid, by creditor agent", summary.by_participant, names))
    console.print(_provinces_table(summary))
    r = summary.reconciliation
    console.print(
        f"Reconciliation: paid {r.paid.count:,} ({r.paid.amount_vnd:,} VND) + cash {r.cash.count:,}"
        f" ({r.cash.amount_vnd:,} VND) + held {r.held.count:,} ({r.held.amount_vnd:,} VND)"
        f" = submitted {r.submitted.count:,} ({r.submitted.amount_vnd:,} VND):"
        f" {'[green]balanced[/green]' if r.balanced else '[red]NOT balanced[/red]'}."
        f" Cashless share {summary.cashless_share:.1%} against the {summary.cashless_target_share:.0%} target."
    )
    console.print(
        f"Retried after a timeout or an offline agent: {summary.retried.count:,} items, {summary.retried.paid:,} of"
        " them paid in the end (the rest are on the cash list with AB05 or AB08)."
    )


def _provinces_table(summary: PayrollSummary) -> Table:
    target = summary.cashless_target_share
    provinces = Table(title=f"Cashless share by province (target {target:.0%})")
    for column in ("code", "province", "paid", "payable", "share"):
        provinces.add_column(column, justify="right" if column in ("paid", "payable", "share") else "left")
    for code, row in summary.cashless_share_by_province.items():
        mark = "green" if row.share >= target else "yellow"
        provinces.add_row(code, row.province, f"{row.paid:,}", f"{row.payable:,}", f"[{mark}]{row.share:.1%}")
    return provinces


def print_invariants(console: Console, report: InvariantReport) -> None:
    if report.ok:
        console.print(
            f"[green]Checks passed[/green]: the banks and wallets credited exactly what the switch paid"
            f" ({report.payroll_paid_count:,} items, {report.payroll_paid_vnd:,} VND); customers hold"
            f" {report.customer_money_vnd:,} VND, their deposits plus the payroll; every item and transfer is final;"
            " every ledger balances."
        )
        return
    console.print("[red]Invariant failures:[/red]")
    for failure in report.failures:
        console.print(f"  - {failure}")


def print_loadtest(console: Console, result: dict[str, Any]) -> None:
    locust = result["locust"]
    shape = "" if result.get("rate_offered") is None else f" at {result['rate_offered']:,}/s offered"
    title = f"Load test {result['profile']}{shape}: {result['users']} users, {result['duration_s']} s"
    title += f", {result['database']}"
    table = Table(title=f"{title}, {result['switch_workers']} switch worker(s), {result['wire']} wire")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key in ("requests", "failures", "requests_per_second", "p50_ms", "p95_ms", "p99_ms"):
        table.add_row(key.replace("_", " "), f"{locust[key]:,}" if locust[key] is not None else "-")
    if result.get("rate_offered") is not None:
        met = "[green]met[/green]" if result["rate_met"] else "[red]missed[/red]"
        rates = f"{result['rate_offered']:,} / {result['rate_achieved']:,}"
        table.add_row("rate offered / achieved, requests/s", rates)
        table.add_row("rate", met)
    cpu_ms = result["server"].get("cpu_ms_per_transfer")
    table.add_row("server CPU per settled transfer, ms", f"{cpu_ms}" if cpu_ms is not None else "-")
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


def print_bench_transfers(console: Console, count: int, figures: dict[str, Any]) -> None:
    table = Table(title=f"In-process throughput, {count:,} transfers per mode (SQLite files, one per node)")
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


def print_bench_payroll(console: Console, figures: dict[str, Any]) -> None:
    """A row per file format (one run's figures, or each of `runs`), each beside the bare-SQLite
    ceiling measured right after it. Printed PAYROLL_TABLE_WIDTH columns wide at least, rather than
    with its figures cut."""
    if console.width < PAYROLL_TABLE_WIDTH:
        console = Console(file=console.file, width=PAYROLL_TABLE_WIDTH)
    runs = figures.get("runs", [figures])
    first = runs[0]
    title = (
        f"Payroll in process: {first['beneficiaries']:,} beneficiaries, registration share"
        f" {first['registration_share']:g}{' (every item a payment)' if first['registration_share'] == 1 else ''},"
        f" {'SQLite files' if first['database'] == 'sqlite' else 'PostgreSQL'}"
    )
    table = Table(title=title)
    columns = ("format", "paid", "seconds", "beneficiaries/s", "payments/s", "peak RSS MB", "bare sqlite3 rows/s")
    for name in (*columns, "beneficiaries/s share of it"):
        table.add_column(name, justify="left" if name == "format" else "right", no_wrap=True)
    for run in runs:
        share = run["beneficiaries_per_second"] / run["bare_sqlite_rows_per_second"]
        table.add_row(
            run["format"], f"{run['paid']:,}", f"{run['seconds']:,}", f"{run['beneficiaries_per_second']:,}",
            f"{run['payments_per_second']:,}", f"{run['peak_rss_mb']:,}", f"{run['bare_sqlite_rows_per_second']:,}",
            f"{share:.3f}",
        )  # fmt: skip
    console.print(table)
    for run in runs:
        console.print(f"phases (s), {run['format']}: {run['phases_seconds']}")


def print_bench_wire(console: Console, figures: dict[str, Any]) -> None:
    """µs of CPU per call; `×` is XML's figure over JSON's. Wider than most tables: it is printed
    WIRE_TABLE_WIDTH columns wide at least, rather than with its figures cut."""
    if console.width < WIRE_TABLE_WIDTH:
        console = Console(file=console.file, width=WIRE_TABLE_WIDTH)
    table = Table(title=f"The wire's codecs, CPU µs per call (median of {figures['rounds']} rounds)")
    for name in ("message", "txs", "XML write", "per tx", "JSON", "×", "XML read", "per tx", "JSON", "×"):
        table.add_column(name, justify="left" if name == "message" else "right", no_wrap=True)
    for row in figures["messages"]:
        table.add_row(
            row["kind"], f"{row['transactions']:,}",
            f"{row['xml_write_us']:,.1f}", f"{row['xml_write_us_per_transaction']:,.1f}",
            f"{row['json_write_us']:,.1f}", f"{row['write_ratio']}",
            f"{row['xml_read_us']:,.1f}", f"{row['xml_read_us_per_transaction']:,.1f}",
            f"{row['json_read_us']:,.1f}", f"{row['read_ratio']}",
        )  # fmt: skip
    console.print(table)
    path = figures["transfer_path"]
    console.print(
        f"per settled transfer (pacs.008/pacs.002 of {path['batch']} where the switch batches): "
        f"XML {path['xml_us_per_transfer']:,.1f} µs, JSON {path['json_us_per_transfer']:,.1f} µs, "
        f"XML costs {path['xml_minus_json_us_per_transfer']:,.1f} µs more"
    )
