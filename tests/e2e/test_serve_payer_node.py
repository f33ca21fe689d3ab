"""The ministry's side of `switchyard serve` over real HTTP (issue 15 item 8): the payer node on the port
after the last participant's, each officer with the key credentials.json gives them. MOLISA files
the month's list prepared from the rolls, changes a line after filing, the Treasury's preparer finds
it by the digest and returns it, MOLISA files the list again, the preparer may not approve and the
approver does, then reads the payment order to the Treasury's serving bank (a pain.001 whose DbtrAgt
is VietinBank, 970415); the audit timeline holds every step, and `switchyard audit verify` on the payer's
database file, as an operator runs it, finds the chain whole."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any
from urllib.parse import urlsplit

import httpx
from lxml import etree
from serve_helpers import bearer

REQUESTS = "/v1/payment-requests"
PROBLEM = "application/problem+json"
CYCLE = "2026-12"
HTTP_TIMEOUT_S = 30.0  # a list of the whole served population is prepared and digested in the call
VERIFY_TIMEOUT_S = 120
PAIN001 = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"}


def officer(sandbox: dict[str, Any], role: str) -> dict[str, str]:
    return sandbox["payer_node"]["officers"][role]


def as_role(sandbox: dict[str, Any], role: str) -> dict[str, str]:
    return bearer(officer(sandbox, role)["api_key"])


def post(sandbox: dict[str, Any], path: str, body: dict[str, Any], headers: dict[str, str]) -> httpx.Response:
    return httpx.post(sandbox["payer_node"]["base_url"] + path, json=body, headers=headers, timeout=HTTP_TIMEOUT_S)


def get(sandbox: dict[str, Any], path: str, headers: dict[str, str]) -> httpx.Response:
    return httpx.get(sandbox["payer_node"]["base_url"] + path, headers=headers, timeout=HTTP_TIMEOUT_S)


def file_from_rolls(sandbox: dict[str, Any], request_id: str) -> dict[str, Any]:
    body = {"request_id": request_id, "cycle": CYCLE, "from_rolls": True}
    filed = post(sandbox, REQUESTS, body, as_role(sandbox, "molisa_officer"))
    assert filed.status_code == 201, filed.text
    return filed.json()


def audit_verify(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "switchyard.cli", "audit", "verify", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=VERIFY_TIMEOUT_S)


def test_the_payer_node_is_served_after_the_last_participant_with_a_key_for_each_officer(
    sandbox: dict[str, Any],
) -> None:
    node = sandbox["payer_node"]
    last_participant_port = max(urlsplit(p["base_url"]).port or 0 for p in sandbox["participants"].values())
    assert urlsplit(node["base_url"]).port == last_participant_port + 1
    assert httpx.get(node["base_url"] + "/health").json() == {"status": "ok", "node": "payer"}
    officers = node["officers"]
    assert {role: o["name"] for role, o in officers.items()} == {
        "molisa_officer": "Nguyễn Thị Hạnh", "treasury_preparer": "Trần Văn Minh", "treasury_approver": "Lê Thị Thu",
    }  # fmt: skip
    assert all(role == o["role"] for role, o in officers.items())
    keys = [o["api_key"] for o in officers.values()] + [node["post_office"]["api_key"], sandbox["admin_key"]]
    assert len(set(keys)) == len(keys), "every person and role holds a key of their own"
    assert node["database"].endswith("/db/payer.db")


def test_a_list_changed_after_filing_is_returned_corrected_and_approved_by_another_person(
    sandbox: dict[str, Any],
) -> None:
    request_id = "MOLISA-2026-12-HN-0001"
    molisa, preparer, approver = (
        as_role(sandbox, r) for r in ("molisa_officer", "treasury_preparer", "treasury_approver")
    )
    filed = file_from_rolls(sandbox, request_id)["versions"][0]
    assert filed["state"] == "filed" and filed["totals"]["grand"]["count"] > 0

    first = get(sandbox, f"{REQUESTS}/{request_id}/versions/1/lines?limit=1", molisa).json()["lines"][0]
    raised = {**first, "amount_vnd": first["amount_vnd"] + 500_000}
    changed = post(sandbox, f"{REQUESTS}/{request_id}/versions/1/line-changes", raised, molisa)
    assert changed.status_code == 204, changed.text

    review = post(sandbox, f"{REQUESTS}/{request_id}/reviews", {"version": 1}, preparer).json()
    assert not review["approves"] and review["digest_now"] != filed["digest"]
    assert "list_changed_after_filing" in {finding["reason"] for finding in review["findings"]}
    returned = post(
        sandbox, f"{REQUESTS}/{request_id}/returns", {"version": 1, "findings": review["findings"]}, preparer
    )
    assert returned.status_code == 200 and returned.json()["state"] == "returned", returned.text

    corrected = post(sandbox, f"{REQUESTS}/{request_id}/versions", {"version": 1, "from_rolls": True}, molisa)
    assert corrected.status_code == 201, corrected.text
    assert corrected.json()["versions"][1]["digest"] == filed["digest"], "the rolls' list again, as first filed"

    by_preparer = post(sandbox, f"{REQUESTS}/{request_id}/approval", {"version": 2}, preparer)
    assert by_preparer.status_code == 403 and by_preparer.headers["content-type"] == PROBLEM
    assert by_preparer.json()["errors"][0]["field"] == "officer.role"
    approved = post(sandbox, f"{REQUESTS}/{request_id}/approval", {"version": 2}, approver)
    assert approved.status_code == 200, approved.text
    assert approved.json()["versions"][1]["decided_by"]["name"] == "Lê Thị Thu"
    request = get(sandbox, f"{REQUESTS}/{request_id}", preparer).json()
    assert [(v["version"], v["state"]) for v in request["versions"]] == [(1, "returned"), (2, "approved")]

    order = get(sandbox, f"{REQUESTS}/{request_id}/payment-order?part=1", approver)
    assert order.status_code == 200 and order.headers["content-type"] == "application/xml", order.text
    assert order.headers["X-Parts-Total"] == "1"
    document = etree.fromstring(order.content)
    assert document.findtext(".//p:DbtrAgt/p:FinInstnId/p:ClrSysMmbId/p:MmbId", namespaces=PAIN001) == "970415"
    assert document.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:MsgId", namespaces=PAIN001) == f"{request_id}-V2-P1"
    assert (
        int(document.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum", namespaces=PAIN001) or 0)
        == (corrected.json()["versions"][1]["totals"]["grand"]["amount_vnd"])
    )

    timeline = get(sandbox, f"{REQUESTS}/{request_id}/audit", bearer(sandbox["admin_key"])).json()["entries"]
    ids = {role: officer(sandbox, role)["officer_id"] for role in sandbox["payer_node"]["officers"]}
    assert [(e["action"], e["subject"].split("/")[1], e["actor"]) for e in timeline] == [
        ("prepared", "v1", ids["molisa_officer"]), ("filed", "v1", ids["molisa_officer"]),
        ("returned", "v1", ids["treasury_preparer"]), ("prepared", "v2", ids["molisa_officer"]),
        ("filed", "v2", ids["molisa_officer"]), ("refused", "v2", ids["treasury_preparer"]),
        ("approved", "v2", ids["treasury_approver"]),
    ]  # fmt: skip
    assert "list_changed_after_filing" in timeline[2]["details"]["reasons"]
    assert timeline[5]["details"]["refused"] == "approved"


def test_the_police_registry_check_leaves_people_off_the_list_and_the_trail_counts_them(
    sandbox: dict[str, Any],
) -> None:
    request_id = "MOLISA-2026-12-HN-0002"
    filed = file_from_rolls(sandbox, request_id)["versions"][0]
    timeline = get(sandbox, f"{REQUESTS}/{request_id}/audit", as_role(sandbox, "treasury_approver")).json()["entries"]
    prepared = timeline[0]["details"]
    assert (timeline[0]["action"], prepared["lines"]) == ("prepared", filed["totals"]["grand"]["count"])
    assert prepared["excluded"].get("identity_mismatch", 0) > 0, "a roll's typo is caught before anyone is paid"


def test_audit_verify_on_the_payer_database_serve_wrote_exits_0_with_the_nodes_own_head(
    sandbox: dict[str, Any],
) -> None:
    file_from_rolls(sandbox, "MOLISA-2026-12-HN-0003")
    over_http = get(sandbox, "/v1/audit/verification", bearer(sandbox["admin_key"])).json()
    assert over_http["ok"] and over_http["entries"] >= 2

    result = audit_verify("--database", sandbox["payer_node"]["database"])

    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    answer = json.loads(line)
    assert (answer["ok"], answer["entries"], answer["head"]) == (True, over_http["entries"], over_http["head"])
    pinned = audit_verify("--database", sandbox["payer_node"]["database"], "--expect-head", over_http["head"])
    assert pinned.returncode == 0, pinned.stderr
