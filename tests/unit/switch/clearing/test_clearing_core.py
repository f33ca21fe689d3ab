"""The clearing core: pure decisions on a batch of credit transfers and on the creditors' answers.

No database: participants, aliases and stored records are plain mappings built here.
"""

from __future__ import annotations

from typing import Any

import pytest

from switch.clearing.core import IntakeDecision, decide_answer, decide_intake, digest_of, forwarded
from switch.clearing.schemas import TRANSFER_LIMIT_VND, ClearingRecord, Route, clearing_key
from switch.directory.schemas import AliasRecord
from switch.participants.schemas import Participant
from switch.scheme.codes import AliasType, ParticipantKind, ParticipantStatus, StatusReason, TransactionStatus
from switch.scheme.messages import Alias, CreditTransfer, Party

NOW = 1_796_083_200_000
VCB, BIDV, VIETINBANK, VBSP, VIETTEL = "970436", "970418", "970415", "999888", "971005"

PARTICIPANTS = {
    VCB: Participant(VCB, "Vietcombank", ParticipantKind.BANK),
    BIDV: Participant(BIDV, "BIDV", ParticipantKind.BANK),
    VIETINBANK: Participant(VIETINBANK, "VietinBank", ParticipantKind.BANK, ParticipantStatus.SUSPENDED),
    VIETTEL: Participant(VIETTEL, "Viettel Money", ParticipantKind.WALLET),
}

MSISDN = Alias(type=AliasType.MSISDN, value="0912345678")
CITIZEN = Alias(type=AliasType.CITIZEN_ID, value="001090012345")
ALIASES = {
    MSISDN.key: AliasRecord(
        key=MSISDN.key,
        type=AliasType.MSISDN,
        value="0912345678",
        citizen_id="001090012345",
        agent=VIETTEL,
        account="0912345678",
        holder_name_masked="N***** V** AN",
        registered_ms=NOW,
    ),
    CITIZEN.key: AliasRecord(
        key=CITIZEN.key,
        type=AliasType.CITIZEN_ID,
        value="001090012345",
        citizen_id="001090012345",
        agent=VIETINBANK,
        account="101867001234",
        holder_name_masked="N***** V** AN",
        registered_ms=NOW,
    ),
}


def transfer(tx: str = "TX1", amount_vnd: int = 1_500_000, **changes: Any) -> CreditTransfer:
    fields: dict[str, object] = {
        "message_id": f"MSG-{tx}",
        "end_to_end_id": f"E2E-{tx}",
        "transaction_id": tx,
        "amount_vnd": amount_vnd,
        "debtor": Party(name="Nguyễn Văn An", citizen_id="001090012345"),
        "debtor_account": "0011001234567",
        "debtor_agent": VCB,
        "creditor": Party(name="Trần Thị Bình"),
        "creditor_account": "12010000123456",
        "creditor_agent": BIDV,
        "remittance_information": "Trả tiền thuê nhà tháng 12",
    }
    fields.update(changes)
    return CreditTransfer.model_validate(fields)


def by_alias(alias: Alias, tx: str = "TX1", **changes: Any) -> CreditTransfer:
    return transfer(tx, creditor_alias=alias, creditor_account=None, creditor_agent=None, **changes)


def record_of(t: CreditTransfer, status: TransactionStatus, reason: StatusReason | None = None) -> ClearingRecord:
    return ClearingRecord(
        key=clearing_key(t.debtor_agent, t.transaction_id),
        debtor_agent=t.debtor_agent,
        transaction_id=t.transaction_id,
        message_id=t.message_id,
        end_to_end_id=t.end_to_end_id,
        digest=digest_of(t),
        amount_vnd=t.amount_vnd,
        debtor_account=t.debtor_account,
        creditor_agent=t.creditor_agent,
        creditor_account=t.creditor_account,
        status=status,
        reason=reason,
        created_ms=NOW,
        updated_ms=NOW,
    )


def decide(
    transfers: list[CreditTransfer],
    sender: str = VCB,
    participants: dict[str, Participant] | None = None,
    existing: dict[str, ClearingRecord] | None = None,
) -> list[IntakeDecision]:
    return decide_intake(
        [(sender, transfer) for transfer in transfers],
        PARTICIPANTS if participants is None else participants,
        ALIASES,
        existing or {},
        TRANSFER_LIMIT_VND,
    )


# --- intake --------------------------------------------------------------------------------------


