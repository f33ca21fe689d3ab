"""`switchyard loadtest` as a smoke run: it proves the wiring and the checks, not the speed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

LOOSE = {"SWITCHYARD_P99_MS_MAX": "100000", "SWITCHYARD_RPS_MIN": "1"}


def loadtest(out: Path, *args: str, **environment: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "switchyard.cli", "loadtest", "--out", str(out), "--json", *args]
    env = {**os.environ, **environment}
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env=env, check=False)


def test_a_ten_second_run_passes_its_thresholds_and_the_switch_settled_what_locust_counted(tmp_path: Path) -> None:
    finished = loadtest(tmp_path, "--duration", "10", "--users", "5", **LOOSE)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    result = json.loads(finished.stdout)
    locust = result["locust"]
    assert result["ok"] and result["server"]["checks_failed"] == []
    assert locust["failures"] == 0 and locust["failures_by_kind"] == {}
    assert locust["thresholds"] == "THRESHOLDS MET"
    assert result["server"]["settled"] == locust["outcomes"]["ACSC"] > 0
    assert locust["requests_per_second"] > 0 and locust["p99_ms"] is not None
    assert result["ceiling"]["requests_per_second"] > 0 and result["share_of_ceiling"] > 0
    assert (tmp_path / "profile_stats.csv").exists() and (tmp_path / "summary.json").exists()


def test_a_missed_threshold_makes_the_run_fail_and_names_it(tmp_path: Path) -> None:
    finished = loadtest(
        tmp_path, "--duration", "5", "--users", "2", "--no-ceiling", SWITCHYARD_RPS_MIN="1000000",
        SWITCHYARD_P99_MS_MAX="100000",
    )  # fmt: skip
    assert finished.returncode == 1
    result = json.loads(finished.stdout)
    assert not result["ok"]
    assert result["locust"]["thresholds"].startswith("THRESHOLDS MISSED: throughput")
    assert result["server"]["checks_failed"] == []  # the server was right; only the speed missed
    assert (result["rate_offered"], result["rate_achieved"], result["rate_met"]) == (None, None, None)  # closed


def test_the_skewed_profile_sends_seven_in_ten_transfers_from_one_participant(tmp_path: Path) -> None:
    finished = loadtest(tmp_path, "--profile", "skewed", "--duration", "6", "--users", "4", "--no-ceiling", **LOOSE)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    result = json.loads(finished.stdout)
    by_debtor = result["server"]["settled_by_debtor"]
    heavy = by_debtor.get(result["load_participants"][0], 0)
    assert sum(by_debtor.values()) == result["locust"]["outcomes"]["ACSC"] > 100
    assert 0.6 < heavy / sum(by_debtor.values()) < 0.8


def test_the_bulk_profile_submits_payroll_files_that_are_all_accepted_whole(tmp_path: Path) -> None:
    finished = loadtest(tmp_path, "--profile", "bulk", "--duration", "5", "--users", "2", "--no-ceiling", **LOOSE)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    result = json.loads(finished.stdout)
    assert result["ok"] and result["locust"]["failures"] == 0
    assert result["locust"]["outcomes"]["accepted"] == result["locust"]["requests"] > 0
    assert result["server"]["settled"] == 0  # nobody in those files registered an account: all cash


def test_the_alias_profile_finds_registered_ids_and_the_directory_budget_answers_429_past_it(
    tmp_path: Path,
) -> None:
    finished = loadtest(tmp_path, "--profile", "aliases", "--duration", "5", "--users", "4", "--no-ceiling", **LOOSE)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    outcomes = json.loads(finished.stdout)["locust"]["outcomes"]
    assert outcomes["found"] > 0 and outcomes["not found"] > 0
    assert outcomes["429 rate limited"] > 0  # four participants at 20 look-ups a second each, asked far more
    assert set(outcomes) == {"found", "not found", "429 rate limited"}


def test_a_run_at_a_fixed_rate_offers_that_rate_reports_it_met_and_paces_enough_users(tmp_path: Path) -> None:
    finished = loadtest(tmp_path, "--rate", "50", "--duration", "5", "--users", "4", "--no-ceiling", **LOOSE)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    result = json.loads(finished.stdout)
    assert result["ok"] and result["server"]["checks_failed"] == []
    assert result["rate_offered"] == 50 and result["rate_met"] is True
    assert 50 * 0.95 <= result["rate_achieved"] == result["locust"]["requests_per_second"]
    assert result["rate_achieved"] < 50 * 1.2  # paced: 20 users, 2.5 transfers a second each; closed they send hundreds
    assert result["users"] == 20  # 50/s × the 100 ms budget × 4: more than the 4 asked for
    assert result["server"]["settled"] == result["locust"]["outcomes"]["ACSC"] > 0


def test_a_rate_is_refused_for_a_profile_that_is_not_paced(tmp_path: Path) -> None:
    finished = loadtest(tmp_path, "--profile", "bulk", "--rate", "10")
    assert finished.returncode == 2
    assert "--rate" in finished.stderr and "p2p" in finished.stderr and finished.stdout == ""
