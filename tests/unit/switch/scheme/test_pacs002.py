"""pacs.002.001.12 on the wire (`switch.scheme.pacs002`): written, read, and refused.

What the module writes is checked a second time with `xmlschema` (pure Python, independent of the
lxml validation inside the module) against the shipped XSD, and what it reads includes documents
built by someone else's code: `pyiso20022`'s dataclasses serialized by `xsdata`. The sample
tests/data/iso20022/pacs.002.001.12-pyiso20022.xml is one of those.
"""

from __future__ import annotations

import copy
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import built_by_lxml
import pytest
import xmlschema
from hypothesis import given
from iso_wire_data import (
    BIDV,
    BILLION_LAUGHS,
    CREATED,
    EPOCH,
    EXTERNAL_ENTITY,
    ICT,
    SAMPLE_REPORTS,
    SAMPLE_STATUS_CREATED,
    SAMPLE_STATUS_MESSAGE,
    SAMPLES,
    VIETCOMBANK,
    VIETINBANK,
    XSD_DIR,
    changed,
    creation_times,
    element,
    pyiso_pacs002,
    rendered,
    status_report_messages,
    with_doctype,
)
from lxml import etree

from switch.scheme.codes import StatusReason, TransactionStatus
from switch.scheme.messages import TRANSACTIONS_PER_MESSAGE_MAX, StatusReport, StatusReportMessage
from switch.scheme.pacs002 import (
    MESSAGE_BYTES_MAX,
    PACS002,
    additional_information_pieces,
    parse_pacs002,
    write_pacs002,
)
from switch.scheme.validation import FieldProblem, MessageInvalid

XSD_PATH = XSD_DIR / "pacs.002.001.12.xsd"
XSD = xmlschema.XMLSchema(str(XSD_PATH))  # the independent validator
LXML_XSD = etree.XMLSchema(etree.parse(str(XSD_PATH)))  # only to check a hand-made fixture is schema-valid
SAMPLE = SAMPLES / "pacs.002.001.12-pyiso20022.xml"
NS = {"s": PACS002}
FF01, CH20 = StatusReason.FF01, StatusReason.CH20


def a_report(number: int, **overrides: Any) -> StatusReport:
    values: dict[str, Any] = {
        "original_message_id": "VCB-20261201-000042",
        "original_end_to_end_id": f"E2E-{number:04d}",
        "original_transaction_id": f"TX-{number:04d}",
        "debtor_agent": VIETCOMBANK,
        "transaction_status": TransactionStatus.ACSC,
        "creditor_agent": BIDV,
        "amount_vnd": 500_000 * number,
        "settled_at_ms": 1_764_555_330_000 + number,
    }
    return StatusReport(**{**values, **overrides})


GOOD_MESSAGE = StatusReportMessage(
    message_id="NAPAS-STS-20261201-0001",
    reports=(
        a_report(1),
        a_report(2, transaction_status=TransactionStatus.RJCT, status_reason=StatusReason.AM04, settled_at_ms=None),
        a_report(3, creditor_agent=VIETINBANK),
        a_report(4, transaction_status=TransactionStatus.ACSP, settled_at_ms=None, amount_vnd=None),
    ),
)
GOOD = write_pacs002(GOOD_MESSAGE, CREATED)


def with_report_changed(position: int, change: Callable[[Any], None]) -> bytes:
    return changed(GOOD, lambda root: change(root.findall("s:FIToFIPmtStsRpt/s:TxInfAndSts", NS)[position]))


def refused_whole(data: bytes) -> list[FieldProblem]:
    """The message's problems; it is refused whole, and nothing is left behind for the next one."""
    with pytest.raises(MessageInvalid) as raised:
        parse_pacs002(data)
    assert raised.value.problems, "a refusal names at least one problem"
    assert raised.value.reason == FF01
    assert parse_pacs002(GOOD).reports == GOOD_MESSAGE.reports
    return raised.value.problems


# --- round trip ------------------------------------------------------------------------------------


@given(message=status_report_messages(), created=creation_times)
def test_any_valid_message_written_then_read_gives_back_the_same_reports_and_no_refusals(
    message: StatusReportMessage, created: datetime
) -> None:
    read = parse_pacs002(write_pacs002(message, created))
    assert read.refused == ()
    assert read.reports == message.reports
    assert (read.message_id, read.created, read.count) == (message.message_id, created, len(message.reports))
    assert all(type(report.amount_vnd) is int for report in read.reports if report.amount_vnd is not None)


