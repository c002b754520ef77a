"""The migrations build exactly the schema the models describe, and can be undone."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from app import db as app_db
from app import migrate
from app.db import create_db_engine
from app.models import Base


def differences(url: str) -> list[Any]:
    """What `alembic revision --autogenerate` would write for this database."""
    opts: dict[str, Any] = {"compare_type": True}
    # Objects the project tells autogenerate to leave alone (see migrations/env.py).
    include_object = getattr(app_db, "include_in_autogenerate", None)
    if include_object is not None:
        opts["include_object"] = include_object
    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts=opts)
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def tables(url: str) -> set[str]:
    engine = create_db_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_matches_the_models_and_downgrade_undoes_it(make_database_url):
    url = make_database_url("migrations")

    migrate.upgrade(url)
    assert tables(url) >= set(Base.metadata.tables)
    assert differences(url) == []
    # The same comparison as configured in migrations/env.py; raises when it finds a difference.
    command.check(migrate.alembic_config(url))

    migrate.downgrade(url, "base")
    assert tables(url) <= {"alembic_version"}

    migrate.upgrade(url)
    assert differences(url) == []


def test_the_comparison_notices_a_difference(make_database_url):
    # A control: a database missing a table must not compare equal.
    url = make_database_url("migrations_control")
    migrate.upgrade(url)
    engine = create_db_engine(url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE role_changes")
    finally:
        engine.dispose()
    found = differences(url)
    assert any(d[0] == "add_table" and d[1].name == "role_changes" for d in found)
