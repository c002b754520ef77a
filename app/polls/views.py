"""What the poll templates need: the poll panel (proposal page and poll page), the results,
and the policy page with its worked example.

Who may see what comes from `service.view` alone; this module only puts it into words,
figures and charts for the pages.

Those words are in the reader's language, which `render` chooses when it starts writing the
page, after the route has built the page's context: so text is made where the template reads
it (the panel's properties, and `Deferred` parts of the pages), not when the context is built.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.accounts.models import User
from app.communities import permissions as community_permissions
from app.communities import service as communities_service
from app.communities.models import Community, Role
from app.i18n import N_, gettext, ngettext, relative
from app.i18n import gettext as _
from app.polls import charts as charting
from app.polls import permissions as perms
from app.polls import service
from app.polls import tally as counting
from app.polls.models import Ballot, Poll, Position
from app.polls.policy import (
    CONSTITUENCIES,
    ObjectionRule,
    PollPolicy,
    Secrecy,
    WeightPolicy,
    explain,
)
from app.proposals import service as proposals_service
from app.proposals.models import Proposal, ProposalState
from app.web.api import API_PREFIX

#: The pages a poll form may come back to after it posts.
PAGES = ("proposal", "poll")

_UNSET: Any = object()


class Deferred:
    """A part of a page, worked out when the template first reads it.

    A route builds the page's context before `render` chooses the reader's language, so text
    made while building it would come out in the default language. A `Deferred` part is made
    when the template reads it, in the reader's language; it reads through to what `make`
    returns (attributes, items, iteration, length and truth).
    """

    __slots__ = ("_make", "_value")

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._value: Any = _UNSET

    @property
    def value(self) -> Any:
        if self._value is _UNSET:
            self._value = self._make()
        return self._value

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.value, name)

    def __getitem__(self, key: Any) -> Any:
        return self.value[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self.value)

    def __len__(self) -> int:
        return len(self.value)

    def __bool__(self) -> bool:
        return bool(self.value)

    def __str__(self) -> str:
        return str(self.value)


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
    hints = {
        Position.consent: _("I support the text as it stands."),
        Position.concern: _(
            "I can live with it, with reservations: say which, so the authors can answer."
        ),
        Position.object: _(
            "It must not pass as written: say why. Under these rules an open objection blocks "
            "the proposal."
        )
        if policy.objection_rule == ObjectionRule.any_blocks
        else _("It must not pass as written: say why. Objections count against the threshold."),
        Position.stand_aside: _(
            "I will not stand in the way. You count towards the quorum, not for or against."
        ),
    }
    return [Choice(p.value, charting.position_label(p), hints[p]) for p in Position]


def voter_line(view: service.PollView) -> str | None:
    """How the viewer's ballot counts: role and weight as frozen when the poll opened."""
    voter = view.voter
    if voter is None:
        return None
    role = gettext(voter.role.label).lower()
    policy = view.policy
    if policy.weight_policy == WeightPolicy.role:
        return _("You vote as a %(role)s with weight %(weight)s.", role=role, weight=voter.weight)
    if policy.weight_policy == WeightPolicy.constituency:
        return _(
            "You vote as a %(role)s in the %(constituency)s' constituency, which holds "
            "%(share)s%% of the vote, shared equally among its members who take a stand.",
            role=role,
            constituency=charting.group_label(voter.constituency).lower(),
            share=policy.constituency_shares.get(voter.constituency, 0),
        )
    return _("You vote as a %(role)s; every ballot weighs the same.", role=role)


def rules_line(policy: PollPolicy) -> str:
    """The policy in one line, for the panel (the poll page explains it in full)."""
    weights = {
        WeightPolicy.equal: _("Equal weights"),
        WeightPolicy.role: _("Weights by role"),
        WeightPolicy.constituency: _("Shares by constituency"),
    }[policy.weight_policy]
    objections = (
        _("any open objection blocks")
        if policy.objection_rule == ObjectionRule.any_blocks
        else _("objections count against the threshold")
    )
    return _(
        "%(weights)s, quorum %(quorum)s%%, threshold %(threshold)s%%, %(objections)s; "
        "ballots are %(ballots)s.",
        weights=weights,
        quorum=policy.quorum,
        threshold=policy.threshold,
        objections=objections,
        ballots=_("named") if policy.ballots == Secrecy.named else _("anonymous"),
    )


#: What became of one of the viewer's ballots: "counts" names the one that does.
HISTORY_STATUSES = {
    "amended": N_("no longer counts: the text was amended since"),
    "counts": N_("counts"),
    "replaced": N_("replaced"),
}


def _history_status(ballot: Ballot, poll: Poll) -> str:
    if ballot.round_number < poll.current_round:
        return "amended"
    return "counts" if ballot.latest else "replaced"


