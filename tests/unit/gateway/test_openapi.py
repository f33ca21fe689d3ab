"""The switch's and a simulated bank's OpenAPI documents tell the truth: every refusal documented
as the one Problem (application/problem+json), the keys as security schemes, the identifiers'
rules as patterns and bounds, and a 405 that names the methods the path takes (in process)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from banks.node import ParticipantNode
from gateway.node_app import NodeApi, create_node_app
from gateway.runtime import NodeRuntime
from gateway.switch_app import SwitchApi, create_switch_app
from ledger.storage import open_engine
from switch.node import SwitchNode

NOW = 1_796_083_200_000
ADMIN_KEY = "admin-key-for-tests"
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
PROBLEM = "application/problem+json"
PROBLEM_SCHEMA = {"$ref": "#/components/schemas/Problem"}
HTTP_METHODS = {"get", "put", "post", "delete", "patch"}


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    node = SwitchNode(engine)
    node.setup()
    with TestClient(create_switch_app(SwitchApi(node, admin_key=ADMIN_KEY, clock_ms=lambda: NOW))) as http:
        yield http


@pytest.fixture
def document(client: TestClient) -> dict[str, Any]:
    return dict(client.get("/openapi.json").json())


@pytest.fixture
def bank_document(tmp_path: Any) -> dict[str, Any]:
    node = ParticipantNode("970418", "BIDV", open_engine(f"sqlite:///{tmp_path / 'bidv.db'}"))
    node.setup()
    app = create_node_app(NodeApi(node, NodeRuntime(node), "a1" * 32, ADMIN_KEY, "customer-key-for-tests"))
    with TestClient(app) as http:
        return dict(http.get("/openapi.json").json())


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            if method in HTTP_METHODS:
                yield method.upper(), path, operation


def test_every_refusal_the_switch_documents_is_the_one_problem_schema_as_problem_json(
    document: dict[str, Any],
) -> None:
    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                assert response["content"] == {PROBLEM: {"schema": PROBLEM_SCHEMA}}, (method, path, status)
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert set(document["components"]["schemas"]["Problem"]["required"]) >= {"type", "title", "status", "errors"}


@pytest.mark.parametrize("which", ["switch", "bank"])
def test_every_keyed_operation_documents_401_and_every_operation_413(
    which: str, document: dict[str, Any], bank_document: dict[str, Any]
) -> None:
    for method, path, operation in operations(document if which == "switch" else bank_document):
        statuses = set(operation["responses"])
        assert "413" in statuses, (method, path)
        if path != "/health":
            assert "401" in statuses and operation.get("security"), (method, path)


def test_each_kind_of_key_is_its_own_bearer_security_scheme(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert {name: scheme["scheme"] for name, scheme in schemes.items()} == {
        "adminKey": "bearer", "participantKey": "bearer", "citizenAppKey": "bearer", "payerKey": "bearer",
    }  # fmt: skip
    security = {(m, p): o["security"] for m, p, o in operations(document) if "security" in o}
    assert security[("POST", "/v1/transfers")] == [{"participantKey": []}]
    assert security[("PUT", "/v1/admin/participants/{bin_code}/limits")] == [{"adminKey": []}]
    assert security[("POST", "/v1/aliases")] == [{"citizenAppKey": []}]
    assert security[("GET", "/v1/disbursements/{disbursement_id}")] == [{"payerKey": []}]
    parameters = [p["name"].lower() for _m, _p, o in operations(document) for p in o.get("parameters", [])]
    assert "authorization" not in parameters  # a key is a security scheme, not a free-text header


def test_the_request_schemas_publish_the_identifiers_rules_and_the_amount_bounds(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    transfer = schemas["CreditTransfer"]["properties"]
    assert transfer["debtor_agent"]["pattern"] == "^[0-9]{6}$"
    assert transfer["debtor_account"]["pattern"] == "^[0-9A-Za-z]{6,19}$"
    assert (transfer["amount_vnd"]["exclusiveMinimum"], transfer["amount_vnd"]["maximum"]) == (0, 10**15)
    assert transfer["message_id"]["maxLength"] == 35 and "pattern" in transfer["message_id"]
    assert schemas["AliasRegistration"]["properties"]["citizen_id"]["pattern"] == "^[0-9]{12}$"
    item = schemas["DisbursementItem"]["properties"]
    assert item["amount_vnd"]["maximum"] == 10**15 and item["end_to_end_id"]["maxLength"] == 35
    by_name = {(path, p["name"]): p["schema"] for _m, path, o in operations(document) for p in o.get("parameters", [])}
    assert by_name[("/v1/admin/participants/{bin_code}/funds-in", "bin_code")]["pattern"] == "^[0-9]{6}$"
    assert by_name[("/v1/aliases/{alias_type}/{value}/registration", "citizen_id")]["pattern"] == "^[0-9]{12}$"
    assert by_name[("/v1/transfers/{transaction_id}", "transaction_id")]["maxLength"] == 35


def test_the_operations_that_take_iso_20022_xml_document_it_both_ways(document: dict[str, Any]) -> None:
    for path in ("/v1/transfers", "/v1/verifications", "/v1/status-requests"):
        operation = document["paths"][path]["post"]
        assert "application/xml" in operation["requestBody"]["content"], path
        assert "application/xml" in operation["responses"]["200"]["content"], path
    pending = document["paths"]["/v1/transfers"]["post"]["responses"]["202"]
    assert "Location" in pending["headers"] and "application/json" in pending["content"]
    report = document["paths"]["/v1/disbursements/{disbursement_id}/report"]["get"]["responses"]["200"]
    assert list(report["content"]) == ["application/xml"]


def test_the_payroll_file_body_is_documented_in_each_format_it_is_read_in(document: dict[str, Any]) -> None:
    content = document["paths"]["/v1/disbursements"]["post"]["requestBody"]["content"]
    assert set(content) == {"application/json", "text/csv", "application/xml"}
    assert content["application/json"]["schema"] == {"$ref": "#/components/schemas/DisbursementFileIn"}


def test_a_method_a_path_does_not_take_is_405_problem_json_with_every_method_it_takes_in_allow(
    client: TestClient,
) -> None:
    answer = client.delete("/v1/aliases", headers=ADMIN)

    assert answer.status_code == 405
    assert answer.headers["content-type"] == PROBLEM
    assert answer.headers["allow"] == "POST, PUT"
    assert answer.json()["errors"] == [{"field": "(method)", "rule": "must be one of POST, PUT"}]


def test_a_405_on_a_path_with_a_parameter_names_the_methods_of_that_path_only(client: TestClient) -> None:
    answer = client.delete("/v1/admin/participants/970436/limits", headers=ADMIN)

    assert answer.status_code == 405 and answer.headers["allow"] == "PUT"


def test_a_body_that_is_not_utf8_is_a_400_problem_naming_the_body(client: TestClient) -> None:
    answer = client.put(
        "/v1/admin/participants/970436/wire",
        content=b"\xff\xfe{",
        headers={**ADMIN, "Content-Type": "application/json"},
    )

    assert (answer.status_code, answer.headers["content-type"]) == (400, PROBLEM)
    [error] = answer.json()["errors"]
    assert error["field"] == "(body)" and error["rule"].startswith("must be JSON in UTF-8")


def test_a_body_that_is_not_json_names_the_body_and_where_decoding_stopped(client: TestClient) -> None:
    answer = client.put(
        "/v1/admin/participants/970436/wire",
        content=b'{"wire": ',
        headers={**ADMIN, "Content-Type": "application/json"},
    )

    assert answer.status_code == 422
    [error] = answer.json()["errors"]
    assert error["field"] == "(body)" and error["rule"].startswith("must be JSON: JSON decode error at character")


def test_a_bin_in_a_path_that_is_not_six_digits_is_422_naming_it(client: TestClient) -> None:
    answer = client.post("/v1/admin/participants/97043/suspend", headers=ADMIN)

    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == ["bin_code"]


def test_a_payroll_file_whose_message_id_holds_a_control_character_is_refused_naming_it(
    client: TestClient,
) -> None:
    """Once accepted, its pain.002 report could not be written (XML cannot carry the character):
    schemathesis found GET .../report answering 500 for such a file."""
    body = {"bin": "999999", "name": "Kho bạc Nhà nước", "kind": "treasury"}
    key = client.post("/v1/admin/participants", json=body, headers=ADMIN).json()["api_key"]
    payroll = {"message_id": "LUONG-\x18-2026", "items": []}

    answer = client.post(
        "/v1/disbursements", content=json.dumps(payroll), headers={"Authorization": f"Bearer {key}"} | JSON
    )

    assert answer.status_code == 400
    assert answer.json()["errors"][0]["field"] == "message_id"


def test_a_transfer_with_a_control_character_in_a_name_is_refused_at_the_door(client: TestClient) -> None:
    body = {"bin": "970436", "name": "Vietcombank", "kind": "bank"}
    key = client.post("/v1/admin/participants", json=body, headers=ADMIN).json()["api_key"]
    transfer = {
        "message_id": "M1", "end_to_end_id": "E1", "transaction_id": "T1", "amount_vnd": 250_000,
        "debtor": {"name": "Nguyễn Văn\x01 Đức"}, "debtor_account": "0011001234567", "debtor_agent": "970436",
        "creditor_account": "12010000123456", "creditor_agent": "970418",
    }  # fmt: skip

    answer = client.post("/v1/transfers", json=transfer, headers={"Authorization": f"Bearer {key}"})

    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == ["debtor.name"]


JSON = {"Content-Type": "application/json"}


def test_the_bank_documents_what_each_door_takes(bank_document: dict[str, Any]) -> None:
    schemes = bank_document["components"]["securitySchemes"]
    assert schemes["switchSignature"] == {
        "type": "apiKey", "in": "header", "name": "X-Switchyard-Signature",
        "description": schemes["switchSignature"]["description"],
    }  # fmt: skip
    inbound = bank_document["paths"]["/v1/inbound/transfers"]["post"]
    assert inbound["security"] == [{"switchSignature": []}]
    assert set(inbound["requestBody"]["content"]) == {"application/json", "application/xml"}
    assert {"400", "401", "413", "504"} <= set(inbound["responses"])
    payment = bank_document["paths"]["/v1/payments/{order_id}"]["get"]
    assert payment["security"] == [{"customerKey": []}] and "404" in payment["responses"]
    assert bank_document["paths"]["/v1/admin/books"]["get"]["security"] == [{"adminKey": []}]
