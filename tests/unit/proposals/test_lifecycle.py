import pytest

from app.errors import Conflict
from app.proposals import lifecycle
from app.proposals.models import ProposalState as S


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.draft, S.deliberation),
        (S.draft, S.withdrawn),
        (S.deliberation, S.voting),
        (S.deliberation, S.withdrawn),
        (S.voting, S.passed),
        (S.voting, S.rejected),
        (S.passed, S.ratified),
        (S.passed, S.deliberation),
    ],
)
def test_allowed_moves(current, target):
    assert lifecycle.can_move(current, target)
    lifecycle.ensure_can_move(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.draft, S.voting),
        (S.draft, S.passed),
        (S.deliberation, S.passed),
        (S.deliberation, S.draft),
        (S.voting, S.ratified),
        (S.withdrawn, S.deliberation),
        (S.rejected, S.deliberation),
        (S.ratified, S.deliberation),
    ],
)
def test_refused_moves(current, target):
    assert not lifecycle.can_move(current, target)
    with pytest.raises(Conflict):
        lifecycle.ensure_can_move(current, target)


def test_final_and_editable_states():
    assert {S.rejected, S.withdrawn, S.ratified} == lifecycle.FINAL
    assert {S.draft, S.deliberation} == lifecycle.EDITABLE
    assert set(lifecycle.EXPLANATIONS) == set(S)
