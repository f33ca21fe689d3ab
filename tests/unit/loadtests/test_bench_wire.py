"""`switchyard bench wire` (loadtests.bench_wire): every message kind through both codecs, at each
size asked for, with figures that add up."""

from __future__ import annotations

import json

import pytest

from loadtests.bench_wire import _cases, _transfer_path, bench_wire
from switch.scheme.messages import TRANSACTIONS_PER_MESSAGE_MAX, CreditTransferMessage, StatusReportMessage
from switchyard.cli import main

KINDS_AT_EACH_SIZE = ("pacs.008", "pacs.002")
KINDS_OF_ONE = ("pacs.028", "acmt.023", "acmt.024")


def test_the_bench_measures_every_kind_at_every_size_with_json_beside_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("loadtests.bench_wire.ROUND_CPU_S_MIN", 0.001)  # the shape, not the figures
    figures = bench_wire([3, 1], rounds=1)
    assert figures["sizes"] == [1, 3]
    measured = [(row["kind"], row["transactions"]) for row in figures["messages"]]
    expected = [(kind, size) for size in (1, 3) for kind in KINDS_AT_EACH_SIZE] + [(k, 1) for k in KINDS_OF_ONE]
    assert measured == expected
    for row in figures["messages"]:
        for way in ("xml_write", "xml_read", "json_write", "json_read"):
            assert row[f"{way}_us"] > 0
            assert row[f"{way}_us_per_transaction"] == pytest.approx(row[f"{way}_us"] / row["transactions"], abs=0.06)
        # The figures are rounded to 0.1 µs and the ratio comes from the unrounded ones: it lies
        # where the rounding lets it, however small the JSON figure.
        xml_us, json_us = row["xml_write_us"], row["json_write_us"]
        assert (
            (xml_us - 0.05) / (json_us + 0.05) - 0.05 <= row["write_ratio"] <= (xml_us + 0.05) / (json_us - 0.05) + 0.05
        )
        assert row["xml_bytes"] > row["json_bytes"] > 0


def test_the_messages_carry_as_many_transactions_as_asked_with_vietnamese_names() -> None:
    cases = {(case.kind, case.size): case.message for case in _cases([1, 250])}
    transfers, reports = cases[("pacs.008", 250)], cases[("pacs.002", 250)]
    assert isinstance(transfers, CreditTransferMessage) and isinstance(reports, StatusReportMessage)
    assert len(transfers.transactions) == len(reports.reports) == 250
    assert transfers.transactions[0].debtor.name == "Nguyễn Văn Đức"
    assert any(t.creditor_alias is not None for t in transfers.transactions)
    assert any(r.status_reason is not None for r in reports.reports)


def test_the_transfer_path_adds_the_calls_of_one_settled_transfer() -> None:
    def row(kind: str, size: int, write: float, read: float) -> dict[str, object]:
        per = {"xml_write": write, "xml_read": read, "json_write": write / 10, "json_read": read / 10}
        return {"kind": kind, "transactions": size, **{f"{k}_us_per_transaction": v for k, v in per.items()}}

    rows = [row("pacs.008", 1, 100, 200), row("pacs.002", 1, 10, 20)]
    rows += [row("pacs.008", 50, 1, 2), row("pacs.002", 50, 3, 4)]
    path = _transfer_path(rows, 50)
    # read 008/1, write 002/1; write 008/50, read 002/50, write 002/50; read 008/50, write 002/50, read 002/50
    assert path["xml_us_per_transfer"] == 200 + 10 + 1 + 4 + 3 + 2 + 3 + 4
    assert path["json_us_per_transfer"] == pytest.approx(22.7)
    assert path["xml_minus_json_us_per_transfer"] == pytest.approx(227 - 22.7)


@pytest.mark.parametrize("sizes", ["0", "1,x", f"1,{TRANSACTIONS_PER_MESSAGE_MAX + 1}"])
def test_sizes_outside_the_scheme_s_limit_are_refused_naming_the_rule(
    sizes: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main(["bench", "wire", "--transactions", sizes])
    assert "--transactions" in capsys.readouterr().err


def test_the_command_prints_one_json_object(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("loadtests.bench_wire.ROUND_CPU_S_MIN", 0.0)
    assert main(["bench", "wire", "--transactions", "2", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["sizes"] == [1, 2] and figures["transfer_path"]["batch"] == 2