def test_a_clean_transfer_is_routed_to_the_creditor_agent_it_names_and_is_stored() -> None:
    t = transfer()
    [decision] = decide([t])
    assert decision.reject is None
    assert decision.route == Route(BIDV, "12010000123456", None)
    assert decision.store is True
    assert decision.duplicate_of is None
    assert decision.key == "970436:TX1"
    assert decision.digest == digest_of(t)


def test_the_clearing_key_is_the_debtor_agent_with_its_own_transaction_id() -> None:
    assert clearing_key(VCB, "TX1") == "970436:TX1"
    assert clearing_key(VCB, "TX1") != clearing_key(BIDV, "TX1")


def test_a_transfer_sent_by_another_participant_than_its_debtor_agent_is_refused_ff01_and_not_stored() -> None:
    [decision] = decide([transfer()], sender=BIDV)
    assert decision.reject == StatusReason.FF01
    assert decision.store is False
    assert decision.route is None


def test_the_wrong_sender_is_refused_even_when_the_id_is_already_stored_for_the_real_debtor() -> None:
    t = transfer()
    [decision] = decide([t], sender=BIDV, existing={"970436:TX1": record_of(t, TransactionStatus.ACSC)})
    assert decision.reject == StatusReason.FF01
    assert decision.duplicate_of is None
    assert decision.store is False


def test_a_repeat_with_the_same_content_points_at_the_stored_record_and_stores_nothing() -> None:
    t = transfer()
    stored = record_of(t, TransactionStatus.ACSC)
    [decision] = decide([t], existing={stored.key: stored})
    assert decision.duplicate_of is stored
    assert decision.reject is None
    assert decision.route is None
    assert decision.store is False


def test_a_repeat_with_other_content_is_refused_dupl_and_does_not_take_the_id() -> None:
    stored = record_of(transfer(), TransactionStatus.PDNG)
    [decision] = decide([transfer(amount_vnd=2_000_000)], existing={stored.key: stored})
    assert decision.reject == StatusReason.DUPL
    assert decision.store is False
    assert decision.duplicate_of is None


def test_inside_one_batch_the_second_use_of_an_id_with_other_content_is_dupl_and_the_first_is_routed() -> None:
    first, second = decide([transfer(), transfer(amount_vnd=9_000)])
    assert first.route is not None and first.store is True
    assert second.reject == StatusReason.DUPL
    assert second.store is False


def test_inside_one_batch_the_same_transfer_twice_is_routed_once_and_stored_once() -> None:
    first, second = decide([transfer(), transfer()])
    assert first.route is not None and first.store is True
    assert second.route is None
    assert second.store is False
    assert second.reject is None


def test_the_same_transaction_id_from_two_debtor_agents_are_two_transfers() -> None:
    ours = transfer()
    stored_for_bidv = record_of(transfer(debtor_agent=BIDV, creditor_agent=VCB), TransactionStatus.ACSC)
    [decision] = decide([ours], existing={stored_for_bidv.key: stored_for_bidv})
    assert decision.route is not None
    assert decision.duplicate_of is None


@pytest.mark.parametrize(
    ("sender", "changes", "reason"),
    [
        ("970400", {"debtor_agent": "970400"}, StatusReason.RC04),
        (VIETINBANK, {"debtor_agent": VIETINBANK}, StatusReason.RR04),
        (VCB, {"creditor_agent": "970499"}, StatusReason.RC04),
        (VCB, {"creditor_agent": VIETINBANK}, StatusReason.RR04),
    ],
    ids=["unknown debtor", "suspended debtor", "unknown creditor", "suspended creditor"],
)
def test_an_unknown_or_suspended_agent_refuses_the_transfer_and_the_refusal_takes_the_id(
    sender: str, changes: dict[str, Any], reason: StatusReason
) -> None:
    [decision] = decide([transfer(**changes)], sender=sender)
    assert decision.reject == reason
    assert decision.route is None
    assert decision.store is True


def test_the_transfer_limit_is_500_million_vnd_inclusive() -> None:
    assert TRANSFER_LIMIT_VND == 500_000_000
    at_limit, over = decide([transfer("TX1", 500_000_000), transfer("TX2", 500_000_001)])
    assert at_limit.reject is None and at_limit.route is not None
    assert over.reject == StatusReason.AM02
    assert over.store is True


def test_a_suspended_debtor_is_refused_rr04_before_its_amount_is_looked_at() -> None:
    [decision] = decide([transfer(amount_vnd=600_000_000, debtor_agent=VIETINBANK)], sender=VIETINBANK)
    assert decision.reject == StatusReason.RR04


