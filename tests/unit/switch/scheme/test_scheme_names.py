"""The name check: normalisation, comparison (MTCH / CMTC / NMTC) and masking."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from switch.scheme.codes import VerificationOutcome
from switch.scheme.names import compare_names, mask_name, normalize_name

MTCH, CMTC, NMTC = VerificationOutcome.MTCH, VerificationOutcome.CMTC, VerificationOutcome.NMTC

# --- normalize_name ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "normalised"),
    [
        ("Nguyễn Văn Đức", "NGUYEN VAN DUC"),
        ("Đặng Thị Ánh", "DANG THI ANH"),
        ("Trần Thị Thu Hương", "TRAN THI THU HUONG"),
        ("Phạm Quốc Việt", "PHAM QUOC VIET"),
        ("Lê Hoàng Yến", "LE HOANG YEN"),
        ("đỗ mạnh hùng", "DO MANH HUNG"),
        ("NGUYEN VAN DUC", "NGUYEN VAN DUC"),
    ],
)
def test_a_vietnamese_name_normalises_to_upper_case_without_diacritics(name: str, normalised: str) -> None:
    assert normalize_name(name) == normalised


def test_the_letter_d_with_stroke_becomes_a_plain_d_in_both_cases() -> None:
    assert normalize_name("Đ") == "D"
    assert normalize_name("đ") == "D"


def test_a_name_written_in_decomposed_unicode_normalises_like_the_precomposed_one() -> None:
    decomposed = "Nguye\u0302\u0303n Va\u0306n Đu\u031b\u0301c"
    assert normalize_name(decomposed) == "NGUYEN VAN DUC"


def test_runs_of_spaces_tabs_and_outer_blanks_collapse_to_single_spaces() -> None:
    assert normalize_name("  Nguyễn   Văn\tĐức \n") == "NGUYEN VAN DUC"


def test_a_blank_name_normalises_to_the_empty_string() -> None:
    assert normalize_name("") == ""
    assert normalize_name("   ") == ""


def test_a_lower_case_eth_normalises_like_its_capital() -> None:
    # Ð (U+00D0, often typed for Đ) maps to D, so its lower case ð must end as D too, not as Ð.
    assert normalize_name("ð") == normalize_name("Ð") == "D"


names_of_any_text = st.text(max_size=40)


@given(names_of_any_text)
@example("ð")
@example("Nguyễn Văn Đức")
def test_normalising_a_name_twice_changes_nothing_more(name: str) -> None:
    once = normalize_name(name)
    assert normalize_name(once) == once


# --- compare_names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_name", "holder"),
    [
        ("Nguyễn Văn Đức", "NGUYEN VAN DUC"),
        ("nguyễn văn đức", "Nguyễn Văn Đức"),
        ("Nguyen Van Duc", "Nguyễn  Văn  Đức"),
        ("Đặng Thị Ánh", "dang thi anh"),
    ],
)
def test_the_same_name_in_any_case_or_diacritics_is_a_match(given_name: str, holder: str) -> None:
    assert compare_names(given_name, holder) == MTCH


def test_the_same_words_in_another_order_are_a_close_match() -> None:
    assert compare_names("Đức Nguyễn Văn", "Nguyễn Văn Đức") == CMTC


def test_a_middle_name_left_out_is_a_close_match() -> None:
    assert compare_names("Nguyễn Đức", "Nguyễn Văn Đức") == CMTC
    assert compare_names("Trần Thị Thu Hương", "Trần Thu Hương") == CMTC


def test_a_one_letter_typo_is_a_close_match() -> None:
    assert compare_names("Nguyễn Văn Đúc", "Nguyễn Văn Đức") == MTCH  # diacritics alone do not count
    assert compare_names("Nguyen Van Dut", "Nguyễn Văn Đức") == CMTC  # a letter changed
    assert compare_names("Nguyen Vn Duc", "Nguyễn Văn Đức") == CMTC  # a letter left out
    assert compare_names("Nguyenn Van Duc", "Nguyễn Văn Đức") == CMTC  # a letter doubled


def test_a_different_person_is_no_match() -> None:
    assert compare_names("Trần Thị Mai", "Nguyễn Văn Đức") == NMTC
    assert compare_names("Nguyễn Văn Minh", "Nguyễn Văn Đức") == NMTC


def test_the_given_name_left_out_is_no_match() -> None:
    assert compare_names("Nguyễn Văn", "Nguyễn Văn Đức") == NMTC


def test_the_family_name_left_out_is_no_match() -> None:
    assert compare_names("Văn Đức", "Nguyễn Văn Đức") == NMTC


def test_two_letters_wrong_in_one_word_is_no_match() -> None:
    assert compare_names("Nguyễn Văn Đông", "Nguyễn Văn Đức") == NMTC


def test_a_typo_in_two_words_is_no_match() -> None:
    assert compare_names("Nguyen Vam Dut", "Nguyễn Văn Đức") == NMTC


@pytest.mark.parametrize(("given_name", "holder"), [("", "Nguyễn Văn Đức"), ("Nguyễn Văn Đức", ""), ("  ", "  ")])
def test_an_empty_or_blank_name_is_never_a_match(given_name: str, holder: str) -> None:
    assert compare_names(given_name, holder) == NMTC


def test_comparing_is_symmetric_for_a_middle_name_left_out() -> None:
    assert compare_names("Nguyễn Văn Đức", "Nguyễn Đức") == CMTC


words = st.text(alphabet=st.characters(categories=["L"]), min_size=1, max_size=10)
letter_names = st.lists(words, min_size=1, max_size=5).map(" ".join)


@given(letter_names)
@example("Nguyễn Văn Đức")
@example("ð")
def test_any_name_made_of_letters_matches_itself(name: str) -> None:
    assert compare_names(name, name) == MTCH


# --- mask_name -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("Nguyễn Văn Đức", "N***** V** DUC"),
        ("Đặng Thị Ánh", "D*** T** ANH"),
        ("Trần Thị Thu Hương", "T*** T** T** HUONG"),
        ("Lê Na", "L* NA"),
    ],
)
def test_masking_keeps_the_given_name_and_reduces_the_others_to_initials(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_a_single_word_name_is_shown_whole() -> None:
    assert mask_name("Đức") == "DUC"


def test_a_blank_name_masks_to_nothing() -> None:
    assert mask_name("   ") == ""


@given(letter_names)
def test_a_masked_name_keeps_the_number_and_lengths_of_the_words(name: str) -> None:
    normalised = normalize_name(name).split()
    masked = mask_name(name).split()
    assert [len(w) for w in masked] == [len(w) for w in normalised]
    assert masked[-1] == normalised[-1]
    assert all(m[0] == n[0] and set(m[1:]) <= {"*"} for m, n in zip(masked[:-1], normalised[:-1], strict=True))
