"""The worker's notification jobs: reminders of polls closing, mail at once, daily digests.

Each job takes a batch in the caller's write transaction and only writes rows (notifications,
the outbox); mail leaves later, from the outbox, outside any transaction. Each is safe with
several workers at once: PostgreSQL hands rows to one worker (FOR UPDATE SKIP LOCKED) and the
claims are conditional updates or unique keys besides; SQLite serializes writers.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import i18n
from app.accounts.models import User
from app.i18n import gettext as _
from app.i18n import ngettext
from app.mail import service as mail_service
from app.notifications import service, tell
from app.notifications.models import (
    Delivery,
    Kind,
    Notification,
    PollReminder,
    Preference,
    muted_set,
)
from app.polls.models import Poll
from app.proposals.models import Proposal, ProposalState

BATCH = 100
#: Lines in one digest; the rest is a count and a link to the list.
DIGEST_LINES = 100
UNSUBSCRIBE_PATH = "/notifications/unsubscribe/"
PREFERENCES_PATH = "/notifications/preferences"
LIST_PATH = "/notifications"
SITE_NAME = "Norms Forum"


@dataclass(frozen=True)
class Links:
    """What a mail needs to link back: the site's address and the secret that signs links;
    and the language of members who chose none."""

    base_url: str
    secret: str
    default_language: str = i18n.DEFAULT

    def to(self, path: str) -> str:
        return self.base_url.rstrip("/") + path

    def unsubscribe(self, user_id: int, scope: service.Scope) -> str:
        return self.to(UNSUBSCRIBE_PATH + service.unsubscribe_token(self.secret, user_id, scope))


def _may_receive_mail(user: User) -> bool:
    """Notification mail goes only to addresses their owner proved."""
    return user.email_verified_at is not None


def _headers(unsubscribe: str) -> dict[str, str]:
    return {
        # RFC 2369 and RFC 8058: mail programs show an unsubscribe button that POSTs here.
        "List-Unsubscribe": f"<{unsubscribe}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        # RFC 3834: no vacation auto-replies to a robot.
        "Auto-Submitted": "auto-generated",
    }


# --- Polls closing within a day -----------------------------------------------------------


def _closing_polls(now: datetime) -> list[ColumnElement[bool]]:
    reminded = exists().where(PollReminder.poll_id == Poll.id)
    return [
        Poll.closed_at.is_(None),
        Proposal.state == ProposalState.voting,
        Poll.closes_at > now,
        Poll.closes_at <= now + tell.CLOSING_SOON,
        ~reminded,
    ]


def remind_closing_polls(db: Session, *, now: datetime, batch: int = BATCH) -> int:
    """Tell members on a poll's roll who have not voted that it closes within a day, once per
    poll (and so once per member): how many polls were looked at."""
    polls = list(
        db.scalars(
            select(Poll)
            .join(Proposal, Proposal.id == Poll.proposal_id)
            .where(*_closing_polls(now))
            .order_by(Poll.closes_at, Poll.id)
            .limit(batch)
        ).unique()
    )
    for poll in polls:
        try:
            # The claim: a second worker's row for the same poll fails on the primary key
            # (on PostgreSQL it waits for the first to commit, then fails), and it moves on.
            with db.begin_nested():
                db.add(PollReminder(poll_id=poll.id, reminded_at=now))
                db.flush()
        except IntegrityError:
            continue
        tell.poll_closing(db, poll=poll, now=now)
    db.flush()
    return len(polls)


# --- Mail at once -------------------------------------------------------------------------


def _stop_kind(kind: Kind, link: str) -> str:
    return _("Stop mail about %(kind)s: <%(link)s>", kind=_(kind.label).lower(), link=link)


def at_once_mail(note: Notification, user: User, links: Links) -> tuple[str, str, dict[str, str]]:
    """Subject, plain-text body and header fields of one notification's mail, in the
    member's language."""
    kind_link = links.unsubscribe(user.id, note.kind)
    with i18n.speaking(user.locale, links.default_language):
        text = note.rendered
        body = "\n".join(
            [
                _("Hello %(name)s,", name=user.display_name),
                "",
                text,
                f"<{links.to(note.url)}>",
                "",
                "-- ",
                _("You receive this because your notification preference is email at once."),
                _stop_kind(note.kind, kind_link),
                _(
                    "Stop all notification mail: <%(link)s>",
                    link=links.unsubscribe(user.id, "all"),
                ),
                _("Change your preferences: <%(link)s>", link=links.to(PREFERENCES_PATH)),
                "",
            ]
        )
    return text, body, _headers(kind_link)


