"""The payer API (`gateway.payer_api`) on a running `switchyard serve`, over real HTTP: the Treasury's
key from credentials.json, its beneficiaries from population.csv, payroll files in JSON, CSV and
pain.001, and what comes back (summary, items, row errors, pain.002, cash list).

Nobody in the served population has registered an account (the sample accounts belong to other
citizen ids), so every item that passes the identity check goes to the cash list with BE23.
"""

from __future__ import annotations

import csv
import io
import itertools
import time
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree
from serve_helpers import bearer, register_for_welfare, running_serve
from treasury_pain001 import Payment, PaymentGroup, treasury_pain001

from switch.scheme.disbursement import FILE_BYTES_MAX, DisbursementItem, write_csv
from switch.scheme.identifiers import PROVINCE_NAMES
from switch.scheme.pain import PAIN002, pain002_schema, write_pain001

DISBURSEMENTS = "/v1/disbursements"
PROBLEM = "application/problem+json"
COMPLETE_WAIT_S = 30.0
UNKNOWN_CITIZEN_ID = "001090000003"  # well formed, and nobody in the served population
CASH_LIST_HEADER = "name,citizen_id,province,amount_vnd,program,reason,reason_text,end_to_end_id,cycle"
ITEMS_CSV_HEADER = (
    "row,end_to_end_id,citizen_id,name,province_code,program,cycle,amount_vnd,status,reason,creditor_agent,attempts,"
    "payment_info_id,category_purpose,purpose"
)
DEBTOR_AGENT_FIELD = "PmtInf/DbtrAgt/FinInstnId/ClrSysMmbId/MmbId"
_CYCLES = (f"{year}-{month:02d}" for year in range(2027, 2099) for month in range(1, 13))


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """`switchyard serve` for this module, with the folder it writes population.csv to."""
    out = tmp_path_factory.mktemp("serve")
    with running_serve(out) as document:
        document["out"] = out
        yield document


@pytest.fixture(scope="module")
def people(sandbox: dict[str, Any]) -> list[dict[str, str]]:
    population = Path(sandbox["out"]) / sandbox["payer"]["population"]
    with population.open(encoding="utf-8", newline="") as source:
        rows = list(csv.DictReader(source))
    assert rows and list(rows[0]) == ["citizen_id", "name", "birth_date", "province_code", "alive"]
    assert UNKNOWN_CITIZEN_ID not in {r["citizen_id"] for r in rows}
    return rows


@pytest.fixture(scope="module")
def payer(sandbox: dict[str, Any]) -> dict[str, str]:
    assert sandbox["payer"]["bin"] == "999999"
    return bearer(sandbox["payer"]["api_key"])


@pytest.fixture(scope="module")
def other_payer(sandbox: dict[str, Any]) -> dict[str, str]:
    """A second Treasury participant, registered through the admin API."""
    body = {"bin": "999998", "name": "Kho bạc tỉnh Thử nghiệm", "kind": "treasury"}
    registered = httpx.post(
        sandbox["switch"] + "/v1/admin/participants", json=body, headers=bearer(sandbox["admin_key"])
    )
    assert registered.status_code == 201, registered.text
    return bearer(registered.json()["api_key"])


_people_taken = itertools.count()
SAMPLE_HOLDERS = 8 * 50


def beneficiaries(people: list[dict[str, str]], count: int) -> list[dict[str, str]]:
    """People nobody else in this module pays (each test also has its own cycle)."""
    # The first 400 people hold serve's sample accounts (50 at each of the 8 participants); a test
    # that registers one of them for welfare must not meet them as somebody else's beneficiary.
    start = SAMPLE_HOLDERS + next(_people_taken) * 50
    assert count <= 50 and start + count <= len(people)
    return people[start : start + count]


def rows(persons: Sequence[dict[str, str]], cycle: str, prefix: str, program: str = "elderly") -> list[dict[str, Any]]:
    return [
        {
            "end_to_end_id": f"{prefix}-{n:04d}",
            "citizen_id": p["citizen_id"],
            "name": p["name"],
            "amount_vnd": 500_000 + 1_000 * n,
            "program": program,
            "cycle": cycle,
        }
        for n, p in enumerate(persons, start=1)
    ]


def post_json(sandbox: dict[str, Any], key: dict[str, str], message_id: str, items: list[dict[str, Any]]) -> Any:
    return httpx.post(
        sandbox["switch"] + DISBURSEMENTS, json={"message_id": message_id, "items": items}, headers=key, timeout=30
    )


def post_file(
    sandbox: dict[str, Any], key: dict[str, str], body: bytes, content_type: str | None, **params: str
) -> httpx.Response:
    headers = {**key, **({"Content-Type": content_type} if content_type else {})}
    return httpx.post(sandbox["switch"] + DISBURSEMENTS, content=body, headers=headers, params=params, timeout=30)


