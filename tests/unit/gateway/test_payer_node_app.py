"""The payer node over HTTP (issue 15 item 8): the whole story with each officer's own key; every
operation of the OpenAPI document tried with every key there is (a MOLISA officer's, a Treasury
preparer's, a Treasury approver's, the post office's, the admin's, none, a wrong one), each opening
to its own roles only; and bad input refused as problem+json naming the field and the rule, with
nothing changed and only the refusal in the audit trail."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.payer_node_app import LIST_BODY_BYTES_MAX, PayerNodeApi, create_payer_node_app
from ledger.storage import open_engine
from payer.audit import repository as audit_repository
from payer.audit.schemas import AuditEntry
from payer.node import PayerNode
from payer.registry import Person, PopulationRegistry, citizen_id_for
from payer.requests import core
from payer.requests.schemas import Finding, Officer, PaymentListLine, Role, ServingBank
from payer.rolls import Beneficiary
from switch.scheme.codes import Program
from switch.scheme.pain import parse_pain001

NOW_MS = 1_796_058_000_000  # 2026-12-01 00:00 in Hanoi
CYCLE = "2026-12"
REQUEST_ID = "MOLISA-2026-12-HN-0001"
PROBLEM = "application/problem+json"
MOLISA = Officer(officer_id="molisa.nguyen.thi.lan", name="Nguyễn Thị Lan", role=Role.MOLISA_OFFICER)
PREPARER = Officer(officer_id="kbnn.tran.van.duc", name="Trần Văn Đức", role=Role.TREASURY_PREPARER)
APPROVER = Officer(officer_id="kbnn.le.hoang.yen", name="Lê Hoàng Yến", role=Role.TREASURY_APPROVER)
KEYS = {
    "molisa-key-nguyen-thi-lan": MOLISA,
    "kbnn-preparer-key-tran-van-duc": PREPARER,
    "kbnn-approver-key-le-hoang-yen": APPROVER,
}
ADMIN_KEY = "sandbox-admin-key"
POST_OFFICE_KEY = "vietnam-post-ha-noi-key"
CREDENTIALS: dict[str, dict[str, str]] = {
    "a MOLISA officer's key": {"Authorization": "Bearer molisa-key-nguyen-thi-lan"},
    "a Treasury preparer's key": {"Authorization": "Bearer kbnn-preparer-key-tran-van-duc"},
    "a Treasury approver's key": {"Authorization": "Bearer kbnn-approver-key-le-hoang-yen"},
    "the post office's key": {"Authorization": f"Bearer {POST_OFFICE_KEY}"},
    "the admin key": {"Authorization": f"Bearer {ADMIN_KEY}"},
    "no key": {},
    "a wrong key": {"Authorization": "Bearer molisa-key-nguyen-thi-la"},
}
AS_MOLISA = CREDENTIALS["a MOLISA officer's key"]
AS_PREPARER = CREDENTIALS["a Treasury preparer's key"]
AS_APPROVER = CREDENTIALS["a Treasury approver's key"]
AS_ADMIN = CREDENTIALS["the admin key"]
OFFICERS = {"a MOLISA officer's key", "a Treasury preparer's key", "a Treasury approver's key"}
REQUESTS = "/v1/payment-requests"
ONE_REQUEST = REQUESTS + "/{request_id}"

# Who may do what: an answer below 400 for these, 403 for every other key, 401 for none or a wrong one.
OPENS_TO: dict[tuple[str, str], set[str]] = {
    ("POST", REQUESTS): {"a MOLISA officer's key"},
    ("POST", ONE_REQUEST + "/versions"): {"a MOLISA officer's key"},
    ("POST", ONE_REQUEST + "/versions/{version}/line-changes"): {"a MOLISA officer's key"},
    ("POST", ONE_REQUEST + "/reviews"): {"a Treasury preparer's key", "a Treasury approver's key"},
    ("POST", ONE_REQUEST + "/returns"): {"a Treasury preparer's key", "a Treasury approver's key"},
    ("POST", ONE_REQUEST + "/approval"): {"a Treasury approver's key"},
    ("GET", ONE_REQUEST): OFFICERS,
    ("GET", ONE_REQUEST + "/versions/{version}/lines"): OFFICERS,
    ("GET", ONE_REQUEST + "/payment-order"): {"a Treasury preparer's key", "a Treasury approver's key"},
    ("GET", ONE_REQUEST + "/audit"): OFFICERS | {"the admin key"},
    ("GET", "/v1/audit/verification"): {"the admin key"},
}
OPEN = {"/health"}

VIETINBANK = ServingBank(bin="970415", name="VietinBank", treasury_account="9704159000001")
PEOPLE = (("Phạm Quốc Bảo", False), ("Đặng Thu Hà", True), ("Vũ Minh Khôi", False), ("Hoàng Thị Mai", True))


def registry_and_rolls() -> tuple[PopulationRegistry, list[Beneficiary]]:
    people = []
    for serial, (name, female) in enumerate(PEOPLE, start=1):
        born = date(1940 + serial, serial, 10 + serial)
        people.append(Person(citizen_id_for("001", born, female, 300_000 + serial), name, born, "001", female, ""))
    programs = (Program.ELDERLY, Program.SOCIAL_ASSISTANCE, Program.MERIT_PERSON, Program.ELDERLY)
    rolls = [Beneficiary(p.citizen_id, p.name, program, 10) for p, program in zip(people, programs, strict=True)]
    return PopulationRegistry(people), rolls


@pytest.fixture
def api(tmp_path: Path) -> Iterator[PayerNodeApi]:
    engine = open_engine(f"sqlite:///{tmp_path / 'payer.db'}")
    registry, rolls = registry_and_rolls()
    node = PayerNode(engine, registry, rolls, serving_bank=VIETINBANK, items_per_order_part=3)
    node.setup()
    clock = count(NOW_MS, 1_000)
    yield PayerNodeApi(node, KEYS, ADMIN_KEY, POST_OFFICE_KEY, clock_ms=lambda: next(clock))
    engine.dispose()


@pytest.fixture
def client(api: PayerNodeApi) -> Iterator[TestClient]:
    with TestClient(create_payer_node_app(api)) as http:
        yield http


def log(api: PayerNodeApi) -> list[AuditEntry]:
    with api.node.engine.connect() as conn:
        return audit_repository.page(conn, 0, 1_000)


def lines_json(lines: list[PaymentListLine]) -> list[dict[str, Any]]:
    return [
        {"citizen_id": x.citizen_id, "name": x.name, "program": x.program.value, "amount_vnd": x.amount_vnd}
        for x in lines
    ]


def the_rolls_lines(api: PayerNodeApi) -> list[PaymentListLine]:
    """The list the node's rolls make, as a MOLISA system would send it."""
    registry, rolls = registry_and_rolls()
    prepared = core.prepare(rolls, registry.lookup([b.citizen_id for b in rolls]), CYCLE, MOLISA)
    return list(prepared.lines)


