"""conformance.accounts: an integrator's test accounts file is read (TOML or JSON), or refused naming
the key and the rule; without one, serve's simulated bank or wallet with that BIN lends its own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.accounts import (
    ACCOUNTS_BYTES_MAX,
    UNKNOWN_ACCOUNT,
    AccountsInvalid,
    load_accounts,
    parse_accounts,
    simulated_accounts,
)
from network.participants import sample_population
from switch.scheme.names import normalize_name

DEV_BANK_TOML = """
# Dev Bank's test accounts at its core banking test system
[open]
account = "8800000000001"
holder_name = "Nguyễn Thị Thu Hà"

[closed]
account = "8800000000002"

[blocked]
account = "8800000000003"
"""


def _problems(text: str, syntax: str = "toml") -> list[tuple[str, str]]:
    with pytest.raises(AccountsInvalid) as refused:
        parse_accounts(text.encode(), "accounts.toml", syntax)
    return refused.value.problems


def test_a_toml_file_gives_the_open_closed_and_blocked_accounts_and_a_default_unknown_one() -> None:
    accounts = parse_accounts(DEV_BANK_TOML.encode(), "accounts.toml", "toml")
    assert accounts.open.account == "8800000000001"
    assert accounts.open.holder_name == "Nguyễn Thị Thu Hà"
    assert (accounts.closed.account, accounts.blocked.account) == ("8800000000002", "8800000000003")
    assert accounts.unknown.account == UNKNOWN_ACCOUNT


def test_a_json_file_with_the_same_keys_is_read_by_its_suffix(tmp_path: Path) -> None:
    document = {
        "open": {"account": "8800000000001", "holder_name": "Trần Văn Bình"},
        "closed": {"account": "8800000000002"},
        "blocked": {"account": "8800000000003"},
        "unknown": {"account": "8800009999999"},
    }
    path = tmp_path / "accounts.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    accounts = load_accounts(path)
    assert accounts.open.holder_name == "Trần Văn Bình"
    assert accounts.unknown.account == "8800009999999"


def test_a_missing_holder_name_is_named_by_its_key() -> None:
    text = DEV_BANK_TOML.replace('holder_name = "Nguyễn Thị Thu Hà"\n', "")
    assert _problems(text) == [("open.holder_name", "Field required")]


def test_a_missing_blocked_account_is_named_by_its_key() -> None:
    text = DEV_BANK_TOML.split("[blocked]")[0]
    assert [key for key, _rule in _problems(text)] == ["blocked"]


def test_an_account_number_with_a_dash_breaks_the_scheme_rule_for_account_numbers() -> None:
    problems = _problems(DEV_BANK_TOML.replace("8800000000002", "8800-0000-0002"))
    assert problems == [("closed.account", "must be 6 to 19 letters or digits")]


def test_the_same_account_as_open_and_closed_is_refused() -> None:
    problems = _problems(DEV_BANK_TOML.replace("8800000000002", "8800000000001"))
    assert len(problems) == 1
    assert "four different accounts" in problems[0][1]


def test_a_holder_name_of_only_spaces_is_refused() -> None:
    (key, rule), *_ = _problems(DEV_BANK_TOML.replace("Nguyễn Thị Thu Hà", "   "))
    assert key == "open.holder_name"
    assert "holder's name" in rule


def test_an_unknown_key_is_refused_so_a_misspelt_one_is_not_silently_ignored() -> None:
    problems = _problems(DEV_BANK_TOML.replace("[blocked]", "[blocked]\nstatus = 'blocked'"))
    assert problems == [("blocked.status", "Extra inputs are not permitted")]


def test_broken_toml_is_refused_with_the_parser_s_line() -> None:
    (key, rule), *_ = _problems(DEV_BANK_TOML.replace('account = "8800000000002"', "account = 8800000000002x"))
    assert key == "(toml)"
    assert "line 8" in rule


def test_broken_json_is_refused_as_json() -> None:
    (key, _rule), *_ = _problems('{"open": ', "json")
    assert key == "(json)"


def test_a_json_list_is_not_an_accounts_file() -> None:
    assert [key for key, _rule in _problems("[]", "json")] == ["(file)"]


def test_a_file_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(AccountsInvalid) as refused:
        parse_accounts(DEV_BANK_TOML.encode("utf-16"), "accounts.toml", "toml")
    assert refused.value.problems == [("(file)", "must be UTF-8 text")]


def test_an_oversized_file_is_refused_before_it_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "accounts.toml"
    path.write_text(DEV_BANK_TOML + "#" * ACCOUNTS_BYTES_MAX, encoding="utf-8")
    with pytest.raises(AccountsInvalid) as refused:
        load_accounts(path)
    assert refused.value.problems == [("(file)", f"at most {ACCOUNTS_BYTES_MAX} bytes")]


def test_a_missing_file_is_refused_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(AccountsInvalid) as refused:
        load_accounts(tmp_path / "nowhere.toml")
    assert str(refused.value).startswith(str(tmp_path / "nowhere.toml") + ": (file): cannot be read")


def test_bidv_in_serve_lends_its_first_sample_account_and_its_closed_and_blocked_ones() -> None:
    accounts = simulated_accounts("970418")
    assert accounts.open.account == "9704180000000"
    assert (accounts.closed.account, accounts.blocked.account) == ("9704180999998", "9704180999999")
    holders = {person.name for person in sample_population().people()}
    assert accounts.open.holder_name in holders  # as the population writes it, with its diacritics
    assert accounts.open.holder_name != normalize_name(accounts.open.holder_name)


def test_a_wallet_in_serve_lends_mobile_numbers() -> None:
    accounts = simulated_accounts("971005")
    assert (accounts.open.account, accounts.closed.account) == ("0905000000", "0905999998")


def test_a_bin_that_serve_does_not_simulate_needs_an_accounts_file() -> None:
    with pytest.raises(AccountsInvalid) as refused:
        simulated_accounts("970499")
    assert "970499 is not a simulated participant of serve" in str(refused.value)
