"""A private thread per team, and notices staff are told once

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 13:00:00.000000

`team_threads` holds one row per formed team (its id is the team's), stored when the team forms and
made in Discord through the outbox: the thread's id, its opening message, its parent channel and
its state (open, closed, capped). `staff_notices` holds what staff are told once per server (the
thread cap reached), unique per server and kind. Existing teams get no thread.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _posted() -> list[sa.Column[object]]:
    return [
        sa.Column("channel_id", sa.BigInteger(), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("posted_revision", sa.Integer(), nullable=False),
        sa.Column("post_error", sa.String(length=300), nullable=True),
        sa.Column("post_attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_post_at", sa.DateTime(timezone=True), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "team_threads",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("parent_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        *_posted(),
        sa.ForeignKeyConstraint(["id"], ["teams.id"], name=op.f("fk_team_threads_id_teams"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_threads")),
    )
    op.create_index(op.f("ix_team_threads_guild_id"), "team_threads", ["guild_id"], unique=False)
    op.create_table(
        "staff_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        *_posted(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_notices")),
        sa.UniqueConstraint("guild_id", "kind", name=op.f("uq_staff_notices_guild_id_kind")),
    )
    op.create_index(op.f("ix_staff_notices_guild_id"), "staff_notices", ["guild_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_staff_notices_guild_id"), table_name="staff_notices")
    op.drop_table("staff_notices")
    op.drop_index(op.f("ix_team_threads_guild_id"), table_name="team_threads")
    op.drop_table("team_threads")
