"""Proposals with revisions, authors, tags, events and follows; community categories; search.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATE = sa.Enum(
    "draft",
    "deliberation",
    "voting",
    "passed",
    "rejected",
    "withdrawn",
    "ratified",
    name="proposalstate",
    native_enum=False,
    length=24,
)
KIND = sa.Enum("new", "amend", "repeal", name="proposalkind", native_enum=False, length=24)
AUTHOR_ROLE = sa.Enum("author", "coauthor", name="authorrole", native_enum=False, length=24)
EVENT = sa.Enum(
    "created",
    "edited",
    "published",
    "withdrawn",
    "coauthor_added",
    "coauthor_removed",
    "recategorized",
    "locked",
    "unlocked",
    name="eventkind",
    native_enum=False,
    length=24,
)

# SQLite: an external-content FTS5 index kept in step by triggers.
SQLITE_SEARCH = [
    "CREATE VIRTUAL TABLE proposals_fts USING fts5("
    "title, summary, norm_text, content='proposals', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER proposals_fts_insert AFTER INSERT ON proposals BEGIN "
    "INSERT INTO proposals_fts(rowid, title, summary, norm_text) "
    "VALUES (new.id, new.title, new.summary, new.norm_text); END",
    "CREATE TRIGGER proposals_fts_delete AFTER DELETE ON proposals BEGIN "
    "INSERT INTO proposals_fts(proposals_fts, rowid, title, summary, norm_text) "
    "VALUES ('delete', old.id, old.title, old.summary, old.norm_text); END",
    "CREATE TRIGGER proposals_fts_update AFTER UPDATE OF title, summary, norm_text ON proposals "
    "BEGIN INSERT INTO proposals_fts(proposals_fts, rowid, title, summary, norm_text) "
    "VALUES ('delete', old.id, old.title, old.summary, old.norm_text); "
    "INSERT INTO proposals_fts(rowid, title, summary, norm_text) "
    "VALUES (new.id, new.title, new.summary, new.norm_text); END",
]
# PostgreSQL: a generated tsvector with a GIN index. The 'simple' configuration does not stem,
# so it treats every language alike.
POSTGRES_SEARCH = [
    "ALTER TABLE proposals ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('simple', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('simple', coalesce(summary, '')), 'B') || "
    "setweight(to_tsvector('simple', coalesce(norm_text, '')), 'C')) STORED",
    # fastupdate off: no pending list that every search would scan until the next vacuum.
    "CREATE INDEX ix_proposals_search_vector ON proposals USING gin (search_vector) "
    "WITH (fastupdate = off)",
]


def upgrade() -> None:
    op.add_column(
        "communities",
        sa.Column("min_deliberation_hours", sa.Integer(), nullable=False, server_default="72"),
    )
    op.create_table(
        "categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_categories_community_id_communities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_categories")),
        sa.UniqueConstraint("community_id", "slug", name=op.f("uq_categories_community_id_slug")),
    )
    op.create_table(
        "proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("kind", KIND, nullable=False),
        sa.Column("target_clause", sa.String(length=16), nullable=True),
        sa.Column("state", STATE, nullable=False),
        sa.Column("title", sa.String(length=140), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("norm_text", sa.Text(), nullable=False),
        sa.Column("revision_number", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("listed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("voting_may_open_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("voting_opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ratified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("locked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_proposals_author_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["categories.id"],
            name=op.f("fk_proposals_category_id_categories"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_proposals_community_id_communities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposals")),
    )
    op.create_index(op.f("ix_proposals_category_id"), "proposals", ["category_id"])
    op.create_index(
        op.f("ix_proposals_community_id_listed_at"), "proposals", ["community_id", "listed_at"]
    )
    op.create_index(
        op.f("ix_proposals_community_id_last_activity_at"),
        "proposals",
        ["community_id", "last_activity_at"],
    )
    op.create_index(
        op.f("ix_proposals_community_id_deadline_at"), "proposals", ["community_id", "deadline_at"]
    )
    op.create_table(
        "proposal_tags",
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_proposal_tags_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("proposal_id", "tag", name=op.f("pk_proposal_tags")),
    )
    op.create_index(op.f("ix_proposal_tags_tag"), "proposal_tags", ["tag"])
    op.create_table(
        "proposal_authors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", AUTHOR_ROLE, nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["added_by_id"],
            ["users.id"],
            name=op.f("fk_proposal_authors_added_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_proposal_authors_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_proposal_authors_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal_authors")),
        sa.UniqueConstraint(
            "proposal_id", "user_id", name=op.f("uq_proposal_authors_proposal_id_user_id")
        ),
    )
    op.create_index(op.f("ix_proposal_authors_user_id"), "proposal_authors", ["user_id"])
    op.create_table(
        "proposal_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=140), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("norm_text", sa.Text(), nullable=False),
        sa.Column("message", sa.String(length=300), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_proposal_revisions_author_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_proposal_revisions_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal_revisions")),
        sa.UniqueConstraint(
            "proposal_id", "number", name=op.f("uq_proposal_revisions_proposal_id_number")
        ),
    )
    op.create_table(
        "proposal_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("kind", EVENT, nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.String(length=500), nullable=False),
        sa.Column("revision_number", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_proposal_events_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_proposal_events_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal_events")),
    )
    op.create_index(
        op.f("ix_proposal_events_proposal_id_created_at"),
        "proposal_events",
        ["proposal_id", "created_at"],
    )
    op.create_table(
        "proposal_follows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_proposal_follows_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_proposal_follows_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal_follows")),
        sa.UniqueConstraint(
            "proposal_id", "user_id", name=op.f("uq_proposal_follows_proposal_id_user_id")
        ),
    )
    op.create_index(op.f("ix_proposal_follows_user_id"), "proposal_follows", ["user_id"])
    statements = SQLITE_SEARCH if op.get_bind().dialect.name == "sqlite" else POSTGRES_SEARCH
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("proposals_fts_insert", "proposals_fts_delete", "proposals_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS proposals_fts")
    op.drop_table("proposal_follows")
    op.drop_table("proposal_events")
    op.drop_table("proposal_revisions")
    op.drop_table("proposal_authors")
    op.drop_table("proposal_tags")
    op.drop_table("proposals")
    op.drop_table("categories")
    with op.batch_alter_table("communities") as batch:
        batch.drop_column("min_deliberation_hours")
