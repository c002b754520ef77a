"""What the poll templates need: the poll panel (proposal page and poll page), the results,
and the policy page with its worked example.

Who may see what comes from `service.view` alone; this module only puts it into words,
figures and charts for the pages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.accounts.models import User
from app.communities import permissions as community_permissions
from app.communities import service as communities_service
from app.communities.models import Community, Role
from app.polls import charts as charting
from app.polls import permissions as perms
from app.polls import service
from app.polls import tally as counting
from app.polls.models import POSITION_LABELS, Ballot, Poll, Position
from app.polls.policy import (
    CONSTITUENCIES,
    ObjectionRule,
    PollPolicy,
    WeightPolicy,
    explain,
)
from app.proposals import service as proposals_service
from app.proposals.models import Proposal, ProposalState
from app.web.api import API_PREFIX
from app.web.templating import relative

#: The pages a poll form may come back to after it posts.
PAGES = ("proposal", "poll")


# --- Forms --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Form:
    """A form as typed, with its problems, when it is shown again."""

    values: Mapping[str, str] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)
    message: str | None = None


@dataclass(frozen=True)
class Forms:
    """The poll panel's forms: all blank but the one that posted and was refused."""

    ballot: Form = field(default_factory=Form)
    open: Form = field(default_factory=Form)
    #: Ruling forms by the objection's ballot id.
    rulings: Mapping[int, Form] = field(default_factory=dict)
    #: A word on what just happened, for htmx answers (a full page has its flash instead).
    notice: str | None = None
    notice_level: str = "success"

    def ruling(self, ballot_id: int) -> Form:
        return self.rulings.get(ballot_id, Form())


def overrides(typed: Mapping[str, str], base: PollPolicy) -> dict[str, object]:
    """The settings of the open-poll form that differ from the community's policy."""
    current = base.to_form()
    return {name: value for name, value in typed.items() if current.get(name) != value.strip()}


# --- The poll panel -----------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    hint: str


def position_choices(policy: PollPolicy) -> list[Choice]:
    """The four positions with a short hint each (objections as this poll counts them)."""
    objecting = (
        "Under these rules an open objection blocks the proposal."
        if policy.objection_rule == ObjectionRule.any_blocks
        else "Objections count against the threshold."
    )
    hints = {
        Position.consent: "I support the text as it stands.",
        Position.concern: "I can live with it, with reservations: say which, so the authors "
        "can answer.",
        Position.object: f"It must not pass as written: say why. {objecting}",
        Position.stand_aside: "I will not stand in the way. You count towards the quorum, "
        "not for or against.",
    }
    return [Choice(p.value, POSITION_LABELS[p], hints[p]) for p in Position]


def voter_line(view: service.PollView) -> str | None:
    """How the viewer's ballot counts: role and weight as frozen when the poll opened."""
    voter = view.voter
    if voter is None:
        return None
    role = voter.role.label.lower()
    policy = view.policy
    if policy.weight_policy == WeightPolicy.role:
        return f"You vote as a {role} with weight {voter.weight}."
    if policy.weight_policy == WeightPolicy.constituency:
        group = charting.group_label(voter.constituency).lower()
        share = policy.constituency_shares.get(voter.constituency, 0)
        return (
            f"You vote as a {role} in the {group}' constituency, which holds {share}% of the "
            "vote, shared equally among its members who take a stand."
        )
    return f"You vote as a {role}; every ballot weighs the same."


def rules_line(policy: PollPolicy) -> str:
    """The policy in one line, for the panel (the poll page explains it in full)."""
    weights = {
        WeightPolicy.equal: "equal weights",
        WeightPolicy.role: "weights by role",
        WeightPolicy.constituency: "shares by constituency",
    }[policy.weight_policy]
    objections = (
        "any open objection blocks"
        if policy.objection_rule == ObjectionRule.any_blocks
        else "objections count against the threshold"
    )
    return (
        f"{weights.capitalize()}, quorum {policy.quorum}%, threshold {policy.threshold}%, "
        f"{objections}; ballots are {policy.ballots.value}."
    )


def _history_status(ballot: Ballot, poll: Poll) -> str:
    if ballot.round_number < poll.current_round:
        return "no longer counts: the text was amended since"
    return "counts" if ballot.latest else "replaced"


@dataclass(frozen=True)
class HistoryLine:
    ballot: Ballot
    receipt: str
    status: str


