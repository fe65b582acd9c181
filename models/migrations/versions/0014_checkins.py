"""team check-ins: plans, members' next prompts, prompts, reports, answers and blockers, staff flags

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 13:00:00.000000

`checkin_schedules` holds each team's days and time of day, `checkin_members` when each member is
prompted next (claimed by a conditional UPDATE), `checkin_prompts` each prompt claimed (unique per
team, member and due time; leased), `checkin_reports` one check-in's report (a post in the team's
thread), `checkin_answers` the answers (a non-empty "blocked by" is a blocker until closed) and
`checkin_flags` the teams flagged to staff for silence (once per team).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
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


def _team_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["team_id"], ["teams.id"], name=op.f(f"fk_{table}_team_id_teams"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "checkin_schedules",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("days", sa.String(length=32), nullable=False),
        sa.Column("at", sa.String(length=5), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("set_by", sa.BigInteger(), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        _team_fk("checkin_schedules"),
        sa.PrimaryKeyConstraint("team_id", name=op.f("pk_checkin_schedules")),
    )
    op.create_index(op.f("ix_checkin_schedules_guild_id"), "checkin_schedules", ["guild_id"], unique=False)
    op.create_table(
        "checkin_members",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("next_prompt_at", sa.DateTime(timezone=True), nullable=True),
        _team_fk("checkin_members"),
        sa.PrimaryKeyConstraint("team_id", "user_id", name=op.f("pk_checkin_members")),
    )
    op.create_index("ix_checkin_members_guild_due", "checkin_members", ["guild_id", "next_prompt_at"], unique=False)
    op.create_table(
        "checkin_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ready_at", sa.DateTime(timezone=True), nullable=True),
        *_posted(),
        _team_fk("checkin_reports"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkin_reports")),
    )
    op.create_index(op.f("ix_checkin_reports_guild_id"), "checkin_reports", ["guild_id"], unique=False)
    op.create_index(op.f("ix_checkin_reports_team_id"), "checkin_reports", ["team_id"], unique=False)
    op.create_table(
        "checkin_prompts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("via", sa.String(length=8), nullable=True),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["checkin_reports.id"],
            name=op.f("fk_checkin_prompts_report_id_checkin_reports"),
            ondelete="CASCADE",
        ),
        _team_fk("checkin_prompts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkin_prompts")),
        sa.UniqueConstraint("team_id", "user_id", "due_at", name=op.f("uq_checkin_prompts_team_id_user_id_due_at")),
    )
    op.create_index(op.f("ix_checkin_prompts_guild_id"), "checkin_prompts", ["guild_id"], unique=False)
    op.create_index(op.f("ix_checkin_prompts_report_id"), "checkin_prompts", ["report_id"], unique=False)
    op.create_table(
        "checkin_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("done", sa.Text(), nullable=False),
        sa.Column("next", sa.Text(), nullable=False),
        sa.Column("blocked", sa.Text(), nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("blocker_closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("blocker_closed_by", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["api_endpoints.id"],
            name=op.f("fk_checkin_answers_endpoint_id_api_endpoints"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["checkin_reports.id"],
            name=op.f("fk_checkin_answers_report_id_checkin_reports"),
            ondelete="CASCADE",
        ),
        _team_fk("checkin_answers"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkin_answers")),
        sa.UniqueConstraint("report_id", "user_id", name=op.f("uq_checkin_answers_report_id_user_id")),
    )
    op.create_index(op.f("ix_checkin_answers_guild_id"), "checkin_answers", ["guild_id"], unique=False)
    op.create_index(op.f("ix_checkin_answers_team_id"), "checkin_answers", ["team_id"], unique=False)
    op.create_index(op.f("ix_checkin_answers_user_id"), "checkin_answers", ["user_id"], unique=False)
    op.create_table(
        "checkin_flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("silent", sa.String(length=200), nullable=False),
        sa.Column("flagged_at", sa.DateTime(timezone=True), nullable=False),
        *_posted(),
        _team_fk("checkin_flags"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkin_flags")),
        sa.UniqueConstraint("team_id", name=op.f("uq_checkin_flags_team_id")),
    )
    op.create_index(op.f("ix_checkin_flags_guild_id"), "checkin_flags", ["guild_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_checkin_flags_guild_id"), table_name="checkin_flags")
    op.drop_table("checkin_flags")
    for column in ("user_id", "team_id", "guild_id"):
        op.drop_index(op.f(f"ix_checkin_answers_{column}"), table_name="checkin_answers")
    op.drop_table("checkin_answers")
    op.drop_index(op.f("ix_checkin_prompts_report_id"), table_name="checkin_prompts")
    op.drop_index(op.f("ix_checkin_prompts_guild_id"), table_name="checkin_prompts")
    op.drop_table("checkin_prompts")
    op.drop_index(op.f("ix_checkin_reports_team_id"), table_name="checkin_reports")
    op.drop_index(op.f("ix_checkin_reports_guild_id"), table_name="checkin_reports")
    op.drop_table("checkin_reports")
    op.drop_index("ix_checkin_members_guild_due", table_name="checkin_members")
    op.drop_table("checkin_members")
    op.drop_index(op.f("ix_checkin_schedules_guild_id"), table_name="checkin_schedules")
    op.drop_table("checkin_schedules")
