"""The external ISO bank of the e2e tests (`iso_bank`) is itself correct: what it builds with
pyiso20022 is valid by ISO's schemas (checked by xmlschema, part by part), it reads back what it
writes, and its books and inbound API behave as a bank's should. Without this, a failure of the
e2e test could be the bank's fault rather than the switch's."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import xmlschema
from iso_bank import (
    ICT,
    PACS002,
    PACS008,
    PACS028,
    SIGNATURE_HEADER,
    SWITCH,
    EnvelopeUnreadable,
    IsoBank,
    Payment,
    Status,
    credit_transfer_message,
    member_of,
    opened,
    pacs002,
    pacs008,
    pacs028,
    read_status_report,
    received_transactions,
    serving,
    signature,
    status_report_message,
    status_request_message,
)
from lxml import etree

XSD_FOLDER = Path(__file__).resolve().parents[2] / "switch" / "scheme" / "xsd"
HEAD = "head.001.001.02"
BAN_VIET, BIDV, VIETCOMBANK = "970454", "970418", "970436"
CREATED = datetime(2026, 12, 1, 9, 15, 30, 125000, tzinfo=ICT)
PAYMENTS = (
    Payment(
        "E2E-BV-0001", "BV-TX-0001", 2_789_000, "Nguyễn Văn Đức", "0454000000001", BAN_VIET,
        "9704180000001", BIDV, "Trần Thị Hồng", "Chuyển tiền học phí – tháng 12",
    ),
    Payment("E2E-BV-0002", "BV-TX-0002", 500_000, "Lê Hoàng Yến", "0454000000002", BAN_VIET, "9704180000002", BIDV),
)  # fmt: skip
REPORT = (
    Status("BV-TX-0001", "ACSC", None, "BV-M-1", "E2E-BV-0001", BAN_VIET, BIDV, 2_789_000),
    Status("BV-TX-0002", "RJCT", "AC01", "BV-M-1", "E2E-BV-0002", BAN_VIET, BIDV, 500_000, ("CdtrAcct/Id/Othr/Id",)),
)
DOCUMENTS: dict[str, type] = {PACS008: pacs008.Document, PACS002: pacs002.Document, PACS028: pacs028.Document}
BUILT: dict[str, Callable[[], bytes]] = {
    PACS008: lambda: credit_transfer_message(BAN_VIET, "BV-M-1", CREATED, PAYMENTS),
    PACS002: lambda: status_report_message(BAN_VIET, SWITCH, "BV-S-1", CREATED, REPORT),
    PACS028: lambda: status_request_message(BAN_VIET, "BV-Q-1", CREATED, "BV-M-1", "BV-TX-0001"),
}


def _schema(name: str) -> xmlschema.XMLSchema:
    path = XSD_FOLDER / f"{name}.xsd"
    if not path.exists():
        pytest.skip(f"{name}.xsd is not shipped in switch/scheme/xsd yet")
    return xmlschema.XMLSchema(str(path))


@pytest.mark.parametrize("definition", [PACS008, PACS002, PACS028])
def test_the_document_the_bank_builds_is_valid_by_isos_schema(definition: str) -> None:
    root = etree.fromstring(BUILT[definition]())
    _schema(definition).validate(io.BytesIO(etree.tostring(root[1])))


@pytest.mark.parametrize("definition", [PACS008, PACS002, PACS028])
def test_the_header_the_bank_builds_is_a_valid_head_001_naming_the_message(definition: str) -> None:
    root = etree.fromstring(BUILT[definition]())
    assert (root.tag, [child.tag.split("}")[1] for child in root]) == ("Envelope", ["AppHdr", "Document"])
    header, _ = opened(BUILT[definition](), DOCUMENTS[definition])
    assert (member_of(header.fr), member_of(header.to), header.msg_def_idr) == (BAN_VIET, SWITCH, definition)
    _schema(HEAD).validate(io.BytesIO(etree.tostring(root[0])))


def test_a_schema_the_bank_validates_against_can_fail() -> None:
    """The validation above is not a formality: a pacs.008 without its settlement method fails."""
    root = etree.fromstring(BUILT[PACS008]())
    settlement = root[1].find(".//{*}SttlmInf")
    settlement.getparent().remove(settlement)
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        _schema(PACS008).validate(io.BytesIO(etree.tostring(root[1])))


def test_the_bank_reads_back_the_transfers_it_writes_with_their_diacritics() -> None:
    header, document = opened(BUILT[PACS008](), pacs008.Document)
    assert header.biz_msg_idr == "BV-M-1"
    read = received_transactions(document)
    assert [r.message_id for r in read] == ["BV-M-1", "BV-M-1"]
    first = read[0].payment
    assert (first.debtor_name, first.creditor_name, first.amount_vnd) == ("Nguyễn Văn Đức", "Trần Thị Hồng", 2_789_000)
    assert type(first.amount_vnd) is int
    assert [r.payment.transaction_id for r in read] == ["BV-TX-0001", "BV-TX-0002"]


def test_the_bank_reads_back_the_status_reports_it_writes() -> None:
    _, statuses = read_status_report(BUILT[PACS002]())
    assert statuses == list(REPORT)


def test_a_fractional_amount_is_written_as_the_bank_was_told_to() -> None:
    bad = Payment("E2E-BV-9", "BV-TX-9", Decimal("1000.5"), "Lê Hoàng Yến", "0454000000002", BAN_VIET, "1", BIDV)
    assert b'<IntrBkSttlmAmt Ccy="VND">1000.5</IntrBkSttlmAmt>' in credit_transfer_message(
        BAN_VIET, "BV-M-9", CREATED, [bad]
    )


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"<Envelope><AppHdr/>", id="not XML"),
        pytest.param(b'<!DOCTYPE Envelope [<!ENTITY a "a">]><Envelope><a/><b/></Envelope>', id="DOCTYPE"),
        pytest.param(b"<Document/>", id="no envelope"),
    ],
)
def test_the_bank_refuses_what_is_not_an_envelope(data: bytes) -> None:
    with pytest.raises(EnvelopeUnreadable):
        opened(data, pacs008.Document)


# --- the bank's inbound API and books ---------------------------------------------------------------------

SECRET = "s3cr3t-of-ban-viet"


@pytest.fixture
def served() -> Iterator[tuple[IsoBank, str]]:
    """The bank's inbound API over real HTTP, as the switch reaches it."""
    bank = IsoBank(BAN_VIET, {"0454000000001": ("Phạm Minh Tuấn", 1_000_000)}, settlement_vnd=50_000_000)
    bank.secret = SECRET
    with serving(bank) as url:
        yield bank, url


