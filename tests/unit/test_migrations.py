"""The migration files: numbered without gaps, split into statements as SQLite needs, applied
in order; and the PostgreSQL index the history queries count on matches their expression."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from ampp.store.migrations import MigrationFilesError, load
from ampp.store.postgres.history.shared import RANGE
from ampp.store.postgres.schema import MIGRATIONS as POSTGRES_MIGRATIONS
from ampp.store.sqlite.schema import HISTORY_MIGRATIONS, STATE_MIGRATIONS, migrate, statements

pytestmark = pytest.mark.unit


def _package(root: Path, files: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> str:
    name = f"driver_{root.name}"  # one package per test: importlib keeps what it imported
    pkg = root / name
    (pkg / "migrations").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    for file, sql in files.items():
        (pkg / "migrations" / file).write_text(sql)
    monkeypatch.syspath_prepend(str(root))
    return name


def test_files_load_in_their_numbers_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = _package(tmp_path, {"0002_b.sql": "B", "0001_a.sql": "A", "README": "not a migration"}, monkeypatch)
    assert load(pkg, "migrations") == ["A", "B"]


@pytest.mark.parametrize(
    ("files", "says"),
    [
        ({"0001_a.sql": "", "0003_c.sql": ""}, "numbered 0001 to 0002 without gaps, found 0001, 0003"),
        ({"0001_a.sql": "", "0001_b.sql": ""}, "two migrations numbered 0001"),
        ({"1_a.sql": ""}, "1_a.sql: not named NNNN_what.sql"),
    ],
)
def test_misnumbered_files_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str], says: str
) -> None:
    pkg = _package(tmp_path, files, monkeypatch)
    with pytest.raises(MigrationFilesError, match=re.escape(says)):
        load(pkg, "migrations")


def test_statements_split_only_where_a_statement_ends() -> None:
    script = """
        -- a comment; with a semicolon
        CREATE TABLE t (x TEXT DEFAULT ';');
        CREATE TRIGGER t_once BEFORE UPDATE ON t BEGIN SELECT RAISE(ABORT, 'append-only'); END;
        INSERT INTO t VALUES ('a;b')
    """
    got = [" ".join(s.split()).replace(" ;", ";") for s in statements(script)]
    assert got == [
        "-- a comment; with a semicolon CREATE TABLE t (x TEXT DEFAULT ';');",
        "CREATE TRIGGER t_once BEFORE UPDATE ON t BEGIN SELECT RAISE(ABORT, 'append-only'); END;",
        "INSERT INTO t VALUES ('a;b');",
    ]
    conn = sqlite3.connect(":memory:")
    for s in statements(script):
        conn.execute(s)
    assert conn.execute("SELECT x FROM t").fetchall() == [("a;b",)]


def test_sqlite_migrations_apply_once_and_record_their_versions() -> None:
    for migrations in (STATE_MIGRATIONS, HISTORY_MIGRATIONS):
        conn = sqlite3.connect(":memory:", isolation_level=None)
        assert migrate(conn, migrations[:2]) == 2
        assert migrate(conn, migrations) == len(migrations)  # an older database upgrades
        assert migrate(conn, migrations) == len(migrations)
        versions = [v for (v,) in conn.execute("SELECT version FROM schema_migrations ORDER BY 1")]
        assert versions == list(range(1, len(migrations) + 1))


def test_the_range_index_is_on_the_expression_the_queries_use() -> None:
    """PostgreSQL uses an expression index only for the very same expression."""
    assert f"USING GIST (({RANGE.replace('o.', '')}))" in POSTGRES_MIGRATIONS[2]
