"""payer.reconciliation: one summary over every file of a payroll, from the switch's summary of each
(switch.scheme.summary), and the cashless share by province against the government's target."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from payer.reconciliation import ProvinceShare, cashless_by_province, combine
from switch.scheme.codes import DisbursementStatus, ItemStatus, Program, StatusReason
from switch.scheme.summary import CASHLESS_TARGET_SHARE, ZERO, Cell, DisbursementSummary, Reconciliation, Retried

VIETCOMBANK, BIDV, VIETTEL_MONEY, VIETINBANK = "970436", "970418", "971005", "970415"
HA_NOI, HO_CHI_MINH, DA_NANG = "001", "079", "048"
MERIT, SOCIAL = Program.MERIT_PERSON.value, Program.SOCIAL_ASSISTANCE.value
PAID, CASH, HELD, QUEUED = ItemStatus.PAID.value, ItemStatus.CASH.value, ItemStatus.HELD.value, ItemStatus.QUEUED.value
IN_PROCESS = (ItemStatus.QUEUED, ItemStatus.SENT, ItemStatus.RETRY)
NO_RETRIES = Retried(count=0, paid=0)
DIMENSIONS = ("by_status", "by_reason", "by_participant", "by_program", "by_province")


@dataclass(frozen=True)
class Group:
    """Items of one disbursement alike in status, reason, creditor agent, program and province, as the
    switch's repository groups them."""

    status: ItemStatus
    reason: StatusReason | None
    agent: str | None  # the creditor agent; none for an item held before it was routed
    program: str
    province: str
    count: int
    amount_vnd: int


def paid(agent: str, program: str, province: str, count: int, each_vnd: int) -> Group:
    return Group(ItemStatus.PAID, None, agent, program, province, count, count * each_vnd)


def on_cash_list(reason: StatusReason, program: str, province: str, count: int, each_vnd: int) -> Group:
    return Group(ItemStatus.CASH, reason, None, program, province, count, count * each_vnd)


def held(reason: StatusReason, program: str, province: str, count: int, each_vnd: int) -> Group:
    return Group(ItemStatus.HELD, reason, None, program, province, count, count * each_vnd)


def queued(agent: str, program: str, province: str, count: int, each_vnd: int) -> Group:
    return Group(ItemStatus.QUEUED, None, agent, program, province, count, count * each_vnd)


def table(pairs: Sequence[tuple[str, Group]]) -> dict[str, Cell]:
    cells: dict[str, Cell] = {}
    for key, group in pairs:
        cells[key] = cells.get(key, ZERO) + Cell(count=group.count, amount_vnd=group.amount_vnd)
    return dict(sorted(cells.items()))


