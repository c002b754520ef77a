"""Notifications: in-app notifications, delivery preferences, poll reminders, mail headers.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = (
    "reply",
    "proposal_state",
    "poll_opened",
    "poll_closing",
    "objection",
    "new_round",
    "guidelines",
    "moderation",
)


def upgrade() -> None:
    op.create_table(
        "notification_preferences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "delivery",
            sa.Enum("in_app", "email", "digest", name="delivery", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("muted_kinds", sa.String(length=300), nullable=False),
        sa.Column("digest_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notification_preferences_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_preferences")),
        sa.UniqueConstraint("user_id", name=op.f("uq_notification_preferences_user_id")),
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(*KINDS, name="kind", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.String(length=300), nullable=False),
        sa.Column("url", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_notifications_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_notifications_community_id_communities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notifications_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    op.create_index(op.f("ix_notifications_mailed_at_id"), "notifications", ["mailed_at", "id"])
    op.create_index(op.f("ix_notifications_user_id_id"), "notifications", ["user_id", "id"])
    op.create_index(
        op.f("ix_notifications_user_id_read_at"), "notifications", ["user_id", "read_at"]
    )
    op.create_table(
        "notification_poll_reminders",
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["poll_id"],
            ["polls.id"],
            name=op.f("fk_notification_poll_reminders_poll_id_polls"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("poll_id", name=op.f("pk_notification_poll_reminders")),
    )
    # Nullable, so existing mail keeps its rows as they are (no header fields of its own).
    op.add_column("mail_outbox", sa.Column("headers", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mail_outbox") as batch:
        batch.drop_column("headers")
    op.drop_table("notification_poll_reminders")
    op.drop_table("notifications")
    op.drop_table("notification_preferences")
