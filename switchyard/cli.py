"""The `switchyard` command: the one composition root. It parses the command line and calls the
room that does the work; what it prints is in `switchyard.printing`.

switchyard demo                 the default scenario on embedded SQLite, with a summary
switchyard run SCENARIO         a scenario file on the simulated network: report.json and report.html
switchyard fuzz                 random scenarios under random faults, checked against the invariants
switchyard payroll              a month's payroll that resumes after a crash; prints JSON
switchyard serve                the networked sandbox: the switch and every node over HTTP
switchyard loadtest             locust against the networked sandbox, with thresholds
switchyard bench transfers      transfers per second in process, next to the bare-SQLite ceiling
switchyard bench payroll        payroll items per second in process, next to the same ceiling
switchyard bench wire           CPU per message of the ISO 20022 XML codecs, next to JSON's
switchyard bench payroll-crash  `switchyard payroll` killed with SIGKILL at many moments, each resumed and checked
switchyard certify              the conformance checks against an integrator's own participant
switchyard audit verify         the payroll's audit trail: the hash chain whole, or its first broken link

Commands import their room when they run, so `switchyard demo` never loads the web stack.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console

from network import collector
from switch.scheme.codes import WireFormat
from switch.scheme.disbursement import FORMATS, ITEMS_PER_FILE_MAX
from switchyard import printing

Command = Callable[[argparse.Namespace], int]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="switchyard", description="A sandbox national payment switch.")
    commands = parser.add_subparsers(dest="command", required=True)
    handlers: dict[str, Command] = {}
    for add in (
        _add_demo,
        _add_payroll,
        _add_loadtest,
        _add_bench,
        _add_run,
        _add_fuzz,
        _add_serve,
        _add_certify,
        _add_audit,
    ):
        name, handler = add(commands)
        handlers[name] = handler
    args = parser.parse_args(argv)
    collector.tune_for_throughput()
    return handlers[args.command](args)


# --- the commands' options --------------------------------------------------------------------


def _add_demo(commands: Any) -> tuple[str, Command]:
    from scenarios.demo import DemoConfig

    defaults = DemoConfig()
    demo = commands.add_parser("demo", help="run the default scenario and print its summary")
    demo.add_argument("--beneficiaries", type=_positive, default=defaults.beneficiaries, help="people on the rolls")
    demo.add_argument("--seed", type=int, default=defaults.seed)
    demo.add_argument("--format", choices=FORMATS, default=defaults.file_format)
    demo.add_argument("--out", type=Path, default=defaults.out, help="folder for databases and the reports")
    demo.add_argument(
        "--database", type=_database_url, default=None, help="postgresql://... (default: SQLite files under --out)"
    )
    return "demo", _demo


def _add_payroll(commands: Any) -> tuple[str, Command]:
    from network.payroll import PayrollConfig

    defaults = PayrollConfig()
    payroll = commands.add_parser("payroll", help="a month's payroll that resumes after a crash; prints JSON")
    payroll.add_argument("--beneficiaries", type=_positive, default=10_000)
    payroll.add_argument("--seed", type=int, default=defaults.seed)
    payroll.add_argument("--format", choices=FORMATS, default="json")
    payroll.add_argument("--items-per-file", type=_positive, default=ITEMS_PER_FILE_MAX)
    payroll.add_argument("--out", type=Path, default=Path("out/payroll"), help="folder for databases (kept)")
    return "payroll", _payroll


def _add_loadtest(commands: Any) -> tuple[str, Command]:
    load = commands.add_parser("loadtest", help="locust against the networked sandbox, with thresholds")
    load.add_argument("--profile", choices=["p2p", "skewed", "bulk", "aliases"], default="p2p")
    load.add_argument("--duration", type=_positive, default=60, help="seconds of load")
    load.add_argument("--users", type=_positive, default=50, help="locust users")
    load.add_argument(
        "--rate", type=_positive, default=None,
        help="transfers offered a second, paced (p2p, skewed); reports latency at that rate and whether it was met",
    )  # fmt: skip
    load.add_argument("--database", type=_database_url, default=None, help="postgresql://... (default: SQLite)")
    load.add_argument("--workers", type=_positive, default=1, help="switch worker processes (PostgreSQL only)")
    load.add_argument("--processes", type=_positive, default=1, help="locust load-generating processes")
    load.add_argument("--out", type=Path, default=Path("out/loadtest"), help="folder for locust's CSV and logs")
    load.add_argument("--no-ceiling", action="store_true", help="skip the bare-FastAPI ceiling run")
    load.add_argument(
        "--wire", choices=[w.value for w in WireFormat], default=WireFormat.JSON.value,
        help="the load banks' and the simulated nodes' wire: iso20022-xml or json",
    )  # fmt: skip
    load.add_argument("--json", action="store_true", help="print one JSON object")
    return "loadtest", _loadtest


def _add_bench(commands: Any) -> tuple[str, Command]:
    bench = commands.add_parser("bench", help="measure throughput in process")
    bench.add_argument("what", choices=["transfers", "payroll", "wire", "payroll-crash"])
    bench.add_argument("--count", type=_positive, default=20_000, help="transfers per mode")
    bench.add_argument(
        "--beneficiaries", type=_positive, default=None,
        help="payroll, payroll-crash: people on the rolls (default 100,000; payroll-crash 8,000)",
    )  # fmt: skip
    bench.add_argument(
        "--format", type=_formats, default=("json",),
        help="payroll: file formats, comma-separated (json,csv,pain.001): each run in turn, a row each",
    )  # fmt: skip
    bench.add_argument(
        "--registration-share", type=_share, default=None,
        help="payroll: share of the rolls with a registered account (default 0.3); 1.0: every item a payment",
    )  # fmt: skip
    bench.add_argument(
        "--transactions", type=_sizes, default=(1, 100), help="wire: transactions per pacs.008/pacs.002, as 1,100"
    )
    bench.add_argument("--json", action="store_true", help="print one JSON object")
    bench.add_argument(
        "--database", type=_database_url, default=None, help="postgresql://... (default: SQLite files in a temp folder)"
    )
    bench.add_argument("--points", type=_positive, default=100, help="payroll-crash: kill points (at most 10,000)")
    bench.add_argument("--seed", type=int, default=7, help="payroll-crash: the payroll's seed")
    bench.add_argument("--kill-seed", type=int, default=2026, help="payroll-crash: the seed of the kill moments")
    bench.add_argument("--items-per-file", type=_positive, default=2_000, help="payroll-crash: items per payroll file")
    bench.add_argument("--parallel", type=_positive, default=1, help="payroll-crash: points run at once (at most 4)")
    bench.add_argument(
        "--out", type=Path, default=Path("out/payroll-crash"),
        help="payroll-crash: folder for the uninterrupted run and each point's (kept for points that fail)",
    )  # fmt: skip
    return "bench", _bench


def _add_run(commands: Any) -> tuple[str, Command]:
    run = commands.add_parser("run", help="a scenario file on the simulated network; report.json and report.html")
    run.add_argument("scenario", type=Path, help="a scenario TOML file (scenarios/files/ has the shipped ones)")
    run.add_argument("--seed", type=int, default=None, help="default: the scenario's own seed")
    run.add_argument("--out", type=Path, default=None, help="default: out/run/<scenario file name>")
    run.add_argument("--population", type=_positive, default=None, help="override the scenario's population size")
    run.add_argument(
        "--database", type=_database_url, default=None, help="postgresql://... (default: SQLite files under --out)"
    )
    return "run", _run


def _add_fuzz(commands: Any) -> tuple[str, Command]:
    fuzz = commands.add_parser("fuzz", help="random scenarios under random faults, checked against the invariants")
    fuzz.add_argument("--seeds", type=_positive, default=50, help="how many seeds to run")
    fuzz.add_argument("--from", dest="first", type=int, default=0, help="the first seed")
    fuzz.add_argument("--out", type=Path, default=Path("out/fuzz"), help="each failing seed's databases and report")
    fuzz.add_argument("--keep", action="store_true", help="keep every seed's folder, not only the failing ones")
    return "fuzz", _fuzz


def _add_serve(commands: Any) -> tuple[str, Command]:
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
    serve.add_argument(
        "--wire", choices=[w.value for w in WireFormat], default=WireFormat.JSON.value,
        help="every simulated bank's and wallet's wire: iso20022-xml (head.001 + the Document) or json",
    )  # fmt: skip
    serve.add_argument(
        "--wire-for", type=_bin_wire, action="append", default=[], metavar="BIN=WIRE",
        help="one node's wire, e.g. 970436=iso20022-xml (repeat for more); overrides --wire",
    )  # fmt: skip
    return "serve", _serve


def _bin_wire(text: str) -> tuple[str, WireFormat]:
    bin_code, _, wire = text.partition("=")
    try:
        return bin_code.strip(), WireFormat(wire.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: must be BIN=iso20022-xml or BIN=json") from None


def _add_certify(commands: Any) -> tuple[str, Command]:
    certify = commands.add_parser("certify", help="the conformance checks against your own participant's inbound API")
    certify.add_argument("--base-url", type=_http_url, required=True, help="where your inbound API listens")
    certify.add_argument("--bin", type=_bin, required=True, help="your participant's BIN")
    certify.add_argument("--secret", required=True, help="your signing secret: the kit signs as the switch does")
    certify.add_argument("--wire", choices=[w.value for w in WireFormat], default=WireFormat.JSON.value)
    certify.add_argument(
        "--accounts", type=Path, default=None, help="your test accounts, TOML or JSON (default: serve's for --bin)"
    )
    certify.add_argument("--out", type=Path, default=Path("out/certify"), help="folder for junit.xml and report.html")
    return "certify", _certify


def _add_audit(commands: Any) -> tuple[str, Command]:
    audit = commands.add_parser("audit", help="the payroll's audit trail")
    actions = audit.add_subparsers(dest="audit_command", required=True)
    verify = actions.add_parser(
        "verify", help="prove the hash chain is whole, or name its first broken link; prints one JSON line"
    )
    verify.add_argument("--database", required=True, help="the payer's SQLite file, or a postgresql:// URL")
    verify.add_argument("--schema", default=None, help="PostgreSQL: the payer node's schema, e.g. switchyard_payer")
    verify.add_argument(
        "--expect-head", type=_expected_head, default=None, metavar="SEQ:HASH",
        help="a head an earlier verify printed: fail unless the log still holds that entry unchanged",
    )  # fmt: skip
    return "audit", _audit


def _expected_head(text: str) -> Any:
    from payer.audit.core import parse_head
    from payer.audit.errors import ExpectedHeadInvalid

    try:
        return parse_head(text)
    except ExpectedHeadInvalid as error:
        raise argparse.ArgumentTypeError(error.rule) from None


def _http_url(text: str) -> str:
    if not text.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError(f"must be an http:// or https:// URL, got {text!r}")
    return text


def _bin(text: str) -> str:
    if len(text) != 6 or not text.isascii() or not text.isdigit():
        raise argparse.ArgumentTypeError(f"must be a 6-digit BIN, got {text!r}")
    return text


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


def _formats(text: str) -> tuple[str, ...]:
    """`json,pain.001`: payroll file formats, each one of FORMATS."""
    formats = tuple(part.strip() for part in text.split(","))
    if any(f not in FORMATS for f in formats):
        raise argparse.ArgumentTypeError(f"each must be one of {', '.join(FORMATS)}, got {text}")
    return formats


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most 1, got {text!r}") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most 1, got {text}")
    return value


def _sizes(text: str) -> tuple[int, ...]:
    """`1,100`: transactions per message, each from 1 to the scheme's limit."""
    from switch.scheme.messages import TRANSACTIONS_PER_MESSAGE_MAX

    sizes = tuple(_positive(part.strip()) for part in text.split(","))
    if any(size > TRANSACTIONS_PER_MESSAGE_MAX for size in sizes):
        raise argparse.ArgumentTypeError(f"each must be at most {TRANSACTIONS_PER_MESSAGE_MAX}, got {text}")
    return sizes


