"""`normsforum backup` and `normsforum restore`: a round trip keeps every row of every table.

The source is the demo community (proposals, revisions, works with lineage, comments,
polls and tallies, guidelines) plus what the demo leaves out: an image's bytes, an
idempotency key, a deleted account, the append-only moderation log. It is backed up by the
command, restored by the command into a fresh database of the same kind, and the two are
compared table by table, row by row.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.orm import Session

from app import backup as backups
from app import demo, migrate
from app.accounts import passwords
from app.accounts.models import User
from app.cli import main
from app.communities import moderation_log
from app.communities.models import LogAction
from app.db import create_db_engine, utcnow
from app.discussion.models import Comment
from app.idempotency import IdempotencyKey
from app.polls import service as polls_service
from app.polls.models import Poll
from app.privacy import deletion
from app.works.models import Work, WorkImage
from tests.conftest import required
from tests.factories import make_user
from tests.security import crash
from tests.support import postgres
from tests.support.polls import seed_poll

Run = Callable[..., Result]


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Run]:
    """`run(url, "backup", path)`: the command in-process, on the database at `url`."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("NORMSFORUM_"):
            monkeypatch.delenv(name)
    runner = CliRunner()

    def invoke(url: str, *args: str) -> Result:
        env = {"NORMSFORUM_DATABASE_URL": url, "NORMSFORUM_ENVIRONMENT": "test"}
        return runner.invoke(main, list(args), env=env)

    yield invoke
    passwords.configure(time_cost=1, memory_cost_kib=8, parallelism=1)


def fill(url: str) -> None:
    """The demo, and the records the demo does not make."""
    migrate.upgrade(url)
    engine = create_db_engine(url)
    try:
        with Session(engine, expire_on_commit=False) as db:
            now = utcnow()
            demo.seed(db, now=now)
            work = db.query(Work).order_by(Work.id).first()
            assert work is not None
            db.add(
                WorkImage(
                    work_id=work.id,
                    content_type="image/png",
                    width=1,
                    height=1,
                    data=bytes(range(256)) * 4,
                    thumb_content_type="image/png",
                    thumb_width=1,
                    thumb_height=1,
                    thumb_data=b"\x89PNG\x00\xff",
                    digest="0" * 64,
                    created_at=now,
                )
            )
            leaving = make_user(db, "leaving_user")
            comment = db.query(Comment).order_by(Comment.id).first()
            assert comment is not None
            db.add(
                IdempotencyKey(
                    user_id=leaving.id,
                    key="k-1",
                    action="api:comment",
                    fingerprint="f" * 64,
                    result_id=comment.id,
                    status_code=201,
                    response={"id": comment.id, "body": "é ✓ \u2028"},
                    created_at=now,
                )
            )
            moderation_log.record(
                db,
                community=work.community_id,
                action=LogAction.member_warned,
                actor=None,
                member=leaving,
                now=now,
                reason="On the record.",
            )
            deletion.delete_account(db, actor=leaving, password="correct horse battery", now=now)
            db.commit()
    finally:
        engine.dispose()


def tables(engine: Engine) -> dict[str, list[str]]:
    """Every table of the database, and its rows in a canonical order."""
    found = {}
    with engine.connect() as connection:
        for name in sorted(inspect(engine).get_table_names()):
            quoted = engine.dialect.identifier_preparer.quote(name)
            rows = connection.execute(text(f"SELECT * FROM {quoted}")).all()  # noqa: S608
            found[name] = sorted(repr(tuple(_plain(v) for v in row)) for row in rows)
    return found


def _plain(value: Any) -> Any:
    return bytes(value) if isinstance(value, memoryview) else value


def same_tables(first: str, second: str) -> dict[str, int]:
    """Compare two databases table by table; the row count of each table."""
    one, two = create_db_engine(first), create_db_engine(second)
    try:
        left, right = tables(one), tables(two)
    finally:
        one.dispose()
        two.dispose()
    assert list(left) == list(right)
    for name in left:
        assert left[name] == right[name], f"table {name} differs"
    return {name: len(rows) for name, rows in left.items()}


@pytest.fixture
def source(make_database_url) -> str:
    url: str = make_database_url("backup_source")
    fill(url)
    return url


