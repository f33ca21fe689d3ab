"""The payer's record of payment requests, their versions, totals as filed, findings, lines and
exclusions; every query on them.

A decided version (returned or approved) never changes, nor do its lines: the code never writes
them (the service checks the state first), and the database refuses it too, with triggers on
UPDATE and DELETE, on SQLite and PostgreSQL alike. Inserts are not guarded by a trigger (a row
check per line would double the cost of filing two million lines): lines are only ever inserted
with the new version they belong to.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import DDL, BigInteger, Column, Connection, Integer, String, event, func, select, tuple_
from sqlmodel import Field, SQLModel

from ledger.fastsql import Statement
from payer.requests.schemas import (
    CITIZEN_ID_WRITTEN_MAX,
    DIGEST_LENGTH,
    FINDING_DETAIL_LENGTH_MAX,
    FINDING_FIELD_LENGTH_MAX,
    OFFICER_ID_LENGTH_MAX,
    Exclusion,
    ExclusionReason,
    Finding,
    Officer,
    PaymentList,
    PaymentListLine,
    PaymentRequest,
    RequestState,
    RequestVersion,
    ReturnReason,
    Role,
    Totals,
)
from switch.scheme.codes import Program
from switch.scheme.names import NAME_LENGTH_MAX
from switch.scheme.summary import Cell

INSERT_CHUNK_LINES = 50_000  # lines per executemany: a two-million-line list is not one driver call
REQUESTS_LISTED_MAX = 1_000


class RequestRow(SQLModel, table=True):
    __tablename__ = "payer_request"
    request_id: str = Field(sa_column=Column(String(35), primary_key=True))
    cycle: str = Field(sa_column=Column(String(7), nullable=False, index=True))
    created_ms: int = Field(sa_column=Column(BigInteger, nullable=False))


class RequestVersionRow(SQLModel, table=True):
    __tablename__ = "payer_request_version"
    request_id: str = Field(sa_column=Column(String(35), primary_key=True))
    version: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    state: str = Field(sa_column=Column(String(10), nullable=False, index=True))
    digest: str = Field(sa_column=Column(String(DIGEST_LENGTH), nullable=False))
    prepared_by_id: str = Field(sa_column=Column(String(OFFICER_ID_LENGTH_MAX), nullable=False))
    prepared_by_name: str = Field(sa_column=Column(String(NAME_LENGTH_MAX), nullable=False))
    prepared_by_role: str = Field(sa_column=Column(String(20), nullable=False))
    filed_by_id: str = Field(sa_column=Column(String(OFFICER_ID_LENGTH_MAX), nullable=False))
    filed_by_name: str = Field(sa_column=Column(String(NAME_LENGTH_MAX), nullable=False))
    filed_by_role: str = Field(sa_column=Column(String(20), nullable=False))
    filed_ms: int = Field(sa_column=Column(BigInteger, nullable=False))
    decided_by_id: str | None = Field(sa_column=Column(String(OFFICER_ID_LENGTH_MAX), nullable=True))
    decided_by_name: str | None = Field(sa_column=Column(String(NAME_LENGTH_MAX), nullable=True))
    decided_by_role: str | None = Field(sa_column=Column(String(20), nullable=True))
    decided_ms: int | None = Field(sa_column=Column(BigInteger, nullable=True))


class RequestTotalRow(SQLModel, table=True):
    """The totals as filed: one row overall (`grand`), one per program and one per province."""

    __tablename__ = "payer_request_total"
    request_id: str = Field(sa_column=Column(String(35), primary_key=True))
    version: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    dimension: str = Field(sa_column=Column(String(10), primary_key=True))  # grand, program, province
    key: str = Field(sa_column=Column(String(20), primary_key=True))  # the program or province; '' for grand
    line_count: int = Field(sa_column=Column(Integer, nullable=False))
    amount_vnd: int = Field(sa_column=Column(BigInteger, nullable=False))


class RequestFindingRow(SQLModel, table=True):
    __tablename__ = "payer_request_finding"
    request_id: str = Field(sa_column=Column(String(35), primary_key=True))
    version: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    ordinal: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    reason: str = Field(sa_column=Column(String(32), nullable=False))
    field: str = Field(sa_column=Column(String(FINDING_FIELD_LENGTH_MAX), nullable=False))
    detail: str = Field(sa_column=Column(String(FINDING_DETAIL_LENGTH_MAX), nullable=False))


class RequestLineRow(SQLModel, table=True):
    __tablename__ = "payer_request_line"
    request_id: str = Field(sa_column=Column(String(35), primary_key=True))
    version: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    citizen_id: str = Field(sa_column=Column(String(12), primary_key=True))
    program: str = Field(sa_column=Column(String(20), primary_key=True))
    name: str = Field(sa_column=Column(String(NAME_LENGTH_MAX), nullable=False))
    province_code: str = Field(sa_column=Column(String(3), nullable=False))
    amount_vnd: int = Field(sa_column=Column(BigInteger, nullable=False))


class RequestExclusionRow(SQLModel, table=True):
    __tablename__ = "payer_request_exclusion"
    request_id: str = Field(sa_column=Column(String(35), primary_key=True))
    version: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    ordinal: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    citizen_id: str = Field(sa_column=Column(String(CITIZEN_ID_WRITTEN_MAX), nullable=False))
    name: str = Field(sa_column=Column(String(NAME_LENGTH_MAX), nullable=False))
    program: str = Field(sa_column=Column(String(20), nullable=False))
    amount_vnd: int = Field(sa_column=Column(BigInteger, nullable=False))
    reason: str = Field(sa_column=Column(String(24), nullable=False))


REQUESTS = RequestRow.__table__  # type: ignore[attr-defined]
VERSIONS = RequestVersionRow.__table__  # type: ignore[attr-defined]
TOTALS = RequestTotalRow.__table__  # type: ignore[attr-defined]
FINDINGS = RequestFindingRow.__table__  # type: ignore[attr-defined]
LINES = RequestLineRow.__table__  # type: ignore[attr-defined]
EXCLUSIONS = RequestExclusionRow.__table__  # type: ignore[attr-defined]
TABLES = [REQUESTS, VERSIONS, TOTALS, FINDINGS, LINES, EXCLUSIONS]

# --- the database keeps decided versions as they are ---------------------------------------------

_LINES_KEPT = "payer_request_line: the lines of a returned or approved version never change"
_VERSION_KEPT = "payer_request_version: a returned or approved version never changes"
_SQLITE_GUARDS = [
    f"""CREATE TRIGGER payer_request_line_kept_{operation.lower()} BEFORE {operation} ON payer_request_line
    WHEN (SELECT state FROM payer_request_version
          WHERE request_id = OLD.request_id AND version = OLD.version) <> 'filed'
    BEGIN SELECT RAISE(ABORT, '{_LINES_KEPT}'); END"""
    for operation in ("UPDATE", "DELETE")
] + [
    f"""CREATE TRIGGER payer_request_version_kept_{operation.lower()} BEFORE {operation} ON payer_request_version
    WHEN OLD.state <> 'filed'
    BEGIN SELECT RAISE(ABORT, '{_VERSION_KEPT}'); END"""
    for operation in ("UPDATE", "DELETE")
]
_POSTGRES_GUARDS = [
    f"""CREATE OR REPLACE FUNCTION payer_request_line_kept() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF EXISTS (SELECT 1 FROM payer_request_version v WHERE v.request_id = OLD.request_id
                   AND v.version = OLD.version AND v.state <> 'filed') THEN
            RAISE EXCEPTION '{_LINES_KEPT}';
        END IF;
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER payer_request_line_kept BEFORE UPDATE OR DELETE ON payer_request_line
    FOR EACH ROW EXECUTE FUNCTION payer_request_line_kept()""",
    f"""CREATE OR REPLACE FUNCTION payer_request_version_kept() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF OLD.state <> 'filed' THEN RAISE EXCEPTION '{_VERSION_KEPT}'; END IF;
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER payer_request_version_kept BEFORE UPDATE OR DELETE ON payer_request_version
    FOR EACH ROW EXECUTE FUNCTION payer_request_version_kept()""",
]
# After the last of the tables is created, so both tables the triggers name exist.
for _statement in _SQLITE_GUARDS:
    event.listen(EXCLUSIONS, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
for _statement in _POSTGRES_GUARDS:
    event.listen(EXCLUSIONS, "after_create", DDL(_statement).execute_if(dialect="postgresql"))

# --- statements on lines, the volume -------------------------------------------------------------

_LINE_COLUMNS = "citizen_id, program, name, province_code, amount_vnd"
_INSERT_LINE = Statement(
    f"INSERT INTO payer_request_line (request_id, version, {_LINE_COLUMNS})"
    " VALUES (:request_id, :version, :citizen_id, :program, :name, :province_code, :amount_vnd)"
)
_LOAD_LINES = Statement(
    f"SELECT {_LINE_COLUMNS} FROM payer_request_line WHERE request_id = :request_id AND version = :version"
    " ORDER BY citizen_id, program"
)
_PROGRAMS = {p.value: p for p in Program}


def insert_request(conn: Connection, request: PaymentRequest, payment_list: PaymentList) -> None:
    """A new request and its first version, with the list filed."""
    assert len(request.versions) == 1, "a new request has one version"
    created_ms = request.versions[0].filed_ms
    conn.execute(REQUESTS.insert().values(request_id=request.request_id, cycle=request.cycle, created_ms=created_ms))
    insert_version(conn, request.request_id, request.current, payment_list)


def insert_version(conn: Connection, request_id: str, version: RequestVersion, payment_list: PaymentList) -> None:
    """A version just filed, with its totals as filed, its lines and the beneficiaries left out."""
    assert version.state == RequestState.FILED, "only a filed version is new"
    conn.execute(VERSIONS.insert().values(request_id=request_id, version=version.version, **_version_values(version)))
    _insert_totals(conn, request_id, version.version, version.totals)
    number = version.version
    rows = [
        (request_id, number, line.citizen_id, line.program.value, line.name, line.province_code, line.amount_vnd)
        for line in payment_list.lines
    ]
    for start in range(0, len(rows), INSERT_CHUNK_LINES):
        _INSERT_LINE.execute_many(conn, rows[start : start + INSERT_CHUNK_LINES])
    exclusions = [
        {
            "request_id": request_id,
            "version": version.version,
            "ordinal": ordinal,
            "citizen_id": e.citizen_id,
            "name": e.name,
            "program": e.program.value,
            "amount_vnd": e.amount_vnd,
            "reason": e.reason.value,
        }
        for ordinal, e in enumerate(payment_list.excluded)
    ]
    for start in range(0, len(exclusions), INSERT_CHUNK_LINES):
        conn.execute(EXCLUSIONS.insert(), exclusions[start : start + INSERT_CHUNK_LINES])


def _insert_totals(conn: Connection, request_id: str, version: int, totals: Totals) -> None:
    cells = [("grand", "", totals.grand)]
    cells += [("program", p.value, c) for p, c in totals.by_program.items()]
    cells += [("province", code, c) for code, c in totals.by_province.items()]
    conn.execute(
        TOTALS.insert(),
        [
            {
                "request_id": request_id,
                "version": version,
                "dimension": dimension,
                "key": key,
                "line_count": c.count,
                "amount_vnd": c.amount_vnd,
            }
            for dimension, key, c in cells
        ],
    )


def save_decision(conn: Connection, request_id: str, version: RequestVersion) -> bool:
    """Record a version returned or approved. False when it was no longer filed: another officer
    decided it in the meantime (the caller refuses, and its transaction writes nothing)."""
    assert version.state.is_final and version.decided_by is not None, "a decision has an officer"
    result = conn.execute(
        VERSIONS.update()
        .where(
            VERSIONS.c.request_id == request_id,
            VERSIONS.c.version == version.version,
            VERSIONS.c.state == RequestState.FILED.value,
        )
        .values(**_version_values(version))
    )
    if result.rowcount != 1:
        return False
    if version.findings:
        conn.execute(
            FINDINGS.insert(),
            [
                {
                    "request_id": request_id,
                    "version": version.version,
                    "ordinal": ordinal,
                    "reason": f.reason.value,
                    "field": f.field,
                    "detail": f.detail,
                }
                for ordinal, f in enumerate(version.findings)
            ],
        )
    return True


def find_request(conn: Connection, request_id: str) -> PaymentRequest | None:
    header = conn.execute(select(REQUESTS).where(REQUESTS.c.request_id == request_id)).first()
    if header is None:
        return None
    totals = _load_totals(conn, request_id)
    findings: dict[int, list[Finding]] = {}
    for row in conn.execute(
        select(FINDINGS).where(FINDINGS.c.request_id == request_id).order_by(FINDINGS.c.version, FINDINGS.c.ordinal)
    ):
        finding = Finding(reason=ReturnReason(row.reason), field=row.field, detail=row.detail)
        findings.setdefault(row.version, []).append(finding)
    versions = tuple(
        _version(row, totals[row.version], tuple(findings.get(row.version, ())))
        for row in conn.execute(
            select(VERSIONS).where(VERSIONS.c.request_id == request_id).order_by(VERSIONS.c.version)
        )
    )
    return PaymentRequest(header.request_id, header.cycle, versions)


def request_ids(conn: Connection, cycle: str | None = None, limit: int = REQUESTS_LISTED_MAX) -> list[str]:
    """The requests of a cycle (or all), oldest first, at most `limit` (up to REQUESTS_LISTED_MAX)."""
    query = select(REQUESTS.c.request_id).order_by(REQUESTS.c.created_ms, REQUESTS.c.request_id)
    if cycle is not None:
        query = query.where(REQUESTS.c.cycle == cycle)
    return list(conn.execute(query.limit(min(limit, REQUESTS_LISTED_MAX))).scalars())


def load_lines(conn: Connection, request_id: str, version: int) -> list[PaymentListLine]:
    """The lines the payer holds for a version now, in canonical order (citizen id, program)."""
    return [
        PaymentListLine(citizen_id, name, province_code, _PROGRAMS[program], amount_vnd)
        for citizen_id, program, name, province_code, amount_vnd in _LOAD_LINES.rows(
            conn, request_id=request_id, version=version
        )
    ]


def lines_page(
    conn: Connection, request_id: str, version: int, after: tuple[str, Program] | None, limit: int
) -> list[PaymentListLine]:
    """A keyset page of a version's lines in canonical order (citizen id, program), after `after`."""
    lines = LINES
    query = select(lines.c.citizen_id, lines.c.name, lines.c.province_code, lines.c.program, lines.c.amount_vnd).where(
        lines.c.request_id == request_id, lines.c.version == version
    )
    if after is not None:
        query = query.where(tuple_(lines.c.citizen_id, lines.c.program) > tuple_(after[0], after[1].value))
    query = query.order_by(lines.c.citizen_id, lines.c.program).limit(limit)
    return [
        PaymentListLine(citizen_id, name, province_code, Program(program), amount_vnd)
        for citizen_id, name, province_code, program, amount_vnd in conn.execute(query)
    ]


