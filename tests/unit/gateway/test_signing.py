"""Signed calls from the switch cannot be played again (issue 14 item 6): the body, a timestamp and
a call id are signed together; a participant refuses a call outside the window and an id it has
seen within it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from live import SECRET, bidv_node

from gateway.node_app import NodeApi, create_node_app
from gateway.runtime import NodeRuntime
from gateway.signing import SIGNATURE_HEADER, SIGNATURE_WINDOW_S, Verifier, problem, sign, verify

NOW_S = 1_796_083_200
BODY = b'{"original_transaction_id": "VCB20261201000001"}'


@given(st.binary(max_size=200), st.text(min_size=1, max_size=30))
def test_a_signed_body_verifies_and_any_other_body_or_secret_does_not(body: bytes, secret: str) -> None:
    header = sign(secret, body, now_s=NOW_S)
    assert verify(secret, body, header, now_s=NOW_S)
    assert not verify(secret, body + b" ", header, now_s=NOW_S)
    assert not verify(secret + "x", body, header, now_s=NOW_S)


def test_the_header_signs_a_timestamp_and_an_id_with_the_body() -> None:
    header = sign(SECRET, BODY, now_s=NOW_S, call_id="call-1")
    assert header.startswith(f"t={NOW_S},id=call-1,v1=")
    moved = header.replace(f"t={NOW_S}", f"t={NOW_S + 1}")  # a replayer cannot refresh the timestamp
    assert problem(SECRET, BODY, moved, now_s=NOW_S) is not None
    renamed = header.replace("id=call-1", "id=call-2")  # nor pick a new id
    assert problem(SECRET, BODY, renamed, now_s=NOW_S) is not None


@pytest.mark.parametrize("offset_s", [-SIGNATURE_WINDOW_S - 1, SIGNATURE_WINDOW_S + 1])
def test_a_call_signed_outside_the_window_is_refused(offset_s: int) -> None:
    header = sign(SECRET, BODY, now_s=NOW_S + offset_s)
    rule = problem(SECRET, BODY, header, now_s=NOW_S)
    assert rule is not None and f"within {SIGNATURE_WINDOW_S} s" in rule
    assert problem(SECRET, BODY, sign(SECRET, BODY, now_s=NOW_S - SIGNATURE_WINDOW_S), now_s=NOW_S) is None


def test_the_same_call_played_twice_is_refused_the_second_time() -> None:
    verifier = Verifier()
    header = sign(SECRET, BODY, now_s=NOW_S)
    assert verifier.check(SECRET, BODY, header, now_s=NOW_S) is None
    replayed = verifier.check(SECRET, BODY, header, now_s=NOW_S + 1)
    assert replayed is not None and "already used" in replayed
    assert verifier.check(SECRET, BODY, sign(SECRET, BODY, now_s=NOW_S), now_s=NOW_S + 1) is None  # a new call


def test_ids_are_forgotten_once_their_calls_fall_out_of_the_window_and_the_memory_is_bounded() -> None:
    verifier = Verifier(ids_max=10)
    for n in range(25):
        assert verifier.check(SECRET, BODY, sign(SECRET, BODY, now_s=NOW_S, call_id=f"c{n}"), now_s=NOW_S) is None
    assert len(verifier.seen) == 10
    later = NOW_S + SIGNATURE_WINDOW_S + 5
    assert verifier.check(SECRET, BODY, sign(SECRET, BODY, now_s=later, call_id="fresh"), now_s=later) is None
    assert list(verifier.seen) == ["fresh"]


@pytest.fixture
def bank(tmp_path: Path) -> Iterator[TestClient]:
    node = bidv_node(tmp_path)
    with TestClient(create_node_app(NodeApi(node, NodeRuntime(node), SECRET))) as client:
        yield client


def test_a_recorded_call_replayed_to_a_node_is_refused_401(bank: TestClient) -> None:
    report = (
        b'{"original_message_id": "M1", "original_end_to_end_id": "E1", "original_transaction_id": "VCB-T1",'
        b' "debtor_agent": "970436", "transaction_status": "RJCT", "status_reason": "AB05"}'
    )
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(SECRET, report, now_s=time.time())}
    first = bank.post("/v1/inbound/status-reports", content=report, headers=headers)
    assert first.status_code == 204, first.text

    replayed = bank.post("/v1/inbound/status-reports", content=report, headers=headers)

    assert replayed.status_code == 401
    [error] = replayed.json()["errors"]
    assert error["field"] == SIGNATURE_HEADER and "already used" in error["rule"]


def test_a_call_signed_an_hour_ago_is_refused_by_a_node(bank: TestClient) -> None:
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(SECRET, BODY, now_s=time.time() - 3_600)}
    answer = bank.post("/v1/inbound/status-reports", content=BODY, headers=headers)
    assert answer.status_code == 401 and "within 300 s" in answer.json()["errors"][0]["rule"]
