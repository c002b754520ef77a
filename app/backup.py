"""Backups of the whole database, and restoring them: `normsforum backup` and `restore`.

SQLite: the online backup API (`sqlite3.Connection.backup`) copies a consistent snapshot
while the site keeps running; the backup is a SQLite database file of its own (in rollback
journal mode, one self-contained file). Restoring copies it back over the configured database
the same way.

PostgreSQL: `pg_dump --format=custom` (a consistent snapshot too) and `pg_restore` in one
transaction. Both come with PostgreSQL's client tools (Debian: `postgresql-client`); they
are looked for on PATH, then in Debian's `/usr/lib/postgresql/N/bin`.

Either way the backup is written beside its destination and renamed into place only once
complete and checked, so an interrupted backup never leaves a file that looks whole. Restore
refuses to replace a database that holds any data unless forced.
"""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sqlalchemy import Engine, inspect, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError

from app.db import create_db_engine
from app.models import Base

Kind = Literal["sqlite", "postgresql"]
SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class Outcome:
    kind: Kind
    path: Path
    size: int
    seconds: float
    #: The schema revision the backup holds (Alembic's), if it has one.
    revision: str | None


def kind_of_url(database_url: str) -> Kind:
    backend = make_url(database_url).get_backend_name()
    if backend == "sqlite":
        return "sqlite"
    if backend == "postgresql":
        return "postgresql"
    raise BackupError(f"Backups support SQLite and PostgreSQL, not {backend}.")


def kind_of_file(path: Path) -> Kind | None:
    """What a backup file holds, by its first bytes; None for anything else."""
    with path.open("rb") as stream:
        head = stream.read(len(SQLITE_MAGIC))
    if head == SQLITE_MAGIC:
        return "sqlite"
    if head.startswith(PGDUMP_MAGIC):
        return "postgresql"
    return None