def mail_at_once(db: Session, *, now: datetime, links: Links, batch: int = BATCH) -> int:
    """Write the mail of notifications for members who want it at once (and settle those that
    no longer need mail): how many notifications were taken."""
    claimed = db.execute(
        select(Notification.id)
        .outerjoin(Preference, Preference.user_id == Notification.user_id)
        .where(
            Notification.mailed_at.is_(None),
            or_(Preference.delivery.is_(None), Preference.delivery != Delivery.digest),
        )
        .order_by(Notification.id)
        .limit(batch)
        .with_for_update(of=Notification, skip_locked=True)
    )
    ids = list(claimed.scalars())
    if not ids:
        return 0
    notes = list(db.scalars(select(Notification).where(Notification.id.in_(ids))))
    owners = {n.user_id for n in notes}
    people = {u.id: u for u in db.scalars(select(User).where(User.id.in_(owners)))}
    preferences = {
        p.user_id: p for p in db.scalars(select(Preference).where(Preference.user_id.in_(people)))
    }
    for note in sorted(notes, key=lambda n: n.id):
        preference = preferences.get(note.user_id)
        user = people[note.user_id]
        wanted = (
            preference is not None
            and preference.delivery == Delivery.email
            and note.kind not in preference.muted
            and _may_receive_mail(user)
        )
        if wanted:
            subject, body, headers = at_once_mail(note, user, links)
            mail_service.queue(
                db,
                to=user.email,
                subject=subject,
                body=body,
                kind="notification",
                now=now,
                user=user,
                headers=headers,
            )
    db.execute(
        update(Notification)
        .where(Notification.id.in_(ids), Notification.mailed_at.is_(None))
        .values(mailed_at=now)
        .execution_options(synchronize_session=False)
    )
    db.flush()
    return len(ids)


# --- Daily digests ------------------------------------------------------------------------


def digest_due_since(now: datetime, hour: int) -> datetime:
    """The latest digest time (today's `hour` UTC, or yesterday's before it)."""
    today = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    return today if now >= today else today - timedelta(days=1)


def _due(now: datetime, hour: int) -> list[ColumnElement[bool]]:
    since = digest_due_since(now, hour)
    return [
        Preference.delivery == Delivery.digest,
        or_(Preference.digest_sent_at.is_(None), Preference.digest_sent_at < since),
    ]


def digest_mail(
    user: User, notes: list[Notification], links: Links
) -> tuple[str, str, dict[str, str]]:
    """Subject, plain-text body (a line per notification with its link, grouped by community)
    and header fields of one member's digest."""
    with i18n.speaking(user.locale, links.default_language):
        return _digest_mail(user, notes, links)