def filing(api: PayerNodeApi, request_id: str = REQUEST_ID) -> dict[str, Any]:
    lines = the_rolls_lines(api)
    return {
        "request_id": request_id, "cycle": CYCLE, "lines": lines_json(lines),
        "totals": core.totals(lines).model_dump(mode="json"), "digest": core.digest(lines),
    }  # fmt: skip


# --- the story ------------------------------------------------------------------------------------


def test_the_whole_story_over_http_with_each_officers_own_key(client: TestClient, api: PayerNodeApi) -> None:
    filed = client.post(
        REQUESTS, json={"request_id": REQUEST_ID, "cycle": CYCLE, "from_rolls": True}, headers=AS_MOLISA
    )
    assert filed.status_code == 201, filed.text
    assert filed.headers["Location"] == f"{REQUESTS}/{REQUEST_ID}"
    first = client.get(f"{REQUESTS}/{REQUEST_ID}/versions/1/lines?limit=1", headers=AS_PREPARER).json()["lines"][0]
    changed = client.post(
        f"{REQUESTS}/{REQUEST_ID}/versions/1/line-changes", json={**first, "amount_vnd": 2_789_000}, headers=AS_MOLISA
    )
    assert changed.status_code == 204, changed.text
    review = client.post(f"{REQUESTS}/{REQUEST_ID}/reviews", json={"version": 1}, headers=AS_PREPARER).json()
    assert not review["approves"] and review["findings"][0]["reason"] == "list_changed_after_filing"
    returned = client.post(
        f"{REQUESTS}/{REQUEST_ID}/returns", json={"version": 1, "findings": review["findings"]}, headers=AS_PREPARER
    )
    assert returned.status_code == 200 and returned.json()["state"] == "returned", returned.text
    corrected = client.post(
        f"{REQUESTS}/{REQUEST_ID}/versions", json={"version": 1, "from_rolls": True}, headers=AS_MOLISA
    )
    assert corrected.status_code == 201 and corrected.json()["version"] == 2, corrected.text
    approved = client.post(f"{REQUESTS}/{REQUEST_ID}/approval", json={"version": 2}, headers=AS_APPROVER)
    assert approved.status_code == 200, approved.text
    request = client.get(f"{REQUESTS}/{REQUEST_ID}", headers=AS_MOLISA).json()
    assert [(v["version"], v["state"]) for v in request["versions"]] == [(1, "returned"), (2, "approved")]
    assert request["versions"][1]["decided_by"] == APPROVER.model_dump(mode="json")
    timeline = client.get(f"{REQUESTS}/{REQUEST_ID}/audit", headers=AS_ADMIN).json()["entries"]
    assert [(e["action"], e["subject"].split("/")[1], e["actor"]) for e in timeline] == [
        ("prepared", "v1", MOLISA.officer_id), ("filed", "v1", MOLISA.officer_id),
        ("returned", "v1", PREPARER.officer_id), ("prepared", "v2", MOLISA.officer_id),
        ("filed", "v2", MOLISA.officer_id), ("approved", "v2", APPROVER.officer_id),
    ]  # fmt: skip
    verified = client.get("/v1/audit/verification", headers=AS_ADMIN).json()
    assert verified["ok"] and verified["entries"] == 6 and verified["head"].startswith("6:")
    pinned = client.get(f"/v1/audit/verification?expected_head={verified['head']}", headers=AS_ADMIN).json()
    assert pinned["ok"]


