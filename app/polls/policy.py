"""A community's poll policy: the rules a poll is counted by, checked, explained in plain words.

A policy is a small value, stored as JSON: on the community (as moderators last saved it) and
frozen on each poll when it opens, so changing the policy never changes a running poll.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from app.communities.models import Role
from app.errors import ValidationFailed
from app.i18n import N_, gettext, ngettext, pgettext
from app.i18n import gettext as _


class WeightPolicy(enum.StrEnum):
    equal = "equal"
    role = "role"
    constituency = "constituency"


class ObjectionRule(enum.StrEnum):
    any_blocks = "any_blocks"
    threshold = "threshold"


class Visibility(enum.StrEnum):
    hidden = "hidden"
    live = "live"


class Secrecy(enum.StrEnum):
    named = "named"
    anonymous = "anonymous"


#: Roles that form a constituency of their own; moderators vote within one of them.
CONSTITUENCIES = (Role.fan, Role.creator, Role.rights_holder)
#: Marked for the catalogs; `explain` translates them where it shows them.
CONSTITUENCY_LABELS = {
    Role.fan: N_("Fans"),
    Role.creator: N_("Creators"),
    Role.rights_holder: N_("Rights holders"),
}
MAX_WEIGHT = 100
MAX_DURATION_DAYS = 60
MAX_MEMBERSHIP_DAYS = 365
MAX_ROUNDS = 10


def _default_weights() -> dict[str, int]:
    return {"fan": 1, "creator": 2, "rights_holder": 3, "moderator": 1}


def _default_shares() -> dict[str, int]:
    return {"fan": 50, "creator": 35, "rights_holder": 15}


@dataclass(frozen=True)
class PollPolicy:
    weight_policy: WeightPolicy = WeightPolicy.equal
    role_weights: dict[str, int] = field(default_factory=_default_weights)
    constituency_shares: dict[str, int] = field(default_factory=_default_shares)
    moderators_vote_as: str = Role.fan.value
    #: Percent of the eligible weight that must take part (standing aside counts).
    quorum: int = 25
    #: Percent of (consent + concern) / (consent + concern + object) needed to pass.
    threshold: int = 60
    objection_rule: ObjectionRule = ObjectionRule.any_blocks
    results: Visibility = Visibility.hidden
    ballots: Secrecy = Secrecy.named
    duration_days: int = 7
    #: Days a member must have belonged to the community when the poll opens, to vote in it.
    min_membership_days: int = 0
    max_rounds: int = 3

    def to_json(self) -> dict[str, Any]:
        def plain(value: Any) -> Any:
            if isinstance(value, dict):
                return {str(k): v for k, v in value.items()}
            return str(value) if isinstance(value, enum.StrEnum) else value

        return {key: plain(value) for key, value in asdict(self).items()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> PollPolicy:
        """A stored policy; settings it predates take their defaults."""
        if not data:
            return cls()
        base = cls()
        return cls(
            weight_policy=WeightPolicy(data.get("weight_policy", base.weight_policy)),
            role_weights={**base.role_weights, **data.get("role_weights", {})},
            constituency_shares={**base.constituency_shares, **data.get("constituency_shares", {})},
            moderators_vote_as=str(data.get("moderators_vote_as", base.moderators_vote_as)),
            quorum=int(data.get("quorum", base.quorum)),
            threshold=int(data.get("threshold", base.threshold)),
            objection_rule=ObjectionRule(data.get("objection_rule", base.objection_rule)),
            results=Visibility(data.get("results", base.results)),
            ballots=Secrecy(data.get("ballots", base.ballots)),
            duration_days=int(data.get("duration_days", base.duration_days)),
            min_membership_days=int(data.get("min_membership_days", base.min_membership_days)),
            max_rounds=int(data.get("max_rounds", base.max_rounds)),
        )

    def to_form(self) -> dict[str, str]:
        """The policy as the flat fields of the policy form (and of `changed`)."""
        values = {
            "weight_policy": self.weight_policy.value,
            "moderators_vote_as": self.moderators_vote_as,
            "quorum": str(self.quorum),
            "threshold": str(self.threshold),
            "objection_rule": self.objection_rule.value,
            "results": self.results.value,
            "ballots": self.ballots.value,
            "duration_days": str(self.duration_days),
            "min_membership_days": str(self.min_membership_days),
            "max_rounds": str(self.max_rounds),
        }
        values.update({f"role_weights.{r}": str(w) for r, w in self.role_weights.items()})
        values.update(
            {f"constituency_shares.{r}": str(s) for r, s in self.constituency_shares.items()}
        )
        return values

    def constituency_of(self, role: Role) -> str:
        """The group a member of `role` counts in."""
        if self.weight_policy == WeightPolicy.constituency and role == Role.moderator:
            return self.moderators_vote_as
        return role.value

    def weight_of(self, role: Role) -> int:
        """A voter's frozen weight: under `constituency` each ballot counts alike in its group."""
        return self.role_weights[role.value] if self.weight_policy == WeightPolicy.role else 1


