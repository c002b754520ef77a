"""Content languages: what proposals, comments and works are written in, the language a
community's guidelines are authoritative in, and translations of clause versions.

Only adds. Existing proposals, comments and works get no language (NULL: "not recorded"),
since guessing would put a wrong claim on someone's words; everything written from now on
records one. Communities and clause versions get English, the only language guidelines
could be published in before. Downgrading drops the translations and the columns.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RECORDED = ("proposals", "comments", "works")


def upgrade() -> None:
    # Plain ADD COLUMNs on both databases (see 0013 on why not SQLite's batch mode).
    for table in RECORDED:
        op.add_column(table, sa.Column("language", sa.String(length=16), nullable=True))
    op.add_column(
        "communities",
        sa.Column("language", sa.String(length=16), nullable=False, server_default="en"),
    )
    op.add_column(
        "guideline_clause_versions",
        sa.Column("language", sa.String(length=16), nullable=False, server_default="en"),
    )
    op.create_table(
        "guideline_translations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("clause_id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=140), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("translator_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["guideline_clause_versions.id"],
            name=op.f("fk_guideline_translations_version_id_guideline_clause_versions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["clause_id"],
            ["guideline_clauses.id"],
            name=op.f("fk_guideline_translations_clause_id_guideline_clauses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_guideline_translations_community_id_communities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["translator_id"],
            ["users.id"],
            name=op.f("fk_guideline_translations_translator_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guideline_translations")),
        sa.UniqueConstraint(
            "version_id",
            "language",
            name=op.f("uq_guideline_translations_version_id_language"),
        ),
    )
    # A clause's translations into one language, newest version first (stale ones included).
    op.create_index(
        op.f("ix_guideline_translations_clause_id_language"),
        "guideline_translations",
        ["clause_id", "language"],
    )
    # A page of the guidelines in one language: every translation of the community's clauses.
    op.create_index(
        op.f("ix_guideline_translations_community_id_language"),
        "guideline_translations",
        ["community_id", "language"],
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_guideline_translations_community_id_language"),
        table_name="guideline_translations",
    )
    op.drop_index(
        op.f("ix_guideline_translations_clause_id_language"),
        table_name="guideline_translations",
    )
    op.drop_table("guideline_translations")
    # SQLite (3.35 and later) drops an unindexed column in place.
    op.drop_column("guideline_clause_versions", "language")
    op.drop_column("communities", "language")
    for table in reversed(RECORDED):
        op.drop_column(table, "language")
