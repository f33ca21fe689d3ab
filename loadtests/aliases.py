"""Alias look-ups: load participants ask the directory who holds a citizen id (GET /v1/aliases),
nine in ten for aliases registered through the citizen app, one in ten for ids nobody registered.

    switchyard loadtest --profile aliases --duration 60 --users 20
    SWITCHYARD_LOADTEST_CONFIG=out/loadtest/config.json locust -f loadtests/aliases.py --headless \\
        -u 20 -r 20 --run-time 60s --host http://127.0.0.1:8000

The directory's token bucket (per participant: 100 tokens, 20 a second, a miss costs 10) answers
429 past it, as it should: a 429 is counted, not a failure. A 404 for an unregistered id is the
right answer. Pass criteria: no unexpected failure, p99 under 100 ms, 50 look-ups a second.
"""

from __future__ import annotations

import os
import random
from typing import Any

from locust import constant, task
from locust.contrib.fasthttp import FastHttpUser

from loadtests.common import TALLY, Thresholds, install_thresholds, load_config

CONFIG = load_config()
install_thresholds(Thresholds(failure_ratio_max=0.0, p99_ms_max=100.0, rps_min=50.0))
UNREGISTERED_SHARE = 0.10


class AliasLookupUser(FastHttpUser):
    wait_time = constant(0)
    host = CONFIG["switch"]

    def on_start(self) -> None:
        self.random = random.Random(int(os.environ.get("SWITCHYARD_LOADTEST_SEED", "0")) + id(self))

    @task
    def look_up(self) -> None:
        registered = self.random.random() >= UNREGISTERED_SHARE
        citizen_id = self.random.choice(CONFIG["aliases"] if registered else CONFIG["unregistered"])
        payer = self.random.choice(CONFIG["payers"])
        headers = {"Authorization": f"Bearer {payer['api_key']}"}
        path = f"/v1/aliases/citizen_id/{citizen_id}"
        with self.client.get(path, headers=headers, name="/v1/aliases/citizen_id/[id]", catch_response=True) as answer:
            _judge(answer, registered)


def _judge(response: Any, registered: bool) -> None:
    expected = 200 if registered else 404
    if response.status_code == expected:
        TALLY.add("found" if registered else "not found")
        response.success()
    elif response.status_code == 429:
        TALLY.add("429 rate limited")  # the directory's budget at work, not a fault
        response.success()
    else:
        TALLY.add(f"HTTP {response.status_code}")
        response.failure(f"HTTP {response.status_code} for a {'registered' if registered else 'unknown'} alias")
