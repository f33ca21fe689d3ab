"""`switchyard loadtest`: the networked sandbox under locust, with its thresholds, its figures and
a check on the server's side.

It starts `switchyard serve` (SQLite, or PostgreSQL with several switch workers), registers load
participants at the switch (banks of the load test, with no simulated node, so the simulated banks'
books hold only what was paid to them), runs the profile's locust file headless, and reads
locust's CSV stats. Then it checks the server: every simulated bank's books agree with the switch,
money is conserved, and the switch settled as many transfers as locust counted ACSC answers. In the
same run it measures a bare FastAPI endpoint with the same users, as the ceiling.

Two shapes of run. Closed (the default): each user sends its next transfer as soon as the last is
answered, so the run finds the saturation throughput, and its latency is mostly queueing (Little's
law: 200 users at 850/s wait 235 ms whatever the switch does). At a fixed rate (`--rate N`): the
p2p and skewed users are paced with locust's `constant_throughput` at N / users a second each, so
the offered load does not depend on the answers, and the run reports the latency at that rate and
whether the rate was met.
"""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

import loadtests
from loadtests import RATE_SHORTFALL_MAX, THRESHOLD_VARIABLES
from loadtests.launch import books_settled, cpu_s, running_app, running_serve
from network.participants import SAMPLE_HOLDERS
from network.storage import Storage
from switch.scheme.codes import WireFormat

PROFILES = {"p2p": "p2p.py", "skewed": "skewed.py", "bulk": "bulk.py", "aliases": "aliases.py"}
PACED_PROFILES = frozenset({"p2p", "skewed"})  # the profiles whose users `--rate` paces
# A paced user's interval between transfers is at least this many times the p99 bar (100 ms): it
# falls behind its schedule only when one answer takes longer than the interval, so the users, not
# the answers, hold the rate, and the rate is missed only when the switch is far past its bar.
RATE_LATENCY_BUDGET_S = 0.1
RATE_USERS_HEADROOM = 4
BULK_FILE_ITEMS = 100
# Sandbox BINs for the load test's own participants; the first sends the most in a skewed profile.
LOAD_PARTICIPANTS = ("970490", "970491", "970492", "970493")
LOAD_FUNDS_VND = 1_000_000_000_000
CEILING_SHARE_OF_DURATION = 0.5
CEILING_DURATION_S_MIN = 5
LOCUST_STOP_TIMEOUT_S = 10
BOOKS_WAIT_S = 30.0


@dataclass(frozen=True)
class LoadtestConfig:
    profile: str = "p2p"
    duration_s: int = 60
    users: int = 50
    database: str | None = None
    workers: int = 1
    processes: int = 1  # locust worker processes (--processes): more load generators on more cores
    out: Path = Path("out/loadtest")
    ceiling: bool = True
    thresholds: Mapping[str, str] = field(default_factory=dict)  # SWITCHYARD_* overrides for the profile
    wire: WireFormat = WireFormat.JSON  # the load banks' wire and every simulated node's
    rate_per_s: int | None = None  # transfers offered a second (--rate); None: the closed, saturating run


def rate_users(rate_per_s: int, users_min: int) -> int:
    """Users enough that a rate is met: each one's interval (users / rate seconds) at least
    RATE_USERS_HEADROOM times the latency budget, and never fewer than asked for."""
    return max(users_min, math.ceil(rate_per_s * RATE_LATENCY_BUDGET_S * RATE_USERS_HEADROOM))


def profile_users(config: LoadtestConfig) -> int:
    return config.users if config.rate_per_s is None else rate_users(config.rate_per_s, config.users)


