"""Deleting an account: the person goes, the discussion they took part in stays readable.

The `users` row is not deleted but emptied: a new placeholder name, "[deleted user]" as the
display name, an address that can receive nothing, no password, `deleted_at` set. Keeping
the row is what keeps the record whole without naming anyone:

- what they wrote in public (comments and their versions, proposals and revisions, works,
  exhibits, reasons of named ballots) keeps its author, shown as "[deleted user]";
- their ballots keep counting, in closed polls (so frozen tallies still recount from the
  export) and in running ones (the roll is frozen when a poll opens);
- the moderation log, whose rows can never change (triggers refuse it) and whose foreign keys
  have no ON DELETE action, keeps its rows as they are: they refer to the user by id only,
  and that id now names nobody. Nothing in the log has to be nulled, which it could not be.

What goes: every way to sign in (password, provider identities, sessions, access tokens,
mailed links), their memberships (left as a member leaving would, on the public record),
their notifications and preferences, follows, mail addressed to them, idempotency keys,
pending appeals and the text of decided ones, warnings addressed to them, and their drafts
nobody else could see. Names copied at the time (guideline credits, the objectors a clause
version cites, other people's notifications about them) become "[deleted user]".
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from app import idempotency
from app.accounts import passwords
from app.accounts import service as accounts_service
from app.accounts.models import AccessToken, EmailToken, Identity, User, UserSession
from app.communities import service as communities_service
from app.communities.models import (
    Community,
    Membership,
    MemberWarning,
    ModerationLogEntry,
    Role,
)
from app.discussion.models import Comment
from app.errors import Conflict, ValidationFailed
from app.guidelines.models import ClauseCredit, ClauseVersion
from app.i18n import gettext as _
from app.mail.models import OutboxMail
from app.moderation.models import Appeal
from app.notifications.models import Notification, Preference
from app.proposals.models import Follow, Proposal, ProposalAuthor, ProposalState

DELETED_NAME = "[deleted user]"
#: A reserved top-level domain (RFC 2606): mail to it goes nowhere, and no one can sign up
#: with such an address (the email validator refuses special-use domains).
PLACEHOLDER_DOMAIN = "deleted.invalid"


def sole_moderator_of(db: Session, user: User) -> list[Community]:
    """The communities that would be left without a moderator if `user` went."""
    mine = select(Membership.community_id).where(
        Membership.user_id == user.id, Membership.role == Role.moderator
    )
    others = (
        select(Membership.community_id)
        .where(
            Membership.community_id.in_(mine),
            Membership.role == Role.moderator,
            Membership.user_id != user.id,
        )
        .distinct()
    )
    return list(
        db.scalars(
            select(Community)
            .where(Community.id.in_(mine), Community.id.not_in(others))
            .order_by(func.lower(Community.name))
        )
    )


def check_confirmation(user: User, *, password: str, confirm: str) -> None:
    """The person proves it is them: their password, or (without one) their username typed."""
    if user.has_password:
        if not passwords.verify_password(user.password_hash, password):
            raise ValidationFailed(
                _("Your account was not deleted."),
                fields={"password": _("This is not your password.")},
            )
        return
    if confirm.strip().lower() != user.username:
        raise ValidationFailed(
            _("Your account was not deleted."),
            fields={"confirm": _("Type your username, %(user)s, to confirm.", user=user.username)},
        )


def delete_account(
    db: Session, *, actor: User, password: str = "", confirm: str = "", now: datetime
) -> User:
    """Delete `actor`'s account as the module says; returns the emptied row."""
    if actor.is_deleted:
        raise Conflict(_("This account was deleted already."))
    check_confirmation(actor, password=password, confirm=confirm)
    alone = sole_moderator_of(db, actor)
    if alone:
        names = ", ".join(c.name for c in alone)
        raise Conflict(
            _(
                "You are the only moderator of %(names)s. Make another member a moderator first: "
                "a community is never left without one.",
                names=names,
            )
        )
    for membership in communities_service.memberships_of_user(db, actor):
        # As a member leaving: the public record of role changes says so.
        communities_service.leave(db, actor=actor, community=membership.community, now=now)
    _forget_private(db, actor)
    _anonymise_copies(db, actor)
    placeholder = _placeholder_name(db)
    actor.username = placeholder
    actor.display_name = DELETED_NAME
    actor.email = f"{placeholder}@{PLACEHOLDER_DOMAIN}"
    actor.password_hash = None
    actor.password_changed_at = None
    actor.email_verified_at = None
    actor.is_admin = False
    actor.locale = None
    actor.deleted_at = now
    db.flush()
    return actor