#: Settings only moderators may override when a poll opens (authors may set its duration).
AUTHOR_OVERRIDES = frozenset({"duration_days"})


def _whole(raw: object, low: int, high: int, problem: str) -> tuple[int | None, str | None]:
    if isinstance(raw, bool):
        return None, problem
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str) and re.fullmatch(r"-?[0-9]+", raw.strip()):
        value = int(raw.strip())
    else:
        return None, problem
    return (value, None) if low <= value <= high else (None, problem)


def _choice(raw: object, enum_type: type[enum.StrEnum], problem: str) -> tuple[Any, str | None]:
    values = {member.value: member for member in enum_type}
    return (values[raw], None) if isinstance(raw, str) and raw in values else (None, problem)


def changed(base: PollPolicy, raw: Mapping[str, object]) -> PollPolicy:
    """`base` with the settings given in `raw` (flat form names, as `to_form` makes them).

    Every problem is reported at once, by field; nothing is half-applied.
    """
    problems: dict[str, str] = {}
    updates: dict[str, Any] = {}
    unknown = sorted(set(raw) - set(base.to_form()))
    for name in unknown:
        problems[name] = _("There is no such setting.")

    def take(name: str, parse: Any) -> None:
        if name in raw:
            value, problem = parse(raw[name])
            if problem:
                problems[name] = problem
            else:
                updates[name] = value

    take(
        "weight_policy",
        lambda v: _choice(v, WeightPolicy, _("Choose equal, role or constituency.")),
    )
    take(
        "objection_rule", lambda v: _choice(v, ObjectionRule, _("Choose any_blocks or threshold."))
    )
    take("results", lambda v: _choice(v, Visibility, _("Choose hidden or live.")))
    take("ballots", lambda v: _choice(v, Secrecy, _("Choose named or anonymous.")))
    take("quorum", lambda v: _whole(v, 0, 100, _("Use a whole percent from 0 to 100.")))
    take("threshold", lambda v: _whole(v, 1, 100, _("Use a whole percent from 1 to 100.")))
    take(
        "duration_days",
        lambda v: _whole(
            v, 1, MAX_DURATION_DAYS, _("Use 1 to %(max)s days.", max=MAX_DURATION_DAYS)
        ),
    )
    take(
        "min_membership_days",
        lambda v: _whole(
            v,
            0,
            MAX_MEMBERSHIP_DAYS,
            _("Use 0 to %(max)s days (0: no minimum).", max=MAX_MEMBERSHIP_DAYS),
        ),
    )
    take(
        "max_rounds",
        lambda v: _whole(v, 1, MAX_ROUNDS, _("Use 1 to %(max)s rounds.", max=MAX_ROUNDS)),
    )
    if "moderators_vote_as" in raw:
        group = raw["moderators_vote_as"]
        if group in {r.value for r in CONSTITUENCIES}:
            updates["moderators_vote_as"] = group
        else:
            problems["moderators_vote_as"] = _("Choose fan, creator or rights_holder.")
    weights = dict(base.role_weights)
    for role in Role:
        name = f"role_weights.{role.value}"
        if name in raw:
            value, problem = _whole(
                raw[name], 1, MAX_WEIGHT, _("Use a whole number from 1 to %(max)s.", max=MAX_WEIGHT)
            )
            if problem:
                problems[name] = problem
            else:
                weights[role.value] = value  # type: ignore[assignment]
    shares = dict(base.constituency_shares)
    for role in CONSTITUENCIES:
        name = f"constituency_shares.{role.value}"
        if name in raw:
            value, problem = _whole(raw[name], 0, 100, _("Use a whole percent from 0 to 100."))
            if problem:
                problems[name] = problem
            else:
                shares[role.value] = value  # type: ignore[assignment]
    if not any(name.startswith("constituency_shares.") for name in problems):
        total = sum(shares.values())
        if total != 100:
            problems["constituency_shares"] = _(
                "The shares must add up to 100%% (they add up to %(total)s%%).", total=total
            )
    if problems:
        raise ValidationFailed(_("Please correct the marked settings."), fields=problems)
    return replace(base, role_weights=weights, constituency_shares=shares, **updates)