def run_loadtest(config: LoadtestConfig) -> dict[str, Any]:
    if config.profile not in PROFILES:
        raise ValueError(f"profile: {config.profile!r} is not one of {sorted(PROFILES)}")
    if config.rate_per_s is not None and config.profile not in PACED_PROFILES:
        paced = sorted(PACED_PROFILES)
        raise ValueError(f"rate: the {config.profile} profile is not paced; --rate needs one of {paced}")
    config.out.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(config.out / "serve", ignore_errors=True)  # every run starts from an empty sandbox
    options = ["--admin-key", "loadtest", "--wire", config.wire.value]
    prefix = f"loadtest_{uuid.uuid4().hex[:10]}"  # its own schemas, dropped after the run
    if config.database is not None:
        options += ["--database", config.database, "--workers", str(config.workers), "--schema-prefix", prefix]
    try:
        return _run(config, options)
    finally:
        if config.database is not None:
            Storage(url=config.database, schema_prefix=prefix).drop()


def _run(config: LoadtestConfig, options: list[str]) -> dict[str, Any]:
    with running_serve(config.out / "serve", *options) as sandbox:
        settings = _prepare(sandbox, config)
        before = _server_figures(sandbox)
        cpu_before_s = cpu_s(sandbox["serve_pid"])
        switch, users = str(sandbox["switch"]), profile_users(config)
        locust = _run_locust(
            config, PROFILES[config.profile], switch, "profile", config.duration_s, config.thresholds, users
        )
        problems = books_settled(sandbox, BOOKS_WAIT_S)
        after = _server_figures(sandbox)
        after["cpu_s"] = cpu_s(sandbox["serve_pid"]) - cpu_before_s
    result = _result(config, settings, locust, before, after, problems)
    if config.ceiling:
        result["ceiling"] = _ceiling(config)
        rps = result["ceiling"]["requests_per_second"]
        result["share_of_ceiling"] = round(locust["requests_per_second"] / rps, 3) if rps else None
    (config.out / "summary.json").write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    return result


def _prepare(sandbox: dict[str, Any], config: LoadtestConfig) -> dict[str, Any]:
    """The load participants, funded, and the config file the locust files read."""
    admin = {"Authorization": f"Bearer {sandbox['admin_key']}"}
    payers = []
    for number, bin_code in enumerate(LOAD_PARTICIPANTS):
        body = {"bin": bin_code, "name": f"Load Bank {number + 1}", "kind": "bank", "wire": config.wire.value}
        registered = httpx.post(sandbox["switch"] + "/v1/admin/participants", json=body, headers=admin, timeout=30)
        registered.raise_for_status()
        funds = {"amount_vnd": LOAD_FUNDS_VND}
        url = sandbox["switch"] + f"/v1/admin/participants/{bin_code}/funds-in"
        httpx.post(url, json=funds, headers=admin, timeout=30).raise_for_status()
        payers.append({"bin": bin_code, "api_key": registered.json()["api_key"], "account": f"88{number:011d}"})
    # Every funded sample account, so no wallet meets its balance cap within a run.
    creditors = [{"bin": b, "accounts": p["accounts"]} for b, p in sorted(sandbox["participants"].items())]
    beneficiaries = _beneficiaries(config.out / "serve" / sandbox["payer"]["population"])
    settings = {
        "switch": sandbox["switch"],
        "wire": config.wire.value,
        "payers": payers,
        "creditors": creditors,
        "expected_rejects": ["AM04"],
        "payer": sandbox["payer"],
        "beneficiaries": beneficiaries,
        "aliases": _register_aliases(sandbox) if config.profile == "aliases" else [],
        "unregistered": [b["citizen_id"] for b in beneficiaries],
        # Read by the paced profiles: the rate offered and each user's share of it.
        "rate_offered_per_s": config.rate_per_s,
        "rate_per_user_per_s": config.rate_per_s / profile_users(config) if config.rate_per_s else None,
    }
    (config.out / "config.json").write_text(json.dumps(settings, indent=2))
    return settings


