"""What the tests of the XML wire share (`test_pacs002`, `test_pacs028`, `test_head`, `test_wire`,
and in part `test_pacs008` and `test_acmt`): strategies for valid messages, the fixed messages the
samples under tests/data/iso20022 hold, the same messages built by `pyiso20022` (someone else's
model of ISO, its dataclasses generated from ISO's XSDs, written by `xsdata`), a document changed
with lxml, and hostile input.

    .venv/bin/python tests/unit/switch/scheme/iso_wire_data.py

writes the samples again (tests/data/iso20022/README.md says what each holds).
"""

from __future__ import annotations

import string
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from lxml import etree
from pyiso20022.head.head_001_001_02 import head_001_001_02 as bah
from pyiso20022.pacs.pacs_002_001_12 import pacs_002_001_12 as p002
from pyiso20022.pacs.pacs_028_001_05 import pacs_028_001_05 as p028
from xsdata.formats.dataclass.serializers import XmlSerializer
from xsdata.formats.dataclass.serializers.config import SerializerConfig
from xsdata.models.datatype import XmlDateTime

from switch.scheme.codes import StatusReason, TransactionStatus
from switch.scheme.identifiers import PROVINCE_NAMES, check_citizen_id
from switch.scheme.messages import StatusReport, StatusReportMessage, StatusRequest