def test_a_backup_restored_into_a_fresh_database_has_every_row(
    run: Run, source: str, make_database_url, tmp_path: Path, db_kind: str
):
    path = tmp_path / "forum.backup"
    target = make_database_url("backup_target")

    made = run(source, "backup", str(path))
    restored = run(target, "restore", str(path))

    assert made.exit_code == 0, made.output
    assert f"Backed up the {db_kind} database to {path}" in made.output
    assert restored.exit_code == 0, restored.output
    assert "Restored" in restored.output
    assert "normsforum migrate" not in restored.output
    counts = same_tables(source, target)
    assert counts["users"] >= 7
    for table in ("comments", "ballots", "polls", "moderation_log", "work_images"):
        assert counts[table] > 0, table
    assert counts["alembic_version"] == 1
    expected = {name for name in counts if not name.startswith("proposals_fts")}
    assert expected >= {"idempotency_keys", "guideline_clause_versions", "work_parents"}


def test_the_restored_database_works_and_keeps_its_rules(
    run: Run, source: str, make_database_url, tmp_path: Path
):
    path = tmp_path / "forum.backup"
    target = make_database_url("backup_rules")
    assert run(source, "backup", str(path)).exit_code == 0
    assert run(target, "restore", str(path)).exit_code == 0

    engine = create_db_engine(target)
    try:
        # Still append-only: the moderation log's triggers came back with it.
        with pytest.raises(Exception, match="append-only"), engine.begin() as connection:
            connection.execute(text("DELETE FROM moderation_log"))
        with engine.connect() as connection:
            deleted = connection.execute(
                text("SELECT display_name FROM users WHERE deleted_at IS NOT NULL")
            ).scalars()
            assert list(deleted) == ["[deleted user]"]
    finally:
        engine.dispose()
    # A fresh migrate finds nothing to do.
    assert run(target, "migrate").exit_code == 0


def test_restore_refuses_a_database_with_data_unless_forced(
    run: Run, source: str, make_database_url, tmp_path: Path
):
    path = tmp_path / "forum.backup"
    assert run(source, "backup", str(path)).exit_code == 0
    other = make_database_url("backup_other")
    migrate.upgrade(other)
    engine = create_db_engine(other)
    try:
        with Session(engine) as db:
            make_user(db, "someone_else")
            db.commit()
    finally:
        engine.dispose()

    refused = run(other, "restore", str(path))
    forced = run(other, "restore", "--force", str(path))

    assert refused.exit_code == 1
    assert "holds data" in refused.output
    assert "--force" in refused.output
    assert forced.exit_code == 0, forced.output
    same_tables(source, other)


def test_an_empty_migrated_database_takes_a_restore_without_force(
    run: Run, source: str, make_database_url, tmp_path: Path
):
    path = tmp_path / "forum.backup"
    assert run(source, "backup", str(path)).exit_code == 0
    target = make_database_url("backup_empty")
    migrate.upgrade(target)

    restored = run(target, "restore", str(path))

    assert restored.exit_code == 0, restored.output
    same_tables(source, target)


def test_an_older_backup_says_to_migrate(run: Run, make_database_url, tmp_path: Path):
    old = make_database_url("backup_old")
    migrate.upgrade(old, "0012")
    path = tmp_path / "old.backup"
    assert run(old, "backup", str(path)).exit_code == 0
    target = make_database_url("backup_old_target")

    restored = run(target, "restore", str(path))

    assert restored.exit_code == 0, restored.output
    assert "revision 0012" in restored.output
    assert "normsforum migrate" in restored.output
    assert run(target, "migrate").exit_code == 0


def test_backup_will_not_overwrite_a_file(run: Run, source: str, tmp_path: Path):
    path = tmp_path / "forum.backup"
    path.write_text("precious")

    refused = run(source, "backup", str(path))
    replaced = run(source, "backup", "--overwrite", str(path))

    assert refused.exit_code == 1
    assert "exists already" in refused.output
    assert replaced.exit_code == 0, replaced.output
    assert backups.kind_of_file(path) is not None
    # Nothing half-written is left beside it.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["forum.backup"]


