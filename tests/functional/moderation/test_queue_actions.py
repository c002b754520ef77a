"""The queue's actions through the pages: flags on proposals, locking and unlocking a
thread, restoring what moderators hid, deciding appeals; who may do them."""

from __future__ import annotations

from html import unescape

from sqlalchemy import select

from app.communities.models import LogAction, ModerationLogEntry, Role
from app.db import utcnow
from app.discussion import service as discussion_service
from app.moderation import appeals, service
from app.moderation.models import Flag, FlagResolution
from app.works import service as works_service
from tests.conftest import log_in, post_form
from tests.factories import add_member, make_user


def flash_text(client) -> str:
    return unescape(client.get("/").text)


def logged(db) -> list[LogAction]:
    return list(db.scalars(select(ModerationLogEntry.action).order_by(ModerationLogEntry.id)))


def test_a_member_flags_a_proposal_from_its_page(client, db, cast):
    log_in(client, "fan_luka")
    page = client.get(f"/c/miku/proposals/{cast.proposal.id}").text
    assert f'action="/c/miku/proposals/{cast.proposal.id}/flag"' in page
    response = post_form(client, f"/c/miku/proposals/{cast.proposal.id}/flag", {"reason": "Spam"})
    assert response.status_code == 303
    assert response.headers["location"] == f"/c/miku/proposals/{cast.proposal.id}"
    assert "Thanks — moderators will review it." in flash_text(client)
    [flag] = db.scalars(select(Flag))
    assert (flag.proposal_id, flag.reason) == (cast.proposal.id, "Spam")
    # Not the author's own.
    log_in(client, "member_len")
    assert 'id="f-flag-proposal"' not in client.get(f"/c/miku/proposals/{cast.proposal.id}").text


def test_a_flagged_proposal_is_locked_from_the_queue(client, db, cast):
    for fan in cast.fans[:2]:
        service.flag_proposal(db, actor=fan, proposal=cast.proposal, reason="Heated", now=utcnow())
    log_in(client, "mod_rin")
    queue = client.get("/c/miku/moderation").text
    assert f'id="proposal-{cast.proposal.id}"' in queue
    assert "Lock the thread" in queue
    url = f"/c/miku/moderation/proposals/{cast.proposal.id}"
    empty = post_form(client, url, {"action": "lock", "reason": ""})
    assert empty.status_code == 422
    assert "Give a reason." in empty.text
    done = post_form(client, url, {"action": "lock", "reason": "Flame war"})
    assert done.status_code == 303
    assert "The proposal is locked" in flash_text(client)
    db.refresh(cast.proposal)
    assert cast.proposal.locked_at is not None
    assert {f.resolution for f in db.scalars(select(Flag))} == {FlagResolution.locked}
    assert logged(db) == [LogAction.proposal_locked]


def test_lock_and_unlock_a_thread_beside_a_flagged_comment(client, db, cast):
    service.flag_comment(db, actor=cast.fans[0], comment=cast.comment, reason="x", now=utcnow())
    log_in(client, "mod_rin")
    assert "Lock this thread" in client.get("/c/miku/moderation").text
    url = f"/c/miku/moderation/proposals/{cast.proposal.id}/lock"
    key = f"comment-{cast.comment.id}"
    missing = post_form(client, url, {"lock": "1", "reason": "", "key": key})
    assert missing.status_code == 422
    assert f'id="f-lock-{key}"' in missing.text
    assert (
        post_form(client, url, {"lock": "1", "reason": "Cool off", "key": key}).status_code == 303
    )
    assert "is locked" in flash_text(client)
    assert "Unlock the thread" in client.get("/c/miku/moderation").text
    assert post_form(client, url, {"lock": "0", "key": key}).status_code == 303
    db.refresh(cast.proposal)
    assert cast.proposal.locked_at is None
    assert logged(db) == [LogAction.proposal_locked, LogAction.proposal_unlocked]


