"""Notifications: written in the transaction of the event they tell of, read in the app,
mailed by the worker according to each member's preference."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import (
    JSON,
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    insert,
    literal,
    not_,
    null,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import events, i18n
from app.accounts.models import User
from app.communities.models import Community
from app.db import UTCDateTime
from app.errors import NotFound, ValidationFailed
from app.i18n import gettext as _
from app.notifications.models import (
    Delivery,
    Kind,
    Notification,
    Preference,
    muted_text,
    render,
)

TEXT_MAX = 300
URL_MAX = 300
#: Ids are INTEGER columns: 32-bit on PostgreSQL, where a larger value fails in the driver.
MAX_ID = 2**31 - 1
#: The most notifications one page (or one API call marking them read) deals with.
PAGE_MAX = 100
#: The header shows "99+" beyond this: counting further would cost without telling more.
COUNT_CAP = 100

#: Who is told: users or their ids, or a query of user ids (one INSERT ... SELECT, so that an
#: event for a community of ten thousand members never loads them into Python).
Recipients = Iterable[User | int] | Select[int] | CompoundSelect[int]


def user_channel(user_id: int) -> str:
    """The live channel of one member's notifications (their unread count)."""
    return f"user:{user_id}"


def notify(
    db: Session,
    *,
    recipients: Recipients,
    kind: Kind,
    url: str,
    now: datetime,
    message: str | None = None,
    params: Mapping[str, Any] | None = None,
    text: str | None = None,
    community: Community | None = None,
    actor: User | None = None,
    show_actor: bool = True,
) -> list[int]:
    """Tell each recipient (never the actor themself, never anyone twice) of an event; the ids
    of the members told.

    Called by the services where events happen, inside their transaction: a notification
    exists exactly when its event was stored. A member whose preference cannot mail this kind
    gets it marked as mailed at once, so the worker only ever looks at mail still to send.
    `show_actor=False` keeps who acted off the record (an anonymous ballot's objection) while
    still sparing them a notification of their own act.

    What it says is a `message` (an English message id, marked with `N_`) and the `params`
    that fill it, translated when read, into each reader's language; its English `text` is
    kept too. A bare `text` (no message) is shown as it is, to every reader.
    """
    if message is not None:
        stored: dict[str, Any] | None = dict(params or {})
        with i18n.speaking(i18n.DEFAULT):
            text = render(message, stored or {})
    elif text is not None:
        stored = None
    else:
        raise TypeError("notify() needs a message or a text")
    # The event's own rows (a new follower, a ballot) must be there for the SELECT to see.
    db.flush()
    if isinstance(recipients, Select | CompoundSelect):
        chosen = recipients.subquery()
        candidates = select(chosen.c[0].label("user_id")).distinct()
    else:
        ids = {r if isinstance(r, int) else r.id for r in recipients}
        if actor is not None:
            ids.discard(actor.id)
        if not ids:
            return []
        candidates = select(User.id.label("user_id")).where(User.id.in_(ids))
    wanted = candidates.subquery()
    stamp = literal(now, UTCDateTime())
    muted = (literal(",") + Preference.muted_kinds + literal(",")).contains(
        f",{kind.value},", autoescape=True
    )
    may_mail = and_(Preference.delivery.in_([Delivery.email, Delivery.digest]), not_(muted))
    rows = (
        select(
            wanted.c.user_id,
            literal(kind.value, String()),
            _integer(community.id if community else None),
            _integer(actor.id if actor is not None and show_actor else None),
            literal(text[:TEXT_MAX], String()),
            literal(message, String()) if message is not None else null(),
            literal(stored, JSON()) if stored is not None else cast(null(), JSON()),
            literal(url[:URL_MAX], String()),
            stamp,
            case((may_mail, null()), else_=stamp),
        )
        .select_from(wanted)
        .outerjoin(Preference, Preference.user_id == wanted.c.user_id)
    )
    if actor is not None:
        rows = rows.where(wanted.c.user_id != actor.id)
    columns = [
        "user_id",
        "kind",
        "community_id",
        "actor_id",
        "text",
        "message",
        "params",
        "url",
        "created_at",
        "mailed_at",
    ]
    told = list(
        db.scalars(insert(Notification).from_select(columns, rows).returning(Notification.user_id))
    )
    for user_id in told:
        events.notify(db, user_channel(user_id))
    return told


