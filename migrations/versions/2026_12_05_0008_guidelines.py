"""Guidelines: sections, clauses and their versions with provenance and credits, document
versions, ratifications; communities may require a rights holder's co-signature (off for all
existing communities).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "guideline_sections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=80), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["categories.id"],
            name=op.f("fk_guideline_sections_category_id_categories"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_guideline_sections_community_id_communities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guideline_sections")),
        sa.UniqueConstraint(
            "community_id", "number", name=op.f("uq_guideline_sections_community_id_number")
        ),
    )
    with op.batch_alter_table("guideline_sections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_guideline_sections_category_id"), ["category_id"], unique=False
        )

    op.create_table(
        "guideline_clauses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("section_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=140), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_guideline_clauses_community_id_communities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["section_id"],
            ["guideline_sections.id"],
            name=op.f("fk_guideline_clauses_section_id_guideline_sections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guideline_clauses")),
        sa.UniqueConstraint(
            "community_id", "number", name=op.f("uq_guideline_clauses_community_id_number")
        ),
    )
    op.create_table(
        "guideline_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column(
            "source",
            sa.Enum("imported", "ratified", name="source", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=True),
        sa.Column("published_by_id", sa.Integer(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_guideline_versions_community_id_communities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_guideline_versions_proposal_id_proposals"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["published_by_id"],
            ["users.id"],
            name=op.f("fk_guideline_versions_published_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guideline_versions")),
        sa.UniqueConstraint(
            "community_id", "number", name=op.f("uq_guideline_versions_community_id_number")
        ),
    )
    with op.batch_alter_table("guideline_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_guideline_versions_proposal_id"), ["proposal_id"], unique=False
        )

    op.create_table(
        "guideline_clause_tags",
        sa.Column("clause_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["clause_id"],
            ["guideline_clauses.id"],
            name=op.f("fk_guideline_clause_tags_clause_id_guideline_clauses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("clause_id", "tag", name=op.f("pk_guideline_clause_tags")),
    )
    with op.batch_alter_table("guideline_clause_tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_guideline_clause_tags_tag"), ["tag"], unique=False)

    op.create_table(
        "guideline_clause_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clause_id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "change",
            sa.Enum(
                "added",
                "amended",
                "repealed",
                "imported",
                name="change",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("from_version", sa.Integer(), nullable=False),
        sa.Column("to_version", sa.Integer(), nullable=True),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("effective_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("proposal_id", sa.Integer(), nullable=True),
        sa.Column("revision_number", sa.Integer(), nullable=True),
        sa.Column("poll_id", sa.Integer(), nullable=True),
        sa.Column("tally", sa.JSON(), nullable=True),
        sa.Column("objections", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["clause_id"],
            ["guideline_clauses.id"],
            name=op.f("fk_guideline_clause_versions_clause_id_guideline_clauses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_guideline_clause_versions_community_id_communities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_guideline_clause_versions_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["poll_id"],
            ["polls.id"],
            name=op.f("fk_guideline_clause_versions_poll_id_polls"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_guideline_clause_versions_proposal_id_proposals"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guideline_clause_versions")),
        sa.UniqueConstraint(
            "clause_id", "version", name=op.f("uq_guideline_clause_versions_clause_id_version")
        ),
    )
    with op.batch_alter_table("guideline_clause_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_guideline_clause_versions_community_id_from_version"),
            ["community_id", "from_version"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_guideline_clause_versions_community_id_to_version"),
            ["community_id", "to_version"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_guideline_clause_versions_proposal_id"), ["proposal_id"], unique=False
        )

    op.create_table(
        "ratifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("capacity", sa.String(length=16), nullable=False),
        sa.Column(
            "decision",
            sa.Enum("ratify", "return", name="decision", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_ratifications_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["poll_id"],
            ["polls.id"],
            name=op.f("fk_ratifications_poll_id_polls"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_ratifications_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ratifications")),
    )
    with op.batch_alter_table("ratifications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ratifications_proposal_id_poll_id"),
            ["proposal_id", "poll_id"],
            unique=False,
        )

    op.create_table(
        "guideline_credits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clause_version_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column(
            "credit",
            sa.Enum(
                "proposer",
                "coauthor",
                "amender",
                "objector",
                "ratifier",
                name="credit",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["clause_version_id"],
            ["guideline_clause_versions.id"],
            name=op.f("fk_guideline_credits_clause_version_id_guideline_clause_versions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_guideline_credits_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guideline_credits")),
        sa.UniqueConstraint(
            "clause_version_id",
            "user_id",
            "credit",
            name=op.f("uq_guideline_credits_clause_version_id_user_id_credit"),
        ),
    )
    with op.batch_alter_table("communities", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "ratification_requires_rights_holder",
                sa.Boolean(),
                server_default=sa.false(),
                nullable=False,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("communities", schema=None) as batch_op:
        batch_op.drop_column("ratification_requires_rights_holder")

    op.drop_table("guideline_credits")
    with op.batch_alter_table("ratifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ratifications_proposal_id_poll_id"))

    op.drop_table("ratifications")
    with op.batch_alter_table("guideline_clause_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_guideline_clause_versions_proposal_id"))
        batch_op.drop_index(batch_op.f("ix_guideline_clause_versions_community_id_to_version"))
        batch_op.drop_index(batch_op.f("ix_guideline_clause_versions_community_id_from_version"))

    op.drop_table("guideline_clause_versions")
    with op.batch_alter_table("guideline_clause_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_guideline_clause_tags_tag"))

    op.drop_table("guideline_clause_tags")
    with op.batch_alter_table("guideline_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_guideline_versions_proposal_id"))

    op.drop_table("guideline_versions")
    op.drop_table("guideline_clauses")
    with op.batch_alter_table("guideline_sections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_guideline_sections_category_id"))

    op.drop_table("guideline_sections")
