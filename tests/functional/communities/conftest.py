"""A community with a member of every role, for the HTML pages' tests."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from app.accounts.models import User
from app.communities.models import Community, Role
from tests.factories import add_member, make_community, make_user


@dataclass
class Cast:
    community: Community
    moderator: User
    creator: User
    fan: User
    outsider: User
    admin: User


@pytest.fixture
def cast(db) -> Cast:
    community = make_community(
        db, "miku", name="Hatsune Miku Fans", description="We settle **which works** we accept."
    )
    moderator = make_user(db, "mod_rin", display_name="Rin Moderator")
    creator = make_user(db, "creator_len", display_name="Len Producer")
    fan = make_user(db, "fan_luka", display_name="Luka Fan")
    add_member(db, community, moderator, Role.moderator)
    add_member(db, community, creator, Role.creator)
    add_member(db, community, fan, Role.fan)
    outsider = make_user(db, "outsider", display_name="Passer By")
    admin = make_user(db, "site_admin", display_name="Site Admin", is_admin=True)
    return Cast(community, moderator, creator, fan, outsider, admin)
