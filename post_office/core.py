"""The post office's decisions, pure: accept a cash list, take the Treasury's funding, pay a person
at the counter, close the list at its deadline, return the unclaimed money; and the plan of who
comes when, for simulated collections.

Every decision takes the state it needs and returns what to record, or raises the refusal naming
the field and the rule (`post_office.errors`). The shell (`node.py`) loads, decides, and posts to
its ledger and its tables in one transaction.

Funding: the Treasury funds a list for exactly its total, once. A funding of another amount is
refused, not recorded as short: a short funding would leave the counter to choose whom not to
pay (first come, first served), which nobody approved; the Treasury corrects and funds again.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from post_office.errors import (
    AlreadyClosed,
    AlreadyFunded,
    AlreadyPaid,
    AlreadyReturned,
    CashListExists,
    CashListInvalid,
    CollectionOpen,
    DeadlinePassed,
    FundingAmountWrong,
    IdentityMismatch,
    NotClosed,
    NotFunded,
    NotOnCashList,
    RepresentativeInvalid,
    ReturnAmountWrong,
)
from post_office.schemas import (
    DAY_MS,
    LINE_AMOUNT_VND_MAX,
    LINES_PER_CASH_LIST_MAX,
    ByState,
    CashList,
    CashListLine,
    CashPayoutKnobs,
    Closing,
    Funding,
    ListStatus,
    Payout,
    PayoutClaim,
    PayoutState,
    Representative,
    Tally,
    UnclaimedReturn,
)


def digest(cash_list: CashList) -> str:
    """sha-256 of the list as received, lines in line-id order: the same list gives the same digest."""
    lines = sorted((line.model_dump(mode="json") for line in cash_list.lines), key=lambda line: line["line_id"])
    body = cash_list.model_dump(mode="json", exclude={"lines"}) | {"lines": lines}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def accept(cash_list: CashList) -> ListStatus:
    """A commune's list as the post office takes it: every line of this commune, each once, within
    the limit, adding up to the stated total."""
    if len(cash_list.lines) > LINES_PER_CASH_LIST_MAX:
        raise CashListInvalid("lines", f"at most {LINES_PER_CASH_LIST_MAX:,} lines in one commune's list")
    seen_lines: set[str] = set()
    seen_people: set[tuple[str, str]] = set()
    for index, line in enumerate(cash_list.lines):
        where = f"lines[{index}]"
        if line.commune_code != cash_list.commune_code:
            raise CashListInvalid(f"{where}.commune_code", f"{line.commune_code} is not the list's commune")
        if line.amount_vnd > LINE_AMOUNT_VND_MAX:
            raise CashListInvalid(f"{where}.amount_vnd", f"at most {LINE_AMOUNT_VND_MAX:,} VND a line")
        if line.line_id in seen_lines:
            raise CashListInvalid(f"{where}.line_id", f"{line.line_id} is on the list twice")
        person = (line.identity_number, line.program.value)
        if person in seen_people:
            raise CashListInvalid(f"{where}.citizen_id", f"this person is on the list twice for {line.program}")
        seen_lines.add(line.line_id)
        seen_people.add(person)
    total = sum(line.amount_vnd for line in cash_list.lines)
    if total != cash_list.total_vnd:
        raise CashListInvalid("total_vnd", f"the lines add up to {total:,} VND, not {cash_list.total_vnd:,}")
    return ListStatus(
        request_id=cash_list.request_id,
        commune_code=cash_list.commune_code,
        digest=digest(cash_list),
        deadline_ms=cash_list.deadline_ms,
        total=Tally(count=len(cash_list.lines), amount_vnd=total),
    )


def accept_again(existing: ListStatus, cash_list: CashList) -> ListStatus:
    """The same list sent again is the list already held; another list under its key is refused."""
    if digest(cash_list) != existing.digest:
        raise CashListExists("lines", f"{cash_list.key} was received with other lines: a new list needs a new request")
    return existing


def decide_funding(status: ListStatus, funding: Funding) -> ListStatus | None:
    """The list as funded, or None when this very funding is already in (a repeated delivery)."""
    if status.funding_id is not None:
        if status.funding_id == funding.funding_id and status.funded.amount_vnd == funding.amount_vnd:
            return None
        raise AlreadyFunded("funding_id", f"the list was funded by {status.funding_id}; it is funded once")
    if funding.amount_vnd != status.total.amount_vnd:
        raise FundingAmountWrong(
            "amount_vnd",
            f"the list totals {status.total.amount_vnd:,} VND; a funding of {funding.amount_vnd:,} VND is refused",
        )
    return status.model_copy(update={"funding_id": funding.funding_id, "funded": status.total})


def decide_payout(
    status: ListStatus,
    line: CashListLine | None,
    state: PayoutState | None,
    claim: PayoutClaim,
    now_ms: int,
) -> Payout:
    """Pay the person at the counter, or refuse with the first rule they break."""
    if line is None or state is None:
        raise NotOnCashList("line_id", f"{claim.line_id} is not on the cash list of commune {status.commune_code}")
    if state.is_paid:
        raise AlreadyPaid("line_id", f"{line.line_id} was paid already; a person is paid once")
    if not status.is_funded:
        raise NotFunded("funding", "the Treasury has not funded this list yet: nothing is paid before")
    if status.closed_ms is not None or now_ms >= status.deadline_ms:
        raise DeadlinePassed("now_ms", f"collection ended at {status.deadline_ms}; the money goes back unclaimed")
    if claim.presented_id != line.identity_number:
        raise IdentityMismatch("presented_id", "the id presented is not the beneficiary's on the list")
    representative = claim.representative
    if representative is not None:
        _check_representative(line, representative)
    return Payout(
        request_id=status.request_id,
        commune_code=status.commune_code,
        line_id=line.line_id,
        amount_vnd=line.amount_vnd,
        state=PayoutState.PAID if representative is None else PayoutState.PAID_TO_REPRESENTATIVE,
        paid_ms=now_ms,
        representative=representative,
    )


def _check_representative(line: CashListLine, representative: Representative) -> None:
    if representative.citizen_id == line.citizen_id:
        raise RepresentativeInvalid(
            "representative.citizen_id", "the beneficiary collects in person, not as their own representative"
        )


def decide_close(status: ListStatus, awaiting: Mapping[str, int], now_ms: int) -> Closing:
    """At the deadline, everyone who did not come is unclaimed. `awaiting`: line id → VND."""
    if status.closed_ms is not None:
        raise AlreadyClosed("commune_code", f"the list of commune {status.commune_code} is closed already")
    if not status.is_funded:
        raise NotFunded("funding", "an unfunded list has nothing to close: fund it or leave it")
    if now_ms < status.deadline_ms:
        raise CollectionOpen("now_ms", f"people may still come until {status.deadline_ms}")
    line_ids = tuple(sorted(awaiting))
    return Closing(line_ids=line_ids, unclaimed=_tally(awaiting.values()), closed_ms=now_ms)


def decide_return(status: ListStatus, unclaimed: Mapping[str, int], amount_vnd: int, now_ms: int) -> UnclaimedReturn:
    """The unclaimed money back to the Treasury, all of it at once: never more than is held, and
    exactly what nobody claimed. `unclaimed`: line id → VND."""
    if status.closed_ms is None:
        raise NotClosed("commune_code", "the list is still open: its unclaimed money is known only at closing")
    if status.returned_ms is not None:
        raise AlreadyReturned("commune_code", f"the unclaimed money of commune {status.commune_code} went back already")
    held = _tally(unclaimed.values())
    if amount_vnd > held.amount_vnd:
        raise ReturnAmountWrong(
            "amount_vnd", f"{amount_vnd:,} VND is more than the {held.amount_vnd:,} VND held for unclaimed lines"
        )
    if amount_vnd != held.amount_vnd or held.count == 0:
        raise ReturnAmountWrong(
            "amount_vnd",
            f"the return is the whole {held.amount_vnd:,} VND of the {held.count} unclaimed lines, at once, never 0",
        )
    return UnclaimedReturn(line_ids=tuple(sorted(unclaimed)), returned=held, returned_ms=now_ms)


def _tally(amounts: Iterable[int]) -> Tally:
    values = list(amounts)
    return Tally(count=len(values), amount_vnd=sum(values))


@dataclass(slots=True, frozen=True)
class LedgerView:
    """A list's four ledger accounts, as VND: what the Treasury funded, the cash in hand, what was
    paid out, what was returned."""

    funded_vnd: int
    held_vnd: int
    paid_vnd: int
    returned_vnd: int


def check_list(status: ListStatus, by_state: ByState, ledger: LedgerView) -> None:
    """The list's invariants: every line in exactly one state; funded = paid + returned + held, in
    count and VND; the ledger says the same as the lines. An AssertionError is a bug, never input."""
    where = f"cash list {status.request_id}/{status.commune_code}"
    assert by_state.total == status.total, f"{where}: lines by state {by_state.total}, list {status.total}"
    if not status.is_funded:
        assert by_state.awaiting == status.total, f"{where}: unfunded, yet lines moved: {by_state}"
        assert status.closed_ms is None and status.returned_ms is None, f"{where}: closed unfunded"
    else:
        assert status.funded == status.total, f"{where}: funded {status.funded}, list {status.total}"
        conserved = by_state.all_paid + by_state.returned + by_state.held
        assert conserved == status.funded, f"{where}: funded {status.funded} != paid + returned + held {conserved}"
    if status.closed_ms is not None:
        assert by_state.awaiting.count == 0, f"{where}: closed with {by_state.awaiting.count} lines awaiting"
    else:
        assert by_state.unclaimed.count == by_state.returned.count == 0, f"{where}: unclaimed before closing"
    if status.returned_ms is None:
        assert by_state.returned.count == 0, f"{where}: lines returned, the list not"
    else:
        assert by_state.unclaimed.count == 0, f"{where}: returned, yet {by_state.unclaimed.count} unclaimed"
    expected = LedgerView(
        funded_vnd=status.funded.amount_vnd,
        held_vnd=by_state.held.amount_vnd if status.is_funded else 0,
        paid_vnd=by_state.all_paid.amount_vnd,
        returned_vnd=by_state.returned.amount_vnd,
    )
    assert ledger == expected, f"{where}: the ledger says {ledger}, the lines {expected}"


# --- simulated collection ------------------------------------------------------------------

OFFICE_OPENS_MS = (7 * 60 + 30) * 60_000  # 07:30, Vietnam Post's counters
OFFICE_HOURS_MS = 9 * 3_600_000
REPRESENTATIVE_MALE_NAMES = ("Văn Hùng", "Văn Minh", "Đức Thắng", "Quang Huy")
REPRESENTATIVE_FEMALE_NAMES = ("Thị Lan", "Thị Hoa", "Thị Mai", "Ngọc Anh")


@dataclass(slots=True, frozen=True)
class Visit:
    at_ms: int
    claim: PayoutClaim


def plan_collection(
    lines: Sequence[CashListLine], knobs: CashPayoutKnobs, rng: random.Random, opens_ms: int, deadline_ms: int
) -> list[Visit]:
    """Who comes when: a share of the people, on days spread over the window (more on the first
    days, as at a real payout), some through a representative; the rest never come. Seeded: the
    same rng gives the same plan. Visits are in time order, all before the deadline."""
    window_days = min(knobs.days_to_collect, max(0, (deadline_ms - opens_ms) // DAY_MS))
    visits: list[Visit] = []
    for line in lines:
        comes = rng.random() < knobs.share_collected
        day = int(window_days * rng.random() ** 2)  # squared: the first days are the busiest
        minute_ms = rng.randrange(OFFICE_HOURS_MS // 60_000) * 60_000
        by_representative = rng.random() < knobs.representative_share
        if not comes or window_days == 0:
            continue
        at_ms = opens_ms + day * DAY_MS + OFFICE_OPENS_MS + minute_ms
        if at_ms >= deadline_ms:
            at_ms = deadline_ms - 1
        representative = _representative_for(line, rng) if by_representative else None
        visits.append(Visit(at_ms, PayoutClaim(line_id=line.line_id, presented_id=line.identity_number,
                                                representative=representative)))  # fmt: skip
    return sorted(visits, key=lambda visit: visit.at_ms)


def _representative_for(line: CashListLine, rng: random.Random) -> Representative:
    """A relative of the beneficiary: same family name, born 1960-1999, an id from their province."""
    family_name = line.name.split(" ", 1)[0]
    female = rng.random() < 0.5
    century_and_gender = "1" if female else "0"
    citizen_id = f"{line.province_code}{century_and_gender}{rng.randrange(60, 100):02d}{rng.randrange(10**6):06d}"
    if citizen_id == line.citizen_id:
        citizen_id = citizen_id[:6] + f"{(int(citizen_id[6:]) + 1) % 10**6:06d}"
    given = rng.choice(REPRESENTATIVE_FEMALE_NAMES if female else REPRESENTATIVE_MALE_NAMES)
    return Representative(
        citizen_id=citizen_id,
        name=f"{family_name} {given}",
        authorisation_reference=f"Giấy ủy quyền số {rng.randrange(1, 1000)}/UQ",
    )