def _integer(value: int | None) -> ColumnElement[int]:
    # Typed, so that PostgreSQL never reads a NULL in INSERT ... SELECT as text.
    return cast(null(), Integer()) if value is None else literal(value, Integer())


# --- Reading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    items: list[Notification]
    #: The id to read on from (`before`), or None on the last page.
    next_before: int | None


def page(
    db: Session,
    *,
    actor: User,
    before: int | None = None,
    limit: int = 30,
    unread_only: bool = False,
) -> Page:
    """The actor's own notifications, newest first, a page at a time (keyset on the id)."""
    limit = max(1, min(limit, PAGE_MAX))
    query = select(Notification).where(Notification.user_id == actor.id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    if before is not None:
        query = query.where(Notification.id < before)
    rows = list(db.scalars(query.order_by(Notification.id.desc()).limit(limit + 1)))
    items = rows[:limit]
    return Page(items, items[-1].id if len(rows) > limit else None)


def latest_id(db: Session, user: User) -> int | None:
    """The id of the member's newest notification (what "mark all read" may go up to)."""
    return db.scalar(select(func.max(Notification.id)).where(Notification.user_id == user.id))


def unread_count(db: Session, user_id: int, *, cap: int | None = None) -> int:
    """How many of a member's notifications are unread (at most `cap`, when given)."""
    query = select(Notification.id).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )
    if cap is not None:
        query = query.limit(cap)
    return db.scalar(select(func.count()).select_from(query.subquery())) or 0


def get_own(db: Session, *, actor: User, notification_id: int) -> Notification:
    """One of the actor's notifications; anyone else's looks missing."""
    found = db.get(Notification, notification_id) if 1 <= notification_id <= MAX_ID else None
    if found is None or found.user_id != actor.id:
        raise NotFound(_("There is no such notification."))
    return found


def mark_read(db: Session, *, actor: User, notification_id: int, now: datetime) -> Notification:
    found = get_own(db, actor=actor, notification_id=notification_id)
    if found.read_at is None:
        found.read_at = now
        db.flush()
        events.notify(db, user_channel(actor.id))
    return found


def mark_many_read(db: Session, *, actor: User, ids: list[int], now: datetime) -> int:
    """Mark these notifications read (all of them the actor's, or none); how many changed."""
    wanted = set(ids)
    if not wanted:
        return 0
    if len(wanted) > PAGE_MAX:
        raise ValidationFailed(
            _("Too many notifications at once."),
            fields={"ids": _("Send at most %(max)s ids.", max=PAGE_MAX)},
        )
    valid = {i for i in wanted if 1 <= i <= MAX_ID}
    own = set(
        db.scalars(
            select(Notification.id).where(
                Notification.user_id == actor.id, Notification.id.in_(valid)
            )
        )
    )
    if own != wanted:
        raise NotFound(_("There is no such notification."))
    return _mark(db, actor, now, Notification.id.in_(own))


def mark_all_read(db: Session, *, actor: User, now: datetime, up_to: int | None = None) -> int:
    """Mark every unread notification read; with `up_to`, only those up to that id, so that one
    arriving after the page was shown is not marked unseen."""
    if up_to is None:
        return _mark(db, actor, now)
    return _mark(db, actor, now, Notification.id <= up_to)


def _mark(db: Session, actor: User, now: datetime, *conditions: ColumnElement[bool]) -> int:
    query = update(Notification).where(
        Notification.user_id == actor.id, Notification.read_at.is_(None), *conditions
    )
    result = db.execute(
        query.values(read_at=now).execution_options(
            synchronize_session="fetch", preserve_rowcount=True
        )
    )
    changed = int(getattr(result, "rowcount", 0) or 0)
    if changed:
        events.notify(db, user_channel(actor.id))
    return changed


# --- Preferences --------------------------------------------------------------------------


