"""Writing in a thread: posting and replying, stances, edits with versions, deletion, hiding,
the kept counts, the rate limit and the limits on text."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.discussion import anchors, service
from app.discussion.models import Alignment, CommentAnchor
from app.errors import (
    Conflict,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    RateLimited,
    ValidationFailed,
)
from app.proposals import service as proposals_service
from app.ratelimit import RateLimitHit
from tests.unit.discussion.conftest import NOW, World, later, make_proposal, post


def fields(exc: pytest.ExceptionInfo[ValidationFailed]) -> set[str]:
    return set(exc.value.fields)


def test_post_and_reply(db: Session, world: World) -> None:
    top = post(db, world.proposal, world.fan, "I **agree**.", alignment="supports")
    assert top.depth == 0
    assert top.parent_id is None
    assert top.alignment == Alignment.supports
    assert "<strong>agree</strong>" in top.body_html
    reply = post(db, world.proposal, world.author, "Thanks", parent=top)
    deeper = post(db, world.proposal, world.fan, "Welcome", parent=reply)
    db.refresh(top)
    db.refresh(reply)
    assert (reply.depth, deeper.depth) == (1, 2)
    assert reply.alignment is None
    assert (top.reply_count, reply.reply_count) == (1, 1)
    assert world.proposal.last_activity_at == NOW


def test_top_level_comments_are_neutral_by_default(db: Session, world: World) -> None:
    assert post(db, world.proposal, world.fan).alignment == Alignment.neutral


def test_alignment_rules(db: Session, world: World) -> None:
    top = post(db, world.proposal, world.fan)
    with pytest.raises(ValidationFailed) as bad:
        post(db, world.proposal, world.fan, alignment="loves")
    assert fields(bad) == {"alignment"}
    with pytest.raises(ValidationFailed) as reply:
        post(db, world.proposal, world.fan, parent=top, alignment="supports")
    assert fields(reply) == {"alignment"}


def test_a_parent_must_be_in_the_same_thread(db: Session, world: World) -> None:
    other = make_proposal(db, world.community, world.author)
    elsewhere = post(db, other, world.fan)
    for parent_id in (elsewhere.id, 2**31, 2**63, 0, -5, 10**30):
        with pytest.raises(ValidationFailed) as caught:
            service.post_comment(
                db,
                actor=world.fan,
                proposal=world.proposal,
                draft=service.CommentDraft(body="x", parent=parent_id),
                now=NOW,
            )
        assert fields(caught) == {"parent"}


def test_only_members_comment(db: Session, world: World) -> None:
    with pytest.raises(PermissionDenied):
        post(db, world.proposal, world.outsider)
    with pytest.raises(NotAuthenticated):
        service.post_comment(
            db, actor=None, proposal=world.proposal, draft=service.CommentDraft(body="x"), now=NOW
        )


def test_closed_threads_refuse(db: Session, world: World) -> None:
    draft = make_proposal(db, world.community, world.author, publish=False)
    with pytest.raises(Conflict, match="published"):
        post(db, draft, world.author)
    proposals_service.set_locked(
        db, actor=world.moderator, proposal=world.proposal, locked=True, reason="Heated", now=NOW
    )
    with pytest.raises(Conflict, match="locked"):
        post(db, world.proposal, world.fan)
    withdrawn = make_proposal(db, world.community, world.author)
    proposals_service.withdraw(db, actor=world.author, proposal=withdrawn, reason="", now=NOW)
    with pytest.raises(Conflict, match="withdrawn"):
        post(db, withdrawn, world.fan)


def test_replies_to_deleted_or_hidden_comments_are_refused(db: Session, world: World) -> None:
    gone = post(db, world.proposal, world.fan)
    service.delete_comment(db, actor=world.fan, comment=gone, now=NOW)
    hidden = post(db, world.proposal, world.fan)
    service.hide_comment(db, actor=world.moderator, comment=hidden, reason="Rude", now=NOW)
    for parent in (gone, hidden):
        with pytest.raises(Conflict):
            post(db, world.proposal, world.author, parent=parent)


def test_body_rules(db: Session, world: World) -> None:
    for body in ("   ", "a\x00b", "x" * (service.BODY_MAX + 1)):
        with pytest.raises(ValidationFailed) as caught:
            post(db, world.proposal, world.fan, body)
        assert fields(caught) == {"body"}
    assert len(post(db, world.proposal, world.fan, "y" * service.BODY_MAX).body) == service.BODY_MAX


def test_anchor_problems_are_reported_under_anchor_names(db: Session, world: World) -> None:
    cases = [
        (anchors.AnchorInput(work=world.video.id, kind="time", start=300, end=310), "anchor.start"),
        (anchors.AnchorInput(work=world.unexhibited.id, kind="region"), "anchor.work"),
        (anchors.AnchorInput(work=world.text.id, kind="quote", exact="nope"), "anchor.exact"),
        (anchors.AnchorInput(work=world.text.id, kind="quote", exact="a\x00"), "anchor.exact"),
        (anchors.AnchorInput(work=world.image.id, kind="time", start=1, end=2), "anchor.kind"),
    ]
    for anchor, name in cases:
        with pytest.raises(ValidationFailed) as caught:
            post(db, world.proposal, world.fan, anchor=anchor)
        assert name in fields(caught)


def test_an_anchor_is_stored(db: Session, world: World) -> None:
    anchor = anchors.AnchorInput(work=world.video.id, kind="time", start=83.5, end=95)
    comment = post(db, world.proposal, world.fan, anchor=anchor)
    stored = db.get(CommentAnchor, comment.id)
    assert stored is not None
    assert (stored.work_id, stored.start, stored.end) == (world.video.id, 83.5, 95)
    assert stored.proposal_id == world.proposal.id


def test_edit_keeps_versions_and_marks_edited(db: Session, world: World) -> None:
    comment = post(db, world.proposal, world.fan, "First", alignment="supports")
    service.edit_comment(db, actor=world.fan, comment=comment, body="Second", now=later(1))
    service.edit_comment(db, actor=world.fan, comment=comment, body="Third", now=later(2))
    assert comment.body == "Third"
    assert comment.edit_count == 2
    assert comment.edited_at == later(2)
    kept = service.versions(db, comment)
    assert [(v.number, v.body, v.written_at) for v in kept] == [
        (1, "First", NOW),
        (2, "Second", later(1)),
    ]
    # An unchanged body makes no version.
    service.edit_comment(db, actor=world.fan, comment=comment, body="Third", now=later(3))
    assert comment.edit_count == 2
    service.edit_comment(db, actor=world.fan, comment=comment, alignment="opposes", now=later(4))
    assert comment.alignment == Alignment.opposes
    assert service.counts(db, world.proposal).by_alignment[Alignment.opposes] == 1
    assert service.counts(db, world.proposal).by_alignment[Alignment.supports] == 0


def test_only_the_author_edits_or_deletes(db: Session, world: World) -> None:
    comment = post(db, world.proposal, world.fan)
    for actor in (world.other_fan, world.moderator):
        with pytest.raises(PermissionDenied):
            service.edit_comment(db, actor=actor, comment=comment, body="Mine", now=NOW)
        with pytest.raises(PermissionDenied):
            service.delete_comment(db, actor=actor, comment=comment, now=NOW)
    service.delete_comment(db, actor=world.fan, comment=comment, now=NOW)
    with pytest.raises(Conflict):
        service.edit_comment(db, actor=world.fan, comment=comment, body="Back", now=NOW)


def test_delete_keeps_replies_and_lowers_counts(db: Session, world: World) -> None:
    top = post(db, world.proposal, world.fan, alignment="question")
    reply = post(db, world.proposal, world.author, parent=top)
    assert service.counts(db, world.proposal).comments == 2
    service.delete_comment(db, actor=world.fan, comment=top, now=later(1))
    counts = service.counts(db, world.proposal)
    assert counts.comments == 1
    assert counts.by_alignment[Alignment.question] == 0
    db.refresh(reply)
    assert reply.is_visible
    assert reply.parent_id == top.id
    assert top.is_deleted
    assert top.body


def test_hide_and_restore_by_moderators_only(db: Session, world: World) -> None:
    comment = post(db, world.proposal, world.fan, alignment="opposes")
    with pytest.raises(PermissionDenied):
        service.hide_comment(db, actor=world.author, comment=comment, reason="No", now=NOW)
    with pytest.raises(ValidationFailed) as no_reason:
        service.hide_comment(db, actor=world.moderator, comment=comment, reason="  ", now=NOW)
    assert fields(no_reason) == {"reason"}
    with pytest.raises(ValidationFailed):
        service.hide_comment(db, actor=world.moderator, comment=comment, reason="r" * 501, now=NOW)
    service.hide_comment(db, actor=world.moderator, comment=comment, reason=" Insults ", now=NOW)
    assert comment.is_removed
    assert comment.hidden_reason == "Insults"
    assert service.counts(db, world.proposal).comments == 0
    with pytest.raises(Conflict):
        service.edit_comment(db, actor=world.fan, comment=comment, body="Sorry", now=NOW)
    with pytest.raises(PermissionDenied):
        service.restore_comment(db, actor=world.fan, comment=comment)
    service.restore_comment(db, actor=world.moderator, comment=comment)
    assert comment.is_visible
    assert comment.hidden_reason == ""
    counts = service.counts(db, world.proposal)
    assert counts.comments == 1
    assert counts.by_alignment[Alignment.opposes] == 1


def test_kept_counts_match_a_recount_after_a_mix(db: Session, world: World) -> None:
    a = post(db, world.proposal, world.fan, alignment="supports")
    b = post(db, world.proposal, world.other_fan, alignment="opposes")
    c = post(db, world.proposal, world.author, parent=a)
    d = post(db, world.proposal, world.fan, parent=c)
    e = post(db, world.proposal, world.author, alignment="question")
    service.delete_comment(db, actor=world.other_fan, comment=b, now=NOW)
    with pytest.raises(Conflict):
        service.delete_comment(db, actor=world.other_fan, comment=b, now=NOW)
    service.hide_comment(db, actor=world.moderator, comment=c, reason="Off topic", now=NOW)
    service.hide_comment(db, actor=world.moderator, comment=c, reason="Still", now=NOW)
    service.hide_pending_review(db, d, NOW)
    service.restore_comment(db, actor=world.moderator, comment=d)
    service.edit_comment(db, actor=world.fan, comment=a, alignment="neutral", now=NOW)
    service.hide_pending_review(db, e, NOW)
    service.delete_comment(db, actor=world.author, comment=e, now=NOW)  # was out of view already
    service.restore_comment(db, actor=world.moderator, comment=e)  # still deleted: not counted
    f = post(db, world.proposal, world.other_fan, alignment="supports")
    service.hide_comment(db, actor=world.moderator, comment=f, reason="Spam", now=NOW)
    service.restore_comment(db, actor=world.moderator, comment=f)
    kept, actual = service.counts(db, world.proposal), service.recount(db, world.proposal)
    assert kept == actual
    assert actual.comments == 3
    assert actual.by_alignment[Alignment.neutral] == 1
    assert actual.by_alignment[Alignment.supports] == 1
    assert actual.by_alignment[Alignment.opposes] == 0


def test_rate_limit_after_ten_posts_a_minute(db: Session, world: World) -> None:
    for i in range(service.POST_LIMIT):
        service.post_comment(
            db,
            actor=world.fan,
            proposal=world.proposal,
            draft=service.CommentDraft(body=f"Post {i}"),
            now=later(i / 100),
        )
    with pytest.raises(RateLimited) as caught:
        service.post_comment(
            db,
            actor=world.fan,
            proposal=world.proposal,
            draft=service.CommentDraft(body="One more"),
            now=later(0.5),
        )
    assert 1 <= caught.value.retry_after <= 60
    # Another member is not held back, and a minute later the member may post again.
    post(db, world.proposal, world.other_fan, now=later(0.5))
    service.post_comment(
        db,
        actor=world.fan,
        proposal=world.proposal,
        draft=service.CommentDraft(body="Later"),
        now=later(1.2),
    )
    assert (
        db.scalar(select(func.count(RateLimitHit.id)).where(RateLimitHit.bucket == "comment")) == 11
    )


def test_get_comment_hides_drafts_and_bad_ids(db: Session, world: World) -> None:
    draft = make_proposal(db, world.community, world.author, publish=False)
    visible = post(db, world.proposal, world.fan)
    assert service.get_comment(db, visible.id, viewer=None) is visible
    for bad in (0, -1, 2**31, 2**40, 2**63, 10**40):
        with pytest.raises(NotFound):
            service.get_comment(db, bad, viewer=world.fan)
    with pytest.raises(NotFound):
        service.get_in_proposal(db, draft, visible.id, viewer=world.author)