@dataclass(frozen=True)
class HistoryLine:
    ballot: Ballot
    receipt: str
    #: A key of `HISTORY_STATUSES`.
    status: str

    @property
    def status_label(self) -> str:
        return gettext(HISTORY_STATUSES[self.status])


#: The outcome of a closed poll, as its badge says it.
OUTCOME_LABELS = {
    "passed": N_("Passed"),
    "rejected": N_("Rejected"),
    "withdrawn": N_("Withdrawn"),
}


def outcome_label(outcome: str) -> str:
    return gettext(OUTCOME_LABELS[outcome]) if outcome in OUTCOME_LABELS else outcome.capitalize()


def sentence(tally: counting.Tally) -> str:
    """The outcome as a fan would say it, in the reader's language."""
    return tally.sentence()


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
    receipt: str | None
    forms: Forms
    ballot_values: Mapping[str, str]
    open_values: Mapping[str, str]

    @property
    def poll(self) -> Poll | None:
        return self.view.poll if self.view else None

    @property
    def policy_form(self) -> PolicyForm:
        return policy_form()

    @property
    def voter_line(self) -> str | None:
        """How the viewer's ballot counts, while the poll runs."""
        return voter_line(self.view) if self.view and self.view.open else None

    @property
    def positions(self) -> list[Choice]:
        return position_choices(self.view.policy if self.view else self.community_policy)

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
        return outcome_label(outcome.value) if outcome else ""

    @property
    def sentence(self) -> str:
        """How the poll ended, when the viewer may see its count."""
        return sentence(self.view.tally) if self.view and self.view.tally else ""

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
        receipt=service.format_receipt(view.ballot.receipt) if view and view.ballot else None,
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
    "quorum": N_("The quorum decided: not enough of the eligible weight took part."),
    "objection": N_(
        "An open objection decided: under this poll's rules any open objection blocks the proposal."
    ),
    "threshold": N_("The threshold decided: too little consent among those who took a stand."),
}


def decided_by(tally: counting.Tally) -> str:
    if tally.decided_by in DECIDED:
        return gettext(DECIDED[tally.decided_by])
    if tally.objection_rule == ObjectionRule.any_blocks.value:
        return _("Every rule was met: the quorum, the threshold, and no objection stayed open.")
    return _("Every rule was met: the quorum and the threshold.")


_met = charting.verdict


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
        return sentence(self.tally)

    @property
    def outcome_label(self) -> str:
        return outcome_label(self.tally.outcome)


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
                charting.position_label(p),
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
                [
                    (f"{f.ballots:,}", _("weight %(weight)s", weight=charting.number(f.weight)))
                    for f in figures_of
                ],
            )
        )
    support = (
        charting.percent(tally.support) if tally.support is not None else _("nobody took a stand")
    )
    objections = (
        _(
            "%(open)s open, %(ruled)s ruled not paramount (counted as concerns)",
            open=charting.number(tally.open_objections),
            ruled=charting.number(tally.ruled_not_paramount),
        )
        if tally.ruled_not_paramount
        else _("%(open)s open", open=charting.number(tally.open_objections))
    )
    figures = [
        (
            _("On the roll"),
            _(
                "%(count)s (weight %(weight)s)",
                count=charting.number(tally.eligible),
                weight=charting.number(tally.eligible_weight),
            ),
        ),
        (
            _("Took part"),
            _(
                "%(count)s (weight %(weight)s)",
                count=charting.number(tally.participants),
                weight=charting.number(tally.participating_weight),
            ),
        ),
        (
            _("Participation"),
            _(
                "%(participation)s — quorum %(quorum)s%%, %(met)s",
                participation=charting.percent(tally.participation),
                quorum=tally.quorum,
                met=_met(tally.quorum_met),
            ),
        ),
        (
            _("Support"),
            _(
                "%(support)s — threshold %(threshold)s%%, %(met)s",
                support=support,
                threshold=tally.threshold,
                met=_met(tally.threshold_met),
            ),
        ),
        (_("Objections"), objections),
        (
            _("Round and revision"),
            _("round %(round)s, revision %(revision)s", round=tally.round, revision=tally.revision),
        ),
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
            receipt=service.format_receipt(view.ballot.receipt) if view.ballot else None,
        )
    return {
        "community": poll.proposal.community,
        "proposal": poll.proposal,
        "panel": shown,
        "poll_view": view,
        "rules": Deferred(lambda: explain(view.policy)),
        "history": history(view),
        "results": Deferred(lambda: results(view)),
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
            _(
                "Consent, with or without concerns, makes up %(support)s of the weight of those "
                "who took a stand (threshold %(threshold)s%%: %(met)s).",
                support=charting.percent(t.support),
                threshold=t.threshold,
                met=_met(t.threshold_met),
            )
            if t.support is not None
            else _("Nobody took a stand.")
        )
        return [
            _(
                "The roll weighs %(roll)s; the voters weigh %(voters)s, so %(participation)s "
                "took part (quorum %(quorum)s%%: %(met)s).",
                roll=charting.number(t.eligible_weight),
                voters=charting.number(t.participating_weight),
                participation=charting.percent(t.participation),
                quorum=t.quorum,
                met=_met(t.quorum_met),
            ),
            support,
            ngettext(
                "%(num)d objection stayed open; the stand-aside counts towards the quorum only.",
                "%(num)d objections stayed open; the stand-aside counts towards the quorum only.",
                self.objections,
            ),
        ]

    @property
    def headline(self) -> str:
        return sentence(self.tally)

    @property
    def ruled_headline(self) -> str:
        return sentence(self.ruled) if self.ruled else ""


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
            counts_as = _(
                "in the %(constituency)s' share (%(share)s%%)",
                constituency=charting.group_label(group).lower(),
                share=policy.constituency_shares.get(group, 0),
            )
        else:
            counts_as = _("weight %(weight)s", weight=policy.weight_of(role))
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


