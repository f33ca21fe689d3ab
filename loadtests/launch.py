"""Starting `switchyard serve` (or any uvicorn app) as a subprocess on free ports, and stopping it:
for `switchyard loadtest` and the e2e tests, which talk to it over real HTTP."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import psutil

from network import processes
from network.participants import DEFAULT_PARTICIPANTS

SERVE_PORTS = 1 + len(DEFAULT_PARTICIPANTS) + 1  # the switch, each simulated participant, the payer node
START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 20


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


@contextlib.contextmanager
def running_serve(out: Path, *options: str) -> Iterator[dict[str, Any]]:
    """`switchyard serve` on free ports: yields its credentials.json once the switch answers, and
    stops it (SIGINT, then kill) afterwards. Its output goes to out/serve.log (a file, not a pipe:
    nobody reads a pipe while the server runs, and a full one would stall its logging)."""
    port = free_port_range(SERVE_PORTS)
    command = [sys.executable, "-m", "switchyard.cli", "serve", "--port", str(port), "--out", str(out), *options]
    log = out / "serve.log"
    with _started(command, log) as process:
        credentials = out / "credentials.json"
        _wait(lambda: credentials.exists() and healthy(f"http://127.0.0.1:{port}"), process, log)
        yield {**json.loads(credentials.read_text()), "serve_pid": process.pid}


@contextlib.contextmanager
def running_app(factory: str, log: Path) -> Iterator[str]:
    """A uvicorn app factory (`module:function`) on a free port; yields its base URL."""
    port = free_port_range(1)
    command = [
        sys.executable, "-m", "uvicorn", factory, "--factory", "--port", str(port), "--log-level", "warning",
    ]  # fmt: skip
    with _started(command, log) as process:
        url = f"http://127.0.0.1:{port}"
        _wait(lambda: healthy(url), process, log)
        yield url


@contextlib.contextmanager
def _started(command: Sequence[str], log: Path) -> Iterator[subprocess.Popen[str]]:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as sink:
        process = processes.start_child(command, stdout=sink, stderr=subprocess.STDOUT, text=True)
    try:
        yield process
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()


def cpu_s(pid: int) -> float:
    """CPU seconds (user and system) a process and every process under it have used so far."""
    root = psutil.Process(pid)
    total = 0.0
    for process in (root, *root.children(recursive=True)):
        with contextlib.suppress(psutil.NoSuchProcess):
            times = process.cpu_times()
            total += times.user + times.system
    return total


def _wait(ready: Any, process: subprocess.Popen[str], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"{process.args!r} did not start: {log.read_text()[-4000:]}")
        time.sleep(0.2)


def books_settled(sandbox: dict[str, Any], timeout_s: float = 20.0) -> list[str]:
    """Money conserved across all nodes, read through the admin APIs: once nothing is in flight,
    each simulated bank's settlement account equals its position at the switch, its ledger
    balances, and nothing it holds is left open. The problems left after `timeout_s`, or none."""
    deadline = time.monotonic() + timeout_s
    problems = book_problems(sandbox)
    while problems and time.monotonic() < deadline:
        time.sleep(0.2)
        problems = book_problems(sandbox)
    return problems


def book_problems(sandbox: dict[str, Any]) -> list[str]:
    admin = {"Authorization": f"Bearer {sandbox['admin_key']}"}
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
