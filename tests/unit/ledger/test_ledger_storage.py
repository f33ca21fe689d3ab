"""ledger.storage.open_engine: SQLite files in WAL mode, in-memory SQLite, and the checks on URLs."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from ledger import Ledger
from ledger.storage import SCHEMA_NAME_PATTERN, is_postgres, open_engine


@pytest.fixture
def sqlite_file(tmp_path: Path):
    engine = open_engine(f"sqlite:///{tmp_path / 'bank_970436.db'}")
    yield engine
    engine.dispose()


def test_an_sqlite_file_is_opened_in_wal_mode(sqlite_file: Engine, tmp_path: Path):
    with sqlite_file.connect() as conn:
        mode = conn.execute(text("PRAGMA journal_mode")).scalar_one()
        conn.execute(text("CREATE TABLE node (id INTEGER PRIMARY KEY)"))
        conn.commit()

    assert mode == "wal"
    assert (tmp_path / "bank_970436.db").exists()
    assert not is_postgres(sqlite_file)


def test_an_sqlite_file_waits_for_a_busy_writer_instead_of_failing_at_once(sqlite_file: Engine):
    with sqlite_file.connect() as conn:
        assert conn.execute(text("PRAGMA busy_timeout")).scalar_one() > 0


def test_an_sqlite_transaction_takes_the_write_lock_when_it_begins(sqlite_file: Engine):
    with sqlite_file.connect() as conn:
        conn.begin()
        # BEGIN IMMEDIATE was sent before any statement of the caller's.
        dbapi_connection = conn.connection.dbapi_connection
        assert dbapi_connection is not None
        assert dbapi_connection.in_transaction
        conn.rollback()


def test_two_connections_to_the_same_sqlite_file_see_each_others_commits(sqlite_file: Engine):
    with sqlite_file.begin() as conn:
        conn.execute(text("CREATE TABLE position (bin TEXT PRIMARY KEY, liquidity_vnd INTEGER)"))
        conn.execute(text("INSERT INTO position VALUES ('970436', 50000000)"))

    with sqlite_file.connect() as other:
        assert other.execute(text("SELECT liquidity_vnd FROM position")).scalar_one() == 50_000_000


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_in_memory_sqlite_is_one_database_shared_by_every_connection(url: str):
    engine = open_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE position (bin TEXT PRIMARY KEY)"))
        conn.execute(text("INSERT INTO position VALUES ('970418')"))

    with engine.connect() as other:
        assert other.execute(text("SELECT bin FROM position")).scalar_one() == "970418"
        assert other.execute(text("PRAGMA journal_mode")).scalar_one() == "memory"
    engine.dispose()


@pytest.mark.parametrize(
    ("url", "scheme"),
    [
        ("mysql://root@localhost/switchyard", "mysql"),
        ("postgres://postgres@127.0.0.1:5432/postgres", "postgres"),
        ("oracle+oracledb://napas@db/switch", "oracle+oracledb"),
        ("bank_970436.db", "bank_970436.db"),
    ],
)
def test_a_database_url_with_another_scheme_is_refused_naming_the_scheme(url: str, scheme: str):
    with pytest.raises(ValueError, match="scheme") as raised:
        open_engine(url)

    assert repr(scheme) in str(raised.value)
    assert "sqlite" in str(raised.value) and "postgresql" in str(raised.value)


@pytest.mark.parametrize(
    "schema",
    ["", "Bank_970436", "970436_bank", "bank-970436", 'bank"; DROP SCHEMA public; --', "b" * 64, "_bank"],
    ids=["empty", "upper case", "leading digit", "hyphen", "injection", "64 characters", "leading underscore"],
)
def test_an_invalid_postgresql_schema_name_is_refused_before_connecting(schema: str):
    # Nothing listens on port 1: the check must come before any connection.
    with pytest.raises(ValueError, match="schema") as raised:
        open_engine("postgresql://postgres@127.0.0.1:1/postgres", schema=schema)

    assert repr(schema) in str(raised.value)


@pytest.mark.parametrize("schema", ["bank_970436", "t_0123456789ab", "b" * 63])
def test_the_schema_name_pattern_accepts_lower_case_names_up_to_63_characters(schema: str):
    assert SCHEMA_NAME_PATTERN.match(schema)


def test_the_ledger_tables_of_a_postgresql_node_live_in_its_own_schema(engine: Engine):
    """On PostgreSQL, each connection's search_path is the node's schema; on SQLite the node has its own file."""
    Ledger(engine).create_tables()

    if is_postgres(engine):
        with engine.connect() as conn:
            schema = conn.execute(text("SELECT current_schema()")).scalar_one()
            assert schema.startswith("t_")
            found = conn.execute(
                text("SELECT table_schema FROM information_schema.tables WHERE table_name = 'ledger_account'")
            ).scalars()
            assert schema in set(found)
            assert "public" not in set(found)
    else:
        database = engine.url.database
        assert database is not None
        assert database.endswith("node.db")
