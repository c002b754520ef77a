"""A work changed by several requests at once changes once (found by
tests/security/test_races.py: on PostgreSQL two preview uploads at once failed with a 500 on
the preview's key; on both databases every "hide" of a hidden work logged the hiding and told
its author again)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.communities.models import LogAction, ModerationLogEntry, Role
from app.db import utcnow
from app.notifications.models import Notification
from app.works import service
from app.works.models import Work, WorkImage
from tests.factories import add_member, make_community, make_user
from tests.support.images import image_bytes
from tests.support.races import at_once, committed, reading, refused

TIMES = 8


@dataclass(frozen=True)
class Seeded:
    url: str
    author: int
    moderators: tuple[int, int]
    work: int


@pytest.fixture(scope="module")
def seeded(make_database_url) -> Seeded:
    url = make_database_url("work-races")
    long_ago = utcnow() - timedelta(days=30)
    with committed(url) as db:
        community = make_community(db)
        author, mod_a, mod_b = (make_user(db) for _ in range(3))
        add_member(db, community, author, joined_at=long_ago)
        for moderator in (mod_a, mod_b):
            add_member(db, community, moderator, Role.moderator, joined_at=long_ago)
        work = service.create_work(
            db,
            actor=author,
            community=community,
            values=service.WorkDraft(
                title="Sketch", creator_name="Len", url="https://example.org/s", medium="image"
            ),
            now=long_ago,
        )
        db.flush()
        return Seeded(url, author.id, (mod_a.id, mod_b.id), work.id)


def loaded(db: Session, user_id: int, work_id: int) -> tuple[User, Work]:
    user, work = db.get(User, user_id), db.get(Work, work_id)
    assert user is not None
    assert work is not None
    return user, work


def test_previews_uploaded_at_once_leave_one(seeded: Seeded):
    def upload(db: Session) -> object:
        author, work = loaded(db, seeded.author, seeded.work)
        return service.set_preview(db, actor=author, work=work, data=image_bytes(), now=utcnow())

    assert refused(at_once(seeded.url, TIMES, upload)) == []
    with reading(seeded.url) as db:
        assert db.scalar(select(func.count(WorkImage.work_id))) == 1


def test_a_work_hidden_at_once_by_two_moderators_is_hidden_once(seeded: Seeded):
    counter = iter(range(TIMES))

    def hide(db: Session) -> object:
        moderator, work = loaded(db, seeded.moderators[next(counter) % 2], seeded.work)
        return service.hide_work(db, actor=moderator, work=work, reason="Spam.", now=utcnow())

    assert refused(at_once(seeded.url, TIMES, hide)) == []
    with reading(seeded.url) as db:
        logged = select(func.count(ModerationLogEntry.id)).where(
            ModerationLogEntry.action == LogAction.work_hidden
        )
        assert db.scalar(logged) == 1
        told = select(func.count(Notification.id)).where(Notification.user_id == seeded.author)
        assert db.scalar(told) == 1
