"""Every door of a simulated bank's node, tried with every credential there is (issue 14 item 2):
nothing, a wrong key, the admin key, this bank's customer key, another bank's customer key, a
participant's switch API key, and the switch's signature. Each door opens to its own credential
only: the inbound API to the switch's signature, the customer channel to this bank's customer key,
the books to the admin key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from live import SECRET, bidv_node

from gateway.node_app import NodeApi, create_node_app
from gateway.runtime import NodeRuntime
from gateway.signing import SIGNATURE_HEADER, sign

ADMIN_KEY = "admin-key-for-tests"
CUSTOMER_KEY = "bidv-customer-channel-key"
OTHER_CUSTOMER_KEY = "vietcombank-customer-channel-key"
PARTICIPANT_KEY = "a-participants-switch-api-key"
OPEN = {"/health", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", "/metrics"}
BODY = b'{"order_id": "BIDV-ORDER-1"}'

CREDENTIALS: dict[str, dict[str, str]] = {
    "nothing": {},
    "a wrong key": {"Authorization": "Bearer wrong"},
    "the admin key": {"Authorization": f"Bearer {ADMIN_KEY}"},
    "this bank's customer key": {"Authorization": f"Bearer {CUSTOMER_KEY}"},
    "another bank's customer key": {"Authorization": f"Bearer {OTHER_CUSTOMER_KEY}"},
    "a participant's API key": {"Authorization": f"Bearer {PARTICIPANT_KEY}"},
    "the switch's signature": {},  # signed afresh for each call: a call id is good once (below)
}


def opens_with(path: str) -> str:
    if path.startswith("/v1/inbound/"):
        return "the switch's signature"
    if path.startswith("/v1/admin/"):
        return "the admin key"
    assert path.startswith("/v1/payments"), f"a door no rule covers: {path}"
    return "this bank's customer key"


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, list[tuple[str, str]]]]:
    node = bidv_node(Path(tmp_path_factory.mktemp("bidv")))
    api = NodeApi(node, NodeRuntime(node), SECRET, ADMIN_KEY, CUSTOMER_KEY)
    with TestClient(create_node_app(api)) as client:
        paths = client.get("/openapi.json").json()["paths"]
        routes = [
            (method.upper(), path.replace("{order_id}", "BIDV-ORDER-1"))
            for path, operations in paths.items()
            if path not in OPEN
            for method in operations
        ]
        yield client, routes


def test_the_node_has_the_doors_the_readme_lists(bank: tuple[TestClient, list[tuple[str, str]]]) -> None:
    _client, routes = bank
    assert sorted(routes) == sorted(
        [
            ("POST", "/v1/inbound/transfers"), ("POST", "/v1/inbound/verifications"),
            ("POST", "/v1/inbound/batches"), ("POST", "/v1/inbound/status-reports"),
            ("GET", "/v1/admin/books"), ("POST", "/v1/payments"), ("GET", "/v1/payments/BIDV-ORDER-1"),
        ]
    )  # fmt: skip


@pytest.mark.parametrize("credential", sorted(CREDENTIALS))
def test_every_door_opens_to_its_own_credential_only(
    bank: tuple[TestClient, list[tuple[str, str]]], credential: str
) -> None:
    client, routes = bank
    for method, path in routes:
        headers = {"Content-Type": "application/json", **CREDENTIALS[credential]}
        if credential == "the switch's signature":
            headers[SIGNATURE_HEADER] = sign(SECRET, BODY)
        answer = client.request(method, path, content=BODY if method == "POST" else None, headers=headers)
        if credential == opens_with(path):
            assert answer.status_code != 401, (method, path, credential, answer.text)
        else:
            assert answer.status_code == 401, (method, path, credential, answer.status_code)
