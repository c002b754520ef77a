"""The polls JSON API through the HTTP app: opening, ballots, objections and rulings, rounds,
closing, results, export, and the community's poll policy; every refusal stores nothing."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.db import utcnow
from app.polls import exports, service
from app.polls.models import ObjectionRuling, PolicyChange, Poll, PollRound
from app.proposals.models import ProposalState
from tests.conftest import csrf_token, log_in
from tests.factories import make_user
from tests.functional.polls.conftest import ballot_count, error, publish, vote

RECEIPT = re.compile(r"^[A-Z2-7]{4}(-[A-Z2-7]{4}){3}$")


def poll_count(db) -> int:
    return db.scalar(select(func.count()).select_from(Poll)) or 0


# --- Opening ------------------------------------------------------------------------------


def test_the_author_opens_the_poll(client, db, forum, bearer):
    response = client.post(
        f"/api/v1/proposals/{forum.proposal.id}/poll", headers=bearer(forum.author)
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["proposal"], body["community"], body["number"]) == (forum.proposal.id, "miku", 1)
    assert (body["state"], body["outcome"], body["round"], body["revision"]) == ("open", None, 1, 1)
    assert [(r["number"], r["revision"], r["started_by"]) for r in body["rounds"]] == [
        (1, 1, "author_kaito")
    ]
    assert body["policy"]["weight_policy"] == "equal"
    assert body["policy"]["results"] == "hidden"
    assert body["opened_by"] == "author_kaito"
    assert body["closed_at"] is None
    assert body["roll_size"] == len(forum.voters)
    assert (body["results_visible"], body["tally"]) == (False, None)
    assert body["viewer"]["voter"] == {"role": "creator", "constituency": "creator", "weight": 1}
    assert body["viewer"]["can_vote"] is True
    proposal = client.get(f"/api/v1/proposals/{forum.proposal.id}").json()
    assert proposal["state"] == "voting"
    latest = client.get(f"/api/v1/proposals/{forum.proposal.id}/poll")
    assert latest.status_code == 200, latest.text
    assert latest.json()["id"] == body["id"]
    # Signed out, the poll has no viewer part.
    assert client.get(f"/api/v1/polls/{body['id']}").json()["viewer"] is None


def test_a_moderator_overrides_the_rules_of_one_poll(client, forum, bearer):
    response = client.post(
        f"/api/v1/proposals/{forum.proposal.id}/poll",
        json={
            "weight_policy": "role",
            "role_weights": {"creator": 3},
            "role_weights.rights_holder": 5,
            "quorum": 40,
            "results": "live",
            "duration_days": 3,
        },
        headers=bearer(forum.moderator),
    )

    assert response.status_code == 201, response.text
    body = response.json()
    policy = body["policy"]
    assert (policy["weight_policy"], policy["quorum"], policy["results"]) == ("role", 40, "live")
    assert policy["role_weights"] == {"fan": 1, "creator": 3, "rights_holder": 5, "moderator": 1}
    assert body["viewer"]["voter"]["weight"] == 1
    # Live results show from the start.
    assert body["results_visible"] is True
    assert body["tally"]["participants"] == 0
    assert body["tally"]["final"] is False


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"quorum": 101}, "quorum"),
        ({"quorum": "many"}, "quorum"),
        ({"quorum": True}, "quorum"),
        ({"bogus": 1}, "bogus"),
        ({"role_weights": {"admin": 2}}, "role_weights.admin"),
        ({"constituency_shares": {"fan": 90}}, "constituency_shares"),
        ({"weight_policy": "loudest"}, "weight_policy"),
        ({"duration_days": 0}, "duration_days"),
    ],
)
def test_bad_overrides_are_refused_by_field(client, db, forum, bearer, body, field):
    response = client.post(
        f"/api/v1/proposals/{forum.proposal.id}/poll", json=body, headers=bearer(forum.moderator)
    )

    problem = error(response, 422)
    assert problem["code"] == "validation_failed"
    assert field in problem["fields"], problem
    assert poll_count(db) == 0


def test_who_may_open_a_poll_and_when(client, db, forum, bearer):
    url = f"/api/v1/proposals/{forum.proposal.id}/poll"
    assert error(client.post(url), 401)["code"] == "not_authenticated"
    assert error(client.post(url, headers=bearer(forum.fan)), 403)["code"] == "forbidden"
    assert error(client.post(url, headers=bearer(forum.outsider)), 403)["code"] == "forbidden"
    # Authors may set the duration, not the rules; a read-only token writes nothing.
    error(client.post(url, json={"quorum": 5}, headers=bearer(forum.author)), 403)
    error(client.post(url, headers=bearer(forum.author, scope="read")), 403)
    early = publish(db, forum.community, forum.author, utcnow(), title="Too early to poll")
    too_early = error(
        client.post(f"/api/v1/proposals/{early.id}/poll", headers=bearer(forum.author)), 409
    )
    assert "deliberation" in too_early["message"]
    assert error(client.post("/api/v1/proposals/999999/poll", headers=bearer(forum.author)), 404)
    error(client.post(f"/api/v1/proposals/{2**63}/poll", headers=bearer(forum.author)), 422)
    assert poll_count(db) == 0
    db.refresh(forum.proposal)
    assert forum.proposal.state == ProposalState.deliberation

    assert (
        client.post(url, json={"duration_days": 2}, headers=bearer(forum.author)).status_code == 201
    )
    error(client.post(url, headers=bearer(forum.moderator)), 409)
    assert poll_count(db) == 1


def test_a_proposal_never_polled_has_no_poll(client, forum):
    problem = error(client.get(f"/api/v1/proposals/{forum.proposal.id}/poll"), 404)
    assert problem["code"] == "not_found"
    error(client.get("/api/v1/polls/999999"), 404)
    error(client.get("/api/v1/polls/0"), 422)


# --- Ballots ------------------------------------------------------------------------------


def test_cast_change_and_read_my_ballot(client, db, forum, poll, bearer):
    headers = bearer(forum.fan)
    first = vote(client, headers, poll.id, "consent")
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["poll"], body["round"]) == (poll.id, 1)
    assert body["voter"] == {"role": "fan", "constituency": "fan", "weight": 1}
    assert body["ballot"]["position"] == "consent"
    assert RECEIPT.match(body["ballot"]["receipt"])
    assert body["ballot"]["counted"] is True

    second = vote(client, headers, poll.id, "concern", "Commissions need a line of their own.")
    assert second.status_code == 200, second.text
    mine = client.get(f"/api/v1/polls/{poll.id}/ballot", headers=headers)
    assert mine.status_code == 200, mine.text
    assert mine.json() == second.json()
    ballot, history = mine.json()["ballot"], mine.json()["history"]
    assert (ballot["position"], ballot["reason"]) == (
        "concern",
        "Commissions need a line of their own.",
    )
    assert [(b["position"], b["counted"]) for b in history] == [
        ("concern", True),
        ("consent", False),
    ]
    assert history[0]["receipt"] != history[1]["receipt"]
    assert ballot_count(db, poll.id) == 2
    viewer = client.get(f"/api/v1/polls/{poll.id}", headers=headers).json()["viewer"]
    assert (viewer["voted"], viewer["missed_round"]) == (True, False)


def test_reading_my_ballot_needs_a_sign_in(client, forum, poll, bearer):
    error(client.get(f"/api/v1/polls/{poll.id}/ballot"), 401)
    nothing = client.get(f"/api/v1/polls/{poll.id}/ballot", headers=bearer(forum.outsider))
    assert nothing.status_code == 200
    assert nothing.json()["ballot"] is None
    assert nothing.json()["voter"] is None


@pytest.mark.parametrize(
    ("ballot", "field"),
    [
        ({"position": "object", "reason": "   "}, "reason"),
        ({"position": "concern"}, "reason"),
        ({"position": "maybe"}, "position"),
        ({"position": "consent", "reason": "x" * 2001}, "reason"),
        ({"position": "consent", "reason": "a\u0000b"}, "reason"),
        ({"position": "x" * 25}, "position"),
        ({"reason": "no position"}, "position"),
        ({"position": 3}, "position"),
    ],
)
def test_bad_ballots_are_refused_by_field(client, db, forum, poll, bearer, ballot, field):
    response = client.put(f"/api/v1/polls/{poll.id}/ballot", json=ballot, headers=bearer(forum.fan))

    problem = error(response, 422)
    assert field in problem["fields"], problem
    assert ballot_count(db, poll.id) == 0


def test_who_may_vote(client, db, forum, poll, bearer):
    assert error(vote(client, {}, poll.id, "consent"), 401)["code"] == "not_authenticated"
    outsider = error(vote(client, bearer(forum.outsider), poll.id, "consent"), 403)
    assert "members" in outsider["message"]
    error(vote(client, bearer(forum.fan, scope="read"), poll.id, "consent"), 403)
    # Joining after the poll opened gives no place on its roll.
    late = make_user(db, "late_comer")
    joined = client.post("/api/v1/communities/miku/join", headers=bearer(late))
    assert joined.status_code == 201, joined.text
    refused = error(vote(client, bearer(late), poll.id, "consent"), 403)
    assert "joined after it opened" in refused["message"]
    error(vote(client, bearer(forum.fan), 999999, "consent"), 404)
    assert ballot_count(db, poll.id) == 0


def test_no_ballots_once_the_poll_closed_or_the_proposal_left_voting(
    client, db, forum, open_poll, bearer
):
    poll = open_poll()
    closed = client.post(f"/api/v1/polls/{poll.id}/close", headers=bearer(forum.moderator))
    assert closed.status_code == 200, closed.text
    problem = error(vote(client, bearer(forum.fan), poll.id, "consent"), 409)
    assert problem["message"] == "This poll is closed."
    assert ballot_count(db, poll.id) == 0


def test_a_withdrawn_proposal_takes_no_ballots(client, db, forum, poll, bearer):
    withdrawn = client.post(
        f"/api/v1/proposals/{forum.proposal.id}/withdraw",
        json={"reason": "Rewriting it."},
        headers=bearer(forum.author),
    )
    assert withdrawn.status_code == 200, withdrawn.text
    error(vote(client, bearer(forum.fan), poll.id, "consent"), 409)
    assert client.get(f"/api/v1/polls/{poll.id}").json()["outcome"] == "withdrawn"
    assert ballot_count(db, poll.id) == 0


def test_a_browser_session_casts_a_ballot_with_the_csrf_header(client, forum, poll):
    log_in(client, forum.fan.username)
    url = f"/api/v1/polls/{poll.id}/ballot"
    refused = client.put(url, json={"position": "consent"})
    assert error(refused, 403)["code"] == "forbidden"
    cast = client.put(
        url, json={"position": "consent"}, headers={"X-CSRF-Token": csrf_token(client)}
    )
    assert cast.status_code == 200, cast.text


# --- Objections, rulings, rounds ----------------------------------------------------------


def test_objections_are_listed_and_a_moderator_rules_one_not_paramount(
    client, db, forum, poll, bearer
):
    objected = vote(client, bearer(forum.fan), poll.id, "object", "Fan art sold at events.")
    ballot_id = objected.json()["ballot"]["id"]
    listed = client.get(f"/api/v1/polls/{poll.id}").json()["objections"]
    assert [(o["ballot_id"], o["voter"], o["reason"], o["ruling"]) for o in listed] == [
        (ballot_id, "fan_luka", "Fan art sold at events.", None)
    ]
    assert listed[0]["cast_at"] is not None
    url = f"/api/v1/polls/{poll.id}/objections/{ballot_id}/ruling"
    body = {"ruling": "not_paramount", "reason": "Clause 3.2 covers event sales."}

    error(client.post(url, json=body, headers=bearer(forum.fan)), 403)
    error(client.post(url, json={**body, "reason": "  "}, headers=bearer(forum.moderator)), 422)
    wrong = error(
        client.post(url, json={**body, "ruling": "paramount"}, headers=bearer(forum.moderator)), 422
    )
    assert "ruling" in wrong["fields"]
    assert db.scalar(select(func.count()).select_from(ObjectionRuling)) == 0

    ruled = client.post(url, json=body, headers=bearer(forum.moderator))
    assert ruled.status_code == 201, ruled.text
    assert ruled.json()["ballot_id"] == ballot_id
    assert (ruled.json()["ruling"], ruled.json()["moderator"]) == ("not_paramount", "mod_rin")
    assert ruled.json()["reason"] == "Clause 3.2 covers event sales."
    again = error(client.post(url, json=body, headers=bearer(forum.moderator)), 409)
    assert "already" in again["message"]
    listed = client.get(f"/api/v1/polls/{poll.id}").json()["objections"]
    assert listed[0]["ruling"]["reason"] == "Clause 3.2 covers event sales."
    mine = client.get(f"/api/v1/polls/{poll.id}/ballot", headers=bearer(forum.fan)).json()
    assert mine["ballot"]["ruling"]["moderator"] == "mod_rin"


def test_rulings_only_on_open_objections_of_the_poll(client, forum, poll, bearer):
    consent = vote(client, bearer(forum.fan), poll.id, "consent").json()["ballot"]["id"]
    body = {"ruling": "not_paramount", "reason": "Not an objection."}
    moderator = bearer(forum.moderator)
    url = f"/api/v1/polls/{poll.id}/objections"
    error(client.post(f"{url}/{consent}/ruling", json=body, headers=moderator), 409)
    error(client.post(f"{url}/999999/ruling", json=body, headers=moderator), 404)
    error(client.post(f"{url}/0/ruling", json=body, headers=moderator), 422)


def test_amending_during_the_poll_starts_a_new_round(client, db, forum, poll, bearer):
    fan = bearer(forum.fan)
    vote(client, fan, poll.id, "object", "Too vague.")
    amended = client.patch(
        f"/api/v1/proposals/{forum.proposal.id}",
        json={
            "base_revision": 1,
            "norm_text": "Every derivative drawing credits the illustrator by name.",
            "message": "Name the illustrator.",
        },
        headers=bearer(forum.author),
    )

    assert amended.status_code == 200, amended.text
    assert (amended.json()["state"], amended.json()["current_revision"]) == ("voting", 2)
    body = client.get(f"/api/v1/polls/{poll.id}", headers=fan).json()
    assert (body["round"], body["revision"]) == (2, 2)
    assert [(r["number"], r["revision"]) for r in body["rounds"]] == [(1, 1), (2, 2)]
    assert all(r["started_at"] for r in body["rounds"])
    # The objection of round 1 no longer counts; the objector is asked to vote again.
    assert body["objections"] == []
    assert (body["viewer"]["voted"], body["viewer"]["missed_round"]) == (False, True)
    mine = client.get(f"/api/v1/polls/{poll.id}/ballot", headers=fan).json()
    assert mine["ballot"] is None
    assert [(b["round"], b["counted"]) for b in mine["history"]] == [(1, False)]
    again = vote(client, fan, poll.id, "consent")
    assert again.json()["ballot"]["round"] == 2


def test_amendments_stop_at_the_poll_s_last_round(client, db, forum, open_poll, bearer):
    poll = open_poll(max_rounds=1)
    patch = {"base_revision": 1, "norm_text": "A different text.", "message": "Rewrite."}
    url = f"/api/v1/proposals/{forum.proposal.id}"

    error(client.patch(url, json=patch, headers=bearer(forum.fan)), 403)
    problem = error(client.patch(url, json=patch, headers=bearer(forum.author)), 409)
    assert "rounds" in problem["message"]
    db.refresh(forum.proposal)
    assert forum.proposal.revision_number == 1
    assert db.scalar(select(func.count()).where(PollRound.poll_id == poll.id)) == 1


def test_the_text_is_final_once_the_poll_closed(client, db, forum, poll, bearer):
    client.post(f"/api/v1/polls/{poll.id}/close", headers=bearer(forum.moderator))
    patch = {"base_revision": 1, "norm_text": "Too late.", "message": "Late."}
    error(
        client.patch(
            f"/api/v1/proposals/{forum.proposal.id}", json=patch, headers=bearer(forum.author)
        ),
        409,
    )
    db.refresh(forum.proposal)
    assert forum.proposal.revision_number == 1


# --- Closing, results, export -------------------------------------------------------------


def cast_round(client, forum, poll_id: int, bearer) -> None:
    positions = ["consent", "consent", "concern", "stand_aside", "consent"]
    for user, position in zip(forum.voters[1:], positions, strict=True):
        assert vote(client, bearer(user), poll_id, position).status_code == 200


def test_a_moderator_closes_early_and_the_results_show(client, db, forum, poll, bearer):
    cast_round(client, forum, poll.id, bearer)
    url = f"/api/v1/polls/{poll.id}"
    hidden = client.get(f"{url}/results").json()
    assert (hidden["visible"], hidden["tally"], hidden["outcome"]) == (False, None, None)
    assert "hidden until the poll closes" in hidden["message"]

    error(client.post(f"{url}/close", headers=bearer(forum.author)), 403)
    closed = client.post(f"{url}/close", headers=bearer(forum.moderator))

    assert closed.status_code == 200, closed.text
    body = closed.json()
    assert (body["state"], body["outcome"], body["closed_by"]) == ("closed", "passed", "mod_rin")
    assert body["closed_at"] is not None
    results = client.get(f"{url}/results").json()
    assert (results["state"], results["visible"], results["outcome"]) == ("closed", True, "passed")
    tally = results["tally"]
    assert tally["final"] is True
    assert {p: f["ballots"] for p, f in tally["positions"].items()} == {
        "consent": 3,
        "concern": 1,
        "object": 0,
        "stand_aside": 1,
    }
    assert (tally["eligible"], tally["participants"], tally["support"]) == (6, 5, 100.0)
    assert tally["sentence"].startswith("Passed:")
    assert results["message"] == tally["sentence"]
    # Named polls list every counted ballot with its voter once the count is visible.
    page = client.get(f"{url}/ballots?limit=3").json()
    assert (page["visible"], page["named"]) == (True, True)
    rest = client.get(f"{url}/ballots?limit=3&cursor={page['next_cursor']}").json()
    assert rest["next_cursor"] is None
    ballots = page["items"] + rest["items"]
    assert [b["cast_at"] for b in ballots] == sorted(b["cast_at"] for b in ballots)
    objections = client.get(f"{url}/ballots?position=concern").json()["items"]
    assert [b["voter"] for b in objections] == ["fan_meiko"]
    assert {(b["voter"], b["position"]) for b in ballots} == {
        ("author_kaito", "consent"),
        ("fan_luka", "consent"),
        ("fan_meiko", "concern"),
        ("fan_len", "stand_aside"),
        ("rights_crypton", "consent"),
    }
    assert client.get(f"/api/v1/proposals/{forum.proposal.id}").json()["state"] == "passed"
    assert error(client.post(f"{url}/close", headers=bearer(forum.moderator)), 409)


def test_the_export_waits_for_the_close_and_recounts(client, db, forum, poll, bearer):
    url = f"/api/v1/polls/{poll.id}"
    cast_round(client, forum, poll.id, bearer)
    assert "closed" in error(client.get(f"{url}/export"), 409)["message"]
    error(client.get(f"{url}/export.csv"), 409)
    client.post(f"{url}/close", headers=bearer(forum.moderator))

    exported = client.get(f"{url}/export")
    assert exported.status_code == 200, exported.text
    data = exported.json()
    assert (data["poll"]["id"], data["poll"]["outcome"], data["poll"]["round"]) == (
        poll.id,
        "passed",
        1,
    )
    assert data["roll"] == [
        {"constituency": "creator", "voters": 1, "weight": 1},
        {"constituency": "fan", "voters": 3, "weight": 3},
        {"constituency": "moderator", "voters": 1, "weight": 1},
        {"constituency": "rights_holder", "voters": 1, "weight": 1},
    ]
    assert len(data["ballots"]) == 5
    assert all(RECEIPT.match(b["receipt"]) for b in data["ballots"])
    assert {b["voter"] for b in data["ballots"]} >= {"fan_luka", "author_kaito"}
    assert data["tally"]["outcome"] == "passed"
    assert service.verify(data).matches

    csv = client.get(f"{url}/export.csv")
    assert csv.status_code == 200, csv.text
    assert csv.headers["content-type"].startswith("text/csv")
    assert f'filename="poll-{poll.id}.csv"' in csv.headers["content-disposition"]
    lines = csv.text.splitlines()
    assert [line.split(":")[0] for line in lines[:4]] == ["# poll", "# policy", "# roll", "# tally"]
    assert json.loads(lines[3].split(":", 1)[1]) == data["tally"]
    assert lines[4] == "receipt,round,position,ruled_not_paramount,weight,constituency,voter,reason"
    assert len(lines) == 5 + 5
    again = exports.from_csv(csv.text)
    assert service.verify(again).matches
    assert sorted(b["receipt"] for b in again["ballots"]) == sorted(
        b["receipt"] for b in data["ballots"]
    )


def test_csv_cells_never_run_as_spreadsheet_formulas(client, forum, poll, bearer):
    vote(client, bearer(forum.fan), poll.id, "concern", '=HYPERLINK("http://example.org")')
    client.post(f"/api/v1/polls/{poll.id}/close", headers=bearer(forum.moderator))
    text = client.get(f"/api/v1/polls/{poll.id}/export.csv").text
    assert ',"\'=HYPERLINK(""http://example.org"")"' in text


def test_a_poll_past_its_time_reads_closed_and_exports_once_swept(
    client, db, forum, open_poll, bearer
):
    poll = open_poll(at=utcnow() - timedelta(days=8))
    body = client.get(f"/api/v1/polls/{poll.id}").json()
    assert (body["state"], body["outcome"], body["results_visible"]) == ("closed", "rejected", True)
    assert body["tally"]["decided_by"] == "quorum"
    error(vote(client, bearer(forum.fan), poll.id, "consent"), 409)
    error(client.get(f"/api/v1/polls/{poll.id}/export"), 409)

    assert service.sweep(db, utcnow()) == 1

    assert client.get(f"/api/v1/polls/{poll.id}/export").status_code == 200


# --- The community's policy ---------------------------------------------------------------


def test_the_community_policy_is_read_and_changed_by_moderators(client, db, forum, poll, bearer):
    url = "/api/v1/communities/miku/poll-policy"
    read = client.get(url)
    assert read.status_code == 200, read.text
    assert read.json()["quorum"] == 25
    assert [e["setting"] for e in read.json()["explanations"]][:3] == [
        "Weights",
        "Quorum",
        "Threshold",
    ]
    error(client.put(url, json={"quorum": 30}, headers=bearer(forum.fan)), 403)
    error(client.put(url, json={"quorum": 30}), 401)
    problem = error(
        client.put(url, json={"quorum": -1, "max_rounds": 99}, headers=bearer(forum.moderator)), 422
    )
    assert set(problem["fields"]) == {"quorum", "max_rounds"}
    assert db.scalar(select(func.count()).select_from(PolicyChange)) == 0
    error(client.get("/api/v1/communities/nowhere/poll-policy"), 404)

    changed = client.put(
        url, json={"quorum": 30, "role_weights.creator": 4}, headers=bearer(forum.moderator)
    )

    assert changed.status_code == 200, changed.text
    assert (changed.json()["quorum"], changed.json()["role_weights"]["creator"]) == (30, 4)
    assert client.get(url).json()["quorum"] == 30
    assert client.get("/api/v1/communities/miku").json()["poll_policy"]["quorum"] == 30
    # The running poll keeps the policy it opened with.
    assert client.get(f"/api/v1/polls/{poll.id}").json()["policy"]["quorum"] == 25


def test_the_community_patch_sets_the_poll_policy(client, db, forum, bearer):
    url = "/api/v1/communities/miku"
    patched = client.patch(
        url,
        json={
            "description": "Miku fans.",
            "poll_policy": {"threshold": 70, "ballots": "anonymous"},
        },
        headers=bearer(forum.moderator),
    )
    assert patched.status_code == 200, patched.text
    policy = patched.json()["poll_policy"]
    assert (policy["threshold"], policy["ballots"]) == (70, "anonymous")

    refused = client.patch(
        url,
        json={"description": "Changed again.", "poll_policy": {"quorum": 500}},
        headers=bearer(forum.moderator),
    )

    assert "poll_policy.quorum" in error(refused, 422)["fields"]
    # Nothing of the refused request is stored, the description included.
    community = client.get(url).json()
    assert (community["description"], community["poll_policy"]["quorum"]) == ("Miku fans.", 25)
    error(client.patch(url, json={"poll_policy": {"quorum": 30}}, headers=bearer(forum.fan)), 403)
    assert client.get("/api/v1/communities").json()["items"][0]["slug"] == "miku"


def test_the_openapi_schema_documents_every_poll_operation(client):
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    expected = {
        "/api/v1/proposals/{proposal_id}/poll": {"get", "post"},
        "/api/v1/polls/{poll_id}": {"get"},
        "/api/v1/polls/{poll_id}/ballot": {"get", "put"},
        "/api/v1/polls/{poll_id}/close": {"post"},
        "/api/v1/polls/{poll_id}/results": {"get"},
        "/api/v1/polls/{poll_id}/export": {"get"},
        "/api/v1/polls/{poll_id}/export.csv": {"get"},
        "/api/v1/polls/{poll_id}/objections/{ballot_id}/ruling": {"post"},
        "/api/v1/communities/{slug}/poll-policy": {"get", "put"},
    }
    for path, methods in expected.items():
        assert path in paths, path
        assert set(paths[path]) >= methods, path
        for method in methods:
            operation = paths[path][method]
            assert operation["tags"] == ["polls"]
            assert {"401", "403", "404", "422"} <= set(operation["responses"]), (path, method)
    assert "409" in paths["/api/v1/polls/{poll_id}/ballot"]["put"]["responses"]
    assert (
        "text/csv"
        in paths["/api/v1/polls/{poll_id}/export.csv"]["get"]["responses"]["200"]["content"]
    )
    community = schema["components"]["schemas"]["CommunityDetailOut"]
    assert "poll_policy" in community["properties"]
