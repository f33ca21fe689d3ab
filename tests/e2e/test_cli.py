"""The `switchyard` command as a newcomer runs it: a real subprocess, real SQLite files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SWITCHYARD = [sys.executable, "-m", "scenarios.cli"]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SWITCHYARD, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    folder = tmp_path_factory.mktemp("demo")
    result = run(
        "demo", "--people", "400", "--transfers", "300", "--seed", "7", "--out", str(folder / "out"), cwd=folder
    )
    return result, folder / "out"


def test_the_demo_prints_the_summary_and_passes_its_conservation_check(
    small_demo: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    result, out = small_demo
    assert result.returncode == 0, result.stderr
    assert "Conservation check passed" in result.stdout
    assert "Transfers at the switch by status and reason" in result.stdout
    assert str((out / "summary.json").resolve()) in result.stdout.replace("\n", "")


def test_the_demo_writes_a_summary_with_each_node_in_its_own_sqlite_file(
    small_demo: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    _result, out = small_demo
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["invariants"]["failures"] == []
    assert summary["invariants"]["customer_money_vnd"] == summary["invariants"]["opening_deposits_vnd"]
    settled = sum(row["count"] for row in summary["transfers"] if row["status"] == "ACSC")
    assert settled == summary["invariants"]["settled_count"] > 0
    assert {row["bin"] for row in summary["participants"]} >= {"970436", "970418", "970415", "970405", "999888"}
    assert sorted(p.name for p in (out / "db").glob("*.db")) == [
        "bank_970405.db", "bank_970415.db", "bank_970418.db", "bank_970436.db", "bank_999888.db", "switch.db",
        "wallet_971005.db", "wallet_971011.db", "wallet_971025.db",
    ]  # fmt: skip


def test_the_same_seed_gives_the_same_summary(
    small_demo: tuple[subprocess.CompletedProcess[str], Path], tmp_path: Path
) -> None:
    _result, out = small_demo
    again = run(
        "demo", "--people", "400", "--transfers", "300", "--seed", "7", "--out", str(tmp_path / "out"), cwd=tmp_path
    )
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "out" / "summary.json").read_bytes() == (out / "summary.json").read_bytes()


def test_bench_prints_one_json_object_with_the_ceiling_beside_the_figures(tmp_path: Path) -> None:
    result = run("bench", "transfers", "--count", "300", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert set(figures["modes"]) == {
        "single_sequential", "single_concurrent", "batched", "switch_core_single_concurrent", "switch_core_batched",
    }  # fmt: skip
    assert all(value > 0 for value in figures["modes"].values())
    assert figures["bare_sqlite_rows_per_second"] > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["demo", "--people", "0"], "must be a positive integer"),
        (["demo", "--transfers", "many"], "must be a positive integer"),
        (["bench", "ledgers"], "invalid choice"),
        (["demo", "--database", "mysql://localhost/x"], "postgresql"),
    ],
)
def test_bad_arguments_are_refused_with_a_message_naming_the_rule(
    args: list[str], message: str, tmp_path: Path
) -> None:
    result = run(*args, cwd=tmp_path)
    assert result.returncode != 0
    assert message in result.stderr
