"""follow-ups on teams: each team's follow-up, its rounds, members' answers, staff flags

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 12:40:00.000000

`team_follow_ups` holds where each team's follow-up stands (made when its first round is claimed),
`follow_up_asks` each round claimed (unique per team and round, leased to the claiming process
until its members are asked), `follow_up_replies` each member's
latest answer, and `follow_up_flags` the teams flagged to staff (once per team, a staff-channel post).
Guild settings gain the server's own follow-up interval (None: the FOLLOW_UP_HOURS setting).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("guild_settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("follow_up_hours", sa.Integer(), nullable=True))

    op.create_table(
        "team_follow_ups",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_ask_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("waiting_since", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_team_follow_ups_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("team_id", name=op.f("pk_team_follow_ups")),
    )
    op.create_index("ix_team_follow_ups_guild_due", "team_follow_ups", ["guild_id", "next_ask_at"], unique=False)
    op.create_table(
        "follow_up_asks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_follow_up_asks_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_up_asks")),
        sa.UniqueConstraint("team_id", "round", name=op.f("uq_follow_up_asks_team_id_round")),
    )
    op.create_table(
        "follow_up_replies",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("answer", sa.String(length=12), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_follow_up_replies_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("team_id", "user_id", name=op.f("pk_follow_up_replies")),
    )
    op.create_index(op.f("ix_follow_up_replies_guild_id"), "follow_up_replies", ["guild_id"], unique=False)
    op.create_table(
        "follow_up_flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("flagged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("posted_revision", sa.Integer(), nullable=False),
        sa.Column("post_error", sa.String(length=300), nullable=True),
        sa.Column("post_attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_post_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_follow_up_flags_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_up_flags")),
        sa.UniqueConstraint("team_id", name=op.f("uq_follow_up_flags_team_id")),
    )
    op.create_index(op.f("ix_follow_up_flags_guild_id"), "follow_up_flags", ["guild_id"], unique=False)


def downgrade() -> None:
    # the code before 0013 knows no follow-up notice kind: those notices go with the follow-ups
    op.execute(
        "DELETE FROM notice_members WHERE notice_id IN (SELECT id FROM channel_notices WHERE kind = 'follow_up')"
    )
    op.execute("DELETE FROM channel_notices WHERE kind = 'follow_up'")
    op.drop_index(op.f("ix_follow_up_flags_guild_id"), table_name="follow_up_flags")
    op.drop_table("follow_up_flags")
    op.drop_index(op.f("ix_follow_up_replies_guild_id"), table_name="follow_up_replies")
    op.drop_table("follow_up_replies")
    op.drop_table("follow_up_asks")
    op.drop_index("ix_team_follow_ups_guild_due", table_name="team_follow_ups")
    op.drop_table("team_follow_ups")
    with op.batch_alter_table("guild_settings", schema=None) as batch_op:
        batch_op.drop_column("follow_up_hours")
