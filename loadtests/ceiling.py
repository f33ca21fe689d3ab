"""The ceiling: the same kind of request against a bare FastAPI endpoint on the same machine, so
a run can say what share of it the switch reaches.

    switchyard loadtest   # measures it after the profile, with the same users and half the time
"""

from __future__ import annotations

from locust import constant, task
from locust.contrib.fasthttp import FastHttpUser

from loadtests.common import Thresholds, install_thresholds

install_thresholds(Thresholds(failure_ratio_max=0.0, p99_ms_max=float("inf"), rps_min=0.0))
BODY = {"transaction_id": "CEILING", "amount_vnd": 100_000, "creditor_account": "9704180000001"}


class CeilingUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def echo(self) -> None:
        self.client.post("/v1/transfers", json=BODY)