#: The settings of the policy form by name, as the policy's history shows them (marked for
#: the catalogs; `field_label` translates them). Role weights and constituency shares are named
#: after their role.
FIELD_LABELS = {
    "weight_policy": N_("Weights"),
    "moderators_vote_as": N_("Moderators vote with"),
    "quorum": N_("Quorum (%)"),
    "threshold": N_("Threshold (%)"),
    "objection_rule": N_("Objections"),
    "results": N_("Results"),
    "ballots": N_("Ballots"),
    "duration_days": N_("Duration (days)"),
    "min_membership_days": N_("Minimum membership (days)"),
    "max_rounds": N_("Most rounds"),
}
_ROLE_WEIGHTS = {f"role_weights.{r.value}": r for r in Role}
_CONSTITUENCY_SHARES = {f"constituency_shares.{r.value}": r for r in CONSTITUENCIES}


def field_label(name: str) -> str:
    """A setting of the policy form by its name, in the reader's language."""
    if name in FIELD_LABELS:
        return gettext(FIELD_LABELS[name])
    if name in _ROLE_WEIGHTS:
        return _("Weight of a %(role)s", role=gettext(_ROLE_WEIGHTS[name].label).lower())
    if name in _CONSTITUENCY_SHARES:
        group = charting.group_label(_CONSTITUENCY_SHARES[name].value).lower()
        return _("Share of %(constituency)s (%%)", constituency=group)
    return name


def choices() -> dict[str, list[Choice]]:
    """The settings offered as a choice: value, label and what it means."""
    return {
        "weight_policy": [
            Choice(
                "equal", _("Equal"), _("Every member on the roll has one vote of the same weight.")
            ),
            Choice(
                "role",
                _("By role"),
                _("Each role has a weight: a creator's ballot may count twice."),
            ),
            Choice(
                "constituency",
                _("By constituency"),
                _("Fans, creators and rights holders each hold a fixed share of the vote."),
            ),
        ],
        "objection_rule": [
            Choice(
                "any_blocks",
                _("Any objection blocks"),
                _("Classic consent: one open objection fails the poll until it is resolved."),
            ),
            Choice(
                "threshold",
                _("Objections count against the threshold"),
                _("Objections weigh against consent, but do not block alone."),
            ),
        ],
        "results": [
            Choice(
                "hidden",
                _("Hidden until close"),
                _("Nobody sees any count before the poll closes."),
            ),
            Choice("live", _("Live"), _("Everyone sees the running count.")),
        ],
        "ballots": [
            Choice("named", _("Named"), _("Ballots and reasons are shown with the voter's name.")),
            Choice("anonymous", _("Anonymous"), _("Nobody ever sees who cast which ballot.")),
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


def policy_form() -> PolicyForm:
    """The policy form's offer, in the reader's language."""
    return PolicyForm(
        choices(),
        [Choice(r.value, gettext(r.label), "") for r in Role],
        [Choice(r.value, charting.group_label(r.value), "") for r in CONSTITUENCIES],
        {name: field_label(name) for name in PollPolicy().to_form()},
    )


def _shown(offered: Mapping[str, list[Choice]], name: str, value: str) -> str:
    for choice in offered.get(name, []):
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
    offered = choices()
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
                    f"{field_label(name)}: {_shown(offered, name, before.get(name, ''))} → "
                    f"{_shown(offered, name, value)}"
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
        "rules": Deferred(lambda: explain(policy)),
        "example": Deferred(lambda: worked_example(policy)),
        "can_moderate": community_permissions.is_moderator(viewer, membership),
        "values": {**policy.to_form(), **form.values},
        "errors": form.errors,
        "message": form.message,
        "changes": Deferred(lambda: policy_history(db, community)),
        "policy_form": Deferred(policy_form),
        "positions": Deferred(lambda: position_choices(policy)),
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