def _forwarded(*payments: Payment) -> bytes:
    """A pacs.008 as the switch would forward it: from NAPAS to the bank."""
    return credit_transfer_message(SWITCH, "NAPAS-M-1", CREATED, payments, receiver=BAN_VIET)


def _post(url: str, path: str, body: bytes, secret: str = SECRET) -> httpx.Response:
    headers = {SIGNATURE_HEADER: signature(secret, body), "Content-Type": "application/xml"}
    return httpx.post(url + path, content=body, headers=headers)


PAYER = ("Đặng Thị Thu Hà", "9704360000001", VIETCOMBANK)
INBOUND = (
    Payment("E2E-VCB-1", "VCB-TX-1", 150_000, *PAYER, "0454000000001", BAN_VIET),
    Payment("E2E-VCB-2", "VCB-TX-2", 90_000, *PAYER, "0454999999999", BAN_VIET),
)


def test_the_bank_accepts_a_credit_to_its_account_and_refuses_an_unknown_one_ac01(served: tuple[IsoBank, str]) -> None:
    bank, url = served
    answer = _post(url, "/v1/inbound/transfers", _forwarded(*INBOUND))
    again = _post(url, "/v1/inbound/transfers", _forwarded(INBOUND[0]))
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/xml"
    header, statuses = read_status_report(answer.content)
    assert (member_of(header.fr), member_of(header.to)) == (BAN_VIET, SWITCH)
    assert [(s.transaction_id, s.status, s.reason) for s in statuses] == [
        ("VCB-TX-1", "ACSP", None),
        ("VCB-TX-2", "RJCT", "AC01"),
    ]
    assert read_status_report(again.content)[1][0].status == "ACSP"
    assert len(bank.books.received) == 2  # forwarded again: answered as the first, booked once


def test_a_final_report_posts_the_credit_once_however_often_it_comes(served: tuple[IsoBank, str]) -> None:
    bank, url = served
    report = Status("VCB-TX-1", "ACSC", None, "NAPAS-M-1", "E2E-VCB-1", VIETCOMBANK, BAN_VIET, 150_000)
    final = status_report_message(SWITCH, BAN_VIET, "NAPAS-S-1", CREATED, [report])
    _post(url, "/v1/inbound/transfers", _forwarded(INBOUND[0]))
    assert bank.books.balances["0454000000001"] == 1_000_000  # pending until the final report
    assert [_post(url, "/v1/inbound/status-reports", final).status_code for _ in range(2)] == [204, 204]
    assert (bank.books.balances["0454000000001"], bank.books.settlement_vnd) == (1_150_000, 50_150_000)
    assert bank.books.posted_vnd() == (0, 150_000) and bank.books.conflicts == []


def test_an_ab05_after_acceptance_voids_the_credit(served: tuple[IsoBank, str]) -> None:
    bank, url = served
    report = Status("VCB-TX-1", "RJCT", "AB05", debtor_agent=VIETCOMBANK)
    late = status_report_message(SWITCH, BAN_VIET, "NAPAS-S-2", CREATED, [report])
    _post(url, "/v1/inbound/transfers", _forwarded(INBOUND[0]))
    assert _post(url, "/v1/inbound/status-reports", late).status_code == 204
    assert bank.books.received[(VIETCOMBANK, "VCB-TX-1")].state == "voided"
    assert (bank.books.balances["0454000000001"], bank.books.open_entries()) == (1_000_000, [])


def test_a_call_with_a_bad_signature_is_refused_401_and_changes_nothing(served: tuple[IsoBank, str]) -> None:
    bank, url = served
    answer = _post(url, "/v1/inbound/transfers", _forwarded(INBOUND[0]), secret="not-the-secret")
    assert answer.status_code == 401 and answer.headers["content-type"] == "application/problem+json"
    assert json.loads(answer.content)["errors"][0]["field"] == SIGNATURE_HEADER
    assert (bank.books.received, bank.unsigned) == ({}, 1)
