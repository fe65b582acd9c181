"""catalog projects named for the product, with a frontend brief

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 10:45:00.000000

Projects gain a frontend brief next to their backend brief (`description`). The default projects
seeded as "X Backend" are renamed "X" (a learner on either track builds the product) and get their
frontend brief, unless the server already has a project called X; the rows keep their ids, so
announcements and teams keep pointing at them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# frozen here (not read from bot/data/catalog.yaml): the migration must not change when the file does
SEEDED = (
    ("E-Commerce", "A storefront with product search, filters, a cart and a checkout flow."),
    ("Movie Recommendation", "A movie browser with trending lists, details pages and a saved watchlist."),
    ("Online Poll System", "Create polls, vote and watch the results update live in charts."),
    ("Job Board", "Browse and filter job listings, apply, and track applications in a dashboard."),
    ("Social Media Feed", "An infinite-scrolling feed with posting, comments, likes and shares."),
)

_RENAME = sa.text(
    "UPDATE projects SET name = :new_name, name_key = :new_key, frontend_brief = :brief "
    "WHERE name_key = :old_key AND NOT EXISTS ("
    "SELECT 1 FROM projects AS other WHERE other.guild_id = projects.guild_id AND other.name_key = :new_key)"
)
_RENAME_BACK = sa.text(
    "UPDATE projects SET name = :new_name, name_key = :new_key "
    "WHERE name_key = :old_key AND NOT EXISTS ("
    "SELECT 1 FROM projects AS other WHERE other.guild_id = projects.guild_id AND other.name_key = :new_key)"
)


def upgrade() -> None:
    op.add_column("projects", sa.Column("frontend_brief", sa.String(length=250), nullable=True))
    bind = op.get_bind()
    for name, brief in SEEDED:
        bind.execute(
            _RENAME,
            {"new_name": name, "new_key": name.casefold(), "brief": brief, "old_key": f"{name} backend".casefold()},
        )


def downgrade() -> None:
    bind = op.get_bind()
    for name, _brief in SEEDED:
        old = f"{name} Backend"
        bind.execute(_RENAME_BACK, {"new_name": old, "new_key": old.casefold(), "old_key": name.casefold()})
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("frontend_brief")
