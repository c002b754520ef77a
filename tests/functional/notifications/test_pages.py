"""The notifications pages through the HTTP app: the list (own only, newest first, paged by
key), marking read, the header's link, preferences, and every refusal."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from app.db import utcnow
from app.notifications import service
from app.notifications.models import Delivery, Kind
from tests.conftest import csrf_token, log_in, post_form
from tests.functional.discussion.conftest import Cast
from tests.functional.notifications.conftest import Tell
from tests.unit.discussion.conftest import post


def item_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'id="notification-(\d+)"', html)]


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/notifications")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/notifications"
    assert client.get("/notifications/preferences").status_code == 303
    assert post_form(client, "/notifications/read-all").status_code == 401


def test_the_list_shows_my_own_newest_first(client, cast: Cast, tell: Tell):
    mine = tell(cast.fan, 3, text="For Luka")
    tell(cast.other_fan, 2, text="For Meiko")
    log_in(client, "fan_luka")
    response = client.get("/notifications")
    assert response.status_code == 200
    assert item_ids(response.text) == mine[::-1]
    assert "For Meiko" not in response.text
    assert "3 unread" in response.text
    assert f'name="up_to" value="{mine[-1]}"' in response.text
    assert 'href="/c/miku"' in response.text


def test_the_list_is_paged_by_key(client, cast: Cast, tell: Tell):
    ids = tell(cast.fan, 35)
    log_in(client, "fan_luka")
    first = client.get("/notifications")
    assert item_ids(first.text) == ids[::-1][:30]
    older = re.search(r'href="(/notifications\?before=\d+)"', first.text)
    assert older is not None
    second = client.get(older.group(1))
    assert item_ids(second.text) == ids[::-1][30:]
    assert "Older notifications" not in second.text
    # A cursor that is not an id is the first page, not an error.
    assert client.get("/notifications?before=abc").status_code == 200
    assert client.get("/notifications?before=99999999999999999999").status_code == 200


def test_unread_only(client, db: Session, cast: Cast, tell: Tell):
    first, second = tell(cast.fan, 2)
    service.mark_read(db, actor=cast.fan, notification_id=first, now=utcnow())
    log_in(client, "fan_luka")
    assert item_ids(client.get("/notifications?unread=1").text) == [second]
    assert item_ids(client.get("/notifications").text) == [second, first]


def test_mark_one_read_with_the_form_and_with_htmx(client, db: Session, cast: Cast, tell: Tell):
    first, second = tell(cast.fan, 2)
    log_in(client, "fan_luka")
    response = post_form(
        client, f"/notifications/{first}/read", {"next": "/notifications?unread=1"}
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/notifications?unread=1"
    # A next address off the site is not followed.
    response = post_form(client, f"/notifications/{first}/read", {"next": "//evil.example"})
    assert response.headers["location"] == "/notifications"
    response = client.post(
        f"/notifications/{second}/read",
        data={"next": "/notifications"},
        headers={"HX-Request": "true", "X-CSRF-Token": csrf_token(client)},
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith(f'<li class="notification" id="notification-{second}"')
    assert "Mark read" not in response.text
    assert response.headers["vary"] == "HX-Request, Accept-Language"
    assert service.unread_count(db, cast.fan.id) == 0


def test_nobody_marks_anothers_notification(client, db: Session, cast: Cast, tell: Tell):
    (theirs,) = tell(cast.other_fan)
    log_in(client, "fan_luka")
    assert post_form(client, f"/notifications/{theirs}/read").status_code == 404
    assert post_form(client, "/notifications/99999999999/read").status_code == 404
    assert post_form(client, "/notifications/abc/read").status_code == 422
    assert service.unread_count(db, cast.other_fan.id) == 1


def test_mark_all_read_up_to_what_the_page_showed(client, db: Session, cast: Cast, tell: Tell):
    shown = tell(cast.fan, 2)
    tell(cast.other_fan)
    log_in(client, "fan_luka")
    page = client.get("/notifications")
    tell(cast.fan, text="Arrived meanwhile")
    up_to = re.search(r'name="up_to" value="(\d+)"', page.text)
    assert up_to is not None
    assert int(up_to.group(1)) == shown[-1]
    response = post_form(client, "/notifications/read-all", {"up_to": up_to.group(1)})
    assert response.status_code == 303
    assert service.unread_count(db, cast.fan.id) == 1
    assert "Marked 2 notifications read." in client.get("/notifications").text
    assert service.unread_count(db, cast.other_fan.id) == 1
    # Without a bound (or with nonsense), everything.
    post_form(client, "/notifications/read-all", {"up_to": "nonsense"})
    assert service.unread_count(db, cast.fan.id) == 0


def test_marking_read_needs_the_csrf_token(client, db: Session, cast: Cast, tell: Tell):
    (note,) = tell(cast.fan)
    log_in(client, "fan_luka")
    assert client.post(f"/notifications/{note}/read").status_code == 403
    assert client.post("/notifications/read-all").status_code == 403
    assert service.unread_count(db, cast.fan.id) == 1


def test_the_header_links_to_notifications_with_the_live_count(client, cast: Cast):
    assert "nav-notifications" not in client.get("/").text
    log_in(client, "fan_luka")
    html = client.get("/").text
    link = re.search(r'<a href="/notifications" class="nav-notifications"[^>]*>', html)
    assert link is not None
    assert 'sse-connect="/notifications/events"' in link.group(0)
    assert 'sse-swap="unread"' in link.group(0)


def test_the_profile_links_to_the_preferences(client, cast: Cast):
    log_in(client, "fan_luka")
    assert 'href="/notifications/preferences"' in client.get("/profile").text


def test_preferences_page_shows_and_saves_the_choice(client, db: Session, cast: Cast):
    log_in(client, "fan_luka")
    page = client.get("/notifications/preferences")
    assert page.status_code == 200
    assert 'value="in_app" checked' in page.text
    assert page.text.count('name="mailed"') == len(Kind)
    assert "from 08:00 UTC" in page.text
    response = client.post(
        "/notifications/preferences",
        data={
            "csrf_token": csrf_token(client),
            "delivery": "digest",
            "mailed": ["reply", "objection"],
        },
    )
    assert response.status_code == 303
    preference = service.preference_of(db, cast.fan)
    db.refresh(preference)
    assert preference.delivery == Delivery.digest
    assert preference.muted == set(Kind) - {Kind.reply, Kind.objection}
    page = client.get("/notifications/preferences")
    assert "Your preferences were saved." in page.text
    assert 'value="digest" checked' in page.text
    assert 'value="reply" checked' in page.text
    assert 'value="guidelines" checked' not in page.text


def test_a_bad_choice_is_shown_back_not_saved(client, db: Session, cast: Cast):
    log_in(client, "fan_luka")
    response = client.post(
        "/notifications/preferences",
        data={"csrf_token": csrf_token(client), "delivery": "pigeon", "mailed": ["gossip"]},
    )
    assert response.status_code == 422
    assert "Choose in_app, email or digest." in response.text
    assert service.preference_of(db, cast.fan).id is None
    assert client.post("/notifications/preferences", data={"delivery": "email"}).status_code == 403


def test_an_unverified_address_is_warned_of(client, db: Session, cast: Cast):
    cast.fan.email_verified_at = None
    db.flush()
    log_in(client, "fan_luka")
    assert "is not verified yet" in client.get("/notifications/preferences").text


def test_a_reply_posted_through_the_site_tells_the_comment_author(client, db: Session, cast: Cast):
    comment = post(db, cast.proposal, cast.fan, "My view.")
    log_in(client, "fan_meiko")
    response = post_form(
        client,
        f"/c/miku/proposals/{cast.proposal.id}/comments",
        {"body": "A reply.", "parent": str(comment.id)},
    )
    assert response.status_code in (201, 303), response.text
    client.cookies.clear()
    log_in(client, "fan_luka")
    html = client.get("/notifications").text
    assert "User fan_meiko replied to your comment on" in html
    assert service.unread_count(db, cast.other_fan.id) == 0
