"""pacs.008.001.12 on the wire (`switch.scheme.pacs008`): written, read, and refused.

What the module writes is checked a second time with `xmlschema` (pure Python, independent of the
lxml validation inside the module), and what it reads includes documents built by someone else's
code: `pyiso20022`'s dataclasses (generated from ISO's XSDs) serialized by `xsdata`. The sample
file tests/data/iso20022/pacs.008.001.12-pyiso20022.xml is one of those (its README says how it is
made: `.venv/bin/python tests/unit/switch/scheme/test_pacs008.py` writes it again).
"""

from __future__ import annotations

import copy
import io
import string
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import built_by_lxml
import pytest
import xmlschema
from hypothesis import given
from hypothesis import strategies as st
from iso_wire_data import (
    AGRIBANK,
    BIDV,
    CREATED,
    EXTERNAL_ENTITY,
    ICT,
    PERSON_NAMES,
    ROOT,
    SAMPLES,
    TODAY,
    VBSP,
    VIETCOMBANK,
    VIETINBANK,
    VIETNAMESE_LETTERS,
    VIETTEL_MONEY,
    VNPT_MONEY,
    XSD_DIR,
    billion_laughs,
    built_citizen_ids,
    changed,
    creation_times,
    element,
    ids,
    with_doctype,
    without_declaration,
)
from lxml import etree
from pydantic import ValidationError
from pyiso20022.pacs.pacs_008_001_12 import pacs_008_001_12 as iso
from xsdata.formats.dataclass.serializers import XmlSerializer
from xsdata.formats.dataclass.serializers.config import SerializerConfig
from xsdata.models.datatype import XmlDateTime

from payer.registry import generate_population
from switch.scheme.codes import AliasType, Purpose, StatusReason
from switch.scheme.identifiers import MOBILE_PREFIXES, check_msisdn
from switch.scheme.messages import TRANSACTIONS_PER_MESSAGE_MAX, Alias, CreditTransfer, CreditTransferMessage, Party
from switch.scheme.pacs008 import (
    MESSAGE_BYTES_MAX,
    PACS008,
    SWITCH_MEMBER_ID,
    ReadCreditTransfers,
    parse_pacs008,
    write_pacs008,
)
from switch.scheme.validation import FieldProblem, MessageInvalid

XSD_PATH = XSD_DIR / "pacs.008.001.12.xsd"
SAMPLE = SAMPLES / "pacs.008.001.12-pyiso20022.xml"
XSD = xmlschema.XMLSchema(str(XSD_PATH))  # the independent validator
LXML_XSD = etree.XMLSchema(etree.parse(str(XSD_PATH)))  # only to check a hand-made fixture is schema-valid
NS = {"p": PACS008}
FF01, CH20 = StatusReason.FF01, StatusReason.CH20
BINS = (VIETCOMBANK, BIDV, VIETINBANK, AGRIBANK, VBSP, VIETTEL_MONEY, VNPT_MONEY)
POPULATION = generate_population(12, seed=20261201, today=TODAY)


# --- valid transfers, by strategy ------------------------------------------------------------------

REMITTANCE_ALPHABET = string.ascii_letters + string.digits + VIETNAMESE_LETTERS + " &<>'\"/-.,:()%"
NAMES = (*PERSON_NAMES, *(person.name for person in POPULATION))

amounts = st.integers(min_value=1, max_value=10**12)
names = st.sampled_from(NAMES)
accounts = st.text(string.digits, min_size=6, max_size=19)
bins = st.sampled_from(BINS)
remittances = st.text(REMITTANCE_ALPHABET, min_size=1, max_size=140)


citizen_ids = st.sampled_from([person.citizen_id for person in POPULATION]) | built_citizen_ids()


@st.composite
def msisdns(draw: st.DrawFn) -> str:
    """A Vietnamese mobile number, in any of the ways people write one (the alias normalises it)."""
    number = draw(st.sampled_from(sorted(MOBILE_PREFIXES))) + f"{draw(st.integers(0, 9_999_999)):07d}"
    assert check_msisdn(number) is None
    written = draw(st.sampled_from(["{0}", "+84{1}", "84{1}", "+84 {2} {3} {4}"]))
    return written.format(number, number[1:], number[1:4], number[4:7], number[7:])


aliases = st.builds(Alias, type=st.just(AliasType.CITIZEN_ID), value=citizen_ids) | st.builds(
    Alias, type=st.just(AliasType.MSISDN), value=msisdns()
)


