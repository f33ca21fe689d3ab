"""Bulk disbursement submissions: the Treasury posts payroll files of 100 items (JSON) to
/v1/disbursements, each for its own program and cycle, so none repeats an earlier file.

    switchyard loadtest --profile bulk --duration 60 --users 4
    SWITCHYARD_LOADTEST_CONFIG=out/loadtest/config.json locust -f loadtests/bulk.py --headless \\
        -u 4 -r 4 --run-time 60s --host http://127.0.0.1:8000

Pass criteria: every file accepted whole (201, no row error), p99 under 2 s, 2 files a second.
"""

from __future__ import annotations

import itertools
import os
import uuid
from typing import Any

from locust import constant, task
from locust.contrib.fasthttp import FastHttpUser

from loadtests.common import TALLY, Thresholds, install_thresholds, load_config

CONFIG = load_config()
install_thresholds(Thresholds(failure_ratio_max=0.0, p99_ms_max=2_000.0, rps_min=2.0))
PROGRAMS = ("merit_person", "social_assistance", "elderly", "disability")
# Each file takes the next (program, cycle): a beneficiary is paid once per program and cycle, so a
# file that repeated one would be refused row by row as a duplicate.
_SLOTS = itertools.product(range(2027, 2100), range(1, 13), PROGRAMS)
_RUN = uuid.uuid4().hex[:8]
_FILES = itertools.count()


class PayrollUser(FastHttpUser):
    wait_time = constant(0)
    host = CONFIG["switch"]

    @task
    def submit(self) -> None:
        year, month, program = next(_SLOTS)
        number = next(_FILES)
        cycle = f"{year}-{month:02d}"
        message_id = f"LB{_RUN}{os.getpid() % 10_000:04d}{number:06d}"
        items = [
            {
                "end_to_end_id": f"{message_id}-{n:03d}",
                "citizen_id": person["citizen_id"],
                "name": person["name"],
                "amount_vnd": 500_000,
                "program": program,
                "cycle": cycle,
            }
            for n, person in enumerate(CONFIG["beneficiaries"])
        ]
        headers = {"Authorization": f"Bearer {CONFIG['payer']['api_key']}"}
        body = {"message_id": message_id, "items": items}
        with self.client.post("/v1/disbursements", json=body, headers=headers, catch_response=True) as response:
            _judge(response)


def _judge(response: Any) -> None:
    if response.status_code == 201 and response.json().get("row_errors_total") == 0:
        TALLY.add("accepted")
        response.success()
        return
    TALLY.add(f"HTTP {response.status_code}")
    response.failure(f"HTTP {response.status_code}: {response.text[:200]}")
