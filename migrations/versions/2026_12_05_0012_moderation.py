"""Moderation: warnings, suspensions, appeals, flags on proposals, the public moderation log.

The log starts with the moderator actions already on record (role changes, locks, rulings,
ratifications and returns, hidden comments and works), oldest first. Triggers written for each
database refuse UPDATE and DELETE on it (and TRUNCATE on PostgreSQL): it is append-only.
Downgrading drops the new tables and the flags raised on proposals, which the old schema
cannot hold.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOG_ACTIONS = (
    "role_changed",
    "comment_hidden",
    "comment_restored",
    "work_hidden",
    "work_restored",
    "proposal_locked",
    "proposal_unlocked",
    "objection_ruled",
    "proposal_ratified",
    "proposal_returned",
    "member_warned",
    "member_suspended",
    "suspension_lifted",
    "appeal_granted",
    "appeal_denied",
)

APPEND_ONLY = "moderation_log is append-only: its entries cannot be changed or deleted"

SQLITE_TRIGGERS = {
    "moderation_log_no_update": (
        "CREATE TRIGGER moderation_log_no_update BEFORE UPDATE ON moderation_log "
        f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
    ),
    "moderation_log_no_delete": (
        "CREATE TRIGGER moderation_log_no_delete BEFORE DELETE ON moderation_log "
        f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
    ),
}

# 23001 (restrict_violation): drivers report it as an integrity error, as SQLite's ABORT is.
POSTGRESQL_FUNCTION = f"""
CREATE FUNCTION moderation_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{APPEND_ONLY}' USING ERRCODE = 'restrict_violation';
END
$$
"""
POSTGRESQL_TRIGGERS = {
    "moderation_log_no_change": (
        "CREATE TRIGGER moderation_log_no_change BEFORE UPDATE OR DELETE ON moderation_log "
        "FOR EACH ROW EXECUTE FUNCTION moderation_log_append_only()"
    ),
    "moderation_log_no_truncate": (
        "CREATE TRIGGER moderation_log_no_truncate BEFORE TRUNCATE ON moderation_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION moderation_log_append_only()"
    ),
}

ONE_OF_THREE = (
    "(CASE WHEN {0} IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN {1} IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN {2} IS NULL THEN 0 ELSE 1 END) = 1"
)

# Moderator actions recorded before the log existed, in the log's shape. Role labels are
# written as the service writes them ("rights holder"); `||` concatenates on both databases;
# the first branch types the columns, so its NULLs are cast (PostgreSQL would call them text).
BACKFILL = """
INSERT INTO moderation_log
    (community_id, action, actor_id, member_id, proposal_id, comment_id, work_id,
     reason, detail, created_at)
SELECT community_id, action, actor_id, member_id, proposal_id, comment_id, work_id,
       reason, detail, created_at