def backup(database_url: str, path: Path, *, overwrite: bool = False) -> Outcome:
    """Write a backup of the database to `path`."""
    kind = kind_of_url(database_url)
    if path.exists() and not overwrite:
        raise BackupError(f"{path} exists already; choose another name or pass --overwrite.")
    if path.is_dir():
        raise BackupError(f"{path} is a folder; name the backup file to write.")
    if not path.parent.is_dir():
        raise BackupError(f"The folder {path.parent} does not exist.")
    partial = path.with_name(f".{path.name}.partial")
    began = time.monotonic()
    try:
        if kind == "sqlite":
            _sqlite_backup(_sqlite_path(database_url), partial)
        else:
            _pg_dump(database_url, partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return Outcome(kind, path, path.stat().st_size, time.monotonic() - began, _revision_in(path))


def restore(database_url: str, path: Path, *, force: bool = False) -> Outcome:
    """Replace the database's contents with the backup at `path`."""
    kind = kind_of_url(database_url)
    if not path.is_file():
        raise BackupError(f"There is no backup file at {path}.")
    found = kind_of_file(path)
    if found is None:
        raise BackupError(
            f"{path} is not a Norms Forum backup (neither a SQLite database nor a pg_dump file)."
        )
    if found != kind:
        raise BackupError(
            f"{path} is a {_names[found]} backup, but the configured database is "
            f"{_names[kind]}; restore it into a {_names[found]} database."
        )
    began = time.monotonic()
    if kind == "sqlite":
        _check_sqlite_file(path)
    engine = create_db_engine(database_url)
    try:
        try:
            has_data = holds_data(engine)
        except OperationalError as exc:
            raise BackupError(f"The configured database cannot be reached: {exc.orig}") from None
        if not force and has_data:
            raise BackupError(
                "The configured database holds data; restoring would replace all of it. "
                "Pass --force to do so (make a backup of it first)."
            )
        if kind == "sqlite":
            engine.dispose()
            _sqlite_restore(path, _sqlite_path(database_url))
        else:
            _pg_restore(engine, database_url, path)
    finally:
        engine.dispose()
    return Outcome(kind, path, path.stat().st_size, time.monotonic() - began, _revision_in(path))


_names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


#: Tables whose rows the migrations write themselves: they are there in any database.
MIGRATION_ROWS = frozenset({"change_counter"})


def holds_data(engine: Engine) -> bool:
    """Whether any of the app's tables has a row (a freshly migrated database has none but
    the migrations' own; SQLite's full-text index keeps rows of its own too, which do not
    count)."""
    present = set(inspect(engine).get_table_names())
    names = sorted((present & set(Base.metadata.tables)) - MIGRATION_ROWS)
    with engine.connect() as connection:
        preparer = engine.dialect.identifier_preparer
        for name in names:
            quoted = preparer.quote(name)
            query = text(f"SELECT 1 FROM {quoted} LIMIT 1")  # noqa: S608 - a reflected table name
            if connection.execute(query).first() is not None:
                return True
    return False


# --- SQLite -------------------------------------------------------------------------------


def _sqlite_path(database_url: str) -> Path:
    database = make_url(database_url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError("Only a SQLite database in a file can be backed up or restored.")
    return Path(database)


def _sqlite_backup(source: Path, target: Path) -> None:
    if not source.is_file():
        raise BackupError(f"There is no database at {source}.")
    target.unlink(missing_ok=True)
    with _sqlite(source) as origin, _sqlite(target) as copy:
        # One step: the whole copy is one read transaction, a snapshot writers do not disturb.
        origin.backup(copy)
        # A backup is one file, whatever journal the live database keeps.
        copy.execute("PRAGMA journal_mode=DELETE")
    _check_sqlite_file(target)


def _sqlite_restore(backup_file: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with _sqlite(backup_file) as origin, _sqlite(target) as live:
        try:
            origin.backup(live)
        except sqlite3.Error as exc:
            raise BackupError(
                f"The database could not be replaced ({exc}); stop the site and try again."
            ) from None
        live.execute("PRAGMA journal_mode=WAL")
        verdict = [row[0] for row in live.execute("PRAGMA integrity_check")]
    if verdict != ["ok"]:
        raise BackupError(f"The restored database fails its integrity check: {verdict[:3]}")


def _check_sqlite_file(path: Path) -> None:
    with _sqlite(path) as connection:
        try:
            verdict = [row[0] for row in connection.execute("PRAGMA integrity_check")]
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{path} is not a readable SQLite database: {exc}") from None
    if verdict != ["ok"]:
        raise BackupError(f"{path} fails SQLite's integrity check: {verdict[:3]}")


class _sqlite:
    """A plain sqlite3 connection that waits for writers and is closed on leaving."""

    def __init__(self, path: Path) -> None:
        self.connection = sqlite3.connect(path, timeout=30, isolation_level=None)

    def __enter__(self) -> sqlite3.Connection:
        return self.connection

    def __exit__(self, *_: object) -> None:
        self.connection.close()


def _revision_in(path: Path) -> str | None:
    """The Alembic revision stored in a backup, if it holds one."""
    if kind_of_file(path) == "postgresql":
        return _pg_revision_in(path)
    with _sqlite(path) as connection:
        try:
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.Error:
            return None
    return str(row[0]) if row else None


# --- PostgreSQL ---------------------------------------------------------------------------


def find_tool(name: str) -> Path | None:
    """A PostgreSQL client program: on PATH, else the newest in Debian's versioned folders."""
    on_path = shutil.which(name)
    if on_path:
        return Path(on_path)
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version, reverse=True):
        candidate = Path(folder) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def _version(folder: str) -> int:
    number = Path(folder).parent.name
    return int(number) if number.isdigit() else 0


def _tool(name: str) -> Path:
    found = find_tool(name)
    if found is None:
        raise BackupError(
            f"{name} was not found. It comes with PostgreSQL's client tools: install them "
            "(Debian and Ubuntu: apt-get install postgresql-client) or put them on PATH."
        )
    return found


def _libpq(database_url: str) -> tuple[str, dict[str, str]]:
    """The connection as a libpq URI without the password, which goes in the environment."""
    url = make_url(database_url)
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    plain = URL.create(
        "postgresql",
        username=url.username,
        host=url.host,
        port=url.port,
        database=url.database,
        query=url.query,
    )
    return plain.render_as_string(hide_password=False), env


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    try:
        finished = subprocess.run(  # noqa: S603 - a fixed program, arguments as a list
            command, env=env, capture_output=True, text=True, check=False
        )
    except OSError as exc:
        raise BackupError(f"{what} could not run: {exc}") from None
    if finished.returncode != 0:
        detail = (finished.stderr or finished.stdout).strip().splitlines()
        raise BackupError(f"{what} failed: " + " ".join(detail[-3:]))


def _pg_dump(database_url: str, target: Path) -> None:
    uri, env = _libpq(database_url)
    _run(
        [str(_tool("pg_dump")), "--format=custom", "--no-owner", f"--file={target}", uri],
        env,
        "pg_dump",
    )


def _pg_revision_in(path: Path) -> str | None:
    program = find_tool("pg_restore")
    if program is None:
        return None
    finished = subprocess.run(  # noqa: S603 - a fixed program, arguments as a list
        [str(program), "--data-only", "--table=alembic_version", "--file=-", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = finished.stdout.splitlines()
    for number, line in enumerate(lines[:-1]):
        if line.startswith("COPY ") and "alembic_version" in line:
            value = lines[number + 1].strip()
            return None if value == "\\." else value
    return None


def _pg_restore(engine: Engine, database_url: str, path: Path) -> None:
    program = _tool("pg_restore")
    # A damaged or truncated file is refused before anything is dropped.
    _run([str(program), "--list", str(path)], dict(os.environ), "Reading the backup")
    with engine.begin() as connection:
        # The backup brings its whole schema: what is there now goes first (every table of
        # the app lives in the public schema).
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    uri, env = _libpq(database_url)
    _run(
        [
            str(program),
            "--exit-on-error",
            "--single-transaction",
            "--no-owner",
            "--no-privileges",
            f"--dbname={uri}",
            str(path),
        ],
        env,
        "pg_restore",
    )
