"""The idempotency digest: the same transfer content gives the same digest, and a difference in any
one field, nested ones included, gives a different one. The switch tells a retry (same id, same
digest: answered with what is known) from a reuse of the id (same id, other digest: DUPL) by it."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from switch.clearing.core import digest_of
from switch.scheme.codes import AliasType, Purpose
from switch.scheme.messages import Alias, CreditTransfer, Party

# Each field's candidates: the base transfer takes one, a changed transfer another.
FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "message_id": st.sampled_from(["MSG-20261202-000001", "MSG-20261202-000002", "M"]),
    "end_to_end_id": st.sampled_from(["E2E-20261202-000001", "E2E-20261202-000002", "HOC-PHI-K62"]),
    "transaction_id": st.sampled_from(["TX-20261202-000001", "TX-20261202-000002", "970436-0001"]),
    "amount_vnd": st.integers(min_value=1, max_value=10**12),
    "debtor_name": st.sampled_from(["Nguyễn Văn Đức", "Trần Thị Mai", "NGUYEN VAN DUC", None]),
    "debtor_citizen_id": st.sampled_from(["001085012345", "079190012345", None]),
    "debtor_account": st.sampled_from(["0011001234567", "0011007654321", "101867001234"]),
    "debtor_agent": st.sampled_from(["970436", "970418", "970415"]),
    "creditor_name": st.sampled_from(["Lê Thị Hồng", "Phạm Minh Tuấn", None]),
    "creditor_citizen_id": st.sampled_from(["001090012345", "036088001234", None]),
    "creditor_account": st.sampled_from(["0011007654321", "101867001234", "0912345678"]),
    "creditor_alias": st.sampled_from(
        [
            None,
            (AliasType.MSISDN, "0912345678"),
            (AliasType.MSISDN, "0987654321"),
            (AliasType.CITIZEN_ID, "001090012345"),
            (AliasType.CITIZEN_ID, "036088001234"),
        ]
    ),
    "creditor_agent": st.sampled_from(["970418", "970405", "971005"]),
    "purpose": st.sampled_from(list(Purpose)),
    "remittance_information": st.sampled_from([None, "Trả nợ", "Chuyển tiền học phí tháng 12"]),
}


def build(values: dict[str, Any]) -> CreditTransfer:
    """A validated transfer, built afresh from plain values: no object is shared between two builds."""
    alias = values["creditor_alias"]
    return CreditTransfer(
        message_id=values["message_id"],
        end_to_end_id=values["end_to_end_id"],
        transaction_id=values["transaction_id"],
        amount_vnd=values["amount_vnd"],
        debtor=Party(name=values["debtor_name"], citizen_id=values["debtor_citizen_id"]),
        debtor_account=values["debtor_account"],
        debtor_agent=values["debtor_agent"],
        creditor=Party(name=values["creditor_name"], citizen_id=values["creditor_citizen_id"]),
        creditor_account=values["creditor_account"],
        creditor_alias=None if alias is None else Alias(type=alias[0], value=alias[1]),
        creditor_agent=values["creditor_agent"],
        purpose=values["purpose"],
        remittance_information=values["remittance_information"],
    )


transfer_values = st.fixed_dictionaries(FIELD_VALUES)


@given(transfer_values)
def test_two_transfers_with_the_same_content_have_the_same_digest(values: dict[str, Any]) -> None:
    assert digest_of(build(values)) == digest_of(build(dict(values)))


@given(transfer_values, st.sampled_from(sorted(FIELD_VALUES)), st.data())
def test_two_transfers_that_differ_in_any_one_field_have_different_digests(
    values: dict[str, Any], field: str, data: st.DataObject
) -> None:
    other = data.draw(FIELD_VALUES[field].filter(lambda value: value != values[field]), label=field)
    changed = {**values, field: other}
    assert digest_of(build(values)) != digest_of(build(changed))


def test_the_digest_fits_the_stored_column_and_never_equals_the_closed_id_marker() -> None:
    from switch.clearing.service import UNSEEN_DIGEST

    values = {name: None for name in FIELD_VALUES} | {
        "message_id": "MSG-1", "end_to_end_id": "E2E-1", "transaction_id": "TX-1", "amount_vnd": 50_000,
        "debtor_account": "0011001234567", "debtor_agent": "970436", "creditor_account": "0011007654321",
        "creditor_agent": "970418", "purpose": Purpose.OTHR,
    }  # fmt: skip
    digest = digest_of(build(values))
    assert len(digest) <= 64  # clearing_record.digest is String(64)
    assert digest != UNSEEN_DIGEST