def test_restore_refuses_what_is_not_a_backup(run: Run, make_database_url, tmp_path: Path):
    target = make_database_url("backup_junk")
    junk = tmp_path / "notes.txt"
    junk.write_text("not a database")

    missing = run(target, "restore", str(tmp_path / "nothing.backup"))
    refused = run(target, "restore", str(junk))

    assert missing.exit_code == 1
    assert "no backup file" in missing.output
    assert refused.exit_code == 1
    assert "is not a Norms Forum backup" in refused.output


def test_restore_refuses_a_backup_of_the_other_database_kind(
    run: Run, make_database_url, tmp_path: Path, db_kind: str
):
    target = make_database_url("backup_kind")
    other = tmp_path / "other.backup"
    if db_kind == "sqlite":
        other.write_bytes(backups.PGDUMP_MAGIC + b"\x01\x0e\x00" + b"\x00" * 64)
        expected = "is a PostgreSQL backup, but the configured database is SQLite"
    else:
        other.write_bytes(backups.SQLITE_MAGIC + b"\x00" * 100)
        expected = "is a SQLite backup, but the configured database is PostgreSQL"

    refused = run(target, "restore", str(other))

    assert refused.exit_code == 1
    assert expected in refused.output


def test_without_pg_dump_the_error_says_what_to_install(monkeypatch, tmp_path: Path):
    monkeypatch.setattr(backups, "find_tool", lambda name: None)

    with pytest.raises(backups.BackupError) as missing:
        backups.backup("postgresql+psycopg://nobody@127.0.0.1:9/none", tmp_path / "x.dump")

    assert "pg_dump was not found" in str(missing.value)
    assert "postgresql-client" in str(missing.value)
    assert not (tmp_path / "x.dump").exists()


def test_postgresql_tools_are_found_where_debian_puts_them():
    if postgres.find_bin_dir() is None:
        # As the PostgreSQL pass itself: a failure where CI requires PostgreSQL.
        if required("NORMSFORUM_REQUIRE_POSTGRES"):
            pytest.fail("PostgreSQL is required but initdb was not found.")
        pytest.skip("PostgreSQL is not installed here")
    for tool in ("pg_dump", "pg_restore"):
        found = backups.find_tool(tool)
        assert found is not None
        assert found.name == tool


def test_the_password_stays_out_of_the_command_line():
    uri, env = backups._libpq("postgresql+psycopg://forum:s3cr%40t@db.example:5433/norms")

    assert uri == "postgresql://forum@db.example:5433/norms"
    assert env["PGPASSWORD"] == "s3cr@t"


def test_a_backup_taken_while_ballots_are_cast_is_a_consistent_snapshot(
    make_database_url, tmp_path: Path
):
    """Each ballot changes two rows in one transaction (the old one loses its `latest` mark);
    a backup taken in the middle of that traffic holds whole transactions only."""
    url = make_database_url("backup_live")
    migrate.upgrade(url)
    seeded = seed_poll(url, voters=4)
    stop = threading.Event()
    cast = 0

    def vote() -> None:
        nonlocal cast
        engine = create_db_engine(url)
        try:
            while not stop.is_set():
                with Session(engine, expire_on_commit=False) as db:
                    poll = db.get(Poll, seeded.poll_id)
                    voter = db.scalar(select(User).where(User.username == seeded.voters[cast % 4]))
                    assert poll is not None
                    polls_service.cast_ballot(
                        db, actor=voter, poll=poll, position="consent", reason="", now=utcnow()
                    )
                    db.commit()
                cast += 1
        finally:
            engine.dispose()

    voter_thread = threading.Thread(target=vote)
    voter_thread.start()
    try:
        copies = []
        for n in range(4):
            time.sleep(0.2)
            path = tmp_path / f"live-{n}.backup"
            backups.backup(url, path)
            copies.append(path)
    finally:
        stop.set()
        voter_thread.join()
    assert cast > 0
    for n, path in enumerate(copies):
        target = make_database_url(f"backup_live_copy_{n}")
        backups.restore(target, path)
        engine = create_db_engine(target)
        try:
            with engine.connect() as connection:
                for what, query in crash.INVARIANTS.items():
                    if "ballot" in what or "voter" in what:
                        assert connection.exec_driver_sql(query).scalar_one() == 0, what
        finally:
            engine.dispose()
