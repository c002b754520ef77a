"""What the API lets out of a poll: while results are hidden, no answer depends on how others
voted; anonymous polls never tie a voter to a ballot, for anyone, in any answer or export."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi.testclient import TestClient

from tests.functional.polls.conftest import Forum, Headers, vote

# Fields that move with any activity on the proposal: when, never how many or how.
ACTIVITY = {"last_activity_at"}
# Keys of a count: none may carry a value while results are hidden.
COUNTS = {
    "tally",
    "positions",
    "constituencies",
    "participating_weight",
    "participation",
    "support",
    "open_objections",
}
# Keys of a ballot: no object holding one of these may also name a voter of an anonymous poll.
BALLOT_KEYS = {"position", "reason", "receipt", "ballot_id", "ruled_not_paramount", "cast_at"}


def urls(forum: Forum, poll_id: int) -> list[str]:
    """Every API answer that says anything about the proposal or its poll."""
    proposal = f"/api/v1/proposals/{forum.proposal.id}"
    poll = f"/api/v1/polls/{poll_id}"
    return [
        f"{poll}",
        f"{poll}/results",
        f"{poll}/ballots",
        f"{poll}/ballots?position=object",
        f"{poll}/ballot",
        f"{poll}/export",
        f"{poll}/export.csv",
        f"{proposal}/poll",
        proposal,
        f"{proposal}/revisions",
        f"{proposal}/comments",
        "/api/v1/communities",
        "/api/v1/communities/miku",
        "/api/v1/communities/miku/poll-policy",
        "/api/v1/communities/miku/proposals",
        "/api/v1/communities/miku/proposals?sort=active",
    ]


def snapshot(
    client: TestClient, viewers: dict[str, Headers], targets: list[str]
) -> dict[tuple[str, str], Any]:
    answers: dict[tuple[str, str], Any] = {}
    for name, headers in viewers.items():
        for url in targets:
            response = client.get(url, headers=headers)
            assert response.status_code < 500, response.text
            is_json = response.headers["content-type"].startswith("application/json")
            body = response.json() if is_json else response.text
            answers[name, url] = (response.status_code, without(body, ACTIVITY))
    return answers


def without(value: Any, keys: set[str]) -> Any:
    if isinstance(value, dict):
        return {k: without(v, keys) for k, v in value.items() if k not in keys}
    if isinstance(value, list):
        return [without(item, keys) for item in value]
    return value


def objects(value: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object inside `value`, itself included."""
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from objects(item)
    elif isinstance(value, list):
        for item in value:
            yield from objects(item)


def test_hidden_results_reveal_no_count_before_close(client, forum, poll, bearer):
    headers = {user.username: bearer(user) for user in [*forum.voters, forum.outsider]}
    viewers = {
        "anonymous": {},
        "moderator": headers["mod_rin"],
        "voter": headers["fan_luka"],
        "outsider": headers["outsider"],
    }
    targets = urls(forum, poll.id)
    vote(client, viewers["voter"], poll.id, "consent")
    before = snapshot(client, viewers, targets)

    # Others vote: every position that does not list itself publicly (objections do, by
    # design: they are answered in the open).
    for name, position in [
        ("author_kaito", "consent"),
        ("fan_meiko", "concern"),
        ("fan_len", "stand_aside"),
        ("rights_crypton", "consent"),
    ]:
        assert vote(client, headers[name], poll.id, position).status_code == 200
    after = snapshot(client, viewers, targets)

    assert after == before
    for (_viewer, url), (status, body) in after.items():
        for item in objects(body):
            for key in COUNTS & set(item):
                assert item[key] in (None, {}, []), (url, key, item[key])
        if url.endswith("/results"):
            assert (status, body["visible"]) == (200, False)
        if url.endswith(("/export", "/export.csv")):
            assert status == 409

    client.post(f"/api/v1/polls/{poll.id}/close", headers=viewers["moderator"])
    for name, headers_of in viewers.items():
        tally = client.get(f"/api/v1/polls/{poll.id}", headers=headers_of).json()["tally"]
        assert tally["participants"] == 5, name
        assert tally["positions"]["consent"]["ballots"] == 3
        assert tally["positions"]["stand_aside"]["weight"] == 1
        results = client.get(f"/api/v1/polls/{poll.id}/results", headers=headers_of).json()
        assert results["visible"] is True
        assert results["tally"] == tally


def test_anonymous_polls_never_tie_a_voter_to_a_ballot(client, forum, open_poll, bearer):
    poll = open_poll(ballots="anonymous", results="live")
    headers = {user.username: bearer(user) for user in [*forum.voters, forum.outsider]}
    voters = {"author_kaito", "fan_luka", "fan_meiko", "fan_len", "rights_crypton"}
    names = voters | {u.display_name for u in forum.voters if u.username in voters}
    positions = ["object", "consent", "concern", "stand_aside", "consent"]
    for name, position in zip(sorted(voters), positions, strict=True):
        assert vote(client, headers[name], poll.id, position).status_code == 200
    objection = client.get(f"/api/v1/polls/{poll.id}").json()["objections"][0]
    ruled = client.post(
        f"/api/v1/polls/{poll.id}/objections/{objection['ballot_id']}/ruling",
        json={"ruling": "not_paramount", "reason": "Answered in the thread."},
        headers=headers["mod_rin"],
    )
    assert ruled.status_code == 201, ruled.text
    answers = [ruled.json()]

    def look(viewer: Headers) -> None:
        for url in urls(forum, poll.id):
            if url.endswith("/ballot"):
                continue  # the viewer's own ballots: theirs to see
            response = client.get(url, headers=viewer)
            if response.status_code != 200:
                continue
            if url.endswith(".csv"):
                assert not any(name in response.text for name in names), url
                continue
            answers.append(response.json())

    for viewer in [{}, *headers.values()]:
        look(viewer)
    client.post(f"/api/v1/polls/{poll.id}/close", headers=headers["mod_rin"])
    for viewer in [{}, *headers.values()]:
        look(viewer)

    for answer in answers:
        for item in objects(answer):
            if BALLOT_KEYS & set(item):
                assert not names & {v for v in item.values() if isinstance(v, str)}, item
    # An anonymous poll lists no ballots; after close, who took part (never how).
    page = client.get(f"/api/v1/polls/{poll.id}/ballots", headers=headers["mod_rin"]).json()
    assert (page["visible"], page["named"]) == (True, False)
    assert {p["username"] for p in page["items"]} == voters
    assert all(set(p) == {"username", "display_name"} for p in page["items"])
    assert objection["voter"] is None
    assert objection["cast_at"] is None
    export = client.get(f"/api/v1/polls/{poll.id}/export").json()
    assert all(b["voter"] is None and b["reason"] is None for b in export["ballots"])
    assert not names & {v for item in objects(export) for v in item.values() if isinstance(v, str)}
