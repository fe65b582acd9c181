"""scheduled posts of Nexus's own (kickoff, roster nudge, weekly digest); reminder opt-outs; nudge
posts and DMs

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 12:40:00.000000

`schedules` gains what it posts (`post`, text until now) and where a nudge goes (`delivery`).
`reminder_optouts` holds members who turned reminders off; `nudge_posts` each channel message of a
nudge run (posted through the outbox); `nudge_dms` each learner's DM of a DM nudge run.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("schedules", schema=None) as batch_op:
        batch_op.add_column(sa.Column("post", sa.String(length=12), server_default="text", nullable=False))
        batch_op.add_column(sa.Column("delivery", sa.String(length=8), server_default="channel", nullable=False))

    op.create_table(
        "reminder_optouts",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "user_id", name=op.f("pk_reminder_optouts")),
    )
    op.create_table(
        "nudge_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("dm_fallback", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("sections", sa.Text(), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("posted_revision", sa.Integer(), nullable=False),
        sa.Column("post_error", sa.String(length=300), nullable=True),
        sa.Column("post_attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_post_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["schedule_runs.id"], name=op.f("fk_nudge_posts_run_id_schedule_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nudge_posts")),
        sa.UniqueConstraint("run_id", "dm_fallback", "part", name=op.f("uq_nudge_posts_run_id_dm_fallback_part")),
    )
    op.create_index(op.f("ix_nudge_posts_guild_id"), "nudge_posts", ["guild_id"], unique=False)
    op.create_table(
        "nudge_dms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("steps", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["schedule_runs.id"], name=op.f("fk_nudge_dms_run_id_schedule_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nudge_dms")),
        sa.UniqueConstraint("run_id", "user_id", name=op.f("uq_nudge_dms_run_id_user_id")),
    )
    op.create_index(op.f("ix_nudge_dms_guild_id"), "nudge_dms", ["guild_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_nudge_dms_guild_id"), table_name="nudge_dms")
    op.drop_table("nudge_dms")
    op.drop_index(op.f("ix_nudge_posts_guild_id"), table_name="nudge_posts")
    op.drop_table("nudge_posts")
    op.drop_table("reminder_optouts")
    # the code before 0012 posts only text schedules: Nexus's own posts (kickoff, nudge, digest) go
    op.execute("DELETE FROM schedule_runs WHERE schedule_id IN (SELECT id FROM schedules WHERE post <> 'text')")
    op.execute("DELETE FROM schedules WHERE post <> 'text'")
    with op.batch_alter_table("schedules", schema=None) as batch_op:
        batch_op.drop_column("delivery")
        batch_op.drop_column("post")
