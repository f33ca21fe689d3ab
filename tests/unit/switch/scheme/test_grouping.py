"""Grouping a node's outgoing transactions into multi-transaction messages, and taking them apart.

`gathered` groups credit transfers and status reports that leave for one receiver at one moment
into messages of as many as the receiver takes; `opened` gives them back one by one; `slices` cuts
an inbox for the ledger's batches without ever cutting a message.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from switch.scheme.codes import TransactionStatus
from switch.scheme.grouping import MessageIds, gathered, opened, slices, transactions_in
from switch.scheme.messages import (
    TRANSACTIONS_PER_MESSAGE_MAX,
    CreditTransfer,
    CreditTransferMessage,
    Party,
    StatusReport,
    StatusReportMessage,
    StatusRequest,
)
from switch.scheme.transport import Envelope, Message, TimerFired, Undeliverable

VCB, BIDV, VIETINBANK, AGRIBANK, VIETTEL = "970436", "970418", "970415", "970405", "971005"
CREDITORS = {
    BIDV: ("12010000123456", "Trần Thị Bình"),
    VIETINBANK: ("108000123456", "Đặng Văn Hùng"),
    AGRIBANK: ("1500205123456", "Bùi Thị Thu"),
    VIETTEL: ("0961234567", "Hoàng Văn Bình"),
}
TEMPLATE = CreditTransfer.model_validate(
    {
        "message_id": "VCB-20261201-0001",
        "end_to_end_id": "E2E-0001",
        "transaction_id": "FT2633500001",
        "amount_vnd": 1_500_000,
        "debtor": Party(name="Nguyễn Văn An", citizen_id="001090012345"),
        "debtor_account": "0011001234567",
        "debtor_agent": VCB,
        "creditor": Party(name="Trần Thị Bình"),
        "creditor_account": "12010000123456",
        "creditor_agent": BIDV,
        "remittance_information": "Trả tiền thuê nhà tháng 12",
    }
)


def credit(number: int, creditor_agent: str = BIDV, amount_vnd: int = 1_500_000) -> CreditTransfer:
    account, name = CREDITORS[creditor_agent]
    return TEMPLATE.model_copy(
        update={
            "message_id": f"VCB-MSG-{number:05d}",
            "end_to_end_id": f"E2E-{number:05d}",
            "transaction_id": f"FT26335{number:05d}",
            "amount_vnd": amount_vnd,
            "creditor_agent": creditor_agent,
            "creditor_account": account,
            "creditor": Party(name=name),
        }
    )


def report(number: int, creditor_agent: str = BIDV) -> StatusReport:
    return StatusReport(
        original_message_id=f"VCB-MSG-{number:05d}",
        original_end_to_end_id=f"E2E-{number:05d}",
        original_transaction_id=f"FT26335{number:05d}",
        debtor_agent=VCB,
        transaction_status=TransactionStatus.ACSC,
        creditor_agent=creditor_agent,
        amount_vnd=1_500_000,
        settled_at_ms=1_796_083_200_800,
    )


def to(receiver: str, message: Message, delay_ms: int = 0, sender: str = "switch") -> Envelope:
    return Envelope(sender, receiver, message, delay_ms)


def numbered() -> Callable[[], str]:
    """The switch's message ids at NOW, as SwitchNode numbers them."""
    return MessageIds("NAPAS").at(1_796_083_200_000)


def room_of(rooms: dict[str, int], default: int = TRANSACTIONS_PER_MESSAGE_MAX) -> Callable[[str], int]:
    return lambda receiver: rooms.get(receiver, default)


def all_take(room: int) -> Callable[[str], int]:
    return lambda _receiver: room


def ids(message: object) -> list[str]:
    """The transaction ids a credit message or a report message carries, in order."""
    if isinstance(message, StatusReportMessage):
        return [r.original_transaction_id for r in message.reports]
    if isinstance(message, StatusReport):
        return [message.original_transaction_id]
    return [t.transaction_id for t in transactions_in(message)]


def without_message_id(transfer: CreditTransfer) -> dict[str, object]:
    return transfer.model_dump(exclude={"message_id"})


# --- gathered: examples --------------------------------------------------------------------------


def test_credit_transfers_to_one_receiver_at_one_moment_leave_as_one_message() -> None:
    out = [to(BIDV, credit(n)) for n in range(1, 4)]

    [envelope] = gathered(out, all_take(TRANSACTIONS_PER_MESSAGE_MAX), numbered())

    assert (envelope.sender, envelope.receiver, envelope.delay_ms) == ("switch", BIDV, 0)
    message = envelope.message
    assert isinstance(message, CreditTransferMessage)
    assert message.message_id == "NAPAS-1796083200000-1"
    assert ids(message) == ["FT2633500001", "FT2633500002", "FT2633500003"]
    assert [without_message_id(t) for t in message.transactions] == [without_message_id(credit(n)) for n in (1, 2, 3)]