@st.composite
def credit_transfers(draw: st.DrawFn, message_id: str) -> CreditTransfer:
    """A valid transfer; the creditor by account at an agent, by alias, or both."""
    address = draw(st.sampled_from(["account", "alias", "alias and account", "everything"]))
    alias = None if address == "account" else draw(aliases)
    account = None if address == "alias" else draw(accounts)
    agent = draw(bins) if address in ("account", "everything") else None
    return CreditTransfer(
        message_id=message_id,
        end_to_end_id=draw(ids),
        transaction_id=draw(ids),
        amount_vnd=draw(amounts),
        debtor=Party(name=draw(names), citizen_id=draw(st.none() | citizen_ids)),
        debtor_account=draw(accounts),
        debtor_agent=draw(bins),
        creditor=Party(name=draw(st.none() | names), citizen_id=draw(st.none() | citizen_ids)),
        creditor_account=account,
        creditor_alias=alias,
        creditor_agent=agent,
        purpose=draw(st.sampled_from(Purpose)),
        remittance_information=draw(st.none() | remittances),
    )


@st.composite
def messages(draw: st.DrawFn) -> CreditTransferMessage:
    message_id = draw(ids)
    transactions = draw(st.lists(credit_transfers(message_id), min_size=1, max_size=25))
    return CreditTransferMessage(message_id=message_id, transactions=tuple(transactions))


# --- a fixed message of four -----------------------------------------------------------------------


def a_transfer(number: int, **overrides: Any) -> CreditTransfer:
    values: dict[str, Any] = {
        "message_id": "MSG-2026-12-01-0001",
        "end_to_end_id": f"E2E-{number:04d}",
        "transaction_id": f"TX-{number:04d}",
        "amount_vnd": 500_000 * number,
        "debtor": Party(name="Nguyễn Văn Đức", citizen_id="001090123456"),
        "debtor_account": f"00110012345{number:02d}",
        "debtor_agent": BINS[number % len(BINS)],
        "creditor": Party(name="Trần Thị Hồng"),
        "creditor_account": f"12000{number:04d}",
        "creditor_agent": BIDV,
        "purpose": Purpose.SALA,
        "remittance_information": f"Lương tháng 12/2026, số {number}",
    }
    return CreditTransfer(**{**values, **overrides})


GOOD_MESSAGE = CreditTransferMessage(
    message_id="MSG-2026-12-01-0001", transactions=tuple(a_transfer(number) for number in range(1, 5))
)
GOOD = write_pacs008(GOOD_MESSAGE, CREATED)


def text_of(document: Any, path: str) -> str | None:
    found = document.findtext(path, namespaces=NS)
    return None if found is None else str(found)


def with_transaction_changed(position: int, change: Callable[[Any], None]) -> bytes:
    """GOOD with one transaction (0-based) changed."""
    return changed(GOOD, lambda root: change(root.findall("p:FIToFICstmrCdtTrf/p:CdtTrfTxInf", NS)[position]))


def refused_whole(data: bytes) -> list[FieldProblem]:
    """The message's problems; it is refused whole, and nothing is left behind for the next one."""
    with pytest.raises(MessageInvalid) as raised:
        parse_pacs008(data)
    assert raised.value.problems, "a refusal names at least one problem"
    assert raised.value.reason == FF01
    assert parse_pacs008(GOOD).transactions == GOOD_MESSAGE.transactions
    return raised.value.problems


# --- round trip --------------------------------------------------------------------------------------


@given(message=messages(), created=creation_times)
def test_any_valid_message_written_then_read_gives_back_the_same_transactions_and_no_refusals(
    message: CreditTransferMessage, created: datetime
) -> None:
    read = parse_pacs008(write_pacs008(message, created))
    assert read.refused == ()
    assert read.transactions == message.transactions
    assert read.message_id == message.message_id
    assert read.count == len(message.transactions)
    assert read.created == created
    assert read.created.utcoffset() == created.utcoffset()
    assert all(type(transfer.amount_vnd) is int for transfer in read.transactions)


@given(message=messages(), created=creation_times)
def test_every_written_document_is_valid_for_an_independent_validator(
    message: CreditTransferMessage, created: datetime
) -> None:
    XSD.validate(io.BytesIO(write_pacs008(message, created)))  # raises, naming the rule, if not


@given(message=messages(), created=creation_times)
def test_every_written_document_is_byte_for_byte_the_tree_built_element_by_element(
    message: CreditTransferMessage, created: datetime
) -> None:
    assert write_pacs008(message, created) == built_by_lxml.serialised(built_by_lxml.pacs008_tree(message, created))


def test_names_keep_their_diacritics_in_the_document_and_when_read_back() -> None:
    transfer = a_transfer(1, creditor=Party(name="Hoàng Thị Ánh Tuyết", citizen_id="079190012345"))
    message = CreditTransferMessage(message_id=transfer.message_id, transactions=(transfer,))
    data = write_pacs008(message, CREATED)
    document = element(data)
    assert text_of(document, "p:FIToFICstmrCdtTrf/p:CdtTrfTxInf/p:Dbtr/p:Nm") == "Nguyễn Văn Đức"
    assert "Hoàng Thị Ánh Tuyết".encode() in data  # UTF-8, not character references
    (read,) = parse_pacs008(data).transactions
    assert (read.debtor.name, read.creditor.name) == ("Nguyễn Văn Đức", "Hoàng Thị Ánh Tuyết")
    assert read.creditor.citizen_id == "079190012345"


