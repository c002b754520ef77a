"""The discussion's HTML: the thread on the proposal page, posting (with and without htmx),
editing and its history, deletion, moderator hiding and the anchor views."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urljoin

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import paging, ratelimit
from app.discussion import anchors, service
from app.discussion.models import AnchorKind, Comment, CommentAnchor, CommentVersion
from app.proposals import service as proposals_service
from app.proposals.models import Proposal
from tests.conftest import log_in, post_form
from tests.functional.discussion.conftest import Cast
from tests.unit.discussion.conftest import NOW, make_work, post

HTMX = {"HX-Request": "true"}


def page_url(proposal: Proposal, suffix: str = "") -> str:
    return f"/c/miku/proposals/{proposal.id}{suffix}"


def comment_path(proposal: Proposal, comment: Comment | int, suffix: str = "") -> str:
    comment_id = comment if isinstance(comment, int) else comment.id
    return page_url(proposal, f"/comments/{comment_id}{suffix}")


def shown_ids(html: str) -> list[int]:
    """Ids of the comments rendered in `html`, in page order."""
    return [int(n) for n in re.findall(r'<article class="comment[^"]*" id="comment-(\d+)"', html)]


def hrefs(html: str, text: str) -> list[str]:
    """The (unescaped) targets of the links whose text starts with `text`."""
    links = re.findall(rf'<a\s((?:[^>"]|"[^"]*")*)>\s*{re.escape(text)}', html)
    return [unescape(re.findall(r'\bhref="([^"]*)"', attributes)[0]) for attributes in links]


def comment_count(db: Session, proposal: Proposal | None = None) -> int:
    query = select(func.count()).select_from(Comment)
    if proposal is not None:
        query = query.where(Comment.proposal_id == proposal.id)
    return db.scalar(query) or 0


def newest(db: Session) -> Comment:
    comment = db.scalars(select(Comment).order_by(Comment.id.desc()).limit(1)).one()
    db.refresh(comment)
    return comment


def textarea(html: str, field_id: str) -> str:
    match = re.search(rf'<textarea id="{field_id}"[^>]*>(.*?)</textarea>', html, re.S)
    assert match, f"no textarea {field_id}"
    return unescape(match.group(1))


def field_error(html: str, field_id: str) -> str:
    match = re.search(rf'<p class="field-error" id="{field_id}-error">(.*?)</p>', html, re.S)
    assert match, f"no error for {field_id}"
    return unescape(match.group(1))


# The thread on the proposal page


def test_counts_nesting_and_placeholders(client, db, cast: Cast):
    first = post(db, cast.proposal, cast.fan, "I am *for* it.", alignment="supports")
    post(db, cast.proposal, cast.other_fan, "Against.", alignment="opposes")
    post(db, cast.proposal, cast.author, "What about covers?", alignment="question")
    reply = post(db, cast.proposal, cast.other_fan, "Why though?", parent=first)
    deleted = post(db, cast.proposal, cast.fan, "Regretted words", alignment="supports")
    removed = post(db, cast.proposal, cast.other_fan, "Rude words", alignment="opposes")
    pending = post(db, cast.proposal, cast.author, "Flagged words")
    service.delete_comment(db, actor=cast.fan, comment=deleted, now=NOW)
    service.hide_comment(
        db, actor=cast.moderator, comment=removed, reason="Personal attack.", now=NOW
    )
    service.hide_pending_review(db, pending, NOW)

    html = client.get(page_url(cast.proposal)).text

    counts = re.search(r'<p class="thread-counts[^>]*>(.*?)</p>', html, re.S)
    assert counts
    text = " ".join(re.sub(r"<[^>]+>", " ", counts.group(1)).split())
    assert text == "4 comments Supports 1 Opposes 1 Neutral 0 Question 1"
    assert shown_ids(html) == [first.id, reply.id, *shown_ids(html)[2:]]
    assert f'id="comment-{reply.id}" data-parent="{first.id}"' in html
    assert html.index(f'id="replies-{first.id}"') < html.index(f'id="comment-{reply.id}"')
    assert "<em>for</em>" in html
    assert "[deleted]" in html
    assert "[removed by a moderator: Personal attack.]" in html
    assert "[hidden pending review after flags from members]" in html
    for gone in ("Regretted words", "Rude words", "Flagged words"):
        assert gone not in html


def test_moderators_see_hidden_text(client, db, cast: Cast):
    removed = post(db, cast.proposal, cast.fan, "Rude words")
    service.hide_comment(db, actor=cast.moderator, comment=removed, reason="Rude.", now=NOW)
    log_in(client, "mod_rin")
    html = client.get(page_url(cast.proposal)).text
    assert "[removed by a moderator: Rude.]" in html
    assert "Hidden text (moderators only)" in html
    assert "Rude words" in html


def test_anchor_chip_links_to_the_anchor_view_and_the_media_fragment(client, db, cast: Cast):
    comment = post(
        db,
        cast.proposal,
        cast.fan,
        "Look here.",
        anchor=anchors.AnchorInput(work=cast.video.id, kind="time", start=42, end=50),
    )
    html = client.get(page_url(cast.proposal)).text
    assert hrefs(html, "▶ 0:42–0:50") == [comment_path(cast.proposal, comment, "/anchor")]
    assert hrefs(html, "open at 0:42") == ["https://example.org/rins-dance#t=42,50"]


def test_load_more_comments_pages_without_duplicates(client, db, cast: Cast):
    posted = [post(db, cast.proposal, cast.fan, f"Comment {n}").id for n in range(25)]

    first = client.get(page_url(cast.proposal))
    assert first.status_code == 200
    assert shown_ids(first.text) == posted[:20]
    (more,) = hrefs(first.text, "Load more comments")
    assert more.startswith(page_url(cast.proposal, "?cursor="))
    assert more.endswith("#discussion")
    more = more.removesuffix("#discussion")

    second = client.get(more)
    assert second.status_code == 200
    assert shown_ids(second.text) == posted[20:]
    assert "Load more comments" not in second.text
    assert "Back to the first comments" in second.text

    # htmx asks for the thread block alone.
    partial = client.get(more, headers=HTMX)
    assert partial.status_code == 200
    assert "<html" not in partial.text
    assert shown_ids(partial.text) == posted[20:]


def test_load_more_replies_with_and_without_htmx(client, db, cast: Cast):
    root = post(db, cast.proposal, cast.fan, "Root")
    replies = [post(db, cast.proposal, cast.other_fan, f"Reply {n}", parent=root) for n in range(6)]
    ids = [r.id for r in replies]

    html = client.get(page_url(cast.proposal)).text
    assert shown_ids(html) == [root.id, *ids[:4]]
    (more,) = hrefs(html, "Load 2 more replies")
    assert more == comment_path(cast.proposal, root, f"?after={ids[3]}&shown=4&level=0")

    full = client.get(more)
    assert full.status_code == 200
    assert "<html" in full.text
    assert shown_ids(full.text) == [root.id, *ids[4:]]

    partial = client.get(more, headers=HTMX)
    assert partial.status_code == 200
    assert "<html" not in partial.text
    assert shown_ids(partial.text) == ids[4:]
    assert "Load" not in re.sub(r"<form.*?</form>", "", partial.text, flags=re.S)


def test_continue_this_thread_beyond_four_levels(client, db, cast: Cast):
    chain = [post(db, cast.proposal, cast.fan, "Level 0")]
    for level in range(1, 6):
        chain.append(post(db, cast.proposal, cast.other_fan, f"Level {level}", parent=chain[-1]))

    html = client.get(page_url(cast.proposal)).text
    assert shown_ids(html) == [c.id for c in chain[:5]]
    assert "Level 5" not in html
    (link,) = hrefs(html, "Continue this thread")
    assert link == comment_path(cast.proposal, chain[4])

    page = client.get(link)
    assert page.status_code == 200
    assert shown_ids(page.text) == [chain[4].id, chain[5].id]
    assert "Level 5" in page.text


def test_filter_by_work(client, db, cast: Cast):
    on_video = post(
        db,
        cast.proposal,
        cast.fan,
        "About the video",
        anchor=anchors.AnchorInput(work=cast.video.id, kind="time", start=1, end=2),
    )
    post(
        db,
        cast.proposal,
        cast.fan,
        "About the image",
        anchor=anchors.AnchorInput(work=cast.image.id, kind="region", x=1, y=1, w=5, h=5),
    )
    post(db, cast.proposal, cast.fan, "About nothing in particular")

    everything = client.get(page_url(cast.proposal)).text
    assert len(shown_ids(everything)) == 3

    html = client.get(page_url(cast.proposal, f"?work={cast.video.id}")).text
    assert shown_ids(html) == [on_video.id]
    assert "About the image" not in html
    assert "Comments pointing into" in html


def test_a_bad_cursor_gives_a_notice(client, db, cast: Cast):
    post(db, cast.proposal, cast.fan, "Hello")
    for cursor in ("not-a-cursor!", paging.encode(2**40), paging.encode("x")):
        response = client.get(page_url(cast.proposal), params={"cursor": cursor})
        assert response.status_code == 200, cursor
        assert '<p class="notice">' in response.text
        assert "Start from the first comment." in response.text
        assert shown_ids(response.text) == []


# Posting


def test_a_member_posts_a_comment(client, db, cast: Cast):
    log_in(client, "fan_luka")
    response = post_form(
        client,
        page_url(cast.proposal, "/comments"),
        {"body": "Hello *world*", "alignment": "supports"},
    )
    assert response.status_code == 303, response.text
    comment = newest(db)
    assert (comment.author_id, comment.parent_id, comment.alignment) == (
        cast.fan.id,
        None,
        "supports",
    )
    assert response.headers["location"] == page_url(cast.proposal, f"#comment-{comment.id}")
    html = client.get(response.headers["location"]).text
    assert comment.id in shown_ids(html)
    assert "<em>world</em>" in html
    assert "Comment posted." in html


def test_posting_with_htmx_answers_the_comment_alone(client, db, cast: Cast):
    log_in(client, "fan_luka")
    response = post_form(
        client, page_url(cast.proposal, "/comments"), {"body": "In place"}, headers=HTMX
    )
    assert response.status_code == 201, response.text
    comment = newest(db)
    assert response.text.lstrip().startswith(f'<article class="comment" id="comment-{comment.id}"')
    assert "<html" not in response.text
    assert shown_ids(response.text) == [comment.id]


def test_a_reply(client, db, cast: Cast):
    root = post(db, cast.proposal, cast.other_fan, "Root")
    log_in(client, "fan_luka")
    response = post_form(
        client, page_url(cast.proposal, "/comments"), {"body": "A reply", "parent": str(root.id)}
    )
    assert response.status_code == 303, response.text
    reply = newest(db)
    assert (reply.parent_id, reply.depth, reply.alignment) == (root.id, 1, None)
    db.refresh(root)
    assert root.reply_count == 1

    htmx = post_form(
        client,
        page_url(cast.proposal, "/comments?level=1"),
        {"body": "Another", "parent": str(root.id)},
        headers=HTMX,
    )
    assert htmx.status_code == 201
    assert f'data-parent="{root.id}"' in htmx.text


def test_reply_boxes_fetch_their_form_when_opened(client, db, cast: Cast):
    root = post(db, cast.proposal, cast.other_fan, "Root")
    log_in(client, "fan_luka")
    page = client.get(page_url(cast.proposal)).text
    # The thread carries no reply form, only the box that asks for one, and a link to the
    # comment page's form for browsers without htmx.
    assert f'id="comment-form-{root.id}"' not in page
    box = re.search(r'<details class="action-box reply-box"([^>]*)>(.*?)</details>', page, re.S)
    assert box, "no reply box"
    reply_url = comment_path(cast.proposal, root, "/reply?level=1")
    assert f'hx-get="{reply_url}"' in box.group(1)
    assert 'hx-trigger="toggle once"' in box.group(1)
    (fallback,) = hrefs(box.group(2), "Write your reply")
    assert fallback == comment_path(cast.proposal, root, f"#comment-form-{root.id}-page")

    form = client.get(reply_url, headers=HTMX)
    assert form.status_code == 200
    assert "<html" not in form.text
    assert f'id="comment-form-{root.id}"' in form.text
    assert f'<input type="hidden" name="parent" value="{root.id}">' in form.text
    assert f'hx-target="#replies-{root.id}"' in form.text
    comments_url = page_url(cast.proposal, "/comments")
    assert f'hx-post="{comments_url}?level=1"' in form.text
    assert 'name="idempotency_key"' in form.text
    assert form.headers["cache-control"].startswith("private")

    # Without htmx the address leads to the form at the foot of the comment's page.
    plain = client.get(reply_url)
    assert plain.status_code == 303
    assert plain.headers["location"] == fallback
    assert f'id="comment-form-{root.id}-page"' in client.get(fallback).text


def test_reply_forms_only_for_those_who_may_reply(client, db, cast: Cast):
    root = post(db, cast.proposal, cast.other_fan, "Root")
    gone = post(db, cast.proposal, cast.other_fan, "Regretted")
    service.delete_comment(db, actor=cast.other_fan, comment=gone, now=NOW)
    url = comment_path(cast.proposal, root, "/reply")

    # A session that ended while the page was open: the page goes to sign in, then back.
    signed_out = client.get(url, headers={**HTMX, "HX-Current-URL": "http://testserver/c/x"})
    assert signed_out.status_code == 401
    assert signed_out.headers["HX-Redirect"] == "/login?next=/c/x"
    log_in(client, "outsider")
    assert client.get(url, headers=HTMX).status_code == 403
    log_in(client, "fan_luka")
    deleted = client.get(comment_path(cast.proposal, gone, "/reply"), headers=HTMX)
    assert deleted.status_code == 409
    assert "no longer shown" in deleted.text
    proposals_service.set_locked(
        db, actor=cast.moderator, proposal=cast.proposal, locked=True, reason="Heated.", now=NOW
    )
    locked = client.get(url, headers=HTMX)
    assert locked.status_code == 409
    assert "A moderator locked this proposal" in locked.text
    # Another proposal's comment is not found under this one.
    other = client.get(page_url(cast.draft, f"/comments/{root.id}/reply"), headers=HTMX)
    assert other.status_code == 404


def anchored(client: TestClient, cast: Cast, **fields: str):
    return post_form(client, page_url(cast.proposal, "/comments"), {"body": "Anchored", **fields})


def test_anchored_comments(client, db, cast: Cast):
    log_in(client, "fan_luka")
    time = anchored(
        client,
        cast,
        anchor_work=str(cast.video.id),
        anchor_kind="time",
        anchor_start="0:42",
        anchor_end="1:05.5",
    )
    assert time.status_code == 303, time.text
    anchor = db.get(CommentAnchor, newest(db).id)
    assert anchor is not None
    assert (anchor.kind, anchor.start, anchor.end) == (AnchorKind.time, 42, 65.5)

    quote = anchored(
        client, cast, anchor_work=str(cast.text.id), anchor_kind="quote", anchor_exact="the chorus"
    )
    assert quote.status_code == 303, quote.text
    anchor = db.get(CommentAnchor, newest(db).id)
    assert anchor is not None
    assert (anchor.kind, anchor.exact, anchor.work_id) == (
        AnchorKind.quote,
        "the chorus",
        cast.text.id,
    )
    assert anchor.prefix
    assert anchor.prefix.endswith("She sings ")

    region = anchored(
        client,
        cast,
        anchor_work=str(cast.image.id),
        anchor_kind="region",
        anchor_x="10",
        anchor_y="20%",
        anchor_w="30",
        anchor_h="25.5",
    )
    assert region.status_code == 303, region.text
    anchor = db.get(CommentAnchor, newest(db).id)
    assert anchor is not None
    assert (anchor.kind, anchor.x, anchor.y, anchor.w, anchor.h) == (
        AnchorKind.region,
        10,
        20,
        30,
        25.5,
    )


def test_anchor_errors_rerender_the_page_keeping_the_text(client, db, cast: Cast):
    elsewhere = make_work(db, cast.community, cast.author, title="Elsewhere", medium="image")
    log_in(client, "fan_luka")
    cases = [
        (
            {"anchor_work": str(cast.video.id), "anchor_kind": "time"}
            | {"anchor_start": "3:00", "anchor_end": "4:00"},
            "anchor_end-new",
            "End within the work: it is 3:35.5 long.",
        ),
        (
            {"anchor_work": str(cast.text.id), "anchor_kind": "quote", "anchor_exact": "bridge"},
            "anchor-exact-new",
            "This passage does not occur in the work's excerpt.",
        ),
        (
            {"anchor_work": str(cast.image.id), "anchor_kind": "region"}
            | {"anchor_x": "80", "anchor_y": "0", "anchor_w": "30", "anchor_h": "10"},
            "anchor_w-new",
            "The region runs past the right edge (x + width is over 100).",
        ),
        (
            {"anchor_work": str(cast.image.id), "anchor_kind": "region"}
            | {"anchor_x": "101", "anchor_y": "0", "anchor_w": "1", "anchor_h": "1"},
            "anchor_x-new",
            "Use a percentage from 0 to 100.",
        ),
        (
            {"anchor_work": str(elsewhere.id), "anchor_kind": "region"},
            "anchor-work-new",
            "Choose one of the works exhibited on this proposal.",
        ),
        (
            {"anchor_work": str(cast.video.id), "anchor_kind": "time"}
            | {"anchor_start": "1:7x", "anchor_end": "2:00"},
            "anchor_start-new",
            "Write a time like 1:23 or 83.5 (seconds).",
        ),
    ]
    for fields, field_id, message in cases:
        response = post_form(
            client,
            page_url(cast.proposal, "/comments"),
            {"body": "My <careful> thoughts", "alignment": "opposes", **fields},
        )
        assert response.status_code == 422, (fields, response.status_code)
        assert "<html" in response.text
        assert field_error(response.text, field_id) == message
        assert textarea(response.text, "body-new") == "My <careful> thoughts"
        assert 'value="opposes" checked' in response.text
        assert '<details class="anchor-fields" open>' in response.text
    assert comment_count(db) == 0


def test_field_errors_with_htmx_answer_the_form(client, db, cast: Cast):
    root = post(db, cast.proposal, cast.other_fan, "Root")
    log_in(client, "fan_luka")
    response = post_form(
        client,
        page_url(cast.proposal, "/comments"),
        {"body": "Kept", "anchor_work": str(cast.video.id), "anchor_kind": "time"},
        headers=HTMX,
    )
    assert response.status_code == 422
    assert response.headers["HX-Retarget"] == "#comment-form-new"
    assert response.headers["HX-Reswap"] == "outerHTML"
    assert response.text.lstrip().startswith('<form method="post"')
    assert "<html" not in response.text
    assert textarea(response.text, "body-new") == "Kept"
    assert field_error(response.text, "anchor_start-new") == "Give the start time, like 1:23."

    reply = post_form(
        client,
        page_url(cast.proposal, "/comments?level=1"),
        {"body": "  ", "parent": str(root.id)},
        headers=HTMX,
    )
    assert reply.status_code == 422
    assert reply.headers["HX-Retarget"] == f"#comment-form-{root.id}"
    assert field_error(reply.text, f"body-{root.id}") == "Write something first."
    assert comment_count(db) == 1


def test_a_reply_error_without_htmx_shows_the_comment_page(client, db, cast: Cast):
    root = post(db, cast.proposal, cast.other_fan, "Root")
    log_in(client, "fan_luka")
    response = post_form(
        client,
        page_url(cast.proposal, "/comments"),
        {"body": "x" * 10_001, "parent": str(root.id)},
    )
    assert response.status_code == 422
    assert "Reply to this comment" in response.text
    assert field_error(response.text, f"body-{root.id}-page").startswith("Use at most 10,000")
    assert comment_count(db) == 1


def test_signed_out_visitors_are_sent_to_sign_in(client, db, cast: Cast):
    # As elsewhere on the site, a signed-out POST is a 401 page; a GET is sent to sign in.
    response = post_form(client, page_url(cast.proposal, "/comments"), {"body": "Hi"})
    assert response.status_code == 401
    assert "Please sign in" in response.text
    assert comment_count(db) == 0
    comment = post(db, cast.proposal, cast.fan, "Mine")
    edit = client.get(comment_path(cast.proposal, comment, "/edit"))
    assert edit.status_code == 303
    edit_path = comment_path(cast.proposal, comment, "/edit")
    assert edit.headers["location"] == f"/login?next={edit_path}"
    html = client.get(page_url(cast.proposal)).text
    assert "Sign in</a> and join" in html
    assert 'id="comment-form-new"' not in html


def test_non_members_are_refused(client, db, cast: Cast):
    log_in(client, "outsider")
    html = client.get(page_url(cast.proposal)).text
    assert 'id="comment-form-new"' not in html
    assert "to take part in its discussions" in html
    response = post_form(client, page_url(cast.proposal, "/comments"), {"body": "Hi"})
    assert response.status_code == 403
    assert "Join this community to take part" in response.text
    assert comment_count(db) == 0


def test_closed_threads_refuse_comments(client, db, cast: Cast):
    log_in(client, "author_kaito")
    draft = post_form(client, page_url(cast.draft, "/comments"), {"body": "Early"})
    assert draft.status_code == 409
    assert "Discussion opens when the draft is published." in draft.text

    proposals_service.set_locked(
        db, actor=cast.moderator, proposal=cast.proposal, locked=True, reason="Heated.", now=NOW
    )
    locked = post_form(client, page_url(cast.proposal, "/comments"), {"body": "Locked?"})
    assert locked.status_code == 409
    assert "A moderator locked this proposal" in locked.text
    htmx = post_form(client, page_url(cast.proposal, "/comments"), {"body": "X"}, headers=HTMX)
    assert htmx.status_code == 422
    assert "A moderator locked this proposal" in htmx.text
    assert comment_count(db) == 0

    proposals_service.set_locked(
        db, actor=cast.moderator, proposal=cast.proposal, locked=False, reason="", now=NOW
    )
    proposals_service.withdraw(db, actor=cast.author, proposal=cast.proposal, reason="", now=NOW)
    withdrawn = post_form(client, page_url(cast.proposal, "/comments"), {"body": "Gone?"})
    assert withdrawn.status_code == 409
    assert "This proposal is withdrawn; its discussion is closed." in withdrawn.text
    assert comment_count(db) == 0
    # The page itself says so, with no form.
    page = client.get(page_url(cast.proposal)).text
    assert "its discussion is closed" in page
    assert 'id="comment-form-new"' not in page


def test_the_rate_limit(client, db, cast: Cast):
    log_in(client, "fan_luka")
    for n in range(service.POST_LIMIT):
        response = post_form(client, page_url(cast.proposal, "/comments"), {"body": f"No. {n}"})
        assert response.status_code == 303, response.text
    refused = post_form(client, page_url(cast.proposal, "/comments"), {"body": "One more"})
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert "Too many comments in a short time." in refused.text
    assert textarea(refused.text, "body-new") == "One more"
    htmx = post_form(
        client, page_url(cast.proposal, "/comments"), {"body": "One more"}, headers=HTMX
    )
    # A 429, which the page's htmx configuration swaps in like a 422.
    assert htmx.status_code == 429
    assert int(htmx.headers["Retry-After"]) >= 1
    assert "Too many comments in a short time." in htmx.text
    assert comment_count(db) == service.POST_LIMIT
    ratelimit.clear(db, bucket="comment", key=str(cast.fan.id))


def test_a_post_without_the_csrf_token_is_refused(client, db, cast: Cast):
    log_in(client, "fan_luka")
    response = client.post(page_url(cast.proposal, "/comments"), data={"body": "Sneaky"})
    assert response.status_code == 403
    response = client.post(
        page_url(cast.proposal, "/comments"),
        data={"body": "Sneaky", "csrf_token": "0" * 64},
        headers=HTMX,
    )
    assert response.status_code == 403
    assert comment_count(db) == 0


# Editing, history, deletion


def test_only_the_author_edits(client, db, cast: Cast):
    comment = post(db, cast.proposal, cast.fan, "First text", alignment="supports")
    log_in(client, "fan_meiko")
    assert client.get(comment_path(cast.proposal, comment, "/edit")).status_code == 403
    response = post_form(client, comment_path(cast.proposal, comment, "/edit"), {"body": "Mine"})
    assert response.status_code == 403
    db.refresh(comment)
    assert comment.body == "First text"


def test_editing_keeps_the_earlier_text_in_the_history(client, db, cast: Cast):
    comment = post(db, cast.proposal, cast.fan, "First text", alignment="supports")
    log_in(client, "fan_luka")
    form = client.get(comment_path(cast.proposal, comment, "/edit"))
    assert form.status_code == 200
    assert "First text" in form.text
    assert 'value="supports" checked' in form.text

    empty = post_form(client, comment_path(cast.proposal, comment, "/edit"), {"body": " "})
    assert empty.status_code == 422
    assert "Write something first." in empty.text

    response = post_form(
        client,
        comment_path(cast.proposal, comment, "/edit"),
        {"body": "Second **text**", "alignment": "opposes"},
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == page_url(cast.proposal, f"#comment-{comment.id}")
    db.refresh(comment)
    assert (comment.body, comment.edit_count) == ("Second **text**", 1)
    assert comment.alignment == "opposes"
    (version,) = db.scalars(select(CommentVersion).where(CommentVersion.comment_id == comment.id))
    assert (version.number, version.body) == (1, "First text")

    html = client.get(page_url(cast.proposal)).text
    assert hrefs(html, "edited") == [comment_path(cast.proposal, comment, "/history")]
    assert "<strong>text</strong>" in html
    assert "Opposes 1" in html

    client.cookies.clear()
    history = client.get(comment_path(cast.proposal, comment, "/history"))
    assert history.status_code == 200
    assert "Version 1" in history.text
    assert "First text" in history.text
    assert "<strong>text</strong>" in history.text


def test_history_of_deleted_or_removed_comments_is_for_moderators(client, db, cast: Cast):
    deleted = post(db, cast.proposal, cast.fan, "Old deleted")
    removed = post(db, cast.proposal, cast.fan, "Old removed")
    for comment in (deleted, removed):
        service.edit_comment(db, actor=cast.fan, comment=comment, body="Newer", now=NOW)
    service.delete_comment(db, actor=cast.fan, comment=deleted, now=NOW)
    service.hide_comment(db, actor=cast.moderator, comment=removed, reason="No.", now=NOW)

    log_in(client, "fan_meiko")
    for comment in (deleted, removed):
        history = client.get(comment_path(cast.proposal, comment, "/history"))
        assert history.status_code == 200
        assert "no longer shown" in history.text
        assert "Old " not in history.text
        assert "Newer" not in history.text

    client.cookies.clear()
    log_in(client, "mod_rin")
    history = client.get(comment_path(cast.proposal, removed, "/history"))
    assert "Old removed" in history.text


def test_only_the_author_deletes(client, db, cast: Cast):
    comment = post(db, cast.proposal, cast.fan, "Mine", alignment="supports")
    reply = post(db, cast.proposal, cast.other_fan, "Reply stays", parent=comment)
    log_in(client, "fan_meiko")
    assert post_form(client, comment_path(cast.proposal, comment, "/delete")).status_code == 403
    db.refresh(comment)
    assert comment.deleted_at is None

    client.cookies.clear()
    log_in(client, "fan_luka")
    response = post_form(client, comment_path(cast.proposal, comment, "/delete"))
    assert response.status_code == 303
    db.refresh(comment)
    assert comment.deleted_at is not None
    html = client.get(page_url(cast.proposal)).text
    assert "Comment deleted." in html
    assert "[deleted]" in html
    assert "Reply stays" in html
    assert reply.id in shown_ids(html)
    assert "Supports 0" in html
    # A deleted comment is no longer editable.
    assert client.get(comment_path(cast.proposal, comment, "/edit")).status_code == 409


def test_moderators_hide_with_a_reason_and_restore(client, db, cast: Cast):
    comment = post(db, cast.proposal, cast.fan, "Borderline words")
    log_in(client, "fan_meiko")
    hide_url = comment_path(cast.proposal, comment, "/hide")
    assert post_form(client, hide_url, {"reason": "Mean"}).status_code == 403
    db.refresh(comment)
    assert comment.hidden_at is None

    client.cookies.clear()
    log_in(client, "mod_rin")
    no_reason = post_form(client, hide_url, {"reason": "  "})
    assert no_reason.status_code == 303
    db.refresh(comment)
    assert comment.hidden_at is None
    html = client.get(no_reason.headers["location"]).text
    assert "Give a reason." in html
    assert "Say why, for the public record." in html

    hidden = post_form(client, hide_url, {"reason": "Off topic."})
    assert hidden.status_code == 303
    db.refresh(comment)
    assert (comment.hidden_reason, comment.hidden_by_id) == ("Off topic.", cast.moderator.id)
    client.cookies.clear()
    assert "[removed by a moderator: Off topic.]" in client.get(page_url(cast.proposal)).text

    restore_url = comment_path(cast.proposal, comment, "/restore")
    log_in(client, "fan_meiko")
    assert post_form(client, restore_url).status_code == 403
    client.cookies.clear()
    log_in(client, "mod_rin")
    assert post_form(client, restore_url).status_code == 303
    db.refresh(comment)
    assert comment.hidden_at is None
    client.cookies.clear()
    html = client.get(page_url(cast.proposal)).text
    assert "Borderline words" in html
    assert "[removed" not in html


# Anchor views


def test_anchor_view_of_a_quote(client, db, cast: Cast):
    comment = post(
        db,
        cast.proposal,
        cast.fan,
        "This line",
        anchor=anchors.AnchorInput(
            work=cast.text.id, kind="quote", exact="the chorus", suffix=" again"
        ),
    )
    response = client.get(comment_path(cast.proposal, comment, "/anchor"))
    assert response.status_code == 200
    # The second occurrence, the one followed by " again", is the one marked.
    assert (
        '<blockquote class="work-excerpt">The song goes on. She sings the chorus. '
        "Then she sings <mark>the chorus</mark> again, louder.</blockquote>"
    ) in response.text.replace("&#39;", "'")


def test_anchor_view_of_a_region(client, db, cast: Cast):
    comment = post(
        db,
        cast.proposal,
        cast.fan,
        "This corner",
        anchor=anchors.AnchorInput(work=cast.image.id, kind="region", x=10, y=20, w=30, h=25),
    )
    html = client.get(comment_path(cast.proposal, comment, "/anchor")).text
    rect = re.search(
        r'<rect class="region" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"', html
    )
    assert rect, html
    assert [float(v) for v in rect.groups()] == [10, 20, 30, 25]
    assert "from 10.0% left and 20.0% top" in html


def test_anchor_view_of_a_time_range_and_its_htmx_panel(client, db, cast: Cast):
    comment = post(
        db,
        cast.proposal,
        cast.fan,
        "This moment",
        anchor=anchors.AnchorInput(work=cast.video.id, kind="time", start=42, end=50),
    )
    url = comment_path(cast.proposal, comment, "/anchor")
    page = client.get(url)
    assert page.status_code == 200
    assert "<h1>▶ 0:42–0:50 in “Rin&#39;s Dance”</h1>" in page.text
    assert "<mark>0:42–0:50</mark> of 3:35.5" in page.text
    assert 'href="https://example.org/rins-dance#t=42,50"' in page.text

    panel = client.get(url, headers=HTMX)
    assert panel.status_code == 200
    assert panel.text.lstrip().startswith('<div class="anchor-panel">')
    assert "<html" not in panel.text
    assert "<h1>" not in panel.text
    assert "<mark>0:42–0:50</mark>" in panel.text


def test_anchor_view_of_an_unanchored_or_hidden_comment_redirects(client, db, cast: Cast):
    plain = post(db, cast.proposal, cast.fan, "Plain")
    response = client.get(comment_path(cast.proposal, plain, "/anchor"))
    assert response.status_code == 303
    assert response.headers["location"] == comment_path(cast.proposal, plain)
    hidden = post(
        db,
        cast.proposal,
        cast.fan,
        "Hidden",
        anchor=anchors.AnchorInput(work=cast.video.id, kind="time", start=1, end=2),
    )
    service.hide_comment(db, actor=cast.moderator, comment=hidden, reason="No.", now=NOW)
    assert client.get(comment_path(cast.proposal, hidden, "/anchor")).status_code == 303


def test_comments_of_a_draft_are_hidden_from_others(client, db, cast: Cast):
    response = client.get(page_url(cast.draft, "/comments/1"))
    assert response.status_code == 404


def test_load_more_replies_until_the_end(client, db, cast: Cast):
    root = post(db, cast.proposal, cast.fan, "Root")
    ids = [post(db, cast.proposal, cast.other_fan, f"R{n}", parent=root).id for n in range(12)]
    for headers in ({}, HTMX):
        html = client.get(page_url(cast.proposal)).text
        seen = shown_ids(html)[1:]
        links = hrefs(html, "Load 8 more replies")
        while links:
            (link,) = links
            answer = client.get(link, headers=headers)
            assert answer.status_code == 200
            batch = shown_ids(answer.text)
            seen += batch if headers else batch[1:]
            remaining = len(ids) - len(seen)
            links = hrefs(answer.text, f"Load {remaining} more repl") if remaining else []
            assert hrefs(answer.text, "Load ") == links, (seen, answer.text)
        assert seen == ids


def test_load_more_comments_works_from_a_page_shown_after_an_error(client, db, cast: Cast):
    posted = [post(db, cast.proposal, cast.other_fan, f"Comment {n}").id for n in range(21)]
    log_in(client, "fan_luka")
    failed = post_form(client, page_url(cast.proposal, "/comments"), {"body": ""})
    assert failed.status_code == 422
    (more,) = hrefs(failed.text, "Load more comments")
    # The browser resolves the link against the address it posted to.
    response = client.get(urljoin(str(failed.url), more))
    assert response.status_code == 200
    assert shown_ids(response.text) == posted[20:]


def test_paging_a_filtered_thread_keeps_the_filter(client, db, cast: Cast):
    anchored_ids = []
    for n in range(22):
        anchor = anchors.AnchorInput(work=cast.video.id, kind="time", start=n, end=n + 1)
        anchored_ids.append(post(db, cast.proposal, cast.fan, f"At {n}", anchor=anchor).id)
        post(db, cast.proposal, cast.fan, f"Plain {n}")
    first = client.get(page_url(cast.proposal, f"?work={cast.video.id}")).text
    assert shown_ids(first) == anchored_ids[:20]
    (more,) = hrefs(first, "Load more comments")
    assert f"work={cast.video.id}" in more
    second = client.get(more.removesuffix("#discussion")).text
    assert shown_ids(second) == anchored_ids[20:]


def test_the_comment_page_names_each_form_once(client, db, cast: Cast):
    root = post(db, cast.proposal, cast.other_fan, "Root")
    log_in(client, "fan_luka")
    html = client.get(page_url(cast.proposal, f"/comments/{root.id}")).text
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert f"comment-form-{root.id}-page" in ids  # the form at the foot of the page
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    # The reply box under the comment fetches a form of another name.
    box = client.get(page_url(cast.proposal, f"/comments/{root.id}/reply"), headers=HTMX).text
    assert set(re.findall(r'\bid="([^"]+)"', box)) & set(ids) == set()


def test_an_htmx_error_replaces_the_form_that_posted(client, db, cast: Cast):
    root = post(db, cast.proposal, cast.other_fan, "Root")
    log_in(client, "fan_luka")
    response = post_form(
        client,
        page_url(cast.proposal, "/comments"),
        {"body": "", "parent": str(root.id)},
        headers={"HX-Request": "true", "HX-Trigger": f"comment-form-{root.id}-page"},
    )
    assert response.status_code == 422
    assert response.headers["HX-Retarget"] == f"#comment-form-{root.id}-page"
    assert f'id="comment-form-{root.id}-page"' in response.text