def a_summary(
    disbursement_id: int,
    groups: Sequence[Group],
    *,
    rejected_whole: Cell | None = None,
    retried: Retried = NO_RETRIES,
    target: float = CASHLESS_TARGET_SHARE,
) -> DisbursementSummary:
    """The summary the switch gives back for a file of these items, its reconciliation consistent with
    them: paid + cash + held + in process = submitted, balanced once nothing is in process. A file
    refused whole (AM04) stores no items: `rejected_whole` is what it had accepted."""
    status_cells = table([(g.status.value, g) for g in groups])
    paid_cell, cash, held_cell = (
        status_cells.get(s.value, ZERO) for s in (ItemStatus.PAID, ItemStatus.CASH, ItemStatus.HELD)
    )
    in_process = sum((status_cells.get(s.value, ZERO) for s in IN_PROCESS), ZERO)
    submitted = rejected_whole or sum(status_cells.values(), ZERO)
    rejected = rejected_whole or ZERO
    payable = submitted.count - held_cell.count - rejected.count
    status = DisbursementStatus.REJECTED if rejected_whole else (
        DisbursementStatus.RUNNING if in_process.count else DisbursementStatus.COMPLETED
    )  # fmt: skip
    return DisbursementSummary(
        disbursement_id=disbursement_id, message_id=f"MOLISA-2026-12-{disbursement_id:03d}",
        debtor_agent=VIETINBANK, format="json", status=status,
        reason=StatusReason.AM04 if rejected_whole else None,
        rows_total=submitted.count, rows_rejected=0, row_errors=0, row_errors_listed=0,
        items_total=submitted.count, amount_total_vnd=submitted.amount_vnd,
        progress_percent=round(100 * (submitted.count - in_process.count) / submitted.count, 1)
        if submitted.count else 100.0,
        cashless_share=round(paid_cell.count / payable, 4) if payable else 0.0,
        cashless_target_share=target,
        by_status=status_cells,
        by_reason=table([(g.reason.value, g) for g in groups if g.reason]),
        by_participant=table([(g.agent or "", g) for g in groups if g.status == ItemStatus.PAID]),
        by_program=table([(g.program, g) for g in groups]),
        by_province=table([(g.province, g) for g in groups]),
        by_province_status=table([(f"{g.province}/{g.status.value}", g) for g in groups]),
        reconciliation=Reconciliation(
            submitted=submitted, paid=paid_cell, cash=cash, held=held_cell, rejected=rejected,
            in_process=ZERO if rejected_whole else in_process,
            balanced=rejected_whole is not None or not in_process.count,
        ),
        retried=retried, received_ms=1_796_086_800_000,
        completed_ms=None if in_process.count else 1_796_087_400_000,
    )  # fmt: skip


# File 1: merit persons in Hà Nội and TP. Hồ Chí Minh, done. File 2: social assistance, still running.
FIRST = a_summary(
    1,
    [
        paid(VIETCOMBANK, MERIT, HA_NOI, 3, 2_789_000),
        paid(VIETTEL_MONEY, MERIT, HO_CHI_MINH, 2, 2_789_000),
        on_cash_list(StatusReason.AC04, MERIT, HA_NOI, 1, 2_789_000),
        held(StatusReason.MD07, MERIT, HO_CHI_MINH, 1, 2_789_000),
    ],
    retried=Retried(count=2, paid=1),
)
SECOND = a_summary(
    2,
    [
        paid(BIDV, SOCIAL, HO_CHI_MINH, 4, 500_000),
        paid(VIETTEL_MONEY, SOCIAL, HA_NOI, 1, 500_000),
        on_cash_list(StatusReason.AM02, SOCIAL, HA_NOI, 2, 750_000),
        held(StatusReason.BE01, SOCIAL, HA_NOI, 1, 500_000),
        queued(VIETCOMBANK, SOCIAL, HO_CHI_MINH, 2, 500_000),
    ],
    retried=Retried(count=3, paid=3),
)


def test_the_summary_builder_makes_consistent_summaries() -> None:
    """The test data obeys the switch's rule, so what combine is given is what the switch gives."""
    for summary in (FIRST, SECOND):
        r = summary.reconciliation
        assert r.paid + r.cash + r.held + r.rejected + r.in_process == r.submitted
        assert r.balanced == (r.in_process == ZERO)
        assert sum(summary.by_status.values(), ZERO) == r.submitted
    assert (FIRST.reconciliation.balanced, SECOND.reconciliation.balanced) == (True, False)


# --- combine ---------------------------------------------------------------------------------------


def test_combining_two_files_sums_the_status_table_cell_by_cell() -> None:
    combined = combine([FIRST, SECOND])

    assert combined.by_status == {
        CASH: Cell(count=3, amount_vnd=2_789_000 + 1_500_000),
        HELD: Cell(count=2, amount_vnd=2_789_000 + 500_000),
        PAID: Cell(count=10, amount_vnd=5 * 2_789_000 + 5 * 500_000),
        QUEUED: Cell(count=2, amount_vnd=1_000_000),
    }
    assert combined.count(ItemStatus.PAID) == 10
    assert combined.count(ItemStatus.SENT) == 0