def _placeholder_name(db: Session) -> str:
    """A fresh name for the emptied account: unique, and unrelated to the person's."""
    while True:
        name = accounts_service.DELETED_PREFIX + secrets.token_hex(6)
        if db.scalar(select(User.id).where(User.username == name)) is None:
            return name


def _forget_private(db: Session, user: User) -> None:
    """Delete what was only ever theirs or about them in private."""
    for model in (UserSession, AccessToken, Identity, EmailToken):
        db.execute(delete(model).where(model.user_id == user.id))
    db.execute(delete(Notification).where(Notification.user_id == user.id))
    db.execute(delete(Preference).where(Preference.user_id == user.id))
    db.execute(delete(Follow).where(Follow.user_id == user.id))
    db.execute(delete(OutboxMail).where(OutboxMail.user_id == user.id))
    db.execute(delete(MemberWarning).where(MemberWarning.user_id == user.id))
    idempotency.forget_user(db, user.id)
    # Appeals: undecided ones go (nobody is left to answer); decided ones keep the decision,
    # which the public log records, without the private message.
    db.execute(delete(Appeal).where(Appeal.appellant_id == user.id, Appeal.decided_at.is_(None)))
    db.execute(update(Appeal).where(Appeal.appellant_id == user.id).values(message=""))
    _delete_private_drafts(db, user)


def _delete_private_drafts(db: Session, user: User) -> None:
    """Drafts only they wrote were never seen by anyone else: they go with the account.

    A draft the moderation log names (it cannot lose what it refers to) stays.
    """
    co_written = exists().where(
        ProposalAuthor.proposal_id == Proposal.id, ProposalAuthor.user_id != user.id
    )
    logged = or_(
        exists().where(ModerationLogEntry.proposal_id == Proposal.id),
        exists().where(
            ModerationLogEntry.comment_id == Comment.id, Comment.proposal_id == Proposal.id
        ),
    )
    drafts = select(Proposal.id).where(
        Proposal.author_id == user.id,
        Proposal.state == ProposalState.draft,
        ~co_written,
        ~logged,
    )
    for draft in db.scalars(select(Proposal).where(Proposal.id.in_(drafts))):
        db.delete(draft)
    db.flush()


def _anonymise_copies(db: Session, user: User) -> None:
    """Where the person's name was copied as it was, it now says "[deleted user]"."""
    db.execute(
        update(ClauseCredit).where(ClauseCredit.user_id == user.id).values(name=DELETED_NAME)
    )
    for version in db.scalars(select(ClauseVersion).where(ClauseVersion.poll_id.is_not(None))):
        cited = version.objections or []
        if any(o.get("voter") == user.username for o in cited):
            version.objections = [
                {**o, "voter": None, "voter_name": DELETED_NAME}
                if o.get("voter") == user.username
                else o
                for o in cited
            ]
    # Notifications name their actor: in their values, and first in older ones' text ("Rin
    # replied to your comment on ...").
    for notification in db.scalars(select(Notification).where(Notification.actor_id == user.id)):
        params = notification.params or {}
        if "actor" in params:
            notification.params = {**params, "actor": DELETED_NAME}
        if user.display_name and notification.text.startswith(user.display_name):
            rest = notification.text[len(user.display_name) :]
            notification.text = (DELETED_NAME + rest)[:300]
