"""`switchyard bench wire`: what the ISO 20022 XML wire costs in CPU, next to the JSON wire, in
one run.

For each message kind (pacs.008, pacs.002, pacs.028, acmt.023, acmt.024) and each size (the number
of transactions a pacs.008 or pacs.002 carries; the others carry one), the same message objects
go through both codecs:

- XML: `switch.scheme.wire.write_wire` (the Business Application Header and the Document, each
  valid by ISO's schema) and `read_wire` (size limit, safe parser, both validated by ISO's schema,
  every scheme rule), as the gateway calls them;
- JSON: pydantic's `model_dump_json` and `model_validate_json` of the same message model, as the
  JSON wire sends and reads it.

Each figure is CPU time (`time.process_time`, not wall time: other work on the machine does not
count) per call, the median of ROUNDS rounds, each round long enough for the clock to resolve.
Every read is checked to give back the message written, so a codec that loses a field cannot
look fast.

The transfer path adds up, per transfer, the codec calls one settled transfer makes on the XML
wire in `switchyard serve`: the switch reads the debtor's 1-transaction pacs.008 and answers it
with a 1-transaction pacs.002; it writes the pacs.008 to the creditor agent, reads its pacs.002
answer and writes the final pacs.002 reports (these three carry many transactions under load:
the largest size measured); the simulated creditor bank reads that pacs.008, writes its pacs.002
and reads the final one.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from pydantic import BaseModel

from switch.scheme.codes import AliasType, Purpose, StatusReason, TransactionStatus, VerificationOutcome
from switch.scheme.messages import (
    TRANSACTIONS_PER_MESSAGE_MAX,
    Alias,
    CreditTransfer,
    CreditTransferMessage,
    Party,
    StatusReport,
    StatusReportMessage,
    StatusRequest,
    VerificationReport,
    VerificationRequest,
)
from switch.scheme.pacs002 import ReadStatusReports
from switch.scheme.pacs008 import SWITCH_MEMBER_ID, ReadCreditTransfers
from switch.scheme.wire import ReadMessage, WireMessage, read_wire, write_wire

ROUNDS = 7
ROUND_CPU_S_MIN = 0.02  # a round repeats its call until it has used this much CPU
CALLS_PER_ROUND_MAX = 100_000
DEFAULT_SIZES = (1, 100)
ICT = timezone(timedelta(hours=7))
CREATED = datetime(2026, 12, 1, 8, 30, 15, 250000, tzinfo=ICT)
SETTLED = datetime(2026, 12, 1, 1, 30, 16, 500000, tzinfo=UTC)
VIETCOMBANK, BIDV, VIETINBANK, AGRIBANK, VIETTEL_MONEY = "970436", "970418", "970415", "970405", "971005"
DEBTOR_AGENTS = (VIETCOMBANK, VIETINBANK, AGRIBANK, VIETTEL_MONEY)
NAMES = ("Nguyễn Văn Đức", "Trần Thị Hồng", "Lê Hoàng Yến", "Phạm Minh Tuấn", "Đặng Thị Thu Hà", "Bùi Xuân Trường")
CITIZEN_IDS = ("001085012345", "079190004321", "031203007788", "048095001122")


@dataclass(frozen=True, slots=True)
class Case:
    """One message through both codecs: `kind` at `size` transactions."""

    kind: str
    size: int
    message: WireMessage
    model: type[BaseModel]  # what the JSON wire reads it as
    sender: str
    receiver: str


def bench_wire(sizes: Sequence[int] = DEFAULT_SIZES, rounds: int = ROUNDS) -> dict[str, Any]:
    """µs per message and per transaction to write and to read, XML and JSON, and their ratios."""
    sizes = sorted({1, *sizes})  # the transfer path needs the debtor's message of one
    if sizes[0] < 1 or sizes[-1] > TRANSACTIONS_PER_MESSAGE_MAX:
        raise ValueError(f"transactions: each between 1 and {TRANSACTIONS_PER_MESSAGE_MAX}")
    rows = [_measure(case, rounds) for case in _cases(sizes)]
    return {
        "rounds": rounds,
        "clock": "time.process_time (CPU), median of the rounds",
        "sizes": sizes,
        "messages": rows,
        "transfer_path": _transfer_path(rows, sizes[-1]),
    }


def _cases(sizes: Sequence[int]) -> list[Case]:
    cases = []
    for size in sizes:
        transfers = CreditTransferMessage(message_id="VCB-20261201-000042", transactions=_transfers(size))
        cases.append(Case("pacs.008", size, transfers, CreditTransferMessage, VIETCOMBANK, SWITCH_MEMBER_ID))
        reports = StatusReportMessage(message_id="NAPAS-STS-20261201-0007", reports=_reports(size))
        cases.append(Case("pacs.002", size, reports, StatusReportMessage, SWITCH_MEMBER_ID, VIETCOMBANK))
    request = StatusRequest(message_id="VCB-STQ-20261201-0001", original_transaction_id="VCB-TX-000001",
                            debtor_agent=VIETCOMBANK)  # fmt: skip
    verification = VerificationRequest(verification_id="NAPAS-VRF-20261201-0001", agent=BIDV,
                                       account="21510001234567", name="Nguyễn Văn Đức",
                                       citizen_id="001085012345")  # fmt: skip
    answer = VerificationReport(original_verification_id="NAPAS-VRF-20261201-0001", agent=BIDV,
                                outcome=VerificationOutcome.CMTC, holder_name_masked="N***** V** DUC")  # fmt: skip
    return [
        *cases,
        Case("pacs.028", 1, request, StatusRequest, VIETCOMBANK, SWITCH_MEMBER_ID),
        Case("acmt.023", 1, verification, VerificationRequest, SWITCH_MEMBER_ID, BIDV),
        Case("acmt.024", 1, answer, VerificationReport, BIDV, SWITCH_MEMBER_ID),
    ]


def _transfers(size: int) -> tuple[CreditTransfer, ...]:
    """Transfers as the hot path carries them: names with diacritics, accounts, agents, a purpose
    and a remittance line; one in four names its creditor's citizen id, one in five an alias."""
    transfers = []
    for number in range(size):
        alias = Alias(type=AliasType.MSISDN, value=f"098{number:07d}") if number % 5 == 4 else None
        creditor_id = CITIZEN_IDS[number % len(CITIZEN_IDS)] if number % 4 == 3 else None
        transfers.append(CreditTransfer(
            message_id="VCB-20261201-000042", end_to_end_id=f"E2E-VCB-{number:06d}",
            transaction_id=f"VCB-TX-{number:06d}", amount_vnd=2_789_000 + number * 1_000,
            debtor=Party(name=NAMES[number % len(NAMES)]), debtor_account=f"0071000{number:06d}",
            debtor_agent=DEBTOR_AGENTS[number % len(DEBTOR_AGENTS)],
            creditor=Party(name=NAMES[(number + 1) % len(NAMES)], citizen_id=creditor_id),
            creditor_account=None if alias else f"2151000{number:07d}", creditor_alias=alias,
            creditor_agent=None if alias else BIDV, purpose=Purpose.CASH,
            remittance_information=f"Chuyển tiền học phí tháng 12 - {NAMES[number % len(NAMES)]}",
        ))  # fmt: skip
    return tuple(transfers)


