"""network.inprocess: the deterministic event scheduler on a simulated clock.

The nodes here are tiny fakes: each records every inbox it is handed and when, and answers with
whatever its `answer` function says. Addresses are real BINs (970436 Vietcombank, 970418 BIDV,
971005 Viettel Money) and the switch's own address.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pytest
from pydantic import BaseModel, ConfigDict

import network.inprocess as inprocess
from network.inprocess import TIMER_HOLD_MS, TIMER_HOLDS_MAX, InProcessNetwork, LinkFaults
from switch.scheme.transport import SWITCH_ADDRESS, Envelope, TimerFired, Undeliverable

VIETCOMBANK, BIDV, VIETTEL_MONEY = "970436", "970418", "971005"
CUSTOMERS = "customers"  # an address with no node: a mailbox
START_MS = 1_796_083_200_000  # 1 December 2026, 07:00 in Vietnam; a multiple of every window used here


class Note(BaseModel):
    """A stand-in for a scheme message: the network never looks inside."""

    model_config = ConfigDict(frozen=True)
    text: str


Answer = Callable[["FakeNode", Envelope, int], list[Envelope]]


def silent(_node: FakeNode, _envelope: Envelope, _now_ms: int) -> list[Envelope]:
    return []


@dataclass
class FakeNode:
    address: str
    answer: Answer = silent
    offline: bool = False
    inboxes: list[tuple[int, list[Envelope]]] = field(default_factory=list)

    def handle(self, inbox: Sequence[Envelope], now_ms: int) -> list[Envelope]:
        self.inboxes.append((now_ms, list(inbox)))
        return [out for envelope in inbox for out in self.answer(self, envelope, now_ms)]

    @property
    def received(self) -> list[tuple[int, object]]:
        """Every message with the time it arrived, in the order the node saw them."""
        return [(at_ms, envelope.message) for at_ms, inbox in self.inboxes for envelope in inbox]

    def messages(self) -> list[object]:
        return [message for _at, message in self.received]


def note(sender: str, receiver: str, text: str, delay_ms: int = 0) -> Envelope:
    return Envelope(sender, receiver, Note(text=text), delay_ms)


def timer(address: str, key: str, delay_ms: int) -> Envelope:
    return Envelope(address, address, TimerFired(key), delay_ms)


def sends(*envelopes: Envelope) -> Answer:
    """A node that sends these envelopes when a customer sets it going, and answers nothing else."""

    def answer(_node: FakeNode, envelope: Envelope, _now_ms: int) -> list[Envelope]:
        return list(envelopes) if envelope.sender == CUSTOMERS else []

    return answer


def network(*nodes: FakeNode, seed: int = 0, **faults: object) -> InProcessNetwork:
    net = InProcessNetwork(START_MS, seed, LinkFaults(**faults))  # type: ignore[arg-type]
    for node in nodes:
        net.add(node)
    return net


def kick(net: InProcessNetwork, address: str, at_ms: int | None = None) -> None:
    """A customer's message that sets a node going."""
    net.inject([note(CUSTOMERS, address, "bắt đầu")], at_ms)


# --- determinism ------------------------------------------------------------------------------------


def relay_run(seed: int) -> list[tuple[str, int, list[str]]]:
    """The switch relays each customer note to both banks, which answer it: the full delivery log."""

    def relay(_node: FakeNode, envelope: Envelope, _now_ms: int) -> list[Envelope]:
        message = envelope.message
        if isinstance(message, Note) and envelope.sender == CUSTOMERS:
            return [note(SWITCH_ADDRESS, bank, f"{message.text}->{bank}") for bank in (VIETCOMBANK, BIDV)]
        return []

    def reply(node: FakeNode, envelope: Envelope, _now_ms: int) -> list[Envelope]:
        assert isinstance(envelope.message, Note)
        return [note(node.address, SWITCH_ADDRESS, f"ok {envelope.message.text}", delay_ms=3)]

    switch = FakeNode(SWITCH_ADDRESS, relay)
    banks = [FakeNode(VIETCOMBANK, reply), FakeNode(BIDV, reply)]
    net = network(switch, *banks, seed=seed, latency_ms_min=1, latency_ms_max=40, batch_window_ms=1)
    net.inject([note(CUSTOMERS, SWITCH_ADDRESS, f"lệnh {i}") for i in range(20)])
    net.inject([note(CUSTOMERS, SWITCH_ADDRESS, "lệnh muộn")], START_MS + 17)
    net.run()
    log = []
    for node in (switch, *banks):
        for at_ms, inbox in node.inboxes:
            log.append((node.address, at_ms, [str(e.message) for e in inbox]))
    return log


