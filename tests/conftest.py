"""Shared fixtures: real databases. And every ISO 20022 XML document the scheme writes is checked
against ISO's schema as it is written (switch.scheme.xml.VALIDATE_WRITTEN, off in use), here and in
every `switchyard serve` the tests start.

`engine_url` and `storage` run a test on an SQLite file and on the local PostgreSQL server. Without
a reachable server the PostgreSQL runs skip with a clear message, unless SWITCHYARD_REQUIRE_POSTGRES=1
(as in .ci/run), which makes them fail instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

import switch.scheme.xml
from ledger.storage import open_engine
from network.storage import Storage

os.environ["SWITCHYARD_VALIDATE_WRITTEN_XML"] = "1"  # for the processes the tests start
switch.scheme.xml.VALIDATE_WRITTEN = True

POSTGRES_URL = os.environ.get("SWITCHYARD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REQUIRE_POSTGRES = os.environ.get("SWITCHYARD_REQUIRE_POSTGRES") == "1"
_postgres_problem: str | None = None
_postgres_checked = False


def postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used, or None when it can (checked once per session)."""
    global _postgres_checked, _postgres_problem
    if not _postgres_checked:
        _postgres_checked = True
        try:
            engine = open_engine(POSTGRES_URL)
            with engine.connect() as conn:
                conn.execute(text("select 1"))
            engine.dispose()
        except Exception as error:  # noqa: BLE001 - any failure means "not reachable"
            _postgres_problem = f"PostgreSQL at {POSTGRES_URL} is not reachable: {type(error).__name__}: {error}"
    return _postgres_problem


def need_postgres() -> None:
    problem = postgres_problem()
    if problem is None:
        return
    if REQUIRE_POSTGRES:
        pytest.fail(f"SWITCHYARD_REQUIRE_POSTGRES=1 but {problem}")
    pytest.skip(f"{problem} (set SWITCHYARD_TEST_POSTGRES_URL to a server to run these)")


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The test server's URL, once it is known to answer (skips or fails as need_postgres says)."""
    need_postgres()
    return POSTGRES_URL


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """One node's database: an SQLite file (WAL), or a fresh schema on the local PostgreSQL."""
    if request.param == "sqlite":
        engine = open_engine(f"sqlite:///{tmp_path / 'node.db'}")
        yield engine
        engine.dispose()
        return
    need_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = open_engine(POSTGRES_URL, schema=schema)
    yield engine
    engine.dispose()
    Storage(url=POSTGRES_URL, schema_prefix=schema).drop()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    """Databases for a whole network: SQLite files in a folder, or one PostgreSQL schema per node."""
    if request.param == "sqlite":
        yield Storage(folder=tmp_path / "db")
        return
    need_postgres()
    prefix = f"t_{uuid.uuid4().hex[:12]}"
    storage = Storage(url=POSTGRES_URL, schema_prefix=prefix)
    yield storage
    storage.drop()  # closes the pools first: idle pools of nine nodes a test would exhaust the server


@pytest.fixture
def memory_storage() -> Storage:
    """In-memory SQLite for fast unit and property tests."""
    return Storage()


# Property tests: no wall-clock deadline (these machines are noisy; speed is measured by benchmarks,
# never asserted) and a bounded number of examples so the suite stays well under ten minutes.
from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile(
    "switchyard",
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile("thorough", deadline=None, max_examples=1000, suppress_health_check=list(HealthCheck))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "switchyard"))
