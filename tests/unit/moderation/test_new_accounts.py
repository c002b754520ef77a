"""New accounts, for their first day: fewer comments and proposals an hour, no links in
comments. The limits are settings, which each request's session carries."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.communities import permissions as community_permissions
from app.discussion import service as discussion_service
from app.errors import RateLimited, ValidationFailed
from app.proposals import service as proposals_service
from tests.unit.moderation.conftest import World, make_comment, with_settings


def comment(db, world: World, body: str, now):
    """A comment by fans[0], the discussion's own per-minute limit cleared before each."""
    return discussion_service.post_comment(
        db,
        actor=world.fans[0],
        proposal=world.proposal,
        draft=discussion_service.CommentDraft(body=body),
        now=now,
    )


def proposal(db, world: World, now, title: str = "A norm about credits"):
    return proposals_service.create_proposal(
        db,
        actor=world.fans[0],
        community=world.community,
        values=proposals_service.ProposalDraft(title=title),
        now=now,
    )


def born(world: World):
    return world.fans[0].created_at


@pytest.mark.parametrize(
    "body",
    [
        "See https://spam.example",
        "See [this](https://spam.example)",
        "Mail mailto:me@example.org",
        "Visit www.spam.example today",
        "<https://spam.example>",
    ],
)
def test_a_new_account_posts_no_links(db, world, body):
    with_settings(db)
    with pytest.raises(ValidationFailed) as caught:
        comment(db, world, body, born(world) + timedelta(hours=1))
    assert (
        "New accounts cannot post links during their first 24 hours" in caught.value.fields["body"]
    )


def test_links_are_fine_after_the_first_day_or_when_allowed(db, world):
    with_settings(db)
    assert comment(db, world, "https://ok.example", born(world) + timedelta(hours=24)).id
    with_settings(db, new_account_links=True)
    assert comment(db, world, "https://ok.example/2", born(world) + timedelta(hours=1)).id


def test_an_edit_may_not_slip_a_link_in(db, world):
    with_settings(db)
    own = comment(db, world, "Plain words", born(world) + timedelta(minutes=5))
    with pytest.raises(ValidationFailed) as caught:
        discussion_service.edit_comment(
            db,
            actor=world.fans[0],
            comment=own,
            body="Now see https://spam.example",
            now=born(world) + timedelta(minutes=6),
        )
    assert set(caught.value.fields) == {"body"}


def test_a_new_account_posts_so_many_comments_an_hour(db, world):
    with_settings(db, new_account_comments_per_hour=3)
    start = born(world) + timedelta(minutes=1)
    for n in range(3):
        # Two minutes apart: the per-minute limit of everyone is not what is tested here.
        comment(db, world, f"#{n}", start + timedelta(minutes=2 * n))
    with pytest.raises(RateLimited) as caught:
        comment(db, world, "one more", start + timedelta(minutes=7))
    assert "from a new account (at most 3 an hour during their first 24 hours)" in str(
        caught.value.message
    )
    assert 1 <= caught.value.retry_after <= 3600
    assert comment(db, world, "later", start + timedelta(minutes=61)).id


def test_a_new_account_writes_so_many_proposals_an_hour(db, world):
    with_settings(db, new_account_proposals_per_hour=2)
    start = born(world)
    proposal(db, world, start)
    proposal(db, world, start + timedelta(minutes=1))
    with pytest.raises(RateLimited, match="proposals from a new account"):
        proposal(db, world, start + timedelta(minutes=2))
    # A refused draft because of its fields does not count.
    assert proposal(db, world, start + timedelta(hours=1, seconds=1)).id


def test_older_accounts_and_zero_hours_and_scripts_have_no_limits(db, world):
    with_settings(db, new_account_hours=0)
    assert comment(db, world, "https://ok.example", born(world)).id
    db.info.clear()
    assert community_permissions.new_account_until(db, world.fans[0]) is None
    assert make_comment(db, world.proposal, world.fans[0], "https://ok.example/3").id
    settings = with_settings(db, new_account_hours=48)
    assert community_permissions.new_account_until(db, world.fans[0]) == born(world) + timedelta(
        hours=settings.new_account_hours
    )