# --- the commands ------------------------------------------------------------------------------


def _demo(args: argparse.Namespace) -> int:
    from scenarios.demo import DemoConfig, run_demo

    console = Console()
    config = DemoConfig(
        beneficiaries=args.beneficiaries, seed=args.seed, out=args.out, database=args.database, file_format=args.format
    )
    with printing.phases(console) as advance:
        result = run_demo(config, advance)
    printing.print_payroll(console, result.summary)
    printing.print_invariants(console, result.invariants)
    console.print(f"Reports written to {result.out.resolve()}:")
    for path in result.files:
        console.print(f"  {path.name}")
    for failure in result.failures:
        console.print(f"[red]FAILED[/red] {failure}")
    return 0 if not result.failures else 1


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
    with printing.phases(console) as advance:
        result = run_scenario(scenario, out, args.seed, args.scenario.name, advance, database=args.database)
    summary = result.payroll
    console.print(printing.cells_table("Payroll items by final state", summary.by_status, printing.STATE_MEANINGS))
    console.print(f"Cashless share {summary.cashless_share:.1%} (target {summary.cashless_target_share:.0%})")
    for failure in result.failures:
        console.print(f"[red]FAILED[/red] {failure}")
    console.print(f"Report: {(out / REPORT_HTML).resolve()} and {REPORT_JSON}")
    return 0 if result.ok else 1


