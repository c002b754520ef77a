"""Indexes for the proposal list's state and language filters.

A filter that matches few proposals (the three withdrawn ones, the five written in Japanese)
starts from its own index instead of walking the whole sort index. Only adds indexes; no
data changes. Downgrading drops them.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(op.f("ix_proposals_community_id_state"), "proposals", ["community_id", "state"])
    op.create_index(
        op.f("ix_proposals_community_id_language"), "proposals", ["community_id", "language"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_proposals_community_id_language"), table_name="proposals")
    op.drop_index(op.f("ix_proposals_community_id_state"), table_name="proposals")
