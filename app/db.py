"""Declarative base, shared column types, engine and session factories (SQLite and PostgreSQL)."""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from sqlalchemy import DateTime, Engine, Enum, MetaData, String, TypeDecorator, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on both databases (SQLite would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored; use app.db.utcnow()")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


intpk = Annotated[int, mapped_column(primary_key=True)]
created_at = Annotated[datetime, mapped_column(UTCDateTime, default=utcnow)]
timestamp = Annotated[datetime, mapped_column(UTCDateTime)]
str_short = Annotated[str, mapped_column(String(64))]


def str_enum(cls: type[enum.StrEnum], length: int = 24) -> Enum:
    """A Python string enum stored as its values in a VARCHAR (no native enum type to migrate)."""
    return Enum(
        cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e]
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime}


#: Connections per process. A worker runs at most `REQUESTS_AT_ONCE` requests at once
#: (`app.web.admission`), so every request it admits can get a connection; the two spare
#: serve a request's second, short session (`app.web.auth` recording a token's use) and the
#: background jobs. More would not serve more: one process runs Python on one core at a
#: time. Each request in flight holds its rows, objects and page while it renders, and each
#: SQLite connection its page cache: at SQLAlchemy's default of 5 + 10 connections and no
#: bound on requests, a worker under 32 connections peaked about 20 MB higher
#: (bench/memory.py).
POOL_SIZE = 4
POOL_OVERFLOW = 4
REQUESTS_AT_ONCE = POOL_SIZE + POOL_OVERFLOW - 2
#: Compiled statements kept per engine. SQLAlchemy's default of 500 would let a worker that
#: has served every kind of page hold some 60 MB of them (about 130 KB each, measured); a
#: page makes 5 to 30 distinct statements, so the pages in use stay compiled.
QUERY_CACHE_SIZE = 150
#: SQLite's page cache per connection, in KiB (its default is 2,000): pages the operating
#: system caches anyway, and WAL mode drops a connection's cache whenever another writes.
SQLITE_CACHE_KIB = 1024


def create_db_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine with the pragmas and transaction handling this app relies on."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url, echo=echo)
    # No server-side prepared statements: a prepared statement may run on a generic plan that
    # cannot see its parameters, and search plans depend on the words searched (a common word
    # took 5x longer so). It also keeps the app working behind PgBouncer's transaction pooling.
    # No JIT: the planner's row guesses for recursive lineage walks are wild, so it spent 9 ms
    # compiling a 25 ms query; short interactive queries never win back the compile time.
    return create_engine(
        url,
        echo=echo,
        pool_pre_ping=True,
        query_cache_size=QUERY_CACHE_SIZE,
        pool_size=POOL_SIZE,
        max_overflow=POOL_OVERFLOW,
        connect_args={"prepare_threshold": None, "options": "-c jit=off"},
    )


def _sqlite_engine(url: str, *, echo: bool) -> Engine:
    database = url.split("///", 1)[-1] if "///" in url else ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    file_based = database not in ("", ":memory:") and "mode=memory" not in database
    # An in-memory database lives in its one connection: SQLAlchemy keeps a single one.
    pool = {"pool_size": POOL_SIZE, "max_overflow": POOL_OVERFLOW} if file_based else {}
    engine = create_engine(
        url,
        echo=echo,
        query_cache_size=QUERY_CACHE_SIZE,
        connect_args={"check_same_thread": False, "timeout": 30},
        **pool,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (pysqlite's own handling breaks savepoints).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Writers take the lock up front: a deferred transaction that reads and then writes
        # fails with "database is locked" instead of waiting when another writer got there first.
        immediate = connection.get_execution_options().get("sqlite_immediate", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


SessionFactory = Callable[[bool], Session]
"""Makes the session of one request; the flag says whether the request may write."""


def make_session_factory(engine: Engine) -> SessionFactory:
    readers = sessionmaker(bind=engine, expire_on_commit=False)
    writers = sessionmaker(
        bind=engine.execution_options(sqlite_immediate=True), expire_on_commit=False
    )

    def factory(write: bool) -> Session:
        return writers() if write else readers()

    return factory


def include_in_autogenerate(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Full-text search objects are written by hand per database; autogenerate leaves them be."""
    if type_ == "table" and name is not None and name.startswith("proposals_fts"):
        return False
    if type_ == "column" and name == "search_vector":
        return False
    return not (type_ == "index" and name == "ix_proposals_search_vector")