def preference_of(db: Session, user: User) -> Preference:
    """The member's saved preference, or the default (in the app only) unsaved."""
    saved = db.scalar(select(Preference).where(Preference.user_id == user.id))
    return saved or Preference(user_id=user.id, delivery=Delivery.in_app, muted_kinds="")


def _stored_preference(db: Session, user: User) -> Preference:
    """The member's preference row, created on first use (a double submit creates one)."""
    saved = db.scalar(select(Preference).where(Preference.user_id == user.id))
    if saved is not None:
        return saved
    fresh = Preference(user_id=user.id, delivery=Delivery.in_app, muted_kinds="")
    try:
        with db.begin_nested():
            db.add(fresh)
            db.flush()
    except IntegrityError:
        found = db.scalar(select(Preference).where(Preference.user_id == user.id))
        assert found is not None
        return found
    return fresh


def save_preference(
    db: Session, *, actor: User, delivery: str, muted_kinds: Iterable[str]
) -> Preference:
    """How the actor hears of notifications, and which kinds are never mailed to them."""
    problems: dict[str, str] = {}
    if delivery not in Delivery.__members__:
        problems["delivery"] = _("Choose in_app, email or digest.")
    muted = list(muted_kinds)
    if any(k not in Kind.__members__ for k in muted):
        problems["muted_kinds"] = _(
            "Choose among %(choices)s.", choices=", ".join(k.value for k in Kind)
        )
    if problems:
        raise ValidationFailed(_("Your preferences were not saved."), fields=problems)
    preference = _stored_preference(db, actor)
    preference.delivery = Delivery(delivery)
    preference.muted_kinds = muted_text({Kind(k) for k in muted})
    db.flush()
    return preference


# --- One-click unsubscribe ----------------------------------------------------------------

Scope = Kind | Literal["all"]
UNSUBSCRIBE_SALT = "notifications.unsubscribe"


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(
        secret, salt=UNSUBSCRIBE_SALT, signer_kwargs={"digest_method": hashlib.sha256}
    )


def unsubscribe_token(secret: str, user_id: int, scope: Scope) -> str:
    """A link's token: signed with the app's secret, good for one member and one kind (or for
    all their notification mail), and for nothing else."""
    return _serializer(secret).dumps([user_id, str(scope)])


@dataclass(frozen=True)
class Unsubscription:
    user: User
    scope: Scope

    @property
    def what(self) -> str:
        """What the link stops, in words."""
        if self.scope == "all":
            return i18n.gettext("all notification mail")
        return i18n.gettext("mail about “%(kind)s”", kind=i18n.gettext(self.scope.label).lower())

    def done(self, preference: Preference) -> bool:
        """Whether this member receives no such mail already."""
        if preference.delivery == Delivery.in_app:
            return True
        return self.scope != "all" and self.scope in preference.muted


def read_unsubscribe(db: Session, *, secret: str, token: str) -> Unsubscription:
    """Who and what a link's token is for; a token not made here is not found."""
    invalid = NotFound(
        _("This unsubscribe link is not valid. Change your mail on your preferences.")
    )
    try:
        data = _serializer(secret).loads(token)
    except BadSignature:
        raise invalid from None
    if not (isinstance(data, list) and len(data) == 2):
        raise invalid
    user_id, raw_scope = data
    if not isinstance(user_id, int) or not isinstance(raw_scope, str):
        raise invalid
    if raw_scope != "all" and raw_scope not in Kind.__members__:
        raise invalid
    user = db.get(User, user_id) if 1 <= user_id <= MAX_ID else None
    if user is None:
        raise invalid
    return Unsubscription(user, "all" if raw_scope == "all" else Kind(raw_scope))


def unsubscribe(db: Session, subscription: Unsubscription) -> Preference:
    """Stop what the link names: one kind of mail, or all of it (in the app only from now)."""
    preference = _stored_preference(db, subscription.user)
    if subscription.scope == "all":
        preference.delivery = Delivery.in_app
    else:
        preference.muted_kinds = muted_text(set(preference.muted) | {subscription.scope})
    db.flush()
    return preference