def get(sandbox: dict[str, Any], key: dict[str, str], path: str, **params: Any) -> httpx.Response:
    return httpx.get(sandbox["switch"] + DISBURSEMENTS + path, headers=key, params=params, timeout=30)


def completed(sandbox: dict[str, Any], key: dict[str, str], disbursement_id: int) -> dict[str, Any]:
    """The summary, polled until the disbursement is no longer running."""
    deadline = time.monotonic() + COMPLETE_WAIT_S
    while True:
        answer = get(sandbox, key, f"/{disbursement_id}")
        assert answer.status_code == 200, answer.text
        summary: dict[str, Any] = answer.json()
        assert 0 <= summary["progress_percent"] <= 100
        if summary["status"] != "running" or time.monotonic() > deadline:
            return summary
        time.sleep(0.2)


def assert_problem(answer: httpx.Response, status: int, field: str | None = None) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    problem: dict[str, Any] = answer.json()
    assert problem["status"] == status
    if field is not None:
        assert field in [e["field"] for e in problem["errors"]], problem
    return problem


def all_items(sandbox: dict[str, Any], key: dict[str, str], disbursement_id: int, limit: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    after = 0
    for _page in range(1_000):
        answer = get(sandbox, key, f"/{disbursement_id}/items", after=after, limit=limit)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        assert len(page["items"]) <= limit
        items += page["items"]
        if page["next_after"] is None:
            return items
        assert page["next_after"] == page["items"][-1]["row"] > after
        after = page["next_after"]
    raise AssertionError("the pages never end")


def csv_records(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8"), newline="")))


# --- submitting -----------------------------------------------------------------------------------


def test_a_json_payroll_is_accepted_with_its_bad_rows_reported_and_completes(
    sandbox: dict[str, Any], payer: dict[str, str], people: list[dict[str, str]]
) -> None:
    cycle = next(_CYCLES)
    good = rows(beneficiaries(people, 6), cycle, "J")
    typo, unknown = dict(good[4], name="Zzyzx Qwerty"), dict(good[5], citizen_id=UNKNOWN_CITIZEN_ID)
    bad = [
        dict(good[0], end_to_end_id="J-BAD-1", amount_vnd=0),  # row 7
        dict(good[1], end_to_end_id="J-BAD-2", cycle="2026-13"),  # row 8
        dict(good[2], end_to_end_id="J-BAD-3", program="pension"),  # row 9
        dict(good[3], end_to_end_id="J-BAD-4", citizen_id="12345"),  # row 10
        dict(good[0]),  # row 11: the same end-to-end id again
        dict(good[1], end_to_end_id="J-BAD-6"),  # row 12: the same beneficiary, program and cycle again
    ]
    items = [*good[:4], typo, unknown, *bad]

    answer = post_json(sandbox, payer, "E2E-PAY-JSON-1", items)

    assert answer.status_code == 201, answer.text
    accepted = answer.json()
    disbursement_id = accepted["id"]
    assert answer.headers["location"] == f"{DISBURSEMENTS}/{disbursement_id}"
    assert (accepted["debtor_agent"], accepted["message_id"], accepted["source_format"]) == (
        "999999", "E2E-PAY-JSON-1", "json",
    )  # fmt: skip
    assert (accepted["rows_total"], accepted["items_total"], accepted["rows_rejected"]) == (12, 6, 6)
    assert accepted["amount_total_vnd"] == sum(i["amount_vnd"] for i in items[:6])
    found = {(e["row"], e["field"], e["reason"]) for e in accepted["row_errors"]}
    assert found == {
        (7, "amount_vnd", "FF01"), (8, "cycle", "FF01"), (9, "program", "FF01"), (10, "citizen_id", "FF01"),
        (11, "end_to_end_id", "DUPL"), (12, "citizen_id", "DUPL"),
    }  # fmt: skip
    assert accepted["row_errors_total"] == len(accepted["row_errors"])
    assert all(e["rule"] for e in accepted["row_errors"])
    assert accepted["links"]["report"] == f"{DISBURSEMENTS}/{disbursement_id}/report"

    summary = completed(sandbox, payer, disbursement_id)
    assert (summary["status"], summary["progress_percent"]) == ("completed", 100.0)
    assert summary["disbursement_id"] == disbursement_id and summary["format"] == "json"
    assert summary["by_status"]["cash"]["count"] == 4 and summary["by_status"]["held"]["count"] == 2
    assert {k: v["count"] for k, v in summary["by_reason"].items()} == {"BE23": 4, "BE01": 1, "BE16": 1}
    reconciliation = summary["reconciliation"]
    assert reconciliation["balanced"] is True
    assert reconciliation["submitted"] == {"count": 6, "amount_vnd": accepted["amount_total_vnd"]}
    assert reconciliation["paid"] == {"count": 0, "amount_vnd": 0}
    assert reconciliation["in_process"] == {"count": 0, "amount_vnd": 0}
    assert summary["row_errors"] == accepted["row_errors_total"]

    row_errors = get(sandbox, payer, f"/{disbursement_id}/row-errors")
    assert row_errors.status_code == 200
    assert row_errors.json() == accepted["row_errors"]

    listed = get(sandbox, payer, "")
    assert listed.status_code == 200
    assert [d["id"] for d in listed.json()].count(disbursement_id) == 1


def test_the_same_file_again_answers_200_with_the_same_disbursement(
    sandbox: dict[str, Any], payer: dict[str, str], people: list[dict[str, str]]
) -> None:
    items = rows(beneficiaries(people, 5), next(_CYCLES), "A")
    first = post_json(sandbox, payer, "E2E-PAY-AGAIN", items)
    again = post_json(sandbox, payer, "E2E-PAY-AGAIN", items)
    assert (first.status_code, again.status_code) == (201, 200), again.text
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["location"] == first.headers["location"]
    listed = [d["id"] for d in get(sandbox, payer, "").json()]
    assert listed.count(first.json()["id"]) == 1

    other_content = post_json(sandbox, payer, "E2E-PAY-AGAIN", items[:-1])
    problem = assert_problem(other_content, 409, "message_id")
    assert problem["errors"][0]["reason"] == "DUPL"


def test_a_csv_payroll_takes_its_message_id_from_the_query_and_nobody_is_paid_twice_across_files(
    sandbox: dict[str, Any], payer: dict[str, str], people: list[dict[str, str]]
) -> None:
    cycle = next(_CYCLES)
    items = [DisbursementItem.model_validate(r) for r in rows(beneficiaries(people, 8), cycle, "C")]
    data = write_csv(items)

    answer = post_file(sandbox, payer, data, "text/csv; charset=utf-8", message_id="E2E-PAY-CSV-1")
    assert answer.status_code == 201, answer.text
    accepted = answer.json()
    assert (accepted["message_id"], accepted["source_format"], accepted["items_total"]) == ("E2E-PAY-CSV-1", "csv", 8)
    again = post_file(sandbox, payer, data, "text/csv", message_id="E2E-PAY-CSV-1")
    assert (again.status_code, again.json()["id"]) == (200, accepted["id"])
    assert completed(sandbox, payer, accepted["id"])["status"] == "completed"

    # The same rows under another message id: a new file, every row already paid for this cycle.
    unnamed = post_file(sandbox, payer, data, "text/csv")
    assert unnamed.status_code == 201, unnamed.text
    repeat = unnamed.json()
    assert repeat["id"] != accepted["id"] and repeat["message_id"].startswith("CSV-")
    assert (repeat["items_total"], repeat["rows_rejected"], repeat["reason"]) == (0, 8, "DUPL")
    assert {(e["field"], e["reason"]) for e in repeat["row_errors"]} == {("citizen_id", "DUPL")}
    assert sorted(e["row"] for e in repeat["row_errors"]) == list(range(1, 9))


def test_a_pain001_payroll_is_accepted_as_xml(
    sandbox: dict[str, Any], payer: dict[str, str], people: list[dict[str, str]]
) -> None:
    cycle = next(_CYCLES)
    persons = beneficiaries(people, 6)
    items = [
        DisbursementItem.model_validate(r)
        for r in rows(persons[:3], cycle, "X", "elderly") + rows(persons[3:], cycle, "Y", "disability")
    ]
    data = write_pain001("E2E-PAY-PAIN-1", datetime(2026, 12, 1, 8, 0), "MOLISA", "999999", "1200100000001", items)

    answer = post_file(sandbox, payer, data, "application/xml")
    assert answer.status_code == 201, answer.text
    accepted = answer.json()
    assert (accepted["message_id"], accepted["source_format"], accepted["items_total"]) == (
        "E2E-PAY-PAIN-1", "pain.001", 6,
    )  # fmt: skip
    again = post_file(sandbox, payer, data, "text/xml")
    assert (again.status_code, again.json()["id"]) == (200, accepted["id"])
    summary = completed(sandbox, payer, accepted["id"])
    assert summary["status"] == "completed"
    assert {k: v["count"] for k, v in summary["by_program"].items()} == {"elderly": 3, "disability": 3}

    not_ours = write_pain001("E2E-PAY-PAIN-2", datetime(2026, 12, 1), "MOLISA", "970436", "1200100000001", items)
    problem = assert_problem(post_file(sandbox, payer, not_ours, "application/xml"), 422, DEBTOR_AGENT_FIELD)
    assert problem["errors"][0]["rule"].startswith("must be 999999, the BIN of ")


def payments(persons: Sequence[dict[str, str]], prefix: str, **codes: Any) -> list[Payment]:
    return [
        Payment(f"{prefix}-{n:04d}", p["citizen_id"], p["name"], 500_000 + 1_000 * n, **codes)
        for n, p in enumerate(persons, start=1)
    ]


def test_a_pain001_written_by_a_treasury_system_is_reported_under_its_own_payment_information_ids(
    sandbox: dict[str, Any], payer: dict[str, str], people: list[dict[str, str]]
) -> None:
    year, month = next(_CYCLES).split("-")
    persons = beneficiaries(people, 5)
    groups = [
        PaymentGroup("Người cao tuổi - đợt 1", payments(persons[:3], "TE", purpose=("Prtry", "elderly")),
                     execution=date(int(year), int(month), 5), category=("Cd", "PENS")),
        PaymentGroup("NKT-01", payments(persons[3:], "TD"), execution=date(int(year), int(month), 5),
                     category=("Prtry", "disability")),
    ]  # fmt: skip
    data = treasury_pain001("E2E-PAY-TREASURY-1", groups)

    answer = post_file(sandbox, payer, data, "application/xml")
    assert answer.status_code == 201, answer.text
    accepted = answer.json()
    assert (accepted["items_total"], accepted["row_errors"]) == (5, [])
    assert completed(sandbox, payer, accepted["id"])["status"] == "completed"
    items = all_items(sandbox, payer, accepted["id"], limit=100)
    assert [(i["program"], i["cycle"], i["payment_info_id"], i["category_purpose"]) for i in items] == [
        ("elderly", f"{year}-{month}", "Người cao tuổi - đợt 1", "PENS"),
    ] * 3 + [("disability", f"{year}-{month}", "NKT-01", None)] * 2

    report = get(sandbox, payer, f"/{accepted['id']}/report")
    document = etree.fromstring(report.content)
    assert pain002_schema().validate(document), pain002_schema().error_log
    ns = {"p": PAIN002}
    reported = {
        info.findtext("p:OrgnlPmtInfId", namespaces=ns): info.xpath(
            "p:TxInfAndSts/p:OrgnlEndToEndId/text()", namespaces=ns
        )
        for info in document.iterfind(".//p:OrgnlPmtInfAndSts", ns)
    }
    assert reported == {"Người cao tuổi - đợt 1": ["TE-0001", "TE-0002", "TE-0003"], "NKT-01": ["TD-0001", "TD-0002"]}


def test_a_pain001_refused_whole_can_be_sent_again_corrected_under_the_same_message_id(
    sandbox: dict[str, Any], payer: dict[str, str], people: list[dict[str, str]]
) -> None:
    year, month = next(_CYCLES).split("-")
    persons = beneficiaries(people, 3)
    when = date(int(year), int(month), 1)
    # No program anywhere the switch reads one: every row refused, nothing accepted.
    unreadable = treasury_pain001("E2E-PAY-RESEND", [PaymentGroup("Lô 1", payments(persons, "RS"), execution=when)])
    refused = post_file(sandbox, payer, unreadable, "application/xml")
    assert refused.status_code == 201, refused.text
    assert (refused.json()["status"], refused.json()["reason"], refused.json()["rows_rejected"]) == (
        "rejected",
        "FF01",
        3,
    )
    assert {e["field"] for e in refused.json()["row_errors"]} == {"program"}
    assert "CdtTrfTxInf/Purp/Prtry" in refused.json()["row_errors"][0]["rule"]

    fixed = [PaymentGroup("Lô 1", payments(persons, "RS", purpose=("Prtry", "elderly")), execution=when)]
    corrected = post_file(sandbox, payer, treasury_pain001("E2E-PAY-RESEND", fixed), "application/xml")
    assert corrected.status_code == 201, corrected.text
    assert corrected.json()["id"] != refused.json()["id"]
    assert (corrected.json()["message_id"], corrected.json()["items_total"]) == ("E2E-PAY-RESEND", 3)
    listed = {d["id"]: d for d in get(sandbox, payer, "").json()}
    assert listed[refused.json()["id"]]["superseded_by"] == corrected.json()["id"]
    assert listed[corrected.json()["id"]]["superseded_by"] is None
    assert completed(sandbox, payer, corrected.json()["id"])["status"] == "completed"


def test_the_report_of_a_pain001_counts_the_transactions_of_the_original_message(
    sandbox: dict[str, Any], payer: dict[str, str], people: list[dict[str, str]]
) -> None:
    sent = rows(beneficiaries(people, 4), next(_CYCLES), "O")
    sent[3]["end_to_end_id"] = sent[0]["end_to_end_id"]  # refused at intake: the same end-to-end id again
    items = [DisbursementItem.model_validate(r) for r in sent]
    data = write_pain001("E2E-PAY-PAIN-COUNT", datetime(2026, 12, 1), "MOLISA", "999999", "1200100000001", items)
    answer = post_file(sandbox, payer, data, "application/xml")
    assert answer.status_code == 201, answer.text
    assert (answer.json()["rows_total"], answer.json()["items_total"]) == (4, 3)
    report = etree.fromstring(get(sandbox, payer, f"/{answer.json()['id']}/report").content)
    original = report.find(f".//{{{PAIN002}}}OrgnlGrpInfAndSts")
    assert original is not None
    assert original.findtext(f"{{{PAIN002}}}OrgnlNbOfTxs") == "4"
    # A refused row's amount may be unreadable, so the report leaves the optional control sum out
    # rather than state a wrong one; when it is there, it is the original's.
    control = original.findtext(f"{{{PAIN002}}}OrgnlCtrlSum")
    assert control is None or control == str(sum(r["amount_vnd"] for r in sent))


def test_a_file_whose_every_row_is_bad_is_recorded_with_its_row_errors_and_still_reports(
    sandbox: dict[str, Any], payer: dict[str, str], people: list[dict[str, str]]
) -> None:
    items = [dict(r, amount_vnd=-1) for r in rows(beneficiaries(people, 3), next(_CYCLES), "R")]
    answer = post_json(sandbox, payer, "E2E-PAY-ALL-BAD", items)
    assert answer.status_code == 201, answer.text
    accepted = answer.json()
    assert (accepted["reason"], accepted["items_total"], accepted["rows_rejected"]) == ("FF01", 0, 3)
    assert [(e["row"], e["field"]) for e in accepted["row_errors"]] == [(n, "amount_vnd") for n in (1, 2, 3)]
    summary = get(sandbox, payer, f"/{accepted['id']}")
    assert summary.status_code == 200
    assert summary.json()["progress_percent"] == 100.0
    assert summary.json()["reconciliation"]["submitted"] == {"count": 0, "amount_vnd": 0}
    report = get(sandbox, payer, f"/{accepted['id']}/report")
    assert report.status_code == 200, report.text
    assert pain002_schema().validate(etree.fromstring(report.content)), pain002_schema().error_log
    assert get(sandbox, payer, f"/{accepted['id']}/cash-list").text.strip() == CASH_LIST_HEADER
    assert get(sandbox, payer, f"/{accepted['id']}/items").json() == {"items": [], "next_after": None}


def test_a_file_with_no_accepted_row_is_rejected_and_its_report_says_so(
    sandbox: dict[str, Any], payer: dict[str, str], people: list[dict[str, str]]
) -> None:
    items = [dict(r, cycle="2026-00") for r in rows(beneficiaries(people, 2), next(_CYCLES), "Z")]
    answer = post_json(sandbox, payer, "E2E-PAY-NONE-ACCEPTED", items)
    assert answer.status_code == 201, answer.text
    disbursement_id = answer.json()["id"]
    assert (answer.json()["status"], answer.json()["reason"]) == ("rejected", "FF01")
    assert get(sandbox, payer, f"/{disbursement_id}").json()["status"] == "rejected"
    report = etree.fromstring(get(sandbox, payer, f"/{disbursement_id}/report").content)
    assert report.findtext(f".//{{{PAIN002}}}GrpSts") == "RJCT"


# --- reading back ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mixed(sandbox: dict[str, Any], payer: dict[str, str], people: list[dict[str, str]]) -> dict[str, Any]:
    """A completed disbursement of 25 items (23 cash BE23, one held BE01, one held BE16) and one bad row."""
    items = rows(beneficiaries(people, 25), next(_CYCLES), "M")
    items[7]["name"] = "Zzyzx Qwerty"
    items[11]["citizen_id"] = UNKNOWN_CITIZEN_ID
    items.insert(3, dict(items[0], end_to_end_id="M-BAD", amount_vnd="lots"))
    answer = post_json(sandbox, payer, "E2E-PAY-MIXED", items)
    assert answer.status_code == 201, answer.text
    summary = completed(sandbox, payer, answer.json()["id"])
    assert summary["status"] == "completed"
    return {"id": answer.json()["id"], "sent": items, "summary": summary}


def test_items_come_in_pages_that_join_up_to_the_whole_file(
    sandbox: dict[str, Any], payer: dict[str, str], mixed: dict[str, Any]
) -> None:
    disbursement_id = mixed["id"]
    paged = all_items(sandbox, payer, disbursement_id, limit=10)
    assert len(paged) == 25
    assert [i["row"] for i in paged] == [1, 2, 3, *range(5, 27)]  # row 4 was refused at intake
    assert all_items(sandbox, payer, disbursement_id, limit=1_000) == paged
    assert all_items(sandbox, payer, disbursement_id, limit=7) == paged
    sent = {r["end_to_end_id"]: r for r in mixed["sent"] if r["end_to_end_id"] != "M-BAD"}
    for item in paged:
        source = sent[item["end_to_end_id"]]
        assert (item["citizen_id"], item["name"], item["amount_vnd"]) == (
            source["citizen_id"], source["name"], source["amount_vnd"],
        )  # fmt: skip
        assert item["province_code"] == item["citizen_id"][:3]
        assert (item["program"], item["cycle"], item["attempts"], item["creditor_agent"]) == (
            "elderly", source["cycle"], 0, None,
        )  # fmt: skip
    assert {(i["status"], i["reason"]) for i in paged} == {("cash", "BE23"), ("held", "BE01"), ("held", "BE16")}

    held = get(sandbox, payer, f"/{disbursement_id}/items", status="held")
    assert held.status_code == 200
    assert [i["end_to_end_id"] for i in held.json()["items"]] == ["M-0008", "M-0012"]
    assert held.json()["next_after"] is None
    beyond = get(sandbox, payer, f"/{disbursement_id}/items", after=26)
    assert beyond.json() == {"items": [], "next_after": None}


@pytest.mark.parametrize(
    ("params", "field"),
    [({"limit": 0}, "limit"), ({"limit": 1_001}, "limit"), ({"after": -1}, "after"), ({"status": "lost"}, "status")],
)
def test_bad_item_page_parameters_are_refused_naming_the_parameter(
    sandbox: dict[str, Any], payer: dict[str, str], mixed: dict[str, Any], params: dict[str, Any], field: str
) -> None:
    assert_problem(get(sandbox, payer, f"/{mixed['id']}/items", **params), 422, field)


def test_items_csv_holds_every_item_as_the_pages_do(
    sandbox: dict[str, Any], payer: dict[str, str], mixed: dict[str, Any]
) -> None:
    answer = get(sandbox, payer, f"/{mixed['id']}/items.csv")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.text.splitlines()[0] == ITEMS_CSV_HEADER
    records = csv_records(answer.content)
    paged = all_items(sandbox, payer, mixed["id"], limit=100)
    assert [
        (int(r["row"]), r["end_to_end_id"], r["citizen_id"], r["name"], int(r["amount_vnd"]), r["status"], r["reason"])
        for r in records
    ] == [
        (i["row"], i["end_to_end_id"], i["citizen_id"], i["name"], i["amount_vnd"], i["status"], i["reason"] or "")
        for i in paged
    ]


def test_the_cash_list_names_whom_the_post_office_pays_by_province(
    sandbox: dict[str, Any], payer: dict[str, str], mixed: dict[str, Any]
) -> None:
    answer = get(sandbox, payer, f"/{mixed['id']}/cash-list")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.text.splitlines()[0] == CASH_LIST_HEADER
    records = csv_records(answer.content)
    cash = [i for i in all_items(sandbox, payer, mixed["id"], limit=100) if i["status"] == "cash"]
    assert len(records) == len(cash) == 23 == mixed["summary"]["by_status"]["cash"]["count"]
    expected = sorted(cash, key=lambda i: (i["province_code"], i["row"]))
    assert [r["end_to_end_id"] for r in records] == [i["end_to_end_id"] for i in expected]
    for record, item in zip(records, expected, strict=True):
        assert (record["name"], record["citizen_id"], int(record["amount_vnd"])) == (
            item["name"], item["citizen_id"], item["amount_vnd"],
        )  # fmt: skip
        assert record["province"] == PROVINCE_NAMES.get(item["province_code"], item["province_code"])
        assert (record["program"], record["cycle"], record["reason"]) == ("elderly", item["cycle"], "BE23")
        assert record["reason_text"]
    assert sum(int(r["amount_vnd"]) for r in records) == mixed["summary"]["by_status"]["cash"]["amount_vnd"]


def test_the_report_is_a_pain002_valid_against_the_schema_with_every_item(
    sandbox: dict[str, Any], payer: dict[str, str], mixed: dict[str, Any]
) -> None:
    answer = get(sandbox, payer, f"/{mixed['id']}/report")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/xml")
    document = etree.fromstring(answer.content)
    schema = pain002_schema()
    assert schema.validate(document), schema.error_log
    ns = {"p": PAIN002}
    assert document.findtext("p:CstmrPmtStsRpt/p:OrgnlGrpInfAndSts/p:OrgnlMsgId", namespaces=ns) == "E2E-PAY-MIXED"
    assert document.findtext("p:CstmrPmtStsRpt/p:OrgnlGrpInfAndSts/p:GrpSts", namespaces=ns) == "RJCT"  # none paid
    # every transaction of the original: the 25 accepted and the row refused at intake
    assert document.findtext(".//p:OrgnlNbOfTxs", namespaces=ns) == "26"
    statuses = {
        tx.findtext("p:OrgnlEndToEndId", namespaces=ns): (
            tx.findtext("p:TxSts", namespaces=ns),
            tx.findtext("p:StsRsnInf/p:Rsn/p:Cd", namespaces=ns),
        )
        for tx in document.iterfind(".//p:TxInfAndSts", ns)
    }
    assert len(statuses) == 26  # the 25 accepted items and the row refused at intake
    assert statuses["M-0008"] == ("RJCT", "BE01") and statuses["M-0012"] == ("RJCT", "BE16")
    refused = {e for e, s in statuses.items() if s[1] in ("FF01", "CH20", "DUPL")}
    assert len(refused) == 1
    assert {s for e, s in statuses.items() if e not in ("M-0008", "M-0012", *refused)} == {("RJCT", "BE23")}


# --- who may ask ----------------------------------------------------------------------------------

LIST = "(list)"
READ_PATHS = ["", "/items", "/items.csv", "/row-errors", "/report", "/cash-list"]  # after /{id}


def target(disbursement_id: int, path: str) -> str:
    return "" if path == LIST else f"/{disbursement_id}{path}"


@pytest.mark.parametrize("path", [LIST, *READ_PATHS])
@pytest.mark.parametrize("key", ["none", "unknown"])
def test_no_key_or_an_unknown_key_is_refused_401(
    sandbox: dict[str, Any], mixed: dict[str, Any], path: str, key: str
) -> None:
    headers = bearer("not-a-key") if key == "unknown" else {}
    problem = assert_problem(get(sandbox, headers, target(mixed["id"], path)), 401)
    if key == "none":
        assert problem["errors"][0]["field"] == "Authorization"


@pytest.mark.parametrize("key", ["none", "unknown"])
def test_no_key_or_an_unknown_key_may_not_submit(
    sandbox: dict[str, Any], people: list[dict[str, str]], key: str
) -> None:
    headers = bearer("not-a-key") if key == "unknown" else {}
    items = rows(beneficiaries(people, 2), next(_CYCLES), "K")
    assert_problem(post_json(sandbox, headers, "E2E-PAY-NOKEY", items), 401)


def test_a_bank_may_not_submit_a_payroll(sandbox: dict[str, Any], people: list[dict[str, str]]) -> None:
    bank = bearer(sandbox["participants"]["970436"]["api_key"])
    items = rows(beneficiaries(people, 2), next(_CYCLES), "B")
    problem = assert_problem(post_json(sandbox, bank, "E2E-PAY-BANK", items), 403, "debtor_agent")
    assert problem["errors"][0]["reason"] == "RR04"


@pytest.mark.parametrize("path", [LIST, *READ_PATHS])
def test_a_bank_may_not_read_the_payer_api(sandbox: dict[str, Any], mixed: dict[str, Any], path: str) -> None:
    bank = bearer(sandbox["participants"]["970436"]["api_key"])
    assert_problem(get(sandbox, bank, target(mixed["id"], path)), 403)


@pytest.mark.parametrize("path", READ_PATHS)
def test_another_payers_disbursement_is_not_found(
    sandbox: dict[str, Any], other_payer: dict[str, str], mixed: dict[str, Any], path: str
) -> None:
    problem = assert_problem(get(sandbox, other_payer, f"/{mixed['id']}{path}"), 404, "disbursement_id")
    assert problem["errors"][0]["reason"] == "NOOR"
    assert mixed["id"] not in [d["id"] for d in get(sandbox, other_payer, "").json()]


@pytest.mark.parametrize("path", READ_PATHS)
def test_an_unknown_disbursement_is_not_found(sandbox: dict[str, Any], payer: dict[str, str], path: str) -> None:
    assert_problem(get(sandbox, payer, f"/987654{path}"), 404, "disbursement_id")


# --- bad files ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "body", "params", "status", "field"),
    [
        ("application/json", b"{not json", {}, 400, "file"),
        ("application/json", b"[1, 2]", {}, 400, "file"),
        ("application/json", b"", {}, 400, "file"),
        ("application/json", b'{"items": [{}]}', {}, 400, "message_id"),
        ("application/json", b'{"message_id": "' + b"M" * 36 + b'", "items": [{}]}', {}, 400, "message_id"),
        ("application/json", b'{"message_id": "E2E-BAD", "items": {"a": 1}}', {}, 400, "items"),
        ("application/json", b'{"message_id": "E2E-BAD", "items": []}', {}, 400, "items"),
        ("text/csv", b"citizen_id,name\n001,x\n", {}, 400, "header"),
        ("text/csv", b"\xff\xfe\x00bad", {}, 400, "file"),
        ("text/csv", b"end_to_end_id,citizen_id,name,amount_vnd,program,cycle\n", {"message_id": "M" * 36}, 422,
         "message_id"),
        ("application/xml", b"<Document><unclosed></Document>", {}, 400, "file"),
        ("application/xml", b"<Document xmlns='urn:example'/>", {}, 400, "Document"),
        ("text/plain", b"end_to_end_id,citizen_id,name,amount_vnd,program,cycle\n", {}, 400, "Content-Type"),
        ("application/x-www-form-urlencoded", b"message_id=1", {}, 400, "Content-Type"),
        (None, b'{"message_id": "E2E-BAD", "items": []}', {}, 400, "Content-Type"),
    ],
)  # fmt: skip
def test_a_malformed_file_is_refused_naming_the_field(
    sandbox: dict[str, Any],
    payer: dict[str, str],
    content_type: str | None,
    body: bytes,
    params: dict[str, str],
    status: int,
    field: str,
) -> None:
    before = len(get(sandbox, payer, "").json())
    problem = assert_problem(post_file(sandbox, payer, body, content_type, **params), status, field)
    assert problem["detail"]
    assert len(get(sandbox, payer, "").json()) == before  # nothing was recorded


def test_a_pain001_that_breaks_its_schema_is_refused_naming_the_document(
    sandbox: dict[str, Any], payer: dict[str, str], people: list[dict[str, str]]
) -> None:
    items = [DisbursementItem.model_validate(r) for r in rows(beneficiaries(people, 2), next(_CYCLES), "S")]
    data = write_pain001("E2E-PAY-PAIN-BAD", datetime(2026, 12, 1), "MOLISA", "999999", "1200100000001", items)
    broken = data.replace(b"<NbOfTxs>2</NbOfTxs>", b"<NbOfTxs>two</NbOfTxs>")
    assert broken != data
    assert_problem(post_file(sandbox, payer, broken, "application/xml"), 400, "Document")
    miscounted = data.replace(b"<NbOfTxs>2</NbOfTxs>", b"<NbOfTxs>3</NbOfTxs>")
    assert_problem(post_file(sandbox, payer, miscounted, "application/xml"), 400, "GrpHdr.NbOfTxs")


def test_a_file_over_the_limit_is_refused_413_whether_its_length_is_declared_or_not(
    sandbox: dict[str, Any], payer: dict[str, str]
) -> None:
    big = b'{"message_id": "E2E-PAY-BIG", "items": [' + b" " * FILE_BYTES_MAX + b"]}"
    declared = post_file(sandbox, payer, big, "application/json")
    assert_problem(declared, 413, "(body)")

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(big), 1 << 20):
            yield big[start : start + (1 << 20)]

    streamed = httpx.post(
        sandbox["switch"] + DISBURSEMENTS,
        content=chunks(),
        headers={**payer, "Content-Type": "application/json"},
        timeout=60,
    )
    assert_problem(streamed, 413, "(body)")
    assert "E2E-PAY-BIG" not in [d["message_id"] for d in get(sandbox, payer, "").json()]


