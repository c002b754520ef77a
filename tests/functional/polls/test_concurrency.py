"""Ballots racing through a real server: one counted ballot per member, whatever the timing.

The transactional test client runs requests one at a time in one connection; only a server
of its own, on a committed database of the kind under test, lets requests truly race.
"""

from __future__ import annotations

import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import migrate
from app.accounts.models import User
from app.db import create_db_engine
from app.polls.models import Ballot
from tests.support.live import serve
from tests.support.polls import seed_poll

MEMBERS = 20
REQUESTS = 200
POSITIONS = ("consent", "concern", "object", "stand_aside")


def test_200_concurrent_ballots_from_20_members_leave_20_counted(make_database_url):
    url = make_database_url("ballots")
    migrate.upgrade(url)
    seeded = seed_poll(url, voters=MEMBERS, tokens=True)
    chooser = random.Random(5)
    # Every member sends ten ballots, all shuffled together.
    requests = [
        (name, chooser.choice(POSITIONS))
        for name in seeded.voters
        for _ in range(REQUESTS // MEMBERS)
    ]
    chooser.shuffle(requests)

    with (
        serve(url, sweep_interval_seconds="0") as base,
        httpx.Client(base_url=base, timeout=60) as http,
    ):

        def cast(request: tuple[str, str]) -> tuple[str, str, int]:
            name, position = request
            response = http.put(
                f"/api/v1/polls/{seeded.poll_id}/ballot",
                json={"position": position, "reason": f"{name}: {position}"},
                headers={"Authorization": f"Bearer {seeded.tokens[name]}"},
            )
            return name, position, response.status_code

        with ThreadPoolExecutor(max_workers=20) as pool:
            answers = list(pool.map(cast, requests))

    statuses = Counter(status for _, _, status in answers)
    assert set(statuses) <= {200, 409}, statuses
    assert statuses[200] >= MEMBERS
    # Every member got at least one ballot in.
    assert {name for name, _, status in answers if status == 200} == set(seeded.voters)
    engine = create_db_engine(url)
    try:
        with Session(engine) as db:
            counted = db.execute(
                select(User.username, Ballot.position, Ballot.reason)
                .join(Ballot, Ballot.voter_id == User.id)
                .where(Ballot.poll_id == seeded.poll_id, Ballot.round_number == 1, Ballot.latest)
            ).all()
            stored = db.scalars(select(Ballot).where(Ballot.poll_id == seeded.poll_id)).all()
    finally:
        engine.dispose()
    assert len(counted) == MEMBERS
    assert sorted(name for name, _, _ in counted) == sorted(seeded.voters)
    # Each counted ballot is one its member sent; every accepted request left one ballot.
    for name, position, reason in counted:
        assert reason == f"{name}: {position.value}"
        assert (name, position.value, 200) in answers
    assert len(stored) == statuses[200]
    # The counted ballot is each member's last: changes never went back in time.
    last = {}
    for ballot in sorted(stored, key=lambda b: b.id):
        last[ballot.voter_id] = ballot
    assert all(ballot.latest for ballot in last.values())
