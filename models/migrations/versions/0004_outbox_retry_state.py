"""outbox retry state

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 08:51:21.245336
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("announcements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("post_attempts", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("next_post_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.add_column(sa.Column("post_attempts", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("next_post_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.drop_column("next_post_at")
        batch_op.drop_column("post_attempts")

    with op.batch_alter_table("announcements", schema=None) as batch_op:
        batch_op.drop_column("next_post_at")
        batch_op.drop_column("post_attempts")
