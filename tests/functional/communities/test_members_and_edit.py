"""The members page (role changes and their public log) and the edit-community page."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.communities import service
from app.communities.models import Role, RoleChange
from tests.conftest import log_in, post_form
from tests.functional.communities.conftest import Cast


def log_section(html: str) -> str:
    return html[html.index('id="log-heading"') :]


def role_of(db: Session, cast: Cast, user: User) -> Role | None:
    db.expire_all()
    membership = service.membership_of(db, cast.community, user)
    return membership.role if membership else None


def test_members_page_lists_members_and_the_log(client, cast):
    response = client.get("/c/miku/members")
    assert response.status_code == 200
    html = response.text
    assert "Rin Moderator" in html
    assert "@fan_luka" in html
    assert "joined as fan" in log_section(html)
    assert 'class="role-form"' not in html


def test_moderators_see_a_role_form_per_member(client, cast):
    log_in(client, "mod_rin")
    html = client.get("/c/miku/members").text
    for username in ("mod_rin", "creator_len", "fan_luka"):
        assert f'action="/c/miku/members/{username}/role"' in html
    assert html.count('class="role-form"') == 3


def test_fans_see_no_role_forms(client, cast):
    log_in(client, "fan_luka")
    assert 'class="role-form"' not in client.get("/c/miku/members").text


def test_a_moderator_changes_a_role_with_a_reason(client, db, cast):
    log_in(client, "mod_rin")

    response = post_form(
        client,
        "/c/miku/members/fan_luka/role",
        {"role": "creator", "reason": "Publishes original songs."},
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/c/miku/members"
    assert role_of(db, cast, cast.fan) == Role.creator
    html = client.get("/c/miku/members").text
    assert "Luka Fan is now a creator." in html
    log = log_section(html)
    assert "fan → creator, by Rin Moderator" in log
    assert "<q>Publishes original songs.</q>" in log
    change = db.scalars(
        select(RoleChange).where(RoleChange.user_id == cast.fan.id).order_by(RoleChange.id.desc())
    ).first()
    assert change is not None
    assert (change.changed_by_id, change.new_role) == (cast.moderator.id, Role.creator)


def test_a_missing_reason_rerenders_with_the_error_and_the_typed_values(client, db, cast):
    log_in(client, "mod_rin")

    response = post_form(
        client, "/c/miku/members/fan_luka/role", {"role": "rights_holder", "reason": "  "}
    )

    assert response.status_code == 422
    html = response.text
    assert "<html" in html
    assert "The role was not changed." in html
    assert "Say why, for the public record." in html
    assert 'aria-describedby="error-fan_luka"' in html
    row = html[html.index('action="/c/miku/members/fan_luka/role"') :]
    row = row[: row.index("</form>")]
    assert '<option value="rights_holder" selected>' in row
    assert '<option value="fan" selected>' not in row
    assert role_of(db, cast, cast.fan) == Role.fan


def test_a_reason_too_long_is_kept_for_correction(client, db, cast):
    log_in(client, "mod_rin")
    reason = "Because " + "x" * 600
    response = post_form(
        client, "/c/miku/members/fan_luka/role", {"role": "creator", "reason": reason}
    )
    assert response.status_code == 422
    assert f'value="{reason}"' in response.text
    assert "Use at most 500 characters." in response.text


def test_an_unknown_role_is_refused(client, db, cast):
    log_in(client, "mod_rin")
    response = post_form(
        client, "/c/miku/members/fan_luka/role", {"role": "owner", "reason": "Why not."}
    )
    assert response.status_code == 422
    assert "Choose one of:" in response.text
    assert role_of(db, cast, cast.fan) == Role.fan


def test_demoting_the_last_moderator_is_a_conflict(client, db, cast):
    log_in(client, "mod_rin")
    response = post_form(
        client, "/c/miku/members/mod_rin/role", {"role": "fan", "reason": "Stepping down."}
    )
    assert response.status_code == 409
    assert "at least one moderator" in response.text
    assert role_of(db, cast, cast.moderator) == Role.moderator


def test_a_fan_posting_a_role_change_gets_a_403(client, db, cast):
    log_in(client, "fan_luka")
    response = post_form(
        client, "/c/miku/members/fan_luka/role", {"role": "moderator", "reason": "I deserve it."}
    )
    assert response.status_code == 403
    assert "Only this community" in response.text
    assert role_of(db, cast, cast.fan) == Role.fan


def test_a_role_change_for_a_non_member_is_a_404(client, db, cast):
    log_in(client, "mod_rin")
    response = post_form(
        client, "/c/miku/members/outsider/role", {"role": "fan", "reason": "Welcome."}
    )
    assert response.status_code == 404
    assert service.membership_of(db, cast.community, cast.outsider) is None


def test_a_moderator_edits_the_community(client, db, cast):
    log_in(client, "mod_rin")
    form = client.get("/c/miku/edit")
    assert form.status_code == 200
    assert 'value="Hatsune Miku Fans"' in form.text
    assert "We settle **which works** we accept.</textarea>" in form.text

    response = post_form(
        client, "/c/miku/edit", {"name": "Miku Fans", "description": "Now with *emphasis*."}
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/c/miku"
    html = client.get("/c/miku").text
    assert "<h1>Miku Fans</h1>" in html
    assert "Now with <em>emphasis</em>." in html
    assert "The community settings were saved." in html


def test_an_edit_with_a_bad_name_keeps_the_values(client, db, cast):
    log_in(client, "mod_rin")
    response = post_form(client, "/c/miku/edit", {"name": "M", "description": "Kept text"})
    assert response.status_code == 422
    assert 'value="M"' in response.text
    assert "Kept text</textarea>" in response.text
    assert "Use 3 to 80 characters." in response.text
    db.expire_all()
    assert cast.community.name == "Hatsune Miku Fans"


def test_a_site_admin_may_edit_without_being_a_member(client, cast):
    log_in(client, "site_admin")
    assert client.get("/c/miku/edit").status_code == 200


def test_others_get_a_403_for_the_edit_page(client, db, cast):
    for username in ("fan_luka", "creator_len", "outsider"):
        log_in(client, username)
        assert client.get("/c/miku/edit").status_code == 403
        response = post_form(client, "/c/miku/edit", {"name": "Hijacked", "description": ""})
        assert response.status_code == 403
    db.expire_all()
    assert cast.community.name == "Hatsune Miku Fans"


def test_anonymous_visitors_are_sent_to_sign_in_for_the_edit_page(client, cast):
    response = client.get("/c/miku/edit")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/c/miku/edit"
