"""Query budgets: each main page makes as many SQL statements with a little data as with more.

A page whose statement count grows with the rows behind it loads something per row (N+1);
the same page, the same viewer, before and after adding proposals, comments, works, ballots,
guideline clauses, notifications and moderators' actions must count the same.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.communities import service as communities_service
from app.communities.models import Role
from app.db import utcnow
from app.discussion import service as discussion_service
from app.guidelines import service as guidelines_service
from app.notifications import service as notifications_service
from app.notifications.models import Kind
from app.polls import service as polls_service
from app.polls.models import Poll
from app.proposals import service as proposals_service
from app.proposals.models import Proposal
from app.works import service as works_service
from app.works.models import Work
from tests.conftest import log_in
from tests.factories import add_member, make_community, make_user
from tests.support.statements import counting

RULES = "## Rules\n- **One.** The first rule.\n- **Two.** The second rule.\n"

PAGES = [
    "/c/miku",
    "/c/miku/proposals",
    "/c/miku/proposals/{proposal}",
    "/c/miku/works",
    "/c/miku/works/{work}",
    "/c/miku/guidelines",
    "/c/miku/guidelines.md",
    "/c/miku/guidelines?lang=ja",
    "/c/miku/guidelines.md?lang=ja",
    "/c/miku/polls/{poll}",
    "/c/miku/polls/{closed}",
    "/c/miku/polls/{closed}/ballots",
    "/c/miku/moderation-log",
    "/c/miku/ratification",
    "/notifications",
    "/api/v1/communities/miku/proposals",
    "/api/v1/proposals/{proposal}/comments",
    "/api/v1/communities/miku/guidelines",
    "/api/v1/communities/miku/guidelines?lang=ja",
    "/api/v1/polls/{poll}",
    "/api/v1/notifications",
]


class Forum:
    """A community with a moderator, members, a proposal under discussion, a poll running and
    a closed one, works, guidelines; `grow()` adds more of everything."""

    def __init__(self, db: Session) -> None:
        self.db = db
        self.now = utcnow()
        self.joined = self.now - timedelta(days=60)
        self.community = make_community(db, "miku", name="Hatsune Miku Fans")
        self.moderator = make_user(db, "mod_rin")
        add_member(db, self.community, self.moderator, Role.moderator, joined_at=self.joined)
        self.members = [self.member() for _ in range(3)]
        guidelines_service.import_rules(
            db,
            actor=self.moderator,
            community=self.community,
            markdown=RULES,
            now=self.now - timedelta(days=50),
        )
        self.proposal = self.published("Credit the illustrator")
        self.work = self.add_work("Rooftop at dusk")
        self.poll_proposal = self.published("Label AI works", days=10)
        self.poll = polls_service.open_poll(
            self.db,
            actor=self.moderator,
            proposal=self.poll_proposal,
            now=self.now - timedelta(days=1),
        )
        self.closed = self.closed_poll("Name the licence")

    def member(self) -> User:
        user = make_user(self.db)
        add_member(self.db, self.community, user, Role.fan, joined_at=self.joined)
        return user

    def published(self, title: str, days: int = 5) -> Proposal:
        author = self.members[0]
        at = self.now - timedelta(days=days)
        proposal = proposals_service.create_proposal(
            self.db,
            actor=author,
            community=self.community,
            values=proposals_service.ProposalDraft(title=title, norm_text=f"{title}."),
            now=at,
        )
        proposals_service.publish(self.db, actor=author, proposal=proposal, now=at)
        return proposal

    def add_work(self, title: str, parents: list[str] | None = None) -> Work:
        return works_service.create_work(
            self.db,
            actor=self.members[0],
            community=self.community,
            values=works_service.WorkDraft(
                title=title,
                creator_name="Len",
                url="https://example.org/w",
                medium="image",
                license="CC BY 4.0",
                parents=parents or [],
            ),
            now=self.now,
        )

    def closed_poll(self, title: str) -> Poll:
        proposal = self.published(title, days=10)
        poll = polls_service.open_poll(
            self.db, actor=self.moderator, proposal=proposal, now=self.now - timedelta(days=5)
        )
        for voter in self.members:
            polls_service.cast_ballot(
                self.db,
                actor=voter,
                poll=poll,
                position="consent",
                reason="",
                now=self.now - timedelta(days=4),
            )
        polls_service.close_early(
            self.db, actor=self.moderator, poll=poll, now=self.now - timedelta(days=3)
        )
        return poll

    def translate(self, number: str) -> None:
        guidelines_service.save_translation(
            self.db,
            actor=self.moderator,
            community=self.community,
            clause=guidelines_service.get_clause(self.db, self.community, number),
            language="ja",
            title=f"条項 {number}",
            text="翻訳です。",
            now=self.now,
        )

    def grow(self, n: int) -> None:
        """n more of everything the pages list."""
        new_members = [self.member() for _ in range(n)]
        for i in range(n):
            self.published(f"Another proposal {n}.{i}")
            discussion_service.post_comment(
                self.db,
                actor=new_members[i],
                proposal=self.proposal,
                draft=discussion_service.CommentDraft(body=f"Comment {i}", alignment="neutral"),
                now=self.now,
            )
            self.add_work(f"Derived work {n}.{i}", parents=[str(self.work.id)])
            polls_service.cast_ballot(
                self.db,
                actor=self.members[i % len(self.members)],
                poll=self.poll,
                position="consent",
                reason="",
                now=self.now,
            )
            communities_service.change_role(
                self.db,
                actor=self.moderator,
                community=self.community,
                username=new_members[i].username,
                role="creator",
                reason="Publishes songs",
                now=self.now,
            )
            notifications_service.notify(
                self.db,
                recipients=[self.members[0]],
                kind=Kind.reply,
                text=f"Someone replied {i}",
                url="/c/miku",
                now=self.now,
            )
        # Clauses come through ratification: a passed proposal each.
        for i in range(2):
            proposal = self.published(f"Clause {n}.{i}", days=10)
            poll = polls_service.open_poll(
                self.db, actor=self.moderator, proposal=proposal, now=self.now - timedelta(days=6)
            )
            for voter in [self.moderator, *self.members]:
                polls_service.cast_ballot(
                    self.db,
                    actor=voter,
                    poll=poll,
                    position="consent",
                    reason="",
                    now=self.now - timedelta(days=5),
                )
            polls_service.close_early(
                self.db, actor=self.moderator, poll=poll, now=self.now - timedelta(days=4)
            )
            guidelines_service.ratify(
                self.db, actor=self.moderator, proposal=proposal, note="", now=self.now
            )
            made = guidelines_service.made_by(self.db, proposal)
            assert made is not None
            self.translate(made.clause.number)
        self.closed_poll("Closed again")
        self.db.flush()


@pytest.fixture
def forum(db: Session) -> Forum:
    return Forum(db)


def urls(forum: Forum) -> list[str]:
    ids = {
        "proposal": forum.proposal.id,
        "work": forum.work.id,
        "poll": forum.poll.id,
        "closed": forum.closed.id,
    }
    return [page.format(**ids) for page in PAGES]


Viewer = Callable[[], None]


@pytest.mark.parametrize("viewer", ["visitor", "member", "moderator"])
def test_main_pages_cost_the_same_number_of_statements_with_more_data(
    client, connection, forum, viewer
):
    if viewer != "visitor":
        user = forum.moderator if viewer == "moderator" else forum.members[0]
        log_in(client, user.username)

    def measure() -> dict[str, int]:
        counts = {}
        for url in urls(forum):
            if url.endswith("/notifications") and viewer == "visitor":
                continue
            if url.endswith("/ratification") and viewer != "moderator":
                continue
            # What rendering costs is counted: a page kept for visitors would be served
            # with one statement.
            client.app.state.page_cache.clear()
            with counting(connection) as statements:
                response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            counts[url] = len(statements)
        return counts

    # Some of everything first: a page may rightly ask one more question once, say, the
    # thread has any comments at all. Then twice as much again must cost nothing more.
    forum.grow(2)
    measure()  # warm: first requests load what later ones find cached
    before = measure()
    forum.grow(4)
    after = measure()
    grown = {url: (before[url], after[url]) for url in before if after[url] != before[url]}
    assert grown == {}, f"statements grew with the data (before, after): {grown}"
