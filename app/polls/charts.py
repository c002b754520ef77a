"""A tally as bar charts: plain data the templates draw as SVG, with the figures as text.

Every bar is measured in percent of its own width, so the SVG needs no viewBox and scales to
any screen; the templates put each figure in words beside the bar it belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.polls.models import POSITION_LABELS, Position
from app.polls.policy import WeightPolicy
from app.polls.tally import ConstituencyTally, Figure, Tally

#: The order positions are stacked in, from agreement to standing aside.
ORDER = (Position.consent, Position.concern, Position.object, Position.stand_aside)
GROUP_LABELS = {
    "fan": "Fans",
    "creator": "Creators",
    "rights_holder": "Rights holders",
    "moderator": "Moderators",
}
#: How a position reads after a number of ballots ("3 consent", "1 stood aside").
POSITION_WORDS = {
    Position.consent: "consent",
    Position.concern: "consent with concerns",
    Position.object: "object",
    Position.stand_aside: "stood aside",
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
    return GROUP_LABELS.get(name, name.replace("_", " ").capitalize())


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
    total = sum(f.weight for _, f in figures)
    # Under constituency weights the vote is shared out in percent: its weights are percents.
    shares = tally.weight_policy == WeightPolicy.constituency.value

    def figure(position: Position, f: Figure) -> str:
        ballots = f"{f.ballots:,} ballot{'s' if f.ballots != 1 else ''}"
        if shares and position == Position.stand_aside:
            return f"{ballots} (towards the quorum only)"
        share = percent(100 * f.weight / total) if total else "0%"
        return (
            f"{share} · {ballots}" if shares else f"weight {number(f.weight)} ({share}) · {ballots}"
        )

    parts = [(p.value, POSITION_LABELS[p], f.weight, figure(p, f)) for p, f in figures]
    summary = (
        "; ".join(f"{label}: {figure}" for _, label, _, figure in parts)
        if total
        else "No ballot carried any weight."
    )
    return BarChart("positions", "The weighted vote", summary, _stack(parts, total))


def participation_chart(tally: Tally) -> BarChart:
    """How much of the eligible weight took part, against the quorum."""
    took = min(tally.participation, 100.0)
    verdict = "met" if tally.quorum_met else "not met"
    return BarChart(
        "participation",
        "Participation",
        f"{percent(tally.participation)} of the eligible weight took part; the quorum is "
        f"{tally.quorum}%, {verdict}.",
        [
            Segment(
                "took-part",
                "Took part",
                0.0,
                took,
                f"{percent(tally.participation)} (weight {number(tally.participating_weight)} "
                f"of {number(tally.eligible_weight)})",
            )
        ],
        Marker(float(tally.quorum), f"quorum {tally.quorum}%"),
        headline=f"{percent(tally.participation)} · quorum {verdict}",
    )


def support_chart(tally: Tally) -> BarChart:
    """Consent among those who took a stand, against the threshold."""
    marker = Marker(float(tally.threshold), f"threshold {tally.threshold}%")
    if tally.support is None:
        return BarChart(
            "support",
            "Support",
            "Nobody consented, raised a concern or objected, so there is no support to measure.",
            [],
            marker,
            headline="nobody took a stand",
        )
    verdict = "met" if tally.threshold_met else "not met"
    support = min(tally.support, 100.0)
    return BarChart(
        "support",
        "Support",
        f"Consent, with or without concerns, made up {percent(tally.support)} of the weight "
        f"of everyone who took a stand; the threshold is {tally.threshold}%, {verdict}.",
        [
            Segment("consent", "Consent (with or without concerns)", 0.0, support, ""),
            Segment("object", "Object", support, 100.0 - support, ""),
        ],
        marker,
        headline=f"{percent(tally.support)} · threshold {verdict}",
    )


def _group_chart(group: ConstituencyTally, weighted_total: float) -> BarChart:
    """One constituency: its ballots by position, as a share of its members on the roll."""
    figures = [(p, group.positions.get(p.value, Figure(0, 0.0))) for p in ORDER]
    voted = sum(f.ballots for _, f in figures)
    label = group_label(group.name)
    parts = [(p.value, POSITION_LABELS[p], float(f.ballots), f"{f.ballots:,}") for p, f in figures]
    weight = sum(f.weight for p, f in figures if p != Position.stand_aside)
    said = ", ".join(f"{f.ballots:,} {POSITION_WORDS[p]}" for p, f in figures if f.ballots)
    carried = (
        f" Its ballots carried {percent(100 * weight / weighted_total)} of the weighted vote."
        if weighted_total
        else ""
    )
    share = f" (share {group.share}%)" if group.share is not None else ""
    return BarChart(
        f"group-{group.name}",
        f"{label}{share}",
        f"{voted:,} of {group.eligible:,} {label.lower()} on the roll took part"
        + (f": {said}." if said else ".")
        + carried,
        _stack(parts, float(max(group.eligible, voted))),
        headline=f"{voted:,} of {group.eligible:,} took part",
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