@given(message=status_report_messages(), created=creation_times)
def test_every_written_document_is_valid_for_an_independent_validator(
    message: StatusReportMessage, created: datetime
) -> None:
    XSD.validate(io.BytesIO(write_pacs002(message, created)))  # raises, naming the rule, if not


@given(message=status_report_messages(), created=creation_times)
def test_every_written_document_is_byte_for_byte_the_tree_built_element_by_element(
    message: StatusReportMessage, created: datetime
) -> None:
    assert write_pacs002(message, created) == built_by_lxml.serialised(built_by_lxml.pacs002_tree(message, created))


def test_the_written_document_carries_each_report_where_the_mapping_says() -> None:
    tx = element(GOOD).findall("s:FIToFIPmtStsRpt/s:TxInfAndSts", NS)
    assert [t.findtext("s:OrgnlGrpInf/s:OrgnlMsgNmId", namespaces=NS) for t in tx] == ["pacs.008.001.12"] * 4
    assert [t.findtext("s:TxSts", namespaces=NS) for t in tx] == ["ACSC", "RJCT", "ACSC", "ACSP"]
    assert tx[1].findtext("s:StsRsnInf/s:Rsn/s:Cd", namespaces=NS) == "AM04"
    assert tx[0].find("s:OrgnlTxRef/s:IntrBkSttlmAmt", NS).get("Ccy") == "VND"
    assert tx[0].findtext("s:OrgnlTxRef/s:IntrBkSttlmAmt", namespaces=NS) == "500000"
    assert tx[0].findtext("s:FctvIntrBkSttlmDt/s:DtTm", namespaces=NS) == "2025-12-01T02:15:30.001+00:00"
    assert tx[2].findtext("s:OrgnlTxRef/s:CdtrAgt/s:FinInstnId/s:ClrSysMmbId/s:MmbId", namespaces=NS) == VIETINBANK
    assert tx[3].find("s:OrgnlTxRef/s:IntrBkSttlmAmt", NS) is None


def test_additional_information_of_500_characters_goes_in_five_pieces_and_comes_back_whole() -> None:
    text = ("Tài khoản người nhận đã đóng; liên hệ Ngân hàng Nông nghiệp để biết thêm chi tiết. " * 7)[:500]
    report = a_report(1, transaction_status=TransactionStatus.RJCT, status_reason=StatusReason.AC04)
    report = report.model_copy(update={"additional_information": text})
    data = write_pacs002(StatusReportMessage(message_id="M-1", reports=(report,)), CREATED)
    pieces = [p.text for p in element(data).iterfind(".//s:StsRsnInf/s:AddtlInf", NS)]
    assert [len(p) for p in pieces] == [105, 105, 105, 105, 80]
    assert "".join(pieces) == text == "".join(additional_information_pieces(text))
    assert "Nông nghiệp".encode() in data  # UTF-8, not character references
    (read,) = parse_pacs002(data).reports
    assert read.additional_information == text


def test_a_settlement_time_comes_back_to_the_millisecond() -> None:
    moment = datetime(2026, 12, 1, 2, 15, 31, 999000, tzinfo=UTC)
    ms = (moment - EPOCH) // timedelta(milliseconds=1)
    data = write_pacs002(StatusReportMessage(message_id="M-1", reports=(a_report(1, settled_at_ms=ms),)), CREATED)
    assert b"<DtTm>2026-12-01T02:15:31.999+00:00</DtTm>" in data
    assert parse_pacs002(data).reports[0].settled_at_ms == ms


# --- documents built by pyiso20022 --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("indent", "ns_map"),
    [
        pytest.param(None, None, id="compact, prefix ns0"),
        pytest.param("  ", None, id="pretty-printed"),
        pytest.param(None, {None: PACS002}, id="compact, default namespace"),
    ],
)
def test_a_pacs002_built_by_pyiso20022_is_read_field_by_field(
    indent: str | None, ns_map: dict[str | None, str] | None
) -> None:
    read = parse_pacs002(rendered(pyiso_pacs002(SAMPLE_STATUS_MESSAGE, SAMPLE_STATUS_CREATED), indent, ns_map))
    assert read.refused == ()
    assert (read.message_id, read.created) == ("BIDV-STS-20261201-0007", SAMPLE_STATUS_CREATED)
    assert read.reports == SAMPLE_REPORTS
    settled, rejected, pending = read.reports
    assert (settled.transaction_status, settled.amount_vnd, settled.creditor_agent) == ("ACSC", 2_789_000, BIDV)
    assert settled.settled_at_ms == (datetime(2026, 12, 1, 2, 15, 31, 123000, tzinfo=UTC) - EPOCH) // timedelta(
        milliseconds=1
    )
    assert (rejected.status_reason, rejected.original_transaction_id) == (StatusReason.BE01, "VCB-TX-0004")
    assert rejected.additional_information is not None and "Nguyễn Văn Đức" in rejected.additional_information
    assert (pending.transaction_status, pending.amount_vnd, pending.status_reason) == ("ACSP", None, None)


