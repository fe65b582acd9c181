"""notes, topics, helpful votes and their full-text index

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 08:40:00.000000

SQLite gets an external-content FTS5 table kept in sync by triggers; PostgreSQL gets a generated
tsvector column with a GIN index. Neither is described by the models: env.py tells autogenerate to
ignore them. On SQLite, a later batch migration that recreates `notes` must recreate the triggers.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_SEARCH = (
    """
    CREATE VIRTUAL TABLE notes_fts USING fts5(
        title, body, solution, tags,
        content='notes', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2'
    )
    """,
    """
    CREATE TRIGGER notes_fts_after_insert AFTER INSERT ON notes BEGIN
        INSERT INTO notes_fts(rowid, title, body, solution, tags)
        VALUES (new.id, new.title, new.body, coalesce(new.solution, ''), new.tags);
    END
    """,
    """
    CREATE TRIGGER notes_fts_after_delete AFTER DELETE ON notes BEGIN
        INSERT INTO notes_fts(notes_fts, rowid, title, body, solution, tags)
        VALUES ('delete', old.id, old.title, old.body, coalesce(old.solution, ''), old.tags);
    END
    """,
    """
    CREATE TRIGGER notes_fts_after_update AFTER UPDATE OF title, body, solution, tags ON notes BEGIN
        INSERT INTO notes_fts(notes_fts, rowid, title, body, solution, tags)
        VALUES ('delete', old.id, old.title, old.body, coalesce(old.solution, ''), old.tags);
        INSERT INTO notes_fts(rowid, title, body, solution, tags)
        VALUES (new.id, new.title, new.body, coalesce(new.solution, ''), new.tags);
    END
    """,
    "INSERT INTO notes_fts(notes_fts) VALUES ('rebuild')",
)

POSTGRESQL_SEARCH = (
    """
    ALTER TABLE notes ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', coalesce(title, '')), 'A')
        || setweight(to_tsvector('english', coalesce(tags, '')), 'B')
        || setweight(to_tsvector('english', coalesce(body, '')), 'C')
        || setweight(to_tsvector('english', coalesce(solution, '')), 'C')
    ) STORED
    """,
    "CREATE INDEX ix_notes_search_vector ON notes USING gin (search_vector)",
)


def upgrade() -> None:
    op.create_table(
        "note_topics",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("name_key", sa.String(length=40), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_note_topics")),
        sa.UniqueConstraint("guild_id", "name_key", name=op.f("uq_note_topics_guild_id_name_key")),
    )
    op.create_table(
        "notes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("solution", sa.Text(), nullable=True),
        sa.Column("tags", sa.String(length=400), nullable=False),
        sa.Column("is_private", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('learning', 'challenge', 'practice', 'tip')", name=op.f("ck_notes_kind")),
        sa.ForeignKeyConstraint(
            ["topic_id"], ["note_topics.id"], name=op.f("fk_notes_topic_id_note_topics"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notes")),
    )
    op.create_index("ix_notes_guild_id_author_id", "notes", ["guild_id", "author_id"], unique=False)
    op.create_index("ix_notes_guild_id_kind_created_at", "notes", ["guild_id", "kind", "created_at"], unique=False)
    op.create_index("ix_notes_guild_id_topic_id", "notes", ["guild_id", "topic_id"], unique=False)
    op.create_index(
        "ix_notes_search_filter",
        "notes",
        ["id", "guild_id", "is_private", "author_id", "kind", "topic_id"],
        unique=False,
    )
    op.create_table(
        "note_votes",
        sa.Column("note_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["note_id"], ["notes.id"], name=op.f("fk_note_votes_note_id_notes"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("note_id", "member_id", name=op.f("pk_note_votes")),
    )
    op.create_index("ix_note_votes_guild_id_created_at", "note_votes", ["guild_id", "created_at"], unique=False)

    dialect = op.get_bind().dialect.name
    statements = SQLITE_SEARCH if dialect == "sqlite" else POSTGRESQL_SEARCH if dialect == "postgresql" else ()
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for trigger in ("notes_fts_after_insert", "notes_fts_after_delete", "notes_fts_after_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS notes_fts")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_notes_search_vector")
    op.drop_index("ix_note_votes_guild_id_created_at", table_name="note_votes")
    op.drop_table("note_votes")
    op.drop_index("ix_notes_search_filter", table_name="notes")
    op.drop_index("ix_notes_guild_id_topic_id", table_name="notes")
    op.drop_index("ix_notes_guild_id_kind_created_at", table_name="notes")
    op.drop_index("ix_notes_guild_id_author_id", table_name="notes")
    op.drop_table("notes")
    op.drop_table("note_topics")
