"""A comment hidden by several requests at once, or hidden again, is hidden once: one entry
in the public log, one notification to its author (found by tests/security/test_races.py:
every "hide" logged the hiding and told the author again)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.communities.models import LogAction, ModerationLogEntry, Role
from app.db import utcnow
from app.discussion import service
from app.discussion.models import Comment
from app.notifications.models import Notification
from app.proposals import service as proposals_service
from tests.factories import add_member, make_community, make_user
from tests.support.races import at_once, committed, reading, refused

TIMES = 8


@dataclass(frozen=True)
class Seeded:
    url: str
    author: int
    moderators: tuple[int, int]
    comment: int


@pytest.fixture(scope="module")
def seeded(make_database_url) -> Seeded:
    url = make_database_url("comment-races")
    long_ago = utcnow() - timedelta(days=30)
    with committed(url) as db:
        community = make_community(db)
        author, mod_a, mod_b = (make_user(db) for _ in range(3))
        add_member(db, community, author, joined_at=long_ago)
        for moderator in (mod_a, mod_b):
            add_member(db, community, moderator, Role.moderator, joined_at=long_ago)
        proposal = proposals_service.create_proposal(
            db,
            actor=author,
            community=community,
            values=proposals_service.ProposalDraft(title="Credit", norm_text="Credit."),
            now=long_ago,
        )
        proposals_service.publish(db, actor=author, proposal=proposal, now=long_ago)
        comment = service.post_comment(
            db,
            actor=author,
            proposal=proposal,
            draft=service.CommentDraft(body="Something rude."),
            now=long_ago,
        )
        db.flush()
        return Seeded(url, author.id, (mod_a.id, mod_b.id), comment.id)


def test_a_comment_hidden_at_once_by_two_moderators_is_hidden_once(seeded: Seeded):
    counter = iter(range(TIMES))

    def hide(db: Session) -> object:
        moderator = db.get(User, seeded.moderators[next(counter) % 2])
        comment = db.get(Comment, seeded.comment)
        assert comment is not None
        return service.hide_comment(
            db, actor=moderator, comment=comment, reason="Rude.", now=utcnow()
        )

    assert refused(at_once(seeded.url, TIMES, hide)) == []
    with reading(seeded.url) as db:
        logged = select(func.count(ModerationLogEntry.id)).where(
            ModerationLogEntry.action == LogAction.comment_hidden
        )
        assert db.scalar(logged) == 1
        told = select(func.count(Notification.id)).where(Notification.user_id == seeded.author)
        assert db.scalar(told) == 1
        comment = db.get(Comment, seeded.comment)
        assert comment is not None
        assert comment.is_removed