@dataclass(frozen=True)
class PollPanel:
    """The poll as the proposal page and the poll page show it to one viewer."""

    proposal: Proposal
    #: Where the panel's forms come back to: "proposal" or "poll".
    page: str
    now: datetime
    view: service.PollView | None
    #: The community's policy in force: what a poll opened now is counted by.
    community_policy: PollPolicy
    can_open: bool
    #: Voting may open from then (None when it may open now, or the question does not arise).
    open_from: datetime | None
    can_moderate: bool
    can_amend: bool
    rounds_left: int
    voter_line: str | None
    receipt: str | None
    positions: list[Choice]
    forms: Forms
    ballot_values: Mapping[str, str]
    open_values: Mapping[str, str]

    @property
    def poll(self) -> Poll | None:
        return self.view.poll if self.view else None

    @property
    def policy_form(self) -> PolicyForm:
        return POLICY_FORM

    @property
    def voting(self) -> bool:
        return self.view is not None and self.view.open

    @property
    def deliberating(self) -> bool:
        return self.proposal.state == ProposalState.deliberation

    @property
    def closes_in(self) -> str:
        return relative(self.now, self.view.poll.closes_at) if self.view else ""

    @property
    def opens_in(self) -> str:
        return relative(self.now, self.open_from) if self.open_from else ""

    @property
    def round_started(self) -> str:
        return relative(self.now, self.view.round.started_at) if self.view else ""

    @property
    def hidden(self) -> bool:
        """The count is hidden from this viewer now (it runs, results hidden until close)."""
        return self.view is not None and self.view.tally is None

    @property
    def rules(self) -> str:
        return rules_line(self.view.policy if self.view else self.community_policy)

    @property
    def outcome_label(self) -> str:
        outcome = self.view.outcome if self.view else None
        return outcome.value.capitalize() if outcome else ""

    @property
    def closed_at(self) -> datetime | None:
        if self.view is None or self.view.open:
            return None
        poll = self.view.poll
        return poll.closed_at or min(poll.closes_at, self.now)


def panel(
    db: Session,
    proposal: Proposal,
    viewer: User | None,
    now: datetime,
    *,
    page: str = "proposal",
    forms: Forms | None = None,
) -> PollPanel:
    """The poll panel of `proposal` for `viewer`: its latest poll, or how one may open."""
    forms = forms or Forms()
    community = proposal.community
    membership = communities_service.membership_of(db, community, viewer)
    author_ids = proposals_service.author_ids(db, proposal)
    poll = service.current_poll(db, proposal)
    view = service.view(db, poll, viewer, now) if poll is not None else None
    community_policy = service.policy_of(db, community)
    deliberating = proposal.state == ProposalState.deliberation
    may_open_at = proposal.voting_may_open_at
    is_author = viewer is not None and viewer.id in author_ids
    rounds_left = view.policy.max_rounds - view.poll.current_round if view else 0
    ballot_values: Mapping[str, str] = forms.ballot.values or (
        {"position": view.ballot.position.value, "reason": view.ballot.reason}
        if view and view.ballot
        else {}
    )
    return PollPanel(
        proposal=proposal,
        page=page if page in PAGES else "proposal",
        now=now,
        view=view,
        community_policy=community_policy,
        can_open=deliberating
        and proposal.locked_at is None
        and perms.can_open(viewer, membership, author_ids),
        open_from=may_open_at if deliberating and may_open_at and now < may_open_at else None,
        can_moderate=community_permissions.is_moderator(viewer, membership),
        can_amend=is_author and view is not None and view.open and proposal.locked_at is None,
        rounds_left=rounds_left,
        voter_line=voter_line(view) if view and view.open else None,
        receipt=service.format_receipt(view.ballot.receipt) if view and view.ballot else None,
        positions=position_choices(view.policy if view else community_policy),
        forms=forms,
        ballot_values=ballot_values,
        open_values={**community_policy.to_form(), **forms.open.values},
    )


# --- Results ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """A line of a results table: a label and its figures, already in words."""

    key: str
    label: str
    cells: list[str]


@dataclass(frozen=True)
class GroupRow:
    """A constituency in the results table: its share, its roll, and per position the
    ballots with their weight."""

    key: str
    label: str
    share: str
    roll: str
    positions: list[tuple[str, str]]


DECIDED = {
    "quorum": "The quorum decided: not enough of the eligible weight took part.",
    "objection": "An open objection decided: under this poll's rules any open objection "
    "blocks the proposal.",
    "threshold": "The threshold decided: too little consent among those who took a stand.",
}