def test_a_list_filed_as_lines_with_its_totals_and_digest_is_filed_and_answered_again(
    client: TestClient, api: PayerNodeApi
) -> None:
    first = client.post(REQUESTS, json=filing(api), headers=AS_MOLISA)
    assert first.status_code == 201, first.text
    assert first.json()["versions"][0]["digest"] == core.digest(the_rolls_lines(api))
    again = client.post(REQUESTS, json=filing(api), headers=AS_MOLISA)
    assert (again.status_code, again.json()) == (200, first.json())
    assert [entry.action for entry in log(api)] == ["filed"]


def test_the_lines_are_read_a_page_at_a_time(client: TestClient, api: PayerNodeApi) -> None:
    client.post(REQUESTS, json=filing(api), headers=AS_MOLISA)
    seen: list[dict[str, Any]] = []
    after = ""
    while True:
        page = client.get(f"{REQUESTS}/{REQUEST_ID}/versions/1/lines?limit=3{after}", headers=AS_APPROVER).json()
        seen += page["lines"]
        if page["next_after"] is None:
            break
        after = f"&after={page['next_after']}"
    assert [(x["citizen_id"], x["program"]) for x in seen] == sorted(
        (x.citizen_id, x.program.value) for x in the_rolls_lines(api)
    )


def test_the_approved_list_is_read_as_its_payment_order_to_the_serving_bank_a_part_at_a_time(
    client: TestClient, api: PayerNodeApi
) -> None:
    client.post(REQUESTS, json=filing(api), headers=AS_MOLISA)
    order = f"{REQUESTS}/{REQUEST_ID}/payment-order"
    before = client.get(order, headers=AS_PREPARER)
    assert (before.status_code, before.headers["content-type"]) == (409, PROBLEM)
    assert before.json()["errors"][0]["field"] == "state"
    client.post(f"{REQUESTS}/{REQUEST_ID}/approval", json={"version": 1}, headers=AS_APPROVER)

    parts = [client.get(f"{order}?part={n}", headers=AS_PREPARER) for n in (1, 2)]
    assert [(p.status_code, p.headers["content-type"], p.headers["X-Parts-Total"]) for p in parts] == [
        (200, "application/xml", "2"), (200, "application/xml", "2"),
    ]  # fmt: skip
    read = [parse_pain001(p.content) for p in parts]
    assert [(r.message_id, r.debtor_agent) for r in read] == [
        (f"{REQUEST_ID}-V1-P1", "970415"), (f"{REQUEST_ID}-V1-P2", "970415"),
    ]  # fmt: skip
    paid = sorted((i.citizen_id, i.amount_vnd) for r in read for i in r.items)
    assert paid == sorted((x.citizen_id, x.amount_vnd) for x in the_rolls_lines(api))
    assert client.get(order, headers=AS_APPROVER).content == parts[0].content, "the same bytes at every call"
    missing = client.get(f"{order}?part=3", headers=AS_PREPARER)
    assert missing.status_code == 404 and missing.json()["errors"][0]["field"] == "part"
    assert client.get(f"{order}?part=0", headers=AS_PREPARER).status_code == 422
    by_molisa = client.get(order, headers=AS_MOLISA)
    assert by_molisa.status_code == 403 and "Treasury" in by_molisa.json()["errors"][0]["rule"]
    assert [e.action for e in log(api)] == ["filed", "approved"], "reading the order sends and records nothing"