def test_the_written_document_carries_the_scheme_s_fixed_values() -> None:
    document = element(GOOD)
    header = "p:FIToFICstmrCdtTrf/p:GrpHdr/"
    assert text_of(document, header + "p:MsgId") == "MSG-2026-12-01-0001"
    assert text_of(document, header + "p:NbOfTxs") == "4"
    assert text_of(document, header + "p:SttlmInf/p:SttlmMtd") == "CLRG"
    transactions = document.findall("p:FIToFICstmrCdtTrf/p:CdtTrfTxInf", NS)
    assert [text_of(tx, "p:ChrgBr") for tx in transactions] == ["SLEV"] * 4
    assert [tx.find("p:IntrBkSttlmAmt", NS).get("Ccy") for tx in transactions] == ["VND"] * 4
    assert [text_of(tx, "p:IntrBkSttlmAmt") for tx in transactions] == ["500000", "1000000", "1500000", "2000000"]
    assert text_of(transactions[0], "p:Dbtr/p:Id/p:PrvtId/p:Othr/p:SchmeNm/p:Cd") == "NIDN"


# --- documents built by pyiso20022 ---------------------------------------------------------------------

PYISO_MESSAGE_ID = "VCB-20261201-000042"
PYISO_CREATED = datetime(2026, 12, 1, 9, 15, 30, tzinfo=ICT)
PYISO_TRANSFERS = (
    CreditTransfer(
        message_id=PYISO_MESSAGE_ID,
        end_to_end_id="E2E-VCB-0001",
        transaction_id="VCB-TX-0001",
        amount_vnd=2_789_000,
        debtor=Party(name="Nguyễn Văn Đức"),
        debtor_account="0011001234567",
        debtor_agent=VIETCOMBANK,
        creditor=Party(name="Trần Thị Hồng"),
        creditor_account="21510001234567",
        creditor_agent=BIDV,
    ),
    CreditTransfer(
        message_id=PYISO_MESSAGE_ID,
        end_to_end_id="E2E-VCB-0002",
        transaction_id="VCB-TX-0002",
        amount_vnd=500_000,
        debtor=Party(name="Lê Hoàng Yến"),
        debtor_account="0011009876543",
        debtor_agent=VIETCOMBANK,
        creditor=Party(name="Phạm Minh Tuấn"),
        creditor_account="105868123456",
        creditor_agent=VIETINBANK,
    ),
    CreditTransfer(
        message_id=PYISO_MESSAGE_ID,
        end_to_end_id="E2E-VCB-0003",
        transaction_id="VCB-TX-0003",
        amount_vnd=1_500_000,
        debtor=Party(name="Đặng Thị Thu Hà", citizen_id="001190004567"),
        debtor_account="0011005550001",
        debtor_agent=VIETCOMBANK,
        creditor=Party(name="Bùi Xuân Trường", citizen_id="079085001234"),
        creditor_account="0912345678",
        creditor_alias=Alias(type=AliasType.MSISDN, value="0912345678"),
        creditor_agent=VIETTEL_MONEY,
        purpose=Purpose.CASH,
        remittance_information="Chuyển tiền học phí – tháng 12",
    ),
)


def _iso_agent(member_id: str) -> iso.BranchAndFinancialInstitutionIdentification8:
    return iso.BranchAndFinancialInstitutionIdentification8(
        fin_instn_id=iso.FinancialInstitutionIdentification23(
            clr_sys_mmb_id=iso.ClearingSystemMemberIdentification2(mmb_id=member_id)
        )
    )


def _iso_party(party: Party) -> iso.PartyIdentification272:
    person = None
    if party.citizen_id is not None:
        person = iso.Party52Choice(
            prvt_id=iso.PersonIdentification18(
                othr=[
                    iso.GenericPersonIdentification2(
                        id=party.citizen_id, schme_nm=iso.PersonIdentificationSchemeName1Choice(cd="NIDN")
                    )
                ]
            )
        )
    return iso.PartyIdentification272(nm=party.name, id=person)


def _iso_account(account: str) -> iso.AccountIdentification4Choice:
    return iso.AccountIdentification4Choice(othr=iso.GenericAccountIdentification1(id=account))


