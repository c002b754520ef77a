"""Migration 0013 (idempotency keys, deleted accounts) upgrades a database in use without
loss, and downgrades cleanly."""

from __future__ import annotations

from sqlalchemy import inspect, text
from sqlalchemy.orm import Session

from app import demo, migrate
from app.db import create_db_engine, utcnow


def counts(url: str) -> dict[str, int]:
    engine = create_db_engine(url)
    try:
        names = inspect(engine).get_table_names()
        with engine.connect() as connection:
            return {
                name: connection.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one()  # noqa: S608
                for name in names
            }
    finally:
        engine.dispose()


def columns(url: str, table: str) -> set[str]:
    engine = create_db_engine(url)
    try:
        return {c["name"] for c in inspect(engine).get_columns(table)}
    finally:
        engine.dispose()


def demo_database(url: str) -> None:
    """A database at the newest revision holding the demo community."""
    migrate.upgrade(url)
    engine = create_db_engine(url)
    try:
        with Session(engine) as db:
            demo.seed(db, now=utcnow())
            db.commit()
    finally:
        engine.dispose()


def test_0013_keeps_every_row_down_and_up(make_database_url):
    url = make_database_url("migration_0013")
    demo_database(url)
    before = counts(url)
    assert before["users"] > 0
    assert before["comments"] > 0

    migrate.downgrade(url, "0012")

    after_down = counts(url)
    assert "idempotency_keys" not in after_down
    assert "deleted_at" not in columns(url, "users")
    # Every table of 0012 keeps its rows (later revisions' own tables go with them).
    assert after_down == {k: v for k, v in before.items() if k in after_down}
    assert set(before) - set(after_down) >= {"idempotency_keys"}

    migrate.upgrade(url)

    again = counts(url)
    assert {k: again[k] for k in after_down} == after_down
    assert "deleted_at" in columns(url, "users")
