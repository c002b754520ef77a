"""Who hears of which event, and in what words: one function per event, called by the service
where the event happens, inside its transaction.

The rules live here, not in each service, so that every domain's edit is one line and the
wording, the links and the recipients of all notifications can be read (and tested) together.
Recipients are queries, written by `notify` with one INSERT ... SELECT however many they are.
Only models are imported from other domains: their services call this module.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Select, and_, exists, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.communities.models import Community, Membership
from app.discussion.models import Comment
from app.i18n import N_
from app.notifications.models import Kind
from app.notifications.service import notify
from app.polls.models import Ballot, Poll, Position, Voter
from app.proposals.models import Follow, Proposal, ProposalAuthor
from app.works.models import Work

TITLE_MAX = 80
REASON_MAX = 120
#: A poll this close to its end reminds those on its roll who have not voted.
CLOSING_SOON = timedelta(hours=24)


# --- Words and links ----------------------------------------------------------------------


def _short(text: str, size: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= size else text[: size - 1].rstrip() + "…"


def _title(proposal: Proposal) -> str:
    # The quotation marks are the message's: each language has its own (“…”, 「…」).
    return _short(proposal.title, TITLE_MAX)


def _name(actor: User) -> str:
    return actor.display_name


def proposal_path(proposal: Proposal) -> str:
    return f"/c/{proposal.community.slug}/proposals/{proposal.id}"


def comment_path(proposal: Proposal, comment: Comment) -> str:
    return f"{proposal_path(proposal)}/comments/{comment.id}"


def poll_path(proposal: Proposal, poll: Poll) -> str:
    return f"/c/{proposal.community.slug}/polls/{poll.id}"


def work_path(work: Work) -> str:
    return f"/c/{work.community.slug}/works/{work.id}"


def guidelines_path(community: Community, number: int) -> str:
    """The change a version made (the whole document for the first)."""
    if number <= 1:
        return f"/c/{community.slug}/guidelines"
    return f"/c/{community.slug}/guidelines/diff?from={number - 1}&to={number}"


# --- Who -----------------------------------------------------------------------------------


def followers(proposal: Proposal) -> Select[int]:
    return select(Follow.user_id).where(Follow.proposal_id == proposal.id)


def authors(proposal: Proposal) -> Select[int]:
    return select(ProposalAuthor.user_id).where(ProposalAuthor.proposal_id == proposal.id)


def members(community: Community) -> Select[int]:
    return select(Membership.user_id).where(Membership.community_id == community.id)


def earlier_voters(poll: Poll) -> Select[int]:
    """Everyone who cast a ballot in a round before the poll's current one."""
    return select(Ballot.voter_id).where(
        Ballot.poll_id == poll.id, Ballot.round_number < poll.current_round
    )


def not_voted(poll: Poll) -> Select[int]:
    """Members on the poll's roll (still members) with no ballot in its current round."""
    voted = exists().where(
        Ballot.poll_id == poll.id,
        Ballot.round_number == poll.current_round,
        Ballot.voter_id == Voter.user_id,
        Ballot.latest,
    )
    return (
        select(Voter.user_id)
        .join(
            Membership,
            and_(
                Membership.user_id == Voter.user_id,
                Membership.community_id == poll.community_id,
            ),
        )
        .where(Voter.poll_id == poll.id, ~voted)
    )


# --- Discussion ----------------------------------------------------------------------------


def reply(
    db: Session,
    *,
    proposal: Proposal,
    comment: Comment,
    parent: Comment,
    actor: User,
    now: datetime,
) -> None:
    """A reply to my comment."""
    if parent.author_id is None:
        return
    notify(
        db,
        recipients=[parent.author_id],
        kind=Kind.reply,
        message=N_("%(actor)s replied to your comment on “%(title)s”."),
        params={"actor": _name(actor), "title": _title(proposal)},
        url=comment_path(proposal, comment),
        now=now,
        community=proposal.community,
        actor=actor,
    )


