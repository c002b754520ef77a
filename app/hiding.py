"""Hiding without destroying: what every hideable row (a comment, a work) shares.

An item is either visible, removed by a moderator (with a public reason), or held for review
after enough members flagged it. The record itself always stays.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import UTCDateTime

HiddenState = Literal["visible", "removed", "pending_review"]


class Hideable:
    """Columns and rules of a row that moderators can take out of view."""

    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Null while hidden: held by flags, pending a moderator's review.
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    hidden_reason: Mapped[str] = mapped_column(String(500), default="")

    @property
    def is_removed(self) -> bool:
        """Hidden by a moderator's decision."""
        return self.hidden_at is not None and self.hidden_by_id is not None

    @property
    def is_pending_review(self) -> bool:
        """Hidden automatically after enough flags, until a moderator looks."""
        return self.hidden_at is not None and self.hidden_by_id is None

    @property
    def hidden_state(self) -> HiddenState:
        if self.hidden_at is None:
            return "visible"
        return "removed" if self.hidden_by_id is not None else "pending_review"

    def remove(self, *, moderator_id: int, reason: str, now: datetime) -> None:
        self.hidden_at = self.hidden_at or now
        self.hidden_by_id = moderator_id
        self.hidden_reason = reason

    def hold_for_review(self, now: datetime) -> None:
        if self.hidden_at is None:
            self.hidden_at = now
            self.hidden_by_id = None
            self.hidden_reason = ""

    def show(self) -> None:
        self.hidden_at = None
        self.hidden_by_id = None
        self.hidden_reason = ""
