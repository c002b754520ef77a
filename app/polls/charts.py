"""A tally as bar charts: plain data the templates draw as SVG, with the figures as text.

Every bar is measured in percent of its own width, so the SVG needs no viewBox and scales to
any screen; the templates put each figure in words beside the bar it belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.i18n import N_, gettext, ngettext, pgettext
from app.i18n import gettext as _
from app.polls.models import POSITION_LABELS, Position
from app.polls.policy import WeightPolicy
from app.polls.tally import ConstituencyTally, Figure, Tally

#: The order positions are stacked in, from agreement to standing aside.
ORDER = (Position.consent, Position.concern, Position.object, Position.stand_aside)
#: Constituencies by name, as shown (marked for the catalogs, translated by `group_label`).
GROUP_LABELS = {
    "fan": N_("Fans"),
    "creator": N_("Creators"),
    "rights_holder": N_("Rights holders"),
    "moderator": N_("Moderators"),
}
#: How a number of ballots of a position reads ("3 consent", "1 stood aside").
POSITION_WORDS = {
    Position.consent: N_("%(count)s consent"),
    Position.concern: N_("%(count)s consent with concerns"),
    Position.object: N_("%(count)s object"),
    Position.stand_aside: N_("%(count)s stood aside"),
}


def number(value: float) -> str:
    """A figure for people: whole when it is whole, else up to two decimals."""
    if abs(value - round(value)) < 0.005:
        return f"{round(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def percent(value: float) -> str:
    """A percent as the tally's sentence says it: whole when it is whole, else one decimal."""
    shown = f"{value:.0f}" if abs(value - round(value)) < 0.05 else f"{value:.1f}"
    return f"{shown}%"


def group_label(name: str) -> str:
    """A constituency's name in the reader's language."""
    if name in GROUP_LABELS:
        return gettext(GROUP_LABELS[name])
    return name.replace("_", " ").capitalize()


def position_label(position: Position) -> str:
    """A position's name in the reader's language."""
    return gettext(POSITION_LABELS[position])


def verdict(met: bool) -> str:
    """Whether a rule's bar was reached, in a word."""
    return _("met") if met else _("not met")


def in_order(groups: list[ConstituencyTally]) -> list[ConstituencyTally]:
    """Constituencies as people list them: fans, creators, rights holders, moderators."""
    rank = {name: n for n, name in enumerate(GROUP_LABELS)}
    return sorted(groups, key=lambda g: (rank.get(g.name, len(rank)), g.name))


@dataclass(frozen=True)
class Segment:
    """One coloured stretch of a bar; `key` names its colour (a position, or a state)."""

    key: str
    label: str
    #: Where it starts and how wide it is, in percent of the bar.
    start: float
    size: float
    figure: str

    @property
    def x(self) -> str:
        return f"{self.start:.3f}%"

    @property
    def width(self) -> str:
        return f"{self.size:.3f}%"


@dataclass(frozen=True)
class Marker:
    """A line across the bar at a rule's bar (quorum, threshold), labelled below it."""

    at: float
    label: str

    @property
    def x(self) -> str:
        return f"{self.at:.3f}%"

    @property
    def anchor(self) -> str:
        """Labels near an edge grow inwards, so they stay inside the chart."""
        if self.at < 15:
            return "start"
        return "end" if self.at > 85 else "middle"


@dataclass(frozen=True)
class BarChart:
    key: str
    title: str
    #: The chart in one sentence: its text equivalent for screen readers.
    summary: str
    segments: list[Segment]
    marker: Marker | None = None
    #: A short figure printed beside the title.
    headline: str = ""


def _stack(parts: list[tuple[str, str, float, str]], total: float) -> list[Segment]:
    """Segments side by side, each as wide as its share of `total` (none when it is 0)."""
    segments: list[Segment] = []
    start = 0.0
    for key, label, amount, figure in parts:
        size = 100 * amount / total if total > 0 else 0.0
        segments.append(Segment(key, label, start, size, figure))
        start += size
    return segments


def positions_chart(tally: Tally) -> BarChart:
    """The weighted vote, stacked by position."""
    figures = [(p, tally.positions.get(p.value, Figure(0, 0.0))) for p in ORDER]
    total = sum(f.weight for _position, f in figures)
    # Under constituency weights the vote is shared out in percent: its weights are percents.
    shares = tally.weight_policy == WeightPolicy.constituency.value

    def figure(position: Position, f: Figure) -> str:
        ballots = ngettext(
            "%(count)s ballot", "%(count)s ballots", f.ballots, count=number(f.ballots)
        )
        if shares and position == Position.stand_aside:
            return _("%(ballots)s (towards the quorum only)", ballots=ballots)
        share = percent(100 * f.weight / total) if total else "0%"
        if shares:
            return f"{share} · {ballots}"
        return _(
            "weight %(weight)s (%(share)s) · %(ballots)s",
            weight=number(f.weight),
            share=share,
            ballots=ballots,
        )

    parts = [(p.value, position_label(p), f.weight, figure(p, f)) for p, f in figures]
    summary = (
        "; ".join(f"{label}: {figure}" for _key, label, _weight, figure in parts)
        if total
        else _("No ballot carried any weight.")
    )
    return BarChart("positions", _("The weighted vote"), summary, _stack(parts, total))


