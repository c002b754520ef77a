"""A second identical request that slipped past the service's check (a double click, two tabs).

The check is bypassed here so that the database's unique constraint is what refuses the
duplicate; the session must stay usable afterwards (only a savepoint is rolled back).
"""

from __future__ import annotations

import pytest

from app.errors import ValidationFailed
from app.proposals import service
from app.proposals.models import EventKind
from tests.unit.proposals.conftest import make_proposal


def test_a_second_follow_is_ignored(db, world, now, monkeypatch):
    proposal = make_proposal(db, world, publish=True)
    service.follow(db, actor=world.fan, proposal=proposal, now=now)
    monkeypatch.setattr(service, "is_following", lambda *args: False)

    service.follow(db, actor=world.fan, proposal=proposal, now=now)

    monkeypatch.undo()
    assert service.follower_count(db, proposal) == 2
    assert service.is_following(db, proposal, world.fan)
    # Nothing else was lost with the refused duplicate.
    assert proposal.title == db.get_one(type(proposal), proposal.id).title


def test_a_second_invitation_is_a_field_error(db, world, now, monkeypatch):
    proposal = make_proposal(db, world)
    service.add_coauthor(
        db, actor=world.author, proposal=proposal, username=world.coauthor.username, now=now
    )
    monkeypatch.setattr(service, "author_ids", lambda db, proposal: {world.author.id})

    with pytest.raises(ValidationFailed) as caught:
        service.add_coauthor(
            db, actor=world.author, proposal=proposal, username=world.coauthor.username, now=now
        )

    monkeypatch.undo()
    assert set(caught.value.fields) == {"username"}
    assert service.author_ids(db, proposal) == {world.author.id, world.coauthor.id}
    added = [e for e in service.timeline(db, proposal) if e.kind == EventKind.coauthor_added]
    assert len(added) == 1
    assert service.follower_count(db, proposal) == 2
