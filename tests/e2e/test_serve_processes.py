"""Nothing `switchyard serve` starts outlives it (issue 14 item 7): with `--workers 2` on PostgreSQL
it runs a uvicorn master, its workers and the participants' process; killed with SIGTERM or with
SIGKILL (which no handler sees), every one of them ends within seconds and its ports are free."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psutil
import pytest
from serve_helpers import free_port_range, healthy

from loadtests.launch import SERVE_PORTS
from network import processes
from network.storage import Storage

START_S = 90.0
END_S = 15.0


def descendants_once_serving(process: subprocess.Popen[bytes], port: int) -> list[psutil.Process]:
    deadline = time.monotonic() + START_S
    while not healthy(f"http://127.0.0.1:{port}"):
        assert process.poll() is None, "serve ended before it answered"
        assert time.monotonic() < deadline, "serve did not answer in time"
        time.sleep(0.2)
    return psutil.Process(process.pid).children(recursive=True)


def still_running(found: list[psutil.Process]) -> list[str]:
    alive = []
    for child in found:
        try:
            if child.is_running() and child.status() != psutil.STATUS_ZOMBIE:
                alive.append(" ".join(child.cmdline()))
        except psutil.NoSuchProcess:
            continue
    return alive


@pytest.mark.parametrize("ending", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_killing_serve_with_workers_leaves_no_process_of_it_running(
    tmp_path: Path, postgres_url: str, ending: signal.Signals
) -> None:
    prefix = f"e2e_{uuid.uuid4().hex[:10]}"
    port = free_port_range(SERVE_PORTS)
    command = [
        sys.executable, "-m", "switchyard.cli", "serve", "--port", str(port), "--out", str(tmp_path),
        "--database", postgres_url, "--workers", "2", "--schema-prefix", prefix,
    ]  # fmt: skip
    with (tmp_path / "serve.log").open("wb") as log:
        serve = processes.start_child(command, stdout=log, stderr=subprocess.STDOUT)
    children: list[psutil.Process] = []
    try:
        children = descendants_once_serving(serve, port)
        assert len(children) >= 4, [c.cmdline() for c in children]  # master, 2 workers, participants

        serve.send_signal(ending)
        serve.wait(timeout=END_S)
        deadline = time.monotonic() + END_S
        while still_running(children) and time.monotonic() < deadline:
            time.sleep(0.2)

        assert still_running(children) == []
        assert not healthy(f"http://127.0.0.1:{port}")
    finally:
        for child in [*children, psutil.Process(serve.pid)] if serve.poll() is None else children:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()  # never leave this test's processes behind, whatever failed
        Storage(url=postgres_url, schema_prefix=prefix).drop()
