"""The payment order (issue 15 item 3): an approved request written as pain.001 documents addressed to
the Treasury's serving bank. Each document is valid against ISO's schema, read back whole by the
project's own parser and by pyiso20022's dataclasses (xsdata, nothing of ours) with the serving bank
as DbtrAgt and the approved total as the control sum; the same request gives the same bytes; a list
over a part's size is split with every line in exactly one part; refused before approval, for a part
the order does not have, and for a request id too long to name its messages."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from payment_request_data import (
    AMPLE_BUDGETS_VND,
    MOLISA_OFFICER,
    NOW_MS,
    TREASURY_APPROVER,
    line,
    lines,
    payment_list,
)
from pydantic import ValidationError
from pyiso20022.pain.pain_001_001_09 import pain_001_001_09 as iso
from xsdata.formats.dataclass.parsers import XmlParser

from payer.requests import core, orders
from payer.requests.errors import InputInvalid, NotApproved, NotFound
from payer.requests.schemas import PaymentListLine, PaymentRequest, ServingBank
from switch.scheme.codes import Program
from switch.scheme.disbursement import ITEMS_PER_FILE_MAX
from switch.scheme.pain import pain001_schema, parse_pain001

REQUEST_ID = "MOLISA-2026-05-HN-0001"
APPROVED_MS = NOW_MS + 3_600_000
VIETINBANK = ServingBank(bin="970415", name="VietinBank", treasury_account="9704159000001")
AGRIBANK = ServingBank(bin="970405", name="Agribank", treasury_account="9704059000001")


def filed(list_lines: list[PaymentListLine], request_id: str = REQUEST_ID) -> PaymentRequest:
    return core.file(payment_list(list_lines), request_id, MOLISA_OFFICER, NOW_MS)


def approved(list_lines: list[PaymentListLine], request_id: str = REQUEST_ID) -> PaymentRequest:
    request = filed(list_lines, request_id)
    review = core.review(request, list_lines, AMPLE_BUDGETS_VND, TREASURY_APPROVER)
    return core.approve(request, review, APPROVED_MS)


def seven_lines() -> list[PaymentListLine]:
    programs = (Program.ELDERLY, Program.MERIT_PERSON, Program.SOCIAL_ASSISTANCE, Program.DISABILITY)
    return [line(number, programs[number % 4]) for number in range(7)]


def by_pyiso20022(document: bytes) -> Any:
    return XmlParser().from_bytes(document, iso.Document)


def test_the_order_is_a_valid_pain001_to_the_serving_bank_read_whole_by_our_parser_and_by_pyiso20022() -> None:
    list_lines = seven_lines()
    request = approved(list_lines)
    document = orders.payment_order_part(request, list_lines, VIETINBANK, 1).pain001()

    assert pain001_schema().validate(etree.fromstring(document))
    ours = parse_pain001(document)
    assert (ours.message_id, ours.debtor_agent, ours.errors) == (f"{REQUEST_ID}-V1-P1", "970415", ())
    read = sorted((i.citizen_id, i.program, i.name, i.amount_vnd, i.cycle) for i in ours.items)
    assert read == sorted((x.citizen_id, x.program, x.name, x.amount_vnd, "2026-05") for x in list_lines)
    assert len({item.end_to_end_id for item in ours.items}) == 7

    theirs = by_pyiso20022(document).cstmr_cdt_trf_initn
    total_vnd = request.current.totals.grand.amount_vnd
    assert (theirs.grp_hdr.msg_id, theirs.grp_hdr.nb_of_txs, theirs.grp_hdr.ctrl_sum) == (
        f"{REQUEST_ID}-V1-P1",
        "7",
        Decimal(total_vnd),
    )
    assert theirs.grp_hdr.initg_pty.nm == "Kho bạc Nhà nước"
    assert str(theirs.grp_hdr.cre_dt_tm) == "2026-05-01T09:46:40+07:00"  # the approval's time in Hà Nội
    assert {p.dbtr_agt.fin_instn_id.clr_sys_mmb_id.mmb_id for p in theirs.pmt_inf} == {"970415"}
    assert {p.dbtr_acct.id.othr.id for p in theirs.pmt_inf} == {"9704159000001"}
    transactions = [t for p in theirs.pmt_inf for t in p.cdt_trf_tx_inf]
    assert sorted(
        (t.cdtr.id.prvt_id.othr[0].id, t.amt.instd_amt.value, t.pmt_id.end_to_end_id) for t in transactions
    ) == sorted((i.citizen_id, Decimal(i.amount_vnd), i.end_to_end_id) for i in ours.items)


def test_the_same_request_gives_the_same_bytes_whatever_the_order_of_its_lines() -> None:
    list_lines = seven_lines()
    request = approved(list_lines)
    first = orders.payment_order_part(request, list_lines, VIETINBANK, 1).pain001()
    assert orders.payment_order_part(request, list(reversed(list_lines)), VIETINBANK, 1).pain001() == first


def test_another_serving_bank_is_the_debtor_agent_of_the_same_order() -> None:
    list_lines = seven_lines()
    document = orders.payment_order_part(approved(list_lines), list_lines, AGRIBANK, 1).pain001()
    assert parse_pain001(document).debtor_agent == "970405"


def test_end_to_end_ids_are_thirty_characters_and_differ_between_versions_and_requests() -> None:
    one = line(3, Program.ELDERLY)
    ids = {
        orders.end_to_end_id(request_id, "2026-05", version, one, 1)
        for request_id in (REQUEST_ID, "MOLISA-2026-05-HN-0002")
        for version in (1, 2)
    }
    assert len(ids) == 4 and {len(i) for i in ids} == {30}
    assert orders.end_to_end_id(REQUEST_ID, "2026-05", 2, one, 1_999_999).startswith("202605-EL-")


def test_a_list_over_a_parts_size_is_split_and_each_part_is_a_valid_document_of_its_own() -> None:
    list_lines = seven_lines()
    request = approved(list_lines)
    parts = [orders.payment_order_part(request, list_lines, VIETINBANK, n, items_per_part=3) for n in (1, 2, 3)]
    assert [(p.message_id, p.parts_total, len(p.items)) for p in parts] == [
        (f"{REQUEST_ID}-V1-P1", 3, 3), (f"{REQUEST_ID}-V1-P2", 3, 3), (f"{REQUEST_ID}-V1-P3", 3, 1),
    ]  # fmt: skip
    for part in parts:
        assert pain001_schema().validate(etree.fromstring(part.pain001()))
        read = by_pyiso20022(part.pain001()).cstmr_cdt_trf_initn.grp_hdr
        assert read.ctrl_sum == Decimal(sum(item.amount_vnd for item in part.items))


@settings(max_examples=60, deadline=None)
@given(list_lines=lines(max_size=25), items_per_part=st.integers(1, 30))
def test_every_line_is_in_exactly_one_part_whatever_the_list_and_part_sizes(
    list_lines: list[PaymentListLine], items_per_part: int
) -> None:
    request = approved(list_lines)
    total = orders.parts_total(len(list_lines), items_per_part)
    parts = [orders.payment_order_part(request, list_lines, VIETINBANK, n, items_per_part) for n in range(1, total + 1)]
    items = [item for part in parts for item in part.items]
    assert [(i.citizen_id, i.program) for i in items] == sorted((x.citizen_id, x.program) for x in list_lines)
    assert len({item.end_to_end_id for item in items}) == len(list_lines)
    assert all(1 <= len(part.items) <= items_per_part for part in parts)
    assert sum(item.amount_vnd for item in items) == request.current.totals.grand.amount_vnd


def test_nothing_is_ordered_before_approval() -> None:
    list_lines = seven_lines()
    with pytest.raises(NotApproved) as refused:
        orders.payment_order_part(filed(list_lines), list_lines, VIETINBANK, 1)
    assert refused.value.field == "state" and "before approval" in refused.value.rule


@pytest.mark.parametrize("part", [0, 2, 3])
def test_a_part_the_order_does_not_have_is_not_found(part: int) -> None:
    list_lines = seven_lines()
    with pytest.raises(NotFound) as refused:
        orders.payment_order_part(approved(list_lines), list_lines, VIETINBANK, part)
    assert refused.value.field == "part" and "parts 1 to 1" in refused.value.rule


def test_an_order_cut_into_so_many_parts_that_its_message_ids_would_pass_35_is_refused_naming_request_id() -> None:
    """Filing keeps request ids to 27 characters, room for the scheme's part size; a node given a far
    smaller part size (1 item a part: 1,000 parts) could still overflow, and is refused, not truncated."""
    list_lines = [line(number, Program.ELDERLY) for number in range(1_000)]
    longest = "MOLISA-2026-05-HN-0001-TAYH"  # 27 characters: the longest request id filing takes
    with pytest.raises(InputInvalid) as refused:
        orders.payment_order_part(approved(list_lines, longest), list_lines, VIETINBANK, 1, items_per_part=1)
    assert refused.value.field == "request_id" and "at most 26" in refused.value.rule


def test_a_part_size_the_scheme_does_not_take_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="items_per_part"):
        orders.parts_total(10, ITEMS_PER_FILE_MAX + 1)


@pytest.mark.parametrize(
    "bank",
    [
        {"bin": "97041", "name": "VietinBank", "treasury_account": "9704159000001"},
        {"bin": "970415", "name": "VietinBank", "treasury_account": "970415-9000001"},
        {"bin": "970415", "name": "", "treasury_account": "9704159000001"},
    ],
)
def test_a_serving_bank_needs_a_six_digit_bin_a_name_and_an_account_of_digits(bank: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        ServingBank.model_validate(bank)
