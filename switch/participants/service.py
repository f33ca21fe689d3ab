"""Participant administration: register, suspend, resume, caps, funds in and out, positions.

Every change of money goes through the switch's ledger: funds in move from the switch's settlement
account to the participant's position; a net debit cap is a credit line on the position, so the
ledger's own `debits must not exceed credits` rule enforces the cap atomically.
"""

from __future__ import annotations

from itertools import count

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
    Participant,
    Position,
    position_account,
)
from switch.scheme.codes import ParticipantStatus
from switch.scheme.identifiers import check_bin

ACCOUNT_CODE_POSITION = 1
ACCOUNT_CODE_SWITCH = 2
TRANSFER_CODE_FUNDS = 10
TRANSFER_CODE_CAP = 11


class ParticipantService:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._admin_sequence = count(1)

    def setup(self, conn: Connection) -> None:
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
        if participant.net_debit_cap_vnd < 0:
            raise InputInvalid("net_debit_cap_vnd", "must be zero or more")
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

    def set_status(self, conn: Connection, bin_code: str, status: ParticipantStatus) -> Participant:
        self.get(conn, bin_code)
        repository.set_status(conn, bin_code, status)
        return self.get(conn, bin_code)

    def set_cap(self, conn: Connection, bin_code: str, cap_vnd: int, now_ms: int) -> Participant:
        if type(cap_vnd) is not int or cap_vnd < 0:
            raise InputInvalid("net_debit_cap_vnd", "must be an integer number of VND, zero or more")
        participant = self.get(conn, bin_code)
        delta = cap_vnd - participant.net_debit_cap_vnd
        if delta > 0:
            self._move(conn, CREDIT_LINE_ACCOUNT, bin_code, delta, TRANSFER_CODE_CAP, now_ms)
        elif delta < 0:
            self._move_out(conn, bin_code, CREDIT_LINE_ACCOUNT, -delta, TRANSFER_CODE_CAP, now_ms)
        repository.set_cap(conn, bin_code, cap_vnd)
        return self.get(conn, bin_code)

    def fund_in(self, conn: Connection, bin_code: str, amount_vnd: int, now_ms: int) -> Position:
        self._check_amount(amount_vnd)
        self.get(conn, bin_code)
        self._move(conn, SWITCH_SETTLEMENT_ACCOUNT, bin_code, amount_vnd, TRANSFER_CODE_FUNDS, now_ms)
        return self.position(conn, bin_code)

    def fund_out(self, conn: Connection, bin_code: str, amount_vnd: int, now_ms: int) -> Position:
        """Funds out may not dip into the cap: only prefunded money that is not reserved leaves."""
        self._check_amount(amount_vnd)
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
        transfer = Transfer(self._admin_id(now_ms), source, position_account(bin_code), amount_vnd, code=code)
        self._post(conn, transfer, now_ms)

    def _move_out(self, conn: Connection, bin_code: str, target: str, amount_vnd: int, code: int, now_ms: int) -> None:
        transfer = Transfer(self._admin_id(now_ms), position_account(bin_code), target, amount_vnd, code=code)
        self._post(conn, transfer, now_ms)

    def _post(self, conn: Connection, transfer: Transfer, now_ms: int) -> None:
        [result] = self.ledger.create_transfers(conn, [transfer], now_ms)
        if result == TransferResult.EXCEEDS_CREDITS:
            raise LimitInUse("amount_vnd", "the position has not that much free: it is in use")
        if result != TransferResult.OK:
            raise AssertionError(f"admin transfer {transfer.id} failed: {result}")

    def _admin_id(self, now_ms: int) -> str:
        return f"admin:{now_ms}:{next(self._admin_sequence)}"

    @staticmethod
    def _check_amount(amount_vnd: int) -> None:
        if type(amount_vnd) is not int or amount_vnd <= 0:
            raise InputInvalid("amount_vnd", "must be an integer number of VND greater than zero")
