"""check-in prompts remember the channel message they were posted as

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 15:20:00.000000

A prompt whose member's DMs are closed is posted in the team's thread, or, for a team without one,
in the project channel; `channel_id` and `message_id` say where, so forget-me can delete the post
that names the member. Existing prompts have neither (they were sent before, and are not deleted).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("checkin_prompts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("channel_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("message_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("checkin_prompts", schema=None) as batch_op:
        batch_op.drop_column("message_id")
        batch_op.drop_column("channel_id")