def _percent(value: int) -> str:
    return f"{value}%"


@dataclass(frozen=True)
class Explanation:
    setting: str
    value: str
    meaning: str


def _listed(items: list[str]) -> str:
    """Items of a list in a sentence ("fan 1, creator 2"), in the reader's language."""
    return pgettext("list separator", ", ").join(items)


def _constituency(role: Role) -> str:
    return gettext(CONSTITUENCY_LABELS[role]).lower()


def explain(policy: PollPolicy) -> list[Explanation]:
    """Each setting, its value and what it means, in plain words (in the reader's language:
    call it when the page is written)."""
    if policy.weight_policy == WeightPolicy.equal:
        weights = Explanation(
            _("Weights"),
            _("Equal"),
            _("Every member on the poll's roll has one vote of equal weight."),
        )
    elif policy.weight_policy == WeightPolicy.role:
        listed = _listed(
            [f"{gettext(Role(r).label).lower()} {w}" for r, w in policy.role_weights.items()]
        )
        weights = Explanation(
            _("Weights"),
            _("By role (%(weights)s)", weights=listed),
            _(
                "A ballot counts as many times as its voter's role weighs: with these weights a "
                "creator's ballot counts %(creator)s times a fan's %(fan)s.",
                creator=policy.role_weights[Role.creator],
                fan=policy.role_weights[Role.fan],
            ),
        )
    else:
        listed = _listed(
            [f"{_constituency(Role(r))} {s}%" for r, s in policy.constituency_shares.items()]
        )
        weights = Explanation(
            _("Weights"),
            _("By constituency (%(shares)s)", shares=listed),
            _(
                "Each constituency holds a fixed share of the vote, split equally among its "
                "members who consent, raise concerns or object; a constituency where nobody takes "
                "a position gives its share to the others in proportion. Moderators vote as "
                "%(constituency)s.",
                constituency=_constituency(Role(policy.moderators_vote_as)),
            ),
        )
    if policy.objection_rule == ObjectionRule.any_blocks:
        objections = Explanation(
            _("Objections"),
            _("any blocks"),
            _(
                "Any open objection blocks the proposal, whatever the numbers, until the objector "
                "withdraws it, the text is amended, or a moderator rules it not paramount."
            ),
        )
    else:
        objections = Explanation(
            _("Objections"),
            _("threshold"),
            _("Objections do not block on their own: they count against the threshold."),
        )
    return [
        weights,
        Explanation(
            _("Quorum"),
            _percent(policy.quorum),
            _(
                "At least %(quorum)s%% of the eligible weight must take part; standing aside "
                "counts as taking part.",
                quorum=policy.quorum,
            ),
        ),
        Explanation(
            _("Threshold"),
            _percent(policy.threshold),
            _(
                "Consent (with or without concerns) must make up at least %(threshold)s%% of the "
                "weight of everyone who consented, raised concerns or objected.",
                threshold=policy.threshold,
            ),
        ),
        objections,
        Explanation(
            _("Results"),
            _("Hidden until close"),
            _("Nobody, moderators included, sees any count before the poll closes."),
        )
        if policy.results == Visibility.hidden
        else Explanation(
            _("Results"),
            _("Live"),
            _("Everyone sees the running tally while the poll is open."),
        ),
        Explanation(
            _("Ballots"),
            _("Named"),
            _(
                "Ballots and their reasons are shown with the voter's name: reasons are part of "
                "the deliberation."
            ),
        )
        if policy.ballots == Secrecy.named
        else Explanation(
            _("Ballots"),
            _("Anonymous"),
            _(
                "Nobody, moderators included, ever sees who cast which ballot; after the poll "
                "closes, the list of who took part is shown."
            ),
        ),
        Explanation(
            _("Duration"),
            ngettext("%(num)d day", "%(num)d days", policy.duration_days),
            _("How long a poll runs, and how long each new round runs after the text is amended."),
        ),
        Explanation(
            _("Who may vote"),
            _(
                "Members when the poll opens, after %(days)s days of membership",
                days=policy.min_membership_days,
            )
            if policy.min_membership_days
            else _("Members when the poll opens"),
            _(
                "The electoral roll and every voter's weight are frozen when the poll opens: "
                "joining or changing roles later changes nothing in that poll."
            ),
        ),
        Explanation(
            _("Rounds"),
            str(policy.max_rounds),
            _(
                "Amending the text during a poll starts a new round: ballots of earlier rounds "
                "stay in the record but stop counting. A poll has at most %(rounds)s rounds.",
                rounds=policy.max_rounds,
            ),
        ),
    ]
