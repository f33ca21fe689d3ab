"""Cash lists that look like the domain: real commune codes, Vietnamese names, valid citizen ids."""

from __future__ import annotations

from datetime import date

from payer.registry import citizen_id_for
from post_office.schemas import CashList, CashListLine, CashReason, PayoutClaim, Representative
from switch.scheme.codes import Program, StatusReason

REQUEST_ID = "PR-2026-12-HN-001"
CYCLE = "2026-12"
DAY_MS = 86_400_000
OPENS_MS = 1_796_083_200_000  # 1 December 2026, 00:00 UTC
DEADLINE_MS = OPENS_MS + 10 * DAY_MS

# Vietnam's commune codes (Decision 124/2004/QĐ-TTg): (commune code, name, CCCD province code).
PHUC_XA = ("00001", "Phường Phúc Xá", "001")
TRUC_BACH = ("00004", "Phường Trúc Bạch", "001")  # Phường Ba Đình since July 2025, same code
BEN_NGHE = ("26734", "Phường Bến Nghé", "079")
BEN_THANH = ("26740", "Phường Bến Thành", "079")
PHU_HOA = ("25774", "Phường Phú Hòa", "074")
COMMUNES = (PHUC_XA, TRUC_BACH, BEN_NGHE, BEN_THANH, PHU_HOA)

PEOPLE = (
    ("Nguyễn Thị Hương", date(1938, 3, 12), True),
    ("Trần Văn Đức", date(1941, 7, 2), False),
    ("Lê Thị Thu Hà", date(1950, 11, 23), True),
    ("Phạm Văn Hùng", date(1947, 5, 30), False),
    ("Hoàng Thị Lụa", date(1936, 1, 8), True),
    ("Võ Văn Khải", date(1955, 9, 14), False),
    ("Đặng Thị Ngọc Ánh", date(1962, 12, 1), True),
    ("Bùi Quang Vinh", date(1944, 4, 19), False),
)
REASONS = (
    (CashReason.FRAIL_ELDERLY, None),
    (CashReason.NO_REGISTERED_ACCOUNT, StatusReason.BE23),
    (CashReason.ASKED_FOR_CASH, None),
    (CashReason.DISABLED_WITHOUT_FINGERPRINTS, None),
    (CashReason.ACCOUNT_REFUSED, StatusReason.AC04),
    (CashReason.UNABLE_TO_MANAGE_AFFAIRS, None),
    (CashReason.PARTICIPANT_UNREACHABLE, StatusReason.AB08),
)


def line(
    index: int,
    commune: tuple[str, str, str] = TRUC_BACH,
    amount_vnd: int | None = None,
    reason: CashReason | None = None,
    program: Program = Program.SOCIAL_ASSISTANCE,
) -> CashListLine:
    """The index-th person of a commune's list, each a different person with a valid citizen id."""
    code, _name, province = commune
    name, born, female = PEOPLE[index % len(PEOPLE)]
    chosen, status_reason = REASONS[index % len(REASONS)] if reason is None else (reason, None)
    if reason is not None and reason.from_switch:
        status_reason = StatusReason.BE23
    no_id = chosen == CashReason.NO_CITIZEN_ID_YET
    return CashListLine(
        line_id=f"E2E{code}{index:06d}",
        citizen_id=None if no_id else citizen_id_for(province, born, female, 10_000 + index),
        identity_document=f"Giấy xác nhận số {index}/XN-UBND" if no_id else None,
        name=name,
        province_code=province,
        commune_code=code,
        program=program,
        amount_vnd=amount_vnd if amount_vnd is not None else 500_000 * (1 + index % 3),
        reason=chosen,
        status_reason=status_reason,
    )


def cash_list(
    size: int = 5,
    commune: tuple[str, str, str] = TRUC_BACH,
    request_id: str = REQUEST_ID,
    deadline_ms: int = DEADLINE_MS,
) -> CashList:
    lines = tuple(line(i, commune) for i in range(size))
    return CashList(
        request_id=request_id,
        commune_code=commune[0],
        cycle=CYCLE,
        deadline_ms=deadline_ms,
        total_vnd=sum(item.amount_vnd for item in lines),
        lines=lines,
    )


def claim_for(item: CashListLine, representative: Representative | None = None) -> PayoutClaim:
    return PayoutClaim(line_id=item.line_id, presented_id=item.identity_number, representative=representative)


def daughter_of(item: CashListLine) -> Representative:
    """The beneficiary's daughter, authorised in writing and certified by the ward."""
    family = item.name.split(" ", 1)[0]
    return Representative(
        citizen_id=citizen_id_for(item.province_code, date(1975, 6, 15), True, 777_000 + int(item.line_id[-6:])),
        name=f"{family} Thị Minh Châu",
        authorisation_reference="Giấy ủy quyền số 15/2026/UQ",
    )