def test_combining_two_files_sums_what_each_creditor_agent_was_paid() -> None:
    assert combine([FIRST, SECOND]).by_participant == {
        VIETCOMBANK: Cell(count=3, amount_vnd=8_367_000),
        BIDV: Cell(count=4, amount_vnd=2_000_000),
        VIETTEL_MONEY: Cell(count=3, amount_vnd=2 * 2_789_000 + 500_000),
    }


def test_combining_two_files_sums_the_reason_program_and_province_tables() -> None:
    combined = combine([FIRST, SECOND])

    assert combined.by_reason == {
        "AC04": Cell(count=1, amount_vnd=2_789_000),
        "AM02": Cell(count=2, amount_vnd=1_500_000),
        "BE01": Cell(count=1, amount_vnd=500_000),
        "MD07": Cell(count=1, amount_vnd=2_789_000),
    }
    assert combined.by_program == {
        MERIT: Cell(count=7, amount_vnd=7 * 2_789_000),
        SOCIAL: Cell(count=10, amount_vnd=5_500_000),
    }
    assert combined.by_province == {
        HA_NOI: Cell(count=4 + 4, amount_vnd=4 * 2_789_000 + 500_000 + 1_500_000 + 500_000),
        HO_CHI_MINH: Cell(count=3 + 6, amount_vnd=3 * 2_789_000 + 3_000_000),
    }


def test_every_combined_table_is_the_sum_of_the_files_tables_key_by_key() -> None:
    combined = combine([FIRST, SECOND])

    for dimension in DIMENSIONS:
        ours: dict[str, Cell] = getattr(combined, dimension)
        first: dict[str, Cell] = getattr(FIRST, dimension)
        second: dict[str, Cell] = getattr(SECOND, dimension)
        assert set(ours) == set(first) | set(second), dimension
        for key, cell in ours.items():
            assert cell == first.get(key, ZERO) + second.get(key, ZERO), (dimension, key)
        assert list(ours) == sorted(ours), dimension


def test_the_combined_reconciliation_sums_each_cell_and_is_unbalanced_while_a_file_is() -> None:
    reconciliation = combine([FIRST, SECOND]).reconciliation

    assert reconciliation.submitted == Cell(count=17, amount_vnd=7 * 2_789_000 + 5_500_000)
    assert reconciliation.paid == FIRST.reconciliation.paid + SECOND.reconciliation.paid
    assert reconciliation.cash == Cell(count=3, amount_vnd=4_289_000)
    assert reconciliation.held == Cell(count=2, amount_vnd=3_289_000)
    assert reconciliation.rejected == ZERO
    assert reconciliation.in_process == Cell(count=2, amount_vnd=1_000_000)
    assert reconciliation.balanced is False


def test_a_payroll_is_balanced_when_every_file_is() -> None:
    done = a_summary(2, [paid(BIDV, SOCIAL, HO_CHI_MINH, 4, 500_000)])

    assert combine([FIRST, done]).reconciliation.balanced is True
    assert combine([done, SECOND]).reconciliation.balanced is False


def test_the_combined_summary_lists_its_disbursements_in_order_and_sums_the_retries() -> None:
    combined = combine([SECOND, FIRST])

    assert combined.disbursements == [2, 1]
    assert combined.retried == Retried(count=5, paid=4)


def test_the_cashless_share_is_paid_of_the_items_less_the_held_to_four_places() -> None:
    combined = combine([FIRST, SECOND])

    # 10 paid of 17 items, 2 of them held.
    assert combined.cashless_share == round(10 / 15, 4) == 0.6667


def test_the_cashless_target_share_is_taken_from_the_switchs_summaries() -> None:
    assert combine([FIRST, SECOND]).cashless_target_share == 0.30
    other_target = a_summary(3, [paid(BIDV, SOCIAL, DA_NANG, 1, 500_000)], target=0.5)
    assert combine([other_target]).cashless_target_share == 0.5


