"""The polls' HTML: the policy page and its form, the poll panel on the proposal page (open,
vote, rule, close), amending during a poll, the poll page with its results, and what pages
never reveal while results are hidden or ballots anonymous."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import i18n
from app.communities.models import Role
from app.db import utcnow
from app.polls import service
from app.polls.models import Ballot, ObjectionRuling, Poll
from app.proposals.models import ProposalState
from tests.conftest import post_form
from tests.factories import add_member, make_community, make_user
from tests.functional.polls.page_fixtures import (
    HTMX,
    Town,
    as_user,
    checked,
    field_error,
    input_value,
    open_poll,
    poll_url,
    publish,
    set_policy,
    textarea,
    town_fixture,  # noqa: F401 (the `town` fixture)
    vote,
)


def ballots(db: Session, poll: Poll) -> int:
    return db.scalar(select(func.count()).select_from(Ballot).where(Ballot.poll_id == poll.id)) or 0


def follow(client: TestClient, response: Response) -> str:
    """The page a 303 leads to (with its flash message)."""
    assert response.status_code == 303, response.text
    return client.get(response.headers["location"]).text


# The policy page


def test_everyone_reads_the_policy_with_a_worked_example(client, db, town: Town):
    html = client.get("/c/vocaloid/poll-policy").text
    assert "The rules in force" in html
    assert "At least 25% of the eligible weight must take part" in html
    # The example is counted by the real rules: two objections block under any_blocks...
    assert "Rejected: 2 objections stayed open" in html
    # ... and would not, were they ruled not paramount.
    assert "ruled both objections <em>not paramount</em>" in html
    assert "Passed: consent made up 100% of the weighted vote" in html
    assert "Change the policy" not in html
    assert 'action="/c/vocaloid/poll-policy"' not in html


def test_the_example_follows_the_policy_in_force(client, db, town: Town):
    set_policy(db, town, objection_rule="threshold", weight_policy="role")
    html = client.get("/c/vocaloid/poll-policy").text
    assert "Passed: consent made up 80% of the weighted vote" in html
    assert "ruled both objections" not in html
    assert "weight 2" in html  # a creator's ballot


def test_the_community_and_settings_pages_link_to_the_policy(client, town: Town):
    assert "/c/vocaloid/poll-policy" in client.get("/c/vocaloid").text
    as_user(client, town.moderator)
    assert "/c/vocaloid/poll-policy#change" in client.get("/c/vocaloid/edit").text


def test_a_moderator_changes_the_policy_and_the_change_is_listed(client, db, town: Town):
    as_user(client, town.moderator)
    page = client.get("/c/vocaloid/poll-policy").text
    assert "Change the policy" in page
    assert input_value(page, "policy-quorum") == "25"
    settings = service.policy_of(db, town.community).to_form()
    settings.update({"quorum": "40", "weight_policy": "constituency", "ballots": "anonymous"})
    html = follow(client, post_form(client, "/c/vocaloid/poll-policy", settings))
    assert "The poll policy was saved" in html
    policy = service.policy_of(db, town.community)
    assert (policy.quorum, policy.weight_policy.value, policy.ballots.value) == (
        40,
        "constituency",
        "anonymous",
    )
    assert "Gumi Moderator" in html
    assert "Quorum (%): 25 → 40" in html
    assert "Weights: Equal → By constituency" in html
    again = post_form(client, "/c/vocaloid/poll-policy", policy.to_form())
    assert "No setting changed" in follow(client, again)


def test_policy_errors_are_shown_by_their_fields_with_the_typed_values(client, db, town: Town):
    as_user(client, town.moderator)
    settings = service.policy_of(db, town.community).to_form()
    settings.update(
        {
            "quorum": "250",
            "constituency_shares.fan": "60",
            "role_weights.creator": "two",
            "objection_rule": "never",
        }
    )
    response = post_form(client, "/c/vocaloid/poll-policy", settings)
    assert response.status_code == 422
    html = response.text
    assert field_error(html, "policy-quorum") == "Use a whole percent from 0 to 100."
    assert input_value(html, "policy-quorum") == "250"
    assert input_value(html, "policy-role_weights-creator") == "two"
    assert "must add up to 100% (they add up to 110%)" in field_error(html, "policy-shares")
    assert "Choose any_blocks or threshold." in field_error(html, "policy-objection_rule")
    assert service.policy_of(db, town.community).quorum == 25


def test_only_moderators_change_the_policy(client, db, town: Town):
    settings = {**service.policy_of(db, town.community).to_form(), "quorum": "5"}
    as_user(client, town.fan)
    assert post_form(client, "/c/vocaloid/poll-policy", settings).status_code == 403
    as_user(client, None)
    assert post_form(client, "/c/vocaloid/poll-policy", settings).status_code == 401
    assert service.policy_of(db, town.community).quorum == 25


# Opening a poll from the proposal page


def test_authors_open_the_poll_once_deliberation_is_over(client, db, town: Town):
    as_user(client, town.fan)
    assert "Voting may open now" in client.get(town.url()).text
    as_user(client, town.author)
    page = client.get(town.url()).text
    assert "Open the poll" in page
    # Authors may set the duration; the other rules are for moderators.
    assert "change the other rules" not in page
    response = post_form(client, town.url("/poll"), {"duration_days": "5"})
    html = follow(client, response)
    assert "The poll is open until" in html
    db.refresh(town.proposal)
    assert town.proposal.state == ProposalState.voting
    poll = service.current_poll(db, town.proposal)
    assert poll is not None
    assert service.policy_in(poll).duration_days == 5
    assert re.search(r"IA Creator\s+opened the poll on revision 1", html)
    assert "Amend the text" in html


def test_before_the_deliberation_period_ends_the_page_says_when_voting_may_open(
    client, db, town: Town
):
    fresh = publish(db, town.community, town.author, utcnow() - timedelta(hours=1), "Too early")
    as_user(client, town.author)
    html = client.get(f"/c/vocaloid/proposals/{fresh.id}").text
    assert "Voting may open in" in html
    assert "Open the poll" not in html
    refused = post_form(client, f"/c/vocaloid/proposals/{fresh.id}/poll", {"duration_days": "7"})
    assert "minimum deliberation period is not over" in follow(client, refused)
    assert service.current_poll(db, fresh) is None


def test_a_bad_duration_is_a_422_with_the_typed_value(client, db, town: Town):
    as_user(client, town.author)
    response = post_form(client, town.url("/poll"), {"duration_days": "90"})
    assert response.status_code == 422
    assert input_value(response.text, "open-duration_days") == "90"
    assert field_error(response.text, "open-duration_days") == "Use 1 to 60 days."
    assert service.current_poll(db, town.proposal) is None


def test_authors_may_not_change_other_rules_but_moderators_may(client, db, town: Town):
    as_user(client, town.author)
    response = post_form(client, town.url("/poll"), {"duration_days": "7", "quorum": "0"})
    assert response.status_code == 403
    as_user(client, town.moderator)
    assert "change the other rules for this poll only" in client.get(town.url()).text
    settings = {**service.policy_of(db, town.community).to_form(), "quorum": "50"}
    follow(client, post_form(client, town.url("/poll"), settings))
    poll = service.current_poll(db, town.proposal)
    assert poll is not None
    assert service.policy_in(poll).quorum == 50
    # The community's policy is unchanged.
    assert service.policy_of(db, town.community).quorum == 25


# Voting


def test_members_see_their_weight_and_cast_a_ballot(client, db, town: Town):
    set_policy(db, town, weight_policy="role")
    poll = open_poll(db, town)
    as_user(client, town.author)
    page = client.get(town.url()).text
    assert "You vote as a creator with weight 2." in page
    assert "Round 1 on" in page
    assert "Results are hidden until the poll closes" in page
    response = post_form(
        client,
        f"/c/vocaloid/polls/{poll.id}/ballot",
        {"position": "concern", "reason": "Name the licence too.", "page": "proposal"},
    )
    assert response.headers["location"] == town.url("#poll")
    html = follow(client, response)
    ballot = service.my_ballot(db, poll, town.author)
    assert ballot is not None
    receipt = service.format_receipt(ballot.receipt)
    assert f"Your receipt is {receipt}" in html
    assert "Your ballot:" in html
    assert "Name the licence too." in html
    assert checked(html, "position") == "concern"


def test_constituency_weights_are_worded_as_shares(client, db, town: Town):
    set_policy(db, town, weight_policy="constituency", moderators_vote_as="creator")
    open_poll(db, town)
    as_user(client, town.moderator)
    html = client.get(town.url()).text
    assert "You vote as a moderator in the creators&#39; constituency, which holds 35%" in html


def test_htmx_ballots_answer_with_the_panel_alone(client, db, town: Town):
    poll = open_poll(db, town)
    as_user(client, town.fan)
    response = post_form(
        client,
        f"/c/vocaloid/polls/{poll.id}/ballot",
        {"position": "consent", "reason": "", "page": "proposal"},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert response.headers["vary"] == "HX-Request, Accept-Language"
    html = response.text
    assert "<html" not in html
    assert html.lstrip().startswith('<section class="card poll-panel')
    assert "Your ballot was cast: Consent." in html
    assert 'hx-target="#poll"' in html


def test_a_refused_ballot_keeps_what_was_typed_and_stores_nothing(client, db, town: Town):
    poll = open_poll(db, town)
    as_user(client, town.fan)
    url = f"/c/vocaloid/polls/{poll.id}/ballot"
    response = post_form(client, url, {"position": "object", "reason": "  ", "page": "poll"})
    assert response.status_code == 422
    assert "<html" in response.text  # the poll page it came from, in full
    assert field_error(response.text, "ballot-reason") == "Say why you object."
    assert checked(response.text, "position") == "object"
    long = "x" * 2001
    fragment = post_form(
        client, url, {"position": "concern", "reason": long, "page": "poll"}, headers=HTMX
    )
    assert fragment.status_code == 422
    assert "<html" not in fragment.text
    assert textarea(fragment.text, "ballot-reason") == long
    assert "Use at most 2,000 characters" in fragment.text
    unknown = post_form(client, url, {"position": "maybe", "page": "proposal"})
    assert unknown.status_code == 422
    assert "Choose consent, consent with concerns, object or stand aside." in unknown.text
    assert ballots(db, poll) == 0


def test_non_members_and_late_joiners_cannot_vote(client, db, town: Town):
    poll = open_poll(db, town)
    url = f"/c/vocaloid/polls/{poll.id}/ballot"
    as_user(client, town.outsider)
    assert "Only members of this community may vote." in client.get(town.url()).text
    assert post_form(client, url, {"position": "consent"}).status_code == 403
    as_user(client, town.newcomer)
    assert "you joined after it opened" in client.get(town.url()).text
    assert post_form(client, url, {"position": "consent"}).status_code == 403
    as_user(client, None)
    assert "Sign in</a> to vote" in client.get(town.url()).text
    assert ballots(db, poll) == 0


def test_a_ballot_on_a_closed_poll_is_refused_with_a_message(client, db, town: Town):
    poll = open_poll(db, town)
    service.close_early(db, actor=town.moderator, poll=poll, now=utcnow())
    as_user(client, town.fan)
    url = f"/c/vocaloid/polls/{poll.id}/ballot"
    html = follow(client, post_form(client, url, {"position": "consent", "page": "poll"}))
    assert "This poll is closed." in html
    fragment = post_form(client, url, {"position": "consent", "page": "poll"}, headers=HTMX)
    assert fragment.status_code == 422
    assert "This poll is closed." in fragment.text
    assert "Cast my ballot" not in fragment.text
    assert ballots(db, poll) == 0


def test_objections_are_listed_with_reasons_and_moderators_rule_on_them(client, db, town: Town):
    poll = open_poll(db, town)
    objection = vote(db, poll, town.fans[1], "object", "It forgets the licence.")
    as_user(client, town.author)
    page = client.get(town.url()).text
    assert "It forgets the licence." in page
    assert "Rin Fan" in page
    assert "Answer in the discussion" in page
    assert "#comment-form-new" in page
    assert "Rule this objection not paramount" not in page
    rule = f"/c/vocaloid/polls/{poll.id}/objections/{objection.id}/ruling"
    assert post_form(client, rule, {"reason": "I would like to"}).status_code == 403

    as_user(client, town.moderator)
    assert "Rule this objection not paramount" in client.get(town.url()).text
    refused = post_form(client, rule, {"reason": " ", "page": "proposal"})
    assert refused.status_code == 422
    assert field_error(refused.text, f"ruling-reason-{objection.id}").startswith("Say why")
    html = follow(client, post_form(client, rule, {"reason": "The licence is on the linked page."}))
    assert "it now counts as a concern" in html
    assert "Ruled not paramount by Gumi Moderator" in html
    assert "ruled an objection not paramount" in html
    assert db.scalar(select(func.count()).select_from(ObjectionRuling)) == 1
    again = post_form(client, rule, {"reason": "Twice"})
    assert "was ruled on already" in follow(client, again)


def test_a_new_round_tells_earlier_voters_their_ballot_no_longer_counts(client, db, town: Town):
    poll = open_poll(db, town)
    vote(db, poll, town.fan, "object", "Too vague.")
    as_user(client, town.author)
    edit = client.get(town.url("/edit")).text
    assert "Amend the text" in edit
    assert "round 2" in edit
    assert "every ballot cast so far stops counting" in edit
    response = post_form(
        client,
        town.url("/edit"),
        {
            "title": "Credit the illustrator",
            "summary": "Derivative drawings name the artist they build on.",
            "norm_text": "Every derivative drawing credits the illustrator and the licence.",
            "base_revision": "1",
            "message": "Answer the objection",
        },
    )
    html = follow(client, response)
    assert "round 2 of the poll has begun" in html
    db.refresh(poll)
    assert poll.current_round == 2
    assert "amended the text: round 2 of the poll began" in html
    as_user(client, town.fan)
    page = client.get(town.url()).text
    assert "your ballot from an earlier round no longer counts" in page
    assert "Too vague." not in page  # round 1's objection no longer counts
    assert "Cast my ballot" in page
    history = client.get(poll_url(town, poll)).text
    assert "no longer counts: the text was amended since" in history
    assert "What changed: revision 1 → 2" in history


def test_amending_past_the_last_round_is_refused_with_the_text_kept(client, db, town: Town):
    open_poll(db, town, max_rounds=1)
    as_user(client, town.author)
    assert "The poll has had all its rounds" in client.get(town.url()).text
    assert "This poll has had its 1 rounds" in client.get(town.url("/edit")).text
    changed = "A changed text nobody may vote on now."
    response = post_form(
        client,
        town.url("/edit"),
        {"title": "Credit the illustrator", "norm_text": changed, "base_revision": "1"},
    )
    assert response.status_code == 409
    assert "the most its rules allow" in response.text
    assert textarea(response.text, "f-norm_text") == changed
    db.refresh(town.proposal)
    assert town.proposal.revision_number == 1


def test_moderators_close_a_poll_early_and_the_results_appear(client, db, town: Town):
    poll = open_poll(db, town)
    for fan in town.fans:
        vote(db, poll, fan, "consent")
    vote(db, poll, town.author, "stand_aside")
    as_user(client, town.fan)
    assert "close the poll now" not in client.get(town.url()).text
    assert post_form(client, f"/c/vocaloid/polls/{poll.id}/close").status_code == 403
    as_user(client, town.moderator)
    assert "close the poll now" in client.get(town.url()).text
    response = post_form(client, f"/c/vocaloid/polls/{poll.id}/close", {"page": "poll"})
    assert response.headers["location"] == poll_url(town, poll)
    html = follow(client, response)
    assert "The poll is closed and counted: the proposal passed." in html
    db.refresh(town.proposal)
    assert town.proposal.state == ProposalState.passed
    assert "Passed: consent made up 100% of the weighted vote" in html
    proposal_page = client.get(town.url()).text
    assert "Full results and charts" in proposal_page
    assert "closed the poll early" in proposal_page
    again = post_form(client, f"/c/vocaloid/polls/{poll.id}/close")
    assert "This poll is closed." in follow(client, again)


# The poll page


def test_the_results_page_draws_the_frozen_tally(client, db, town: Town):
    set_policy(db, town, weight_policy="role")
    poll = open_poll(db, town)
    vote(db, poll, town.fans[0], "consent")
    vote(db, poll, town.fans[1], "concern", "Shorter, please.")
    vote(db, poll, town.author, "consent")
    vote(db, poll, town.rights_holder, "stand_aside")
    service.close_early(db, actor=town.moderator, poll=poll, now=utcnow())
    html = client.get(poll_url(town, poll)).text
    tally = service.results(db, poll, utcnow())
    assert tally is not None
    assert tally.sentence() in html
    assert html.count('role="img"') >= 6  # participation, support, positions, 4 groups
    assert "quorum 25%" in html
    assert "threshold 60%" in html
    assert "Every rule was met" in html
    assert (
        '<th scope="row"><span class="swatch position-consent" aria-hidden="true"></span>' in html
    )
    # Named poll: every counted ballot, with its voter and reason, on the ballots page.
    assert poll_url(town, poll, "/ballots") in html
    ballots = client.get(poll_url(town, poll, "/ballots")).text
    assert "Miku Fan" in ballots
    assert "Shorter, please." in ballots
    assert f"/api/v1/polls/{poll.id}/export" in html
    assert f"/api/v1/polls/{poll.id}/export.csv" in html
    assert "How this poll is counted" in html


def test_a_poll_is_found_only_under_its_own_community(client, db, town: Town):
    poll = open_poll(db, town)
    make_community(db, "elsewhere")
    assert client.get(f"/c/elsewhere/polls/{poll.id}").status_code == 404
    assert client.get("/c/vocaloid/polls/999999").status_code == 404
    assert client.get("/c/vocaloid/polls/0").status_code == 422


def test_the_ballot_history_is_the_viewers_own(client, db, town: Town):
    poll = open_poll(db, town)
    first = vote(db, poll, town.fan, "object", "First thoughts.")
    vote(db, poll, town.fan, "consent")
    vote(db, poll, town.fans[1], "concern", "Somebody else's reason.")
    as_user(client, town.fan)
    html = client.get(poll_url(town, poll)).text
    assert "Your ballots" in html
    assert service.format_receipt(first.receipt) in html
    assert "replaced" in html
    assert "Somebody else" not in html
    as_user(client, town.fans[1])
    assert service.format_receipt(first.receipt) not in client.get(poll_url(town, poll)).text


# What pages never reveal

COUNT_WORDS = re.compile(
    r"\b\d[\d,]*\s+(?:ballots?|votes?|objections?|participants?|voters?|consents?|concerns?)\b"
    r"|took part|stood aside|\bsupport\b \d|weight \d[\d.]* of",
    re.IGNORECASE,
)


def normalized(html: str) -> str:
    """A page without what changes on its own (tokens, times, activity)."""
    html = re.sub(
        r'(name="csrf_token" value|name="csrf-token" content|name="idempotency_key" value)="[^"]*"',
        r"\1",
        html,
    )
    html = re.sub(r"<time [^>]*>[^<]*</time>", "<time>", html)
    html = re.sub(r"active [^<·]*", "active", html)
    return re.sub(r"\(in \d+ \w+\)", "(in)", html)


def pages(client: TestClient, town: Town, poll: Poll) -> dict[str, str]:
    urls = [
        town.url(),
        poll_url(town, poll),
        poll_url(town, poll, "/ballots"),
        poll_url(town, poll, "/ballots?position=object"),
        "/c/vocaloid/proposals",
        "/c/vocaloid/proposals?state=voting&sort=active",
        "/c/vocaloid",
    ]
    return {url: normalized(client.get(url).text) for url in urls}


def test_while_results_are_hidden_no_page_reveals_a_count(client, db, town: Town):
    poll = open_poll(db, town)
    viewers = [None, town.fans[3], town.moderator]
    before = {}
    for viewer in viewers:
        as_user(client, viewer)
        before[viewer] = pages(client, town, poll)
    # Others vote: consent, concerns, standing aside (objections are listed, by design).
    vote(db, poll, town.fan, "consent")
    vote(db, poll, town.fans[1], "consent")
    vote(db, poll, town.fans[2], "concern", "A quiet concern.")
    vote(db, poll, town.author, "stand_aside")
    vote(db, poll, town.rights_holder, "object", "An objection for the record.")
    for viewer in viewers:
        as_user(client, viewer)
        after = pages(client, town, poll)
        for url, html in after.items():
            assert not COUNT_WORDS.search(html), (viewer, url, COUNT_WORDS.search(html))
            # Nothing changed but the listed objection, which the pages show with its reason.
            without_objection = re.sub(
                r'<section class="objections".*?</section>', "", html, flags=re.S
            )
            without_before = re.sub(
                r'<section class="objections".*?</section>', "", before[viewer][url], flags=re.S
            )
            assert without_objection == without_before, (viewer, url)
        assert "An objection for the record." in after[town.url()]
        assert "A quiet concern." not in after[town.url()]
    # The count appears once the poll closes.
    service.close_early(db, actor=town.moderator, poll=poll, now=utcnow())
    as_user(client, None)
    html = client.get(poll_url(town, poll)).text
    assert "took part" in html
    assert "Rejected: 1 objection stayed open" in html
    assert "A quiet concern." in client.get(poll_url(town, poll, "/ballots")).text


def test_anonymous_polls_never_show_who_cast_which_ballot(client, db, town: Town):
    set_policy(db, town, ballots="anonymous")
    poll = open_poll(db, town)
    vote(db, poll, town.fans[1], "object", "An anonymous objection.")
    vote(db, poll, town.fans[2], "consent")
    for viewer in (None, town.fan, town.moderator):
        as_user(client, viewer)
        html = client.get(town.url()).text + client.get(poll_url(town, poll)).text
        assert "An anonymous objection." in html
        assert "a member (ballots in this poll are anonymous)" in html
        assert "Rin Fan" not in html
        assert "Len Fan" not in html
    service.close_early(db, actor=town.moderator, poll=poll, now=utcnow())
    for viewer in (None, town.moderator):
        as_user(client, viewer)
        assert "Who took part" in client.get(poll_url(town, poll)).text
        html = client.get(poll_url(town, poll, "/ballots")).text
        participants = re.search(r'<ul class="people participant-list">(.*?)</ul>', html, re.S)
        assert participants is not None
        assert "Rin Fan" in participants.group(1)
        assert "Len Fan" in participants.group(1)
        # Names appear in that list alone, never beside a position.
        outside = html.replace(participants.group(0), "")
        assert "Rin Fan" not in outside
        assert "Len Fan" not in outside
        assert "/u/fan_rin" not in html


def test_the_proposal_list_shows_when_the_poll_closes(client, db, town: Town):
    poll = open_poll(db, town)
    html = client.get("/c/vocaloid/proposals").text
    assert f"poll closes {i18n.date(poll.closes_at)}" in html


def test_a_member_of_another_community_is_not_on_the_roll(client, db, town: Town):
    other = make_community(db, "another")
    stranger = make_user(db, "stranger_kaito", display_name="Kaito Stranger")
    add_member(db, other, stranger, Role.moderator)
    poll = open_poll(db, town)
    as_user(client, stranger)
    assert "close the poll now" not in client.get(town.url()).text
    assert post_form(client, f"/c/vocaloid/polls/{poll.id}/close").status_code == 403
    assert post_form(client, f"/c/another/polls/{poll.id}/close").status_code == 404


def test_live_polls_show_the_count_as_it_stands(client, db, town: Town):
    set_policy(db, town, results="live")
    poll = open_poll(db, town)
    vote(db, poll, town.fan, "consent")
    assert "This poll's count is live" in client.get(town.url()).text
    html = client.get(poll_url(town, poll)).text
    assert "The count as it stands" in html
    assert "If the poll closed now — Rejected: the quorum was not met" in html
    # Exports are of closed polls.
    assert "/export" not in html


def test_a_poll_past_its_time_reads_as_closed_and_the_sweep_records_it(client, db, town: Town):
    poll = open_poll(db, town, ago=timedelta(days=8))
    html = client.get(town.url()).text
    assert "Full results and charts" in html
    assert "Cast my ballot" not in html
    assert service.sweep(db, utcnow()) == 1
    db.refresh(poll)
    html = client.get(town.url()).text
    assert re.search(r"the poll\s+closed at its time", html)
    assert poll.tally is not None
    assert f"/api/v1/polls/{poll.id}/export" in client.get(poll_url(town, poll)).text
