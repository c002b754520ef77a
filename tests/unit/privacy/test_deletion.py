"""Deleting an account: sign-in ways and private data go; the discussion stays readable,
signed "[deleted user]"; ballots keep counting; the moderation log keeps its rows."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts import service as accounts_service
from app.accounts.models import AccessToken, User, UserSession
from app.communities import moderation_log
from app.communities.models import LogAction, Membership, ModerationLogEntry, Role, RoleChange
from app.config import Settings
from app.db import utcnow
from app.discussion.models import Comment, CommentVersion
from app.errors import Conflict, NotAuthenticated, ValidationFailed
from app.guidelines.models import ClauseCredit, ClauseVersion
from app.idempotency import IdempotencyKey
from app.moderation.models import Flag
from app.notifications.models import Notification, Preference
from app.polls import service as polls_service
from app.polls.models import Ballot, Voter
from app.privacy import deletion
from app.proposals import service as proposals_service
from app.proposals.models import Proposal, ProposalAuthor, Revision
from app.works.models import Work
from tests.conftest import make_settings
from tests.factories import PASSWORD, add_member, make_community, make_user
from tests.unit.polls.conftest import NOW, Town
from tests.unit.privacy.conftest import Life


def count(db: Session, model, *conditions) -> int:
    return db.scalar(select(func.count()).select_from(model).where(*conditions)) or 0


def delete(db: Session, user: User, **confirmation: str) -> User:
    return deletion.delete_account(
        db, actor=user, password=confirmation.get("password", PASSWORD), now=utcnow()
    )


def test_the_person_goes_and_their_public_writing_stays(db, town: Town, life: Life):
    person_id, old_name = life.person.id, life.person.username
    life.person.locale = "ja"
    accounts_service.start_session(db, user=life.person, now=utcnow(), settings=settings())

    delete(db, life.person)

    user = db.get(User, person_id)
    assert user is not None
    assert user.is_deleted
    assert user.display_name == "[deleted user]"
    assert user.username.startswith("deleted-")
    assert old_name not in (user.username, user.email)
    assert user.email.endswith("@deleted.invalid")
    assert user.password_hash is None
    assert user.locale is None
    assert not user.is_admin
    for model in (UserSession, AccessToken, Preference, IdempotencyKey):
        assert count(db, model, model.user_id == person_id) == 0, model
    assert count(db, Membership, Membership.user_id == person_id) == 0
    # They left as a member leaves: on the record.
    left = db.scalar(
        select(RoleChange).where(RoleChange.user_id == person_id, RoleChange.new_role.is_(None))
    )
    assert left is not None
    # The discussion is whole: every comment, its versions, its author.
    assert count(db, Comment, Comment.author_id == person_id) == 3
    assert count(db, CommentVersion, CommentVersion.comment_id == life.comment.id) == 1
    db.refresh(life.reply)
    assert life.reply.body == "I answer the fan."
    assert life.reply.author is not None
    assert life.reply.author.display_name == "[deleted user]"
    # Proposals keep their history and authorship; works their maker.
    assert count(db, Revision, Revision.proposal_id == life.ratified.id) == 2
    assert count(db, ProposalAuthor, ProposalAuthor.user_id == person_id) >= 1
    assert count(db, Work, Work.created_by_id == person_id) == 1
    # The draft nobody else saw is gone.
    assert db.get(Proposal, life.draft.id) is None
    # Their flag still counts towards hiding.
    assert count(db, Flag, Flag.flagger_id == person_id) == 1


def test_the_moderation_log_keeps_its_rows_naming_nobody(db, town: Town, life: Life):
    person_id = life.person.id
    before = list(
        db.execute(
            select(ModerationLogEntry.id, ModerationLogEntry.member_id, ModerationLogEntry.reason)
        )
    )
    assert (person_id, "Be kind.") in {(m, r) for _, m, r in before}

    delete(db, life.person)

    after = list(
        db.execute(
            select(ModerationLogEntry.id, ModerationLogEntry.member_id, ModerationLogEntry.reason)
        )
    )
    assert after == before
    entry = db.scalar(select(ModerationLogEntry).where(ModerationLogEntry.member_id == person_id))
    assert entry is not None
    db.refresh(entry)
    assert entry.member is not None
    assert entry.member.display_name == "[deleted user]"


def test_ballots_keep_counting_and_the_closed_poll_still_recounts(db, town: Town, life: Life):
    person_id = life.person.id
    ballots = count(db, Ballot, Ballot.voter_id == person_id)
    frozen = dict(life.closed_poll.tally or {})

    delete(db, life.person)

    assert count(db, Ballot, Ballot.voter_id == person_id) == ballots
    assert count(db, Voter, Voter.user_id == person_id) >= 2
    db.refresh(life.closed_poll)
    assert life.closed_poll.tally == frozen
    exported = polls_service.export(db, life.closed_poll)
    assert polls_service.verify(exported).matches
    assert "[deleted user]" not in str(exported["ballots"])
    names = {b.get("voter") for b in exported["ballots"]}
    assert life.person.username in names
    # The running anonymous poll still counts their objection.
    assert polls_service.tally_of(db, life.anonymous_poll).to_json() is not None
    counted = db.scalar(
        select(Ballot).where(
            Ballot.poll_id == life.anonymous_poll.id, Ballot.voter_id == person_id, Ballot.latest
        )
    )
    assert counted is not None


def test_names_copied_at_the_time_become_deleted_user(db, town: Town, life: Life):
    person_id, old_name = life.person.id, life.person.username
    version = db.scalar(select(ClauseVersion).where(ClauseVersion.poll_id.is_not(None)))
    assert version is not None
    version.objections = [
        {"round": 1, "reason": "Too broad.", "voter": old_name, "voter_name": "Kaito"},
        {"round": 1, "reason": "Too narrow.", "voter": "someone", "voter_name": "Someone"},
    ]
    db.add(
        Notification(
            user_id=town.fan.id,
            kind="reply",
            actor_id=person_id,
            text=f"{life.person.display_name} replied to your comment on “A”.",
            url="/",
            created_at=NOW,
        )
    )
    db.flush()

    delete(db, life.person)

    credit = db.scalar(select(ClauseCredit).where(ClauseCredit.user_id == person_id))
    assert credit is not None
    assert credit.name == "[deleted user]"
    db.refresh(version)
    assert version.objections[0] == {
        "round": 1,
        "reason": "Too broad.",
        "voter": None,
        "voter_name": "[deleted user]",
    }
    assert version.objections[1]["voter"] == "someone"
    told = db.scalar(
        select(Notification).where(Notification.actor_id == person_id, Notification.url == "/")
    )
    assert told is not None
    assert told.text == "[deleted user] replied to your comment on “A”."


def test_a_wrong_password_deletes_nothing(db, life: Life):
    with pytest.raises(ValidationFailed) as refused:
        delete(db, life.person, password="not my password")

    assert "password" in refused.value.fields
    assert not life.person.is_deleted


def test_without_a_password_the_username_is_typed(db, town: Town):
    person = make_user(db)
    person.password_hash = None
    db.flush()

    with pytest.raises(ValidationFailed) as refused:
        deletion.delete_account(db, actor=person, confirm="someone else", now=utcnow())
    assert "confirm" in refused.value.fields

    deletion.delete_account(db, actor=person, confirm=f"  {person.username.upper()} ", now=NOW)
    assert person.is_deleted


def test_the_only_moderator_of_a_community_cannot_go(db, town: Town):
    with pytest.raises(Conflict) as refused:
        delete(db, town.moderator)

    assert town.community.name in refused.value.message
    assert not town.moderator.is_deleted
    assert deletion.sole_moderator_of(db, town.moderator) == [town.community]
    # With a second moderator, they may.
    add_member(db, town.community, make_user(db), Role.moderator)
    assert deletion.sole_moderator_of(db, town.moderator) == []
    delete(db, town.moderator)
    assert town.moderator.is_deleted


def test_a_moderator_among_others_leaves_every_community(db):
    person, other = make_user(db), make_user(db)
    first, second = make_community(db), make_community(db)
    for community in (first, second):
        add_member(db, community, person, Role.moderator)
        add_member(db, community, other, Role.moderator)

    delete(db, person)

    assert count(db, Membership, Membership.user_id == person.id) == 0


def test_a_deleted_account_cannot_sign_in_or_be_named_again(db, life: Life):
    old_name, old_email = life.person.username, life.person.email

    deleted = delete(db, life.person)

    for login in (old_name, old_email, deleted.username, deleted.email):
        with pytest.raises(NotAuthenticated):
            accounts_service.authenticate(
                db, login=login, password=PASSWORD, client_ip="1", now=utcnow(), settings=settings()
            )
    # The old name is free; placeholder names are reserved.
    problems, _ = accounts_service.validate_profile(old_name, "Back again", "back@example.org")
    assert problems == {}
    problems, _ = accounts_service.validate_profile(deleted.username, "Me", "me@example.org")
    assert "username" in problems
    with pytest.raises(Conflict):
        deletion.delete_account(db, actor=deleted, confirm=deleted.username, now=utcnow())


def settings() -> Settings:
    return make_settings("sqlite://")


def test_drafts_others_wrote_or_the_log_names_stay(db, town: Town, life: Life):
    shared = proposals_service.create_proposal(
        db,
        actor=life.person,
        community=town.community,
        values=proposals_service.ProposalDraft(title="Written together", norm_text="Both."),
        now=NOW,
    )
    proposals_service.add_coauthor(
        db, actor=life.person, proposal=shared, username=town.fan.username, now=NOW
    )
    logged = proposals_service.create_proposal(
        db,
        actor=life.person,
        community=town.community,
        values=proposals_service.ProposalDraft(title="On the record", norm_text="Logged."),
        now=NOW,
    )
    moderation_log.record(
        db,
        community=town.community,
        action=LogAction.proposal_locked,
        actor=town.moderator,
        now=NOW,
        proposal_id=logged.id,
    )

    delete(db, life.person)

    assert db.get(Proposal, life.draft.id) is None
    assert db.get(Proposal, shared.id) is not None
    assert db.get(Proposal, logged.id) is not None