def test_each_transaction_of_a_gathered_credit_message_carries_the_messages_id_and_revalidates() -> None:
    out = [to(BIDV, credit(n)) for n in range(1, 6)]

    [envelope] = gathered(out, all_take(TRANSACTIONS_PER_MESSAGE_MAX), numbered())

    message = envelope.message
    assert isinstance(message, CreditTransferMessage)
    assert {t.message_id for t in message.transactions} == {message.message_id}
    # built without validation from validated parts: what a receiver validates, it accepts as it is
    assert CreditTransferMessage.model_validate(message.model_dump()) == message


def test_status_reports_to_one_receiver_leave_as_one_status_report_message_with_their_own_originals() -> None:
    out = [to(VCB, report(n)) for n in range(1, 4)]

    [envelope] = gathered(out, all_take(TRANSACTIONS_PER_MESSAGE_MAX), numbered())

    message = envelope.message
    assert isinstance(message, StatusReportMessage)
    assert message.message_id == "NAPAS-1796083200000-1"
    assert message.reports == tuple(report(n) for n in range(1, 4))  # each names its own original message
    assert StatusReportMessage.model_validate(message.model_dump()) == message


def test_a_group_of_one_stays_a_bare_transaction_with_its_own_message_id() -> None:
    single_credit, single_report = credit(7, VIETINBANK), report(8)
    out = [to(VIETINBANK, single_credit), to(VCB, single_report)]
    issued: list[str] = []

    def next_id() -> str:
        issued.append("never used")
        return "NAPAS-UNUSED"

    sent = gathered(out, all_take(TRANSACTIONS_PER_MESSAGE_MAX), next_id)

    assert sent == out
    assert sent[0].message is single_credit  # not copied: its message id stays the sender's
    assert issued == []


def test_a_receiver_that_takes_single_transfers_only_gets_nothing_but_single_transfers() -> None:
    out = [to(AGRIBANK, credit(n, AGRIBANK)) for n in range(1, 5)] + [to(AGRIBANK, report(n, AGRIBANK)) for n in (5, 6)]

    sent = gathered(out, room_of({AGRIBANK: 1}), numbered())

    assert [type(e.message) for e in sent] == [CreditTransfer] * 4 + [StatusReport] * 2
    assert [e.message for e in sent] == [e.message for e in out]


def test_a_receiver_that_takes_three_gets_messages_of_three_and_the_rest() -> None:
    out = [to(BIDV, credit(n)) for n in range(1, 9)]

    sent = gathered(out, room_of({BIDV: 3}), numbered())

    assert [ids(e.message) for e in sent] == [
        ["FT2633500001", "FT2633500002", "FT2633500003"],
        ["FT2633500004", "FT2633500005", "FT2633500006"],
        ["FT2633500007", "FT2633500008"],
    ]
    assert [m.message_id for m in (e.message for e in sent) if isinstance(m, CreditTransferMessage)] == [
        "NAPAS-1796083200000-1",
        "NAPAS-1796083200000-2",
        "NAPAS-1796083200000-3",
    ]


def test_a_message_never_carries_more_than_the_schemes_thousand_whatever_room_the_receiver_claims() -> None:
    out = [to(BIDV, credit(n)) for n in range(2_500)]

    sent = gathered(out, all_take(5_000), numbered())

    assert [len(ids(e.message)) for e in sent] == [1_000, 1_000, 500]
    assert [t for e in sent for t in ids(e.message)] == [f"FT26335{n:05d}" for n in range(2_500)]


def test_a_last_chunk_of_one_stays_a_bare_transaction() -> None:
    out = [to(BIDV, credit(n)) for n in range(1, 5)]

    sent = gathered(out, room_of({BIDV: 3}), numbered())

    assert isinstance(sent[0].message, CreditTransferMessage)
    assert sent[1].message == credit(4)


def test_transactions_leaving_at_different_moments_never_share_a_message() -> None:
    on_time = [to(BIDV, credit(n)) for n in (1, 2)]
    late = [to(BIDV, credit(n), delay_ms=30_000) for n in (3, 4)]
    out = [on_time[0], late[0], on_time[1], late[1]]

    sent = gathered(out, all_take(TRANSACTIONS_PER_MESSAGE_MAX), numbered())

    assert [(e.delay_ms, ids(e.message)) for e in sent] == [
        (0, ["FT2633500001", "FT2633500002"]),
        (30_000, ["FT2633500003", "FT2633500004"]),
    ]