def decided_by(tally: counting.Tally) -> str:
    if tally.decided_by in DECIDED:
        return DECIDED[tally.decided_by]
    if tally.objection_rule == ObjectionRule.any_blocks.value:
        return "Every rule was met: the quorum, the threshold, and no objection stayed open."
    return "Every rule was met: the quorum and the threshold."


def _met(flag: bool) -> str:
    return "met" if flag else "not met"


@dataclass(frozen=True)
class Results:
    """A tally as the results section shows it."""

    tally: counting.Tally
    #: Counted for good (closed) rather than a live count that may still change.
    final: bool
    charts: charting.Charts
    positions: list[Row]
    groups: list[GroupRow]
    figures: list[tuple[str, str]]
    decided: str
    export_json: str | None
    export_csv: str | None

    @property
    def headline(self) -> str:
        return self.tally.sentence()


def results(view: service.PollView) -> Results | None:
    """The results section, when the viewer may see the count; None while it is hidden."""
    tally = view.tally
    if tally is None:
        return None
    order = charting.ORDER
    total = sum(tally.positions[p.value].weight for p in order if p.value in tally.positions)
    positions = []
    for p in order:
        figure = tally.positions.get(p.value, counting.Figure(0, 0.0))
        share = charting.percent(100 * figure.weight / total) if total else "–"
        positions.append(
            Row(
                p.value,
                POSITION_LABELS[p],
                [f"{figure.ballots:,}", charting.number(figure.weight), share],
            )
        )
    groups = []
    for group in charting.in_order(tally.constituencies):
        figures_of = [group.positions.get(p.value, counting.Figure(0, 0.0)) for p in order]
        groups.append(
            GroupRow(
                group.name,
                charting.group_label(group.name),
                f"{group.share}%" if group.share is not None else "–",
                f"{group.eligible:,}",
                [(f"{f.ballots:,}", f"weight {charting.number(f.weight)}") for f in figures_of],
            )
        )
    support = (
        charting.percent(tally.support) if tally.support is not None else "nobody took a stand"
    )
    objections = f"{tally.open_objections:,} open"
    if tally.ruled_not_paramount:
        objections += f", {tally.ruled_not_paramount:,} ruled not paramount (counted as concerns)"
    figures = [
        ("On the roll", f"{tally.eligible:,} (weight {charting.number(tally.eligible_weight)})"),
        (
            "Took part",
            f"{tally.participants:,} (weight {charting.number(tally.participating_weight)})",
        ),
        (
            "Participation",
            f"{charting.percent(tally.participation)} — quorum {tally.quorum}%, "
            f"{_met(tally.quorum_met)}",
        ),
        ("Support", f"{support} — threshold {tally.threshold}%, {_met(tally.threshold_met)}"),
        ("Objections", objections),
        ("Round and revision", f"round {tally.round}, revision {tally.revision}"),
    ]
    poll = view.poll
    exported = poll.tally is not None
    return Results(
        tally=tally,
        final=not view.open,
        charts=charting.charts(tally),
        positions=positions,
        groups=groups,
        figures=figures,
        decided=decided_by(tally),
        export_json=f"{API_PREFIX}/polls/{poll.id}/export" if exported else None,
        export_csv=f"{API_PREFIX}/polls/{poll.id}/export.csv" if exported else None,
    )


def history(view: service.PollView) -> list[HistoryLine]:
    """The viewer's own ballots in this poll, newest first, with what became of each."""
    return [
        HistoryLine(b, service.format_receipt(b.receipt), _history_status(b, view.poll))
        for b in view.history
    ]


def poll_page(
    db: Session, poll: Poll, viewer: User | None, now: datetime, *, forms: Forms | None = None
) -> dict[str, Any]:
    """Everything the poll page shows: the panel, rounds, rules, the viewer's ballots, results."""
    shown = panel(db, poll.proposal, viewer, now, page="poll", forms=forms)
    # The page is about this poll, even when the proposal was polled again since.
    view = (
        shown.view
        if shown.view is not None and shown.view.poll.id == poll.id
        else service.view(db, poll, viewer, now)
    )
    if view is not shown.view:
        # An earlier poll of the proposal: read only.
        shown = replace(
            shown,
            view=view,
            can_open=False,
            can_amend=False,
            rounds_left=0,
            voter_line=None,
            receipt=service.format_receipt(view.ballot.receipt) if view.ballot else None,
        )
    return {
        "community": poll.proposal.community,
        "proposal": poll.proposal,
        "panel": shown,
        "poll_view": view,
        "rules": explain(view.policy),
        "history": history(view),
        "results": results(view),
    }


# --- The policy page ----------------------------------------------------------------------

