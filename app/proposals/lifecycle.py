"""The proposal state machine: which state may follow which, and what each state allows."""

from __future__ import annotations

from app.errors import Conflict
from app.i18n import N_
from app.i18n import gettext as _
from app.proposals.models import ProposalState as S

TRANSITIONS: dict[S, frozenset[S]] = {
    S.draft: frozenset({S.deliberation, S.withdrawn}),
    S.deliberation: frozenset({S.voting, S.withdrawn}),
    # A poll ends passed or rejected; the author may still withdraw while it runs.
    S.voting: frozenset({S.passed, S.rejected, S.withdrawn}),
    # A moderator ratifies, or returns the proposal to deliberation with reasons.
    S.passed: frozenset({S.ratified, S.deliberation}),
    S.rejected: frozenset(),
    S.withdrawn: frozenset(),
    S.ratified: frozenset(),
}

#: States in which authors may change the text.
EDITABLE = frozenset({S.draft, S.deliberation})
#: ... and in which a change amends it: during a poll, an edit starts a new round.
AMENDABLE = EDITABLE | {S.voting}
#: States that nobody leaves.
FINAL = frozenset(state for state, targets in TRANSITIONS.items() if not targets)

#: What each state means, in English and marked for the catalogs: the page shows `_(it)`.
EXPLANATIONS = {
    S.draft: N_("only its authors can see it"),
    S.deliberation: N_("open for discussion"),
    S.voting: N_("the community is polling on it"),
    S.passed: N_("waiting for a moderator to ratify it"),
    S.rejected: N_("the poll did not pass"),
    S.withdrawn: N_("its authors withdrew it"),
    S.ratified: N_("part of the published guidelines"),
}


def can_move(current: S, target: S) -> bool:
    return target in TRANSITIONS[current]


def ensure_can_move(current: S, target: S) -> None:
    if not can_move(current, target):
        raise Conflict(
            _(
                "A proposal in %(current)s cannot move to %(target)s.",
                current=_(current.label).lower(),
                target=_(target.label).lower(),
            )
        )