def test_combining_no_summaries_gives_zero_cells_balanced_and_the_default_target() -> None:
    combined = combine([])

    assert combined.disbursements == []
    for dimension in DIMENSIONS:
        assert getattr(combined, dimension) == {}
    r = combined.reconciliation
    assert [r.submitted, r.paid, r.cash, r.held, r.rejected, r.in_process] == [ZERO] * 6
    assert r.balanced is True
    assert combined.retried == Retried(count=0, paid=0)
    assert combined.cashless_share == 0.0
    assert combined.cashless_share_by_province == {}
    assert combined.cashless_target_share == CASHLESS_TARGET_SHARE == 0.30


def test_a_payroll_of_one_file_combines_to_that_files_counts() -> None:
    combined = combine([FIRST])

    for dimension in DIMENSIONS:
        assert getattr(combined, dimension) == getattr(FIRST, dimension)
    assert combined.reconciliation == FIRST.reconciliation
    assert combined.cashless_share == FIRST.cashless_share == round(5 / 6, 4)


def test_a_file_refused_whole_counts_as_rejected_in_the_combined_reconciliation() -> None:
    refused = a_summary(3, [], rejected_whole=Cell(count=5, amount_vnd=5 * 2_789_000))

    reconciliation = combine([FIRST, refused]).reconciliation

    assert reconciliation.rejected == Cell(count=5, amount_vnd=13_945_000)
    assert reconciliation.submitted == FIRST.reconciliation.submitted + refused.reconciliation.submitted
    assert reconciliation.balanced is True


def test_a_file_refused_whole_is_set_aside_from_the_cashless_share_as_the_switch_does() -> None:
    refused = a_summary(3, [], rejected_whole=Cell(count=5, amount_vnd=5 * 2_789_000))
    assert refused.cashless_share == 0.0

    combined = combine([FIRST, refused])

    # FIRST: 5 paid of 7 items, 1 held; the refused file's 5 items could not be paid at all.
    assert combined.cashless_share == FIRST.cashless_share == round(5 / 6, 4)
    assert combine([refused]).cashless_share == refused.cashless_share


# --- cashless share by province --------------------------------------------------------------------------


def test_the_cashless_share_by_province_sets_held_items_aside() -> None:
    shares = cashless_by_province([FIRST, SECOND])

    assert shares == {
        # Hà Nội: 3 + 1 paid; 3 + 1 paid, 1 + 2 on the cash list (the held one aside).
        HA_NOI: ProvinceShare(province="Hà Nội", paid=4, payable=7, share=round(4 / 7, 4)),
        # Hồ Chí Minh: 2 + 4 paid, 2 still queued (they could be paid); the deceased one held.
        HO_CHI_MINH: ProvinceShare(province="Hồ Chí Minh", paid=6, payable=8, share=0.75),
    }
    assert list(shares) == sorted(shares)


def test_the_combined_summary_carries_the_cashless_share_by_province() -> None:
    assert combine([FIRST, SECOND]).cashless_share_by_province == cashless_by_province([FIRST, SECOND])


def test_a_province_with_nothing_paid_has_a_share_of_zero() -> None:
    all_cash = a_summary(4, [on_cash_list(StatusReason.AC01, MERIT, DA_NANG, 3, 2_789_000)])

    assert cashless_by_province([all_cash]) == {
        DA_NANG: ProvinceShare(province="Đà Nẵng", paid=0, payable=3, share=0.0)
    }


def test_a_province_code_the_scheme_does_not_name_is_shown_as_its_code() -> None:
    unknown = a_summary(5, [paid(BIDV, SOCIAL, "003", 2, 500_000)])

    assert cashless_by_province([unknown])["003"].province == "003"


def test_the_province_shares_add_up_to_the_payrolls_cashless_share() -> None:
    combined = combine([FIRST, SECOND])
    shares = combined.cashless_share_by_province.values()

    assert sum(s.paid for s in shares) == combined.count(ItemStatus.PAID)
    assert sum(s.payable for s in shares) == combined.reconciliation.submitted.count - combined.count(ItemStatus.HELD)
    assert combined.cashless_share == round(sum(s.paid for s in shares) / sum(s.payable for s in shares), 4)


# --- properties ------------------------------------------------------------------------------------------

