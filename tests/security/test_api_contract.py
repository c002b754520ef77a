"""The API contract, proven by schemathesis against the live app on loopback.

Every /api/v1 operation is run with all of schemathesis's checks (no 500, responses that match
their schema, no undocumented status code, schema-valid input accepted, invalid input refused,
405 with a right `Allow`, ...), once as a member and once as a moderator, each on a fresh
database of the kind under test (`--db`) seeded with the demo, so that the generated requests
reach real communities, proposals, polls, works and guidelines.

Slow (a minute or so per run): marked `check_security`, so it runs in `make check-security`,
not in `make test`. `NORMSFORUM_CONTRACT_EXAMPLES` and `NORMSFORUM_CONTRACT_SEED` change the
number of examples per operation and the seed for a longer or different exploration.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app import demo, migrate
from app.accounts import service as accounts_service
from app.accounts.models import User
from app.communities.models import Category, Community, MemberWarning
from app.db import create_db_engine, utcnow
from app.discussion.models import Comment
from app.guidelines.models import Clause
from app.moderation.models import Appeal
from app.polls.models import Ballot, Poll
from app.proposals.models import Exhibit, Proposal
from app.works.models import Work
from tests.support import live

pytestmark = pytest.mark.check_security

ROLES = {"member": "fan_luka", "moderator": "mod_rin"}
API_PREFIX = "/api/v1/"
# Enough to reach the code behind each operation's validation while both roles on both
# databases stay within a few minutes; the coverage phase adds its boundary cases on top.
EXAMPLES = int(os.environ.get("NORMSFORUM_CONTRACT_EXAMPLES", "25"))
# Fixed, so that a failure in CI is reproducible; change it to explore further.
SEED = int(os.environ.get("NORMSFORUM_CONTRACT_SEED", "20261205"))
# How often a generated path or body parameter takes a value that exists in the demo, rather
# than a made-up one (which mostly meets a 404 and tests little else).
KNOWN_VALUE_PROBABILITY = 0.8


def seed_demo(url: str, username: str) -> tuple[str, dict[str, list[str | int]]]:
    """Migrate and seed the demo; return a write token of `username` and the demo's ids."""
    migrate.upgrade(url)
    engine = create_db_engine(url)
    try:
        with Session(engine) as db:
            now = utcnow()
            demo.seed(db, now=now)
            user = accounts_service.get_user(db, username)
            _, token = accounts_service.create_token(
                db, actor=user, name="schemathesis", scope="write", now=now
            )
            db.commit()
        return token, known_values(engine)
    finally:
        engine.dispose()


def known_values(engine: Engine) -> dict[str, list[str | int]]:
    """Values of the demo, by the dictionary names the schemathesis config binds."""
    queries: dict[str, Any] = {
        "slugs": select(Community.slug),
        "usernames": select(User.username),
        "categories": select(Category.name),
        "proposal_ids": select(Proposal.id),
        "work_ids": select(Work.id),
        "exhibit_ids": select(Exhibit.id),
        "comment_ids": select(Comment.id),
        "poll_ids": select(Poll.id),
        "ballot_ids": select(Ballot.id),
        "clause_numbers": select(Clause.number).distinct(),
        "appeal_ids": select(Appeal.id),
        "warning_ids": select(MemberWarning.id),
    }
    with Session(engine) as db:
        found = {name: list(db.scalars(query)) for name, query in queries.items()}
    return {name: values for name, values in found.items() if values}


# Which parameters take which demo values; a dictionary the demo leaves empty is left out.
# A body value is written in wherever the generated body has the key, whatever else it holds:
# bodies naming exactly one of comment, work, ... leave the others out (not null) for that
# reason (app/web/api.py exactly_one_of).
BINDINGS = {
    "path.slug": "slugs",
    "path.username": "usernames",
    "path.category": "categories",
    "path.proposal_id": "proposal_ids",
    "path.work_id": "work_ids",
    "path.exhibit_id": "exhibit_ids",
    "path.comment_id": "comment_ids",
    "path.poll_id": "poll_ids",
    "path.ballot_id": "ballot_ids",
    "path.number": "clause_numbers",
    "path.appeal_id": "appeal_ids",
    "path.warning_id": "warning_ids",
    "body.username": "usernames",
    "body.work": "work_ids",
    "body.parent": "comment_ids",
    "body.comment": "comment_ids",
    "body.proposal": "proposal_ids",
    "body.parents[*]": "work_ids",
    "body.anchor.work": "work_ids",
}