def _iso_transaction(transfer: CreditTransfer) -> iso.CreditTransferTransaction64:
    proxy = None
    if transfer.creditor_alias is not None:
        code = {AliasType.CITIZEN_ID: "NIDN", AliasType.MSISDN: "MBNO"}[transfer.creditor_alias.type]
        proxy = iso.ProxyAccountIdentification1(
            tp=iso.ProxyAccountType1Choice(cd=code), id=transfer.creditor_alias.value
        )
    account = None if transfer.creditor_account is None else _iso_account(transfer.creditor_account)
    return iso.CreditTransferTransaction64(
        pmt_id=iso.PaymentIdentification13(end_to_end_id=transfer.end_to_end_id, tx_id=transfer.transaction_id),
        intr_bk_sttlm_amt=iso.ActiveCurrencyAndAmount(value=Decimal(transfer.amount_vnd), ccy="VND"),
        chrg_br=iso.ChargeBearerType1Code.SLEV,
        dbtr=_iso_party(transfer.debtor),
        dbtr_acct=iso.CashAccount40(id=_iso_account(transfer.debtor_account)),
        dbtr_agt=_iso_agent(transfer.debtor_agent),
        cdtr_agt=_iso_agent(transfer.creditor_agent or "NAPAS"),
        cdtr=_iso_party(transfer.creditor),
        cdtr_acct=iso.CashAccount40(id=account, prxy=proxy),
        purp=None if transfer.purpose == Purpose.OTHR else iso.Purpose2Choice(cd=transfer.purpose.value),
        rmt_inf=(
            None
            if transfer.remittance_information is None
            else iso.RemittanceInformation22(ustrd=[transfer.remittance_information])
        ),
    )


def pyiso20022_document(message_id: str, created: datetime, transfers: Sequence[CreditTransfer]) -> iso.Document:
    """The transfers as pyiso20022's pacs.008.001.12 dataclasses: someone else's model of ISO."""
    header = iso.GroupHeader113(
        msg_id=message_id,
        cre_dt_tm=XmlDateTime.from_datetime(created),
        nb_of_txs=str(len(transfers)),
        sttlm_inf=iso.SettlementInstruction15(sttlm_mtd=iso.SettlementMethod1Code.CLRG),
    )
    return iso.Document(
        fito_ficstmr_cdt_trf=iso.FitoFicustomerCreditTransferV12(
            grp_hdr=header, cdt_trf_tx_inf=[_iso_transaction(transfer) for transfer in transfers]
        )
    )


def rendered(document: iso.Document, indent: str | None = None, ns_map: dict[str | None, str] | None = None) -> bytes:
    return XmlSerializer(config=SerializerConfig(indent=indent)).render(document, ns_map=ns_map).encode("utf-8")


def pyiso20022_sample() -> bytes:
    """What tests/data/iso20022/pacs.008.001.12-pyiso20022.xml holds, made again."""
    return rendered(pyiso20022_document(PYISO_MESSAGE_ID, PYISO_CREATED, PYISO_TRANSFERS), indent="  ")


@pytest.mark.parametrize(
    ("indent", "ns_map"),
    [
        pytest.param(None, None, id="compact, prefix ns0"),
        pytest.param("  ", None, id="pretty-printed"),
        pytest.param(None, {None: PACS008}, id="compact, default namespace"),
    ],
)
def test_a_pacs008_built_by_pyiso20022_is_read_field_by_field(
    indent: str | None, ns_map: dict[str | None, str] | None
) -> None:
    document = pyiso20022_document(PYISO_MESSAGE_ID, PYISO_CREATED, PYISO_TRANSFERS)
    data = rendered(document, indent=indent, ns_map=ns_map)
    assert (b"\n  <" in data) == (indent is not None)
    read = parse_pacs008(data)
    assert read.refused == ()
    assert read.message_id == PYISO_MESSAGE_ID
    assert read.created == PYISO_CREATED
    assert read.transactions == PYISO_TRANSFERS
    first, _, third = read.transactions
    assert (first.end_to_end_id, first.transaction_id, first.amount_vnd) == ("E2E-VCB-0001", "VCB-TX-0001", 2_789_000)
    assert (first.debtor.name, first.debtor_account, first.debtor_agent) == (
        "Nguyễn Văn Đức",
        "0011001234567",
        "970436",
    )
    assert (first.creditor.name, first.creditor_account, first.creditor_agent) == (
        "Trần Thị Hồng",
        "21510001234567",
        "970418",
    )
    assert first.purpose == Purpose.OTHR and first.remittance_information is None
    assert third.creditor_alias == Alias(type=AliasType.MSISDN, value="0912345678")
    assert (third.debtor.citizen_id, third.creditor.citizen_id) == ("001190004567", "079085001234")
    assert (third.purpose, third.remittance_information) == (Purpose.CASH, "Chuyển tiền học phí – tháng 12")


def test_an_amount_pyiso20022_writes_with_zero_decimals_is_read_as_a_whole_number_of_dong() -> None:
    document = pyiso20022_document(PYISO_MESSAGE_ID, PYISO_CREATED, PYISO_TRANSFERS)
    document.fito_ficstmr_cdt_trf.cdt_trf_tx_inf[1].intr_bk_sttlm_amt.value = Decimal("500000.00")
    data = rendered(document)
    assert b">500000.00<" in data
    read = parse_pacs008(data)
    assert read.refused == ()
    assert read.transactions[1].amount_vnd == 500_000
    assert type(read.transactions[1].amount_vnd) is int


