"""`normsforum sweep`, `export-poll` and `verify-tally`: close due polls, export, recount."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from app.db import utcnow
from app.polls.models import Outcome, Poll
from tests.support.polls import SeededPoll, seed_poll


@pytest.fixture
def due(cli) -> SeededPoll:
    """A poll past its closing time with three consents and an objection-free count."""
    return seed_poll(
        cli.url,
        voters=4,
        opened_at=utcnow() - timedelta(days=8),
        positions=("consent", "consent", "concern"),
    )


def test_sweep_closes_due_polls_once(cli, cli_engine, due):
    running = seed_poll(cli.url, voters=2)

    first = cli.run("sweep")

    assert first.exit_code == 0, first.output
    assert first.output == "Closed 1 poll.\n"
    with Session(cli_engine) as db:
        closed = db.get(Poll, due.poll_id)
        assert closed is not None
        assert closed.outcome == Outcome.passed
        assert closed.tally is not None
        still = db.get(Poll, running.poll_id)
        assert still is not None
        assert still.closed_at is None
    again = cli.run("sweep")
    assert (again.exit_code, again.output) == (0, "Closed 0 polls.\n")


@pytest.mark.parametrize("form", ["json", "csv"])
def test_an_export_verifies_and_a_doctored_one_does_not(cli, due, tmp_path, form):
    assert cli.run("sweep").exit_code == 0
    exported = cli.run("export-poll", str(due.poll_id), *(["--csv"] if form == "csv" else []))
    assert exported.exit_code == 0, exported.output
    good = tmp_path / f"poll.{form}"
    good.write_text(exported.output)

    verified = cli.run("verify-tally", str(good))

    assert verified.exit_code == 0, verified.output
    assert verified.output.startswith("The recount matches the published tally: passed.")
    # One consent turned into an objection: the published "passed" no longer adds up.
    text = exported.output
    doctored = tmp_path / f"doctored.{form}"
    if form == "json":
        data = json.loads(text)
        data["ballots"][0]["position"] = "object"
        doctored.write_text(json.dumps(data))
    else:
        doctored.write_text(text.replace(",consent,", ",object,", 1))

    refused = cli.run("verify-tally", str(doctored))

    assert refused.exit_code == 1, refused.output
    assert "does NOT match" in refused.output
    assert "outcome: published 'passed', recounted 'rejected'" in refused.output


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "Cannot read"),
        ("not json at all", "is not a poll export"),
        ("[1, 2]", "is not a poll export"),
        ('{"policy": [], "roll": [], "ballots": [], "tally": {}}', "This is not a poll export"),
        ("# poll: {}\nreceipt\n", "the header lines lack policy, roll, tally"),
        ("# poll: {\n", "does not hold valid JSON"),
    ],
)
def test_verify_tally_refuses_what_is_not_an_export(cli, tmp_path, content, problem):
    path = tmp_path / "export.json"
    if content is not None:
        path.write_text(content)

    result = cli.run("verify-tally", str(path))

    assert result.exit_code == 2, result.output
    assert problem in result.output
    assert "Traceback" not in result.output


def test_export_poll_refuses_open_and_unknown_polls(cli):
    running = seed_poll(cli.url, voters=1)
    open_now = cli.run("export-poll", str(running.poll_id))
    assert open_now.exit_code == 1
    assert "once it is closed" in open_now.output
    missing = cli.run("export-poll", "999999")
    assert missing.exit_code == 1
    assert "There is no poll 999999." in missing.output