def test_the_payment_order_is_documented_as_xml_with_its_parts_header(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"][ONE_REQUEST + "/payment-order"]["get"]
    answer = operation["responses"]["200"]
    assert list(answer["content"]) == ["application/xml"] and "X-Parts-Total" in answer["headers"]
    assert {"401", "403", "404", "409", "422"} <= set(operation["responses"])


# --- who may do what -----------------------------------------------------------------------------

FINDINGS = [{"reason": "other", "field": "lines", "detail": "xã Tây Tựu is missing from the list"}]


def _prepared_call(api: PayerNodeApi, method: str, path: str, request_id: str) -> tuple[str, dict[str, Any] | None]:
    """The state each operation succeeds in, made through the node, and the call that would succeed."""
    node, now = api.node, api.clock_ms()
    if path == REQUESTS:
        return path, {"request_id": request_id, "cycle": CYCLE, "from_rolls": True}
    node.file(request_id, CYCLE, MOLISA, now)
    if path.endswith("/versions"):
        node.return_request(request_id, 1, [Finding.model_validate(FINDINGS[0])], PREPARER, now)
        body: dict[str, Any] | None = {"version": 1, "from_rolls": True}
    elif path.endswith("/line-changes"):
        body = {**lines_json(node.lines_page(request_id, 1, limit=1))[0], "amount_vnd": 1_000_000}
    elif path.endswith("/payment-order"):
        node.approve(request_id, 1, APPROVER, now)
        body = None
    elif path.endswith("/returns"):
        body = {"version": 1, "findings": FINDINGS}
    elif method == "POST":
        body = {"version": 1}
    else:
        body = None
    return path.replace("{request_id}", request_id).replace("{version}", "1"), body


@pytest.mark.parametrize("credential", sorted(CREDENTIALS))
def test_every_operation_opens_to_its_own_roles_only(client: TestClient, api: PayerNodeApi, credential: str) -> None:
    document = client.get("/openapi.json").json()
    operations = [
        (method.upper(), path, operation)
        for path, methods in document["paths"].items()
        if path not in OPEN
        for method, operation in methods.items()
    ]
    assert sorted((m, p) for m, p, _ in operations) == sorted(OPENS_TO), "a door no rule covers, or a rule no door"
    for number, (method, template, operation) in enumerate(operations, start=1):
        path, body = _prepared_call(api, method, template, f"MOLISA-2026-12-HN-{number:04d}")
        before = len(log(api))
        answer = client.request(method, path, json=body, headers=CREDENTIALS[credential])
        said = (method, template, credential, answer.status_code, answer.text[:300])
        assert str(answer.status_code) in operation["responses"], said
        if credential in OPENS_TO[(method, template)]:
            assert answer.status_code < 400, said
            continue
        assert answer.headers["content-type"] == PROBLEM, said
        if credential in ("no key", "a wrong key"):
            assert answer.status_code == 401, said
            continue
        assert answer.status_code == 403 and answer.json()["errors"][0]["rule"], said
        # An officer's refused action is recorded; a read, or a key that is no officer's, is not.
        recorded = method == "POST" and credential in OFFICERS
        assert len(log(api)) == before + (1 if recorded else 0), said
        if recorded:
            assert log(api)[-1].action == "refused" and log(api)[-1].details["field"].endswith("role"), said


def test_maker_checker_refusals_are_problems_naming_the_rule(client: TestClient, api: PayerNodeApi) -> None:
    client.post(REQUESTS, json=filing(api), headers=AS_MOLISA)
    by_preparer = client.post(f"{REQUESTS}/{REQUEST_ID}/approval", json={"version": 1}, headers=AS_PREPARER)
    assert by_preparer.status_code == 403 and by_preparer.headers["content-type"] == PROBLEM
    assert by_preparer.json()["errors"][0]["field"] == "officer.role"
    assert "treasury_approver" in by_preparer.json()["errors"][0]["rule"]
    assert client.post(f"{REQUESTS}/{REQUEST_ID}/approval", json={"version": 1}, headers=AS_APPROVER).status_code == 200
    second = client.post(f"{REQUESTS}/{REQUEST_ID}/approval", json={"version": 1}, headers=AS_APPROVER)
    assert second.status_code == 409 and second.json()["errors"][0]["field"] == "state"
    assert "never changes" in second.json()["errors"][0]["rule"]
    refusals = [e.details for e in log(api) if e.action == "refused"]
    assert [(r["refused"], r["field"]) for r in refusals] == [("approved", "officer.role"), ("approved", "state")]


def test_a_person_who_filed_cannot_approve_with_an_approvers_key_of_their_own(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'payer.db'}")
    registry, rolls = registry_and_rolls()
    node = PayerNode(engine, registry, rolls)
    node.setup()
    as_approver = Officer(officer_id=MOLISA.officer_id, name=MOLISA.name, role=Role.TREASURY_APPROVER)
    keys = {**KEYS, "nguyen-thi-lan-approver-key": as_approver}
    with TestClient(create_payer_node_app(PayerNodeApi(node, keys, clock_ms=lambda: NOW_MS))) as http:
        http.post(REQUESTS, json={"request_id": REQUEST_ID, "cycle": CYCLE, "from_rolls": True}, headers=AS_MOLISA)
        own = http.post(
            f"{REQUESTS}/{REQUEST_ID}/approval", json={"version": 1},
            headers={"Authorization": "Bearer nguyen-thi-lan-approver-key"},
        )  # fmt: skip
    assert own.status_code == 403 and own.json()["errors"][0]["field"] == "officer"
    assert "never checks it" in own.json()["errors"][0]["rule"]
    engine.dispose()


# --- bad input ------------------------------------------------------------------------------------


def _with_line(api: PayerNodeApi, **changes: Any) -> dict[str, Any]:
    body = filing(api)
    body["lines"][0] = {**body["lines"][0], **changes}
    body.pop("digest")
    body.pop("totals")
    return body


BAD_FILINGS: dict[str, tuple[Any, int, str]] = {
    # name: (the body, or how to make it from a good one; the status; the field named)
    "an amount as text": (lambda api: _with_line(api, amount_vnd="500000"), 422, "lines[0].amount_vnd"),
    "a negative amount": (lambda api: _with_line(api, amount_vnd=-500_000), 422, "lines[0].amount_vnd"),
    "a fractional amount": (lambda api: _with_line(api, amount_vnd=500_000.5), 422, "lines[0].amount_vnd"),
    "an unknown program code": (lambda api: _with_line(api, program="housing_support"), 422, "lines[0].program"),
    "a citizen id of eleven digits": (
        lambda api: _with_line(api, citizen_id="00119030000"),
        422,
        "lines[0].citizen_id",
    ),
    "a name with a control character": (lambda api: _with_line(api, name="Phạm\x00Bảo"), 422, "lines[0].name"),
    "a cycle that is no month": (lambda api: {**filing(api), "cycle": "2026-13"}, 422, "cycle"),
    "a field nobody asked for": (lambda api: {**filing(api), "priority": "urgent"}, 422, "priority"),
    "lines and from_rolls both": (lambda api: {**filing(api), "from_rolls": True}, 422, "lines"),
    "a digest that is not the list's": (lambda api: {**filing(api), "digest": "0" * 64}, 422, "digest"),
    "negative stated totals": (
        lambda api: {
            **filing(api),
            "totals": {"by_program": {}, "by_province": {}, "grand": {"count": -1, "amount_vnd": 0}},
        },
        422,
        "totals.grand",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_FILINGS))
def test_a_bad_filing_is_refused_naming_the_field_and_only_the_refusal_is_recorded(
    client: TestClient, api: PayerNodeApi, name: str
) -> None:
    make, status, field = BAD_FILINGS[name]
    answer = client.post(REQUESTS, json=make(api), headers=AS_MOLISA)
    assert (answer.status_code, answer.headers["content-type"]) == (status, PROBLEM), answer.text
    error = answer.json()["errors"][0]
    assert error["field"] == field and error["rule"], answer.text
    assert client.get(f"{REQUESTS}/{REQUEST_ID}", headers=AS_MOLISA).status_code == 404
    (refused,) = client.get(f"{REQUESTS}/{REQUEST_ID}/audit", headers=AS_ADMIN).json()["entries"]
    assert refused["action"] == "refused" and refused["details"]["field"] == field
    assert refused["details"]["refused"] == "filed" and refused["actor"] == MOLISA.officer_id
    assert len(log(api)) == 1


def test_malformed_json_is_refused_as_400_and_recorded_under_no_request(client: TestClient, api: PayerNodeApi) -> None:
    answer = client.post(
        REQUESTS, content=b'{"request_id": "MOLISA-2026-12-HN-0001", "cycle": ', headers={**AS_MOLISA,
        "Content-Type": "application/json"},
    )  # fmt: skip
    assert (answer.status_code, answer.headers["content-type"]) == (400, PROBLEM)
    assert answer.json()["errors"][0]["field"] == "(body)" and "JSON" in answer.json()["errors"][0]["rule"]
    (refused,) = log(api)
    assert (refused.action, refused.subject, refused.details["field"]) == ("refused", "unnamed-request", "(body)")


def test_a_version_of_the_wrong_type_is_refused_and_the_request_is_unchanged(
    client: TestClient, api: PayerNodeApi
) -> None:
    client.post(REQUESTS, json=filing(api), headers=AS_MOLISA)
    before = client.get(f"{REQUESTS}/{REQUEST_ID}", headers=AS_APPROVER).json()
    answer = client.post(f"{REQUESTS}/{REQUEST_ID}/approval", json={"version": "1"}, headers=AS_APPROVER)
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "version"
    assert client.get(f"{REQUESTS}/{REQUEST_ID}", headers=AS_APPROVER).json() == before
    assert [(e.action, e.details.get("field")) for e in log(api)] == [("filed", None), ("refused", "version")]


@pytest.mark.parametrize(
    ("path", "size"),
    [(REQUESTS, LIST_BODY_BYTES_MAX + 1), (f"{REQUESTS}/{REQUEST_ID}/returns", 64 * 1024 + 1)],
)
def test_an_oversized_body_is_refused_before_it_is_read_and_changes_nothing(
    client: TestClient, api: PayerNodeApi, path: str, size: int
) -> None:
    body = json.dumps({"request_id": REQUEST_ID, "cycle": CYCLE, "padding": "x" * size}).encode()
    answer = client.post(path, content=body, headers={**AS_MOLISA, "Content-Type": "application/json"})
    assert (answer.status_code, answer.headers["content-type"]) == (413, PROBLEM)
    assert answer.json()["errors"][0]["field"] == "(body)"
    assert log(api) == []


def test_an_expected_head_that_is_no_head_is_refused_naming_it(client: TestClient) -> None:
    answer = client.get("/v1/audit/verification?expected_head=seven", headers=AS_ADMIN)
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "expected_head"


# --- the published contract ------------------------------------------------------------------------


def test_the_openapi_document_tells_the_truth_about_every_operation(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert set(schemes) == {"molisaOfficerKey", "treasuryPreparerKey", "treasuryApproverKey", "adminKey"}
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            responses = operation["responses"]
            for status, response in responses.items():
                if int(status) >= 400:
                    assert response["content"] == {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}
            assert "413" in responses, (method, path)
            if path in OPEN:
                continue
            assert "401" in responses and "403" in responses and operation["security"], (method, path)
            if method == "post":
                schema = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
                assert schema in document["components"]["schemas"] and "400" in responses, (method, path)
                assert {"404", "409", "422"} <= set(responses), (method, path)


def test_health_and_metrics_need_no_key(client: TestClient, api: PayerNodeApi) -> None:
    client.post(REQUESTS, json=filing(api), headers=AS_MOLISA)
    assert client.get("/health").json() == {"status": "ok", "node": "payer"}
    scraped = client.get("/metrics").text
    assert 'switchyard_payer_request_versions{state="filed"} 1.0' in scraped
    assert "switchyard_payer_audit_entries 1.0" in scraped


def test_the_credentials_name_each_key_s_officer(api: PayerNodeApi) -> None:
    written = api.credentials()
    assert written["officers"]["kbnn-approver-key-le-hoang-yen"] == {
        "officer_id": "kbnn.le.hoang.yen", "name": "Lê Hoàng Yến", "role": "treasury_approver",
    }  # fmt: skip
    assert (written["admin_key"], written["post_office_key"]) == (ADMIN_KEY, POST_OFFICE_KEY)