def comment_hidden(
    db: Session,
    *,
    proposal: Proposal,
    comment: Comment,
    reason: str,
    actor: User,
    now: datetime,
) -> None:
    """A moderator hid my comment."""
    if comment.author_id is None:
        return
    notify(
        db,
        recipients=[comment.author_id],
        kind=Kind.moderation,
        message=N_("A moderator hid your comment on “%(title)s”: %(reason)s"),
        params={"title": _title(proposal), "reason": _short(reason, REASON_MAX)},
        url=comment_path(proposal, comment),
        now=now,
        community=proposal.community,
        actor=actor,
    )


def work_hidden(db: Session, *, work: Work, reason: str, actor: User, now: datetime) -> None:
    """A moderator hid a work I registered (or that is credited to my account)."""
    told = [i for i in (work.created_by_id, work.creator_user_id) if i is not None]
    notify(
        db,
        recipients=told,
        kind=Kind.moderation,
        message=N_("A moderator hid the work “%(work)s”: %(reason)s"),
        params={"work": _short(work.title, TITLE_MAX), "reason": _short(reason, REASON_MAX)},
        url=work_path(work),
        now=now,
        community=work.community,
        actor=actor,
    )


# --- Proposals -----------------------------------------------------------------------------


def _state(
    db: Session,
    proposal: Proposal,
    message: str,
    actor: User | None,
    now: datetime,
    params: dict[str, object] | None = None,
) -> None:
    """Followers hear of a change of state; `message` has the proposal's `title` in it."""
    notify(
        db,
        recipients=followers(proposal),
        kind=Kind.proposal_state,
        message=message,
        params={"title": _title(proposal), **(params or {})},
        url=proposal_path(proposal),
        now=now,
        community=proposal.community,
        actor=actor,
    )


def published(db: Session, *, proposal: Proposal, actor: User, now: datetime) -> None:
    _state(
        db,
        proposal,
        N_("%(actor)s published “%(title)s” for deliberation."),
        actor,
        now,
        {"actor": _name(actor)},
    )


def withdrawn(db: Session, *, proposal: Proposal, actor: User, now: datetime) -> None:
    _state(db, proposal, N_("%(actor)s withdrew “%(title)s”."), actor, now, {"actor": _name(actor)})


def poll_closed(
    db: Session, *, proposal: Proposal, passed: bool, actor: User | None, now: datetime
) -> None:
    """The poll settled the proposal: passed or rejected."""
    message = (
        N_("The poll on “%(title)s” closed: it passed.")
        if passed
        else N_("The poll on “%(title)s” closed: it was rejected.")
    )
    _state(db, proposal, message, actor, now)


def ratified(
    db: Session, *, proposal: Proposal, version_number: int, actor: User, now: datetime
) -> None:
    _state(
        db,
        proposal,
        N_("“%(title)s” was ratified: it is in version %(version)s of the guidelines."),
        actor,
        now,
        {"version": version_number},
    )


def returned(db: Session, *, proposal: Proposal, reason: str, actor: User, now: datetime) -> None:
    _state(
        db,
        proposal,
        N_("“%(title)s” was returned to deliberation: %(reason)s"),
        actor,
        now,
        {"reason": _short(reason, REASON_MAX)},
    )


def locked(
    db: Session, *, proposal: Proposal, is_locked: bool, reason: str, actor: User, now: datetime
) -> None:
    """A moderator locked my proposal (no edits, no poll) or unlocked it."""
    if reason.strip():
        message = (
            N_("A moderator locked your proposal “%(title)s”: %(reason)s")
            if is_locked
            else N_("A moderator unlocked your proposal “%(title)s”: %(reason)s")
        )
    else:
        message = (
            N_("A moderator locked your proposal “%(title)s”.")
            if is_locked
            else N_("A moderator unlocked your proposal “%(title)s”.")
        )
    notify(
        db,
        recipients=authors(proposal),
        kind=Kind.moderation,
        message=message,
        params={"title": _title(proposal), "reason": _short(reason, REASON_MAX)},
        url=proposal_path(proposal),
        now=now,
        community=proposal.community,
        actor=actor,
    )


