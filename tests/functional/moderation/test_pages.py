"""The flag forms and the moderators' queue page."""

from __future__ import annotations

from html import unescape

from sqlalchemy import func, select

from app.db import utcnow
from app.moderation import service
from app.moderation.models import Flag, FlagResolution
from tests.conftest import log_in, post_form

THANKS = "Thanks — moderators will review it."


def flag_count(db) -> int:
    return db.scalar(select(func.count(Flag.id))) or 0


def flag_url(cast) -> str:
    return f"/c/miku/proposals/{cast.proposal.id}/comments/{cast.comment.id}/flag"


def flash_text(client) -> str:
    """The page after a redirect, where the flash message shows once."""
    return unescape(client.get("/").text)


def flag_by_fans(db, cast, n: int = 1, *, work: bool = False) -> None:
    for fan in cast.fans[:n]:
        if work:
            service.flag_work(
                db, actor=fan, work=cast.work, reason=f"By {fan.username}", now=utcnow()
            )
        else:
            service.flag_comment(
                db, actor=fan, comment=cast.comment, reason=f"By {fan.username}", now=utcnow()
            )


def test_a_member_flags_a_comment_and_goes_back_to_it(client, db, cast):
    log_in(client, "fan_luka")
    response = post_form(client, flag_url(cast), {"reason": "Dismissive of artists"})
    assert response.status_code == 303
    assert response.headers["location"] == (
        f"/c/miku/proposals/{cast.proposal.id}#comment-{cast.comment.id}"
    )
    assert THANKS in flash_text(client)
    [flag] = db.scalars(select(Flag))
    assert flag.reason == "Dismissive of artists"
    assert flag.flagger_id == cast.fans[0].id


def test_a_refused_flag_goes_back_with_an_error_message(client, db, cast):
    log_in(client, "fan_luka")
    empty = post_form(client, flag_url(cast), {"reason": "  "})
    assert empty.status_code == 303
    assert "flash-error" in client.get("/").text
    assert post_form(client, flag_url(cast), {"reason": "Rude"}).status_code == 303
    again = post_form(client, flag_url(cast), {"reason": "Rude"})
    assert again.status_code == 303
    assert "You already flagged this comment" in flash_text(client)
    assert flag_count(db) == 1


def test_too_many_flags_answer_429_with_retry_after(client, db, cast, monkeypatch):
    monkeypatch.setattr(service, "FLAG_LIMIT", 1)
    log_in(client, "fan_luka")
    assert post_form(client, flag_url(cast), {"reason": "Rude"}).status_code == 303
    limited = post_form(client, f"/c/miku/works/{cast.work.id}/flag", {"reason": "Traced"})
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert "Too many flags in a short time" in unescape(limited.text)
    assert flag_count(db) == 1


def test_the_author_cannot_flag_their_own_comment(client, db, cast):
    log_in(client, "member_len")
    response = post_form(client, flag_url(cast), {"reason": "Test"})
    assert response.status_code == 303
    assert "your own comment" in flash_text(client)
    assert flag_count(db) == 0


def test_a_member_flags_a_work(client, db, cast):
    log_in(client, "fan_kaito")
    response = post_form(client, f"/c/miku/works/{cast.work.id}/flag", {"reason": "Traced"})
    assert response.status_code == 303
    assert response.headers["location"] == f"/c/miku/works/{cast.work.id}"
    assert THANKS in flash_text(client)
    assert flag_count(db) == 1


def test_flag_forms_need_a_login_and_the_csrf_token(client, db, cast):
    assert post_form(client, flag_url(cast), {"reason": "x"}).status_code == 401
    log_in(client, "fan_luka")
    refused = client.post(flag_url(cast), data={"reason": "x"})
    assert refused.status_code == 403
    refused = client.post(f"/c/miku/works/{cast.work.id}/flag", data={"reason": "x"})
    assert refused.status_code == 403
    assert flag_count(db) == 0
    missing = post_form(client, f"/c/miku/proposals/{cast.proposal.id}/comments/999999/flag")
    assert missing.status_code == 404
    assert post_form(client, "/c/miku/works/999999/flag", {"reason": "x"}).status_code == 404


