"""A community's categories, as proposals use them: who adds them, their slugs, archiving."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.communities import service as communities_service
from app.communities.models import Category
from app.errors import NotAuthenticated, NotFound, PermissionDenied, ValidationFailed
from tests.factories import make_community
from tests.unit.proposals.conftest import World


def add(
    db: Session, world: World, name: str, actor: User | None = None, description: str = ""
) -> Category:
    return communities_service.add_category(
        db,
        actor=actor or world.moderator,
        community=world.community,
        name=name,
        description=description,
    )


def test_categories_are_listed_in_order_without_the_archived(db, world):
    assert [c.slug for c in communities_service.categories(db, world.community)] == [
        "fan-art",
        "ai-models",
    ]
    every = communities_service.categories(db, world.community, archived=True)
    assert [c.slug for c in every] == ["fan-art", "ai-models", "retired-rules"]
    assert [c.position for c in every] == [1, 2, 3]


def test_a_site_admin_adds_a_category(db, world):
    category = add(db, world, "  Music & Songs ", world.admin, description=" Covers ")
    assert (category.slug, category.name, category.description) == (
        "music-songs",
        "Music & Songs",
        "Covers",
    )
    assert category.position == 4


@pytest.mark.parametrize("who", ["author", "fan", "creator", "rights_holder", "outsider"])
def test_only_moderators_add_categories(db, world, who):
    with pytest.raises(PermissionDenied):
        add(db, world, "Mine", getattr(world, who))
    with pytest.raises(NotAuthenticated):
        communities_service.add_category(db, actor=None, community=world.community, name="Mine")


def test_slugs_are_unique_within_the_community(db, world):
    assert add(db, world, "Fan-Art!").slug == "fan-art-2"
    assert add(db, world, "ボカロ").slug == "category"
    assert add(db, world, "初音ミク").slug == "category-2"


def test_a_long_name_makes_a_slug_without_a_dangling_dash(db, world):
    category = add(db, world, "a" * 31 + " b and more words")
    assert category.slug == "a" * 31
    assert len(add(db, world, "x" * 80).slug) <= 40


def test_names_are_unique_archived_ones_included(db, world):
    for name in ("fan ART", "Retired Rules"):
        with pytest.raises(ValidationFailed) as caught:
            add(db, world, name)
        assert set(caught.value.fields) == {"name"}


@pytest.mark.parametrize("name", ["", "x", "x" * 81])
def test_name_length(db, world, name):
    with pytest.raises(ValidationFailed):
        add(db, world, name)


def test_the_same_name_in_another_community_is_fine(db, world):
    other = make_community(db)
    communities_service.add_category(db, actor=world.admin, community=other, name="Fan art")
    assert communities_service.get_category(db, other, "fan-art").community_id == other.id


def test_archive_and_restore(db, world, now):
    communities_service.update_category(
        db,
        actor=world.moderator,
        community=world.community,
        category=world.retired,
        archived=False,
        now=now,
    )
    assert world.retired.archived_at is None
    assert "retired-rules" in [c.slug for c in communities_service.categories(db, world.community)]


def test_get_category(db, world):
    assert communities_service.get_category(db, world.community, "ai-models") is world.ai_models
    with pytest.raises(NotFound):
        communities_service.get_category(db, world.community, "nothing")


def test_categories_of_several_communities(db, world):
    other = make_community(db)
    grouped = communities_service.categories_of(db, [world.community, other])
    assert [c.slug for c in grouped[world.community.id]] == ["fan-art", "ai-models"]
    assert grouped[other.id] == []
