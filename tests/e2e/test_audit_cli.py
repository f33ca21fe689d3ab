"""`switchyard audit verify` as an operator runs it: a real subprocess on a real SQLite file, rows
altered with plain SQL as someone with the file would."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from ledger.storage import open_engine
from payer.audit import service
from payer.audit.schemas import AuditAction, AuditEvent, AuditRole, payment_request_subject, payroll_item_subject

SWITCHYARD = [sys.executable, "-m", "switchyard.cli"]
DECEMBER_2026_MS = 1_796_058_000_000  # 2026-12-01 00:00 in Hanoi
REQUEST = "MOLISA-2026-12-HN-0001"


def verify(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SWITCHYARD, "audit", "verify", *args], capture_output=True, text=True, timeout=120)


def payer_database(folder: Path) -> Path:
    """The payer's SQLite file with a request's steps from preparation to a cash payout, one
    transaction a step."""
    v1 = payment_request_subject(REQUEST, 1)
    steps: list[tuple[str, AuditRole, AuditAction, str, dict[str, Any]]] = [
        ("Nguyễn Thị Lan", AuditRole.MOLISA_OFFICER, AuditAction.PREPARED, v1, {"items": 2, "amount_vnd": 1_000_000}),
        ("Nguyễn Thị Lan", AuditRole.MOLISA_OFFICER, AuditAction.FILED, v1, {"digest": "9f2c41"}),
        ("Nguyễn Thị Lan", AuditRole.TREASURY_APPROVER, AuditAction.REFUSED, v1, {"refused": "approved"}),
        ("Trần Văn Đức", AuditRole.TREASURY_APPROVER, AuditAction.APPROVED, v1, {"items": 2}),
        ("VietinBank 970415", AuditRole.TREASURY_BANK, AuditAction.SENT, v1, {"message_id": "KBNN-2026-12-0001"}),
        ("Bưu điện Ba Đình", AuditRole.POST_OFFICE, AuditAction.PAID_IN_CASH,
         payroll_item_subject(REQUEST, "E2E-2026-12-000002"), {"amount_vnd": 500_000}),
    ]  # fmt: skip
    path = folder / "payer.db"
    engine = open_engine(f"sqlite:///{path}")
    service.create_tables(engine)
    for minute, (actor, role, action, subject, details) in enumerate(steps):
        event = AuditEvent(DECEMBER_2026_MS + minute * 60_000, actor, role, action, subject, details)
        with engine.begin() as connection:
            service.append(connection, event)
    engine.dispose()
    return path


def plain_sql(path: Path, statement: str, *values: object) -> None:
    connection = sqlite3.connect(path)
    with connection:
        connection.execute(statement, values)
    connection.close()


def test_a_whole_trail_exits_0_with_one_json_line_naming_the_head_to_pin(tmp_path: Path) -> None:
    result = verify("--database", str(payer_database(tmp_path)))
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    answer = json.loads(line)
    assert answer["ok"] is True
    assert answer["entries"] == 6
    assert answer["head"].startswith("6:") and len(answer["head"]) == 2 + 64


def test_a_row_altered_with_plain_sql_exits_1_naming_its_sequence_and_what_is_wrong(tmp_path: Path) -> None:
    path = payer_database(tmp_path)
    plain_sql(path, "UPDATE payer_audit_entry SET actor = ? WHERE sequence = 3", "Trần Văn Đức")  # hide who it was
    result = verify("--database", str(path))
    assert result.returncode == 1
    broken = json.loads(result.stdout)["broken"]
    assert (broken["sequence"], broken["reason"]) == (3, "hash_mismatch")
    assert "the chain is broken at sequence 3: hash_mismatch, the row was altered" in result.stderr


def test_a_row_deleted_with_plain_sql_exits_1_naming_the_gap(tmp_path: Path) -> None:
    path = payer_database(tmp_path)
    plain_sql(path, "DELETE FROM payer_audit_entry WHERE sequence = 3")
    result = verify("--database", str(path))
    assert result.returncode == 1
    assert json.loads(result.stdout)["broken"]["reason"] == "sequence_gap"
    assert "sequence 3: sequence_gap" in result.stderr


def test_a_cut_tail_passes_alone_and_fails_against_the_head_pinned_before(tmp_path: Path) -> None:
    path = payer_database(tmp_path)
    pinned = json.loads(verify("--database", str(path)).stdout)["head"]
    plain_sql(path, "DELETE FROM payer_audit_entry WHERE sequence = 6")
    assert verify("--database", str(path)).returncode == 0
    result = verify("--database", str(path), "--expect-head", pinned)
    assert result.returncode == 1
    assert json.loads(result.stdout)["broken"]["reason"] == "expected_head_missing"
    assert verify("--database", str(path), "--expect-head", "5:" + "0" * 64).returncode == 1


def test_a_missing_file_exits_2_and_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "payer.db"
    result = verify("--database", str(missing))
    assert result.returncode == 2
    assert "no such file" in result.stderr
    assert not missing.exists()


def test_a_database_without_an_audit_trail_exits_2_saying_so(tmp_path: Path) -> None:
    path = tmp_path / "bank.db"
    plain_sql(path, "CREATE TABLE ledger_account (id TEXT PRIMARY KEY)")
    result = verify("--database", str(path))
    assert result.returncode == 2
    assert "no table payer_audit_entry" in result.stderr


def test_an_expected_head_that_is_not_seq_colon_hash_exits_2_naming_the_rule(tmp_path: Path) -> None:
    result = verify("--database", str(payer_database(tmp_path)), "--expect-head", "6")
    assert result.returncode == 2
    assert "--expect-head" in result.stderr and "SEQ:HASH" in result.stderr