def test_the_queue_is_for_moderators(client, db, cast):
    anonymous = client.get("/c/miku/moderation")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/login?next=")
    log_in(client, "fan_luka")
    assert client.get("/c/miku/moderation").status_code == 403
    assert client.get("/c/nope/moderation").status_code == 404


def test_the_queue_shows_flagged_items_in_context(client, db, cast):
    flag_by_fans(db, cast, 2)
    flag_by_fans(db, cast, 3, work=True)
    log_in(client, "mod_rin")
    page = client.get("/c/miku/moderation")
    assert page.status_code == 200
    html = page.text
    assert f'href="/c/miku/proposals/{cast.proposal.id}/comments/{cast.comment.id}"' in html
    assert f'href="/c/miku/works/{cast.work.id}"' in html
    assert "<strong>credits</strong>" in html
    assert "By fan_luka" in html
    assert "By fan_meiko" in html
    assert "2 flags" in html
    assert "3 flags" in html
    assert "Hidden pending review" in html
    assert html.count('name="csrf_token"') >= 5
    assert 'value="hide"' in html
    assert "Dismiss flags" in html
    # The work was flagged last: it comes second.
    assert html.index(f"comment-{cast.comment.id}") < html.index(f"work-{cast.work.id}")


def test_an_empty_queue(client, cast):
    log_in(client, "mod_rin")
    assert "Nothing is waiting for review." in client.get("/c/miku/moderation").text


def test_a_moderator_hides_a_comment_with_a_public_reason(client, db, cast):
    flag_by_fans(db, cast, 2)
    log_in(client, "mod_rin")
    response = post_form(
        client,
        f"/c/miku/moderation/comments/{cast.comment.id}",
        {"action": "hide", "reason": "Belittles the artists"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/c/miku/moderation"
    assert "is hidden" in flash_text(client)
    db.expire_all()
    assert cast.comment.is_removed
    assert cast.comment.hidden_reason == "Belittles the artists"
    assert {f.resolution for f in db.scalars(select(Flag))} == {FlagResolution.hidden}
    assert "Nothing is waiting for review." in client.get("/c/miku/moderation").text


def test_hiding_without_a_good_reason_keeps_the_typed_text(client, db, cast):
    flag_by_fans(db, cast, 1, work=True)
    log_in(client, "mod_rin")
    long = "too long " * 60
    response = post_form(
        client, f"/c/miku/moderation/works/{cast.work.id}", {"action": "hide", "reason": long}
    )
    assert response.status_code == 422
    assert long in unescape(response.text)
    assert "Use at most 500 characters" in response.text
    empty = post_form(
        client, f"/c/miku/moderation/works/{cast.work.id}", {"action": "hide", "reason": ""}
    )
    assert empty.status_code == 422
    db.expire_all()
    assert cast.work.hidden_at is None
    assert all(f.resolved_at is None for f in db.scalars(select(Flag)))


def test_a_moderator_dismisses_flags_and_the_work_is_shown_again(client, db, cast):
    flag_by_fans(db, cast, 3, work=True)
    assert cast.work.is_pending_review
    log_in(client, "mod_rin")
    response = post_form(client, f"/c/miku/moderation/works/{cast.work.id}", {"action": "dismiss"})
    assert response.status_code == 303
    assert "shown again" in flash_text(client)
    db.expire_all()
    assert cast.work.hidden_at is None
    assert {f.resolution for f in db.scalars(select(Flag))} == {FlagResolution.dismissed}
    again = post_form(client, f"/c/miku/moderation/works/{cast.work.id}", {"action": "dismiss"})
    assert again.status_code == 303
    assert "another moderator" in flash_text(client)


def test_resolving_is_for_moderators_and_needs_the_csrf_token(client, db, cast):
    flag_by_fans(db, cast, 1)
    url = f"/c/miku/moderation/comments/{cast.comment.id}"
    log_in(client, "fan_kaito")
    assert post_form(client, url, {"action": "dismiss"}).status_code == 403
    log_in(client, "mod_rin")
    assert client.post(url, data={"action": "dismiss"}).status_code == 403
    assert (
        post_form(client, "/c/miku/moderation/comments/999999", {"action": "dismiss"}).status_code
        == 404
    )
    assert post_form(client, url, {"action": "ban"}).status_code == 422
    assert all(f.resolved_at is None for f in db.scalars(select(Flag)))
