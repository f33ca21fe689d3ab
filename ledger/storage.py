"""Opening a node's database: an SQLite file (WAL) by default, PostgreSQL by URL.

Every node owns its own database. On PostgreSQL the nodes share one server and each gets its own
schema, set as the search_path of each connection, so the same table models serve every node.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.pool import StaticPool

SCHEMA_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
SQLITE_BUSY_TIMEOUT_MS = 30_000


def open_engine(url: str, schema: str | None = None) -> Engine:
    """An engine for one node. `schema` isolates the node on PostgreSQL; SQLite uses one file a node."""
    if url.startswith("sqlite"):
        return _open_sqlite(url)
    if url.startswith("postgresql"):
        return _open_postgres(url, schema)
    raise ValueError(f"database url: scheme must be sqlite or postgresql, got {url.split(':', 1)[0]!r}")


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def _open_sqlite(url: str) -> Engine:
    in_memory = url in ("sqlite://", "sqlite:///:memory:")
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
    if in_memory:
        kwargs["poolclass"] = StaticPool
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin, so BEGIN IMMEDIATE below
        # takes the write lock at the start of a batch rather than at its first write.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _open_postgres(url: str, schema: str | None) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if schema is None:
        return create_engine(url, pool_pre_ping=True)
    if not SCHEMA_NAME_PATTERN.match(schema):
        raise ValueError(f"schema: must match {SCHEMA_NAME_PATTERN.pattern}, got {schema!r}")
    engine = create_engine(url, pool_pre_ping=True)
    with engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))

    # search_path rather than schema_translate_map: the hot-path statements (ledger.fastsql) are
    # plain SQL and must find the node's tables too.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f'SET search_path TO "{schema}"')
        cursor.close()
        dbapi_connection.commit()

    engine.dispose()  # the connection that created the schema predates the listener
    return engine
