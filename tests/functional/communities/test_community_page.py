"""A community's page: its description, members by role, and joining and leaving (htmx too)."""

from __future__ import annotations

from sqlalchemy import select

from app.communities import service
from app.communities.models import Role, RoleChange
from tests.conftest import log_in, post_form
from tests.factories import make_community

HTMX = {"HX-Request": "true"}


def role_section(html: str, heading: str) -> str:
    """The members box's part under one role's heading, e.g. 'Fans'."""
    start = html.index(f"<h3>{heading} ")
    end = html.find("<h3>", start + 1)
    return html[start : end if end != -1 else len(html)]


def test_the_page_renders_the_description_as_markdown(client, cast):
    response = client.get("/c/miku")
    assert response.status_code == 200
    assert "<h1>Hatsune Miku Fans</h1>" in response.text
    assert "We settle <strong>which works</strong> we accept." in response.text


def test_hostile_markdown_is_shown_as_text_never_run(client, db):
    make_community(
        db,
        "hostile",
        description=(
            "<script>alert('x')</script>\n\n"
            '<img src=x onerror="alert(1)">\n\n'
            "[click](javascript:alert(2))"
        ),
    )

    html = client.get("/c/hostile").text

    assert "<script>alert" not in html
    assert "&lt;script&gt;alert" in html
    assert "<img" not in html
    assert "&lt;img src=x" in html
    assert 'href="javascript' not in html.lower()


def test_members_are_grouped_by_role(client, cast):
    html = client.get("/c/miku").text
    assert "Rin Moderator" in role_section(html, "Moderators")
    assert "Len Producer" in role_section(html, "Creators")
    fans = role_section(html, "Fans")
    assert "Luka Fan" in fans
    assert "Rin Moderator" not in fans
    assert "None yet." in role_section(html, "Rights holders")


def test_anonymous_visitors_are_asked_to_sign_in_to_join(client, cast):
    html = client.get("/c/miku").text
    assert "Sign in to join" in html
    assert "/login?next=/c/miku" in html
    assert 'action="/c/miku/join"' not in html


def test_a_signed_in_visitor_sees_a_join_button_and_a_member_a_leave_button(client, cast):
    log_in(client, "outsider")
    html = client.get("/c/miku").text
    assert 'action="/c/miku/join"' in html
    assert 'action="/c/miku/leave"' not in html

    log_in(client, "fan_luka")
    html = client.get("/c/miku").text
    assert 'action="/c/miku/leave"' in html
    assert 'action="/c/miku/join"' not in html
    assert "Edit description" not in html


def test_moderators_see_the_edit_and_manage_links(client, cast):
    log_in(client, "mod_rin")
    html = client.get("/c/miku").text
    assert 'href="/c/miku/edit"' in html
    assert "Manage roles" in html


def test_joining_redirects_with_a_message(client, db, cast):
    log_in(client, "outsider")

    response = post_form(client, "/c/miku/join")

    assert response.status_code == 303
    assert response.headers["location"] == "/c/miku"
    membership = service.membership_of(db, cast.community, cast.outsider)
    assert membership is not None
    assert membership.role == Role.fan
    page = client.get("/c/miku").text
    assert "You joined Hatsune Miku Fans as a fan." in page
    assert 'action="/c/miku/leave"' in page
    assert "Passer By" in role_section(page, "Fans")


def test_an_htmx_join_answers_with_the_membership_fragment_only(client, db, cast):
    log_in(client, "outsider")
    client.get("/c/miku")

    response = post_form(client, "/c/miku/join", headers=HTMX)

    assert response.status_code == 200
    assert "HX-Request" in response.headers["vary"]
    html = response.text
    assert "<html" not in html
    assert html.lstrip().startswith('<div id="membership"')
    assert "You joined Hatsune Miku Fans as a fan." in html
    # The fragment's own form must work: it carries the CSRF token.
    assert 'action="/c/miku/leave"' in html
    assert 'name="csrf_token"' in html
    assert service.membership_of(db, cast.community, cast.outsider) is not None


def test_an_htmx_leave_answers_with_the_fragment_and_a_join_button(client, db, cast):
    log_in(client, "fan_luka")

    response = post_form(client, "/c/miku/leave", headers=HTMX)

    assert response.status_code == 200
    assert "<html" not in response.text
    assert "You left Hatsune Miku Fans." in response.text
    assert 'action="/c/miku/join"' in response.text
    assert service.membership_of(db, cast.community, cast.fan) is None


def test_the_page_itself_varies_on_htmx(client, cast):
    full = client.get("/c/miku")
    partial = client.get("/c/miku", headers=HTMX)
    restore = client.get("/c/miku", headers={**HTMX, "HX-History-Restore-Request": "true"})
    assert "HX-Request" in full.headers["vary"]
    assert "<html" in full.text
    assert "<html" not in partial.text
    assert 'id="membership"' in partial.text
    assert "<html" in restore.text


def test_leaving_redirects_with_a_message(client, db, cast):
    log_in(client, "fan_luka")
    response = post_form(client, "/c/miku/leave")
    assert response.status_code == 303
    assert response.headers["location"] == "/c/miku"
    assert service.membership_of(db, cast.community, cast.fan) is None
    assert "You left Hatsune Miku Fans." in client.get("/c/miku").text


def test_joining_twice_says_so_and_keeps_one_membership(client, db, cast):
    log_in(client, "fan_luka")
    response = post_form(client, "/c/miku/join")
    assert response.status_code == 303
    assert "You are a member of this community already." in client.get("/c/miku").text
    joins = db.scalars(
        select(RoleChange).where(RoleChange.user_id == cast.fan.id, RoleChange.old_role.is_(None))
    ).all()
    assert len(joins) == 1


def test_a_join_that_loses_a_race_is_answered_not_crashed(client, db, cast, monkeypatch):
    # A double click: both requests saw "not a member"; the second insert hits the unique pair.
    log_in(client, "fan_luka")
    monkeypatch.setattr(service, "membership_of", lambda *args, **kwargs: None)

    response = post_form(client, "/c/miku/join")

    assert response.status_code == 303
    monkeypatch.undo()
    assert "You are a member of this community already." in client.get("/c/miku").text


def test_the_last_moderator_is_told_why_they_cannot_leave(client, db, cast):
    log_in(client, "mod_rin")
    response = post_form(client, "/c/miku/leave")
    assert response.status_code == 303
    assert "only moderator" in client.get("/c/miku").text
    assert service.membership_of(db, cast.community, cast.moderator) is not None


def test_joining_needs_a_signed_in_user(client, db, cast):
    response = post_form(client, "/c/miku/join")
    assert response.status_code == 401
    assert "<html" in response.text


def test_an_unknown_community_is_a_404_page(client):
    response = client.get("/c/no-such-community")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "There is no such community." in response.text