def _register_aliases(sandbox: dict[str, Any]) -> list[str]:
    """The holders of the first sample accounts register them through the citizen app."""
    citizen = {"Authorization": f"Bearer {sandbox['citizen_app_key']}"}
    registered = []
    for bin_code, participant in sorted(sandbox["participants"].items()):
        for number, holder in enumerate(participant["sample_customers"]):
            request = {
                "request_id": f"LOAD-{bin_code}-{number}",
                "alias": {"type": "citizen_id", "value": holder["citizen_id"]},
                "name": holder["holder_name"], "citizen_id": holder["citizen_id"], "agent": bin_code,
                "account": holder["account"],
            }  # fmt: skip
            answer = httpx.post(sandbox["switch"] + "/v1/aliases", json=request, headers=citizen, timeout=30)
            if answer.status_code == 200 and answer.json()["outcome"] == "registered":
                registered.append(holder["citizen_id"])
    if not registered:
        raise RuntimeError("no sample account could be registered for the alias profile")
    return registered


def _beneficiaries(population: Path) -> list[dict[str, str]]:
    """People of serve's registry who hold no sample account: a bulk file's items end on the cash
    list, so the bulk profile measures intake, not the banks."""
    with population.open(newline="", encoding="utf-8") as source:
        people = [row for row in csv.DictReader(source) if row["alive"] == "True"]
    holders = SAMPLE_HOLDERS
    return [{"citizen_id": p["citizen_id"], "name": p["name"]} for p in people[holders : holders + BULK_FILE_ITEMS]]


def _run_locust(
    config: LoadtestConfig,
    locustfile: str,
    host: str,
    name: str,
    duration_s: int,
    overrides: Mapping[str, str],
    users: int,
) -> dict[str, Any]:
    prefix = config.out / name
    tally = config.out / f"{name}-tally.json"
    totals = config.out / f"{name}-totals.json"
    command = [
        sys.executable, "-m", "locust", "-f", str(Path(loadtests.__file__).parent / locustfile), "--headless",
        "-u", str(users), "-r", str(users), "--run-time", f"{duration_s}s", "--host", host,
        "--csv", str(prefix), "--only-summary", "--stop-timeout", str(LOCUST_STOP_TIMEOUT_S),
    ]  # fmt: skip
    if config.processes > 1:
        command += ["--processes", str(config.processes)]
    # The thresholds reach a profile only through `overrides`: the ceiling run gets none, whatever
    # the caller's environment holds.
    inherited = {k: v for k, v in os.environ.items() if k not in THRESHOLD_VARIABLES}
    environment = {
        **inherited,
        **overrides,
        "SWITCHYARD_LOADTEST_CONFIG": str(config.out / "config.json"),
        "SWITCHYARD_LOADTEST_TALLY": str(tally),
        "SWITCHYARD_LOADTEST_TOTALS": str(totals),
    }
    with (config.out / f"{name}.log").open("w") as log:
        finished = subprocess.run(command, env=environment, stdout=log, stderr=subprocess.STDOUT, check=False)
    if not totals.exists():  # every profile writes them when it quits: locust stopped before that
        raise RuntimeError(f"locust wrote no final figures; see {config.out / f'{name}.log'}")
    figures = json.loads(totals.read_text())
    figures["exit_code"] = finished.returncode
    figures["thresholds"] = _threshold_verdict(config.out / f"{name}.log")
    figures["failures_by_kind"] = _failures(Path(f"{prefix}_failures.csv"))
    figures["outcomes"] = _outcomes(config.out, tally.name)
    return figures


def _outcomes(folder: Path, tally_name: str) -> dict[str, int]:
    """The outcomes every locust process counted (one file each: `<tally>.<pid>`), summed."""
    total: dict[str, int] = {}
    for path in sorted(folder.glob(f"{tally_name}.*")):
        for kind, count in json.loads(path.read_text()).items():
            total[kind] = total.get(kind, 0) + int(count)
        path.unlink()  # a later run in the same folder counts only its own
    return total


def _failures(path: Path) -> dict[str, int]:
    if not path.exists():
        return {}
    with path.open(newline="") as source:
        return {row["Error"]: int(row["Occurrences"]) for row in csv.DictReader(source)}