ROOT = Path(__file__).resolve().parents[4]
XSD_DIR = ROOT / "switch" / "scheme" / "xsd"
SAMPLES = ROOT / "tests" / "data" / "iso20022"
VIETCOMBANK, BIDV, VIETINBANK, AGRIBANK, VBSP = "970436", "970418", "970415", "970405", "999888"
VIETTEL_MONEY, VNPT_MONEY = "971005", "971011"
BINS = (VIETCOMBANK, BIDV, VIETINBANK, AGRIBANK, VIETTEL_MONEY, "970422", VNPT_MONEY)
NAPAS = "NAPAS"
ICT = timezone(timedelta(hours=7))
CREATED = datetime(2026, 12, 1, 8, 30, tzinfo=ICT)
TODAY = date(2026, 12, 1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# --- strategies ------------------------------------------------------------------------------------

ID_ALPHABET = string.ascii_letters + string.digits + "-_./:"
VIETNAMESE_LETTERS = (
    "ĂÂĐÊÔƠƯăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ"
    "ÀÁẢÃẠẰẮẲẴẶẦẤẨẪẬÈÉẺẼẸỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌỒỐỔỖỘỜỚỞỠỢÙÚỦŨỤỪỨỬỮỰỲÝỶỸỴ"
)
# What a rule broken reads like: letters with diacritics, XML's special characters, spaces and new
# lines (a piece of AddtlInf may start or end with either), element paths.
INFORMATION_ALPHABET = string.ascii_letters + string.digits + VIETNAMESE_LETTERS + " \n&<>'\"/-.,:()%[]"
# Names as people write them, with their diacritics (a test adds the names of its own population).
PERSON_NAMES = (
    "Nguyễn Văn Đức",
    "Trần Thị Hồng",
    "Lê Hoàng Yến",
    "Phạm Minh Tuấn",
    "Hoàng Thị Ánh Tuyết",
    "Đặng Thị Thu Hà",
    "Bùi Xuân Trường",
)

ids = st.text(ID_ALPHABET, min_size=1, max_size=35)
bins = st.sampled_from(BINS)
member_ids = st.sampled_from((*BINS, NAPAS))
creation_times = st.datetimes(
    min_value=datetime(2020, 1, 1),
    max_value=datetime(2035, 12, 31),
    timezones=st.none() | st.sampled_from([ICT, UTC]),
).map(lambda moment: moment.replace(microsecond=moment.microsecond // 1000 * 1000))  # written with ms
settlement_times_ms = st.integers(
    min_value=(datetime(2020, 1, 1, tzinfo=UTC) - EPOCH) // timedelta(milliseconds=1),
    max_value=(datetime(2036, 1, 1, tzinfo=UTC) - EPOCH) // timedelta(milliseconds=1),
)
# An empty text is written as none (ISO's Max105Text has at least one character): the model's
# empty string is the one value that does not come back as it went.
additional_information = st.text(INFORMATION_ALPHABET, min_size=1, max_size=500)


@st.composite
def built_citizen_ids(draw: st.DrawFn) -> str:
    """Province, century-and-gender digit, birth-year digits, serial: a CCCD born by TODAY."""
    province = draw(st.sampled_from(sorted(PROVINCE_NAMES)))
    century = draw(st.integers(min_value=0, max_value=3))  # born 1900-2099
    year = draw(st.integers(min_value=0, max_value=99 if century < 2 else TODAY.year % 100))
    citizen_id = f"{province}{century}{year:02d}{draw(st.integers(0, 999_999)):06d}"
    assert check_citizen_id(citizen_id, TODAY.year) is None
    return citizen_id


@st.composite
def status_reports(draw: st.DrawFn) -> StatusReport:
    return StatusReport(
        original_message_id=draw(ids),
        original_end_to_end_id=draw(ids),
        original_transaction_id=draw(ids),
        debtor_agent=draw(bins),
        transaction_status=draw(st.sampled_from(TransactionStatus)),
        status_reason=draw(st.none() | st.sampled_from(StatusReason)),
        creditor_agent=draw(st.none() | bins),
        amount_vnd=draw(st.none() | st.integers(min_value=1, max_value=10**15)),
        settled_at_ms=draw(st.none() | settlement_times_ms),
        additional_information=draw(st.none() | additional_information),
    )


@st.composite
def status_report_messages(draw: st.DrawFn) -> StatusReportMessage:
    reports = draw(st.lists(status_reports(), min_size=1, max_size=20))
    return StatusReportMessage(message_id=draw(ids), reports=tuple(reports))


status_requests = st.builds(StatusRequest, message_id=ids, original_transaction_id=ids, debtor_agent=bins)

# --- the samples' messages ---------------------------------------------------------------------------

SAMPLE_STATUS_MESSAGE_ID = "BIDV-STS-20261201-0007"
SAMPLE_STATUS_CREATED = datetime(2026, 12, 1, 9, 15, 31, 250000, tzinfo=ICT)
SAMPLE_REPORTS = (
    StatusReport(
        original_message_id="VCB-20261201-000042",
        original_end_to_end_id="E2E-VCB-0001",
        original_transaction_id="VCB-TX-0001",
        debtor_agent=VIETCOMBANK,
        transaction_status=TransactionStatus.ACSC,
        creditor_agent=BIDV,
        amount_vnd=2_789_000,
        settled_at_ms=(datetime(2026, 12, 1, 2, 15, 31, 123000, tzinfo=UTC) - EPOCH) // timedelta(milliseconds=1),
    ),
    StatusReport(
        original_message_id="VCB-20261201-000042",
        original_end_to_end_id="E2E-VCB-0004",
        original_transaction_id="VCB-TX-0004",
        debtor_agent=VIETCOMBANK,
        transaction_status=TransactionStatus.RJCT,
        status_reason=StatusReason.BE01,
        creditor_agent=BIDV,
        amount_vnd=1_500_000,
        additional_information=(
            "Tên người nhận không khớp với chủ tài khoản: tài khoản 21510001234567 thuộc về Trần Thị Hồng, "
            "lệnh ghi Nguyễn Văn Đức (Cdtr/Nm)"
        ),
    ),
    StatusReport(
        original_message_id="VTM-20261201-000003",
        original_end_to_end_id="E2E-VTM-0001",
        original_transaction_id="VTM-TX-0001",
        debtor_agent=VIETTEL_MONEY,
        transaction_status=TransactionStatus.ACSP,
    ),
)
SAMPLE_STATUS_MESSAGE = StatusReportMessage(message_id=SAMPLE_STATUS_MESSAGE_ID, reports=SAMPLE_REPORTS)
SAMPLE_REQUEST = StatusRequest(
    message_id="VCB-STQ-20261201-0001", original_transaction_id="VCB-TX-0002", debtor_agent=VIETCOMBANK
)
SAMPLE_REQUEST_CREATED = datetime(2026, 12, 1, 9, 20, tzinfo=ICT)

# --- the same, built by pyiso20022 --------------------------------------------------------------------


def _agent002(member_id: str) -> p002.BranchAndFinancialInstitutionIdentification6:
    return p002.BranchAndFinancialInstitutionIdentification6(
        fin_instn_id=p002.FinancialInstitutionIdentification18(
            clr_sys_mmb_id=p002.ClearingSystemMemberIdentification2(mmb_id=member_id)
        )
    )


def _pieces(text: str) -> list[str]:
    return [text[start : start + 105] for start in range(0, len(text), 105)]


def pyiso_report(report: StatusReport) -> p002.PaymentTransaction130:
    """A report as pyiso20022's PaymentTransaction130, by the mapping pacs002's docstring gives."""
    reason = None
    if report.status_reason is not None or report.additional_information:
        code = None if report.status_reason is None else p002.StatusReason6Choice(cd=report.status_reason.value)
        reason = [p002.StatusReasonInformation12(rsn=code, addtl_inf=_pieces(report.additional_information or ""))]
    settled = None
    if report.settled_at_ms is not None:
        moment = EPOCH + timedelta(milliseconds=report.settled_at_ms)
        settled = p002.DateAndDateTime2Choice(dt_tm=XmlDateTime.from_datetime(moment))
    amount = None
    if report.amount_vnd is not None:
        amount = p002.ActiveOrHistoricCurrencyAndAmount(value=Decimal(report.amount_vnd), ccy="VND")
    return p002.PaymentTransaction130(
        orgnl_grp_inf=p002.OriginalGroupInformation29(
            orgnl_msg_id=report.original_message_id, orgnl_msg_nm_id="pacs.008.001.12"
        ),
        orgnl_end_to_end_id=report.original_end_to_end_id,
        orgnl_tx_id=report.original_transaction_id,
        tx_sts=report.transaction_status.value,
        sts_rsn_inf=reason or [],
        fctv_intr_bk_sttlm_dt=settled,
        orgnl_tx_ref=p002.OriginalTransactionReference35(
            intr_bk_sttlm_amt=amount,
            dbtr_agt=_agent002(report.debtor_agent),
            cdtr_agt=None if report.creditor_agent is None else _agent002(report.creditor_agent),
        ),
    )


def pyiso_pacs002(message: StatusReportMessage, created: datetime) -> p002.Document:
    header = p002.GroupHeader101(msg_id=message.message_id, cre_dt_tm=XmlDateTime.from_datetime(created))
    body = p002.FitoFipaymentStatusReportV12(grp_hdr=header, tx_inf_and_sts=[pyiso_report(r) for r in message.reports])
    return p002.Document(fito_fipmt_sts_rpt=body)


def pyiso_pacs028(request: StatusRequest, created: datetime) -> p028.Document:
    agent = p028.BranchAndFinancialInstitutionIdentification6(
        fin_instn_id=p028.FinancialInstitutionIdentification18(
            clr_sys_mmb_id=p028.ClearingSystemMemberIdentification2(mmb_id=request.debtor_agent)
        )
    )
    transaction = p028.PaymentTransaction131(
        orgnl_tx_id=request.original_transaction_id, orgnl_tx_ref=p028.OriginalTransactionReference35(dbtr_agt=agent)
    )
    header = p028.GroupHeader91(msg_id=request.message_id, cre_dt_tm=XmlDateTime.from_datetime(created))
    return p028.Document(fito_fipmt_sts_req=p028.FitoFipaymentStatusRequestV05(grp_hdr=header, tx_inf=[transaction]))


def _member(member_id: str) -> bah.Party44Choice:
    return bah.Party44Choice(
        fiid=bah.BranchAndFinancialInstitutionIdentification6(
            fin_instn_id=bah.FinancialInstitutionIdentification18(
                clr_sys_mmb_id=bah.ClearingSystemMemberIdentification2(mmb_id=member_id)
            )
        )
    )


def pyiso_header(sender: str, receiver: str, message_id: str, definition: str, created: datetime) -> bah.AppHdr:
    return bah.AppHdr(
        fr=_member(sender),
        to=_member(receiver),
        biz_msg_idr=message_id,
        msg_def_idr=definition,
        cre_dt=XmlDateTime.from_datetime(created),
    )


def rendered(document: Any, indent: str | None = None, ns_map: dict[str | None, str] | None = None) -> bytes:
    """pyiso20022's dataclass as xsdata writes it (a prefix `ns0` unless `ns_map` says otherwise)."""
    return XmlSerializer(config=SerializerConfig(indent=indent)).render(document, ns_map=ns_map).encode("utf-8")


def enveloped(header: bytes, document: bytes) -> bytes:
    """Two documents written by someone else put in an Envelope, as their declarations allow."""
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<Envelope>\n'
        + without_declaration(header).strip()
        + b"\n"
        + without_declaration(document).strip()
        + b"\n</Envelope>\n"
    )


# --- documents changed, and hostile input -----------------------------------------------------------


def element(data: bytes) -> Any:
    return etree.fromstring(data)


def changed(data: bytes, change: Callable[[Any], None]) -> bytes:
    """The document with `change` applied to its root (lxml), serialized again."""
    root = element(data)
    change(root)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def billion_laughs(root: str) -> bytes:
    """A declaration and a DOCTYPE for `root` whose `&lol9;` would expand to 10⁹ "lol"s."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE {root} [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
""".encode()


BILLION_LAUGHS = billion_laughs("Envelope")
EXTERNAL_ENTITY = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE Document [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
"""


def without_declaration(data: bytes) -> bytes:
    """The document without its XML declaration."""
    return data.split(b"?>", 1)[1]


def with_doctype(prologue: bytes, data: bytes, replace: bytes, entity: bytes) -> bytes:
    """`data` without its declaration, after `prologue`, its first `replace` now `entity`."""
    body = without_declaration(data)
    assert replace in body
    return prologue + body.replace(replace, entity, 1)


SAMPLE_FILES: dict[str, Callable[[], bytes]] = {
    "pacs.002.001.12-pyiso20022.xml": lambda: rendered(
        pyiso_pacs002(SAMPLE_STATUS_MESSAGE, SAMPLE_STATUS_CREATED), "  "
    ),
    "pacs.028.001.05-pyiso20022.xml": lambda: rendered(pyiso_pacs028(SAMPLE_REQUEST, SAMPLE_REQUEST_CREATED), "  "),
    "head.001.001.02-pyiso20022.xml": lambda: rendered(
        pyiso_header(BIDV, NAPAS, SAMPLE_STATUS_MESSAGE_ID, "pacs.002.001.12", SAMPLE_STATUS_CREATED), "  "
    ),
    "envelope-pacs.002.001.12-pyiso20022.xml": lambda: enveloped(
        SAMPLE_FILES["head.001.001.02-pyiso20022.xml"](), SAMPLE_FILES["pacs.002.001.12-pyiso20022.xml"]()
    ),
}


if __name__ == "__main__":
    for name, make in SAMPLE_FILES.items():
        (SAMPLES / name).write_bytes(make())
        print(f"wrote {(SAMPLES / name).relative_to(ROOT)}")