cells = st.builds(lambda count, each: (count, each), st.integers(0, 50), st.integers(0, 5_578_000))
groups = st.builds(
    lambda status, reason, agent, program, province, cell: Group(
        status,
        reason if status in (ItemStatus.CASH, ItemStatus.HELD) else None,
        None if status in (ItemStatus.CASH, ItemStatus.HELD) else agent,
        program,
        province,
        cell[0],
        cell[0] * cell[1],
    ),
    st.sampled_from(list(ItemStatus)),
    st.sampled_from([StatusReason.AC04, StatusReason.AC06, StatusReason.AM02, StatusReason.MD07, StatusReason.BE01]),
    st.sampled_from([VIETCOMBANK, BIDV, VIETTEL_MONEY]),
    st.sampled_from([MERIT, SOCIAL]),
    st.sampled_from([HA_NOI, HO_CHI_MINH, DA_NANG]),
    cells,
)
retries = st.builds(lambda c, p: Retried(count=c + p, paid=p), st.integers(0, 20), st.integers(0, 20))
refusals = st.builds(
    lambda count, each: Cell(count=count, amount_vnd=count * each), st.integers(1, 50), cells.map(lambda c: c[1])
)


def numbered(files: list[tuple[list[Group], Retried, Cell | None]]) -> list[DisbursementSummary]:
    return [
        a_summary(n, [] if refused else g, retried=r, rejected_whole=refused)
        for n, (g, r, refused) in enumerate(files, start=1)
    ]


# Files paid, on the cash list, held or in process; and, in `with_refusals`, files refused whole (AM04).
no_refusal: st.SearchStrategy[Cell | None] = st.none()
summaries = st.lists(st.tuples(st.lists(groups, max_size=8), retries, no_refusal), max_size=5).map(numbered)
with_refusals = st.lists(st.tuples(st.lists(groups, max_size=8), retries, st.none() | refusals), max_size=5).map(
    numbered
)


def summed(tables: Sequence[dict[str, Cell]]) -> dict[str, tuple[int, int]]:
    counts: Counter[str] = Counter()
    amounts: Counter[str] = Counter()
    for t in tables:
        for key, cell in t.items():
            counts[key] += cell.count
            amounts[key] += cell.amount_vnd
    return {key: (counts[key], amounts[key]) for key in set(counts) | set(amounts)}


@given(with_refusals)
def test_combined_counts_are_the_sums_of_the_files_and_balanced_only_if_every_file_is(
    files: list[DisbursementSummary],
) -> None:
    combined = combine(files)

    for dimension in DIMENSIONS:
        ours: dict[str, Cell] = getattr(combined, dimension)
        assert {k: (c.count, c.amount_vnd) for k, c in ours.items()} == summed([getattr(f, dimension) for f in files])
    for field in ("submitted", "paid", "cash", "held", "rejected", "in_process"):
        cell: Cell = getattr(combined.reconciliation, field)
        assert cell.count == sum(getattr(f.reconciliation, field).count for f in files), field
        assert cell.amount_vnd == sum(getattr(f.reconciliation, field).amount_vnd for f in files), field
    assert combined.reconciliation.balanced == all(f.reconciliation.balanced for f in files)
    assert combined.retried == Retried(
        count=sum(f.retried.count for f in files), paid=sum(f.retried.paid for f in files)
    )
    assert combined.disbursements == [f.disbursement_id for f in files]


@given(summaries)
def test_the_payrolls_cashless_share_agrees_with_its_shares_by_province(files: list[DisbursementSummary]) -> None:
    combined = combine(files)
    shares = combined.cashless_share_by_province.values()
    paid_total, payable_total = sum(s.paid for s in shares), sum(s.payable for s in shares)

    assert paid_total == combined.count(ItemStatus.PAID)
    assert payable_total == combined.reconciliation.submitted.count - combined.count(ItemStatus.HELD)
    assert combined.cashless_share == (round(paid_total / payable_total, 4) if payable_total else 0.0)
    for share in shares:
        assert 0 <= share.paid <= share.payable
        assert 0.0 <= share.share <= 1.0