def test_the_saved_pyiso20022_sample_reads_as_the_one_pyiso20022_builds_now() -> None:
    saved = SAMPLE.read_bytes()
    XSD.validate(io.BytesIO(saved))
    from_file = parse_pacs008(saved)
    assert from_file.transactions == PYISO_TRANSFERS
    assert from_file.refused == ()
    regenerated = parse_pacs008(pyiso20022_sample())
    assert (from_file.message_id, from_file.created, from_file.transactions, from_file.refused) == (
        regenerated.message_id,
        regenerated.created,
        regenerated.transactions,
        regenerated.refused,
    )


# --- bad messages, refused whole ------------------------------------------------------------------------

BILLION_LAUGHS = billion_laughs("Document")


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"not xml at all", id="text"),
        pytest.param(b"<Document", id="an unclosed tag"),
        pytest.param(GOOD[: len(GOOD) // 2], id="cut off halfway"),
        pytest.param(GOOD.replace(b"</MsgId>", b"</MsgID>"), id="mismatched end tag"),
        pytest.param(GOOD.replace("Lương".encode(), b"L\xc6", 1), id="not UTF-8"),
    ],
)
def test_a_message_that_is_not_well_formed_xml_is_refused_whole(data: bytes) -> None:
    (problem,) = refused_whole(data)
    assert problem.field == "(message)"
    assert problem.rule.startswith("not well-formed XML")


BILLION_LAUGHS_DOCUMENT = with_doctype(BILLION_LAUGHS, GOOD, "Lương".encode(), b"&lol9;")


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(BILLION_LAUGHS + without_declaration(GOOD), id="billion laughs declared"),
        pytest.param(with_doctype(EXTERNAL_ENTITY, GOOD, "Lương".encode(), b"&secret;"), id="external entity"),
        pytest.param(b"<?xml version='1.0'?>\n<!DOCTYPE Document>" + without_declaration(GOOD), id="a bare DOCTYPE"),
    ],
)
def test_a_message_with_a_doctype_is_refused_whole_as_doctype_not_allowed(data: bytes) -> None:
    (problem,) = refused_whole(data)
    assert problem.field == "(message)"
    assert "DOCTYPE is not allowed" in problem.rule


def test_a_billion_laughs_message_is_refused_whole_at_once_and_nothing_is_expanded() -> None:
    started = time.monotonic()
    (problem,) = refused_whole(BILLION_LAUGHS_DOCUMENT)
    assert time.monotonic() - started < 2.0
    assert problem.field == "(message)"
    assert "lollol" not in problem.rule


def test_a_billion_laughs_message_is_refused_as_doctype_not_allowed() -> None:
    (problem,) = refused_whole(BILLION_LAUGHS_DOCUMENT)
    assert "DOCTYPE is not allowed" in problem.rule


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(
            GOOD.replace(PACS008.encode(), b"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"), id="pacs.008.08"
        ),
        pytest.param(GOOD.replace(PACS008.encode(), b"urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"), id="pain.001"),
        pytest.param(GOOD.replace(b' xmlns="' + PACS008.encode() + b'"', b""), id="no namespace"),
        pytest.param(b"<?xml version='1.0'?><Envelope xmlns='" + PACS008.encode() + b"'/>", id="another root"),
    ],
)
def test_a_document_of_another_namespace_or_root_is_refused_naming_document(data: bytes) -> None:
    (problem,) = refused_whole(data)
    assert problem.field == "Document"
    assert PACS008 in problem.rule


def test_a_message_over_the_byte_limit_is_refused_whole_and_one_at_the_limit_is_read() -> None:
    at_limit = GOOD + b" " * (MESSAGE_BYTES_MAX - len(GOOD))  # whitespace after the root is allowed
    assert len(at_limit) == MESSAGE_BYTES_MAX
    assert parse_pacs008(at_limit).transactions == GOOD_MESSAGE.transactions
    (problem,) = refused_whole(at_limit + b" ")
    assert problem.field == "(message)"
    assert f"{MESSAGE_BYTES_MAX + 1} bytes is over the limit of {MESSAGE_BYTES_MAX}" in problem.rule


def test_a_message_id_over_35_characters_refuses_the_whole_message_naming_grphdr_msgid() -> None:
    data = GOOD.replace(b"<MsgId>MSG-2026-12-01-0001</MsgId>", b"<MsgId>" + b"M" * 36 + b"</MsgId>")
    (problem,) = refused_whole(data)
    assert problem.field == "GrpHdr/MsgId"
    assert "maxLength" in problem.rule and "36" in problem.rule


@pytest.mark.parametrize("declared", [3, 5, 0])
def test_nboftxs_that_does_not_count_the_transactions_refuses_the_whole_message(declared: int) -> None:
    data = GOOD.replace(b"<NbOfTxs>4</NbOfTxs>", f"<NbOfTxs>{declared}</NbOfTxs>".encode())
    (problem,) = refused_whole(data)
    assert problem.field == "GrpHdr/NbOfTxs"
    assert problem.rule == f"says {declared} transactions, the message holds 4"


