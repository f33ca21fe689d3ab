"""The checks of `switchyard certify`: a fixed list, run in this order, each a function that takes
the run's context (the client playing the switch, the test accounts) and returns its outcome with
why. Each sends fresh ids, so the kit runs again and again against the same participant, and small
whole-VND amounts.

What the kit cannot see from outside is not checked: a participant's books. A credit it accepted and
no check finished is voided at the end (RJCT AB05, as the switch does when it gives up), so what the
run leaves behind is one settled credit of CREDIT_VND, from the final-report check.
"""

from __future__ import annotations

import enum
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import BaseModel

from conformance.accounts import Accounts
from conformance.client import ParticipantClient, Reply, new_ids
from gateway.batches import AnswerLine
from gateway.runtime import wall_clock_ms
from switch.scheme.codes import StatusReason, TransactionStatus, VerificationOutcome, WireFormat
from switch.scheme.messages import CreditTransfer, Party, StatusReport, VerificationReport, VerificationRequest
from switch.scheme.names import compare_names, normalize_name

CREDIT_VND = 10_000
TIMEOUT_S = 5.0  # the switch waits this long for a creditor's answer; later is RJCT AB05
DEBTOR_AGENTS = ("970436", "970418")  # Vietcombank sends the kit's credits; BIDV when Vietcombank is certified
DEBTOR_NAME = "Nguyễn Văn Đức"
OTHER_NAMES = ("Trần Thị Bích Ngọc", "Lê Hoàng Phúc")  # someone else, for NMTC
WRONG_SECRET = "not-the-signing-secret"
NOT_OFFERED = (404, 405)  # the batch call's probe: the participant does not serve it


