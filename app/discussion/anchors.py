"""Anchors: checking a pointer into an exhibited work, and showing it (chips, media fragments).

The shapes follow the W3C Web Annotation selectors: a time range (Media Fragments `t=`),
a text quote (exact text with the text just before and after, to tell repeats apart)
and an image region in percent (`xywh=percent:`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, fields

from app import i18n
from app.discussion.models import AnchorKind, CommentAnchor
from app.i18n import gettext as _
from app.works.models import Medium, Work

QUOTE_MAX = 1000
CONTEXT_MAX = 200
#: How much text around a quote is stored with it, when the client gives none.
CONTEXT_STORED = 32
TIME_PATTERN = re.compile(r"^(?:(\d{1,2}):)?(?:(\d{1,2}):)?(\d{1,5}(?:\.\d{1,3})?)$")


@dataclass
class AnchorInput:
    """An anchor as a client sent it: every value still unchecked."""

    work: int | None = None
    kind: str = ""
    start: float | None = None
    end: float | None = None
    exact: str = ""
    prefix: str = ""
    suffix: str = ""
    x: float | None = None
    y: float | None = None
    w: float | None = None
    h: float | None = None


@dataclass(frozen=True)
class CheckedAnchor:
    work: Work
    kind: AnchorKind
    start: float | None = None
    end: float | None = None
    exact: str | None = None
    prefix: str | None = None
    suffix: str | None = None
    x: float | None = None
    y: float | None = None
    w: float | None = None
    h: float | None = None

    def shape(self) -> dict[str, object]:
        """The anchor's columns as stored (everything but the work)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "work"}


def parse_time(raw: str) -> float | None:
    """Seconds from `83.5`, `1:23` or `1:02:03`; None when it is none of these."""
    text = raw.strip()
    match = TIME_PATTERN.match(text) if text.isascii() else None
    if match is None:
        return None
    first, second, last = match.groups()
    if first is not None and second is not None:
        hours, minutes = int(first), int(second)
    else:
        hours, minutes = 0, int(first) if first is not None else 0
    seconds = float(last)
    if (first is not None and seconds >= 60) or (second is not None and minutes >= 60):
        return None
    return hours * 3600 + minutes * 60 + seconds


def format_time(seconds: float) -> str:
    """`1:23`, `1:02:03`, or `0:42.5` when the fraction matters."""
    # Round to tenths first: 59.99 is 1:00, never "0:59.0" from rounding the fraction alone.
    seconds = round(seconds, 1)
    whole = int(seconds)
    fraction = seconds - whole
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    tail = f"{secs:02d}"
    if fraction >= 0.05:
        tail += f"{fraction:.1f}"[1:]
    return f"{hours}:{minutes:02d}:{tail}" if hours else f"{minutes}:{tail}"