# --- Polls ---------------------------------------------------------------------------------


def poll_opened(db: Session, *, proposal: Proposal, poll: Poll, actor: User, now: datetime) -> None:
    notify(
        db,
        recipients=followers(proposal),
        kind=Kind.poll_opened,
        message=N_("A poll opened on “%(title)s”; it closes on %(closes_at)s."),
        params={"title": _title(proposal), "closes_at": poll.closes_at.isoformat()},
        url=poll_path(proposal, poll),
        now=now,
        community=proposal.community,
        actor=actor,
    )


def objection(
    db: Session, *, poll: Poll, ballot: Ballot, actor: User, named: bool, now: datetime
) -> None:
    """An objection to my proposal: told once per voter and round, not on every re-cast
    (an anonymous poll's objector is never named, not even on the record)."""
    before = db.scalar(
        select(Ballot.position)
        .where(
            Ballot.poll_id == poll.id,
            Ballot.round_number == ballot.round_number,
            Ballot.voter_id == ballot.voter_id,
            Ballot.id < ballot.id,
        )
        .order_by(Ballot.id.desc())
        .limit(1)
    )
    if before == Position.object:
        return
    proposal = poll.proposal
    notify(
        db,
        recipients=authors(proposal),
        kind=Kind.objection,
        message=N_("%(actor)s objected to “%(title)s”: “%(reason)s”")
        if named
        else N_("A member objected to “%(title)s”: “%(reason)s”"),
        params={
            **({"actor": _name(actor)} if named else {}),
            "title": _title(proposal),
            "reason": _short(ballot.reason, REASON_MAX),
        },
        url=poll_path(proposal, poll),
        now=now,
        community=proposal.community,
        actor=actor,
        show_actor=named,
    )


def new_round(db: Session, *, proposal: Proposal, poll: Poll, actor: User, now: datetime) -> None:
    """The text changed during the poll: those who voted before must vote again."""
    notify(
        db,
        recipients=earlier_voters(poll),
        kind=Kind.new_round,
        message=N_(
            "“%(title)s” was amended: round %(round)s of its poll began, and ballots of "
            "earlier rounds no longer count."
        ),
        params={"title": _title(proposal), "round": poll.current_round},
        url=poll_path(proposal, poll),
        now=now,
        community=proposal.community,
        actor=actor,
    )


def poll_closing(db: Session, *, poll: Poll, now: datetime) -> list[int]:
    """The worker's reminder: the poll closes within a day and these members have not voted."""
    proposal = poll.proposal
    return notify(
        db,
        recipients=not_voted(poll),
        kind=Kind.poll_closing,
        message=N_("The poll on “%(title)s” closes at %(closes_at)s, and you have not voted."),
        params={"title": _title(proposal), "closes_at": poll.closes_at.isoformat()},
        url=poll_path(proposal, poll),
        now=now,
        community=proposal.community,
    )


# --- Guidelines ----------------------------------------------------------------------------


def guidelines(
    db: Session,
    *,
    community: Community,
    number: int,
    summary: str,
    actor: User,
    now: datetime,
) -> None:
    """A new version of my community's guidelines: every member hears of it (the followers of
    the ratified proposal hear of that separately, as a change of its state)."""
    notify(
        db,
        recipients=members(community),
        kind=Kind.guidelines,
        message=N_("%(community)s published version %(version)s of its guidelines: %(summary)s"),
        params={
            "community": community.name,
            "version": number,
            "summary": _short(summary, REASON_MAX),
        },
        url=guidelines_path(community, number),
        now=now,
        community=community,
        actor=actor,
    )