def a_document_of(count: int) -> bytes:
    """GOOD's first transaction `count` times, NbOfTxs saying so: valid against ISO's schema."""

    def repeat(root: Any) -> None:
        body = root.find("p:FIToFICstmrCdtTrf", NS)
        first, *others = body.findall("p:CdtTrfTxInf", NS)
        for tx in others:
            body.remove(tx)
        body.extend(copy.deepcopy(first) for _ in range(count - 1))
        body.find("p:GrpHdr/p:NbOfTxs", NS).text = str(count)

    return changed(GOOD, repeat)


def test_more_than_the_limit_of_transactions_refuses_the_whole_message_and_the_limit_is_read() -> None:
    over = a_document_of(TRANSACTIONS_PER_MESSAGE_MAX + 1)
    assert LXML_XSD.validate(element(over)), "ISO's schema has no limit: the scheme's rule refuses it"
    (problem,) = refused_whole(over)
    assert problem.field == "CdtTrfTxInf"
    assert problem.rule == f"{TRANSACTIONS_PER_MESSAGE_MAX + 1} transactions is over the limit of 1000"
    read = parse_pacs008(a_document_of(TRANSACTIONS_PER_MESSAGE_MAX))
    assert len(read.transactions) == TRANSACTIONS_PER_MESSAGE_MAX and read.refused == ()


def test_a_creation_time_python_cannot_read_refuses_the_message_naming_grphdr_credttm() -> None:
    data = GOOD.replace(b"2026-12-01T08:30:00.000+07:00", b"2026-12-01T24:00:00+07:00")
    assert LXML_XSD.validate(element(data))
    try:
        read = parse_pacs008(data)
    except MessageInvalid as refused:
        assert [p.field for p in refused.problems] == ["GrpHdr/CreDtTm"]
    else:  # reading it as the next day's midnight would do as well
        assert read.created == datetime(2026, 12, 2, tzinfo=ICT)


# --- one bad transaction among good ones -------------------------------------------------------------


def _set(path: str, value: str) -> Callable[[Any], None]:
    def change(tx: Any) -> None:
        tx.find(path, NS).text = value

    return change


def _dollars(tx: Any) -> None:
    tx.find("p:IntrBkSttlmAmt", NS).set("Ccy", "USD")


def _no_transaction_id(tx: Any) -> None:
    ids = tx.find("p:PmtId", NS)
    ids.remove(ids.find("p:TxId", NS))


def _bad_charge_bearer(tx: Any) -> None:
    tx.find("p:ChrgBr", NS).text = "XXXX"


@pytest.mark.parametrize("position", [0, 1, 3])
@pytest.mark.parametrize(
    ("change", "element_path", "reason", "rule_says"),
    [
        pytest.param(_set("p:IntrBkSttlmAmt", "2500.5"), "IntrBkSttlmAmt", CH20, "decimals", id="2500.5 VND"),
        pytest.param(_set("p:PmtId/p:EndToEndId", "E" * 40), "PmtId/EndToEndId", FF01, "maxLength", id="long id"),
        pytest.param(
            _set("p:DbtrAgt/p:FinInstnId/p:ClrSysMmbId/p:MmbId", "97043"),
            "DbtrAgt/FinInstnId/ClrSysMmbId/MmbId",
            FF01,
            "6-digit",
            id="5-digit BIN",
        ),
        pytest.param(_dollars, "IntrBkSttlmAmt/@Ccy", FF01, "'VND'", id="USD"),
        pytest.param(_no_transaction_id, "PmtId/TxId", FF01, "required", id="no TxId"),
        pytest.param(_bad_charge_bearer, "ChrgBr", FF01, "enumeration", id="ChrgBr not an ISO code"),
        pytest.param(_set("p:ChrgBr", "DEBT"), "ChrgBr", FF01, "must be SLEV", id="ChrgBr DEBT, not the scheme's"),
    ],
)
def test_one_bad_transaction_is_refused_on_its_own_naming_where_and_why_and_the_others_are_taken(
    position: int, change: Callable[[Any], None], element_path: str, reason: StatusReason, rule_says: str
) -> None:
    data = with_transaction_changed(position, change)
    tx = element(data).findall("p:FIToFICstmrCdtTrf/p:CdtTrfTxInf", NS)[position]
    read = parse_pacs008(data)
    expected = list(GOOD_MESSAGE.transactions)
    expected.pop(position)
    assert read.transactions == tuple(expected)
    (refused,) = read.refused
    assert refused.index == position
    assert [p.field for p in refused.problems] == [f"CdtTrfTxInf[{position + 1}]/{element_path}"]
    assert rule_says in refused.problems[0].rule
    assert refused.reason == reason
    assert [p.reason for p in refused.problems] == [reason]
    assert refused.end_to_end_id == text_of(tx, "p:PmtId/p:EndToEndId")
    assert refused.transaction_id == text_of(tx, "p:PmtId/p:TxId")
    assert refused.debtor_agent == text_of(tx, "p:DbtrAgt/p:FinInstnId/p:ClrSysMmbId/p:MmbId")
    assert read.count == len(GOOD_MESSAGE.transactions)


