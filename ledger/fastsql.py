"""Hot-path statements: written once, run on the DBAPI cursor of the caller's transaction.

SQLAlchemy Core builds and binds a statement for every call and processes every row's parameters;
on batches of a few hundred rows that costs more than SQLite's own work. These statements are
plain SQL text, written with `:name` placeholders and the `{ids}` marker for a list, turned once
per dialect into the driver's form: `IN (SELECT value FROM json_each(?))` on SQLite and
`= ANY(%s)` on PostgreSQL. They run inside the transaction the Connection already holds, so they
commit or roll back with everything else in the batch. Tables and schema stay the SQLModel models'.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

_PLACEHOLDER = re.compile(r":([a-z_]+)")


class Statement:
    def __init__(self, sql: str) -> None:
        self.sql = " ".join(sql.split())
        self.names = _PLACEHOLDER.findall(self.sql)
        self._by_dialect: dict[str, str] = {}

    def text_for(self, dialect: str) -> str:
        found = self._by_dialect.get(dialect)
        if found is None:
            found = _render(self.sql, dialect)
            self._by_dialect[dialect] = found
        return found

    def rows(self, conn: Connection, **params: Any) -> list[tuple[Any, ...]]:
        with _translated(conn, self.sql):
            cursor = self._cursor(conn)
            cursor.execute(self.text_for(conn.dialect.name), self._bind(conn.dialect.name, params))
            rows = cursor.fetchall()
            cursor.close()
        return rows

    def execute(self, conn: Connection, **params: Any) -> int:
        with _translated(conn, self.sql):
            cursor = self._cursor(conn)
            cursor.execute(self.text_for(conn.dialect.name), self._bind(conn.dialect.name, params))
            count = int(cursor.rowcount)
            cursor.close()
        return count

    def execute_many(self, conn: Connection, rows: Sequence[Sequence[Any]]) -> None:
        """Rows as tuples in the order the placeholders appear in the SQL."""
        if not rows:
            return
        with _translated(conn, self.sql):
            cursor = self._cursor(conn)
            cursor.executemany(self.text_for(conn.dialect.name), rows)
            cursor.close()

    def _bind(self, dialect: str, params: dict[str, Any]) -> tuple[Any, ...]:
        values = []
        for name in self.names:
            value = params[name]
            if name == "ids":
                value = json.dumps(list(value)) if dialect == "sqlite" else list(value)
            values.append(value)
        return tuple(values)

    @staticmethod
    def _cursor(conn: Connection) -> Any:
        # The Connection has begun its transaction (BEGIN IMMEDIATE on SQLite, or the driver's on
        # PostgreSQL); the raw cursor works inside it.
        return conn.connection.cursor()


@contextlib.contextmanager
def _translated(conn: Connection, sql: str) -> Iterator[None]:
    """The driver's errors as SQLAlchemy's, as Core would raise them: a deadlock or a unique
    violation on the raw cursor must reach the callers that retry on OperationalError and
    IntegrityError (PostgreSQL breaks a deadlock between two switch workers by failing one)."""
    dbapi = conn.dialect.dbapi
    if dbapi is None:  # pragma: no cover - every engine we open has its driver loaded
        yield
        return
    try:
        yield
    except dbapi.Error as error:
        raise DBAPIError.instance(sql, None, error, dbapi.Error) from error


def _render(sql: str, dialect: str) -> str:
    if dialect == "sqlite":
        sql = sql.replace("= ANY(:ids)", "IN (SELECT value FROM json_each(:ids))")
        return _PLACEHOLDER.sub("?", sql)
    if dialect == "postgresql":
        return _PLACEHOLDER.sub("%s", sql)
    raise ValueError(f"dialect: {dialect} has no fast statements")