def _fuzz(args: argparse.Namespace) -> int:
    """Exit 1 when a seed fails, each failing seed printed with the command that replays it."""
    from scenarios.fuzz import fuzz

    console = Console()
    with printing.seeds(console, args.seeds) as advance:
        failures = fuzz(args.seeds, args.first, args.out, args.keep, advance)
    last = args.first + args.seeds - 1
    for failure in failures:
        console.print(f"[red]seed {failure.seed} FAILED[/red]: {failure.problem}")
        console.print(f"  replay: {failure.replay}  (report in {args.out / f'seed-{failure.seed}'})")
    console.print(f"{args.seeds - len(failures)} of {args.seeds} seeds ({args.first} to {last}) held every invariant.")
    return 1 if failures else 0


def _payroll(args: argparse.Namespace) -> int:
    from network.payroll import PayrollConfig, run_resumable

    config = PayrollConfig(
        beneficiaries=args.beneficiaries, seed=args.seed, file_format=args.format,
        items_per_file=min(args.items_per_file, ITEMS_PER_FILE_MAX), folder=args.out / "db",
    )  # fmt: skip
    run, report = run_resumable(config, args.out)
    switch = run.sandbox.switch
    summaries = [switch.disbursement_summary(None, d.id) for d in switch.disbursements()]
    shown = {"disbursement_id", "status", "items_total", "by_status", "reconciliation"}
    result = {
        "ok": report.ok,
        "failures": report.failures,
        "paid_count": report.payroll_paid_count,
        "paid_vnd": report.payroll_paid_vnd,
        "disbursements": [s.model_dump(mode="json", include=shown) for s in summaries],
    }
    print(json.dumps(result, sort_keys=True))
    run.sandbox.close()
    return 0 if report.ok else 1


