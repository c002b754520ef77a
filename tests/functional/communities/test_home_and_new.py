"""The home page's list of communities, and founding a community with the form."""

from __future__ import annotations

from sqlalchemy import select

from app.communities.models import Community, Membership, Role
from tests.conftest import log_in, post_form
from tests.factories import add_member, make_community, make_user

NEW_LINK = 'href="/communities/new"'


def card_of(html: str, name: str) -> str:
    """The home page's card of one community."""
    cards = [c for c in html.split('<li class="card community-card">')[1:] if f">{name}</a>" in c]
    assert len(cards) == 1, f"no card for {name}"
    return cards[0].split("</li>")[0]


def test_the_home_page_lists_communities_with_member_counts(client, db):
    busy = make_community(db, name="Busy Circle", description="Songs *and* covers.")
    make_community(db, name="Lonely Circle")
    solo = make_community(db, name="Solo Circle")
    for _ in range(3):
        add_member(db, busy, make_user(db))
    add_member(db, solo, make_user(db))

    response = client.get("/")

    assert response.status_code == 200
    assert "3 members" in card_of(response.text, "Busy Circle")
    assert "0 members" in card_of(response.text, "Lonely Circle")
    assert "1 member<" in card_of(response.text, "Solo Circle")
    assert "Songs <em>and</em> covers." in response.text
    assert f'href="/c/{busy.slug}"' in response.text
    assert NEW_LINK not in response.text


def test_the_home_page_shows_my_role(client, db):
    community = make_community(db, name="Mine")
    fan = make_user(db, "fan_luka")
    add_member(db, community, fan, Role.creator)
    log_in(client, "fan_luka")
    assert "You: Creator" in card_of(client.get("/").text, "Mine")


def test_an_admin_sees_the_new_community_link_and_a_fan_does_not(client, db):
    make_user(db, "site_admin", is_admin=True)
    make_user(db, "fan_luka")
    log_in(client, "fan_luka")
    assert NEW_LINK not in client.get("/").text

    log_in(client, "site_admin")
    assert NEW_LINK in client.get("/").text


def test_an_admin_creates_a_community_with_the_form(client, db):
    admin = make_user(db, "site_admin", is_admin=True)
    log_in(client, "site_admin")
    form = client.get("/communities/new")
    assert form.status_code == 200
    assert 'name="slug"' in form.text

    response = post_form(
        client,
        "/communities/new",
        {"name": "Hatsune Miku Fans", "slug": "miku", "description": "Fan works, *openly*."},
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/c/miku"
    community = db.scalar(select(Community).where(Community.slug == "miku"))
    assert community is not None
    membership = db.scalar(select(Membership).where(Membership.community_id == community.id))
    assert membership is not None
    assert (membership.user_id, membership.role) == (admin.id, Role.moderator)
    page = client.get("/c/miku")
    assert page.status_code == 200
    assert "Hatsune Miku Fans is open. You moderate it." in page.text
    assert "Fan works, <em>openly</em>." in page.text


def test_form_errors_rerender_the_form_with_the_values_kept(client, db):
    make_user(db, "site_admin", is_admin=True)
    make_community(db, "taken")
    log_in(client, "site_admin")

    response = post_form(
        client,
        "/communities/new",
        {"name": "No", "slug": "taken", "description": "Kept <description> & all"},
    )

    assert response.status_code == 422
    assert "<html" in response.text
    assert "Please correct the marked fields." in response.text
    assert "Use 3 to 80 characters." in response.text
    assert "Another community uses this address." in response.text
    assert 'value="No"' in response.text
    assert 'value="taken"' in response.text
    assert "Kept &lt;description&gt; &amp; all</textarea>" in response.text
    assert 'aria-invalid="true"' in response.text
    assert db.scalar(select(Community.id).where(Community.name == "No")) is None


def test_a_fan_gets_a_403_page_for_the_new_community_form(client, db):
    make_user(db, "fan_luka")
    log_in(client, "fan_luka")

    response = client.get("/communities/new")

    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "Only site administrators create communities." in response.text


def test_a_fan_cannot_create_a_community_by_posting_either(client, db):
    make_user(db, "fan_luka")
    log_in(client, "fan_luka")
    response = post_form(client, "/communities/new", {"name": "Sneaky", "slug": "sneaky"})
    assert response.status_code == 403
    assert db.scalar(select(Community.id).where(Community.slug == "sneaky")) is None


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/communities/new")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/communities/new"


def test_creating_a_community_needs_the_csrf_token(client, db):
    make_user(db, "site_admin", is_admin=True)
    log_in(client, "site_admin")
    response = client.post("/communities/new", data={"name": "No token", "slug": "no-token"})
    assert response.status_code == 403
    assert db.scalar(select(Community.id).where(Community.slug == "no-token")) is None
