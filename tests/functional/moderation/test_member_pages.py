"""A member's record for moderators (warn, suspend, lift), the member's own record (appeals,
acknowledgements), and the warning banner on every page."""

from __future__ import annotations

from html import unescape

from sqlalchemy import select

from app.communities.models import MemberWarning, Role, Suspension
from app.db import utcnow
from app.discussion import service as discussion_service
from app.moderation import members
from app.moderation.models import Appeal
from app.works import service as works_service
from tests.conftest import log_in, post_form
from tests.factories import add_member, make_user

RECORD = "/c/miku/moderation/members/fan_luka"


def flash_text(client) -> str:
    return unescape(client.get("/").text)


def test_the_record_page_and_who_sees_it(client, db, cast):
    log_in(client, "mod_rin")
    page = client.get(RECORD)
    assert page.status_code == 200
    assert "Fan luka" in page.text
    assert 'action="/c/miku/moderation/members/fan_luka/warn"' in page.text
    assert 'action="/c/miku/moderation/members/fan_luka/suspend"' in page.text
    assert client.get("/c/miku/moderation/members/nobody").status_code == 404
    elsewhere = make_user(db, "mod_kaito")
    add_member(db, cast.other, elsewhere, Role.moderator)
    for username in ("fan_kaito", "mod_kaito"):
        log_in(client, username)
        assert client.get(RECORD).status_code == 403
        for action in ("warn", "suspend", "lift"):
            data = {"message": "x", "reason": "x", "days": "1"}
            assert post_form(client, f"{RECORD}/{action}", data).status_code == 403
    assert db.scalar(select(MemberWarning.id)) is None
    assert db.scalar(select(Suspension.id)) is None


def test_warn_from_the_record_page(client, db, cast):
    log_in(client, "mod_rin")
    empty = post_form(client, f"{RECORD}/warn", {"message": " ", "reason": "Tone"})
    assert empty.status_code == 422
    assert "Write the warning the member will read." in empty.text
    assert 'value="Tone"' in empty.text
    done = post_form(client, f"{RECORD}/warn", {"message": "Argue the point.", "reason": ""})
    assert done.status_code == 303
    assert done.headers["location"] == RECORD
    assert "is warned" in flash_text(client)
    assert "not yet acknowledged" in client.get(RECORD).text
    myself = post_form(client, "/c/miku/moderation/members/mod_rin/warn", {"message": "x"})
    assert myself.status_code == 403


def test_suspend_and_lift_from_the_record_page(client, db, cast):
    log_in(client, "mod_rin")
    for days in ("0", "abc", "400", ""):
        bad = post_form(client, f"{RECORD}/suspend", {"days": days, "reason": "Spam"})
        assert bad.status_code == 422, days
        assert "from 1 to 365" in bad.text
        # The error is tied to the field it is about, as every field error of the site is.
        assert 'aria-describedby="f-suspend-days-error"' in bad.text
        assert '<p class="field-error" id="f-suspend-days-error">' in bad.text
    done = post_form(client, f"{RECORD}/suspend", {"days": "7", "reason": "Spam links"})
    assert done.status_code == 303
    assert "is suspended until" in flash_text(client)
    page = client.get(RECORD).text
    assert "Lift the suspension" in page
    again = post_form(client, f"{RECORD}/suspend", {"days": "3", "reason": "More"})
    assert again.status_code == 303
    assert "lift that suspension first" in flash_text(client)
    assert post_form(client, f"{RECORD}/lift", {"reason": ""}).status_code == 422
    assert post_form(client, f"{RECORD}/lift", {"reason": "Apologised"}).status_code == 303
    assert "suspension is lifted" in flash_text(client)
    assert post_form(client, f"{RECORD}/lift", {"reason": "Again"}).status_code == 303
    assert "is not suspended here" in flash_text(client)
    moderator = post_form(
        client, "/c/miku/moderation/members/mod_rin/suspend", {"days": "1", "reason": "x"}
    )
    assert moderator.status_code == 403


def test_the_queue_lists_suspensions(client, db, cast):
    members.suspend(
        db,
        actor=cast.moderator,
        community=cast.community,
        username="fan_luka",
        days=2,
        reason="Spam",
        now=utcnow(),
    )
    log_in(client, "mod_rin")
    queue = client.get("/c/miku/moderation").text
    assert "Suspended members" in queue
    assert 'href="/c/miku/moderation/members/fan_luka"' in queue