def _serve(args: argparse.Namespace) -> int:
    import asyncio

    # uvloop (installed with uvicorn[standard]): uvicorn picks it only when it owns the loop, and
    # serve runs nine servers on one loop of its own.
    import uvloop

    from gateway.serve import ServeConfig, serve
    from network.participants import DEFAULT_PARTICIPANTS

    if args.workers > 1 and args.database is None:
        print("switchyard serve: --workers above 1 needs --database postgresql://...", file=sys.stderr)
        return 2
    config = ServeConfig(
        host=args.host, port=args.port, database=args.database, out=args.out, admin_key=args.admin_key,
        workers=args.workers, schema_prefix=args.schema_prefix,
        wires={**{spec.bin: WireFormat(args.wire) for spec in DEFAULT_PARTICIPANTS}, **dict(args.wire_for)},
    )  # fmt: skip
    unknown = sorted(set(config.wires) - {spec.bin for spec in DEFAULT_PARTICIPANTS})
    if unknown:
        print(f"switchyard serve: --wire-for: {', '.join(unknown)} is no simulated node's BIN", file=sys.stderr)
        return 2
    with contextlib.suppress(KeyboardInterrupt), asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(serve(config))
    return 0


def _loadtest(args: argparse.Namespace) -> int:
    from loadtests import THRESHOLD_VARIABLES
    from loadtests.loadtest import PACED_PROFILES, LoadtestConfig, run_loadtest

    if args.workers > 1 and args.database is None:
        print("switchyard loadtest: --workers above 1 needs --database postgresql://...", file=sys.stderr)
        return 2
    if args.rate is not None and args.profile not in PACED_PROFILES:
        paced = ", ".join(sorted(PACED_PROFILES))
        print(f"switchyard loadtest: --rate paces the {paced} profiles, not {args.profile}", file=sys.stderr)
        return 2
    thresholds = {k: v for k, v in os.environ.items() if k in THRESHOLD_VARIABLES}
    config = LoadtestConfig(
        profile=args.profile, duration_s=args.duration, users=args.users, database=args.database,
        workers=args.workers, processes=args.processes, out=args.out, ceiling=not args.no_ceiling,
        thresholds=thresholds, wire=WireFormat(args.wire), rate_per_s=args.rate,
    )  # fmt: skip
    result = run_loadtest(config)
    if args.json:
        print(json.dumps(result, sort_keys=True))
    else:
        printing.print_loadtest(Console(), result)
    return 0 if result["ok"] else 1


