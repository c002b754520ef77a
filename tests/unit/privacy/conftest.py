"""A member who did a bit of everything: the person whose data is exported and deleted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from app.accounts import service as accounts_service
from app.accounts.models import User
from app.discussion import service as discussion_service
from app.discussion.models import Comment
from app.guidelines import service as guidelines_service
from app.moderation import service as moderation_service
from app.notifications import service as notifications_service
from app.notifications.models import Delivery
from app.polls import service as polls_service
from app.polls.models import Poll
from app.proposals import service as proposals_service
from app.proposals.models import Proposal
from app.works.models import Work
from tests.unit.discussion.conftest import exhibit, make_work
from tests.unit.polls import conftest as polls_fixtures
from tests.unit.polls.conftest import NOW, Town, vote

# The polls' test community, shared.
town = polls_fixtures.town

RULES = "# Attribution\n\n## Credit the artist\n\nDerivative works credit the original artist.\n"


@dataclass
class Life:
    """What `town.author` did before asking for their data, then for deletion."""

    person: User
    ratified: Proposal
    closed_poll: Poll
    anonymous_poll: Poll
    draft: Proposal
    comment: Comment
    reply: Comment
    hidden: Comment
    work: Work
    token: str


@pytest.fixture
def life(db: Session, town: Town) -> Life:
    person = town.author
    guidelines_service.import_rules(
        db,
        actor=town.moderator,
        community=town.community,
        markdown=RULES,
        now=NOW - timedelta(days=30),
    )
    # A proposal of theirs, edited once, passed with their own ballot among the fans', and
    # was ratified.
    start = NOW - timedelta(days=5)
    ratified = polls_fixtures.publish(db, town, at=start, title="Name the illustrator")
    proposals_service.edit_proposal(
        db,
        actor=person,
        proposal=ratified,
        base_revision=1,
        values=proposals_service.ProposalDraft(
            title="Name the illustrator",
            summary="Credit where it is due.",
            norm_text="Every derivative drawing names its illustrator.",
        ),
        message="Clearer.",
        now=start + timedelta(hours=1),
    )
    closed_poll = polls_service.open_poll(
        db, actor=town.moderator, proposal=ratified, now=start + timedelta(days=3)
    )
    for voter in (person, *town.fans):
        vote(db, closed_poll, voter, "consent", at=start + timedelta(days=3))
    polls_service.close_early(db, actor=town.moderator, poll=closed_poll, now=NOW)
    guidelines_service.ratify(db, actor=town.moderator, proposal=ratified, note="Yes.", now=NOW)
    # A ballot in an anonymous poll, still running.
    polls_fixtures.set_policy(db, town, ballots="anonymous")
    second = polls_fixtures.publish(db, town, title="Anonymous question")
    anonymous_poll = polls_service.open_poll(db, actor=town.moderator, proposal=second, now=NOW)
    vote(db, anonymous_poll, person, "object", "A secret objection.")
    vote(db, anonymous_poll, town.fan, "consent")
    # A draft nobody else has seen.
    draft = proposals_service.create_proposal(
        db,
        actor=person,
        community=town.community,
        values=proposals_service.ProposalDraft(title="My private idea", norm_text="Unseen."),
        now=NOW,
    )
    # Comments: one edited, a reply to someone, one a moderator hid.
    other = discussion_service.post_comment(
        db,
        actor=town.fan,
        proposal=second,
        draft=discussion_service.CommentDraft(body="The fan's view."),
        now=NOW,
    )
    comment = discussion_service.post_comment(
        db,
        actor=person,
        proposal=second,
        draft=discussion_service.CommentDraft(body="My first thought.", alignment="opposes"),
        now=NOW,
    )
    discussion_service.edit_comment(
        db, actor=person, comment=comment, body="My second thought.", now=NOW
    )
    reply = discussion_service.post_comment(
        db,
        actor=person,
        proposal=second,
        draft=discussion_service.CommentDraft(body="I answer the fan.", parent=other.id),
        now=NOW,
    )
    hidden = discussion_service.post_comment(
        db,
        actor=person,
        proposal=second,
        draft=discussion_service.CommentDraft(body="Something rude."),
        now=NOW,
    )
    discussion_service.hide_comment(
        db, actor=town.moderator, comment=hidden, reason="Be kind.", now=NOW
    )
    # A work of theirs on show, a flag they raised, settings and a token.
    work = make_work(db, town.community, person, title="My remix")
    exhibit(db, second, person, work)
    moderation_service.flag_comment(
        db, actor=person, comment=other, reason="Off topic, I think.", now=NOW
    )
    notifications_service.save_preference(
        db, actor=person, delivery=Delivery.digest.value, muted_kinds=[]
    )
    _, token = accounts_service.create_token(
        db, actor=person, name="script", scope="write", now=NOW
    )
    db.flush()
    return Life(
        person, ratified, closed_poll, anonymous_poll, draft, comment, reply, hidden, work, token
    )