def test_restore_a_hidden_comment_and_work_from_the_queue(client, db, cast):
    discussion_service.hide_comment(
        db, actor=cast.moderator, comment=cast.comment, reason="Rude", now=utcnow()
    )
    works_service.hide_work(db, actor=cast.moderator, work=cast.work, reason="Spam", now=utcnow())
    log_in(client, "mod_rin")
    queue = client.get("/c/miku/moderation").text
    assert "Recently hidden by moderators" in queue
    assert f'id="hidden-comment-{cast.comment.id}"' in queue
    too_long = post_form(
        client, f"/c/miku/moderation/comments/{cast.comment.id}/restore", {"reason": "x" * 501}
    )
    assert too_long.status_code == 422
    assert (
        post_form(
            client, f"/c/miku/moderation/comments/{cast.comment.id}/restore", {"reason": "Misread"}
        ).status_code
        == 303
    )
    assert "The comment is shown again." in flash_text(client)
    assert post_form(client, f"/c/miku/moderation/works/{cast.work.id}/restore").status_code == 303
    again = post_form(client, f"/c/miku/moderation/works/{cast.work.id}/restore")
    assert again.status_code == 303
    assert "shown already" in flash_text(client)
    db.refresh(cast.comment)
    db.refresh(cast.work)
    assert cast.comment.is_visible
    assert cast.work.hidden_at is None
    entries = list(db.scalars(select(ModerationLogEntry).order_by(ModerationLogEntry.id)))
    assert [(e.action, e.reason) for e in entries][-2:] == [
        (LogAction.comment_restored, "Misread"),
        (LogAction.work_restored, ""),
    ]


def test_deciding_an_appeal_from_the_queue(client, db, cast):
    discussion_service.hide_comment(
        db, actor=cast.moderator, comment=cast.comment, reason="Rude", now=utcnow()
    )
    appeal = appeals.appeal(
        db,
        actor=cast.author,
        community=cast.community,
        comment=cast.comment,
        message="It was irony, see the reply below.",
        now=utcnow(),
    )
    log_in(client, "mod_rin")
    assert "1 appeal<" in client.get("/c/miku").text
    queue = client.get("/c/miku/moderation").text
    assert "Appeals waiting for a decision" in queue
    assert "It was irony, see the reply below." in unescape(queue)
    url = f"/c/miku/moderation/appeals/{appeal.id}"
    no_reason = post_form(client, url, {"decision": "grant", "reason": ""})
    assert no_reason.status_code == 422
    bad = post_form(client, url, {"decision": "perhaps", "reason": "x"})
    assert bad.status_code == 422
    assert "Choose grant or deny." in bad.text
    assert post_form(client, url, {"decision": "grant", "reason": "Irony"}).status_code == 303
    assert "Appeal granted" in flash_text(client)
    db.refresh(cast.comment)
    assert cast.comment.is_visible
    twice = post_form(client, url, {"decision": "deny", "reason": "No"})
    assert twice.status_code == 303
    assert "decided already" in flash_text(client)


def test_only_this_communitys_moderators_use_the_queue(client, db, cast):
    elsewhere = make_user(db, "mod_kaito")
    add_member(db, cast.other, elsewhere, Role.moderator)
    service.flag_proposal(db, actor=cast.fans[0], proposal=cast.proposal, reason="x", now=utcnow())
    for username in ("fan_kaito", "mod_kaito"):
        log_in(client, username)
        assert client.get("/c/miku/moderation").status_code == 403
        for path, data in (
            (f"/c/miku/moderation/proposals/{cast.proposal.id}", {"action": "dismiss"}),
            (f"/c/miku/moderation/proposals/{cast.proposal.id}/lock", {"lock": "1", "reason": "x"}),
            (f"/c/miku/moderation/comments/{cast.comment.id}/restore", {}),
            (f"/c/miku/moderation/works/{cast.work.id}/restore", {}),
            ("/c/miku/moderation/appeals/1", {"decision": "deny", "reason": "x"}),
        ):
            assert post_form(client, path, data).status_code == 403, (username, path)
    assert db.scalar(select(Flag.resolved_at)) is None


def test_looking_up_a_member_from_the_queue(client, db, cast):
    log_in(client, "mod_rin")
    found = client.get("/c/miku/moderation/members", params={"username": "@Member_Len"})
    assert found.status_code == 303
    assert found.headers["location"] == "/c/miku/moderation/members/member_len"
    missing = client.get("/c/miku/moderation/members", params={"username": "nobody\x00"})
    assert missing.status_code == 303
    assert "There is no member by that name." in flash_text(client)