def test_an_amount_with_zero_decimals_and_a_time_without_offset_from_pyiso20022_are_read() -> None:
    document = pyiso_pacs002(SAMPLE_STATUS_MESSAGE, SAMPLE_STATUS_CREATED)
    document.fito_fipmt_sts_rpt.tx_inf_and_sts[0].orgnl_tx_ref.intr_bk_sttlm_amt.value = Decimal("2789000.00")
    data = rendered(document).replace(b"2026-12-01T02:15:31.123Z", b"2026-12-01T02:15:31.123")
    assert b">2789000.00<" in data
    (first, *_) = parse_pacs002(data).reports
    assert first.amount_vnd == 2_789_000 and type(first.amount_vnd) is int
    assert first.settled_at_ms == SAMPLE_REPORTS[0].settled_at_ms  # no offset: UTC


def test_the_saved_pyiso20022_sample_validates_and_reads_as_the_one_pyiso20022_builds_now() -> None:
    saved = SAMPLE.read_bytes()
    XSD.validate(io.BytesIO(saved))
    from_file = parse_pacs002(saved)
    assert (from_file.reports, from_file.refused, from_file.created) == (SAMPLE_REPORTS, (), SAMPLE_STATUS_CREATED)
    regenerated = parse_pacs002(rendered(pyiso_pacs002(SAMPLE_STATUS_MESSAGE, SAMPLE_STATUS_CREATED), "  "))
    assert regenerated.reports == from_file.reports


# --- bad messages, refused whole ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"<Document", id="an unclosed tag"),
        pytest.param(GOOD[: len(GOOD) // 2], id="cut off halfway"),
        pytest.param(GOOD.replace(b"</TxSts>", b"</TxStatus>", 1), id="mismatched end tag"),
    ],
)
def test_a_message_that_is_not_well_formed_xml_is_refused_whole(data: bytes) -> None:
    (problem,) = refused_whole(data)
    assert (problem.field, problem.rule.startswith("not well-formed XML")) == ("(message)", True)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(with_doctype(BILLION_LAUGHS, GOOD, b"TX-0001", b"&lol9;"), id="billion laughs"),
        pytest.param(with_doctype(EXTERNAL_ENTITY, GOOD, b"TX-0001", b"&secret;"), id="external entity"),
    ],
)
def test_a_message_with_a_doctype_is_refused_whole_at_once_and_nothing_is_expanded(data: bytes) -> None:
    (problem,) = refused_whole(data)
    assert problem.field == "(message)"
    assert "DOCTYPE is not allowed" in problem.rule and "lollol" not in problem.rule


@pytest.mark.parametrize(
    "namespace",
    [b"urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10", b"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.12"],
)
def test_a_document_of_another_version_or_message_is_refused_naming_document(namespace: bytes) -> None:
    (problem,) = refused_whole(GOOD.replace(PACS002.encode(), namespace))
    assert problem.field == "Document" and PACS002 in problem.rule


def test_a_message_over_the_byte_limit_is_refused_whole_and_one_at_the_limit_is_read() -> None:
    at_limit = GOOD + b" " * (MESSAGE_BYTES_MAX - len(GOOD))
    assert parse_pacs002(at_limit).reports == GOOD_MESSAGE.reports
    (problem,) = refused_whole(at_limit + b" ")
    assert problem.field == "(message)" and f"over the limit of {MESSAGE_BYTES_MAX}" in problem.rule


def test_a_message_id_over_35_characters_refuses_the_whole_message_naming_grphdr_msgid() -> None:
    (problem,) = refused_whole(GOOD.replace(b"NAPAS-STS-20261201-0001", b"M" * 36))
    assert problem.field == "GrpHdr/MsgId" and "maxLength" in problem.rule