FROM (
    SELECT rc.community_id AS community_id, 'role_changed' AS action,
           rc.changed_by_id AS actor_id, rc.user_id AS member_id,
           CAST(NULL AS INTEGER) AS proposal_id, CAST(NULL AS INTEGER) AS comment_id,
           CAST(NULL AS INTEGER) AS work_id,
           rc.reason AS reason,
           REPLACE(rc.old_role, '_', ' ') || ' → ' || REPLACE(rc.new_role, '_', ' ') AS detail,
           rc.created_at AS created_at
    FROM role_changes rc
    WHERE rc.old_role IS NOT NULL AND rc.new_role IS NOT NULL
    UNION ALL
    SELECT p.community_id,
           CASE e.kind WHEN 'locked' THEN 'proposal_locked' ELSE 'proposal_unlocked' END,
           e.actor_id, NULL, e.proposal_id, NULL, NULL, e.detail, '', e.created_at
    FROM proposal_events e JOIN proposals p ON p.id = e.proposal_id
    WHERE e.kind IN ('locked', 'unlocked')
    UNION ALL
    SELECT p.community_id, 'objection_ruled', r.moderator_id, NULL, p.id, NULL, NULL,
           r.reason, '', r.created_at
    FROM objection_rulings r
    JOIN ballots b ON b.id = r.ballot_id
    JOIN polls pl ON pl.id = b.poll_id
    JOIN proposals p ON p.id = pl.proposal_id
    UNION ALL
    SELECT p.community_id,
           CASE r.decision WHEN 'ratify' THEN 'proposal_ratified' ELSE 'proposal_returned' END,
           r.actor_id, NULL, r.proposal_id, NULL, NULL, r.note,
           CASE r.decision WHEN 'ratify' THEN 'as ' || REPLACE(r.capacity, '_', ' ') ELSE '' END,
           r.created_at
    FROM ratifications r JOIN proposals p ON p.id = r.proposal_id
    UNION ALL
    SELECT p.community_id, 'comment_hidden', c.hidden_by_id, c.author_id, c.proposal_id, c.id,
           NULL, c.hidden_reason, '', c.hidden_at
    FROM comments c JOIN proposals p ON p.id = c.proposal_id
    WHERE c.hidden_at IS NOT NULL AND c.hidden_by_id IS NOT NULL
    UNION ALL
    SELECT w.community_id, 'work_hidden', w.hidden_by_id, w.created_by_id, NULL, NULL, w.id,
           w.hidden_reason, '', w.hidden_at
    FROM works w
    WHERE w.hidden_at IS NOT NULL AND w.hidden_by_id IS NOT NULL
) AS past
ORDER BY created_at
"""


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "moderation_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column(
            "action",
            sa.Enum(*LOG_ACTIONS, name="logaction", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("proposal_id", sa.Integer(), nullable=True),
        sa.Column("comment_id", sa.Integer(), nullable=True),
        sa.Column("work_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("detail", sa.String(length=200), nullable=False),
        _timestamp("created_at"),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_moderation_log_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["comment_id"], ["comments.id"], name=op.f("fk_moderation_log_comment_id_comments")
        ),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_moderation_log_community_id_communities"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["users.id"], name=op.f("fk_moderation_log_member_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposals.id"],
            name=op.f("fk_moderation_log_proposal_id_proposals"),
        ),
        sa.ForeignKeyConstraint(
            ["work_id"], ["works.id"], name=op.f("fk_moderation_log_work_id_works")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_log")),
    )
    op.create_index(
        op.f("ix_moderation_log_community_id_id"), "moderation_log", ["community_id", "id"]
    )

    op.create_table(
        "suspensions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("suspended_by_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        _timestamp("created_at"),
        _timestamp("ends_at"),
        _timestamp("lifted_at", nullable=True),
        sa.Column("lifted_by_id", sa.Integer(), nullable=True),
        sa.Column("lift_reason", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_suspensions_community_id_communities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lifted_by_id"],
            ["users.id"],
            name=op.f("fk_suspensions_lifted_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["suspended_by_id"],
            ["users.id"],
            name=op.f("fk_suspensions_suspended_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_suspensions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suspensions")),
    )
    op.create_index(
        op.f("ix_suspensions_community_id_user_id_ends_at"),
        "suspensions",
        ["community_id", "user_id", "ends_at"],
    )
    op.create_index(op.f("ix_suspensions_user_id"), "suspensions", ["user_id"])

    op.create_table(
        "member_warnings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("warned_by_id", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        _timestamp("created_at"),
        _timestamp("acknowledged_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_member_warnings_community_id_communities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_member_warnings_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["warned_by_id"],
            ["users.id"],
            name=op.f("fk_member_warnings_warned_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_warnings")),
    )
    op.create_index(
        op.f("ix_member_warnings_user_id_acknowledged_at"),
        "member_warnings",
        ["user_id", "acknowledged_at"],
    )

    op.create_table(
        "appeals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("appellant_id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=True),
        sa.Column("work_id", sa.Integer(), nullable=True),
        sa.Column("suspension_id", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        _timestamp("created_at"),
        _timestamp("decided_at", nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "decision",
            sa.Enum("granted", "denied", name="appealdecision", native_enum=False, length=24),
            nullable=True,
        ),
        sa.Column("decision_reason", sa.String(length=500), nullable=False),
        sa.CheckConstraint(
            ONE_OF_THREE.format("comment_id", "work_id", "suspension_id"),
            name=op.f("ck_appeals_one_target"),
        ),
        sa.ForeignKeyConstraint(
            ["appellant_id"],
            ["users.id"],
            name=op.f("fk_appeals_appellant_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["comments.id"],
            name=op.f("fk_appeals_comment_id_comments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_appeals_community_id_communities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["users.id"],
            name=op.f("fk_appeals_decided_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["suspension_id"],
            ["suspensions.id"],
            name=op.f("fk_appeals_suspension_id_suspensions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["work_id"], ["works.id"], name=op.f("fk_appeals_work_id_works"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeals")),
        sa.UniqueConstraint("comment_id", name=op.f("uq_appeals_comment_id")),
        sa.UniqueConstraint("suspension_id", name=op.f("uq_appeals_suspension_id")),
        sa.UniqueConstraint("work_id", name=op.f("uq_appeals_work_id")),
    )
    op.create_index(op.f("ix_appeals_appellant_id"), "appeals", ["appellant_id"])
    op.create_index(
        op.f("ix_appeals_community_id_decided_at_id"),
        "appeals",
        ["community_id", "decided_at", "id"],
    )

    # Flags on proposals: SQLite rebuilds the table (batch mode), keeping every row.
    with op.batch_alter_table("flags") as batch:
        batch.add_column(sa.Column("proposal_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_flags_proposal_id_proposals"),
            "proposals",
            ["proposal_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_unique_constraint(
            op.f("uq_flags_proposal_id_flagger_id"), ["proposal_id", "flagger_id"]
        )
        batch.drop_constraint(op.f("ck_flags_one_target"), type_="check")
        batch.create_check_constraint(
            op.f("ck_flags_one_target"), ONE_OF_THREE.format("comment_id", "work_id", "proposal_id")
        )

    op.execute(BACKFILL)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRESQL_FUNCTION)
        for statement in POSTGRESQL_TRIGGERS.values():
            op.execute(statement)
    else:
        for statement in SQLITE_TRIGGERS.values():
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in POSTGRESQL_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON moderation_log")
        op.execute("DROP FUNCTION IF EXISTS moderation_log_append_only()")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DELETE FROM flags WHERE proposal_id IS NOT NULL")
    with op.batch_alter_table("flags") as batch:
        batch.drop_constraint(op.f("ck_flags_one_target"), type_="check")
        batch.create_check_constraint(
            op.f("ck_flags_one_target"), "(comment_id IS NULL) <> (work_id IS NULL)"
        )
        batch.drop_constraint(op.f("uq_flags_proposal_id_flagger_id"), type_="unique")
        batch.drop_constraint(op.f("fk_flags_proposal_id_proposals"), type_="foreignkey")
        batch.drop_column("proposal_id")
    op.drop_table("appeals")
    op.drop_table("member_warnings")
    op.drop_table("suspensions")
    op.drop_table("moderation_log")
