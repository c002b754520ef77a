"""A closed poll's export as CSV, and back: one row per counted ballot, with the poll, policy,
roll and frozen tally as leading `# name: <JSON>` lines, so the file alone is enough to recount.

The JSON export (`service.export`) is the source; `to_csv` and `from_csv` round-trip it, so
`normsforum verify-tally` reads either form.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from app.polls.policy import Secrecy

#: The export's parts written as comment lines, in this order, before the ballots.
HEADER_PARTS = ("poll", "policy", "roll", "tally")
COLUMNS = ("receipt", "round", "position", "ruled_not_paramount", "weight", "constituency")
#: Named polls only: anonymous exports never name a voter.
NAMED_COLUMNS = ("voter", "reason")
# Spreadsheets run cells that start with these as formulas (CSV injection): such text cells get
# a leading apostrophe, which spreadsheets hide and the recount never reads.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _text_cell(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def is_named(data: dict[str, Any]) -> bool:
    return bool(data["policy"].get("ballots", Secrecy.named.value) == Secrecy.named.value)


def to_csv(data: dict[str, Any]) -> str:
    """The export as CSV text."""
    out = io.StringIO()
    for part in HEADER_PARTS:
        out.write(f"# {part}: {json.dumps(data[part], separators=(',', ':'))}\n")
    named = is_named(data)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS + NAMED_COLUMNS if named else COLUMNS)
    for ballot in data["ballots"]:
        row = [
            ballot["receipt"],
            ballot["round"],
            ballot["position"],
            "true" if ballot["ruled_not_paramount"] else "false",
            ballot["weight"],
            ballot["constituency"],
        ]
        if named:
            row += [_text_cell(ballot["voter"]), _text_cell(ballot["reason"])]
        writer.writerow(row)
    return out.getvalue()


def from_csv(text: str) -> dict[str, Any]:
    """An export read back from its CSV form; ValueError says what is wrong with the text."""
    lines = text.splitlines(keepends=True)
    data: dict[str, Any] = {}
    start = 0
    while start < len(lines) and lines[start].startswith("#"):
        name, separator, value = lines[start][1:].partition(":")
        if not separator:
            raise ValueError(f"line {start + 1} is a comment without a `name: JSON` pair")
        try:
            data[name.strip()] = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"line {start + 1} does not hold valid JSON ({exc.msg})") from None
        start += 1
    missing = [part for part in HEADER_PARTS if part not in data]
    if missing:
        raise ValueError(f"the header lines lack {', '.join(missing)}")
    rows = csv.DictReader(io.StringIO("".join(lines[start:])))
    absent = [column for column in COLUMNS if column not in (rows.fieldnames or [])]
    if absent:
        raise ValueError(f"the ballot columns lack {', '.join(absent)}")
    ballots = []
    for number, row in enumerate(rows, start=start + 2):
        try:
            ballots.append(
                {
                    "receipt": row["receipt"],
                    "round": int(row["round"]),
                    "position": row["position"],
                    "ruled_not_paramount": row["ruled_not_paramount"] == "true",
                    "weight": int(row["weight"]),
                    "constituency": row["constituency"],
                }
            )
        except (TypeError, ValueError):
            raise ValueError(f"line {number} is not a ballot row") from None
    data["ballots"] = ballots
    return data
