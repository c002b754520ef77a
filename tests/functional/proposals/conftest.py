"""A community with categories, members of every kind and helpers to draft proposals."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy.orm import Session

from app.accounts import service as accounts_service
from app.accounts.models import User
from app.communities import service as communities_service
from app.communities.models import Category, Community, Role
from app.db import utcnow
from app.proposals import service
from app.proposals.models import Proposal
from tests.factories import add_member, make_community, make_user

HTMX = {"HX-Request": "true"}
Headers = dict[str, str]


@dataclass
class Cast:
    community: Community
    rules: Category
    ai: Category
    moderator: User
    author: User
    partner: User
    fan: User
    outsider: User


@pytest.fixture
def cast(db: Session) -> Cast:
    community = make_community(db, "miku", name="Hatsune Miku Fans")
    moderator = make_user(db, "mod_rin", display_name="Rin Moderator")
    author = make_user(db, "author_kaito", display_name="Kaito Author")
    partner = make_user(db, "partner_meiko", display_name="Meiko Partner")
    fan = make_user(db, "fan_luka", display_name="Luka Fan")
    outsider = make_user(db, "outsider", display_name="Passer By")
    add_member(db, community, moderator, Role.moderator)
    add_member(db, community, author, Role.creator)
    add_member(db, community, partner, Role.fan)
    add_member(db, community, fan, Role.fan)
    rules = communities_service.add_category(
        db, actor=moderator, community=community, name="Depiction rules"
    )
    ai = communities_service.add_category(
        db, actor=moderator, community=community, name="AI models"
    )
    return Cast(community, rules, ai, moderator, author, partner, fan, outsider)


Draft = Callable[..., Proposal]


@pytest.fixture
def draft(db: Session, cast: Cast) -> Draft:
    """`draft(author=..., title=..., publish=False, **fields)`: a proposal made by the service."""
    counter = iter(range(1, 10_000))

    def make(
        author: User | None = None,
        *,
        title: str | None = None,
        publish: bool = False,
        minutes_ago: int = 0,
        **fields: object,
    ) -> Proposal:
        n = next(counter)
        values = service.ProposalDraft(
            title=title or f"Proposal number {n}",
            summary=str(fields.pop("summary", f"Summary {n}")),
            rationale=str(fields.pop("rationale", "Because it helps.")),
            norm_text=str(fields.pop("norm_text", "Works must credit the original creator.")),
            category=str(fields.pop("category", cast.rules.slug)),
            tags=list(fields.pop("tags", [])),  # type: ignore[call-overload]
        )
        assert not fields, fields
        now = utcnow() - timedelta(minutes=minutes_ago)
        proposal = service.create_proposal(
            db, actor=author or cast.author, community=cast.community, values=values, now=now
        )
        if publish:
            service.publish(db, actor=author or cast.author, proposal=proposal, now=now)
        return proposal

    return make


@pytest.fixture
def bearer(db: Session) -> Callable[..., Headers]:
    """`bearer(user, scope="write")`: an Authorization header with a fresh token of `user`."""
    counter = iter(range(1000))

    def make(user: User, scope: str = "write") -> Headers:
        _, plain = accounts_service.create_token(
            db, actor=user, name=f"test-{next(counter)}", scope=scope, now=utcnow()
        )
        return {"Authorization": f"Bearer {plain}"}

    return make


def textarea_value(html: str, name: str) -> str:
    """The (unescaped) content of the textarea called `name`."""
    match = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', html, re.S)
    assert match, f"no textarea {name}"
    return unescape(match.group(1))


def input_value(html: str, name: str, field_id: str | None = None) -> str:
    """The (unescaped) value of the first input called `name` (with id `field_id`, if given)."""
    start = rf'<input id="{field_id}"' if field_id else "<input"
    match = re.search(rf'{start}[^>]*name="{name}"[^>]*value="([^"]*)"', html)
    assert match, f"no input {name} with a value"
    return unescape(match.group(1))


def field_error(html: str, field_id: str) -> str:
    match = re.search(rf'<p class="field-error" id="{field_id}-error">(.*?)</p>', html, re.S)
    assert match, f"no error for {field_id}"
    return unescape(match.group(1))
