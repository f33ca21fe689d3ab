"""Identifiers: citizen id (CCCD), mobile number (MSISDN), BIN and account number."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from switch.scheme.identifiers import (
    MOBILE_PREFIXES,
    PROVINCE_NAMES,
    check_account,
    check_bin,
    check_citizen_id,
    check_msisdn,
    citizen_birth_year,
    citizen_is_female,
    normalize_msisdn,
)

THIS_YEAR = 2025

# --- citizen id (CCCD) ---------------------------------------------------------------------------


def test_the_province_codes_name_the_big_cities() -> None:
    assert PROVINCE_NAMES["001"] == "Hà Nội"
    assert PROVINCE_NAMES["079"] == "Hồ Chí Minh"
    assert PROVINCE_NAMES["048"] == "Đà Nẵng"
    assert len(PROVINCE_NAMES) == 63


@pytest.mark.parametrize(
    "citizen_id",
    [
        "001095012345",  # Hà Nội, man born 1995
        "079301004321",  # Hồ Chí Minh, woman born 2001
        "048188123456",  # Đà Nẵng, woman born 1988
        "001200000001",  # Hà Nội, boy born 2000
    ],
)
def test_a_well_formed_citizen_id_from_a_real_province_is_valid(citizen_id: str) -> None:
    assert check_citizen_id(citizen_id, current_year=THIS_YEAR) is None


@pytest.mark.parametrize("citizen_id", ["00109501234", "0010950123456", "", "001 095 012 345"])
def test_a_citizen_id_that_is_not_twelve_digits_long_is_refused(citizen_id: str) -> None:
    assert check_citizen_id(citizen_id, current_year=THIS_YEAR) == "must be exactly 12 digits"


@pytest.mark.parametrize("citizen_id", ["00109501234A", "O01095012345", "001-95012345"])
def test_a_citizen_id_with_letters_or_punctuation_is_refused(citizen_id: str) -> None:
    assert check_citizen_id(citizen_id, current_year=THIS_YEAR) == "must be exactly 12 digits"


def test_a_citizen_id_with_a_trailing_newline_is_refused() -> None:
    assert check_citizen_id("001095012345\n", current_year=THIS_YEAR) == "must be exactly 12 digits"


def test_a_citizen_id_with_an_unknown_province_code_is_refused_naming_the_code() -> None:
    problem = check_citizen_id("003095012345", current_year=THIS_YEAR)
    assert problem is not None
    assert "003" in problem
    assert "province" in problem


def test_a_citizen_id_whose_birth_year_is_in_the_future_is_refused() -> None:
    problem = check_citizen_id("001230012345", current_year=THIS_YEAR)  # 2030
    assert problem is not None
    assert "2030" in problem
    assert "future" in problem


def test_a_birth_year_equal_to_the_current_year_is_accepted() -> None:
    assert check_citizen_id("001325012345", current_year=2025) is None
    assert check_citizen_id("001325012345", current_year=2024) is not None


def test_a_citizen_id_agreeing_with_the_known_birth_year_is_valid() -> None:
    assert check_citizen_id("001095012345", current_year=THIS_YEAR, birth_year=1995) is None


def test_a_citizen_id_disagreeing_with_the_known_birth_year_is_refused() -> None:
    problem = check_citizen_id("001095012345", current_year=THIS_YEAR, birth_year=1996)
    assert problem is not None
    assert "1995" in problem
    assert "1996" in problem


@pytest.mark.parametrize(
    ("citizen_id", "year", "female"),
    [
        ("001095012345", 1995, False),
        ("079195012345", 1995, True),
        ("048201012345", 2001, False),
        ("001324012345", 2024, True),
        ("001000012345", 1900, False),
        ("001599012345", 2199, True),
    ],
)
def test_the_century_digit_gives_the_birth_year_and_gender(citizen_id: str, year: int, female: bool) -> None:
    assert citizen_birth_year(citizen_id) == year
    assert citizen_is_female(citizen_id) is female


province_codes = st.sampled_from(sorted(PROVINCE_NAMES))


@given(
    province=province_codes,
    century_digit=st.integers(min_value=0, max_value=3),
    year_digits=st.integers(min_value=0, max_value=99),
    serial=st.integers(min_value=0, max_value=999_999),
)
def test_any_id_from_a_real_province_born_no_later_than_this_year_is_valid(
    province: str, century_digit: int, year_digits: int, serial: int
) -> None:
    citizen_id = f"{province}{century_digit}{year_digits:02d}{serial:06d}"
    birth_year = 1900 + 100 * (century_digit // 2) + year_digits
    if birth_year > THIS_YEAR:
        assert check_citizen_id(citizen_id, current_year=THIS_YEAR) is not None
        return
    assert check_citizen_id(citizen_id, current_year=THIS_YEAR) is None
    assert check_citizen_id(citizen_id, current_year=THIS_YEAR, birth_year=birth_year) is None
    assert citizen_birth_year(citizen_id) == birth_year
    assert citizen_is_female(citizen_id) is (century_digit % 2 == 1)


@given(
    digits=st.text(alphabet="0123456789", min_size=11, max_size=11),
    intruder=st.characters(exclude_characters="0123456789"),
    position=st.integers(min_value=0, max_value=11),
)
@example(digits="00109501234", intruder="٥", position=11)  # an Arabic-Indic five is not an ASCII digit
@example(digits="00109501234", intruder="５", position=0)  # nor is a full-width five
def test_any_twelve_characters_with_a_non_digit_is_not_a_citizen_id(digits: str, intruder: str, position: int) -> None:
    citizen_id = digits[:position] + intruder + digits[position:]
    assert len(citizen_id) == 12
    assert check_citizen_id(citizen_id, current_year=THIS_YEAR) == "must be exactly 12 digits"


# --- mobile number (MSISDN) ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "number"),
    [
        ("0912345678", "0912345678"),
        ("+84912345678", "0912345678"),
        ("+84 912 345 678", "0912345678"),
        ("84912345678", "0912345678"),
        ("84 96 123 4567", "0961234567"),
        ("098.765.4321", "0987654321"),
        ("(090) 123-4567", "0901234567"),
    ],
)
def test_a_mobile_number_written_any_usual_way_normalises_to_the_zero_prefixed_form(written: str, number: str) -> None:
    assert normalize_msisdn(written) == number


def test_a_number_starting_with_84_that_is_already_ten_digits_is_left_alone() -> None:
    assert normalize_msisdn("0848123456") == "0848123456"


@pytest.mark.parametrize(
    "number",
    [
        "0961234567",  # Viettel
        "0981234567",  # Viettel
        "0912345678",  # VinaPhone
        "0901234567",  # MobiFone
        "0321234567",  # Viettel, renumbered 016x
        "0861234567",  # Viettel
    ],
)
def test_a_number_with_a_real_mobile_prefix_is_valid(number: str) -> None:
    assert check_msisdn(number) is None


def test_the_old_eleven_digit_prefix_01x_is_refused_naming_the_prefix() -> None:
    problem = check_msisdn("0123456789")
    assert problem is not None
    assert "012" in problem


@pytest.mark.parametrize("number", ["091234567", "09123456789", "912345678", "+84912345678", "09123456a8", ""])
def test_a_number_that_is_not_ten_digits_starting_with_zero_is_refused(number: str) -> None:
    assert check_msisdn(number) == "must be a 10-digit Vietnamese mobile number starting with 0"


def test_a_mobile_number_with_a_trailing_newline_is_refused() -> None:
    assert check_msisdn("0912345678\n") is not None


def test_every_listed_mobile_prefix_is_three_digits_starting_with_zero() -> None:
    assert all(len(prefix) == 3 and prefix.startswith("0") and prefix.isdigit() for prefix in MOBILE_PREFIXES)


@given(prefix=st.sampled_from(sorted(MOBILE_PREFIXES)), rest=st.integers(min_value=0, max_value=9_999_999))
def test_any_number_written_with_plus_84_is_the_same_number_as_its_zero_form(prefix: str, rest: int) -> None:
    local = f"{prefix}{rest:07d}"
    assert check_msisdn(local) is None
    assert normalize_msisdn("+84" + local[1:]) == local
    assert normalize_msisdn("84" + local[1:]) == local
    assert check_msisdn(normalize_msisdn(local)) is None


# --- BIN and account number ----------------------------------------------------------------------


@pytest.mark.parametrize("bin_", ["970436", "970418", "970415", "970405", "999888", "971005"])
def test_a_real_six_digit_bin_is_valid(bin_: str) -> None:
    assert check_bin(bin_) is None


@pytest.mark.parametrize("bin_", ["97043X", "97043", "9704360", "", " 970436", "９７０４３６"])
def test_a_bin_that_is_not_six_ascii_digits_is_refused(bin_: str) -> None:
    assert check_bin(bin_) == "must be a 6-digit bank identification number"


def test_a_bin_with_a_trailing_newline_is_refused() -> None:
    assert check_bin("970436\n") == "must be a 6-digit bank identification number"


@pytest.mark.parametrize("account", ["0011004123456", "123456", "1234567890123456789", "VBSP00123456"])
def test_an_account_of_six_to_nineteen_letters_or_digits_is_valid(account: str) -> None:
    assert check_account(account) is None


@pytest.mark.parametrize("account", ["12345", "12345678901234567890", "0011-004-123", "001 100 412", ""])
def test_an_account_too_short_too_long_or_with_punctuation_is_refused(account: str) -> None:
    assert check_account(account) == "must be 6 to 19 letters or digits"


def test_an_account_with_a_trailing_newline_is_refused() -> None:
    assert check_account("0011004123456\n") == "must be 6 to 19 letters or digits"
