"""structured end and pool reasons; channel notices and post deletions

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 10:10:00.000000

Teams kept their end reason as a sentence with a mention in it ("declined by <@42>") and the pool
kept its reason as a sentence: both become codes (and the actor's id in its own column), rendered
when shown, so forgetting a member can clear them.
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

END_REASONS = (
    (re.compile(r"^declined by <@(\d+)>$"), "declined"),
    (re.compile(r"^<@(\d+)> left$"), "left"),
    (re.compile(r"^<@(\d+)> withdrew their announcement$"), "withdrew"),
    (re.compile(r"^nobody answered in time$"), "expired"),
    (re.compile(r"^a member left Nexus$"), "forgotten"),
)
POOL_REASONS = (
    ("no ", "taken"),
    ("every free", "declined"),
    ("nobody on the", "nobody_announced"),
    ("every ", "teams_full"),
)


def _end_reason(text: str) -> tuple[str, int | None]:
    for pattern, code in END_REASONS:
        found = pattern.match(text)
        if found:
            return code, int(found.group(1)) if found.groups() else None
    return "left", None


def _pool_reason(text: str) -> str | None:
    for prefix, code in POOL_REASONS:
        if text.startswith(prefix):
            return code
    return None


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.add_column(sa.Column("end_actor_id", sa.BigInteger(), nullable=True))
    teams = sa.table(
        "teams", sa.column("id", sa.Integer), sa.column("end_reason", sa.String), sa.column("end_actor_id")
    )
    for team_id, text in bind.execute(sa.select(teams.c.id, teams.c.end_reason).where(teams.c.end_reason.is_not(None))):
        code, actor = _end_reason(text)
        bind.execute(teams.update().where(teams.c.id == team_id).values(end_reason=code, end_actor_id=actor))
    # the columns keep their type: on SQLite changing it would rebuild `teams`, and dropping the old
    # table would cascade to its members

    pool = sa.table("partner_pool", sa.column("guild_id"), sa.column("user_id"), sa.column("reason", sa.String))
    for guild_id, user_id, text in bind.execute(sa.select(pool).where(pool.c.reason.is_not(None))):
        bind.execute(
            pool.update()
            .where(pool.c.guild_id == guild_id, pool.c.user_id == user_id)
            .values(reason=_pool_reason(text))
        )

    def posted() -> list[sa.Column[object]]:
        """The ChannelPosted columns every record shown as a channel post has."""
        return [
            sa.Column("channel_id", sa.BigInteger(), nullable=True),
            sa.Column("message_id", sa.BigInteger(), nullable=True),
            sa.Column("revision", sa.Integer(), nullable=False),
            sa.Column("posted_revision", sa.Integer(), nullable=False),
            sa.Column("post_error", sa.String(length=300), nullable=True),
            sa.Column("post_attempts", sa.Integer(), server_default="0", nullable=False),
            sa.Column("next_post_at", sa.DateTime(timezone=True), nullable=True),
        ]

    op.create_table(
        "channel_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=24), nullable=True),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        *posted(),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_channel_notices_team_id_teams"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_notices")),
    )
    op.create_index(op.f("ix_channel_notices_guild_id"), "channel_notices", ["guild_id"], unique=False)
    op.create_table(
        "notice_members",
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("track", sa.String(length=16), nullable=True),
        sa.Column("reason", sa.String(length=24), nullable=True),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["channel_notices.id"],
            name=op.f("fk_notice_members_notice_id_channel_notices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("notice_id", "user_id", name=op.f("pk_notice_members")),
    )
    op.create_table(
        "post_deletions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        *posted(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_deletions")),
    )
    op.create_index(op.f("ix_post_deletions_guild_id"), "post_deletions", ["guild_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_post_deletions_guild_id"), table_name="post_deletions")
    op.drop_table("post_deletions")
    op.drop_table("notice_members")
    op.drop_index(op.f("ix_channel_notices_guild_id"), table_name="channel_notices")
    op.drop_table("channel_notices")
    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.drop_column("end_actor_id")
