"""Word-level diffs between two texts, for comparing revisions."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Literal

from markupsafe import Markup, escape

# Words, runs of whitespace, punctuation; CJK characters one by one, since they are not
# separated by spaces.
_TOKEN = re.compile(
    r"\s+|[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f]|\w+|[^\w\s]"
)

Op = Literal["equal", "insert", "delete"]


@dataclass(frozen=True)
class Piece:
    op: Op
    text: str


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(text)


def word_diff(old: str, new: str) -> list[Piece]:
    """The pieces that turn `old` into `new`, word by word."""
    a, b = tokenize(old), tokenize(new)
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    pieces: list[Piece] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pieces.append(Piece("equal", "".join(a[i1:i2])))
            continue
        if tag in ("delete", "replace"):
            pieces.append(Piece("delete", "".join(a[i1:i2])))
        if tag in ("insert", "replace"):
            pieces.append(Piece("insert", "".join(b[j1:j2])))
    return pieces


def render_html(pieces: list[Piece]) -> Markup:
    """Inline HTML with <ins> and <del>; the texts are escaped."""
    out = []
    for piece in pieces:
        text = escape(piece.text)
        if piece.op == "insert":
            out.append(Markup("<ins>{}</ins>").format(text))
        elif piece.op == "delete":
            out.append(Markup("<del>{}</del>").format(text))
        else:
            out.append(text)
    return Markup("").join(out)


def changed(pieces: list[Piece]) -> bool:
    return any(piece.op != "equal" for piece in pieces)