def _group_status(root: Any) -> None:
    """A group status for the original message, with counts per status that do not add up."""
    body = root.find("s:FIToFIPmtStsRpt", NS)
    group = etree.Element(f"{{{PACS002}}}OrgnlGrpInfAndSts")
    for tag, text in (("OrgnlMsgId", "VCB-20261201-000042"), ("OrgnlMsgNmId", "pacs.008.001.12"), ("GrpSts", "RJCT")):
        etree.SubElement(group, f"{{{PACS002}}}{tag}").text = text
    counts = etree.SubElement(group, f"{{{PACS002}}}NbOfTxsPerSts")
    etree.SubElement(counts, f"{{{PACS002}}}DtldNbOfTxs").text = "7"
    etree.SubElement(counts, f"{{{PACS002}}}DtldSts").text = "RJCT"
    body.insert(1, group)


def test_a_group_status_is_refused_whole_rather_than_read_as_the_status_of_each_transaction() -> None:
    data = changed(GOOD, _group_status)
    assert LXML_XSD.validate(element(data)), "ISO allows it: the scheme's rule refuses it"
    (problem,) = refused_whole(data)
    assert problem.field == "OrgnlGrpInfAndSts" and "each transaction" in problem.rule


def _reports(count: int) -> bytes:
    def repeat(root: Any) -> None:
        body = root.find("s:FIToFIPmtStsRpt", NS)
        first, *others = body.findall("s:TxInfAndSts", NS)
        for tx in [first, *others]:
            body.remove(tx)
        body.extend(copy.deepcopy(first) for _ in range(count))

    return changed(GOOD, repeat)


def test_no_report_at_all_or_more_than_the_limit_refuses_the_whole_message_and_the_limit_is_read() -> None:
    (none,) = refused_whole(_reports(0))
    assert none.field == "TxInfAndSts" and "at least one" in none.rule
    (over,) = refused_whole(_reports(TRANSACTIONS_PER_MESSAGE_MAX + 1))
    assert over.rule == f"{TRANSACTIONS_PER_MESSAGE_MAX + 1} reports is over the limit of 1000"
    assert len(parse_pacs002(_reports(TRANSACTIONS_PER_MESSAGE_MAX)).reports) == TRANSACTIONS_PER_MESSAGE_MAX


# --- one bad report among good ones --------------------------------------------------------------------


def _set(path: str, value: str) -> Callable[[Any], None]:
    def change(tx: Any) -> None:
        tx.find(path, NS).text = value

    return change


def _dollars(tx: Any) -> None:
    tx.find("s:OrgnlTxRef/s:IntrBkSttlmAmt", NS).set("Ccy", "USD")


def _no_original_group(tx: Any) -> None:
    tx.remove(tx.find("s:OrgnlGrpInf", NS))


def _two_reasons(tx: Any) -> None:
    reason = etree.Element(f"{{{PACS002}}}StsRsnInf")
    etree.SubElement(etree.SubElement(reason, f"{{{PACS002}}}Rsn"), f"{{{PACS002}}}Cd").text = "AC01"
    tx.find("s:TxSts", NS).addnext(reason)
    reason.addnext(copy.deepcopy(reason))


def _proprietary_reason(tx: Any) -> None:
    reason = etree.Element(f"{{{PACS002}}}StsRsnInf")
    etree.SubElement(etree.SubElement(reason, f"{{{PACS002}}}Rsn"), f"{{{PACS002}}}Prtry").text = "NOT-ON-FILE"
    tx.find("s:TxSts", NS).addnext(reason)


def _date_only(tx: Any) -> None:
    settled = tx.find("s:FctvIntrBkSttlmDt", NS)
    settled.remove(settled.find("s:DtTm", NS))
    etree.SubElement(settled, f"{{{PACS002}}}Dt").text = "2026-12-01"