def test_the_warning_banner_shows_on_every_page_until_acknowledged(client, db, cast):
    warning = members.warn(
        db,
        actor=cast.moderator,
        community=cast.community,
        username="fan_luka",
        message="Please stop <b>shouting</b>.",
        now=utcnow(),
    )
    log_in(client, "fan_luka")
    for path in ("/", "/c/miku", f"/c/miku/works/{cast.work.id}"):
        page = client.get(path).text
        assert "A moderator of Hatsune Miku Fans has warned you" in page, path
        assert "Please stop &lt;b&gt;shouting&lt;/b&gt;." in page
    refused = post_form(client, f"/c/miku/proposals/{cast.proposal.id}/comments", {"body": "Hi"})
    assert refused.status_code == 403
    assert "acknowledge" in refused.text
    done = post_form(
        client, f"/warnings/{warning.id}/acknowledge", {"next": f"/c/miku/works/{cast.work.id}"}
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/c/miku/works/{cast.work.id}"
    assert "has warned you" not in client.get("/c/miku").text
    ok = post_form(client, f"/c/miku/proposals/{cast.proposal.id}/comments", {"body": "Hi"})
    assert ok.status_code == 303
    # Someone else's warning is nobody else's business; an outside `next` is not followed.
    log_in(client, "fan_kaito")
    assert post_form(client, f"/warnings/{warning.id}/acknowledge").status_code == 404
    log_in(client, "fan_luka")
    away = post_form(
        client, f"/warnings/{warning.id}/acknowledge", {"next": "https://evil.example"}
    )
    assert away.headers["location"] == "/c/miku/moderation/mine"


def test_my_record_and_appealing_a_hidden_comment(client, db, cast):
    discussion_service.hide_comment(
        db, actor=cast.moderator, comment=cast.comment, reason="Dismissive", now=utcnow()
    )
    log_in(client, "member_len")
    thread = client.get(f"/c/miku/proposals/{cast.proposal.id}").text
    assert "Appeal this decision" in thread
    community_page = client.get("/c/miku").text
    assert 'href="/c/miku/moderation/mine"' in community_page
    assert 'href="/c/miku/moderation-log"' in community_page
    mine = client.get("/c/miku/moderation/mine")
    assert mine.status_code == 200
    assert "Your comment" in mine.text
    assert "Dismissive" in mine.text
    url = "/c/miku/moderation/mine/appeals"
    form = {"kind": "comment", "target": str(cast.comment.id)}
    empty = post_form(client, url, {**form, "message": ""})
    assert empty.status_code == 422
    assert "Say why the decision should be undone." in empty.text
    sent = post_form(client, url, {**form, "message": "I was quoting the proposal."})
    assert sent.status_code == 303
    assert "Your appeal is sent" in flash_text(client)
    assert "a moderator will decide" in client.get("/c/miku/moderation/mine").text
    twice = post_form(client, url, {**form, "message": "Again"})
    assert twice.status_code == 303
    assert "once" in flash_text(client)
    assert len(list(db.scalars(select(Appeal)))) == 1
    for bad in ({"kind": "poll", "target": "1"}, {"kind": "comment", "target": "x"}):
        assert post_form(client, url, {**bad, "message": "m"}).status_code == 422
    log_in(client, "fan_luka")
    assert post_form(client, url, {**form, "message": "Not mine"}).status_code == 403


def test_appealing_a_suspension_from_my_record(client, db, cast):
    suspension = members.suspend(
        db,
        actor=cast.moderator,
        community=cast.community,
        username="fan_luka",
        days=2,
        reason="Spam",
        now=utcnow(),
    )
    log_in(client, "fan_luka")
    mine = client.get("/c/miku/moderation/mine").text
    assert "You are suspended until" in mine
    assert "Appeal the suspension" in mine
    sent = post_form(
        client,
        "/c/miku/moderation/mine/appeals",
        {"kind": "suspension", "target": str(suspension.id), "message": "Sorry"},
    )
    assert sent.status_code == 303
    [appeal] = db.scalars(select(Appeal))
    assert appeal.suspension_id == suspension.id


def test_my_record_needs_signing_in(client, cast):
    assert client.get("/c/miku/moderation/mine").status_code == 303


def test_the_author_of_a_hidden_work_finds_the_appeal(client, db, cast):
    works_service.hide_work(db, actor=cast.moderator, work=cast.work, reason="Traced", now=utcnow())
    log_in(client, "member_len")
    assert "Appeal this decision" in client.get(f"/c/miku/works/{cast.work.id}").text
    log_in(client, "fan_luka")
    assert "Appeal this decision" not in client.get(f"/c/miku/works/{cast.work.id}").text
