"""Identifiers of the scheme: citizen id (CCCD), Vietnamese mobile number, BIN, account number.

Each `check_*` returns None when valid, else the rule the value breaks, so callers can name it.
"""

from __future__ import annotations

import re

# CCCD province codes (Circular 07/2016/TT-BCA, the 63 provinces before the 2025 merger).
PROVINCE_NAMES: dict[str, str] = {
    "001": "Hà Nội", "002": "Hà Giang", "004": "Cao Bằng", "006": "Bắc Kạn", "008": "Tuyên Quang",
    "010": "Lào Cai", "011": "Điện Biên", "012": "Lai Châu", "014": "Sơn La", "015": "Yên Bái",
    "017": "Hòa Bình", "019": "Thái Nguyên", "020": "Lạng Sơn", "022": "Quảng Ninh", "024": "Bắc Giang",
    "025": "Phú Thọ", "026": "Vĩnh Phúc", "027": "Bắc Ninh", "030": "Hải Dương", "031": "Hải Phòng",
    "033": "Hưng Yên", "034": "Thái Bình", "035": "Hà Nam", "036": "Nam Định", "037": "Ninh Bình",
    "038": "Thanh Hóa", "040": "Nghệ An", "042": "Hà Tĩnh", "044": "Quảng Bình", "045": "Quảng Trị",
    "046": "Thừa Thiên Huế", "048": "Đà Nẵng", "049": "Quảng Nam", "051": "Quảng Ngãi",
    "052": "Bình Định", "054": "Phú Yên", "056": "Khánh Hòa", "058": "Ninh Thuận", "060": "Bình Thuận",
    "062": "Kon Tum", "064": "Gia Lai", "066": "Đắk Lắk", "067": "Đắk Nông", "068": "Lâm Đồng",
    "070": "Bình Phước", "072": "Tây Ninh", "074": "Bình Dương", "075": "Đồng Nai",
    "077": "Bà Rịa - Vũng Tàu", "079": "Hồ Chí Minh", "080": "Long An", "082": "Tiền Giang",
    "083": "Bến Tre", "084": "Trà Vinh", "086": "Vĩnh Long", "087": "Đồng Tháp", "089": "An Giang",
    "091": "Kiên Giang", "092": "Cần Thơ", "093": "Hậu Giang", "094": "Sóc Trăng", "095": "Bạc Liêu",
    "096": "Cà Mau",
}  # fmt: skip

# Mobile prefixes in use after the 2018 renumbering (Viettel, VinaPhone, MobiFone, Vietnamobile,
# Gmobile, Itelecom).
MOBILE_PREFIXES: frozenset[str] = frozenset(
    ["032", "033", "034", "035", "036", "037", "038", "039", "086", "096", "097", "098",
     "081", "082", "083", "084", "085", "088", "091", "094",
     "070", "076", "077", "078", "079", "089", "090", "093",
     "052", "056", "058", "092", "059", "099", "087"]
)  # fmt: skip

# fullmatch with these: `$` alone would let a trailing newline through.
CITIZEN_ID_PATTERN = re.compile(r"[0-9]{12}")
MSISDN_PATTERN = re.compile(r"0[0-9]{9}")
BIN_PATTERN = re.compile(r"[0-9]{6}")
ACCOUNT_PATTERN = re.compile(r"[0-9A-Za-z]{6,19}")
# The 4th digit encodes century and gender: 0/1 born 1900-1999 (male/female), 2/3 2000-2099, and so
# on up to 8/9 for 2300-2399.
CENTURY_DIGIT_MAX = 9


def citizen_birth_year(citizen_id: str) -> int:
    century_digit = int(citizen_id[3])
    return 1900 + 100 * (century_digit // 2) + int(citizen_id[4:6])


def citizen_is_female(citizen_id: str) -> bool:
    return int(citizen_id[3]) % 2 == 1


def check_citizen_id(citizen_id: str, current_year: int, birth_year: int | None = None) -> str | None:
    """The structural rules of a CCCD number; `birth_year`, when known, must agree with digits 4-6."""
    if not CITIZEN_ID_PATTERN.fullmatch(citizen_id):
        return "must be exactly 12 digits"
    if citizen_id[:3] not in PROVINCE_NAMES:
        return f"province code {citizen_id[:3]} is not a CCCD province code"
    year = citizen_birth_year(citizen_id)
    if year > current_year:
        return (
            f"century digit {citizen_id[3]} with year digits {citizen_id[4:6]} gives birth year {year}, in the future"
        )
    if birth_year is not None and year != birth_year:
        return f"century and year digits give birth year {year}, not {birth_year}"
    return None


def normalize_msisdn(value: str) -> str:
    """+84 912 345 678, 84912345678 and 0912345678 are one number: 0912345678."""
    digits = re.sub(r"[\s.\-()]", "", value)
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    return digits


def check_msisdn(value: str) -> str | None:
    if not MSISDN_PATTERN.fullmatch(value):
        return "must be a 10-digit Vietnamese mobile number starting with 0"
    if value[:3] not in MOBILE_PREFIXES:
        return f"prefix {value[:3]} is not a Vietnamese mobile prefix"
    return None


def check_bin(value: str) -> str | None:
    return None if BIN_PATTERN.fullmatch(value) else "must be a 6-digit bank identification number"


def check_account(value: str) -> str | None:
    return None if ACCOUNT_PATTERN.fullmatch(value) else "must be 6 to 19 letters or digits"