#: The made-up community of the worked example: who is on the roll, and how they voted.
EXAMPLE_ROLL = {Role.fan: 12, Role.creator: 5, Role.rights_holder: 1, Role.moderator: 2}
EXAMPLE_BALLOTS = {
    Role.fan: {
        Position.consent: 3,
        Position.concern: 1,
        Position.object: 1,
        Position.stand_aside: 1,
    },
    Role.creator: {Position.consent: 2, Position.object: 1},
    Role.rights_holder: {Position.consent: 1},
    Role.moderator: {Position.consent: 1},
}


@dataclass(frozen=True)
class Example:
    """The worked example: the made-up roll and ballots, counted by the real rules."""

    rows: list[Row]
    tally: counting.Tally
    #: Under `any_blocks`: the same ballots with the objections ruled not paramount.
    ruled: counting.Tally | None
    objections: int

    @property
    def on_roll(self) -> int:
        return sum(EXAMPLE_ROLL.values())

    @property
    def ballots(self) -> int:
        return sum(sum(counts.values()) for counts in EXAMPLE_BALLOTS.values())

    @property
    def figures(self) -> list[str]:
        """How the rules read the example, step by step."""
        t = self.tally
        support = (
            f"Consent, with or without concerns, makes up {charting.percent(t.support)} of the "
            f"weight of those who took a stand (threshold {t.threshold}%: "
            f"{_met(t.threshold_met)})."
            if t.support is not None
            else "Nobody took a stand."
        )
        return [
            f"The roll weighs {charting.number(t.eligible_weight)}; the voters weigh "
            f"{charting.number(t.participating_weight)}, so {charting.percent(t.participation)} "
            f"took part (quorum {t.quorum}%: {_met(t.quorum_met)}).",
            support,
            f"{self.objections} objections stayed open; the stand-aside counts towards the "
            "quorum only.",
        ]


def _example_tally(policy: PollPolicy, *, rule_objections: bool) -> counting.Tally:
    roll: dict[str, tuple[int, int]] = {}
    groups = []
    ruled = 0
    for role, voters in EXAMPLE_ROLL.items():
        constituency = policy.constituency_of(role)
        weight = policy.weight_of(role)
        count, total = roll.get(constituency, (0, 0))
        roll[constituency] = (count + voters, total + voters * weight)
        for position, n in EXAMPLE_BALLOTS[role].items():
            counted_as = position
            if rule_objections and position == Position.object:
                counted_as, ruled = Position.concern, ruled + n
            groups.append(counting.BallotGroup(constituency, counted_as, n, n * weight))
    return counting.decide(
        policy,
        round_number=1,
        revision=1,
        roll=[counting.RollGroup(c, n, w) for c, (n, w) in roll.items()],
        groups=groups,
        ruled_not_paramount=ruled,
    )


def worked_example(policy: PollPolicy) -> Example:
    """The example community counted by `policy` with `app.polls.tally.decide`."""
    rows = []
    for role, voters in EXAMPLE_ROLL.items():
        if policy.weight_policy == WeightPolicy.constituency:
            group = policy.constituency_of(role)
            counts_as = (
                f"in the {charting.group_label(group).lower()}' share "
                f"({policy.constituency_shares.get(group, 0)}%)"
            )
        else:
            counts_as = f"weight {policy.weight_of(role)}"
        cast = EXAMPLE_BALLOTS[role]
        rows.append(
            Row(
                role.value,
                charting.group_label(role.value),
                [str(voters), counts_as, *(str(cast.get(p, 0)) for p in charting.ORDER)],
            )
        )
    objections = sum(counts.get(Position.object, 0) for counts in EXAMPLE_BALLOTS.values())
    return Example(
        rows=rows,
        tally=_example_tally(policy, rule_objections=False),
        ruled=_example_tally(policy, rule_objections=True)
        if policy.objection_rule == ObjectionRule.any_blocks
        else None,
        objections=objections,
    )


FIELD_LABELS = {
    "weight_policy": "Weights",
    "moderators_vote_as": "Moderators vote with",
    "quorum": "Quorum (%)",
    "threshold": "Threshold (%)",
    "objection_rule": "Objections",
    "results": "Results",
    "ballots": "Ballots",
    "duration_days": "Duration (days)",
    "min_membership_days": "Minimum membership (days)",
    "max_rounds": "Most rounds",
    **{f"role_weights.{r.value}": f"Weight of a {r.label.lower()}" for r in Role},
    **{
        f"constituency_shares.{r.value}": f"Share of {charting.group_label(r.value).lower()} (%)"
        for r in CONSTITUENCIES
    },
}

