"""Polls: community poll policies, polls with rounds, frozen rolls, ballots, objection rulings.

Only new tables: existing communities poll by the default policy until a moderator saves one,
and existing proposals have no poll.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _user(column: str, table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["users.id"], name=op.f(f"fk_{table}_{column}_users"), ondelete="SET NULL"
    )


def upgrade() -> None:
    op.create_table(
        "poll_policy_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("policy", sa.JSON(), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _user("changed_by_id", "poll_policy_changes"),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_poll_policy_changes_community_id_communities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poll_policy_changes")),
    )
    op.create_index(
        op.f("ix_poll_policy_changes_community_id_id"),
        "poll_policy_changes",
        ["community_id", "id"],
    )

    op.create_table(
        "polls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("policy", sa.JSON(), nullable=False),
        sa.Column("current_round", sa.Integer(), nullable=False),
        sa.Column("opened_by_id", sa.Integer(), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "outcome",
            sa.Enum(
                "passed", "rejected", "withdrawn", name="outcome", native_enum=False, length=24
            ),
            nullable=True,
        ),
        sa.Column("tally", sa.JSON(), nullable=True),
        _user("closed_by_id", "polls"),
        _user("opened_by_id", "polls"),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_polls_community_id_communities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_polls_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_polls")),
        sa.UniqueConstraint("proposal_id", "number", name=op.f("uq_polls_proposal_id_number")),
    )
    op.create_index(op.f("ix_polls_closed_at_closes_at"), "polls", ["closed_at", "closes_at"])
    op.create_index(op.f("ix_polls_community_id"), "polls", ["community_id"])

    op.create_table(
        "poll_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("revision_number", sa.Integer(), nullable=False),
        sa.Column("started_by_id", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["poll_id"], ["polls.id"], name=op.f("fk_poll_rounds_poll_id_polls"), ondelete="CASCADE"
        ),
        _user("started_by_id", "poll_rounds"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poll_rounds")),
        sa.UniqueConstraint("poll_id", "number", name=op.f("uq_poll_rounds_poll_id_number")),
    )

    op.create_table(
        "poll_voters",
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "fan",
                "creator",
                "rights_holder",
                "moderator",
                name="role",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("constituency", sa.String(length=24), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["poll_id"], ["polls.id"], name=op.f("fk_poll_voters_poll_id_polls"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_poll_voters_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("poll_id", "user_id", name=op.f("pk_poll_voters")),
    )
    op.create_index(op.f("ix_poll_voters_user_id"), "poll_voters", ["user_id"])

    op.create_table(
        "ballots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("round_number", sa.Integer(), nullable=False),
        sa.Column("voter_id", sa.Integer(), nullable=False),
        sa.Column(
            "position",
            sa.Enum(
                "consent",
                "concern",
                "object",
                "stand_aside",
                name="position",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("reason", sa.String(length=2000), nullable=False),
        sa.Column("receipt", sa.String(length=16), nullable=False),
        sa.Column("latest", sa.Boolean(), nullable=False),
        sa.Column("cast_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["poll_id"], ["polls.id"], name=op.f("fk_ballots_poll_id_polls"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["voter_id"], ["users.id"], name=op.f("fk_ballots_voter_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ballots")),
        sa.UniqueConstraint("poll_id", "receipt", name=op.f("uq_ballots_poll_id_receipt")),
    )
    # Pages of a round's counted ballots, and of its objections, in the order they were cast.
    # The conditions match how queries spell them on each database, so the planner uses them.
    op.create_index(
        "ix_ballots_counted",
        "ballots",
        ["poll_id", "round_number", "id"],
        sqlite_where=sa.text("latest = 1"),
        postgresql_where=sa.text("latest"),
    )
    op.create_index(
        "ix_ballots_objections",
        "ballots",
        ["poll_id", "round_number", "id"],
        sqlite_where=sa.text("latest = 1 AND position = 'object'"),
        postgresql_where=sa.text("latest AND position = 'object'"),
    )
    op.create_index(op.f("ix_ballots_voter_id"), "ballots", ["voter_id"])
    # One counted ballot per voter per round: a partial unique index on both databases.
    op.create_index(
        "uq_ballots_latest",
        "ballots",
        ["poll_id", "round_number", "voter_id"],
        unique=True,
        sqlite_where=sa.text("latest"),
        postgresql_where=sa.text("latest"),
    )

    op.create_table(
        "objection_rulings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ballot_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("moderator_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ballot_id"],
            ["ballots.id"],
            name=op.f("fk_objection_rulings_ballot_id_ballots"),
            ondelete="CASCADE",
        ),
        _user("moderator_id", "objection_rulings"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_objection_rulings")),
        sa.UniqueConstraint("ballot_id", name=op.f("uq_objection_rulings_ballot_id")),
    )


def downgrade() -> None:
    op.drop_table("objection_rulings")
    op.drop_table("ballots")
    op.drop_table("poll_voters")
    op.drop_table("poll_rounds")
    op.drop_table("polls")
    op.drop_table("poll_policy_changes")