def test_the_same_seed_gives_the_same_deliveries_at_the_same_times_in_the_same_order() -> None:
    first, second = relay_run(seed=42), relay_run(seed=42)

    assert first == second
    assert len(first) > 3


def test_another_seed_gives_other_link_latencies() -> None:
    assert relay_run(seed=1) != relay_run(seed=2)


def test_nodes_due_at_the_same_instant_are_handled_in_address_order_whatever_order_they_were_added() -> None:
    order: list[str] = []

    def log(node: FakeNode, _envelope: Envelope, _now_ms: int) -> list[Envelope]:
        order.append(node.address)
        return []

    net = network(FakeNode(VIETTEL_MONEY, log), FakeNode(BIDV, log), FakeNode(VIETCOMBANK, log))
    net.inject([note(CUSTOMERS, a, "chào") for a in (VIETTEL_MONEY, VIETCOMBANK, BIDV)])
    net.run()

    assert order == [BIDV, VIETCOMBANK, VIETTEL_MONEY]


def test_a_second_node_with_an_address_already_on_the_network_is_refused() -> None:
    net = network(FakeNode(VIETCOMBANK))

    with pytest.raises(ValueError, match="970436 is already on the network"):
        net.add(FakeNode(VIETCOMBANK))


# --- batch windows ------------------------------------------------------------------------------------


def test_messages_arriving_in_one_batch_window_reach_a_node_as_one_inbox() -> None:
    # Latency 1-5 ms plus up to 4 ms of the sender's own delay: all three land inside one 10 ms window.
    vietcombank = FakeNode(
        VIETCOMBANK,
        sends(
            note(VIETCOMBANK, BIDV, "một", delay_ms=0),
            note(VIETCOMBANK, BIDV, "hai", delay_ms=2),
            note(VIETCOMBANK, BIDV, "ba", delay_ms=4),
        ),
    )
    bidv = FakeNode(BIDV)
    net = network(vietcombank, bidv, seed=3, latency_ms_min=1, latency_ms_max=5, batch_window_ms=10)
    kick(net, VIETCOMBANK)

    net.run()

    assert len(bidv.inboxes) == 1
    at_ms, inbox = bidv.inboxes[0]
    assert at_ms == START_MS + 10  # the end of the window the messages fell in
    assert [e.message for e in inbox] == [Note(text="một"), Note(text="hai"), Note(text="ba")]
    assert (net.stats.batches, net.stats.delivered) == (2, 4)


def test_messages_from_two_senders_in_one_window_reach_the_receiver_together() -> None:
    vietcombank = FakeNode(VIETCOMBANK, sends(note(VIETCOMBANK, SWITCH_ADDRESS, "từ Vietcombank")))
    bidv = FakeNode(BIDV, sends(note(BIDV, SWITCH_ADDRESS, "từ BIDV")))
    switch = FakeNode(SWITCH_ADDRESS)
    net = network(vietcombank, bidv, switch, seed=5, latency_ms_min=1, latency_ms_max=5, batch_window_ms=5)
    kick(net, VIETCOMBANK)
    kick(net, BIDV)

    net.run()

    assert len(switch.inboxes) == 1
    assert sorted(str(m) for m in switch.messages()) == ["text='từ BIDV'", "text='từ Vietcombank'"]
    assert switch.inboxes[0][0] % 5 == 0