def _digest_mail(
    user: User, notes: list[Notification], links: Links
) -> tuple[str, str, dict[str, str]]:
    shown = notes[:DIGEST_LINES]
    groups: dict[str, list[Notification]] = defaultdict(list)
    for note in shown:
        groups[note.community.name if note.community else SITE_NAME].append(note)
    count = len(notes)
    lines = [
        _("Hello %(name)s,", name=user.display_name),
        "",
        ngettext(
            "%(num)s notification since your last digest:",
            "%(num)s notifications since your last digest:",
            count,
            num=i18n.number(count),
        ),
    ]
    for name, group in groups.items():
        lines += ["", name, "=" * len(name)]
        lines += [f"- {note.rendered} <{links.to(note.url)}>" for note in group]
    if count > len(shown):
        lines += [
            "",
            _(
                "And %(count)s more: <%(link)s>",
                count=i18n.number(count - len(shown)),
                link=links.to(LIST_PATH),
            ),
        ]
    everything = links.unsubscribe(user.id, "all")
    lines += [
        "",
        "-- ",
        _("You receive this daily digest because of your notification preference."),
    ]
    for kind in sorted({note.kind for note in shown}, key=list(Kind).index):
        lines.append(_stop_kind(kind, links.unsubscribe(user.id, kind)))
    lines += [
        _("Stop the digest (and all notification mail): <%(link)s>", link=everything),
        _("Change your preferences: <%(link)s>", link=links.to(PREFERENCES_PATH)),
        "",
    ]
    subject = ngettext(
        "Norms Forum digest: %(num)s notification",
        "Norms Forum digest: %(num)s notifications",
        count,
        num=i18n.number(count),
    )
    return subject, "\n".join(lines), _headers(everything)


def send_digests(db: Session, *, now: datetime, hour: int, links: Links, batch: int = BATCH) -> int:
    """Write today's digest of every member due one: how many members were taken."""
    since = digest_due_since(now, hour)
    due = list(
        db.scalars(
            select(Preference)
            .where(*_due(now, hour))
            .order_by(Preference.id)
            .limit(batch)
            .with_for_update(skip_locked=True)
        )
    )
    for preference in due:
        # The claim: one worker per member and day, whatever the timing.
        claimed = db.execute(
            update(Preference)
            .where(
                Preference.id == preference.id,
                or_(Preference.digest_sent_at.is_(None), Preference.digest_sent_at < since),
            )
            .values(digest_sent_at=now)
            .execution_options(synchronize_session=False, preserve_rowcount=True)
        )
        if not getattr(claimed, "rowcount", 0):
            continue
        notes = list(
            db.scalars(
                select(Notification)
                .where(Notification.user_id == preference.user_id, Notification.mailed_at.is_(None))
                .order_by(Notification.id)
                .with_for_update(of=Notification)
            ).unique()
        )
        if not notes:
            continue
        db.execute(
            update(Notification)
            .where(Notification.id.in_([n.id for n in notes]))
            .values(mailed_at=now)
            .execution_options(synchronize_session=False)
        )
        user = db.get(User, preference.user_id)
        muted = muted_set(preference.muted_kinds)
        wanted = [n for n in notes if n.kind not in muted]
        if user is None or not wanted or not _may_receive_mail(user):
            continue
        subject, body, headers = digest_mail(user, wanted, links)
        mail_service.queue(
            db,
            to=user.email,
            subject=subject,
            body=body,
            kind="digest",
            now=now,
            user=user,
            headers=headers,
        )
    db.flush()
    return len(due)


# --- What is due ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    reminders: bool
    mail: bool
    digests: bool

    def __bool__(self) -> bool:
        return self.reminders or self.mail or self.digests


def due(db: Session, *, now: datetime, hour: int) -> Due:
    """A cheap read before taking the write lock the jobs need (SQLite takes it at BEGIN)."""
    reminders = db.scalar(
        select(Poll.id)
        .join(Proposal, Proposal.id == Poll.proposal_id)
        .where(*_closing_polls(now))
        .limit(1)
    )
    mail = db.scalar(
        select(Notification.id)
        .outerjoin(Preference, Preference.user_id == Notification.user_id)
        .where(
            Notification.mailed_at.is_(None),
            or_(Preference.delivery.is_(None), Preference.delivery != Delivery.digest),
        )
        .limit(1)
    )
    digests = db.scalar(select(Preference.id).where(*_due(now, hour)).limit(1))
    return Due(reminders is not None, mail is not None, digests is not None)