def _number(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def check(anchor: AnchorInput, exhibited: dict[int, Work]) -> CheckedAnchor:
    """The anchor, checked against the work it points into (one of `exhibited`).

    Raises `AnchorProblems` with one message per field, for the caller to report.
    """
    problems: dict[str, str] = {}
    work = exhibited.get(anchor.work) if anchor.work is not None else None
    if work is None:
        raise AnchorProblems({"work": _("Choose one of the works exhibited on this proposal.")})
    if anchor.kind not in AnchorKind.__members__:
        raise AnchorProblems({"kind": _("Choose what to point at: a time, a quote or a region.")})
    kind = AnchorKind(anchor.kind)
    if kind == AnchorKind.time:
        return _check_time(anchor, work, problems)
    if kind == AnchorKind.quote:
        return _check_quote(anchor, work, problems)
    return _check_region(anchor, work, problems)


class AnchorProblems(Exception):
    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__(fields)
        self.fields = fields


def _check_time(anchor: AnchorInput, work: Work, problems: dict[str, str]) -> CheckedAnchor:
    if work.medium not in (Medium.audio, Medium.video) or not work.duration_seconds:
        raise AnchorProblems(
            {
                "kind": _(
                    "“%(work)s” has no duration to point into; quote or outline instead.",
                    work=work.title,
                )
            }
        )
    duration = work.duration_seconds
    start, end = _number(anchor.start), _number(anchor.end)
    length = format_time(duration)
    if start is None:
        problems["start"] = _("Give the start time, like 1:23.")
    elif not 0 <= start < duration:
        problems["start"] = _("Start within the work: it is %(length)s long.", length=length)
    if end is None:
        problems["end"] = _("Give the end time, like 1:35.")
    elif end > duration:
        problems["end"] = _("End within the work: it is %(length)s long.", length=length)
    elif start is not None and end <= start:
        problems["end"] = _("End after the start.")
    if problems:
        raise AnchorProblems(problems)
    return CheckedAnchor(work=work, kind=AnchorKind.time, start=start, end=end)


def _check_quote(anchor: AnchorInput, work: Work, problems: dict[str, str]) -> CheckedAnchor:
    excerpt = work.excerpt or ""
    if not excerpt:
        raise AnchorProblems(
            {
                "kind": _(
                    "“%(work)s” has no excerpt to quote from; point at a time or region.",
                    work=work.title,
                )
            }
        )
    exact = anchor.exact
    if not exact.strip():
        raise AnchorProblems({"exact": _("Paste the passage you mean, exactly as in the excerpt.")})
    if len(exact) > QUOTE_MAX:
        raise AnchorProblems(
            {"exact": _("Quote at most %(max)s characters.", max=i18n.number(QUOTE_MAX))}
        )
    for name in ("prefix", "suffix"):
        if len(getattr(anchor, name)) > CONTEXT_MAX:
            problems[name] = _("Use at most %(max)s characters.", max=CONTEXT_MAX)
    if problems:
        raise AnchorProblems(problems)
    position = locate(excerpt, exact, anchor.prefix, anchor.suffix)
    if position is None:
        if exact in excerpt:
            problems["prefix"] = _("The text around the quote does not match the excerpt.")
        else:
            problems["exact"] = _("This passage does not occur in the work's excerpt.")
        raise AnchorProblems(problems)
    end = position + len(exact)
    return CheckedAnchor(
        work=work,
        kind=AnchorKind.quote,
        exact=exact,
        prefix=anchor.prefix or excerpt[max(0, position - CONTEXT_STORED) : position],
        suffix=anchor.suffix or excerpt[end : end + CONTEXT_STORED],
    )


def locate(text: str, exact: str, prefix: str | None, suffix: str | None) -> int | None:
    """Where `exact` occurs in `text` with `prefix` just before and `suffix` just after."""
    start = text.find(exact)
    while start != -1:
        before_ok = not prefix or text[:start].endswith(prefix)
        after_ok = not suffix or text[start + len(exact) :].startswith(suffix)
        if before_ok and after_ok:
            return start
        start = text.find(exact, start + 1)
    return None


def _check_region(anchor: AnchorInput, work: Work, problems: dict[str, str]) -> CheckedAnchor:
    if work.medium != Medium.image:
        raise AnchorProblems(
            {
                "kind": _(
                    "“%(work)s” is not an image; point at a time or quote instead.", work=work.title
                )
            }
        )
    values = {name: _number(getattr(anchor, name)) for name in ("x", "y", "w", "h")}
    for name, value in values.items():
        if value is None:
            problems[name] = _("Give a percentage from 0 to 100.")
        elif not 0 <= value <= 100:
            problems[name] = _("Use a percentage from 0 to 100.")
    if problems:
        raise AnchorProblems(problems)
    x, y, w, h = (values[n] or 0.0 for n in ("x", "y", "w", "h"))
    if w <= 0:
        problems["w"] = _("The region needs a width.")
    elif x + w > 100:
        problems["w"] = _("The region runs past the right edge (x + width is over 100).")
    if h <= 0:
        problems["h"] = _("The region needs a height.")
    elif y + h > 100:
        problems["h"] = _("The region runs past the bottom edge (y + height is over 100).")
    if problems:
        raise AnchorProblems(problems)
    return CheckedAnchor(work=work, kind=AnchorKind.region, x=x, y=y, w=w, h=h)


def _percent(value: float | None) -> str:
    return f"{value or 0:g}"


def label(anchor: CommentAnchor) -> str:
    """The chip's text: `▶ 1:23–1:35`, a quoted passage, or a region (in English: the API's)."""
    if anchor.kind == AnchorKind.time:
        return f"▶ {format_time(anchor.start or 0)}–{format_time(anchor.end or 0)}"
    if anchor.kind == AnchorKind.quote:
        exact = " ".join((anchor.exact or "").split())
        return f"“{exact[:60]}…”" if len(exact) > 60 else f"“{exact}”"
    size = f"{_percent(anchor.w)}×{_percent(anchor.h)}%"
    return f"▢ region {size} at {_percent(anchor.x)}%, {_percent(anchor.y)}%"


def display_label(anchor: CommentAnchor) -> str:
    """`label` in the reader's language, for pages (a region's words are translated)."""
    if anchor.kind != AnchorKind.region:
        return label(anchor)
    return _(
        "▢ region %(width)s×%(height)s%% at %(x)s%%, %(y)s%%",
        width=_percent(anchor.w),
        height=_percent(anchor.h),
        x=_percent(anchor.x),
        y=_percent(anchor.y),
    )


def media_fragment(anchor: CommentAnchor) -> str:
    """The Media Fragments suffix for the work's own URL (`#t=83.5,95`, `#xywh=percent:...`)."""
    if anchor.kind == AnchorKind.time:
        return f"#t={anchor.start:g},{anchor.end:g}"
    if anchor.kind == AnchorKind.region:
        values = (anchor.x, anchor.y, anchor.w, anchor.h)
        return "#xywh=percent:" + ",".join(_percent(v) for v in values)
    return ""


def fragment_url(anchor: CommentAnchor) -> str | None:
    """The work's own URL pointing at the anchored moment; None for quotes."""
    if anchor.kind != AnchorKind.time:
        return None
    base = anchor.work.url.split("#", 1)[0]
    return base + media_fragment(anchor)


def highlight(anchor: CommentAnchor) -> tuple[str, str, str] | None:
    """The work's excerpt split around the quoted passage (before, passage, after)."""
    excerpt = anchor.work.excerpt or ""
    if anchor.kind != AnchorKind.quote or not anchor.exact:
        return None
    position = locate(excerpt, anchor.exact, anchor.prefix, anchor.suffix)
    if position is None:
        # The excerpt was edited since: fall back to the first occurrence, if any.
        position = excerpt.find(anchor.exact)
        if position == -1:
            return None
    end = position + len(anchor.exact)
    return excerpt[:position], excerpt[position:end], excerpt[end:]
