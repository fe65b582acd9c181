"""API contracts with examples, versions and change notices

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 12:30:00.000000

Endpoints get a status code, request and response examples (JSON text), query parameters, a
description and a revision; an agreement records the revision it was given to. Existing endpoints
become revision 1 with status 200 and no example, and existing agreements are to revision 1, so
every contract keeps its agreements. `api_changes` holds each change (the contract's version, who,
the endpoint before and after); a channel notice may tell about one.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_endpoints", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sa.Integer(), server_default="200", nullable=False))
        batch_op.add_column(sa.Column("request_example", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("response_example", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("query_params", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("description", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("revision", sa.Integer(), server_default="1", nullable=False))
    with op.batch_alter_table("api_agreements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revision", sa.Integer(), server_default="1", nullable=False))
    op.create_table(
        "api_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_api_changes_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_changes")),
        sa.UniqueConstraint("team_id", "version", name=op.f("uq_api_changes_team_id_version")),
    )
    op.create_index(op.f("ix_api_changes_team_id"), "api_changes", ["team_id"], unique=False)
    with op.batch_alter_table("channel_notices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("api_change_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_channel_notices_api_change_id_api_changes"),
            "api_changes",
            ["api_change_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    # migrations run with SQLite's foreign keys off (models/migrations/env.py): children first
    op.execute(
        "DELETE FROM notice_members WHERE notice_id IN (SELECT id FROM channel_notices WHERE api_change_id IS NOT NULL)"
    )
    op.execute("DELETE FROM channel_notices WHERE api_change_id IS NOT NULL")
    with op.batch_alter_table("channel_notices", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_channel_notices_api_change_id_api_changes"), type_="foreignkey")
        batch_op.drop_column("api_change_id")
    op.drop_index(op.f("ix_api_changes_team_id"), table_name="api_changes")
    op.drop_table("api_changes")
    with op.batch_alter_table("api_agreements", schema=None) as batch_op:
        batch_op.drop_column("revision")
    with op.batch_alter_table("api_endpoints", schema=None) as batch_op:
        for column in ("revision", "description", "query_params", "response_example", "request_example", "status"):
            batch_op.drop_column(column)