def participation_chart(tally: Tally) -> BarChart:
    """How much of the eligible weight took part, against the quorum."""
    took = min(tally.participation, 100.0)
    met = verdict(tally.quorum_met)
    participation = percent(tally.participation)
    return BarChart(
        "participation",
        _("Participation"),
        _(
            "%(participation)s of the eligible weight took part; the quorum is %(quorum)s%%, "
            "%(verdict)s.",
            participation=participation,
            quorum=tally.quorum,
            verdict=met,
        ),
        [
            Segment(
                "took-part",
                _("Took part"),
                0.0,
                took,
                _(
                    "%(participation)s (weight %(weight)s of %(total)s)",
                    participation=participation,
                    weight=number(tally.participating_weight),
                    total=number(tally.eligible_weight),
                ),
            )
        ],
        Marker(float(tally.quorum), _("quorum %(quorum)s%%", quorum=tally.quorum)),
        headline=_(
            "%(participation)s · quorum %(verdict)s", participation=participation, verdict=met
        ),
    )


def support_chart(tally: Tally) -> BarChart:
    """Consent among those who took a stand, against the threshold."""
    marker = Marker(
        float(tally.threshold), _("threshold %(threshold)s%%", threshold=tally.threshold)
    )
    if tally.support is None:
        return BarChart(
            "support",
            _("Support"),
            _("Nobody consented, raised a concern or objected, so there is no support to measure."),
            [],
            marker,
            headline=_("nobody took a stand"),
        )
    met = verdict(tally.threshold_met)
    support = min(tally.support, 100.0)
    return BarChart(
        "support",
        _("Support"),
        _(
            "Consent, with or without concerns, made up %(support)s of the weight of everyone "
            "who took a stand; the threshold is %(threshold)s%%, %(verdict)s.",
            support=percent(tally.support),
            threshold=tally.threshold,
            verdict=met,
        ),
        [
            Segment("consent", _("Consent (with or without concerns)"), 0.0, support, ""),
            Segment("object", _("Object"), support, 100.0 - support, ""),
        ],
        marker,
        headline=_(
            "%(support)s · threshold %(verdict)s", support=percent(tally.support), verdict=met
        ),
    )


def _group_chart(group: ConstituencyTally, weighted_total: float) -> BarChart:
    """One constituency: its ballots by position, as a share of its members on the roll."""
    figures = [(p, group.positions.get(p.value, Figure(0, 0.0))) for p in ORDER]
    voted = sum(f.ballots for _position, f in figures)
    label = group_label(group.name)
    parts = [(p.value, position_label(p), float(f.ballots), f"{f.ballots:,}") for p, f in figures]
    weight = sum(f.weight for p, f in figures if p != Position.stand_aside)
    said = pgettext("list separator", ", ").join(
        gettext(POSITION_WORDS[p], count=number(f.ballots)) for p, f in figures if f.ballots
    )
    counts = {"voted": f"{voted:,}", "eligible": f"{group.eligible:,}", "group": label.lower()}
    summary = (
        _(
            "%(voted)s of %(eligible)s %(group)s on the roll took part: %(said)s.",
            said=said,
            **counts,
        )
        if said
        else _("%(voted)s of %(eligible)s %(group)s on the roll took part.", **counts)
    )
    if weighted_total:
        summary += " " + _(
            "Its ballots carried %(share)s of the weighted vote.",
            share=percent(100 * weight / weighted_total),
        )
    title = (
        _("%(group)s (share %(share)s%%)", group=label, share=group.share)
        if group.share is not None
        else label
    )
    return BarChart(
        f"group-{group.name}",
        title,
        summary,
        _stack(parts, float(max(group.eligible, voted))),
        headline=_(
            "%(voted)s of %(eligible)s took part",
            voted=counts["voted"],
            eligible=counts["eligible"],
        ),
    )


def constituency_charts(tally: Tally) -> list[BarChart]:
    weighted_total = sum(
        f.weight for p, f in tally.positions.items() if p != Position.stand_aside.value
    )
    return [_group_chart(group, weighted_total) for group in in_order(tally.constituencies)]


@dataclass(frozen=True)
class Charts:
    positions: BarChart
    participation: BarChart
    support: BarChart
    constituencies: list[BarChart]


def charts(tally: Tally) -> Charts:
    """Every chart of the results page."""
    return Charts(
        positions_chart(tally),
        participation_chart(tally),
        support_chart(tally),
        constituency_charts(tally),
    )