def _threshold_verdict(log: Path) -> str:
    for line in reversed(log.read_text().splitlines()):
        if line.startswith(("THRESHOLDS MISSED", "THRESHOLDS MET")):
            return line
    return "no verdict: see the locust log"


def _server_figures(sandbox: dict[str, Any]) -> dict[str, Any]:
    admin = {"Authorization": f"Bearer {sandbox['admin_key']}"}
    rows = httpx.get(sandbox["switch"] + "/v1/admin/clearing-summary", headers=admin, timeout=30).json()
    positions = httpx.get(sandbox["switch"] + "/v1/admin/positions", headers=admin, timeout=30).json()
    by_debtor: dict[str, int] = {}
    for row in rows:
        if row["status"] == "ACSC":
            by_debtor[row["debtor_agent"]] = by_debtor.get(row["debtor_agent"], 0) + row["count"]
    return {
        "settled": sum(by_debtor.values()),
        "settled_by_debtor": by_debtor,
        "pending": sum(r["count"] for r in rows if r["status"] == "PDNG"),
        "liquidity_vnd": sum(p["liquidity_vnd"] for p in positions),
    }


def _result(
    config: LoadtestConfig,
    settings: dict[str, Any],
    locust: dict[str, Any],
    before: dict[str, Any],
    after: dict[str, Any],
    book_problems: list[str],
) -> dict[str, Any]:
    settled = after["settled"] - before["settled"]
    counted = int(locust["outcomes"].get("ACSC", 0))
    failures = list(book_problems)
    if after["liquidity_vnd"] != before["liquidity_vnd"]:
        failures.append(f"conservation: positions total {after['liquidity_vnd']}, was {before['liquidity_vnd']}")
    if settled != counted:
        failures.append(f"settled: the switch settled {settled} transfers, locust counted {counted} ACSC")
    if after["pending"]:
        failures.append(f"final state: {after['pending']} transfers still PDNG at the switch")
    return {
        "profile": config.profile,
        "wire": config.wire.value,
        "duration_s": config.duration_s,
        "users": profile_users(config),
        **_rate(config, locust),
        "database": "postgresql" if config.database else "sqlite",
        "switch_workers": config.workers if config.database else 1,
        "locust": locust,
        "server": {
            "settled": settled,
            "settled_by_debtor": {
                b: n - before["settled_by_debtor"].get(b, 0)
                for b, n in sorted(after["settled_by_debtor"].items())
                if n - before["settled_by_debtor"].get(b, 0)
            },
            "checks_failed": failures,
            # CPU of serve's processes (switch and participants, not locust) per settled transfer
            "cpu_ms_per_transfer": round(after["cpu_s"] * 1000 / settled, 3) if settled else None,
        },
        "ok": locust["exit_code"] == 0 and not failures,
        "load_participants": [p["bin"] for p in settings["payers"]],
    }


def _ceiling(config: LoadtestConfig) -> dict[str, Any]:
    duration_s = max(CEILING_DURATION_S_MIN, int(config.duration_s * CEILING_SHARE_OF_DURATION))
    with running_app("gateway.ceiling:create_app", config.out / "ceiling-server.log") as url:
        return _run_locust(config, "ceiling.py", url, "ceiling", duration_s, {}, config.users)


def _rate(config: LoadtestConfig, locust: dict[str, Any]) -> dict[str, Any]:
    """The rate offered, the rate locust achieved, and whether it came within RATE_SHORTFALL_MAX of
    it; all three None in a closed run, which offers no rate."""
    if config.rate_per_s is None:
        return {"rate_offered": None, "rate_achieved": None, "rate_met": None}
    achieved = locust["requests_per_second"]
    met = achieved >= config.rate_per_s * (1 - RATE_SHORTFALL_MAX)
    return {"rate_offered": config.rate_per_s, "rate_achieved": achieved, "rate_met": met}
