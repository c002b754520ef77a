"""A test per kind of event: the right members are told, in words that say what happened and
with a link to it, and the member who acted never is."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from app import i18n
from app.discussion import service as discussion_service
from app.guidelines import service as guidelines_service
from app.notifications import jobs
from app.notifications.models import Kind
from app.polls import service as polls_service
from app.proposals import service as proposals_service
from app.proposals.models import Proposal
from app.works import service as works_service
from tests.unit.discussion.conftest import make_work, post
from tests.unit.guidelines.conftest import passed
from tests.unit.notifications.conftest import told, told_ids
from tests.unit.polls.conftest import NOW, OpenPoll, Town, vote

__all__ = ["passed"]


def follow(db: Session, proposal: Proposal, *people) -> None:
    for person in people:
        proposals_service.follow(db, actor=person, proposal=proposal, now=NOW)


def amend(db: Session, proposal: Proposal, actor, at=NOW):
    values = proposals_service.ProposalDraft(
        title=proposal.title, summary=proposal.summary, norm_text=proposal.norm_text + " Amended."
    )
    return polls_service.amend(
        db,
        actor=actor,
        proposal=proposal,
        base_revision=proposal.revision_number,
        values=values,
        message="Answering the objection",
        now=at + timedelta(hours=1),
    )


# --- Discussion ----------------------------------------------------------------------------


def test_a_reply_tells_the_author_of_the_comment_replied_to(db, town: Town, proposal, clean):
    mine = post(db, proposal, town.author, "My view.")
    reply = post(db, proposal, town.fan, "I disagree.", parent=mine)
    (note,) = told(db, Kind.reply)[town.author.id]
    assert note.text == f"User {town.fan.username} replied to your comment on “{proposal.title}”."
    slug = town.community.slug
    assert note.url == f"/c/{slug}/proposals/{proposal.id}/comments/{reply.id}"
    assert note.actor_id == town.fan.id
    assert note.community_id == town.community.id
    # Replying to oneself, or writing at the top level, tells nobody.
    post(db, proposal, town.author, "And more.", parent=mine)
    post(db, proposal, town.fans[1], "A new point.")
    assert set(told(db, Kind.reply)) == {town.author.id}
    assert len(told(db, Kind.reply)[town.author.id]) == 1


def test_hiding_a_comment_tells_its_author(db, town: Town, proposal, clean):
    comment = post(db, proposal, town.fan, "Off topic.")
    discussion_service.hide_comment(
        db, actor=town.moderator, comment=comment, reason="Off topic for this thread.", now=NOW
    )
    assert set(told(db, Kind.moderation)) == {town.fan.id}
    (note,) = told(db, Kind.moderation)[town.fan.id]
    assert note.text == (
        f"A moderator hid your comment on “{proposal.title}”: Off topic for this thread."
    )
    assert note.url.endswith(f"/comments/{comment.id}")


def test_hiding_a_work_tells_who_registered_it(db, town: Town, clean):
    work = make_work(db, town.community, town.fan, title="Rin's Dance")
    works_service.hide_work(
        db, actor=town.moderator, work=work, reason="Not a derivative work.", now=NOW
    )
    (note,) = told(db, Kind.moderation)[town.fan.id]
    assert note.text == "A moderator hid the work “Rin's Dance”: Not a derivative work."
    assert note.url == f"/c/{town.community.slug}/works/{work.id}"
    assert set(told(db, Kind.moderation)) == {town.fan.id}


def test_locking_a_proposal_tells_its_authors(db, town: Town, proposal, clean):
    proposals_service.set_locked(
        db, actor=town.moderator, proposal=proposal, locked=True, reason="Cooling off.", now=NOW
    )
    (note,) = told(db, Kind.moderation)[town.author.id]
    assert note.text == f"A moderator locked your proposal “{proposal.title}”: Cooling off."
    assert set(told(db, Kind.moderation)) == {town.author.id}


# --- Proposals -----------------------------------------------------------------------------


def test_publishing_tells_the_followers_but_not_the_author_who_published(db, town: Town, clean):
    draft = proposals_service.create_proposal(
        db,
        actor=town.author,
        community=town.community,
        values=proposals_service.ProposalDraft(
            title="No AI voices", norm_text="AI voice models of the character are not shared."
        ),
        now=NOW,
    )
    proposals_service.add_coauthor(
        db, actor=town.author, proposal=draft, username=town.fan.username, now=NOW
    )
    proposals_service.publish(db, actor=town.author, proposal=draft, now=NOW)
    assert told_ids(db, Kind.proposal_state) == {town.fan.id}
    (note,) = told(db, Kind.proposal_state)[town.fan.id]
    assert note.text == f"User {town.author.username} published “No AI voices” for deliberation."
    assert note.url == f"/c/{town.community.slug}/proposals/{draft.id}"


def test_withdrawing_tells_the_followers(db, town: Town, proposal, clean):
    follow(db, proposal, town.fans[0], town.fans[1])
    proposals_service.withdraw(db, actor=town.author, proposal=proposal, reason="", now=NOW)
    assert told_ids(db, Kind.proposal_state) == {town.fans[0].id, town.fans[1].id}
    assert "withdrew" in told(db, Kind.proposal_state)[town.fans[0].id][0].text


# --- Polls ---------------------------------------------------------------------------------


def test_opening_a_poll_tells_the_followers(db, town: Town, proposal, open_poll: OpenPoll, clean):
    follow(db, proposal, town.fan, town.moderator)
    poll = open_poll(actor=town.author)
    assert told_ids(db, Kind.poll_opened) == {town.fan.id, town.moderator.id}
    (note,) = told(db, Kind.poll_opened)[town.fan.id]
    assert note.text.startswith(f"A poll opened on “{proposal.title}”; it closes on ")
    assert note.url == f"/c/{town.community.slug}/polls/{poll.id}"


def test_an_objection_tells_the_authors_once_per_voter_and_round(
    db, town: Town, proposal, open_poll: OpenPoll, clean
):
    proposals_service.add_coauthor(
        db, actor=town.author, proposal=proposal, username=town.fans[1].username, now=NOW
    )
    poll = open_poll()
    vote(db, poll, town.fan, "object", "Tributes would be banned.")
    assert told_ids(db, Kind.objection) == {town.author.id, town.fans[1].id}
    (note,) = told(db, Kind.objection)[town.author.id]
    assert note.text == (
        f"User {town.fan.username} objected to “{proposal.title}”: “Tributes would be banned.”"
    )
    assert note.actor_id == town.fan.id
    # Restating the objection tells nobody again; objecting after consenting does.
    vote(db, poll, town.fan, "object", "Tributes, covers and parodies would be banned.")
    assert len(told(db, Kind.objection)[town.author.id]) == 1
    vote(db, poll, town.fan, "consent")
    vote(db, poll, town.fan, "object", "On second thought, no.")
    assert len(told(db, Kind.objection)[town.author.id]) == 2
    # A co-author objecting to their own proposal is not told of it.
    vote(db, poll, town.fans[1], "object", "We can do better.")
    assert len(told(db, Kind.objection)[town.fans[1].id]) == 2


def test_an_anonymous_objection_names_nobody(db, town: Town, proposal, open_poll: OpenPoll, clean):
    poll = open_poll(actor=town.moderator, ballots="anonymous")
    vote(db, poll, town.fan, "object", "Too broad.")
    (note,) = told(db, Kind.objection)[town.author.id]
    assert note.text.startswith("A member objected to")
    assert town.fan.username not in note.text
    assert note.actor_id is None


def test_a_new_round_tells_those_who_voted_in_earlier_rounds(
    db, town: Town, proposal, open_poll: OpenPoll, clean
):
    poll = open_poll()
    vote(db, poll, town.fans[0], "object", "Too broad.")
    vote(db, poll, town.fans[1], "consent")
    vote(db, poll, town.author, "consent")
    amend(db, proposal, town.author)
    assert told_ids(db, Kind.new_round) == {town.fans[0].id, town.fans[1].id}
    (note,) = told(db, Kind.new_round)[town.fans[1].id]
    assert "round 2" in note.text
    assert note.url == f"/c/{town.community.slug}/polls/{poll.id}"


def test_closing_a_poll_tells_the_followers_whether_it_passed(
    db, town: Town, proposal, open_poll: OpenPoll, clean
):
    follow(db, proposal, town.fans[3])
    poll = open_poll()
    for fan in town.fans:
        vote(db, poll, fan, "consent")
    polls_service.close_early(db, actor=town.moderator, poll=poll, now=NOW + timedelta(hours=2))
    assert told_ids(db, Kind.proposal_state) == {town.author.id, town.fans[3].id}
    (note,) = told(db, Kind.proposal_state)[town.author.id]
    assert note.text == f"The poll on “{proposal.title}” closed: it passed."
    assert note.actor_id == town.moderator.id


def test_a_poll_closed_by_the_sweep_tells_of_a_rejection(
    db, town: Town, proposal, open_poll: OpenPoll, clean
):
    poll = open_poll()
    vote(db, poll, town.fan, "object", "Too broad.")
    polls_service.sweep(db, poll.closes_at + timedelta(minutes=1))
    (note,) = told(db, Kind.proposal_state)[town.author.id]
    assert note.text == f"The poll on “{proposal.title}” closed: it was rejected."
    assert note.actor_id is None


def test_a_poll_closing_within_a_day_reminds_those_who_have_not_voted_once(
    db, town: Town, proposal, open_poll: OpenPoll, clean
):
    poll = open_poll()
    vote(db, poll, town.fans[0], "consent")
    # A day and more before it closes: nothing yet.
    assert jobs.remind_closing_polls(db, now=poll.closes_at - timedelta(hours=25)) == 0
    assert told(db, Kind.poll_closing) == {}
    soon = poll.closes_at - timedelta(hours=23)
    assert jobs.remind_closing_polls(db, now=soon) == 1
    roll = {town.moderator, town.author, town.creator, town.rights_holder, *town.fans}
    expected = {person.id for person in roll} - {town.fans[0].id}
    assert told_ids(db, Kind.poll_closing) == expected
    note = told(db, Kind.poll_closing)[town.fans[1].id][0]
    assert note.text == (
        f"The poll on “{proposal.title}” closes at {i18n.date_time(poll.closes_at)}, "
        "and you have not voted."
    )
    assert note.actor_id is None
    # Once per poll: a later look finds nothing to do.
    assert jobs.remind_closing_polls(db, now=soon + timedelta(hours=1)) == 0
    assert len(told(db, Kind.poll_closing)[town.fans[1].id]) == 1


def test_a_closed_poll_reminds_nobody(db, town: Town, proposal, open_poll: OpenPoll, clean):
    poll = open_poll()
    polls_service.close_early(db, actor=town.moderator, poll=poll, now=NOW + timedelta(hours=1))
    assert jobs.remind_closing_polls(db, now=poll.closes_at - timedelta(hours=2)) == 0
    assert told(db, Kind.poll_closing) == {}


# --- Guidelines ----------------------------------------------------------------------------


def test_a_ratification_tells_every_member_and_the_followers(db, town: Town, passed, clean):
    proposal = passed(title="Credit the illustrator")
    follow(db, proposal, town.outsider)
    db.flush()
    for note in [n for notes in told(db).values() for n in notes]:
        db.delete(note)
    version = guidelines_service.ratify(
        db, actor=town.moderator, proposal=proposal, note="", now=NOW + timedelta(hours=1)
    )
    assert version is not None
    members = {
        town.author.id,
        town.creator.id,
        town.rights_holder.id,
        town.newcomer.id,
        *(f.id for f in town.fans),
    }
    assert told_ids(db, Kind.guidelines) == members
    note = told(db, Kind.guidelines)[town.fans[0].id][0]
    assert note.text.startswith(f"{town.community.name} published version {version.number} ")
    assert note.url == f"/c/{town.community.slug}/guidelines"
    # The proposal's followers hear of its ratification, the outsider among them.
    assert told_ids(db, Kind.proposal_state) == {town.author.id, town.outsider.id}
    assert "was ratified" in told(db, Kind.proposal_state)[town.outsider.id][0].text


def test_a_second_version_links_to_what_changed(db, town: Town, passed, clean):
    first = passed(title="Credit the illustrator")
    guidelines_service.ratify(db, actor=town.moderator, proposal=first, note="", now=NOW)
    second = passed(title="No AI voices", norm_text="No AI voice models.")
    guidelines_service.ratify(db, actor=town.moderator, proposal=second, note="", now=NOW)
    latest = told(db, Kind.guidelines)[town.fan.id][-1]
    assert latest.url == f"/c/{town.community.slug}/guidelines/diff?from=1&to=2"


def test_returning_a_proposal_tells_the_followers(db, town: Town, passed, clean):
    proposal = passed()
    follow(db, proposal, town.fans[2])
    guidelines_service.send_back(
        db, actor=town.moderator, proposal=proposal, reason="Say which works.", now=NOW
    )
    assert {town.author.id, town.fans[2].id} <= told_ids(db, Kind.proposal_state)
    note = told(db, Kind.proposal_state)[town.fans[2].id][-1]
    assert note.text == f"“{proposal.title}” was returned to deliberation: Say which works."
    assert town.moderator.id not in told_ids(db, Kind.proposal_state)
