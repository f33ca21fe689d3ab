"""Participant administration: register, suspend, resume, caps, funds in and out, positions.

Every change of money goes through the switch's ledger: funds in move from the switch's settlement
account to the participant's position; a net debit cap is a credit line on the position, so the
ledger's own `debits must not exceed credits` rule enforces the cap atomically.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import Connection

from ledger import Account, AccountFlag, Ledger, Transfer, TransferResult
from switch.errors import (
    InputInvalid,
    LimitInUse,
    ParticipantExists,
    ParticipantNotFound,
)
from switch.participants import repository
from switch.participants.schemas import (
    CREDIT_LINE_ACCOUNT,
    PARTICIPANTS_MAX,
    SWITCH_SETTLEMENT_ACCOUNT,
    Credentials,
    Participant,
    Position,
    position_account,
)
from switch.scheme.codes import ParticipantStatus, WireFormat
from switch.scheme.identifiers import check_bin
from switch.scheme.messages import AMOUNT_VND_MAX

ACCOUNT_CODE_POSITION = 1
ACCOUNT_CODE_SWITCH = 2
TRANSFER_CODE_FUNDS = 10
TRANSFER_CODE_CAP = 11
BASE_URL_LENGTH_MAX = 300


KEY_BYTES = 32
API_KEY_LENGTH_MAX = 200


def key_digest(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


class ParticipantService:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def setup(self, conn: Connection) -> None:
        repository.add_missing_columns(conn)
        self.ledger.create_accounts(
            conn,
            [
                Account(SWITCH_SETTLEMENT_ACCOUNT, ACCOUNT_CODE_SWITCH),
                Account(CREDIT_LINE_ACCOUNT, ACCOUNT_CODE_SWITCH),
            ],
        )

    def all(self, conn: Connection) -> dict[str, Participant]:
        return repository.load_all(conn)

    def get(self, conn: Connection, bin_code: str) -> Participant:
        found = repository.load_all(conn).get(bin_code)
        if found is None:
            raise ParticipantNotFound("bin", f"no participant has BIN {bin_code}")
        return found

    def register(self, conn: Connection, participant: Participant, now_ms: int) -> Participant:
        problem = check_bin(participant.bin)
        if problem:
            raise InputInvalid("bin", problem)
        if not participant.name.strip() or len(participant.name) > 140:
            raise InputInvalid("name", "must be 1 to 140 characters")
        _check_whole_vnd("net_debit_cap_vnd", participant.net_debit_cap_vnd, allow_zero=True)
        if participant.base_url is not None and not 0 < len(participant.base_url) <= BASE_URL_LENGTH_MAX:
            raise InputInvalid("base_url", f"must be 1 to {BASE_URL_LENGTH_MAX} characters")
        existing = repository.load_all(conn)
        if participant.bin in existing:
            raise ParticipantExists("bin", f"BIN {participant.bin} is already registered")
        if len(existing) >= PARTICIPANTS_MAX:
            raise InputInvalid("bin", f"the registry holds at most {PARTICIPANTS_MAX} participants")
        repository.insert(conn, participant)
        self.ledger.create_accounts(
            conn,
            [
                Account(
                    position_account(participant.bin), ACCOUNT_CODE_POSITION, AccountFlag.DEBITS_MUST_NOT_EXCEED_CREDITS
                )
            ],
        )
        if participant.net_debit_cap_vnd:
            self._move(
                conn, CREDIT_LINE_ACCOUNT, participant.bin, participant.net_debit_cap_vnd, TRANSFER_CODE_CAP, now_ms
            )
        return participant

    def issue_credentials(self, conn: Connection, bin_code: str, now_ms: int) -> Credentials:
        """A new API key and signing secret for a participant; the old ones stop working at once.

        Only the key's SHA-256 is stored: the key is shown once, to the admin who asked.
        """
        self.get(conn, bin_code)
        credentials = Credentials(bin_code, secrets.token_urlsafe(KEY_BYTES), secrets.token_hex(KEY_BYTES))
        repository.save_credentials(conn, bin_code, key_digest(credentials.api_key), credentials.signing_secret, now_ms)
        return credentials

    def authenticate(self, conn: Connection, api_key: str) -> str | None:
        """The BIN an API key belongs to, or None."""
        if not api_key or len(api_key) > API_KEY_LENGTH_MAX:
            return None
        return repository.bin_for_key(conn, key_digest(api_key))

    def signing_secret(self, conn: Connection, bin_code: str) -> str | None:
        return repository.signing_secret(conn, bin_code)

    def set_status(self, conn: Connection, bin_code: str, status: ParticipantStatus) -> Participant:
        self.get(conn, bin_code)
        repository.set_status(conn, bin_code, status)
        return self.get(conn, bin_code)

    def set_wire(self, conn: Connection, bin_code: str, wire: WireFormat) -> Participant:
        self.get(conn, bin_code)
        repository.set_wire(conn, bin_code, wire)
        return self.get(conn, bin_code)

    def set_cap(self, conn: Connection, bin_code: str, cap_vnd: int, now_ms: int) -> Participant:
        _check_whole_vnd("net_debit_cap_vnd", cap_vnd, allow_zero=True)
        participant = self.get(conn, bin_code)
        delta = cap_vnd - participant.net_debit_cap_vnd
        if delta > 0:
            self._move(conn, CREDIT_LINE_ACCOUNT, bin_code, delta, TRANSFER_CODE_CAP, now_ms)
        elif delta < 0:
            self._move_out(conn, bin_code, CREDIT_LINE_ACCOUNT, -delta, TRANSFER_CODE_CAP, now_ms)
        repository.set_cap(conn, bin_code, cap_vnd)
        return self.get(conn, bin_code)

    def fund_in(self, conn: Connection, bin_code: str, amount_vnd: int, now_ms: int) -> Position:
        _check_whole_vnd("amount_vnd", amount_vnd)
        self.get(conn, bin_code)
        self._move(conn, SWITCH_SETTLEMENT_ACCOUNT, bin_code, amount_vnd, TRANSFER_CODE_FUNDS, now_ms)
        return self.position(conn, bin_code)

    def fund_out(self, conn: Connection, bin_code: str, amount_vnd: int, now_ms: int) -> Position:
        """Funds out may not dip into the cap: only prefunded money that is not reserved leaves."""
        _check_whole_vnd("amount_vnd", amount_vnd)
        position = self.position(conn, bin_code)
        if amount_vnd > position.liquidity_vnd - position.reserved_vnd:
            raise LimitInUse(
                "amount_vnd",
                f"only {max(0, position.liquidity_vnd - position.reserved_vnd)} VND of prefunded liquidity is free",
            )
        self._move_out(conn, bin_code, SWITCH_SETTLEMENT_ACCOUNT, amount_vnd, TRANSFER_CODE_FUNDS, now_ms)
        return self.position(conn, bin_code)

    def position(self, conn: Connection, bin_code: str) -> Position:
        participant = self.get(conn, bin_code)
        return self.positions(conn, {bin_code: participant})[bin_code]

    def positions(self, conn: Connection, participants: dict[str, Participant]) -> dict[str, Position]:
        accounts = self.ledger.lookup_accounts(conn, [position_account(b) for b in participants])
        result = {}
        for bin_code, participant in participants.items():
            account = accounts[position_account(bin_code)]
            result[bin_code] = Position(
                bin=bin_code,
                liquidity_vnd=account.credits_posted - account.debits_posted - participant.net_debit_cap_vnd,
                reserved_vnd=account.debits_pending,
                net_debit_cap_vnd=participant.net_debit_cap_vnd,
            )
        return result

    def _move(self, conn: Connection, source: str, bin_code: str, amount_vnd: int, code: int, now_ms: int) -> None:
        transfer = Transfer(self._admin_id(conn), source, position_account(bin_code), amount_vnd, code=code)
        self._post(conn, transfer, now_ms)

    def _move_out(self, conn: Connection, bin_code: str, target: str, amount_vnd: int, code: int, now_ms: int) -> None:
        transfer = Transfer(self._admin_id(conn), position_account(bin_code), target, amount_vnd, code=code)
        self._post(conn, transfer, now_ms)

    def _post(self, conn: Connection, transfer: Transfer, now_ms: int) -> None:
        [result] = self.ledger.create_transfers(conn, [transfer], now_ms)
        if result == TransferResult.EXCEEDS_CREDITS:
            raise LimitInUse("amount_vnd", "the position has not that much free: it is in use")
        if result != TransferResult.OK:
            raise AssertionError(f"admin transfer {transfer.id} failed: {result}")

    def _admin_id(self, conn: Connection) -> str:
        """Numbered from what the ledger holds, so a restarted switch goes on where it stopped."""
        done = self.ledger.count_transfers_with_codes(conn, (TRANSFER_CODE_FUNDS, TRANSFER_CODE_CAP))
        return f"admin:{done + 1}"


def _check_whole_vnd(field: str, value: object, allow_zero: bool = False) -> None:
    """Admin amounts: whole VND (no bool, no fraction), above zero (or zero where allowed), storable."""
    low = 0 if allow_zero else 1
    if type(value) is not int or not low <= value <= AMOUNT_VND_MAX:
        rule = "zero or more" if allow_zero else "greater than zero"
        raise InputInvalid(field, f"must be an integer number of VND, {rule}, at most {AMOUNT_VND_MAX}")