def test_with_a_one_millisecond_window_messages_sent_apart_arrive_apart() -> None:
    vietcombank = FakeNode(
        VIETCOMBANK, sends(note(VIETCOMBANK, BIDV, "sớm"), note(VIETCOMBANK, BIDV, "muộn", delay_ms=100))
    )
    bidv = FakeNode(BIDV)
    net = network(vietcombank, bidv, latency_ms_min=2, latency_ms_max=2, batch_window_ms=1)
    kick(net, VIETCOMBANK)

    net.run()

    assert bidv.received == [(START_MS + 2, Note(text="sớm")), (START_MS + 102, Note(text="muộn"))]


def test_a_message_arrives_after_the_senders_delay_plus_the_link_latency_and_never_earlier() -> None:
    vietcombank = FakeNode(VIETCOMBANK, sends(*[note(VIETCOMBANK, BIDV, str(i), delay_ms=500) for i in range(30)]))
    bidv = FakeNode(BIDV)
    net = network(vietcombank, bidv, seed=9, latency_ms_min=3, latency_ms_max=8, batch_window_ms=1)
    kick(net, VIETCOMBANK)

    net.run()

    times = {at_ms - START_MS for at_ms, _m in bidv.received}
    assert min(times) >= 503 and max(times) <= 508
    assert len(times) > 1  # latency varies per message


# --- timers -------------------------------------------------------------------------------------------


def test_a_timer_arrives_exactly_its_delay_later_whatever_the_batch_window() -> None:
    def arm(node: FakeNode, envelope: Envelope, _now_ms: int) -> list[Envelope]:
        return [] if isinstance(envelope.message, TimerFired) else [timer(node.address, "sweep", 15_003)]

    bidv = FakeNode(BIDV, arm)
    net = network(bidv, latency_ms_min=1, latency_ms_max=50, batch_window_ms=10)
    kick(net, BIDV, START_MS + 7)

    net.run()

    assert bidv.received[-1] == (START_MS + 7 + 15_003, TimerFired("sweep"))
    assert net.now_ms == START_MS + 15_010


def test_a_timer_is_never_duplicated_even_when_every_message_is() -> None:
    def arm(node: FakeNode, envelope: Envelope, _now_ms: int) -> list[Envelope]:
        return [] if isinstance(envelope.message, TimerFired) else [timer(node.address, "sweep", 1_000)]

    bidv = FakeNode(BIDV, arm)
    net = network(bidv, duplicate_rate=1.0)
    kick(net, BIDV)

    net.run()

    assert bidv.messages().count(TimerFired("sweep")) == 1
    assert net.stats.duplicated == 0


# --- offline nodes --------------------------------------------------------------------------------------


def test_a_message_to_an_offline_node_comes_back_to_its_sender_as_undeliverable() -> None:
    sent = note(VIETCOMBANK, BIDV, "chuyển 250.000 VND")
    vietcombank = FakeNode(VIETCOMBANK, sends(sent))
    bidv = FakeNode(BIDV, offline=True)
    net = network(vietcombank, bidv, batch_window_ms=5)
    kick(net, VIETCOMBANK)

    net.run()

    assert bidv.inboxes == []
    at_ms, inbox = vietcombank.inboxes[-1]
    assert inbox == [Envelope(BIDV, VIETCOMBANK, Undeliverable(BIDV, Note(text="chuyển 250.000 VND")))]
    assert at_ms % 5 == 0 and at_ms > START_MS
    assert net.stats.undeliverable == 1
    assert net.pending() == 0


def test_a_notice_that_cannot_be_delivered_is_dropped_without_a_notice_about_it() -> None:
    def send_then_go_down(node: FakeNode, envelope: Envelope, _now_ms: int) -> list[Envelope]:
        node.offline = True  # the sender crashes right after sending
        return [note(VIETCOMBANK, BIDV, "chuyển tiền")]

    vietcombank = FakeNode(VIETCOMBANK, send_then_go_down)
    bidv = FakeNode(BIDV, offline=True)
    net = network(vietcombank, bidv)
    kick(net, VIETCOMBANK)

    net.run()

    assert len(vietcombank.inboxes) == 1  # only the kick: the notice found it down
    assert bidv.inboxes == []  # and nobody told BIDV that its notice was lost
    assert net.stats.undeliverable == 1
    assert net.pending() == 0