def test_an_alias_the_directory_does_not_know_is_refused_be23() -> None:
    unknown = Alias(type=AliasType.MSISDN, value="0987654321")
    [decision] = decide([by_alias(unknown)])
    assert decision.reject == StatusReason.BE23
    assert decision.route is None


def test_an_alias_resolving_to_a_suspended_participant_is_refused_rr04() -> None:
    [decision] = decide([by_alias(CITIZEN)])
    assert decision.reject == StatusReason.RR04


def test_an_alias_routes_to_its_registered_account_with_the_holders_citizen_id() -> None:
    [decision] = decide([by_alias(MSISDN)])
    assert decision.reject is None
    assert decision.route == Route(VIETTEL, "0912345678", "001090012345")


def test_the_forwarded_transfer_carries_the_resolved_address_and_keeps_the_alias() -> None:
    t = by_alias(MSISDN, creditor=Party(name="Nguyễn Văn An"))
    [decision] = decide([t])
    assert decision.route is not None
    sent = forwarded(t, decision.route)
    assert sent.creditor_agent == VIETTEL
    assert sent.creditor_account == "0912345678"
    assert sent.creditor.citizen_id == "001090012345"
    assert sent.creditor.name == "Nguyễn Văn An"
    assert sent.creditor_alias == MSISDN
    assert sent.amount_vnd == t.amount_vnd
    assert sent.transaction_id == t.transaction_id
    assert t.creditor_agent is None  # the original is not changed


def test_the_forwarded_transfer_keeps_a_citizen_id_the_debtor_gave_for_the_creditor_to_check() -> None:
    t = by_alias(MSISDN, creditor=Party(name="Lê Văn Cường", citizen_id="079185001234"))
    [decision] = decide([t])
    assert decision.route is not None
    assert forwarded(t, decision.route).creditor.citizen_id == "079185001234"


def test_a_transfer_to_an_account_is_forwarded_unchanged() -> None:
    t = transfer()
    [decision] = decide([t])
    assert decision.route is not None
    assert forwarded(t, decision.route) == t


def test_each_transfer_of_a_batch_gets_its_own_decision_in_order() -> None:
    decisions = decide(
        [
            transfer("TX1"),
            transfer("TX2", creditor_agent="970499"),
            transfer("TX3", 700_000_000),
            by_alias(MSISDN, "TX4"),
        ]
    )
    assert [d.key for d in decisions] == ["970436:TX1", "970436:TX2", "970436:TX3", "970436:TX4"]
    assert [d.reject for d in decisions] == [None, StatusReason.RC04, StatusReason.AM02, None]


def test_the_digest_depends_on_the_content_only() -> None:
    assert digest_of(transfer()) == digest_of(transfer())
    assert digest_of(transfer()) != digest_of(transfer(amount_vnd=1_500_001))
    assert digest_of(transfer()) != digest_of(transfer(remittance_information="Trả nợ"))
    plus84 = by_alias(Alias(type=AliasType.MSISDN, value="+84 912 345 678"))
    assert digest_of(plus84) == digest_of(by_alias(MSISDN))


# --- answers -------------------------------------------------------------------------------------

S, R = TransactionStatus, StatusReason


@pytest.mark.parametrize(
    ("status", "reason", "answer", "action"),
    [
        (S.PDNG, None, S.ACSP, "settle"),
        (S.PDNG, None, S.ACSC, "settle"),
        (S.PDNG, None, S.ACTC, "ignore"),  # technically accepted is not yet accepted: wait for ACSP
        (S.PDNG, None, S.RJCT, "reject"),
        (S.PDNG, None, S.PDNG, "ignore"),
        (S.RJCT, R.AB05, S.ACSP, "refuse_late"),
        (S.RJCT, R.AB05, S.ACSC, "refuse_late"),
        (S.RJCT, R.AB08, S.ACSP, "refuse_late"),
        (S.RJCT, R.AB05, S.RJCT, "ignore"),
        (S.RJCT, R.AB08, S.PDNG, "ignore"),
        (S.RJCT, R.AM04, S.ACSP, "ignore"),
        (S.RJCT, R.AC04, S.ACSP, "ignore"),
        (S.RJCT, R.RC04, S.ACSP, "ignore"),
        (S.ACSC, None, S.ACSP, "ignore"),
        (S.ACSC, None, S.RJCT, "ignore"),
    ],
)
def test_what_a_creditors_answer_does_to_a_record(
    status: TransactionStatus, reason: StatusReason | None, answer: TransactionStatus, action: str
) -> None:
    assert decide_answer(record_of(transfer(), status, reason), answer) == action