def test_a_payroll_pays_the_registered_accounts_over_http_and_lists_the_rest_for_cash(
    sandbox: dict[str, Any], payer: dict[str, str], people: list[dict[str, str]]
) -> None:
    holders = [
        (bin_code, sandbox["participants"][bin_code]["sample_customers"][1]) for bin_code in ("970415", "971005")
    ]
    for number, (bin_code, holder) in enumerate(holders):
        register_for_welfare(sandbox, bin_code, holder, f"VNEID-E2E-PAY-{number}")
    registered = [next(p for p in people if p["citizen_id"] == h["citizen_id"]) for _b, h in holders]
    items = rows([*registered, *beneficiaries(people, 1)], next(_CYCLES), "PAID")
    accepted = post_json(sandbox, payer, "E2E-PAY-PAID", items)
    assert accepted.status_code == 201, accepted.text

    summary = completed(sandbox, payer, accepted.json()["id"])
    assert summary["status"] == "completed"
    assert {k: v["count"] for k, v in summary["by_status"].items()} == {"paid": 2, "cash": 1}
    assert set(summary["by_participant"]) == {"970415", "971005"}
    assert summary["reconciliation"]["balanced"]
    listed = get(sandbox, payer, f"/{accepted.json()['id']}/items").json()["items"]
    assert [(i["status"], i["creditor_agent"], i["attempts"]) for i in listed] == [
        ("paid", "970415", 1), ("paid", "971005", 1), ("cash", None, 0),
    ]  # fmt: skip