# Operations whose input is checked against what is stored, which no schema can say: for them
# a schema-valid request may be refused with 422 (with `fields` saying why), and the
# positive_data_acceptance check accepts that answer. Every other check stays as it is, and so
# does every other operation. Keep the reason with each entry.
STATE_CHECKED = {
    "POST /api/v1/communities/{slug}/proposals": "the category and target clause must exist",
    "PATCH /api/v1/proposals/{proposal_id}": "a text edit names the current revision; the "
    "category must exist",
    "POST /api/v1/proposals/{proposal_id}/publish": "the proposal must be complete first",
    "POST /api/v1/proposals/{proposal_id}/coauthors": "the co-author must be a member",
    "POST /api/v1/proposals/{proposal_id}/exhibits": "the work must be of the community and "
    "not exhibited yet",
    "POST /api/v1/proposals/{proposal_id}/comments": "the parent must be in the thread, an "
    "anchor on an exhibited work; an Idempotency-Key is not reused for another comment",
    "PUT /api/v1/polls/{poll_id}/ballot": "an Idempotency-Key is not reused for another ballot",
    "GET /api/v1/communities/{slug}/guidelines": "as_of must not precede the first version",
    "PUT /api/v1/communities/{slug}/guidelines/clauses/{number}/translations/{lang}": "the "
    "clause must be in force, and the language not the one its text is written in",
    "POST /api/v1/communities/{slug}/works": "the creator must be a member, parents works of "
    "the community; an excerpt fits text works, a duration timed ones",
    "PATCH /api/v1/works/{work_id}": "as for creating a work",
    "PATCH /api/v1/comments/{comment_id}": "only a top-level comment takes a stance",
    "POST /api/v1/me/deletion": "the password must be the member's",
    "POST /api/v1/communities/{slug}/categories": "the name must be new in the community",
    "PATCH /api/v1/communities/{slug}/categories/{category}": "a new name must be new in the "
    "community",
    "PUT /api/v1/works/{work_id}/preview": "an image file (as its bytes say), for image works only",
    "PUT /api/v1/communities/{slug}/poll-policy": "the constituency shares, with those left as "
    "they are, must add up to 100",
    "PATCH /api/v1/communities/{slug}": "poll_policy: as for the poll policy",
    "POST /api/v1/proposals/{proposal_id}/poll": "overrides: as for the poll policy",
}
ACCEPTED_FOR_VALID_INPUT = ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]


def toml_string(value: str) -> str:
    return json.dumps(value)


def write_config(path: Path, values: dict[str, list[str | int]]) -> None:
    """A schemathesis.toml: the token from the environment, the demo's values as dictionaries."""
    lines = [
        # No failures remembered between runs: each run stands on its seed alone.
        "[cache]",
        "enabled = false",
        "",
        "[headers]",
        'Authorization = "Bearer ${NORMSFORUM_CONTRACT_TOKEN}"',
        "",
    ]
    for name, entries in values.items():
        rendered = ", ".join(
            str(entry) if isinstance(entry, int) else toml_string(entry) for entry in entries
        )
        lines += [f"[dictionaries.{name}]", f"values = [{rendered}]", ""]
    lines.append("[parameters]")
    # Cursors are opaque tokens the server hands out; one made up is refused (422) by design,
    # which no schema can say: every request pages from the start.
    lines.append('"query.cursor" = ""')
    for key, name in BINDINGS.items():
        if name in values:
            lines.append(
                f"{toml_string(key)} = "
                f'{{ dictionary = "{name}", probability = {KNOWN_VALUE_PROBABILITY} }}'
            )
    for name in STATE_CHECKED:
        lines += [
            "",
            "[[operations]]",
            f"include-name = {toml_string(name)}",
            "checks.positive_data_acceptance.expected-statuses = "
            + json.dumps(ACCEPTED_FOR_VALID_INPUT),
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def api_operation_count(base: str) -> int:
    document = httpx.get(base + "/openapi.json", timeout=10).json()
    return sum(
        1
        for route, item in document["paths"].items()
        if route.startswith(API_PREFIX)
        for method in item
        if method in {"get", "put", "post", "patch", "delete"}
    )


def run_schemathesis(base: str, config: Path, token: str, report: Path) -> int:
    """Run `st run` over every /api/v1 operation; its output goes to the test's output."""
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(config),
        "run",
        base + "/openapi.json",
        "--include-path-regex",
        "^" + API_PREFIX,
        "--checks",
        "all",
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        str(SEED),
        "--workers",
        "2",
        # No example database in the work tree: each run starts from the seed alone.
        "--generation-database",
        "none",
        "--report",
        "json",
        "--report-json-path",
        str(report),
        "--no-color",
    ]
    env = {**os.environ, "NORMSFORUM_CONTRACT_TOKEN": token}
    # Run in the test's own folder, so that nothing schemathesis writes lands in the work tree.
    return subprocess.run(command, env=env, cwd=report.parent, check=False, timeout=900).returncode


@pytest.mark.parametrize("role", list(ROLES))
def test_every_api_operation_keeps_its_contract(role, make_database_url, db_kind, tmp_path):
    url = make_database_url(f"contract_{role}")
    token, values = seed_demo(url, ROLES[role])
    config = tmp_path / "schemathesis.toml"
    write_config(config, values)
    report_path = tmp_path / "report.json"
    started = time.monotonic()
    with live.serve(url) as base:
        operations = api_operation_count(base)
        exit_code = run_schemathesis(base, config, token, report_path)
    elapsed = time.monotonic() - started
    report = json.loads(report_path.read_text(encoding="utf-8"))
    failures = sum(group["count"] for group in report["failures"])
    print(
        f"\nAPI contract as {role} on {db_kind}: {report['operations']['tested']} of "
        f"{operations} operations, {report['test_cases']['generated']} test cases, "
        f"{failures} failures, {len(report['errors'])} errors, {elapsed:.0f} s"
    )
    assert report["operations"]["tested"] == operations, report["operations"]
    assert failures == 0, report["failures"]
    assert not report["errors"], report["errors"]
    assert exit_code == 0
