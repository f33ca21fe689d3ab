"""Where each node's database lives: one SQLite file per node in a folder, in-memory SQLite, or one
PostgreSQL schema per node on a server."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, text

from ledger.storage import open_engine


@dataclass(slots=True, frozen=True)
class Storage:
    folder: Path | None = None  # SQLite files; None with no url means in memory
    url: str | None = None  # postgresql://...
    schema_prefix: str = "switchyard"
    # Every engine this storage opened, so a test or a bench can let go of their connections.
    opened: list[Engine] = field(default_factory=list, compare=False, repr=False)

    def engine_for(self, node_name: str) -> Engine:
        safe = re.sub(r"[^a-z0-9_]", "_", node_name.lower())
        if self.url is not None and self.url.startswith("postgresql"):
            engine = open_engine(self.url, schema=f"{self.schema_prefix}_{safe}")
            self.opened.append(engine)
            return engine
        if self.url is not None:
            raise ValueError(f"database url: only postgresql URLs name a server, got {self.url.split(':')[0]!r}")
        if self.folder is None:
            return open_engine("sqlite://")
        self.folder.mkdir(parents=True, exist_ok=True)
        return open_engine(f"sqlite:///{self.folder / (safe + '.db')}")

    def close(self) -> None:
        """Close the connection pools of every engine this storage opened."""
        for engine in self.opened:
            engine.dispose()
        self.opened.clear()

    def drop(self) -> None:
        """Remove what this storage created on a PostgreSQL server (its schemas: `<prefix>_<node>`, or
        the schema named by the prefix itself); files stay."""
        self.close()
        if self.url is None or not self.url.startswith("postgresql"):
            return
        engine = open_engine(self.url)
        with engine.begin() as conn:
            names = conn.execute(
                text(
                    "SELECT schema_name FROM information_schema.schemata"
                    " WHERE schema_name = :exact OR schema_name LIKE :prefix"
                ),
                {"exact": self.schema_prefix, "prefix": self.schema_prefix + "\\_%"},
            ).scalars()
            for name in list(names):
                conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        engine.dispose()

    @staticmethod
    def from_option(database: str | None, folder: Path) -> Storage:
        """`--database`: a postgresql:// URL, or nothing for SQLite files under `folder`."""
        if database is None or database.startswith("sqlite"):
            return Storage(folder=folder)
        return Storage(url=database)