class Status(enum.StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class Outcome:
    status: Status
    why: str


def passed(why: str) -> Outcome:
    return Outcome(Status.PASSED, why)


def failed(why: str) -> Outcome:
    return Outcome(Status.FAILED, why)


@dataclass(slots=True)
class Context:
    """What every check works with. `open_credits`: credits accepted that no check finished."""

    client: ParticipantClient
    accounts: Accounts
    open_credits: list[CreditTransfer] = field(default_factory=list)

    @property
    def bin(self) -> str:
        return self.client.bin

    def transfer(self, account: str, creditor_name: str | None = None) -> CreditTransfer:
        """A credit as the switch forwards it, with fresh ids, to this account at the participant."""
        message_id, end_to_end_id, transaction_id = new_ids()
        debtor_agent = next(agent for agent in DEBTOR_AGENTS if agent != self.bin)
        return CreditTransfer(
            message_id=message_id, end_to_end_id=end_to_end_id, transaction_id=transaction_id,
            amount_vnd=CREDIT_VND, debtor=Party(name=DEBTOR_NAME), debtor_account=f"{debtor_agent}0000001",
            debtor_agent=debtor_agent, creditor=Party(name=creditor_name), creditor_account=account,
            creditor_agent=self.bin, remittance_information="switchyard certify",
        )  # fmt: skip

    def final_report(self, transfer: CreditTransfer, status: TransactionStatus) -> StatusReport:
        """The switch's final status of a credit: ACSC settled, or RJCT AB05 (it gave up: void it)."""
        settled = status == TransactionStatus.ACSC
        return StatusReport(
            original_message_id=transfer.message_id, original_end_to_end_id=transfer.end_to_end_id,
            original_transaction_id=transfer.transaction_id, debtor_agent=transfer.debtor_agent,
            transaction_status=status, status_reason=None if settled else StatusReason.AB05,
            creditor_agent=self.bin, amount_vnd=transfer.amount_vnd,
            settled_at_ms=wall_clock_ms() if settled else None,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    proves: str  # one sentence: what passing it shows
    run: Callable[[Context], Outcome]


# --- reading answers ------------------------------------------------------------------------


def report_on(reply: Reply, transfer: CreditTransfer) -> StatusReport | str:
    """The participant's report on this transfer, or why there is none."""
    if reply.status != 200 or reply.problem:
        return f"expected 200 with a pacs.002, got {reply.describe()}"
    for report in reply.answers:
        if isinstance(report, StatusReport) and report.original_transaction_id == transfer.transaction_id:
            return report
    return f"the pacs.002 has no report on transaction {transfer.transaction_id}"


def said(report: StatusReport) -> str:
    reason = f" {report.status_reason}" if report.status_reason else ""
    return f"{report.transaction_status}{reason}"


def credit_answered(ctx: Context, transfer: CreditTransfer, what: str) -> tuple[StatusReport | str, Reply]:
    """Send one credit; an acceptance is remembered, to be finished (voided) if no check does."""
    reply = ctx.client.credit([transfer], what)
    report = report_on(reply, transfer)
    if isinstance(report, StatusReport) and report.transaction_status == TransactionStatus.ACSP:
        ctx.open_credits.append(transfer)
    return report, reply


def expect_refusal(ctx: Context, account: str, reason: StatusReason, what: str) -> Outcome:
    report, reply = credit_answered(ctx, ctx.transfer(account), what)
    if isinstance(report, str):
        return failed(report)
    if (report.transaction_status, report.status_reason) != (TransactionStatus.RJCT, reason):
        return failed(f"answered {said(report)}, expected RJCT {reason} ({reason.description})")
    return passed(f"answered RJCT {reason} in {reply.elapsed_s:.2f} s")


def accepted(ctx: Context, what: str) -> tuple[CreditTransfer, StatusReport | str]:
    """A credit to the open account, for the checks that need one accepted first."""
    transfer = ctx.transfer(ctx.accounts.open.account, ctx.accounts.open.holder_name)
    report, _reply = credit_answered(ctx, transfer, what)
    if isinstance(report, StatusReport) and report.transaction_status != TransactionStatus.ACSP:
        return transfer, f"the credit it needs was answered {said(report)}, not ACSP"
    return transfer, report


# --- the checks -----------------------------------------------------------------------------


def credit_accepted(ctx: Context) -> Outcome:
    transfer = ctx.transfer(ctx.accounts.open.account, ctx.accounts.open.holder_name)
    report, reply = credit_answered(ctx, transfer, "credit to the open account")
    if isinstance(report, str):
        return failed(report)
    if report.transaction_status != TransactionStatus.ACSP:
        return failed(f"answered {said(report)}, expected ACSP")
    return passed(f"answered ACSP in {reply.elapsed_s:.2f} s")


def credit_unknown_account(ctx: Context) -> Outcome:
    return expect_refusal(ctx, ctx.accounts.unknown.account, StatusReason.AC01, "credit to an unknown account")


def credit_closed_account(ctx: Context) -> Outcome:
    return expect_refusal(ctx, ctx.accounts.closed.account, StatusReason.AC04, "credit to the closed account")


def credit_blocked_account(ctx: Context) -> Outcome:
    return expect_refusal(ctx, ctx.accounts.blocked.account, StatusReason.AC06, "credit to the blocked account")


def duplicate_answered_as_first(ctx: Context) -> Outcome:
    transfer, first = accepted(ctx, "credit, first delivery")
    if isinstance(first, str):
        return failed(first)
    again = report_on(ctx.client.credit([transfer], "the same credit again"), transfer)
    if isinstance(again, str):
        return failed(f"the first delivery was answered ACSP; the second: {again}")
    if (again.transaction_status, again.status_reason) != (first.transaction_status, first.status_reason):
        return failed(f"the first delivery was answered {said(first)}, the same one again {said(again)}")
    return passed("the same credit delivered twice was answered ACSP both times")


def bad_signature_refused(ctx: Context) -> Outcome:
    """Refused with 401; and nothing kept: the same ids, signed, to an unknown account are then a
    new transfer (AC01), not the refused one's duplicate."""
    transfer = ctx.transfer(ctx.accounts.open.account, ctx.accounts.open.holder_name)
    reply = ctx.client.credit([transfer], "credit with a bad signature", secret=WRONG_SECRET)
    if reply.status != 401:
        report = report_on(reply, transfer)
        if isinstance(report, StatusReport) and report.transaction_status == TransactionStatus.ACSP:
            ctx.open_credits.append(transfer)
        return failed(f"a credit signed with another secret got {reply.describe()}, expected 401")
    elsewhere = transfer.model_copy(update={"creditor_account": ctx.accounts.unknown.account, "creditor": Party()})
    report, _reply = credit_answered(ctx, elsewhere, "the refused ids again, signed, to an unknown account")
    if isinstance(report, str):
        return failed(f"refused with 401; then the same ids, signed: {report}")
    if (report.transaction_status, report.status_reason) != (TransactionStatus.RJCT, StatusReason.AC01):
        return failed(f"refused with 401, but it kept the call: the same ids, signed, got {said(report)}, not AC01")
    return passed("refused with 401, and nothing kept: the same ids, signed, were a new transfer (AC01)")


def final_report_taken(ctx: Context) -> Outcome:
    transfer, first = accepted(ctx, "credit to be settled")
    if isinstance(first, str):
        return failed(first)
    report = ctx.final_report(transfer, TransactionStatus.ACSC)
    taken = ctx.client.report(report, "final ACSC report")
    if taken.status != 204:
        return failed(f"the final ACSC report got {taken.describe()}, expected 204")
    ctx.open_credits.remove(transfer)  # settled: nothing left to void
    again = ctx.client.report(report, "the same ACSC report again")
    if again.status != 204:
        return failed(f"the ACSC report was taken (204); the same again got {again.describe()}, expected 204")
    return passed("the final ACSC report was taken with 204, and the same report again with 204")


def void_after_acceptance_taken(ctx: Context) -> Outcome:
    transfer, first = accepted(ctx, "credit to be voided")
    if isinstance(first, str):
        return failed(first)
    taken = ctx.client.report(ctx.final_report(transfer, TransactionStatus.RJCT), "RJCT AB05 after acceptance")
    if taken.status != 204:
        return failed(f"RJCT AB05 after the acceptance got {taken.describe()}, expected 204")
    ctx.open_credits.remove(transfer)
    return passed("RJCT AB05 after the acceptance (void the credit) was taken with 204")


def verification(ctx: Context, name: str, what: str) -> VerificationReport | str:
    request = VerificationRequest(
        verification_id=new_ids()[0], agent=ctx.bin, account=ctx.accounts.open.account, name=name
    )
    reply = ctx.client.verify(request, what)
    if reply.status != 200 or reply.problem or not reply.answers:
        return f"expected 200 with an acmt.024, got {reply.describe()}"
    report = reply.answers[0]
    if report.original_verification_id != request.verification_id:
        return f"the acmt.024 answers verification {report.original_verification_id}, not {request.verification_id}"
    return report


def verification_match(ctx: Context) -> Outcome:
    name = ctx.accounts.open.holder_name
    report = verification(ctx, name, "verification, the holder's name")
    if isinstance(report, str):
        return failed(report)
    if report.outcome != VerificationOutcome.MTCH:
        return failed(f"{name!r} was answered {report.outcome}, expected MTCH")
    return passed(f"{name!r} was answered MTCH")


def verification_close_match(ctx: Context) -> Outcome:
    holder = ctx.accounts.open.holder_name
    name = close_variant(holder)
    report = verification(ctx, name, "verification, a close variant")
    if isinstance(report, str):
        return failed(report)
    if report.outcome != VerificationOutcome.CMTC:
        return failed(f"{name!r} (holder {holder!r}) was answered {report.outcome}, expected CMTC")
    masked = report.holder_name_masked or ""
    if not normalize_name(masked) or normalize_name(masked) == normalize_name(holder):
        return failed(f"CMTC must carry the holder's name masked, got {report.holder_name_masked!r}")
    return passed(f"{name!r} was answered CMTC with the masked name {masked!r}")


def verification_no_match(ctx: Context) -> Outcome:
    holder = ctx.accounts.open.holder_name
    name = next(n for n in OTHER_NAMES if compare_names(n, holder) == VerificationOutcome.NMTC)
    report = verification(ctx, name, "verification, another person's name")
    if isinstance(report, str):
        return failed(report)
    if report.outcome != VerificationOutcome.NMTC:
        return failed(f"{name!r} (holder {holder!r}) was answered {report.outcome}, expected NMTC")
    if report.holder_name_masked:
        return failed(f"NMTC must not reveal the holder's name, got {report.holder_name_masked!r}")
    return passed(f"{name!r} was answered NMTC")


def close_variant(name: str) -> str:
    """The holder's name with its last letter typed twice ("Mai Kim Xuânn"): one slip, which the name
    check calls a close match (switch.scheme.names), not a match; else the words in another order."""
    name = unicodedata.normalize("NFC", name.strip())
    candidates = [name + name[-1], " ".join(reversed(name.split()))]
    return next((c for c in candidates if compare_names(c, name) == VerificationOutcome.CMTC), candidates[0])


def batch(ctx: Context) -> Outcome:
    """JSON: the inbound batch call, when offered. XML: one pacs.008 of several transactions."""
    accounts = ctx.accounts
    transfers = [
        ctx.transfer(accounts.open.account, accounts.open.holder_name),
        ctx.transfer(accounts.unknown.account),
        ctx.transfer(accounts.closed.account),
    ]
    expected = [(TransactionStatus.ACSP, None), (TransactionStatus.RJCT, StatusReason.AC01),
                (TransactionStatus.RJCT, StatusReason.AC04)]  # fmt: skip
    if ctx.client.wire == WireFormat.ISO20022_XML:
        return _multi_transaction_message(ctx, transfers, expected)
    return _batch_call(ctx, transfers, expected)


Expected = list[tuple[TransactionStatus, StatusReason | None]]


def _multi_transaction_message(ctx: Context, transfers: list[CreditTransfer], expected: Expected) -> Outcome:
    message_id = transfers[0].message_id
    transfers = [t.model_copy(update={"message_id": message_id}) for t in transfers]
    reply = ctx.client.credit(transfers, "one pacs.008 of three credits")
    if reply.status != 200 or reply.problem:
        return failed(f"one pacs.008 of three credits: expected 200 with a pacs.002, got {reply.describe()}")
    wrong = []
    for transfer, (status, reason) in zip(transfers, expected, strict=True):
        report = report_on(reply, transfer)
        if isinstance(report, StatusReport) and report.transaction_status == TransactionStatus.ACSP:
            ctx.open_credits.append(transfer)
        if isinstance(report, str):
            wrong.append(report)
        elif (report.transaction_status, report.status_reason) != (status, reason):
            wrong.append(f"to {transfer.creditor_account}: {said(report)}, expected {status} {reason or ''}".strip())
    if wrong:
        return failed("one pacs.008 of three credits: " + "; ".join(wrong))
    return passed("one pacs.008 of three credits was answered by one pacs.002: ACSP, RJCT AC01, RJCT AC04")


def _batch_call(ctx: Context, transfers: list[CreditTransfer], expected: Expected) -> Outcome:
    holder = ctx.accounts.open.holder_name
    question = VerificationRequest(
        verification_id=new_ids()[0], agent=ctx.bin, account=ctx.accounts.open.account, name=holder
    )
    messages: list[BaseModel] = [*transfers, question]
    reply = ctx.client.batch(messages, "the inbound batch call")
    if reply.status in NOT_OFFERED:
        return Outcome(Status.SKIPPED, f"not offered: POST /v1/inbound/batches answered {reply.status}")
    if reply.status != 200 or reply.problem:
        return failed(f"expected 200 with NDJSON answer lines, got {reply.describe()}")
    lines: dict[int, AnswerLine] = {}
    for line in reply.answers:
        if line.index in lines:
            return failed(f"message {line.index} was answered twice")
        lines[line.index] = line
    for transfer, line in zip(transfers, (lines.get(i) for i in range(len(transfers))), strict=True):
        if line is not None and _line(line) == TransactionStatus.ACSP:
            ctx.open_credits.append(transfer)
    wanted = [" ".join(filter(None, pair)) for pair in expected] + [VerificationOutcome.MTCH]
    wrong = [
        f"message {index}: expected {want}, got {_line(lines[index]) if index in lines else 'no answer line'}"
        for index, want in enumerate(wanted)
        if index not in lines or _line(lines[index]) != want
    ]
    if wrong:
        return failed("; ".join(wrong))
    return passed("a batch of three credits and a verification: ACSP, RJCT AC01, RJCT AC04, MTCH, a line each")


def _line(line: AnswerLine) -> str:
    """What an answer line said: a status with its reason, a verification outcome, or its status."""
    if isinstance(line.answer, StatusReport):
        return said(line.answer)
    if isinstance(line.answer, VerificationReport):
        return str(line.answer.outcome)
    return f"status {line.status}"


def answers_in_time(ctx: Context) -> Outcome:
    calls = ctx.client.calls
    late = [c for c in calls if c.status is None or c.elapsed_s > TIMEOUT_S]
    if late:
        named = "; ".join(f"{c.what} in {c.elapsed_s:.2f} s" for c in late[:5])
        return failed(f"{len(late)} of {len(calls)} calls took over {TIMEOUT_S:.0f} s: {named}")
    slowest = max(calls, key=lambda c: c.elapsed_s, default=None)
    if slowest is None:
        return failed("no call was made")
    return passed(
        f"all {len(calls)} calls answered within {TIMEOUT_S:.0f} s; the slowest, {slowest.what},"
        f" in {slowest.elapsed_s:.2f} s"
    )


CHECKS: tuple[Check, ...] = (
    Check("credit-accepted", "A valid credit to an open account is answered ACSP.", credit_accepted),
    Check(
        "credit-unknown-account",
        "A credit to an account that does not exist is refused RJCT AC01.",
        credit_unknown_account,
    ),
    Check("credit-closed-account", "A credit to a closed account is refused RJCT AC04.", credit_closed_account),
    Check("credit-blocked-account", "A credit to a blocked account is refused RJCT AC06.", credit_blocked_account),
    Check(
        "duplicate-answered-as-first",
        "The same credit delivered again (same ids, same content) is answered as the first.",
        duplicate_answered_as_first,
    ),
    Check(
        "bad-signature-refused",
        "A call whose signature does not match is refused with 401, and nothing of it is kept.",
        bad_signature_refused,
    ),
    Check(
        "final-report-taken",
        "The final ACSC report is taken with 204, and the same report again with 204 (a retry changes nothing).",
        final_report_taken,
    ),
    Check(
        "void-after-acceptance-taken",
        "RJCT AB05 after an acceptance (the switch gave up: void the credit) is taken with 204.",
        void_after_acceptance_taken,
    ),
    Check("verification-match", "A verification with the holder's name is answered MTCH.", verification_match),
    Check(
        "verification-close-match",
        "A verification with a one-letter slip in the holder's name is answered CMTC, with the name masked.",
        verification_close_match,
    ),
    Check(
        "verification-no-match",
        "A verification with another person's name is answered NMTC, revealing no name.",
        verification_no_match,
    ),
    Check(
        "batch",
        "Many messages in one call are each answered on their own: the inbound batch call on JSON (skipped"
        " when not offered), one pacs.008 of several transactions on XML.",
        batch,
    ),
    Check("answers-in-time", "Every call of the run was answered within the switch's 5 s.", answers_in_time),
)


@dataclass(frozen=True, slots=True)
class CheckResult:
    check: Check
    outcome: Outcome
    elapsed_s: float


def run_checks(client: ParticipantClient, accounts: Accounts, checks: tuple[Check, ...] = CHECKS) -> list[CheckResult]:
    """Every check, in order; then the credits the checks left accepted are voided (RJCT AB05)."""
    ctx = Context(client, accounts)
    results = []
    for check in checks:
        started = time.perf_counter()
        try:
            outcome = check.run(ctx)
        except Exception as error:  # noqa: BLE001 - one check the kit cannot run must not hide the others
            outcome = failed(f"the kit could not run this check: {type(error).__name__}: {error}")
        results.append(CheckResult(check, outcome, time.perf_counter() - started))
    for transfer in ctx.open_credits:
        client.report(ctx.final_report(transfer, TransactionStatus.RJCT), "closing: void a credit left open")
    return results
