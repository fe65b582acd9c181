"""an API contract change remembers the team-thread message that told the team of it

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 18:30:00.000000

A change is posted in its team's private thread, naming whoever made it and pinging the teammates
told; `post_channel_id` and `post_message_id` say where, so forget-me can delete the posts that name
the member. Changes told before have neither (their posts are not deleted).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_changes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("post_channel_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("post_message_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_changes", schema=None) as batch_op:
        batch_op.drop_column("post_message_id")
        batch_op.drop_column("post_channel_id")
