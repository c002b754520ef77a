"""Notification messages: what a notification says, kept as a message and its values.

Only adds two nullable columns, so it loses nothing: a notification written from now on keeps
its message (an English message id with `%(name)s` placeholders) and the values that fill it,
and is shown in the language of whoever reads it; older ones have neither and keep showing
the sentence they were written with, in `text`, as before.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMNs on both databases (see 0013 on why not SQLite's batch mode).
    op.add_column("notifications", sa.Column("message", sa.String(length=300), nullable=True))
    op.add_column("notifications", sa.Column("params", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("notifications", "params")
    op.drop_column("notifications", "message")
