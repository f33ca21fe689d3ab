"""schemathesis against the running sandbox's own OpenAPI documents (the switch's and a simulated
bank's): every operation, called with each role's key and with none, answers only what its document
says -- the status codes, the media types, the bodies' schemas and the headers -- and never a 5xx.

Cases come from schemathesis's strategies and run under hypothesis directly (its pytest plugin
does not load under this pytest), one operation and role after another, against the live `serve`.
Valid inputs (positive) and inputs that break the documented rules (negative) are both sent: a
request the document refuses must be answered with a documented refusal.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.generation.case import Case
from schemathesis.schemas import APIOperation

from gateway.batches import NDJSON_MEDIA_TYPE
from gateway.signing import SIGNATURE_HEADER, sign

# Kept small: every operation runs once per role and mode (about 370 runs in all), and a run of a
# few examples already meets each documented refusal (401, 403, 404, 422) on a 2-core machine.
EXAMPLES_PER_RUN = 4
DERANDOMIZE = True  # the same cases every run: a finding is a failing test, not a flaky one
CALL_TIMEOUT_S = 20.0  # above the longest wait behind an operation (a verification's 12 s)
VIETCOMBANK = "970436"
# What the document promises of every answer (schemathesis's response-conformance checks).
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.response_headers_conformance,
]


@schemathesis.serializer(NDJSON_MEDIA_TYPE)
def ndjson(_context: Any, value: Any) -> bytes:
    """The inbound batch's body: its document calls it text (lines of JSON), so a string it is."""
    return str(value).encode()


class SignedBySwitch(requests.auth.AuthBase):
    """The switch's signature on a call to a participant, over the body as it is sent."""

    def __init__(self, secret: str) -> None:
        self.secret = secret

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body or b""
        assert isinstance(body, str | bytes), "schemathesis sends a body it serialized whole"
        request.headers[SIGNATURE_HEADER] = sign(self.secret, body.encode() if isinstance(body, str) else body)
        return request


@dataclass(frozen=True)
class Role:
    name: str
    headers: dict[str, str]
    auth: requests.auth.AuthBase | None = None


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def switch_roles(sandbox: dict[str, Any]) -> list[Role]:
    return [
        Role("the admin", bearer(sandbox["admin_key"])),
        Role("Vietcombank", bearer(sandbox["participants"][VIETCOMBANK]["api_key"])),
        Role("the citizen app", bearer(sandbox["citizen_app_key"])),
        Role("the Treasury", bearer(sandbox["payer"]["api_key"])),
        Role("nobody", {}),
    ]


def bank_roles(sandbox: dict[str, Any]) -> list[Role]:
    bank = sandbox["participants"][VIETCOMBANK]
    return [
        Role("the admin", bearer(sandbox["admin_key"])),
        Role("a Vietcombank customer", bearer(bank["customer_key"])),
        Role("the switch", {}, SignedBySwitch(bank["signing_secret"])),
        Role("Vietcombank's switch key", bearer(bank["api_key"])),
        Role("nobody", {}),
    ]


@dataclass
class Tally:
    """What the runs found: every call's status, and each non-conformance once per kind and place."""

    statuses: Counter[int]
    found: dict[str, str]

    def kinds(self) -> Counter[str]:
        return Counter(key.split(" | ")[0] for key in self.found)


def operations(base_url: str) -> Iterator[APIOperation]:
    schema = schemathesis.openapi.from_url(base_url + "/openapi.json")
    for result in schema.get_all_operations():
        yield result.ok()  # type: ignore[union-attr]  # an invalid schema raises here, as it should


def run(base_url: str, roles: list[Role], examples: int = EXAMPLES_PER_RUN) -> tuple[Tally, int]:
    tally = Tally(Counter(), {})
    session = requests.Session()
    count = 0
    for operation in operations(base_url):
        count += 1
        for role in roles:
            for mode in GenerationMode:
                exercise(operation, mode, role, base_url, session, tally, examples)
    return tally, count


def exercise(
    operation: APIOperation, mode: GenerationMode, role: Role, base_url: str, session: requests.Session,
    tally: Tally, examples: int,
) -> None:  # fmt: skip
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None,
        derandomize=DERANDOMIZE,
    )  # fmt: skip
    def check(case: Case) -> None:
        if "Authorization" not in role.headers and case.headers:
            case.headers.pop("Authorization", None)  # nobody's call carries no key at all
        response = case.call(
            base_url=base_url, session=session, headers=role.headers, auth=role.auth, timeout=CALL_TIMEOUT_S
        )
        tally.statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=role.headers)
        except (FailureGroup, Failure) as error:
            failures = error.exceptions if isinstance(error, FailureGroup) else [error]
            for failure in failures:
                key = f"{type(failure).__name__} | {operation.label} | {role.name} | {response.status_code}"
                curl = case.as_curl_command(headers=role.headers)
                tally.found.setdefault(key, f"{failure.title}: {failure.message[:300]}\n    {curl[:600]}")

    try:
        check()
    except Unsatisfiable:  # nothing of it can break a rule (no parameters, no body): no negative case
        assert mode is GenerationMode.NEGATIVE, operation.label


def report(tally: Tally) -> str:
    return "\n".join(f"{key}\n    {message}" for key, message in sorted(tally.found.items()))


@pytest.fixture(scope="module")
def switch_tally(sandbox: dict[str, Any]) -> tuple[Tally, int]:
    return run(sandbox["switch"], switch_roles(sandbox))


@pytest.fixture(scope="module")
def bank_tally(sandbox: dict[str, Any]) -> tuple[Tally, int]:
    return run(sandbox["participants"][VIETCOMBANK]["base_url"], bank_roles(sandbox))


def test_every_switch_operation_answers_each_role_only_as_its_document_says(switch_tally: tuple[Tally, int]) -> None:
    tally, count = switch_tally
    assert count >= 25
    assert sum(tally.statuses.values()) >= count * 5 * 2  # every role and mode really ran
    assert tally.found == {}, f"{tally.kinds()}\n{report(tally)}"


def test_the_runs_reach_past_the_key_check_to_answers_and_refusals(switch_tally: tuple[Tally, int]) -> None:
    statuses = switch_tally[0].statuses
    assert {200, 401, 404, 422} <= set(statuses), statuses


def test_every_simulated_bank_operation_answers_each_caller_only_as_its_document_says(
    bank_tally: tuple[Tally, int],
) -> None:
    tally, count = bank_tally
    assert count >= 7
    assert {200, 401} <= set(tally.statuses), tally.statuses
    assert tally.found == {}, f"{tally.kinds()}\n{report(tally)}"


def payer_node_roles(sandbox: dict[str, Any]) -> list[Role]:
    node = sandbox["payer_node"]
    officers = [Role(role, bearer(officer["api_key"])) for role, officer in sorted(node["officers"].items())]
    return [
        *officers,
        Role("the post office", bearer(node["post_office"]["api_key"])),
        Role("the admin", bearer(sandbox["admin_key"])),
        Role("nobody", {}),
    ]


def test_every_payer_node_operation_answers_each_officer_only_as_its_document_says(sandbox: dict[str, Any]) -> None:
    tally, count = run(sandbox["payer_node"]["base_url"], payer_node_roles(sandbox))
    assert count >= 9
    assert {200, 401, 403} <= set(tally.statuses), tally.statuses
    assert tally.found == {}, f"{tally.kinds()}\n{report(tally)}"
