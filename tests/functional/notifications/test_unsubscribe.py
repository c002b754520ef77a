"""One-click unsubscribe links: a GET only asks, the page's button or a mail program's
RFC 8058 POST unsubscribes; a link works for one member and one kind, signed, or not at all."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.notifications import service
from app.notifications.models import Delivery, Kind
from tests.conftest import TEST_SECRET, log_in
from tests.functional.discussion.conftest import Cast


def link(user_id: int, scope: service.Scope = Kind.reply) -> str:
    return f"/notifications/unsubscribe/{service.unsubscribe_token(TEST_SECRET, user_id, scope)}"


def preference(db: Session, cast: Cast):
    found = service.preference_of(db, cast.fan)
    if found.id is not None:
        db.refresh(found)
    return found


def test_the_link_shows_a_confirmation_and_changes_nothing(client, db: Session, cast: Cast):
    service.save_preference(db, actor=cast.fan, delivery="email", muted_kinds=[])
    response = client.get(link(cast.fan.id))
    assert response.status_code == 200
    assert "Stop mail about “replies to my comments” to @fan_luka?" in response.text
    assert f'<form method="post" action="{link(cast.fan.id)}">' in response.text
    assert preference(db, cast).muted == frozenset()


def test_the_button_unsubscribes_without_a_session_or_a_form_token(client, db: Session, cast: Cast):
    service.save_preference(db, actor=cast.fan, delivery="email", muted_kinds=[])
    response = client.post(link(cast.fan.id))
    assert response.status_code == 303
    assert response.headers["location"] == link(cast.fan.id)
    assert preference(db, cast).muted == {Kind.reply}
    assert preference(db, cast).delivery == Delivery.email
    page = client.get(link(cast.fan.id))
    assert "You will no longer receive mail about “replies to my comments”." in page.text
    assert "@fan_luka no longer receives mail about" in page.text


def test_a_mail_programs_one_click_post_is_answered_without_a_redirect(
    db: Session, cast: Cast, client
):
    service.save_preference(db, actor=cast.fan, delivery="digest", muted_kinds=[])
    # As a mail provider posts it (RFC 8058): no cookies, the key/value pair as the body.
    client.cookies.clear()
    response = client.post(
        link(cast.fan.id, "all"),
        content="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200
    assert "all notification mail" in response.text
    assert preference(db, cast).delivery == Delivery.in_app


def test_a_signed_in_visitor_may_unsubscribe_someone_else_only_with_their_link(
    client, db: Session, cast: Cast
):
    service.save_preference(db, actor=cast.fan, delivery="email", muted_kinds=[])
    log_in(client, "fan_meiko")
    client.post(link(cast.fan.id, Kind.objection))
    assert preference(db, cast).muted == {Kind.objection}
    assert service.preference_of(db, cast.other_fan).id is None


def test_a_forged_or_tampered_link_is_not_found(client: TestClient, db: Session, cast: Cast):
    good = service.unsubscribe_token(TEST_SECRET, cast.fan.id, Kind.reply)
    other = service.unsubscribe_token(TEST_SECRET, cast.other_fan.id, Kind.reply)
    tampered = other.rsplit(".", 1)[0] + "." + good.rsplit(".", 1)[1]
    forged = service.unsubscribe_token("not-the-apps-secret", cast.fan.id, Kind.reply)
    for token in (tampered, forged, "x", "a" * 2000):
        assert client.get(f"/notifications/unsubscribe/{token}").status_code == 404
        assert client.post(f"/notifications/unsubscribe/{token}").status_code == 404
    assert service.preference_of(db, cast.fan).id is None
    assert service.preference_of(db, cast.other_fan).id is None
