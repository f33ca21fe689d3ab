"""The networked sandbox for e2e tests: `switchyard serve` started once per module, on free ports."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from serve_helpers import (
    PARTICIPANTS,
    START_TIMEOUT_S,
    assert_books_agree,
    free_port_range,
    healthy,
    register_dev_payer,
)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    out = tmp_path_factory.mktemp("serve")
    port = free_port_range(PARTICIPANTS + 1)
    process = subprocess.Popen(
        [sys.executable, "-m", "scenarios.cli", "serve", "--port", str(port), "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    credentials = out / "credentials.json"
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if credentials.exists() and healthy(f"http://127.0.0.1:{port}"):
            break
        if process.poll() is not None:
            raise AssertionError(f"serve exited early: {process.stdout.read() if process.stdout else ''}")
        time.sleep(0.2)
    else:
        process.kill()
        raise AssertionError("serve did not start in time")
    document = json.loads(credentials.read_text())
    document["dev_payer"] = register_dev_payer(document)
    yield document
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(autouse=True)
def books_balance(request: pytest.FixtureRequest) -> Iterator[None]:
    """After every test on the sandbox: each simulated bank's books agree with the switch."""
    yield
    if "sandbox" in request.fixturenames:
        assert_books_agree(request.getfixturevalue("sandbox"))