def test_a_refused_transaction_keeps_the_ids_and_the_debtor_agent_it_was_sent_with() -> None:
    read = parse_pacs008(with_transaction_changed(2, _set("p:IntrBkSttlmAmt", "2500.5")))
    (refused,) = read.refused
    original = GOOD_MESSAGE.transactions[2]
    assert (refused.index, refused.end_to_end_id, refused.transaction_id, refused.debtor_agent) == (
        2,
        original.end_to_end_id,
        original.transaction_id,
        original.debtor_agent,
    )


def test_every_transaction_that_breaks_the_schema_is_refused_not_only_the_first() -> None:
    def two_bad(root: Any) -> None:
        transactions = root.findall("p:FIToFICstmrCdtTrf/p:CdtTrfTxInf", NS)
        _bad_charge_bearer(transactions[0])
        _bad_charge_bearer(transactions[2])

    read = parse_pacs008(changed(GOOD, two_bad))
    assert [r.index for r in read.refused] == [0, 2]
    assert [r.problems[0].field for r in read.refused] == ["CdtTrfTxInf[1]/ChrgBr", "CdtTrfTxInf[3]/ChrgBr"]
    assert read.transactions == (GOOD_MESSAGE.transactions[1], GOOD_MESSAGE.transactions[3])


def test_a_transaction_with_several_faults_is_refused_with_each_and_reason_ff01() -> None:
    def faults(tx: Any) -> None:
        _set("p:IntrBkSttlmAmt", "2500.5")(tx)
        _set("p:DbtrAgt/p:FinInstnId/p:ClrSysMmbId/p:MmbId", "97043")(tx)

    (refused,) = parse_pacs008(with_transaction_changed(1, faults)).refused
    assert {p.field: p.reason for p in refused.problems} == {
        "CdtTrfTxInf[2]/IntrBkSttlmAmt": CH20,
        "CdtTrfTxInf[2]/DbtrAgt/FinInstnId/ClrSysMmbId/MmbId": FF01,
    }
    assert refused.reason == FF01  # CH20 only when decimals are the only trouble


def test_an_amount_with_only_a_fraction_is_refused_as_decimals_ch20() -> None:
    (refused,) = parse_pacs008(with_transaction_changed(1, _set("p:IntrBkSttlmAmt", ".5"))).refused
    assert refused.reason == CH20


@pytest.mark.parametrize(
    ("change", "element_path"),
    [
        pytest.param(_set("p:Dbtr/p:Id/p:PrvtId/p:Othr/p:Id", "12345"), "Dbtr/Id/PrvtId/Othr/Id", id="citizen id"),
        pytest.param(_set("p:CdtrAcct/p:Prxy/p:Tp/p:Cd", "EMAL"), "CdtrAcct/Prxy/Tp/Cd", id="proxy type"),
    ],
)
def test_a_nested_scheme_rule_is_named_by_the_element_the_integrator_wrote(
    change: Callable[[Any], None], element_path: str
) -> None:
    def alias_and_change(tx: Any) -> None:
        proxy = etree.SubElement(tx.find("p:CdtrAcct", NS), f"{{{PACS008}}}Prxy")
        etree.SubElement(etree.SubElement(proxy, f"{{{PACS008}}}Tp"), f"{{{PACS008}}}Cd").text = "MBNO"
        etree.SubElement(proxy, f"{{{PACS008}}}Id").text = "0912345678"
        change(tx)

    data = with_transaction_changed(1, alias_and_change)
    assert LXML_XSD.validate(element(data)), "the fault is the scheme's rule, not ISO's schema"
    (refused,) = parse_pacs008(data).refused
    assert [p.field for p in refused.problems] == [f"CdtTrfTxInf[2]/{element_path}"]


