"""payer.audit.core: the hash chain, pure. For any chain and any one alteration, verify names exactly
the first broken link; an untouched chain always verifies."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from audit_data import DECEMBER_2026_MS, events
from hypothesis import assume, given
from hypothesis import strategies as st

from payer.audit import core
from payer.audit.errors import AuditEventInvalid, ExpectedHeadInvalid
from payer.audit.schemas import (
    DETAILS_BYTES_MAX,
    AuditAction,
    AuditEntry,
    AuditEvent,
    AuditRole,
    BrokenLinkReason,
    ChainHead,
    payment_request_subject,
)

FIELDS = ("sequence", "time_ms", "actor", "role", "action", "subject", "details_json", "previous_hash", "hash")
hashes = st.from_regex(r"\A[0-9a-f]{64}\Z")


def chain_of(steps: list[AuditEvent], head: ChainHead | None = None) -> list[AuditEntry]:
    return core.chain(head, steps, core.check_events(steps))


chains = st.lists(events, min_size=1, max_size=20).map(chain_of)


def resealed(entry: AuditEntry, **changes: Any) -> AuditEntry:
    """What a forger who knows the algorithm writes: the changed row with its own hash recomputed."""
    changed = dataclasses.replace(entry, **changes)
    return dataclasses.replace(changed, hash=core.hash_of(changed))


def approval(actor: str = "Trần Văn Đức", **changes: Any) -> AuditEvent:
    fields: dict[str, Any] = {
        "time_ms": DECEMBER_2026_MS,
        "actor": actor,
        "role": AuditRole.TREASURY_APPROVER,
        "action": AuditAction.APPROVED,
        "subject": payment_request_subject("MOLISA-2026-12-HN-0001", 1),
        "details": {"items": 1_204, "amount_vnd": 602_000_000},
    }
    return AuditEvent(**(fields | changes))


# --- properties ---------------------------------------------------------------------------------


@given(chains)
def test_an_untouched_chain_always_verifies_and_reports_its_last_entry_as_head(entries: list[AuditEntry]) -> None:
    report = core.verify(entries)
    assert report.ok
    assert report.entries == len(entries)
    assert report.head == ChainHead(len(entries), entries[-1].hash)
    assert [e.sequence for e in entries] == list(range(1, len(entries) + 1))
    assert entries[0].previous_hash == core.GENESIS_HASH


@given(st.lists(events, min_size=1, max_size=10), st.lists(events, min_size=1, max_size=10))
def test_a_chain_continued_from_its_head_verifies_as_one_chain(first: list[AuditEvent], then: list[AuditEvent]) -> None:
    start = chain_of(first)
    more = chain_of(then, ChainHead(start[-1].sequence, start[-1].hash))
    assert core.verify(start + more).ok
    assert chain_of(first + then) == start + more


@given(chains, st.data())
def test_changing_any_field_of_one_row_is_named_as_that_row_altered(
    entries: list[AuditEntry], data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, len(entries) - 1), label="row")
    name = data.draw(st.sampled_from(FIELDS), label="field")
    old = getattr(entries[index], name)
    new = data.draw(st.integers(0, 2**40) if isinstance(old, int) else st.text(max_size=70), label="value")
    assume(new != old)
    altered = [*entries]
    changes: dict[str, Any] = {name: new}
    altered[index] = dataclasses.replace(entries[index], **changes)
    report = core.verify(altered)
    assert report.broken is not None
    assert (report.broken.sequence, report.broken.reason) == (index + 1, BrokenLinkReason.HASH_MISMATCH)
    assert report.entries == index
    assert report.broken.found == str(altered[index].hash)


@given(chains, st.data())
def test_deleting_a_row_before_the_last_is_named_as_a_gap_where_it_was(
    entries: list[AuditEntry], data: st.DataObject
) -> None:
    assume(len(entries) >= 2)
    index = data.draw(st.integers(0, len(entries) - 2), label="deleted row")
    report = core.verify(entries[:index] + entries[index + 1 :])
    assert report.broken is not None
    assert (report.broken.sequence, report.broken.reason) == (index + 1, BrokenLinkReason.SEQUENCE_GAP)
    assert (report.broken.expected, report.broken.found) == (str(index + 1), str(index + 2))


@given(chains)
def test_a_cut_tail_leaves_a_whole_chain_which_only_the_pinned_head_exposes(entries: list[AuditEntry]) -> None:
    pinned = ChainHead(entries[-1].sequence, entries[-1].hash)
    cut = entries[:-1]
    assert core.verify(cut).ok  # the limit the module docstring owns up to
    report = core.verify(cut, expected_head=pinned)
    assert report.broken is not None
    assert (report.broken.sequence, report.broken.reason) == (len(entries), BrokenLinkReason.EXPECTED_HEAD_MISSING)


@given(chains, st.data())
def test_two_rows_swapped_are_named_at_the_first_of_them(entries: list[AuditEntry], data: st.DataObject) -> None:
    assume(len(entries) >= 2)
    first = data.draw(st.integers(0, len(entries) - 2), label="first row")
    second = data.draw(st.integers(first + 1, len(entries) - 1), label="second row")
    swapped = [*entries]
    swapped[first], swapped[second] = entries[second], entries[first]
    report = core.verify(swapped)
    assert report.broken is not None
    assert (report.broken.sequence, report.broken.reason) == (first + 1, BrokenLinkReason.SEQUENCE_GAP)


@given(chains, st.data())
def test_two_rows_swapped_renumbered_and_resealed_are_caught_by_the_link_to_the_row_before(
    entries: list[AuditEntry], data: st.DataObject
) -> None:
    assume(len(entries) >= 2)
    first = data.draw(st.integers(0, len(entries) - 2), label="first row")
    second = data.draw(st.integers(first + 1, len(entries) - 1), label="second row")
    swapped = [*entries]
    swapped[first] = resealed(entries[second], sequence=first + 1)
    swapped[second] = resealed(entries[first], sequence=second + 1)
    report = core.verify(swapped)
    assert report.broken is not None
    assert (report.broken.sequence, report.broken.reason) == (first + 1, BrokenLinkReason.PREVIOUS_HASH_MISMATCH)


@given(chains, events, hashes, st.data())
def test_a_forged_row_with_its_own_hash_but_the_wrong_previous_is_named_where_it_was_inserted(
    entries: list[AuditEntry], event: AuditEvent, previous_hash: str, data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, len(entries)), label="inserted before row")
    true_previous = entries[index - 1].hash if index else core.GENESIS_HASH
    assume(previous_hash != true_previous)
    forged = core.seal(ChainHead(index, previous_hash), event, core.check_event(event))
    report = core.verify([*entries[:index], forged, *entries[index:]])
    assert report.broken is not None
    assert (report.broken.sequence, report.broken.reason) == (index + 1, BrokenLinkReason.PREVIOUS_HASH_MISMATCH)
    assert (report.broken.expected, report.broken.found) == (true_previous, previous_hash)


@given(chains, st.data())
def test_a_chain_rewritten_from_an_altered_row_verifies_but_not_against_a_head_pinned_after_that_row(
    entries: list[AuditEntry], data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, len(entries) - 1), label="altered row")
    pinned_index = data.draw(st.integers(index, len(entries) - 1), label="pinned row")
    rewritten = entries[:index]
    for entry in entries[index:]:
        previous = rewritten[-1].hash if rewritten else core.GENESIS_HASH
        actor = "Kẻ Giả Mạo" if entry is entries[index] else entry.actor
        rewritten.append(resealed(entry, actor=actor, previous_hash=previous))
    pinned = ChainHead(pinned_index + 1, entries[pinned_index].hash)
    assert core.verify(rewritten).ok
    report = core.verify(rewritten, expected_head=pinned)
    assert report.broken is not None
    assert (report.broken.sequence, report.broken.reason) == (pinned_index + 1, BrokenLinkReason.EXPECTED_HEAD_DIFFERS)


@given(chains, st.data())
def test_an_untouched_chain_holds_every_head_it_ever_had(entries: list[AuditEntry], data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(entries) - 1), label="pinned row")
    assert core.verify(entries, expected_head=ChainHead(index + 1, entries[index].hash)).ok


@given(events)
def test_an_entry_hashes_its_canonical_json_sorted_utf8_and_without_spaces(event: AuditEvent) -> None:
    (entry,) = chain_of([event])
    fields = dataclasses.asdict(entry)
    del fields["hash"]
    fields["details"] = json.loads(fields.pop("details_json"))
    expected = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert core.entry_bytes(entry) == expected.encode("utf-8")


# --- examples -----------------------------------------------------------------------------------


def test_the_bytes_and_hash_of_a_known_entry_never_change_for_a_change_would_break_every_stored_chain() -> None:
    (entry,) = chain_of([approval()])
    genesis = "25d5555502d63719ea3c7b6d7aa30ae8707da7cc94cff6d92f329418ac4bb10d"
    assert genesis == core.GENESIS_HASH
    assert core.entry_bytes(entry).decode("utf-8") == (
        '{"action":"approved","actor":"Trần Văn Đức","details":{"amount_vnd":602000000,"items":1204},'
        f'"previous_hash":"{genesis}","role":"treasury_approver","sequence":1,'
        '"subject":"MOLISA-2026-12-HN-0001/v1","time_ms":1796058000000}'
    )
    assert entry.hash == "d9e44824b2c5669289b5819356fe0eecb80aefd6b8ac97bed3f27d62358438fd"


def test_vietnamese_names_are_hashed_as_utf8_text_not_escapes() -> None:
    (entry,) = chain_of([approval("Đặng Thu Hà", details={"representative": "Nguyễn Văn Tâm"})])
    assert "Đặng Thu Hà".encode() in core.entry_bytes(entry)
    assert entry.details == {"representative": "Nguyễn Văn Tâm"}


def test_an_empty_log_verifies_with_no_head() -> None:
    report = core.verify([])
    assert report.ok
    assert (report.entries, report.head) == (0, None)
    assert report.as_json() == {"ok": True, "entries": 0, "head": None}


def test_a_broken_link_reads_as_its_sequence_and_what_is_wrong() -> None:
    entries = chain_of([approval(), approval(time_ms=DECEMBER_2026_MS + 60_000)])
    report = core.verify([entries[0], dataclasses.replace(entries[1], actor="Kẻ Giả Mạo")])
    assert report.as_json()["broken"]["message"].startswith("sequence 2: hash_mismatch, the row was altered")
    assert report.as_json()["head"] == f"1:{entries[0].hash}"


@pytest.mark.parametrize(
    ("changes", "field", "rule"),
    [
        ({"details": {"amount_vnd": 500_000.0}}, "details.amount_vnd", "must not be a float"),
        ({"details": {"items": [1, 2.5]}}, "details.items[1]", "must not be a float"),
        ({"details": {"note": "x" * DETAILS_BYTES_MAX}}, "details", f"at most {DETAILS_BYTES_MAX} bytes"),
        ({"details": {"a": {"b": {"c": {"d": {"e": 1}}}}}}, "details.a.b.c.d", "more than 4 deep"),
        ({"details": {"amount_vnd": 2**63}}, "details.amount_vnd", "fits 64 bits"),
        ({"details": {"": 1}}, "details", "keys must be text"),
        ({"details": {"when": object()}}, "details.when", "must be JSON"),
        ({"actor": ""}, "actor", "1 to 128 characters"),
        ({"actor": " Trần Văn Đức"}, "actor", "must not start or end with spaces"),
        ({"actor": "Trần Văn\nĐức"}, "actor", "control characters"),
        ({"subject": "M" * 141}, "subject", "1 to 140 characters"),
        ({"time_ms": -1}, "time_ms", "from 0"),
        ({"time_ms": True}, "time_ms", "integer number of milliseconds"),
        ({"role": "treasury_approver"}, "role", "must be one of"),
        ({"action": "deleted"}, "action", "must be one of"),
    ],
)
def test_an_event_that_breaks_a_rule_is_refused_naming_the_field_and_the_rule(
    changes: dict[str, Any], field: str, rule: str
) -> None:
    with pytest.raises(AuditEventInvalid) as refused:
        core.check_event(approval(**changes))
    assert refused.value.field == field
    assert rule in refused.value.rule


def test_a_batch_with_one_bad_event_is_refused_whole() -> None:
    with pytest.raises(AuditEventInvalid):
        core.check_events([approval(), approval(details={"amount_vnd": 1.5})])


def test_the_head_verify_prints_reads_back_as_the_expected_head() -> None:
    entries = chain_of([approval()])
    printed = str(core.verify(entries).head)
    assert core.parse_head(printed) == ChainHead(1, entries[0].hash)
    assert core.parse_head(printed.upper()) == ChainHead(1, entries[0].hash)


@pytest.mark.parametrize(
    "text", ["", "12", "0:" + "a" * 64, "-3:" + "a" * 64, "7:" + "a" * 63, "7:" + "g" * 64, "٣:" + "a" * 64]
)
def test_an_expected_head_that_is_not_seq_colon_hash_is_refused(text: str) -> None:
    with pytest.raises(ExpectedHeadInvalid):
        core.parse_head(text)
