"""What every profile shares: its configuration, its tally of outcomes, and its pass criteria.

Thresholds (each profile states its own; the environment can tighten them):
    failure ratio      SWITCHYARD_FAILURE_RATIO_MAX   unexpected failures / requests (default 0)
    p99 latency        SWITCHYARD_P99_MS_MAX          over all requests
    throughput         SWITCHYARD_RPS_MIN             requests per second over the run
A business reject the profile provoked on purpose (AM04 to an account it drained) is not a
failure; it is counted in the tally. When a threshold is missed, locust exits 1 and says which.
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from locust import events
from locust.env import Environment
from locust.runners import WorkerRunner

from loadtests import FAILURE_RATIO_MAX_VARIABLE, P99_MS_MAX_VARIABLE, RPS_MIN_VARIABLE

CONFIG_VARIABLE = "SWITCHYARD_LOADTEST_CONFIG"


@dataclass(frozen=True)
class Thresholds:
    failure_ratio_max: float
    p99_ms_max: float
    rps_min: float

    @staticmethod
    def from_environment(defaults: Thresholds) -> Thresholds:
        return Thresholds(
            float(os.environ.get(FAILURE_RATIO_MAX_VARIABLE, defaults.failure_ratio_max)),
            float(os.environ.get(P99_MS_MAX_VARIABLE, defaults.p99_ms_max)),
            float(os.environ.get(RPS_MIN_VARIABLE, defaults.rps_min)),
        )


def load_config() -> dict[str, Any]:
    path = os.environ.get(CONFIG_VARIABLE)
    if not path:
        raise RuntimeError(f"{CONFIG_VARIABLE} must name the JSON file `switchyard loadtest` writes")
    config: dict[str, Any] = json.loads(Path(path).read_text())
    return config


class Tally:
    """Outcomes by kind (ACSC, RJCT AM04, PDNG, ...), shared by the users of one process, written
    to a JSON file when the run ends so the server-side check can compare."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def add(self, kind: str) -> None:
        with self._lock:
            self.counts[kind] += 1

    def write(self, path: str | None) -> None:
        if path:
            Path(path).write_text(json.dumps(dict(self.counts), sort_keys=True))


TALLY = Tally()


def install_thresholds(defaults: Thresholds) -> None:
    """Check the run against its thresholds when locust quits, and set the exit code."""

    @events.quitting.add_listener
    def _check(environment: Environment, **_kwargs: Any) -> None:
        # Each process counts its own outcomes (with --processes, workers send requests and the
        # master only aggregates the stats): one tally file per process, summed by the caller.
        tally = os.environ.get("SWITCHYARD_LOADTEST_TALLY")
        TALLY.write(f"{tally}.{os.getpid()}" if tally else None)
        if isinstance(environment.runner, WorkerRunner):
            return  # the master judges the run on the aggregated stats
        thresholds = Thresholds.from_environment(defaults)
        total = environment.stats.total
        _write_totals(total, os.environ.get("SWITCHYARD_LOADTEST_TOTALS"))
        missed = []
        if total.fail_ratio > thresholds.failure_ratio_max:
            missed.append(f"failure ratio {total.fail_ratio:.4f} > {thresholds.failure_ratio_max}")
        p99 = total.get_response_time_percentile(0.99) or 0
        if p99 > thresholds.p99_ms_max:
            missed.append(f"p99 {p99:.0f} ms > {thresholds.p99_ms_max:.0f} ms")
        if total.total_rps < thresholds.rps_min:
            missed.append(f"throughput {total.total_rps:.0f}/s < {thresholds.rps_min:.0f}/s")
        if missed:
            print("THRESHOLDS MISSED: " + "; ".join(missed), flush=True)
            environment.process_exit_code = 1
        else:
            print("THRESHOLDS MET", flush=True)


def _write_totals(total: Any, path: str | None) -> None:
    """The run's final figures (locust's CSV is written every few seconds and can miss the last)."""
    if not path:
        return
    figures = {
        "requests": total.num_requests,
        "failures": total.num_failures,
        "requests_per_second": round(total.total_rps, 1),
        "p50_ms": total.get_response_time_percentile(0.5),
        "p95_ms": total.get_response_time_percentile(0.95),
        "p99_ms": total.get_response_time_percentile(0.99),
    }
    Path(path).write_text(json.dumps(figures, sort_keys=True))