def versions_by_state(conn: Connection) -> dict[RequestState, int]:
    """How many request versions stand in each state (those with none are absent)."""
    rows = conn.execute(select(VERSIONS.c.state, func.count()).group_by(VERSIONS.c.state))
    return {RequestState(state): int(count) for state, count in rows}


def load_exclusions(conn: Connection, request_id: str, version: int) -> list[Exclusion]:
    rows = conn.execute(
        select(EXCLUSIONS)
        .where(EXCLUSIONS.c.request_id == request_id, EXCLUSIONS.c.version == version)
        .order_by(EXCLUSIONS.c.ordinal)
    )
    return [
        Exclusion(r.citizen_id, r.name, _PROGRAMS[r.program], r.amount_vnd, ExclusionReason(r.reason)) for r in rows
    ]


def put_line(conn: Connection, request_id: str, version: int, line: PaymentListLine) -> None:
    """Write one line of a filed version in place: changed if the person is on it for the program, added if not."""
    key = (
        (LINES.c.request_id == request_id)
        & (LINES.c.version == version)
        & (LINES.c.citizen_id == line.citizen_id)
        & (LINES.c.program == line.program.value)
    )
    values = {"name": line.name, "province_code": line.province_code, "amount_vnd": line.amount_vnd}
    if conn.execute(LINES.update().where(key).values(**values)).rowcount == 0:
        conn.execute(
            LINES.insert().values(
                request_id=request_id, version=version, citizen_id=line.citizen_id, program=line.program.value, **values
            )
        )