def test_credits_and_reports_to_one_receiver_travel_in_messages_of_their_own_kind() -> None:
    out = [to(BIDV, credit(1)), to(BIDV, report(2)), to(BIDV, credit(3)), to(BIDV, report(4))]

    sent = gathered(out, all_take(TRANSACTIONS_PER_MESSAGE_MAX), numbered())

    assert [(type(e.message), ids(e.message)) for e in sent] == [
        (CreditTransferMessage, ["FT2633500001", "FT2633500003"]),
        (StatusReportMessage, ["FT2633500002", "FT2633500004"]),
    ]


def test_senders_and_receivers_are_never_mixed_in_one_message() -> None:
    out = [
        to(BIDV, credit(1)),
        to(VIETINBANK, credit(2, VIETINBANK)),
        to(BIDV, credit(3), sender=VCB),
        to(BIDV, credit(4)),
        to(VIETINBANK, credit(5, VIETINBANK)),
        to(BIDV, credit(6), sender=VCB),
    ]

    sent = gathered(out, all_take(TRANSACTIONS_PER_MESSAGE_MAX), numbered())

    assert [(e.sender, e.receiver, ids(e.message)) for e in sent] == [
        ("switch", BIDV, ["FT2633500001", "FT2633500004"]),
        ("switch", VIETINBANK, ["FT2633500002", "FT2633500005"]),
        (VCB, BIDV, ["FT2633500003", "FT2633500006"]),
    ]


def test_a_group_stands_where_its_first_member_stood_and_everything_else_keeps_its_place() -> None:
    timer = to("switch", TimerFired("expire-stale"), delay_ms=10_000)
    request = to("switch", StatusRequest(message_id="Q-1", original_transaction_id="FT2633500009", debtor_agent=VCB))
    bounced = to("switch", Undeliverable(VIETINBANK, credit(9, VIETINBANK)))
    already = CreditTransferMessage(
        message_id="VCB-BATCH-7", transactions=(credit(7).model_copy(update={"message_id": "VCB-BATCH-7"}),)
    )
    carried = to(BIDV, already)
    out = [
        timer,
        to(VCB, report(1)),
        request,
        to(BIDV, credit(2)),
        bounced,
        to(VCB, report(3)),
        carried,
        to(BIDV, credit(4)),
    ]

    sent = gathered(out, all_take(TRANSACTIONS_PER_MESSAGE_MAX), numbered())

    assert sent[0] is timer
    assert isinstance(sent[1].message, StatusReportMessage) and ids(sent[1].message) == ["FT2633500001", "FT2633500003"]
    assert sent[2] is request
    assert isinstance(sent[3].message, CreditTransferMessage) and ids(sent[3].message) == [
        "FT2633500002",
        "FT2633500004",
    ]
    assert sent[4] is bounced
    assert sent[5] is carried  # a message already made is not opened nor merged
    assert len(sent) == 6


def test_nothing_to_send_gathers_into_nothing() -> None:
    assert gathered([], all_take(TRANSACTIONS_PER_MESSAGE_MAX), numbered()) == []


# --- opened, transactions_in: examples -----------------------------------------------------------


def test_a_credit_message_is_opened_into_its_transactions_from_its_sender_with_its_delay() -> None:
    transactions = tuple(credit(n).model_copy(update={"message_id": "VCB-BATCH-1"}) for n in (1, 2, 3))
    message = CreditTransferMessage(message_id="VCB-BATCH-1", transactions=transactions)
    reports = StatusReportMessage(message_id="BIDV-BATCH-1", reports=(report(4), report(5)))
    timer = Envelope("switch", "switch", TimerFired("timeout:970436:FT2633500006"))

    inbox = opened([Envelope(VCB, "switch", message, 40), timer, Envelope(BIDV, "switch", reports, 7)])

    assert inbox == [
        *(Envelope(VCB, "switch", t, 40) for t in transactions),
        timer,
        Envelope(BIDV, "switch", report(4), 7),
        Envelope(BIDV, "switch", report(5), 7),
    ]


def test_an_inbox_without_messages_opens_to_itself() -> None:
    inbox = [Envelope(VCB, "switch", credit(1)), Envelope(BIDV, "switch", report(2))]
    assert opened(inbox) == inbox