def _reports(size: int) -> tuple[StatusReport, ...]:
    """Final reports as the switch sends them: settled with the time and amount; one in ten
    rejected with its reason and the rule broken."""
    settled_ms = (SETTLED - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)
    reports = []
    for number in range(size):
        rejected = number % 10 == 9
        reports.append(StatusReport(
            original_message_id="VCB-20261201-000042", original_end_to_end_id=f"E2E-VCB-{number:06d}",
            original_transaction_id=f"VCB-TX-{number:06d}", debtor_agent=VIETCOMBANK,
            transaction_status=TransactionStatus.RJCT if rejected else TransactionStatus.ACSC,
            status_reason=StatusReason.AC01 if rejected else None, creditor_agent=BIDV,
            amount_vnd=2_789_000 + number * 1_000, settled_at_ms=None if rejected else settled_ms + number,
            additional_information="Tài khoản 21510001234567 không tồn tại (CdtrAcct/Id/Othr/Id)" if rejected else None,
        ))  # fmt: skip
    return tuple(reports)


def _measure(case: Case, rounds: int) -> dict[str, Any]:
    data = write_wire(case.message, case.sender, case.receiver, CREATED)
    _check_round_trip(case, read_wire(data).message)
    text = case.message.model_dump_json().encode()
    if case.model.model_validate_json(text) != case.message:
        raise AssertionError(f"{case.kind}: the JSON codec does not give back the message written")
    figures = {
        "xml_write_us": _cpu_us(lambda: write_wire(case.message, case.sender, case.receiver, CREATED), rounds),
        "xml_read_us": _cpu_us(lambda: read_wire(data), rounds),
        "json_write_us": _cpu_us(lambda: case.message.model_dump_json().encode(), rounds),
        "json_read_us": _cpu_us(lambda: case.model.model_validate_json(text), rounds),
    }
    per_transaction = {key.replace("_us", "_us_per_transaction"): value / case.size for key, value in figures.items()}
    return {
        "kind": case.kind,
        "transactions": case.size,
        "xml_bytes": len(data),
        "json_bytes": len(text),
        **{key: round(value, 1) for key, value in figures.items()},
        **{key: round(value, 2) for key, value in per_transaction.items()},
        "write_ratio": round(figures["xml_write_us"] / figures["json_write_us"], 1),
        "read_ratio": round(figures["xml_read_us"] / figures["json_read_us"], 1),
    }


