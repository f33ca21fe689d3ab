"""Helpers for the e2e tests of the networked sandbox: free ports, keys, positions."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

PARTICIPANTS = 8
START_TIMEOUT_S = 60


def free_port_range(count: int) -> int:
    """A base port whose next `count` ports are free right now."""
    for base in range(20_000 + os.getpid() % 1_000 * 10, 60_000, 97):
        sockets = []
        try:
            for offset in range(count):
                probe = socket.socket()
                probe.bind(("127.0.0.1", base + offset))
                sockets.append(probe)
            return base
        except OSError:
            continue
        finally:
            for probe in sockets:
                probe.close()
    raise RuntimeError("no free port range")


def healthy(url: str) -> bool:
    try:
        return httpx.get(url + "/health", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def total_liquidity(sandbox: dict[str, Any]) -> int:
    positions = httpx.get(sandbox["switch"] + "/v1/admin/positions", headers=bearer(sandbox["admin_key"])).json()
    return sum(p["liquidity_vnd"] for p in positions)


DEV_PAYER = "970497"
DEV_PAYER_FUNDS_VND = 1_000_000_000


def register_dev_payer(sandbox: dict[str, Any]) -> dict[str, str]:
    """A developer's system that only sends (no base URL): direct transfers in the tests come from
    it, so the simulated banks' books only ever hold what their own customers did."""
    admin = bearer(sandbox["admin_key"])
    body = {"bin": DEV_PAYER, "name": "Dev Pay", "kind": "bank"}
    registered = httpx.post(sandbox["switch"] + "/v1/admin/participants", json=body, headers=admin)
    assert registered.status_code == 201, registered.text
    funded = httpx.post(
        sandbox["switch"] + f"/v1/admin/participants/{DEV_PAYER}/funds-in",
        json={"amount_vnd": DEV_PAYER_FUNDS_VND},
        headers=admin,
    )
    assert funded.status_code == 200, funded.text
    return {"bin": DEV_PAYER, "api_key": registered.json()["api_key"], "account": "8800000000001"}


def assert_books_agree(sandbox: dict[str, Any], timeout_s: float = 20.0) -> None:
    """Money conserved across all nodes, read through the admin APIs: once nothing is in flight,
    each simulated bank's settlement account equals its position at the switch, its ledger
    balances, and nothing it holds is left open."""
    deadline = time.monotonic() + timeout_s
    problems: list[str] = []
    while time.monotonic() < deadline:
        problems = _book_problems(sandbox)
        if not problems:
            return
        time.sleep(0.2)
    raise AssertionError("books disagree: " + "; ".join(problems))


def _book_problems(sandbox: dict[str, Any]) -> list[str]:
    admin = bearer(sandbox["admin_key"])
    positions = {p["bin"]: p for p in httpx.get(sandbox["switch"] + "/v1/admin/positions", headers=admin).json()}
    problems = []
    for bin_code, participant in sandbox["participants"].items():
        books = httpx.get(participant["base_url"] + "/v1/admin/books", headers=admin).json()
        position = positions[bin_code]
        if not books["balanced"]:
            problems.append(f"{bin_code}: ledger does not balance")
        if books["open_items"] or position["reserved_vnd"]:
            problems.append(f"{bin_code}: {books['open_items']} open items, {position['reserved_vnd']} VND reserved")
        if books["settlement_vnd"] != position["liquidity_vnd"]:
            problems.append(f"{bin_code}: books {books['settlement_vnd']}, switch {position['liquidity_vnd']}")
    return problems


@contextlib.contextmanager
def running_serve(out: Path, *options: str) -> Iterator[dict[str, Any]]:
    """`switchyard serve` as a subprocess on free ports: yields its credentials.json once the switch
    answers, and stops it (SIGINT, then kill) afterwards."""
    port = free_port_range(PARTICIPANTS + 1)
    command = [sys.executable, "-m", "scenarios.cli", "serve", "--port", str(port), "--out", str(out), *options]
    # A file, not a pipe: nobody reads a pipe while the tests run, and a full one would stall the
    # server's logging; the file stays in the test's folder to read when a test fails.
    log = out / "serve.log"
    out.mkdir(parents=True, exist_ok=True)
    with log.open("w") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, text=True)
    credentials = out / "credentials.json"
    deadline = time.monotonic() + START_TIMEOUT_S
    while not (credentials.exists() and healthy(f"http://127.0.0.1:{port}")):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"serve did not start: {log.read_text()}")
        time.sleep(0.2)
    try:
        yield json.loads(credentials.read_text())
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def register_for_welfare(sandbox: dict[str, Any], bin_code: str, holder: dict[str, str], request_id: str) -> None:
    """A sample account's holder registers it through the citizen app (verified with its bank)."""
    request = {
        "request_id": request_id, "alias": {"type": "citizen_id", "value": holder["citizen_id"]},
        "name": holder["holder_name"], "citizen_id": holder["citizen_id"], "agent": bin_code,
        "account": holder["account"],
    }  # fmt: skip
    citizen = bearer(sandbox["citizen_app_key"])
    answer = httpx.post(sandbox["switch"] + "/v1/aliases", json=request, headers=citizen, timeout=30)
    assert answer.json()["outcome"] == "registered", answer.text