def test_the_transactions_in_a_single_transfer_in_a_message_and_in_anything_else() -> None:
    single = credit(1)
    transactions = tuple(credit(n).model_copy(update={"message_id": "VCB-BATCH-2"}) for n in (2, 3))
    assert transactions_in(single) == (single,)
    assert transactions_in(CreditTransferMessage(message_id="VCB-BATCH-2", transactions=transactions)) == transactions
    assert transactions_in(report(4)) == ()
    assert transactions_in(StatusReportMessage(message_id="R-1", reports=(report(5),))) == ()


# --- slices: examples ----------------------------------------------------------------------------


def message_of(size: int, message_id: str = "VCB-BATCH-1") -> CreditTransferMessage:
    """A message of `size` transactions (one transaction repeated: slices only count them)."""
    transaction = TEMPLATE.model_copy(update={"message_id": message_id})
    return CreditTransferMessage.unchecked(message_id=message_id, transactions=(transaction,) * size)


def test_an_inbox_within_the_limit_is_one_slice() -> None:
    inbox = [Envelope(VCB, "switch", message_of(1_000)), Envelope(VCB, "switch", credit(1))]
    assert slices(inbox, 1_001) == [inbox]


def test_an_empty_inbox_is_one_empty_slice() -> None:
    assert [list(s) for s in slices([], 8_190)] == [[]]


def test_a_message_that_would_cross_the_limit_starts_the_next_slice() -> None:
    first, second = Envelope(VCB, "switch", message_of(700)), Envelope(VCB, "switch", message_of(700))
    singles = [Envelope(VCB, "switch", credit(n)) for n in range(5)]

    cut = slices([first, *singles, second], 1_000)

    assert [list(s) for s in cut] == [[first, *singles], [second]]


def test_a_status_report_message_counts_its_reports() -> None:
    reports = Envelope(BIDV, "switch", StatusReportMessage.unchecked(message_id="R-1", reports=(report(1),) * 600))
    cut = slices([reports, reports], 1_000)
    assert [list(s) for s in cut] == [[reports], [reports]]


def test_a_limit_below_one_message_of_the_schemes_maximum_is_refused() -> None:
    with pytest.raises(AssertionError, match="could not hold a whole message"):
        slices([Envelope(VCB, "switch", credit(1))], TRANSACTIONS_PER_MESSAGE_MAX - 1)


# --- properties ----------------------------------------------------------------------------------

RECEIVERS = [VCB, BIDV, VIETINBANK, AGRIBANK]
SENDERS = ["switch", VCB]


@dataclass(frozen=True)
class Planned:
    kind: str  # "credit", "report" or "other"
    sender: str
    receiver: str
    delay_ms: int


planned = st.builds(
    Planned,
    st.sampled_from(["credit", "credit", "report", "other"]),
    st.sampled_from(SENDERS),
    st.sampled_from(RECEIVERS),
    st.sampled_from([0, 0, 0, 15, 30_000]),
)


def outgoing(plan: Sequence[Planned]) -> list[Envelope]:
    out = []
    for number, p in enumerate(plan):
        message: Message
        if p.kind == "credit":
            message = credit(number, BIDV if p.receiver in (VCB, BIDV) else p.receiver)
        elif p.kind == "report":
            message = report(number)
        else:
            message = TimerFired(f"timeout:970436:FT26335{number:05d}")
        out.append(Envelope(p.sender, p.receiver, message, p.delay_ms))
    return out


def identity(message: object) -> object:
    """What a transaction is, whatever message it travelled in (a credit takes its message's id)."""
    if isinstance(message, CreditTransfer):
        return ("credit", repr(without_message_id(message)))
    return message


def by_moment(envelopes: Sequence[Envelope]) -> dict[tuple[str, str, int, str], list[object]]:
    """Transactions by (sender, receiver, time of sending, kind), in order."""
    found: dict[tuple[str, str, int, str], list[object]] = defaultdict(list)
    for e in envelopes:
        found[e.sender, e.receiver, e.delay_ms, type(e.message).__name__].append(identity(e.message))
    return found


rooms = st.fixed_dictionaries({r: st.integers(1, 4) | st.just(TRANSACTIONS_PER_MESSAGE_MAX) for r in RECEIVERS})


@settings(max_examples=200)
@given(plan=st.lists(planned, max_size=40), room=rooms)
def test_gathered_then_opened_gives_back_the_same_transactions_in_order_per_receiver_and_moment(
    plan: list[Planned], room: dict[str, int]
) -> None:
    out = outgoing(plan)

    sent = gathered(out, room_of(room), numbered())

    assert by_moment(opened(sent)) == by_moment(out)
    assert sorted(map(repr, map(identity, (e.message for e in opened(sent))))) == sorted(
        map(repr, map(identity, (e.message for e in out)))
    )


