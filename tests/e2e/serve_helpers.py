"""Helpers for the e2e tests of the networked sandbox: free ports, keys, positions."""

from __future__ import annotations

import os
import socket
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