def _check_round_trip(case: Case, read: ReadMessage) -> None:
    """What read_wire gives back is the message written, every transaction taken."""
    if isinstance(read, ReadCreditTransfers):
        assert isinstance(case.message, CreditTransferMessage)
        same = not read.refused and read.transactions == case.message.transactions
    elif isinstance(read, ReadStatusReports):
        assert isinstance(case.message, StatusReportMessage)
        same = not read.refused and read.reports == case.message.reports
    else:
        same = read == case.message
    if not same:
        raise AssertionError(f"{case.kind}: read_wire does not give back the message written")


def _cpu_us(call: Callable[[], object], rounds: int) -> float:
    """The median CPU time of one call, in µs. The garbage collector runs as it would in use; a
    full collection first clears what the previous figure left behind."""
    gc.collect()
    calls = _calls_per_round(call)
    samples = []
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(calls):
            call()
        samples.append((time.process_time() - started) / calls)
    return statistics.median(samples) * 1e6


def _calls_per_round(call: Callable[[], object]) -> int:
    calls = 1
    while calls < CALLS_PER_ROUND_MAX:
        started = time.process_time()
        for _ in range(calls):
            call()
        if time.process_time() - started >= ROUND_CPU_S_MIN:
            break
        calls *= 2
    return calls


def _transfer_path(rows: Sequence[dict[str, Any]], batch: int) -> dict[str, Any]:
    """The codec's CPU per settled transfer on each wire (the module's docstring lists the calls)."""
    figure = {(row["kind"], row["transactions"]): row for row in rows}
    calls = [  # (kind, transactions per message, write or read)
        ("pacs.008", 1, "read"), ("pacs.002", 1, "write"),  # the debtor's transfer and its answer
        ("pacs.008", batch, "write"), ("pacs.002", batch, "read"), ("pacs.002", batch, "write"),  # the switch
        ("pacs.008", batch, "read"), ("pacs.002", batch, "write"), ("pacs.002", batch, "read"),  # the creditor
    ]  # fmt: skip
    totals = {}
    for wire in ("xml", "json"):
        totals[f"{wire}_us_per_transfer"] = round(
            sum(figure[(kind, size)][f"{wire}_{way}_us_per_transaction"] for kind, size, way in calls), 1
        )
    return {
        "batch": batch,
        **totals,
        "xml_minus_json_us_per_transfer": round(totals["xml_us_per_transfer"] - totals["json_us_per_transfer"], 1),
    }