def test_an_offline_nodes_own_timer_is_held_and_delivered_once_it_is_back() -> None:
    def arm_then_go_down(node: FakeNode, envelope: Envelope, _now_ms: int) -> list[Envelope]:
        if isinstance(envelope.message, TimerFired):
            return []
        node.offline = True
        return [timer(node.address, "sweep", 100)]

    bidv = FakeNode(BIDV, arm_then_go_down)
    net = network(bidv)
    kick(net, BIDV)

    net.run(until_ms=START_MS + 2_500)
    assert len(bidv.inboxes) == 1  # the timer came due at +100 and waits
    assert net.pending() == 1

    bidv.offline = False
    net.run()

    assert bidv.received[1:] == [(START_MS + 100 + 3 * TIMER_HOLD_MS, TimerFired("sweep"))]
    assert net.pending() == 0


def test_a_timer_of_a_node_down_for_more_than_an_hour_is_dropped() -> None:
    def arm_then_go_down(node: FakeNode, envelope: Envelope, _now_ms: int) -> list[Envelope]:
        if isinstance(envelope.message, TimerFired):
            return []
        node.offline = True
        return [timer(node.address, "sweep", 100)]

    bidv = FakeNode(BIDV, arm_then_go_down)
    net = network(bidv)
    kick(net, BIDV)

    net.run()

    assert net.pending() == 0
    assert net.now_ms == START_MS + 100 + TIMER_HOLDS_MAX * TIMER_HOLD_MS
    assert len(bidv.inboxes) == 1


def test_each_outage_holds_a_nodes_timer_for_a_full_hour_however_long_earlier_outages_were() -> None:
    # Two outages of 2,000 s each, the timer armed again in between: neither is over the hour.
    def arm_then_go_down(node: FakeNode, envelope: Envelope, _now_ms: int) -> list[Envelope]:
        node.offline = True
        return [timer(node.address, "sweep", 100)]

    bidv = FakeNode(BIDV, arm_then_go_down)
    net = network(bidv)
    kick(net, BIDV)

    net.run(until_ms=START_MS + 2_000 * TIMER_HOLD_MS)
    bidv.offline = False  # back: the held timer fires, the node arms it again and goes down again
    net.run(until_ms=START_MS + 2_001 * TIMER_HOLD_MS + 200)
    assert [m for m in bidv.messages() if isinstance(m, TimerFired)] == [TimerFired("sweep")]
    net.run(until_ms=START_MS + 4_000 * TIMER_HOLD_MS)
    assert net.pending() == 1  # the second outage's timer still waits: 2,000 s is not an hour
    bidv.offline = False

    net.run(until_ms=START_MS + 4_002 * TIMER_HOLD_MS)

    assert [m for m in bidv.messages() if isinstance(m, TimerFired)] == [TimerFired("sweep")] * 2


def test_a_message_to_an_address_with_no_node_lands_in_its_mailbox() -> None:
    answer = note(VIETCOMBANK, CUSTOMERS, "đã nhận lệnh")
    vietcombank = FakeNode(VIETCOMBANK, sends(answer))
    net = network(vietcombank)
    kick(net, VIETCOMBANK)

    net.run()

    assert net.mailboxes[CUSTOMERS] == [answer]
    assert net.stats.by_receiver == {VIETCOMBANK: 1}


# --- faults -------------------------------------------------------------------------------------------


def test_a_duplicate_rate_of_one_delivers_every_message_twice() -> None:
    vietcombank = FakeNode(VIETCOMBANK, sends(*[note(VIETCOMBANK, BIDV, f"lệnh {i}") for i in range(5)]))
    bidv = FakeNode(BIDV)
    net = network(vietcombank, bidv, seed=11, duplicate_rate=1.0)
    kick(net, VIETCOMBANK)

    net.run()

    assert Counter(str(m) for m in bidv.messages()) == {f"text='lệnh {i}'": 2 for i in range(5)}
    assert net.stats.duplicated == 5


def test_no_duplicates_without_a_duplicate_rate() -> None:
    vietcombank = FakeNode(VIETCOMBANK, sends(*[note(VIETCOMBANK, BIDV, f"lệnh {i}") for i in range(50)]))
    bidv = FakeNode(BIDV)
    net = network(vietcombank, bidv, seed=11)
    kick(net, VIETCOMBANK)

    net.run()

    assert len(bidv.messages()) == 50
    assert net.stats.duplicated == 0


