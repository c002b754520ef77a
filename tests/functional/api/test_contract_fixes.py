"""Defects the schemathesis contract run (tests/security/test_api_contract.py) found, kept fixed."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jsonschema_rs
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from app import demo, migrate
from app.accounts import service as accounts_service
from app.accounts.models import AccessToken, User, UserSession
from app.communities import service as communities_service
from app.db import create_db_engine, utcnow
from app.discussion import service as discussion_service
from app.discussion.models import Comment
from app.guidelines import service as guidelines_service
from app.guidelines.models import Clause
from app.guidelines.schemas import KNOWN_TAG, rules_pattern
from app.main import create_app
from app.proposals.models import Proposal, ProposalState
from app.web.api import NOT_BLANK, SPACE, trimmed
from app.works.models import Work
from tests.conftest import log_in, make_settings
from tests.factories import make_user
from tests.functional.api.helpers import assert_error

ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}


@pytest.fixture(scope="module")
def schema(app: FastAPI) -> dict[str, Any]:
    document: dict[str, Any] = app.openapi()
    return document


def test_a_405_lists_every_method_of_the_path_in_allow(client):
    # Starlette named only the methods of the first route that matched the path.
    response = client.request("OPTIONS", "/api/v1/comments/1")
    assert_error(response, 405, "method_not_allowed")
    allowed = {m.strip() for m in response.headers["allow"].split(",")}
    assert {"GET", "PATCH", "DELETE"} <= allowed


def test_a_405_on_a_page_lists_every_method_too(client):
    response = client.request("PUT", "/login")
    assert response.status_code == 405
    assert {"GET", "POST"} <= {m.strip() for m in response.headers["allow"].split(",")}


def test_a_body_that_is_not_utf8_json_answers_a_declared_400(client, db, bearer, schema):
    user = make_user(db, "luka")
    response = client.post(
        "/api/v1/communities",
        content=b"\xff\xfe{",
        headers={**bearer(user), "Content-Type": "application/json"},
    )
    assert_error(response, 400, "bad_request")
    responses = schema["paths"]["/api/v1/communities"]["post"]["responses"]
    assert responses["400"]["content"]["application/json"]["schema"] == ERROR_REF


def test_every_operation_with_a_body_declares_the_400(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "requestBody" in operation:
                assert "400" in operation["responses"], f"{method.upper()} {path}"


def test_operations_without_a_body_do_not_declare_it(schema):
    assert "400" not in schema["paths"]["/api/v1/communities"]["get"]["responses"]


def component(schema: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = schema["components"]["schemas"][name]
    return found


def query_parameter(schema: dict[str, Any], path: str, name: str) -> dict[str, Any]:
    for parameter in schema["paths"][path]["get"]["parameters"]:
        if parameter["name"] == name:
            found: dict[str, Any] = parameter["schema"]
            return found
    raise AssertionError(f"{path} has no parameter {name}")


def test_list_filters_state_the_values_they_take(schema):
    proposals = "/api/v1/communities/{slug}/proposals"
    assert "closing" in query_parameter(schema, proposals, "sort")["enum"]
    assert "voting" in query_parameter(schema, proposals, "state")["enum"]
    works = query_parameter(schema, "/api/v1/communities/{slug}/works", "medium")
    assert "ai_model" in works["enum"]
    log = query_parameter(schema, "/api/v1/communities/{slug}/moderation-log", "action")
    assert "" in log["enum"]
    guidelines = "/api/v1/communities/{slug}/guidelines"
    assert "ai-generated" in str(query_parameter(schema, guidelines, "tag"))
    assert {"format": "date"} in query_parameter(schema, guidelines, "as_of")["oneOf"]


def test_an_unknown_guidelines_tag_is_refused_by_the_schema_itself(client, db):
    from tests.factories import make_community

    make_community(db, "miku")
    response = client.get("/api/v1/communities/miku/guidelines", params={"tag": "nope"})
    assert_error(response, 422, "validation_failed")
    assert "tag" in response.json()["error"]["fields"]


def test_bodies_that_name_exactly_one_item_say_so(schema):
    for name, fields in (
        ("ResolveIn", ["comment", "work", "proposal"]),
        ("RestoreIn", ["comment", "work"]),
        ("AppealIn", ["comment", "work", "suspension"]),
    ):
        branches = component(schema, name)["oneOf"]
        assert [b["required"] for b in branches] == [[f] for f in fields], name
        # The others are left out, not null: a body the fuzzer fills with known ids (where it
        # has the key) then still names one.
        for branch, chosen in zip(branches, fields, strict=True):
            assert {f for f in fields if branch["properties"][f] is False} == set(fields) - {chosen}


def test_text_rules_of_the_services_are_in_the_schema(schema):
    flag = component(schema, "FlagCreate")["properties"]["reason"]
    assert flag["pattern"] == trimmed(500)
    comment = component(schema, "CommentCreate")["properties"]
    assert comment["body"]["pattern"] == trimmed(10_000)
    assert comment["alignment"]["enum"] == ["supports", "opposes", "neutral", "question", "", None]
    ballot = component(schema, "BallotIn")
    assert ballot["properties"]["position"]["enum"] == [
        "consent",
        "concern",
        "object",
        "stand_aside",
    ]
    assert len(ballot["anyOf"]) == 2
    withdraw = component(schema, "WithdrawBody")["properties"]["reason"]
    assert withdraw["pattern"] == trimmed(300, min_length=0)
    assert len(component(schema, "MarkRead")["oneOf"]) == 2


def test_ids_past_the_32_bit_columns_are_input_errors_not_server_errors(client, db, bearer):
    # PostgreSQL refused them ("integer out of range"): a 500 on 47 operations.
    user = make_user(db, "luka")
    for path in ("/api/v1/proposals/2147483648", "/api/v1/works/2147483648/lineage"):
        assert_error(client.get(path, headers=bearer(user)), 422, "validation_failed")
    assert client.get("/api/v1/proposals/2147483647", headers=bearer(user)).status_code == 404


@pytest.fixture
def file_app(tmp_path) -> Iterator[tuple[FastAPI, Any]]:
    """The app on a database file of its own, committing for real, as when it serves."""
    url = f"sqlite:///{tmp_path / 'touch.sqlite'}"
    migrate.upgrade(url)
    app = create_app(make_settings(url))
    engine = create_db_engine(url)
    yield app, engine
    engine.dispose()
    app.state.engine.dispose()


def flushes_of_reading_sessions(app: FastAPI) -> list[str]:
    """Record every flush a read-only request session makes (there should be none)."""
    factory = app.state.session_factory
    flushes: list[str] = []

    def recording(write: bool) -> Session:
        session: Session = factory(write)
        if not write:
            event.listen(session, "after_flush", lambda s, _: flushes.append(repr(s.dirty)))
        return session

    app.state.session_factory = recording
    return flushes


def test_a_get_records_a_token_use_outside_its_read_transaction(file_app):
    # Written in the read transaction, the use failed with "database is locked" (a 500) on
    # SQLite whenever another request had written in between.
    app, engine = file_app
    with Session(engine) as db:
        user = make_user(db, "luka")
        _, plain = accounts_service.create_token(
            db, actor=user, name="cli", scope="read", now=utcnow()
        )
        db.commit()
    flushes = flushes_of_reading_sessions(app)
    with TestClient(app) as client:
        response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"})
    assert response.status_code == 200, response.text
    assert flushes == []
    with Session(engine) as db:
        assert db.scalar(select(AccessToken.last_used_at)) is not None


def test_a_get_records_a_session_use_outside_its_read_transaction(file_app):
    app, engine = file_app
    with Session(engine) as db:
        make_user(db, "luka")
        db.commit()
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        log_in(client, "luka")
        an_hour_ago = utcnow() - timedelta(hours=1)
        with Session(engine) as db:
            db.execute(update(UserSession).values(last_seen_at=an_hour_ago))
            db.commit()
        flushes = flushes_of_reading_sessions(app)
        assert client.get("/api/v1/me").status_code == 200
    assert flushes == []
    with Session(engine) as db:
        seen = db.scalar(select(UserSession.last_seen_at))
    assert seen is not None
    assert seen > an_hour_ago


# --- The services' rules, written into the request schemas -----------------------------------
#
# Each rule the schema now states is still the service's (or, for whole numbers and booleans,
# the model's) to enforce: an invalid value gets a 422 naming the field.


@dataclass(frozen=True)
class Demo:
    moderator: User
    fan: User
    proposal: Proposal
    comment: Comment
    work: Work
    clause: str


@pytest.fixture
def demo_world(db) -> Demo:
    demo.seed(db, now=utcnow())
    miku = communities_service.get_community(db, "miku")
    fan = accounts_service.get_user(db, "fan_luka")
    proposal = db.scalar(
        select(Proposal).where(
            Proposal.community_id == miku.id, Proposal.state == ProposalState.deliberation
        )
    )
    comment = db.scalar(select(Comment).where(Comment.author_id == fan.id).order_by(Comment.id))
    work = db.scalar(select(Work).where(Work.community_id == miku.id).order_by(Work.id))
    clause = db.scalar(select(Clause.number).where(Clause.community_id == miku.id))
    assert proposal is not None
    assert comment is not None
    assert work is not None
    assert clause is not None
    return Demo(accounts_service.get_user(db, "mod_rin"), fan, proposal, comment, work, clause)


def refused(response: Any, field: str) -> str:
    """The request was refused as invalid input, naming `field`; returns what it says."""
    error = assert_error(response, 422, "validation_failed")
    assert field in error["fields"], error
    problem: str = error["fields"][field]
    return problem


PADDED = " \x1c\u3000"  # spaces str.strip() takes off, \x1c and \u3000 too


def test_a_community_name_counts_after_trimming_and_a_description_as_sent(
    client, bearer, demo_world, schema
):
    headers = bearer(demo_world.moderator)
    patch = "/api/v1/communities/miku"
    refused(client.patch(patch, json={"name": PADDED + "ab" + PADDED}, headers=headers), "name")
    refused(client.patch(patch, json={"description": "x" * 5001}, headers=headers), "description")
    refused(
        client.patch(patch, json={"min_deliberation_hours": "5"}, headers=headers),
        "min_deliberation_hours",
    )
    refused(
        client.patch(patch, json={"ratification_requires_rights_holder": 0}, headers=headers),
        "ratification_requires_rights_holder",
    )
    padded = PADDED + "abc" + " " * 150
    answer = client.patch(
        patch, json={"name": padded, "min_deliberation_hours": 48.0}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["name"] == "abc"
    assert answer.json()["min_deliberation_hours"] == 48
    update = component(schema, "CommunityUpdate")["properties"]
    assert update["name"]["pattern"] == trimmed(80, min_length=3)
    assert update["description"]["maxLength"] == 5000


def test_a_category_name_and_description_count_after_trimming(client, bearer, demo_world):
    headers = bearer(demo_world.moderator)
    add = "/api/v1/communities/miku/categories"
    refused(client.post(add, json={"name": " a "}, headers=headers), "name")
    refused(
        client.post(add, json={"name": "Fine", "description": "d" * 301}, headers=headers),
        "description",
    )
    answer = client.post(
        add, json={"name": "Fine", "description": "d" * 300 + "  "}, headers=headers
    )
    assert answer.status_code == 201, answer.text


def test_a_role_change_names_a_role_and_a_reason(client, bearer, demo_world, schema):
    headers = bearer(demo_world.moderator)
    put = "/api/v1/communities/miku/members/fan_luka"
    refused(client.put(put, json={"role": "admin", "reason": "Why not"}, headers=headers), "role")
    refused(client.put(put, json={"role": "creator", "reason": PADDED}, headers=headers), "reason")
    refused(
        client.put(put, json={"role": "creator", "reason": "r" * 501}, headers=headers), "reason"
    )
    assert component(schema, "RoleUpdate")["properties"]["role"]["enum"] == [
        "fan",
        "creator",
        "rights_holder",
        "moderator",
    ]


def test_poll_policy_settings_state_their_ranges_and_names(client, bearer, demo_world, schema):
    headers = bearer(demo_world.moderator)
    put = "/api/v1/communities/miku/poll-policy"
    refused(client.put(put, json={"max_rounds": 11}, headers=headers), "max_rounds")
    refused(
        client.put(put, json={"moderators_vote_as": "moderator"}, headers=headers),
        "moderators_vote_as",
    )
    refused(client.put(put, json={"role_weights.fan": 0}, headers=headers), "role_weights.fan")
    refused(
        client.put(put, json={"role_weights": {"admin": 2}}, headers=headers), "role_weights.admin"
    )
    # Another key is no setting, even null; a number is no text.
    refused(client.put(put, json={"quorom": None}, headers=headers), "quorom")
    refused(client.put(put, json={"quorum": "30"}, headers=headers), "quorum")
    answer = client.put(put, json={"quorum": 30.0, "role_weights.creator": 3}, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["quorum"] == 30
    assert answer.json()["role_weights"]["creator"] == 3
    policy = component(schema, "PolicyIn")
    assert policy["additionalProperties"] is False
    assert policy["properties"]["role_weights.creator"]["maximum"] == 100
    assert policy["properties"]["max_rounds"]["maximum"] == 10


def test_imported_rules_need_a_rule_and_clause_tags_known_ones(client, bearer, demo_world):
    headers = bearer(demo_world.moderator)
    markdown = "## Only a heading\n\n- \n1.  \n"
    answer = client.post(
        "/api/v1/communities/miku/guidelines/import", json={"markdown": markdown}, headers=headers
    )
    refused(answer, "markdown")
    tags = f"/api/v1/communities/miku/guidelines/clauses/{demo_world.clause}/tags"
    refused(client.put(tags, json={"tags": ["image", "nope"]}, headers=headers), "tags")
    answer = client.put(tags, json={"tags": [" image ", "", "ai-generated"]}, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["tags"] == ["ai-generated", "image"]


def test_hiding_needs_a_reason_and_restoring_takes_a_short_one(client, bearer, demo_world):
    headers = bearer(demo_world.moderator)
    comment, work = demo_world.comment.id, demo_world.work.id
    refused(
        client.post(f"/api/v1/comments/{comment}/hide", json={"reason": PADDED}, headers=headers),
        "reason",
    )
    refused(client.post(f"/api/v1/works/{work}/hide", json={}, headers=headers), "reason")
    refused(
        client.post(f"/api/v1/works/{work}/hide", json={"reason": "\x1c"}, headers=headers),
        "reason",
    )
    refused(
        client.post(f"/api/v1/works/{work}/restore", json={"reason": "r" * 501}, headers=headers),
        "reason",
    )
    assert client.post(f"/api/v1/works/{work}/restore", headers=headers).status_code == 200


def test_warnings_and_suspensions_state_their_texts(client, bearer, demo_world):
    headers = bearer(demo_world.moderator)
    member = "/api/v1/communities/miku/members/fan_luka"
    refused(client.post(f"{member}/warnings", json={"message": PADDED}, headers=headers), "message")
    refused(
        client.post(
            f"{member}/warnings",
            json={"message": "Calm down.", "reason": "r" * 501},
            headers=headers,
        ),
        "reason",
    )
    refused(
        client.post(f"{member}/suspension", json={"days": 3, "reason": ""}, headers=headers),
        "reason",
    )
    refused(
        client.post(f"{member}/suspension", json={"days": "3", "reason": "Spam"}, headers=headers),
        "days",
    )
    refused(client.post(f"{member}/suspension/lift", json={}, headers=headers), "reason")


def test_a_lock_needs_a_reason_an_unlock_takes_a_short_one(client, bearer, demo_world):
    headers = bearer(demo_world.moderator)
    proposal = f"/api/v1/proposals/{demo_world.proposal.id}"
    refused(client.post(f"{proposal}/lock", json={"reason": PADDED}, headers=headers), "reason")
    assert_error(client.post(f"{proposal}/lock", headers=headers), 422, "validation_failed")
    refused(
        client.post(f"{proposal}/unlock", json={"reason": "r" * 301}, headers=headers), "reason"
    )
    assert client.post(f"{proposal}/unlock", headers=headers).status_code == 200


def test_a_ratification_note_is_short_a_return_needs_a_reason(client, bearer, demo_world):
    headers = bearer(demo_world.moderator)
    proposal = f"/api/v1/proposals/{demo_world.proposal.id}"
    refused(client.post(f"{proposal}/ratify", json={"note": "n" * 501}, headers=headers), "note")
    refused(client.post(f"{proposal}/return", json={"reason": PADDED}, headers=headers), "reason")


def test_resolving_flags_fits_the_action_to_the_item(client, bearer, demo_world, schema):
    headers = bearer(demo_world.moderator)
    resolve = "/api/v1/communities/miku/flags/resolve"
    comment = demo_world.comment.id
    refused(
        client.post(
            resolve,
            json={"comment": comment, "action": "lock", "reason": "Heated"},
            headers=headers,
        ),
        "action",
    )
    refused(
        client.post(resolve, json={"comment": comment, "action": "hide"}, headers=headers), "reason"
    )
    refused(
        client.post(
            resolve,
            json={"comment": comment, "work": demo_world.work.id, "action": "dismiss"},
            headers=headers,
        ),
        "comment",
    )
    resolve_in = component(schema, "ResolveIn")
    assert resolve_in["oneOf"][2]["properties"]["action"]["enum"] == ["lock", "dismiss"]
    assert resolve_in["anyOf"][1]["required"] == ["reason"]


def test_an_appeal_names_one_item_and_says_why(client, db, bearer, demo_world):
    appeals = "/api/v1/communities/miku/appeals"
    fan = bearer(demo_world.fan)
    comment = demo_world.comment.id
    both = {"comment": comment, "work": demo_world.work.id, "message": "Please"}
    refused(client.post(appeals, json=both, headers=fan), "work")
    discussion_service.hide_comment(
        db, actor=demo_world.moderator, comment=demo_world.comment, reason="Off topic", now=utcnow()
    )
    refused(
        client.post(appeals, json={"comment": comment, "message": PADDED}, headers=fan), "message"
    )
    # A null for the others is no second item: the server ignores it, as the schema allows.
    answer = client.post(
        appeals, json={"comment": comment, "work": None, "message": "It was on topic."}, headers=fan
    )
    assert answer.status_code == 201, answer.text


def test_restoring_an_item_names_one_and_takes_a_short_reason(client, bearer, demo_world):
    headers = bearer(demo_world.moderator)
    restore = "/api/v1/communities/miku/moderation/restore"
    both = {"comment": demo_world.comment.id, "work": demo_world.work.id}
    refused(client.post(restore, json=both, headers=headers), "comment")
    one = {"work": demo_world.work.id, "comment": None, "reason": "r" * 501}
    refused(client.post(restore, json=one, headers=headers), "reason")


# The patterns as the contract fuzzer reads them (its validator is jsonschema_rs), against the
# services' own checks: a value matches exactly when the service takes it.
PIECES = [
    " ",
    "\t",
    "\n",
    "\r",
    "\r\n",
    "\x1c",
    "\x85",
    "\xa0",
    "\u3000",
    "\ufeff",
    "\u200b",
]
PIECES += ["\x00", "a", "b c", "#", "##", "####", "-", "*", "+", "1", "12", ".", ")", "\u0663"]
PIECES += ["\U0001d7ce", "**", "image", "ai-generated"]
texts = st.lists(st.sampled_from(PIECES), max_size=10).map("".join)


def matches(pattern: str) -> Callable[[str], bool]:
    validator = jsonschema_rs.validator_for({"type": "string", "pattern": pattern})
    return validator.is_valid


@settings(max_examples=500, deadline=None)
@given(texts | st.text(max_size=12))
def test_trimmed_patterns_take_what_the_services_take(text):
    kept = text.strip()
    for low, high in ((0, 1), (1, 1), (0, 3), (1, 3), (3, 5)):
        taken = "\x00" not in text and low <= len(kept) <= high
        assert matches(trimmed(high, min_length=low))(text) == taken, (low, high)
    assert matches(NOT_BLANK)(text) == ("\x00" not in text and bool(kept))
    assert matches(KNOWN_TAG)(text) == (kept == "" or kept in guidelines_service.TAGS)


@settings(max_examples=500, deadline=None)
@given(texts | st.text(max_size=12))
def test_the_rules_pattern_takes_what_the_import_takes(markdown):
    taken = "\x00" not in markdown and bool(guidelines_service.parse_rules(markdown))
    assert matches(rules_pattern())(markdown) == taken


def test_trimming_spaces_are_every_space_python_strips():
    space = re.compile(f"[{SPACE}]")
    assert all(bool(space.match(chr(c))) == chr(c).isspace() for c in range(0x110000))
