"""Helpers for the e2e tests of the networked sandbox: free ports, keys, positions."""

from __future__ import annotations

from typing import Any

import httpx

from loadtests.launch import books_settled, free_port_range, healthy, running_serve

__all__ = ["free_port_range", "healthy", "running_serve"]


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
    """Money conserved across all nodes, read through the admin APIs (`loadtests.launch`)."""
    problems = books_settled(sandbox, timeout_s)
    if problems:
        raise AssertionError("books disagree: " + "; ".join(problems))


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