#: The settings offered as a choice: value, label and what it means.
CHOICES: dict[str, list[Choice]] = {
    "weight_policy": [
        Choice("equal", "Equal", "Every member on the roll has one vote of the same weight."),
        Choice("role", "By role", "Each role has a weight: a creator's ballot may count twice."),
        Choice(
            "constituency",
            "By constituency",
            "Fans, creators and rights holders each hold a fixed share of the vote.",
        ),
    ],
    "objection_rule": [
        Choice(
            "any_blocks",
            "Any objection blocks",
            "Classic consent: one open objection fails the poll until it is resolved.",
        ),
        Choice(
            "threshold",
            "Objections count against the threshold",
            "Objections weigh against consent, but do not block alone.",
        ),
    ],
    "results": [
        Choice("hidden", "Hidden until close", "Nobody sees any count before the poll closes."),
        Choice("live", "Live", "Everyone sees the running count."),
    ],
    "ballots": [
        Choice("named", "Named", "Ballots and reasons are shown with the voter's name."),
        Choice("anonymous", "Anonymous", "Nobody ever sees who cast which ballot."),
    ],
    "moderators_vote_as": [
        Choice(r.value, charting.group_label(r.value), "") for r in CONSTITUENCIES
    ],
}


@dataclass(frozen=True)
class PolicyForm:
    """What the policy form offers: the choices, the roles weighed, the constituencies."""

    choices: Mapping[str, list[Choice]]
    roles: list[Choice]
    constituencies: list[Choice]
    labels: Mapping[str, str]


POLICY_FORM = PolicyForm(
    CHOICES,
    [Choice(r.value, r.label, "") for r in Role],
    [Choice(r.value, charting.group_label(r.value), "") for r in CONSTITUENCIES],
    FIELD_LABELS,
)


def _shown(name: str, value: str) -> str:
    for choice in CHOICES.get(name, []):
        if choice.value == value:
            return choice.label
    return value


@dataclass(frozen=True)
class PolicyChangeLine:
    who: User | None
    when: datetime
    changes: list[str]


def policy_history(db: Session, community: Community, *, limit: int = 20) -> list[PolicyChangeLine]:
    """Recent policy changes, newest first, each with what it changed."""
    saved = service.policy_changes(db, community, limit=limit + 1)
    lines = []
    for n, change in enumerate(saved[:limit]):
        before = (
            PollPolicy.from_json(saved[n + 1].policy) if n + 1 < len(saved) else PollPolicy()
        ).to_form()
        after = PollPolicy.from_json(change.policy).to_form()
        lines.append(
            PolicyChangeLine(
                change.changed_by,
                change.created_at,
                [
                    f"{FIELD_LABELS.get(name, name)}: {_shown(name, before.get(name, ''))} → "
                    f"{_shown(name, value)}"
                    for name, value in after.items()
                    if before.get(name) != value
                ],
            )
        )
    return lines


def policy_page(
    db: Session,
    community: Community,
    viewer: User | None,
    *,
    form: Form | None = None,
) -> dict[str, Any]:
    """The policy page: the rules in force in words, the worked example, and for moderators
    the form and the recent changes."""
    policy = service.policy_of(db, community)
    form = form or Form()
    membership = communities_service.membership_of(db, community, viewer)
    return {
        "community": community,
        "policy": policy,
        "rules": explain(policy),
        "example": worked_example(policy),
        "can_moderate": community_permissions.is_moderator(viewer, membership),
        "values": {**policy.to_form(), **form.values},
        "errors": form.errors,
        "message": form.message,
        "changes": policy_history(db, community),
        "policy_form": POLICY_FORM,
        "positions": position_choices(policy),
    }


# --- Amending during a poll ---------------------------------------------------------------


@dataclass(frozen=True)
class Amendment:
    """What saving a changed text does to the running poll."""

    current_round: int
    max_rounds: int

    @property
    def next_round(self) -> int:
        return self.current_round + 1

    @property
    def exhausted(self) -> bool:
        return self.current_round >= self.max_rounds


def amendment(db: Session, proposal: Proposal, now: datetime) -> Amendment | None:
    """The running poll's rounds, when an edit of `proposal` would amend it."""
    if proposal.state != ProposalState.voting:
        return None
    poll = service.current_poll(db, proposal)
    if poll is None or not service.is_open(poll, now):
        return None
    return Amendment(poll.current_round, service.policy_in(poll).max_rounds)
