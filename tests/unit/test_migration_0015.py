"""Migrations 0015 to 0017 (content languages and clause translations, notification messages,
the change counter) upgrade a database in use without loss, and downgrade cleanly."""

from __future__ import annotations

from sqlalchemy import text

from app import migrate
from app.db import create_db_engine
from tests.unit.test_migration_0013 import columns, counts, demo_database


def test_0015_to_0017_keep_every_row_down_and_up(make_database_url):
    url = make_database_url("migration_0015")
    demo_database(url)
    before = counts(url)
    assert before["guideline_translations"] > 0
    assert before["change_counter"] == 1

    migrate.downgrade(url, "0014")

    after_down = counts(url)
    assert {"guideline_translations", "change_counter"}.isdisjoint(after_down)
    assert "language" not in columns(url, "proposals")
    assert "message" not in columns(url, "notifications")
    assert after_down == {k: v for k, v in before.items() if k in after_down}

    migrate.upgrade(url)

    again = counts(url)
    assert {k: again[k] for k in after_down} == after_down
    assert again["change_counter"] == 1
    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            # What was written before languages were recorded claims none; the guidelines
            # were all English then.
            assert (
                connection.execute(
                    text("SELECT count(*) FROM proposals WHERE language IS NOT NULL")
                ).scalar_one()
                == 0
            )
            assert set(
                connection.execute(text("SELECT DISTINCT language FROM communities")).scalars()
            ) == {"en"}
            assert set(
                connection.execute(
                    text("SELECT DISTINCT language FROM guideline_clause_versions")
                ).scalars()
            ) == {"en"}
    finally:
        engine.dispose()
