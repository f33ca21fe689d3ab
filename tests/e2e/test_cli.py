"""The `switchyard` command as a newcomer runs it: a real subprocess, real SQLite files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from network.storage import Storage

SWITCHYARD = [sys.executable, "-m", "switchyard.cli"]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SWITCHYARD, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


DEMO_ARGS = ("demo", "--beneficiaries", "1500", "--seed", "7")


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    folder = tmp_path_factory.mktemp("demo")
    result = run(*DEMO_ARGS, "--out", str(folder / "out"), cwd=folder)
    return result, folder / "out"


def test_the_demo_prints_the_payroll_summary_and_passes_its_checks(
    small_demo: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    result, out = small_demo
    assert result.returncode == 0, result.stderr
    text = result.stdout.replace("\n", " ")
    assert "Checks passed" in result.stdout
    assert "Payroll items by final state" in result.stdout
    assert "Cashless share by province (target 30%)" in result.stdout
    assert "balanced" in text
    assert str(out.resolve()) in result.stdout.replace("\n", "")


def test_the_demo_writes_the_reports_and_keeps_each_node_in_its_own_sqlite_file(
    small_demo: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    _result, out = small_demo
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["invariants"]["failures"] == []
    reconciliation = summary["reconciliation"]
    assert reconciliation["balanced"]
    parts = ("paid", "cash", "held")
    assert sum(reconciliation[p]["count"] for p in parts) == reconciliation["submitted"]["count"] == 1500
    assert sum(reconciliation[p]["amount_vnd"] for p in parts) == reconciliation["submitted"]["amount_vnd"]
    assert 0.15 < summary["cashless_share"] < 0.40
    cash_list = (out / "cash-list.csv").read_text(encoding="utf-8").splitlines()
    assert cash_list[0].startswith("name,citizen_id,province,amount_vnd,program,reason")
    assert len(cash_list) - 1 == reconciliation["cash"]["count"]
    assert (out / "pain.002-1.xml").read_bytes().startswith(b"<?xml")
    assert sorted(p.name for p in (out / "db").glob("*.db")) == [
        "bank_970405.db", "bank_970415.db", "bank_970418.db", "bank_970436.db", "bank_999888.db", "switch.db",
        "wallet_971005.db", "wallet_971011.db", "wallet_971025.db",
    ]  # fmt: skip


def test_the_same_seed_gives_the_same_summary(
    small_demo: tuple[subprocess.CompletedProcess[str], Path], tmp_path: Path
) -> None:
    _result, out = small_demo
    again = run(*DEMO_ARGS, "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "out" / "summary.json").read_bytes() == (out / "summary.json").read_bytes()
    assert (tmp_path / "out" / "cash-list.csv").read_bytes() == (out / "cash-list.csv").read_bytes()


BENCH_PAYROLL_KEYS = {
    "beneficiaries", "format", "registration_share", "database", "paid", "seconds", "beneficiaries_per_second",
    "payments_per_second", "phases_seconds", "peak_rss_mb", "bare_sqlite_rows_per_second", "invariants_ok",
}  # fmt: skip


def test_bench_payroll_prints_one_json_object_with_the_ceiling(tmp_path: Path) -> None:
    result = run("bench", "payroll", "--beneficiaries", "600", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert set(figures) == BENCH_PAYROLL_KEYS
    assert figures["beneficiaries"] == 600 and figures["format"] == "json"
    assert figures["registration_share"] == 0.3
    assert 0 < figures["paid"] < 600  # most of the rolls never registered an account
    assert figures["invariants_ok"] is True
    assert figures["beneficiaries_per_second"] > 0 and figures["bare_sqlite_rows_per_second"] > 0
    assert figures["peak_rss_mb"] > 0


def test_bench_payroll_with_everyone_registered_pays_every_item(tmp_path: Path) -> None:
    args = ("bench", "payroll", "--beneficiaries", "2000", "--registration-share", "1.0", "--json")
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert set(figures) == BENCH_PAYROLL_KEYS
    assert figures["registration_share"] == 1.0
    assert figures["beneficiaries"] == 2000
    # Every item a payment, but for one Agribank (2% of its answers late) times out on all 3 attempts: rare.
    assert 2000 - figures["paid"] <= 2
    assert figures["payments_per_second"] > 0.99 * figures["beneficiaries_per_second"] > 0


def test_bench_payroll_runs_each_format_given_with_its_own_ceiling(tmp_path: Path) -> None:
    args = ("bench", "payroll", "--beneficiaries", "600", "--format", "pain.001,csv", "--json")
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    runs = json.loads(result.stdout)["runs"]
    assert [r["format"] for r in runs] == ["pain.001", "csv"]
    assert all(set(r) == BENCH_PAYROLL_KEYS and r["invariants_ok"] for r in runs)
    assert all(r["bare_sqlite_rows_per_second"] > 0 and r["payments_per_second"] > 0 for r in runs)


def test_bench_payroll_prints_a_row_per_format_with_payments_beside_beneficiaries(tmp_path: Path) -> None:
    result = run("bench", "payroll", "--beneficiaries", "600", "--format", "json,pain.001", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "payments/s" in result.stdout and "beneficiaries/s" in result.stdout
    rows = [line for line in result.stdout.splitlines() if line.startswith("│ json") or "│ pain.001" in line]
    assert len(rows) == 2, result.stdout


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
        (["demo", "--beneficiaries", "0"], "must be a positive integer"),
        (["demo", "--beneficiaries", "many"], "must be a positive integer"),
        (["bench", "ledgers"], "invalid choice"),
        (["bench", "payroll", "--registration-share", "0"], "must be more than 0 and at most 1"),
        (["bench", "payroll", "--registration-share", "1.5"], "must be more than 0 and at most 1"),
        (["bench", "payroll", "--registration-share", "most"], "must be more than 0 and at most 1"),
        (["bench", "payroll", "--format", "json,xml"], "each must be one of json, csv, pain.001"),
        (["demo", "--database", "mysql://localhost/x"], "postgresql"),
        (["serve", "--wire", "soap"], "invalid choice"),
        (["serve", "--wire-for", "970436=soap"], "must be BIN=iso20022-xml or BIN=json"),
        (["serve", "--wire-for", "970499=iso20022-xml"], "970499 is no simulated node's BIN"),
        (["loadtest", "--wire", "xml"], "invalid choice"),
    ],
)
def test_bad_arguments_are_refused_with_a_message_naming_the_rule(
    args: list[str], message: str, tmp_path: Path
) -> None:
    result = run(*args, cwd=tmp_path)
    assert result.returncode != 0
    assert message in result.stderr


def test_the_demo_on_postgresql_runs_twice_from_nothing_with_the_same_summary(
    tmp_path: Path, postgres_url: str
) -> None:
    """The demo drops its own schemas first (switchyard_demo_*), so a second run is the same run."""
    args = ("demo", "--beneficiaries", "600", "--seed", "11", "--database", postgres_url)
    first = run(*args, "--out", str(tmp_path / "one"), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    again = run(*args, "--out", str(tmp_path / "two"), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "one" / "summary.json").read_bytes() == (tmp_path / "two" / "summary.json").read_bytes()
    Storage(url=postgres_url, schema_prefix="switchyard_demo").drop()
