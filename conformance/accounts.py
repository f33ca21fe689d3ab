"""The test accounts a certification credits: an open one with its holder's name, a closed one, a
blocked one, and one that does not exist. The integrator names theirs in a small file; without one,
the kit takes the accounts of the simulated bank or wallet of `switchyard serve` with that BIN.

    # accounts.toml (or the same keys in a .json file)
    [open]
    account = "9704180000000"
    holder_name = "Mai Kim Xuân"
    [closed]
    account = "9704180999998"
    [blocked]
    account = "9704180999999"
    [unknown]                    # optional: an account number your system has never given out
    account = "000000000000"
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from switch.scheme.messages import AccountNumber, Max140Text
from switch.scheme.names import normalize_name

ACCOUNTS_BYTES_MAX = 64 * 1024  # four accounts and a name: anything larger is not an accounts file
UNKNOWN_ACCOUNT = "000000000000"  # no bank or wallet gives out an all-zero number


class AccountsInvalid(ValueError):
    """An accounts file that cannot be used: which key, and which rule it breaks."""

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source, self.problems = source, problems
        super().__init__("\n".join(f"{source}: {key}: {rule}" for key, rule in problems))


class Account(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    account: AccountNumber


class OpenAccount(Account):
    holder_name: Max140Text

    @field_validator("holder_name")
    @classmethod
    def _name_has_letters(cls, name: str) -> str:
        if not normalize_name(name):
            raise ValueError("must be the holder's name, not only spaces or marks")
        return name


class Accounts(BaseModel):
    """The four accounts, all different: a check that credits one must not land on another."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    open: OpenAccount
    closed: Account
    blocked: Account
    unknown: Account = Field(default_factory=lambda: Account(account=UNKNOWN_ACCOUNT))

    @model_validator(mode="after")
    def _accounts_differ(self) -> Accounts:
        numbers = [self.open.account, self.closed.account, self.blocked.account, self.unknown.account]
        if len(set(numbers)) != len(numbers):
            raise ValueError(f"open, closed, blocked and unknown must be four different accounts, got {numbers}")
        return self


def load_accounts(path: Path) -> Accounts:
    """The accounts in a TOML file (or JSON, by its .json suffix); AccountsInvalid names what is wrong."""
    try:
        with path.open("rb") as file:
            data = file.read(ACCOUNTS_BYTES_MAX + 1)
    except OSError as error:
        raise AccountsInvalid(str(path), [("(file)", f"cannot be read: {error.strerror or error}")]) from None
    if len(data) > ACCOUNTS_BYTES_MAX:
        raise AccountsInvalid(str(path), [("(file)", f"at most {ACCOUNTS_BYTES_MAX} bytes")])
    return parse_accounts(data, str(path), "json" if path.suffix.lower() == ".json" else "toml")


def parse_accounts(data: bytes, source: str, syntax: str) -> Accounts:
    try:
        text = data.decode("utf-8")
        document: Any = json.loads(text) if syntax == "json" else tomllib.loads(text)
    except UnicodeDecodeError:
        raise AccountsInvalid(source, [("(file)", "must be UTF-8 text")]) from None
    except (ValueError, tomllib.TOMLDecodeError) as error:
        raise AccountsInvalid(source, [(f"({syntax})", str(error))]) from None
    if not isinstance(document, dict):
        raise AccountsInvalid(source, [("(file)", "must be a table of open, closed, blocked (and unknown)")])
    try:
        return Accounts.model_validate(document)
    except ValidationError as error:
        problems = [
            (".".join(str(part) for part in item["loc"]) or "(file)", item["msg"].removeprefix("Value error, "))
            for item in error.errors()
        ]
        raise AccountsInvalid(source, problems) from None


def simulated_accounts(bin_code: str) -> Accounts:
    """The accounts of `switchyard serve`'s simulated bank or wallet with this BIN: its first sample
    account with its holder's name as the population writes it, and its closed and blocked accounts."""
    from network.participants import (
        DEFAULT_PARTICIPANTS,
        refusing_sample_customers,
        sample_customers,
        sample_population,
    )

    position = next((n for n, spec in enumerate(DEFAULT_PARTICIPANTS) if spec.bin == bin_code), None)
    if position is None:
        known = ", ".join(spec.bin for spec in DEFAULT_PARTICIPANTS)
        rule = f"{bin_code} is not a simulated participant of serve ({known}): name your test accounts in a file"
        raise AccountsInvalid("--accounts", [("(default)", rule)])
    spec = DEFAULT_PARTICIPANTS[position]
    registry = sample_population()
    people = registry.people()
    holder = sample_customers(spec, position, people)[0]
    person = registry.person(holder.citizen_id)
    closed, blocked = refusing_sample_customers(spec, position, people)
    return Accounts(
        open=OpenAccount(account=holder.account, holder_name=person.name if person else holder.holder_name),
        closed=Account(account=closed.account),
        blocked=Account(account=blocked.account),
    )
