"""network.storage: where each node's database lives (SQLite folder, in memory, PostgreSQL by URL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from network.storage import Storage


def make_table(engine_url_storage: Storage, node: str) -> None:
    engine = engine_url_storage.engine_for(node)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE khach_hang (ten TEXT)"))
        conn.execute(text("INSERT INTO khach_hang VALUES ('NGUYEN VAN DUC')"))
    engine.dispose()


def table_names(storage: Storage, node: str) -> set[str]:
    engine = storage.engine_for(node)
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            rows = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"))
        else:
            rows = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))
        names = {row[0] for row in rows}
    engine.dispose()
    return names


def test_storage_with_no_folder_and_no_url_gives_each_node_its_own_in_memory_database() -> None:
    storage = Storage()
    vietcombank, bidv = storage.engine_for("bank_970436"), storage.engine_for("bank_970418")

    with vietcombank.begin() as conn:
        conn.execute(text("CREATE TABLE khach_hang (ten TEXT)"))

    assert vietcombank.dialect.name == "sqlite"
    assert vietcombank.url.database in (None, "", ":memory:")
    with bidv.connect() as conn:
        assert conn.execute(text("SELECT name FROM sqlite_master")).all() == []


def test_an_in_memory_node_database_keeps_its_tables_across_connections() -> None:
    engine = Storage().engine_for("switch")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE vi_tri (bin TEXT)"))
        conn.execute(text("INSERT INTO vi_tri VALUES ('970436')"))

    with engine.connect() as conn:
        assert conn.execute(text("SELECT bin FROM vi_tri")).scalar_one() == "970436"


def test_a_folder_storage_keeps_one_sqlite_file_per_node_and_creates_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "du_lieu" / "sandbox"
    storage = Storage(folder=folder)

    make_table(storage, "bank_970436")
    make_table(storage, "wallet_971005")

    assert sorted(p.name for p in folder.glob("*.db")) == ["bank_970436.db", "wallet_971005.db"]
    assert table_names(storage, "bank_970436") == {"khach_hang"}
    assert table_names(storage, "switch") == set()


def test_a_node_database_file_is_opened_in_wal_mode(tmp_path: Path) -> None:
    engine = Storage(folder=tmp_path).engine_for("switch")

    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
    engine.dispose()


def test_opening_a_node_again_finds_what_it_stored_before(tmp_path: Path) -> None:
    make_table(Storage(folder=tmp_path), "bank_970418")

    engine = Storage(folder=tmp_path).engine_for("bank_970418")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT ten FROM khach_hang")).scalar_one() == "NGUYEN VAN DUC"
    engine.dispose()


@pytest.mark.parametrize(
    ("node", "file_name"),
    [
        pytest.param("Viettel Money", "viettel_money.db", id="spaces and capitals"),
        pytest.param("../../etc/passwd", "______etc_passwd.db", id="a path stays inside the folder"),
        pytest.param("Ngân hàng", "ng_n_h_ng.db", id="diacritics"),
    ],
)
def test_a_node_name_becomes_a_safe_file_name_inside_the_folder(tmp_path: Path, node: str, file_name: str) -> None:
    folder = tmp_path / "db"

    engine = Storage(folder=folder).engine_for(node)
    with engine.connect():  # SQLite makes the file on the first connection
        pass
    engine.dispose()

    assert [p.name for p in folder.iterdir()] == [file_name]
    assert list(tmp_path.iterdir()) == [folder]


@pytest.mark.parametrize("url", ["mysql://root@localhost/napas", "sqlite:///napas.db", "oracle://napas"])
def test_a_url_that_does_not_name_a_postgresql_server_is_refused_with_its_scheme(url: str) -> None:
    with pytest.raises(
        ValueError, match=r"database url: only postgresql URLs name a server, got '(mysql|sqlite|oracle)'"
    ):
        Storage(url=url).engine_for("switch")


def test_from_option_with_no_database_means_sqlite_files_under_the_folder(tmp_path: Path) -> None:
    assert Storage.from_option(None, tmp_path) == Storage(folder=tmp_path)


def test_from_option_with_a_sqlite_url_still_means_sqlite_files_under_the_folder(tmp_path: Path) -> None:
    assert Storage.from_option("sqlite:///other.db", tmp_path) == Storage(folder=tmp_path)


def test_from_option_with_a_postgresql_url_means_that_server() -> None:
    url = "postgresql://napas@db.example.vn:5432/switchyard"

    assert Storage.from_option(url, Path("unused")) == Storage(url=url)


def test_nodes_of_one_storage_never_see_each_others_tables(storage: Storage) -> None:
    """On SQLite files and on PostgreSQL (one schema per node) alike."""
    make_table(storage, "bank_970436")

    assert table_names(storage, "bank_970436") == {"khach_hang"}
    assert table_names(storage, "bank_970418") == set()


def test_a_node_lives_in_a_schema_named_by_prefix_and_node_on_postgresql_or_in_its_own_file(storage: Storage) -> None:
    engine = storage.engine_for("Wallet 971005")

    with engine.connect() as conn:
        if storage.url is not None:
            assert (
                conn.execute(text("SELECT current_schema()")).scalar_one() == f"{storage.schema_prefix}_wallet_971005"
            )
        else:
            assert storage.folder is not None and (storage.folder / "wallet_971005.db").exists()
    engine.dispose()
