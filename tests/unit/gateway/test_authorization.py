"""Every endpoint of the switch, tried with no key, a wrong key, and the wrong kind of key."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from gateway.switch_app import SwitchApi, create_switch_app
from ledger.storage import open_engine
from switch.node import SwitchNode

NOW = 1_796_083_200_000
ADMIN_KEY, CITIZEN_KEY = "admin-key-for-tests", "citizen-key-for-tests"
OPEN = {"/health", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", "/metrics"}


@pytest.fixture(scope="module")
def setup() -> Iterator[tuple[TestClient, str, list[tuple[str, str]]]]:
    node = SwitchNode(open_engine("sqlite://"))
    node.setup()
    app = create_switch_app(SwitchApi(node, ADMIN_KEY, clock_ms=lambda: NOW, citizen_app_key=CITIZEN_KEY))
    with TestClient(app) as client:
        body = {"bin": "970436", "name": "Vietcombank", "kind": "bank"}
        key = client.post("/v1/admin/participants", json=body, headers={"Authorization": f"Bearer {ADMIN_KEY}"})
        paths = client.get("/openapi.json").json()["paths"]
        routes = [
            (method.upper(), _concrete(path))
            for path, operations in paths.items()
            if path not in OPEN
            for method in operations
        ]
        yield client, key.json()["api_key"], routes


def _citizen(method: str, path: str) -> bool:
    """The citizen app's endpoints: changes to aliases, and a citizen's read of their registration."""
    return path.startswith("/v1/aliases") and (method != "GET" or path.endswith("/registration"))


def _concrete(path: str) -> str:
    return (
        path.replace("{bin_code}", "970436")
        .replace("{transaction_id}", "TX1")
        .replace("{alias_type}", "msisdn")
        .replace("{value}", "0912345678")
    )


def test_every_endpoint_but_health_docs_and_metrics_needs_a_key(
    setup: tuple[TestClient, str, list[tuple[str, str]]],
) -> None:
    client, _key, routes = setup
    assert len(routes) >= 15
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic d3Jvbmc="}):
        refused = [(m, p) for m, p in routes if client.request(m, p, headers=headers, json={}).status_code != 401]
        assert refused == [], headers


def test_a_participant_key_opens_neither_the_admin_nor_the_citizen_api(
    setup: tuple[TestClient, str, list[tuple[str, str]]],
) -> None:
    client, key, routes = setup
    closed = [(m, p) for m, p in routes if p.startswith("/v1/admin") or _citizen(m, p)]
    assert closed
    for method, path in closed:
        answer = client.request(method, path, headers={"Authorization": f"Bearer {key}"}, json={})
        assert answer.status_code == 401, (method, path)


def test_the_admin_and_citizen_keys_open_no_participant_endpoint(
    setup: tuple[TestClient, str, list[tuple[str, str]]],
) -> None:
    client, _key, routes = setup
    participant = [(m, p) for m, p in routes if not p.startswith("/v1/admin") and not _citizen(m, p)]
    assert participant
    for key in (ADMIN_KEY, CITIZEN_KEY):
        for method, path in participant:
            answer = client.request(method, path, headers={"Authorization": f"Bearer {key}"}, json={})
            assert answer.status_code == 401, (key, method, path)
