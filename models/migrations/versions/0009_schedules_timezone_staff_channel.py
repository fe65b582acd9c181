"""the server's time zone and staff channel; scheduled posts and their runs

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 12:10:00.000000

Guild settings gain the server's IANA zone (schedules are set in it) and the staff channel.
`schedules` holds what staff scheduled with its next occurrence in UTC; `schedule_runs` holds
each occurrence once claimed (unique per schedule and due time), shown as a channel post.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("guild_settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("timezone", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("staff_channel_id", sa.BigInteger(), nullable=True))

    op.create_table(
        "schedules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=False),
        sa.Column("text", sa.String(length=2000), nullable=False),
        sa.Column("repeat", sa.String(length=8), nullable=False),
        sa.Column("days", sa.String(length=32), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("local_time", sa.String(length=5), nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedules")),
    )
    op.create_index("ix_schedules_guild_due", "schedules", ["guild_id", "next_run_at"], unique=False)
    op.create_table(
        "schedule_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("schedule_id", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("posted_revision", sa.Integer(), nullable=False),
        sa.Column("post_error", sa.String(length=300), nullable=True),
        sa.Column("post_attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_post_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["schedule_id"], ["schedules.id"], name=op.f("fk_schedule_runs_schedule_id_schedules"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_runs")),
        sa.UniqueConstraint("schedule_id", "due_at", name=op.f("uq_schedule_runs_schedule_id_due_at")),
    )
    op.create_index(op.f("ix_schedule_runs_guild_id"), "schedule_runs", ["guild_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_schedule_runs_guild_id"), table_name="schedule_runs")
    op.drop_table("schedule_runs")
    op.drop_index("ix_schedules_guild_due", table_name="schedules")
    op.drop_table("schedules")
    with op.batch_alter_table("guild_settings", schema=None) as batch_op:
        batch_op.drop_column("staff_channel_id")
        batch_op.drop_column("timezone")