BAD_REPORTS = [
    pytest.param(_set("s:TxSts", "ACCEPTED"), "TxSts", FF01, "maxLength", id="TxSts too long"),
    pytest.param(_set("s:TxSts", "ACCC"), "TxSts", FF01, "ACSC", id="TxSts not the scheme's"),
    pytest.param(_set("s:OrgnlTxRef/s:IntrBkSttlmAmt", "2500.5"), "OrgnlTxRef/IntrBkSttlmAmt", CH20, "decimals"),
    pytest.param(_dollars, "OrgnlTxRef/IntrBkSttlmAmt/@Ccy", FF01, "'VND'", id="USD"),
    pytest.param(
        _set("s:OrgnlTxRef/s:DbtrAgt/s:FinInstnId/s:ClrSysMmbId/s:MmbId", "97043"),
        "OrgnlTxRef/DbtrAgt/FinInstnId/ClrSysMmbId/MmbId",
        FF01,
        "6-digit",
        id="5-digit BIN",
    ),
    pytest.param(_no_original_group, "OrgnlGrpInf/OrgnlMsgId", FF01, "required", id="no OrgnlGrpInf"),
    pytest.param(
        _set("s:OrgnlGrpInf/s:OrgnlMsgNmId", "pacs.008.001.08"),
        "OrgnlGrpInf/OrgnlMsgNmId",
        FF01,
        "pacs.008.001.12",
        id="a report on another message",
    ),
    pytest.param(_two_reasons, "StsRsnInf", FF01, "at most one", id="two StsRsnInf"),
    pytest.param(_proprietary_reason, "StsRsnInf/Rsn/Prtry", FF01, "Rsn/Cd", id="Rsn/Prtry"),
    pytest.param(_date_only, "FctvIntrBkSttlmDt/Dt", FF01, "DtTm", id="a date without a time"),
]


@pytest.mark.parametrize("position", [0, 2])
@pytest.mark.parametrize(("change", "element_path", "reason", "rule_says"), BAD_REPORTS)
def test_one_bad_report_is_refused_on_its_own_naming_where_and_why_and_the_others_are_read(
    position: int, change: Callable[[Any], None], element_path: str, reason: StatusReason, rule_says: str
) -> None:
    data = with_report_changed(position, change)
    read = parse_pacs002(data)
    expected = list(GOOD_MESSAGE.reports)
    original = expected.pop(position)
    assert read.reports == tuple(expected)
    (refused,) = read.refused
    assert refused.index == position
    assert [p.field for p in refused.problems] == [f"TxInfAndSts[{position + 1}]/{element_path}"]
    assert rule_says in refused.problems[0].rule
    assert refused.reason == reason
    assert (refused.end_to_end_id, refused.transaction_id) == (
        original.original_end_to_end_id,
        original.original_transaction_id,
    )
    assert read.count == len(GOOD_MESSAGE.reports)


def test_every_report_that_breaks_the_schema_is_refused_not_only_the_first() -> None:
    def two_bad(root: Any) -> None:
        reports = root.findall("s:FIToFIPmtStsRpt/s:TxInfAndSts", NS)
        _set("s:TxSts", "ACCEPTED")(reports[1])
        _set("s:TxSts", "ACCEPTED")(reports[3])

    read = parse_pacs002(changed(GOOD, two_bad))
    assert [r.problems[0].field for r in read.refused] == ["TxInfAndSts[2]/TxSts", "TxInfAndSts[4]/TxSts"]
    assert read.reports == (GOOD_MESSAGE.reports[0], GOOD_MESSAGE.reports[2])


def test_a_schema_fault_is_told_with_element_names_and_the_codes_it_allows() -> None:
    (refused,) = parse_pacs002(with_report_changed(1, _set("s:TxSts", "ACCEPTED"))).refused
    assert "{urn:" not in refused.problems[0].rule and "'TxSts'" in refused.problems[0].rule


def test_a_report_naming_the_switch_as_creditor_agent_reads_as_agent_unknown() -> None:
    data = with_report_changed(0, _set("s:OrgnlTxRef/s:CdtrAgt/s:FinInstnId/s:ClrSysMmbId/s:MmbId", "NAPAS"))
    assert parse_pacs002(data).reports[0].creditor_agent is None


def test_a_creation_time_python_cannot_read_refuses_the_message_naming_grphdr_credttm() -> None:
    data = GOOD.replace(b"2026-12-01T08:30:00.000+07:00", b"2026-12-01T24:00:00+07:00")
    assert LXML_XSD.validate(element(data))
    try:
        read = parse_pacs002(data)
    except MessageInvalid as refused:
        assert [p.field for p in refused.problems] == ["GrpHdr/CreDtTm"]
    else:  # reading it as the next day's midnight would do as well
        assert read.created == datetime(2026, 12, 2, tzinfo=ICT)