# --- injection and the clock ------------------------------------------------------------------------


def test_inject_refuses_a_time_in_the_past() -> None:
    net = network(FakeNode(VIETCOMBANK))
    net.run(until_ms=START_MS + 1_000)

    with pytest.raises(ValueError, match=r"at_ms: \d+ is in the past \(now \d+\)"):
        net.inject([note(CUSTOMERS, VIETCOMBANK, "quá muộn")], at_ms=START_MS + 999)
    assert net.pending() == 0


def test_an_injected_message_arrives_exactly_at_its_time_plus_its_delay() -> None:
    vietcombank = FakeNode(VIETCOMBANK)
    net = network(vietcombank, batch_window_ms=10)

    net.inject([note(CUSTOMERS, VIETCOMBANK, "lệnh", delay_ms=3)], at_ms=START_MS + 1_001)
    net.run()

    assert vietcombank.received == [(START_MS + 1_004, Note(text="lệnh"))]


def test_run_until_a_time_stops_the_clock_there_and_keeps_later_messages_waiting() -> None:
    vietcombank = FakeNode(VIETCOMBANK)
    net = network(vietcombank)
    net.inject([note(CUSTOMERS, VIETCOMBANK, "sáng")], START_MS + 100)
    net.inject([note(CUSTOMERS, VIETCOMBANK, "chiều")], START_MS + 5_000)

    net.run(until_ms=START_MS + 1_000)

    assert net.now_ms == START_MS + 1_000
    assert vietcombank.messages() == [Note(text="sáng")]
    assert net.pending() == 1

    net.run()

    assert vietcombank.messages() == [Note(text="sáng"), Note(text="chiều")]
    assert net.now_ms == START_MS + 5_000


def test_a_message_due_exactly_at_the_stop_time_is_delivered() -> None:
    vietcombank = FakeNode(VIETCOMBANK)
    net = network(vietcombank)
    net.inject([note(CUSTOMERS, VIETCOMBANK, "đúng giờ")], START_MS + 1_000)

    net.run(until_ms=START_MS + 1_000)

    assert vietcombank.received == [(START_MS + 1_000, Note(text="đúng giờ"))]


def test_run_until_a_time_moves_an_idle_clock_forward_to_it() -> None:
    net = network(FakeNode(VIETCOMBANK))

    net.run(until_ms=START_MS + 60_000)

    assert net.now_ms == START_MS + 60_000


def test_running_until_a_time_already_past_never_moves_the_clock_back() -> None:
    net = network(FakeNode(VIETCOMBANK))
    net.inject([note(CUSTOMERS, VIETCOMBANK, "sau")], START_MS + 10_000)
    net.run(until_ms=START_MS + 5_000)

    net.run(until_ms=START_MS + 1_000)

    assert net.now_ms == START_MS + 5_000


# --- limits --------------------------------------------------------------------------------------------


def test_nodes_that_answer_every_message_forever_make_run_raise_after_events_max_deliveries() -> None:
    def ping(node: FakeNode, envelope: Envelope, _now_ms: int) -> list[Envelope]:
        return [note(node.address, envelope.sender if envelope.sender != CUSTOMERS else BIDV, "ping")]

    vietcombank, bidv = FakeNode(VIETCOMBANK, ping), FakeNode(BIDV, ping)
    net = network(vietcombank, bidv)
    kick(net, VIETCOMBANK)

    with pytest.raises(RuntimeError, match="more than 100 deliveries in one run: a message loop"):
        net.run(events_max=100)

    assert net.stats.delivered == 101


def test_the_network_refuses_more_envelopes_than_its_queue_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inprocess, "QUEUE_LENGTH_MAX", 10)
    net = network(FakeNode(VIETCOMBANK))
    net.inject([note(CUSTOMERS, VIETCOMBANK, str(i)) for i in range(10)])

    with pytest.raises(RuntimeError, match="network queue over 10 envelopes"):
        net.inject([note(CUSTOMERS, VIETCOMBANK, "một nữa")])