@settings(max_examples=200)
@given(plan=st.lists(planned, max_size=40), room=rooms)
def test_every_message_fits_its_receiver_carries_its_own_id_and_groups_only_one_moment(
    plan: list[Planned], room: dict[str, int]
) -> None:
    out = outgoing(plan)

    sent = gathered(out, room_of(room), numbered())

    message_ids = []
    for envelope in sent:
        message = envelope.message
        if isinstance(message, CreditTransferMessage):
            assert 2 <= len(message.transactions) <= room[envelope.receiver]
            assert {t.message_id for t in message.transactions} == {message.message_id}
            message_ids.append(message.message_id)
        elif isinstance(message, StatusReportMessage):
            assert 2 <= len(message.reports) <= room[envelope.receiver]
            message_ids.append(message.message_id)
        elif room[envelope.receiver] == 1:
            assert not isinstance(message, CreditTransferMessage | StatusReportMessage)
    assert len(message_ids) == len(set(message_ids))  # a fresh id for each message
    # each group is cut into full messages and the rest, so no receiver gets more messages than needed
    for (sender, receiver, delay_ms, kind), members in by_moment(out).items():
        if kind not in ("CreditTransfer", "StatusReport"):
            continue
        pieces = [
            len(ids(e.message))
            for e in sent
            if (e.sender, e.receiver, e.delay_ms) == (sender, receiver, delay_ms)
            and type(e.message)
            in (
                (CreditTransfer, CreditTransferMessage)
                if kind == "CreditTransfer"
                else (StatusReport, StatusReportMessage)
            )
        ]
        size = room[receiver]
        assert pieces == [size] * (len(members) // size) + ([len(members) % size] if len(members) % size else [])


@settings(max_examples=200)
@given(plan=st.lists(planned, max_size=40), room=rooms)
def test_envelopes_of_other_kinds_keep_their_relative_order(plan: list[Planned], room: dict[str, int]) -> None:
    out = outgoing(plan)

    sent = gathered(out, room_of(room), numbered())

    others = [e for e in out if not isinstance(e.message, CreditTransfer | StatusReport)]
    assert [e for e in sent if isinstance(e.message, TimerFired)] == others
    assert all(any(e is o for e in sent) for o in others)


@settings(max_examples=200)
@given(plan=st.lists(planned, max_size=40))
def test_a_receiver_taking_single_transfers_only_never_gets_a_message(plan: list[Planned]) -> None:
    out = outgoing(plan)

    sent = gathered(out, all_take(1), numbered())

    # the very messages, none merged nor copied, each as it was sent
    assert sorted((id(e.message), e.sender, e.receiver, e.delay_ms) for e in sent) == sorted(
        (id(e.message), e.sender, e.receiver, e.delay_ms) for e in out
    )
    assert by_moment(sent) == by_moment(out)


@dataclass(frozen=True)
class Arrival:
    size: int  # a message of this many transactions, or a bare transaction when 0
    reports: bool


arrivals = st.builds(Arrival, st.sampled_from([0, 0, 1, 2, 999, 1_000]) | st.integers(0, 1_000), st.booleans())


@settings(max_examples=200)
@given(
    plan=st.lists(arrivals, max_size=30),
    limit=st.sampled_from([1_000, 1_001, 2_500, 8_190]) | st.integers(1_000, 9_000),
)
def test_slices_never_cut_a_message_never_exceed_the_limit_and_keep_the_order(plan: list[Arrival], limit: int) -> None:
    inbox: list[Envelope] = []
    for number, a in enumerate(plan):
        message: Message
        if a.size and a.reports:
            message = StatusReportMessage.unchecked(message_id=f"R-{number}", reports=(report(number),) * a.size)
        elif a.size:
            message = message_of(a.size, f"VCB-BATCH-{number}")
        else:
            message = report(number) if a.reports else credit(number)
        inbox.append(Envelope(VCB, "switch", message))

    def weight(envelope: Envelope) -> int:
        return max(1, len(ids(envelope.message)))

    cut = [list(s) for s in slices(inbox, limit)]

    assert [e for s in cut for e in s] == inbox  # whole envelopes, in order: no message is cut
    assert all(sum(map(weight, s)) <= limit for s in cut)
    assert all(s for s in cut) or cut == [[]]
    # cut only where it must be: the next envelope would not have fitted
    for before, after in itertools.pairwise(cut):
        assert sum(map(weight, before)) + weight(after[0]) > limit
