"""Migration 0010 upgrades a database with accounts in it without loss, and downgrades cleanly."""

from __future__ import annotations

from sqlalchemy import inspect, text

from app import migrate
from app.db import create_db_engine


def test_upgrade_keeps_accounts_and_downgrade_removes_only_its_own(make_database_url):
    url = make_database_url("identities_migration")
    migrate.upgrade(url, "0009")
    engine = create_db_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO users (username, display_name, email, password_hash, is_admin,"
                    " created_at) VALUES ('miku', 'Miku', 'miku@example.org', 'hash', false,"
                    " CURRENT_TIMESTAMP)"
                )
            )
        migrate.upgrade(url, "0010")
        with engine.begin() as connection:
            row = connection.execute(
                text("SELECT id, username, password_hash, email_verified_at FROM users")
            ).one()
            assert (row.username, row.password_hash, row.email_verified_at) == (
                "miku",
                "hash",
                None,
            )
            connection.execute(
                text(
                    "INSERT INTO user_identities (user_id, provider, issuer, subject, email,"
                    " created_at) VALUES (:id, 'p', 'https://id.example', 's', '',"
                    " CURRENT_TIMESTAMP)"
                ),
                {"id": row.id},
            )
        assert {"user_identities", "email_tokens"} <= set(inspect(engine).get_table_names())

        migrate.downgrade(url, "0009")
        inspector = inspect(engine)
        assert not {"user_identities", "email_tokens"} & set(inspector.get_table_names())
        assert "email_verified_at" not in {c["name"] for c in inspector.get_columns("users")}
        with engine.connect() as connection:
            assert connection.execute(text("SELECT username FROM users")).scalars().all() == [
                "miku"
            ]
    finally:
        engine.dispose()