def _bench(args: argparse.Namespace) -> int:
    if args.what == "payroll-crash":
        return _bench_payroll_crash(args)
    if args.what == "payroll":
        from loadtests.bench_payroll import REGISTRATION_SHARE_DEFAULT, bench_payroll_formats

        share = REGISTRATION_SHARE_DEFAULT if args.registration_share is None else args.registration_share
        beneficiaries = 100_000 if args.beneficiaries is None else args.beneficiaries
        figures = bench_payroll_formats(beneficiaries, args.format, args.database, share)
    elif args.what == "wire":
        from loadtests.bench_wire import bench_wire

        figures = bench_wire(args.transactions)
    else:
        from loadtests.bench import bench_transfers

        figures = bench_transfers(args.count, args.database)
    if args.json:
        print(json.dumps(figures, sort_keys=True))
    elif args.what == "payroll":
        printing.print_bench_payroll(Console(), figures)
    elif args.what == "wire":
        printing.print_bench_wire(Console(), figures)
    else:
        printing.print_bench_transfers(Console(), args.count, figures)
    return 0


def _bench_payroll_crash(args: argparse.Namespace) -> int:
    """Exit 1 when any point's resumed payroll differs from the uninterrupted run (each named in
    the last lines, its folder kept). With --json the progress lines go to stderr."""
    from loadtests.crash_run import PARALLEL_MAX, POINTS_MAX, PayrollSizes, crash_run

    beneficiaries = 8_000 if args.beneficiaries is None else args.beneficiaries
    sizes = PayrollSizes(beneficiaries, min(args.items_per_file, ITEMS_PER_FILE_MAX), args.seed)
    parallel = min(args.parallel, PARALLEL_MAX)

    def say(line: str) -> None:
        print(line, file=sys.stderr if args.json else sys.stdout, flush=True)

    summary = crash_run(sizes, min(args.points, POINTS_MAX), args.kill_seed, args.out, parallel, say)
    if args.json:
        print(json.dumps(summary.as_json(), sort_keys=True))
    return 0 if all(outcome.held for outcome in summary.outcomes) else 1


def _certify(args: argparse.Namespace) -> int:
    """Exit 0 when every check passes (or is skipped), 1 when one fails, 2 for accounts it cannot use."""
    from datetime import UTC, datetime

    from conformance.accounts import AccountsInvalid, load_accounts, simulated_accounts
    from conformance.checks import run_checks
    from conformance.client import ParticipantClient
    from conformance.report import Certification, print_certification, write_reports

    try:
        accounts = load_accounts(args.accounts) if args.accounts else simulated_accounts(args.bin)
    except AccountsInvalid as error:
        print(f"switchyard certify: {error}", file=sys.stderr)
        return 2
    wire = WireFormat(args.wire)
    client = ParticipantClient(args.base_url, args.bin, args.secret, wire)
    started = datetime.now(UTC)
    try:
        results = run_checks(client, accounts)
    finally:
        client.close()
    certification = Certification(args.base_url, args.bin, wire, started, tuple(results))
    console = Console()
    print_certification(console, certification)
    for path in write_reports(certification, args.out):
        console.print(f"Wrote {path.resolve()}")
    return 0 if certification.ok else 1


def _audit(args: argparse.Namespace) -> int:
    """Exit 0 when the chain is whole, 1 naming its first broken link (sequence number and what is
    wrong), 2 when there is no audit trail to verify."""
    from payer.audit import service
    from payer.audit.errors import AuditLogMissing

    try:
        engine = service.open_database(args.database, args.schema)
        try:
            report = service.verify(engine, args.expect_head)
        finally:
            engine.dispose()
    except AuditLogMissing as error:
        print(f"switchyard audit verify: {error}", file=sys.stderr)
        return 2
    print(json.dumps(report.as_json(), sort_keys=True, ensure_ascii=False))
    if report.broken is not None:
        print(f"switchyard audit verify: the chain is broken at {report.broken.message}", file=sys.stderr)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