def remove_line(conn: Connection, request_id: str, version: int, citizen_id: str, program: Program) -> bool:
    result = conn.execute(
        LINES.delete().where(
            LINES.c.request_id == request_id,
            LINES.c.version == version,
            LINES.c.citizen_id == citizen_id,
            LINES.c.program == program.value,
        )
    )
    return bool(result.rowcount)


def _load_totals(conn: Connection, request_id: str) -> dict[int, Totals]:
    parts: dict[int, dict[str, Any]] = {}
    for row in conn.execute(select(TOTALS).where(TOTALS.c.request_id == request_id)):
        part = parts.setdefault(row.version, {"by_program": {}, "by_province": {}, "grand": None})
        cell = Cell(count=row.line_count, amount_vnd=row.amount_vnd)
        if row.dimension == "grand":
            part["grand"] = cell
        elif row.dimension == "program":
            part["by_program"][_PROGRAMS[row.key]] = cell
        else:
            part["by_province"][row.key] = cell
    return {
        version: Totals(
            by_program=dict(sorted(p["by_program"].items())),
            by_province=dict(sorted(p["by_province"].items())),
            grand=p["grand"],
        )
        for version, p in parts.items()
    }


def _version_values(version: RequestVersion) -> dict[str, Any]:
    decided = version.decided_by
    return {
        "state": version.state.value,
        "digest": version.digest,
        **_officer_values("prepared_by", version.prepared_by),
        **_officer_values("filed_by", version.filed_by),
        "filed_ms": version.filed_ms,
        "decided_by_id": decided.officer_id if decided else None,
        "decided_by_name": decided.name if decided else None,
        "decided_by_role": decided.role.value if decided else None,
        "decided_ms": version.decided_ms,
    }


def _officer_values(prefix: str, officer: Officer) -> dict[str, str]:
    return {f"{prefix}_id": officer.officer_id, f"{prefix}_name": officer.name, f"{prefix}_role": officer.role.value}


def _officer(officer_id: str, name: str, role: str) -> Officer:
    return Officer(officer_id=officer_id, name=name, role=Role(role))


def _version(row: Any, totals: Totals, findings: Sequence[Finding]) -> RequestVersion:
    decided = (
        _officer(row.decided_by_id, row.decided_by_name, row.decided_by_role) if row.decided_by_id is not None else None
    )
    return RequestVersion(
        version=row.version,
        state=RequestState(row.state),
        digest=row.digest,
        totals=totals,
        prepared_by=_officer(row.prepared_by_id, row.prepared_by_name, row.prepared_by_role),
        filed_by=_officer(row.filed_by_id, row.filed_by_name, row.filed_by_role),
        filed_ms=row.filed_ms,
        decided_by=decided,
        decided_ms=row.decided_ms,
        findings=tuple(findings),
    )
