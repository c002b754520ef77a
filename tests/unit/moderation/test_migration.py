"""The moderation migration (0012) on a database with data in it: down to 0011 and up again
keeps every flag the old schema can hold, fills the log from the actions already on record,
and leaves the log append-only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import migrate
from app.communities import service as communities_service
from app.communities.models import Role
from app.db import create_db_engine, utcnow
from app.discussion import service as discussion_service
from app.moderation import service as moderation_service
from app.proposals import service as proposals_service
from app.works import service as works_service
from tests.factories import add_member, make_community, make_user
from tests.unit.moderation.conftest import make_comment, make_published_proposal, make_work

NEW_TABLES = {"moderation_log", "suspensions", "member_warnings", "appeals"}


def seed(url: str) -> dict[str, int]:
    """A community where a moderator changed a role, locked a proposal and hid a comment, and
    members flagged a comment, a work and a proposal; committed."""
    engine = create_db_engine(url)
    now = utcnow() - timedelta(days=1)
    try:
        with Session(engine, expire_on_commit=False) as db:
            community = make_community(db, "miku")
            moderator, author, fan = make_user(db), make_user(db), make_user(db)
            add_member(db, community, moderator, Role.moderator)
            add_member(db, community, author)
            add_member(db, community, fan)
            communities_service.change_role(
                db,
                actor=moderator,
                community=community,
                username=author.username,
                role="creator",
                reason="Publishes covers",
                now=now,
            )
            proposal = make_published_proposal(db, community, author, now)
            flagged = make_comment(db, proposal, author, "Flag me", now)
            hidden = make_comment(db, proposal, fan, "Hide me", now)
            work = make_work(db, community, author, now=now)
            for target in ("comment", "work", "proposal"):
                getattr(moderation_service, f"flag_{target}")(
                    db,
                    actor=fan if target != "comment" else moderator,
                    reason=f"{target} flag",
                    now=now,
                    **{target: {"comment": flagged, "work": work, "proposal": proposal}[target]},
                )
            proposals_service.set_locked(
                db,
                actor=moderator,
                proposal=proposal,
                locked=True,
                reason="Heated",
                now=now + timedelta(minutes=1),
            )
            discussion_service.hide_comment(
                db,
                actor=moderator,
                comment=hidden,
                reason="Insults",
                now=now + timedelta(minutes=2),
            )
            works_service.hide_work(
                db, actor=moderator, work=work, reason="Traced", now=now + timedelta(minutes=3)
            )
            db.commit()
            return {"moderator": moderator.id, "comment": hidden.id, "proposal": proposal.id}
    finally:
        engine.dispose()


def rows(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(r) for r in connection.execute(text(sql))]
    finally:
        engine.dispose()


def tables(url: str) -> set[str]:
    engine = create_db_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_down_and_up_again_keeps_flags_and_rebuilds_the_log(make_database_url):
    url = make_database_url("moderation_data")
    migrate.upgrade(url)
    ids = seed(url)
    assert len(rows(url, "SELECT id FROM flags")) == 3

    migrate.downgrade(url, "0011")
    assert not (tables(url) & NEW_TABLES)
    # The old schema has no place for a flag on a proposal; the others stay.
    assert sorted(str(r[0]) for r in rows(url, "SELECT reason FROM flags")) == [
        "comment flag",
        "work flag",
    ]

    migrate.upgrade(url)
    assert tables(url) >= NEW_TABLES
    assert len(rows(url, "SELECT id FROM flags")) == 2
    log = rows(
        url,
        "SELECT action, actor_id, reason, detail, proposal_id, comment_id FROM moderation_log "
        "ORDER BY id",
    )
    assert [(a, r, d) for a, _actor, r, d, _p, _c in log] == [
        ("role_changed", "Publishes covers", "fan → creator"),
        ("proposal_locked", "Heated", ""),
        ("comment_hidden", "Insults", ""),
        ("work_hidden", "Traced", ""),
    ]
    assert {row[1] for row in log} == {ids["moderator"]}
    assert log[2][4:] == (ids["proposal"], ids["comment"])


def test_the_log_is_append_only_after_the_upgrade(make_database_url):
    url = make_database_url("moderation_append_only")
    migrate.upgrade(url)
    seed(url)
    engine = create_db_engine(url)
    try:
        for statement in (
            "UPDATE moderation_log SET reason = 'Rewritten'",
            "DELETE FROM moderation_log",
        ):
            with pytest.raises(IntegrityError, match="append-only"), engine.begin() as connection:
                connection.execute(text(statement))
        if engine.dialect.name == "postgresql":
            with pytest.raises(IntegrityError, match="append-only"), engine.begin() as connection:
                connection.execute(text("TRUNCATE moderation_log"))
    finally:
        engine.dispose()
    assert len(rows(url, "SELECT id FROM moderation_log")) == 4