def test_messages_read_at_the_same_time_in_several_threads_each_get_their_own_faults() -> None:
    many = a_document_of(30)
    bad = changed(many, lambda root: _bad_charge_bearer(root.find("p:FIToFICstmrCdtTrf/p:CdtTrfTxInf", NS)))
    assert len(parse_pacs008(bad).refused) == 1 and parse_pacs008(many).refused == ()
    wrong: list[str] = []
    stop = threading.Event()
    deadline = time.monotonic() + 5.0  # it shows within a tenth of a second; a fixed module runs out the time

    def read_again_and_again(data: bytes, refused_expected: int) -> None:
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                refused = len(parse_pacs008(data).refused)
            except Exception as error:  # noqa: BLE001 - any failure is a wrong answer
                wrong.append(repr(error))
                stop.set()
                return
            if refused != refused_expected:
                wrong.append(f"{refused} refused, not {refused_expected}")
                stop.set()

    threads = [threading.Thread(target=read_again_and_again, args=(bad, 1) if n % 2 else (many, 0)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not wrong, wrong


# --- a creditor named by alias only --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alias", "proxy_type", "proxy_id"),
    [
        pytest.param(Alias(type=AliasType.CITIZEN_ID, value="079190012345"), "NIDN", "079190012345", id="NIDN"),
        pytest.param(Alias(type=AliasType.MSISDN, value="0912345678"), "MBNO", "0912345678", id="MBNO"),
        pytest.param(Alias(type=AliasType.MSISDN, value="+84 912 345 678"), "MBNO", "0912345678", id="MBNO +84"),
    ],
)
def test_a_creditor_named_by_alias_only_is_written_to_the_switch_and_read_back_without_an_agent(
    alias: Alias, proxy_type: str, proxy_id: str
) -> None:
    transfer = a_transfer(1, creditor_account=None, creditor_agent=None, creditor_alias=alias)
    message = CreditTransferMessage(message_id=transfer.message_id, transactions=(transfer,))
    data = write_pacs008(message, CREATED)
    tx = element(data).find("p:FIToFICstmrCdtTrf/p:CdtTrfTxInf", NS)
    assert text_of(tx, "p:CdtrAgt/p:FinInstnId/p:ClrSysMmbId/p:MmbId") == SWITCH_MEMBER_ID == "NAPAS"
    assert tx.find("p:CdtrAcct/p:Id", NS) is None
    assert (text_of(tx, "p:CdtrAcct/p:Prxy/p:Tp/p:Cd"), text_of(tx, "p:CdtrAcct/p:Prxy/p:Id")) == (proxy_type, proxy_id)
    (read,) = parse_pacs008(data).transactions
    assert read.creditor_agent is None
    assert read.creditor_account is None
    assert read.creditor_alias == Alias(type=alias.type, value=proxy_id)
    assert read == transfer


def test_a_creditor_account_at_the_switch_without_an_alias_is_refused_on_its_own() -> None:
    data = with_transaction_changed(1, _set("p:CdtrAgt/p:FinInstnId/p:ClrSysMmbId/p:MmbId", SWITCH_MEMBER_ID))
    read = parse_pacs008(data)
    assert len(read.transactions) == 3
    (refused,) = read.refused
    assert [p.field for p in refused.problems] == ["CdtTrfTxInf[2]"]
    assert "creditor_alias, or creditor_account with creditor_agent" in refused.problems[0].rule
    assert refused.reason == FF01


# --- CreditTransferMessage's own rules ------------------------------------------------------------------


def test_a_message_refuses_a_transaction_that_carries_another_message_id() -> None:
    with pytest.raises(ValidationError, match=r"transactions\.1\.message_id must be the message's id"):
        CreditTransferMessage(
            message_id="MSG-2026-12-01-0001",
            transactions=(a_transfer(1), a_transfer(2, message_id="MSG-2026-12-01-0002")),
        )


def test_a_message_refuses_an_empty_tuple_of_transactions() -> None:
    with pytest.raises(ValidationError, match="at least 1 item"):
        CreditTransferMessage(message_id="MSG-2026-12-01-0001", transactions=())


def test_a_message_refuses_more_than_the_limit_of_transactions_and_takes_the_limit() -> None:
    transfer = a_transfer(1)
    with pytest.raises(ValidationError, match="at most 1000 items"):
        CreditTransferMessage(
            message_id=transfer.message_id, transactions=(transfer,) * (TRANSACTIONS_PER_MESSAGE_MAX + 1)
        )
    full = CreditTransferMessage(
        message_id=transfer.message_id, transactions=(transfer,) * TRANSACTIONS_PER_MESSAGE_MAX
    )
    read: ReadCreditTransfers = parse_pacs008(write_pacs008(full, CREATED))
    assert read.transactions == full.transactions


if (
    __name__ == "__main__"
):  # writes the pyiso20022 sample again: .venv/bin/python tests/unit/switch/scheme/test_pacs008.py
    SAMPLE.parent.mkdir(parents=True, exist_ok=True)
    SAMPLE.write_bytes(pyiso20022_sample())
    print(f"wrote {SAMPLE.relative_to(ROOT)}")


def test_a_settlement_method_other_than_clearing_refuses_the_whole_message() -> None:
    def gross(root: Any) -> None:
        root.find("p:FIToFICstmrCdtTrf/p:GrpHdr/p:SttlmInf/p:SttlmMtd", NS).text = "INDA"

    problems = refused_whole(changed(GOOD, gross))

    assert [p.field for p in problems] == ["GrpHdr/SttlmInf/SttlmMtd"]
    assert "must be CLRG" in problems[0].rule


def test_an_amount_written_with_a_plus_sign_is_read_as_the_same_whole_number_of_dong() -> None:
    read = parse_pacs008(with_transaction_changed(0, _set("p:IntrBkSttlmAmt", "+250000")))

    assert read.refused == ()
    assert read.transactions[0].amount_vnd == 250_000


def test_a_schema_fault_is_told_with_element_names_not_namespaces() -> None:
    (refused,) = parse_pacs008(with_transaction_changed(1, _set("p:PmtId/p:EndToEndId", "E" * 40))).refused

    assert "{urn:" not in refused.problems[0].rule
    assert "EndToEndId" in refused.problems[0].rule
