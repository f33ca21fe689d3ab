"""schemathesis against the running switch's own /openapi.json: no generated input gets a 5xx.

Cases come from schemathesis's strategies and run under hypothesis directly (its pytest plugin
does not load under this pytest), one operation after another, against the live `serve` process.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation.case import Case

EXAMPLES_PER_OPERATION = 25


def keys_for(case: Case, sandbox: dict[str, Any]) -> dict[str, str]:
    """The right kind of key for each API, so generated inputs reach the code behind the check."""
    path = case.operation.path
    if path.startswith("/v1/admin"):
        key = sandbox["admin_key"]
    elif path.startswith("/v1/aliases") and case.method.upper() != "GET":
        key = sandbox["citizen_app_key"]
    else:
        key = sandbox["participants"]["970436"]["api_key"]
    return {"Authorization": f"Bearer {key}"}


def test_no_generated_input_makes_the_switch_fail_with_a_5xx(sandbox: dict[str, Any]) -> None:
    schema = schemathesis.openapi.from_url(sandbox["switch"] + "/openapi.json")
    failures: list[str] = []
    statuses: list[int] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # an invalid schema raises here, as it should
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case: Case) -> None:
            response = case.call(base_url=sandbox["switch"], headers=keys_for(case, sandbox), timeout=15)
            statuses.append(response.status_code)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:200]}")

        check()
    assert operations >= 10
    assert len(statuses) >= operations * 5  # the strategies really ran
    assert failures == []
