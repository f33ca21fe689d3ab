"""Every door counts a body as it arrives and asks for a key before it reads one (issue 14 item 4).

A chunked body declares no length: before this, the switch and the nodes buffered it whole, so a
stranger could grow the switch to gigabytes. Now the bytes are counted as they come and the answer
is 413 as soon as the limit is passed; a request with no key anyone holds is 401 before its body is
read, so a malformed body from nobody is never anybody's 422.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from live import SECRET, bidv_node

from gateway.node_app import BODY_BYTES_MAX as NODE_BODY_BYTES_MAX
from gateway.node_app import NodeApi, create_node_app
from gateway.runtime import NodeRuntime
from gateway.signing import SIGNATURE_HEADER, sign
from gateway.switch_app import BODY_BYTES_MAX, SwitchApi, create_switch_app
from ledger.storage import open_engine
from switch.node import SwitchNode
from switch.scheme.wire import WIRE_BYTES_MAX

NOW = 1_796_083_200_000
ADMIN_KEY, CITIZEN_KEY = "admin-key-for-tests", "citizen-key-for-tests"
CHUNK = b"x" * (16 * 1024)


def chunked(total_bytes: int) -> Iterator[bytes]:
    """A body sent in pieces with no Content-Length, as `Transfer-Encoding: chunked` sends it."""
    for _ in range(total_bytes // len(CHUNK) + 1):
        yield CHUNK


@pytest.fixture(scope="module")
def switch() -> Iterator[tuple[TestClient, str]]:
    node = SwitchNode(open_engine("sqlite://"))
    node.setup()
    app = create_switch_app(SwitchApi(node, ADMIN_KEY, clock_ms=lambda: NOW, citizen_app_key=CITIZEN_KEY))
    with TestClient(app) as client:
        body = {"bin": "970436", "name": "Vietcombank", "kind": "bank"}
        registered = client.post("/v1/admin/participants", json=body, headers={"Authorization": f"Bearer {ADMIN_KEY}"})
        yield client, registered.json()["api_key"]


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}


@pytest.mark.parametrize("path", ["/v1/transfers", "/v1/transfer-messages", "/v1/verifications", "/v1/aliases"])
def test_a_chunked_body_over_the_limit_from_a_participant_is_413_naming_the_body(
    switch: tuple[TestClient, str], path: str
) -> None:
    client, key = switch
    limit = WIRE_BYTES_MAX if path == "/v1/transfer-messages" else BODY_BYTES_MAX
    answer = client.post(path, content=chunked(limit + 1), headers=bearer(key))
    assert answer.status_code == 413, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["errors"] == [{"field": "(body)", "rule": f"at most {limit} bytes"}]


def test_a_chunked_body_over_the_limit_on_an_admin_door_is_413(switch: tuple[TestClient, str]) -> None:
    client, _key = switch
    answer = client.post("/v1/admin/participants", content=chunked(BODY_BYTES_MAX + 1), headers=bearer(ADMIN_KEY))
    assert answer.status_code == 413


def test_a_body_declared_over_the_limit_is_413_before_any_key_is_asked_for(switch: tuple[TestClient, str]) -> None:
    client, _key = switch
    answer = client.post(
        "/v1/transfers", content=b"x" * (BODY_BYTES_MAX + 1), headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 413


@pytest.mark.parametrize("key", [None, "not-a-key"], ids=["no-key", "unknown-key"])
def test_a_chunked_body_from_a_stranger_is_401_not_counted_nor_parsed(
    switch: tuple[TestClient, str], key: str | None
) -> None:
    client, _key = switch
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {key}"} if key else {})}
    answer = client.post("/v1/transfers", content=chunked(10 * BODY_BYTES_MAX), headers=headers)
    assert answer.status_code == 401
    assert answer.json()["errors"][0]["field"] == "Authorization"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/transfers"),
        ("POST", "/v1/admin/participants"),
        ("POST", "/v1/aliases"),
        ("POST", "/v1/disbursements"),
    ],
)
def test_a_malformed_body_without_a_key_is_401_not_422(switch: tuple[TestClient, str], method: str, path: str) -> None:
    client, _key = switch
    answer = client.request(method, path, content=b"{not json", headers={"Content-Type": "application/json"})
    assert answer.status_code == 401, (path, answer.text)


def test_a_malformed_body_with_a_key_is_still_answered_for_what_it_is(switch: tuple[TestClient, str]) -> None:
    client, key = switch
    answer = client.post("/v1/verifications", content=b"{not json", headers=bearer(key))
    assert answer.status_code in (400, 422)


# --- a simulated bank's node ---------------------------------------------------------------------


@pytest.fixture
def bank(tmp_path: Path) -> Iterator[TestClient]:
    node = bidv_node(tmp_path)
    with TestClient(create_node_app(NodeApi(node, NodeRuntime(node), SECRET, ADMIN_KEY))) as client:
        yield client


def test_a_signed_chunked_body_over_the_limit_at_a_node_is_413(bank: TestClient) -> None:
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(SECRET, b"anything")}
    answer = bank.post("/v1/inbound/transfers", content=chunked(NODE_BODY_BYTES_MAX + 1), headers=headers)
    assert answer.status_code == 413
    assert answer.json()["errors"][0]["field"] == "(body)"


@pytest.mark.parametrize("path", ["/v1/inbound/transfers", "/v1/inbound/batches", "/v1/inbound/status-reports"])
def test_an_unsigned_call_to_a_node_is_401_before_its_body_is_read(bank: TestClient, path: str) -> None:
    answer = bank.post(path, content=chunked(10 * NODE_BODY_BYTES_MAX), headers={"Content-Type": "application/json"})
    assert answer.status_code == 401


def test_the_nodes_admin_door_without_the_admin_key_is_401(bank: TestClient) -> None:
    assert bank.get("/v1/admin/books").status_code == 401
    assert bank.get("/v1/admin/books", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert bank.get("/v1/admin/books", headers={"Authorization": f"Bearer {ADMIN_KEY}"}).status_code == 200


# --- errors that name the field (issue 14 item 8) --------------------------------------------------


def test_a_registration_with_a_province_code_that_does_not_exist_is_422_naming_citizen_id(
    switch: tuple[TestClient, str],
) -> None:
    client, _key = switch
    body = {
        "request_id": "VNEID-REQ-0001", "alias": {"type": "citizen_id", "value": "999090012345"},
        "name": "Nguyễn Văn An", "citizen_id": "999090012345", "agent": "970436", "account": "0011001234567",
    }  # fmt: skip
    answer = client.post("/v1/aliases", json=body, headers=bearer(CITIZEN_KEY))
    assert answer.status_code == 422, answer.text
    [error] = answer.json()["errors"]
    assert error["field"] == "citizen_id" and "province code 999" in error["rule"]


def test_an_amount_beyond_what_can_be_stored_cites_the_schemes_limit(switch: tuple[TestClient, str]) -> None:
    client, key = switch
    body = {
        "message_id": "VCB-M1", "end_to_end_id": "VCB-E1", "transaction_id": "VCB-T1", "amount_vnd": 10**16,
        "debtor": {"name": "Nguyễn Văn An"}, "debtor_account": "0011001234567", "debtor_agent": "970436",
        "creditor_account": "12010000123456", "creditor_agent": "970418",
    }  # fmt: skip
    answer = client.post("/v1/transfers", json=body, headers=bearer(key))
    assert answer.status_code == 422
    [error] = answer.json()["errors"]
    assert error["field"] == "amount_vnd" and "500,000,000 VND" in error["rule"]
