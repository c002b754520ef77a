"""The demo community that `make run` seeds on first start, with a user of every role."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts import service as accounts_service
from app.accounts.models import User
from app.communities import service as communities_service
from app.communities.models import Community, Role

#: Demo logins, also listed in the README. For a local demo only: never seed a public site.
DEMO_PASSWORD = "miku-demo-2026"

DEMO_USERS = [
    # username, display name, role in the demo community (None: site admin only)
    ("admin", "Site Admin", None),
    ("mod_rin", "Rin (moderator)", Role.moderator),
    ("creator_len", "Len the Producer", Role.creator),
    ("rights_crypton", "Rights Holder Office", Role.rights_holder),
    ("fan_luka", "Luka Fan", Role.fan),
    ("fan_kaito", "Kaito Fan", Role.fan),
]

MIKU_DESCRIPTION = """\
A community of fans, producers, illustrators and modellers who make and share derivative works of
a character whose rights holder allows fan works under published character guidelines.

Here we settle, in the open, **which derivative works we accept**: how the character is depicted
(she is presented as 16), sexual content, commercial use, AI models fine-tuned on fan art, and the
credit owed to the works we build on. Anyone may propose a norm; the community deliberates around
concrete example works, consents in a weighted poll, and moderators ratify the outcome into our
published guidelines.
"""

REMIX_DESCRIPTION = """\
Producers who remix and cover virtual-singer songs: stems, covers, sampling etiquette and how to
credit the original producer and vocal library.
"""


def has_users(db: Session) -> bool:
    return db.scalar(select(User.id).limit(1)) is not None


def seed(db: Session, *, now: datetime) -> list[tuple[str, str, str]]:
    """Create the demo; returns (username, password, role) for each login."""
    users: dict[str, User] = {}
    for username, display_name, _role in DEMO_USERS:
        users[username] = accounts_service.create_user(
            db,
            username=username,
            email=f"{username}@example.org",
            password=DEMO_PASSWORD,
            display_name=display_name,
            is_admin=username == "admin",
            now=now,
        )
    admin = users["admin"]
    miku = communities_service.create_community(
        db,
        actor=admin,
        name="Hatsune Miku Fans",
        slug="miku",
        description=MIKU_DESCRIPTION,
        now=now,
    )
    remix = communities_service.create_community(
        db,
        actor=admin,
        name="Vocal Synth Remix Circle",
        slug="remix-circle",
        description=REMIX_DESCRIPTION,
        now=now,
    )
    for username, _display, role in DEMO_USERS:
        if role is None:
            continue
        _give_role(db, miku, admin, users[username], role, now)
    _give_role(db, remix, admin, users["creator_len"], Role.moderator, now)
    # The founding admin hands the Miku community over to its moderator.
    communities_service.leave(db, actor=admin, community=miku, now=now)
    logins = [("admin", DEMO_PASSWORD, "site admin")]
    logins += [(u, DEMO_PASSWORD, r.value) for u, _d, r in DEMO_USERS if r is not None]
    return logins


def _give_role(
    db: Session, community: Community, admin: User, user: User, role: Role, now: datetime
) -> None:
    communities_service.join(db, actor=user, community=community, now=now)
    if role != Role.fan:
        communities_service.change_role(
            db,
            actor=admin,
            community=community,
            username=user.username,
            role=role.value,
            reason="Demo set-up",
            now=now,
        )
