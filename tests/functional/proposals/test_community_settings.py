"""Community settings for proposals: the minimum deliberation period and the categories."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from app.communities import service as communities_service
from app.communities.models import Community
from tests.conftest import log_in, post_form
from tests.functional.proposals.conftest import field_error, input_value


def settings_form(community: Community, **changes: str) -> dict[str, str]:
    return {
        "name": community.name,
        "description": community.description,
        "min_deliberation_hours": str(community.min_deliberation_hours),
        **changes,
    }


def hours(db: Session, community: Community) -> int:
    db.expire_all()
    fresh = db.get(Community, community.id)
    assert fresh is not None
    return fresh.min_deliberation_hours


def test_the_settings_page_shows_the_deliberation_period_and_categories(client, cast):
    log_in(client, "mod_rin")
    response = client.get("/c/miku/edit")
    assert response.status_code == 200
    html = response.text
    assert input_value(html, "min_deliberation_hours") == "72"
    assert 'action="/c/miku/categories"' in html
    assert 'action="/c/miku/categories/depiction-rules"' in html
    assert 'action="/c/miku/categories/ai-models"' in html


def test_a_moderator_sets_the_minimum_deliberation_hours(client, db, cast, draft):
    log_in(client, "mod_rin")

    response = post_form(
        client, "/c/miku/edit", settings_form(cast.community, min_deliberation_hours="24")
    )

    assert response.status_code == 303
    assert hours(db, cast.community) == 24
    html = client.get("/c/miku").text
    assert "Voting on a proposal may open 24 hours after it is published." in html
    # A proposal published now may go to a vote after the new period.
    proposal = draft(publish=True)
    assert proposal.voting_may_open_at is not None
    assert proposal.published_at is not None
    assert (proposal.voting_may_open_at - proposal.published_at).total_seconds() == 24 * 3600


@pytest.mark.parametrize("value", ["abc", "-1", "2161", "1.5", "99999999999999999999999"])
def test_a_bad_deliberation_period_is_a_field_error(client, db, cast, value):
    log_in(client, "mod_rin")

    response = post_form(
        client, "/c/miku/edit", settings_form(cast.community, min_deliberation_hours=value)
    )

    assert response.status_code == 422
    assert field_error(response.text, "f-min_deliberation_hours") == (
        "Use a number of hours from 0 to 2160 (90 days)."
    )
    assert input_value(response.text, "min_deliberation_hours") == value
    assert hours(db, cast.community) == 72


def test_fans_may_not_change_the_settings(client, db, cast):
    log_in(client, "fan_luka")
    assert client.get("/c/miku/edit").status_code == 403
    response = post_form(
        client, "/c/miku/edit", settings_form(cast.community, min_deliberation_hours="1")
    )
    assert response.status_code == 403
    assert hours(db, cast.community) == 72


def test_a_moderator_adds_renames_and_archives_categories(client, db, cast):
    log_in(client, "mod_rin")

    response = post_form(
        client,
        "/c/miku/categories",
        {"name": "Commercial use", "description": "Selling derivative works."},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/c/miku/edit#categories"
    assert "Category “Commercial use” added." in client.get("/c/miku/edit").text
    slugs = [c.slug for c in communities_service.categories(db, cast.community)]
    assert slugs == ["depiction-rules", "ai-models", "commercial-use"]

    response = post_form(
        client,
        "/c/miku/categories/commercial-use",
        {"name": "Commerce", "description": "Selling works."},
    )
    assert response.status_code == 303
    db.expire_all()
    category = communities_service.get_category(db, cast.community, "commercial-use")
    assert (category.name, category.description) == ("Commerce", "Selling works.")

    response = post_form(
        client,
        "/c/miku/categories/commercial-use",
        {"name": "Commerce", "description": "Selling works.", "archived": "1"},
    )
    assert response.status_code == 303
    db.expire_all()
    assert [c.slug for c in communities_service.categories(db, cast.community)] == [
        "depiction-rules",
        "ai-models",
    ]
    html = client.get("/c/miku/edit").text
    assert '<li class="archived">' in html
    assert 'name="archived" value="1" checked' in html

    # And restore it.
    post_form(
        client,
        "/c/miku/categories/commercial-use",
        {"name": "Commerce", "description": "Selling works."},
    )
    db.expire_all()
    assert len(communities_service.categories(db, cast.community)) == 3


def test_a_bad_category_name_is_a_422_with_the_settings_kept(client, db, cast):
    log_in(client, "mod_rin")

    response = post_form(client, "/c/miku/categories", {"name": "x", "description": "Short"})

    assert response.status_code == 422
    html = response.text
    assert "The category was not added." in html
    assert field_error(html, "f-category-name") == "Use 2 to 80 characters."
    assert input_value(html, "description", "f-category-description") == "Short"
    # The other form on the page still shows the community's current settings.
    assert input_value(html, "min_deliberation_hours") == "72"
    assert input_value(html, "name", "f-name") == cast.community.name

    response = post_form(client, "/c/miku/categories", {"name": "AI Models"})
    assert response.status_code == 422
    assert "There is a category with this name already." in response.text


def test_a_bad_category_rename_is_a_422_with_what_was_typed(client, db, cast):
    log_in(client, "mod_rin")
    response = post_form(
        client,
        "/c/miku/categories/ai-models",
        {"name": "Depiction Rules", "description": "Models trained on fan art.", "archived": "1"},
    )
    assert response.status_code == 422
    html = response.text
    assert "The category was not changed." in html
    assert field_error(html, "cat-name-ai-models") == "There is a category with this name already."
    # The row keeps what was typed; the other rows and forms show what is stored.
    assert input_value(html, "name", "cat-name-ai-models") == "Depiction Rules"
    assert input_value(html, "description", "cat-desc-ai-models") == "Models trained on fan art."
    assert input_value(html, "name", "cat-name-depiction-rules") == "Depiction rules"
    assert input_value(html, "name", "f-name") == cast.community.name
    assert html.count('name="archived" value="1" checked') == 1
    db.expire_all()
    category = communities_service.get_category(db, cast.community, "ai-models")
    assert (category.name, category.archived_at) == ("AI models", None)

    empty = post_form(client, "/c/miku/categories/ai-models", {"name": "", "description": ""})
    assert empty.status_code == 422
    assert field_error(empty.text, "cat-name-ai-models") == "Use 2 to 80 characters."


def test_fans_may_not_manage_categories(client, db, cast):
    log_in(client, "fan_luka")
    assert post_form(client, "/c/miku/categories", {"name": "Mine"}).status_code == 403
    response = post_form(
        client, "/c/miku/categories/ai-models", {"name": "Hacked", "archived": "1"}
    )
    assert response.status_code == 403
    db.expire_all()
    names = [c.name for c in communities_service.categories(db, cast.community)]
    assert names == ["Depiction rules", "AI models"]


def test_an_unknown_category_is_a_404(client, cast):
    log_in(client, "mod_rin")
    response = post_form(client, "/c/miku/categories/no-such", {"name": "Whatever"})
    assert response.status_code == 404
