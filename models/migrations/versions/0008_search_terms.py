"""search that behaves the same on both engines and finds CJK words

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 10:50:00.000000

Notes get a `search_terms` column: their Chinese, Japanese and Korean runs as overlapping bigrams,
filled here for existing notes and by the service on every write. SQLite's FTS5 table and triggers
are rebuilt with it as a fifth column. PostgreSQL's generated tsvector column is rebuilt with the
`simple` configuration (no stemming, no stop words, as FTS5's unicode61 tokenizer) and the new column.
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A copy of bot.domain.search.search_terms as it was when this migration was written: migrations
# must not change meaning when app code does.
_CJK = (
    "\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\ua960-\ua97f\uac00-\ud7af\ud7b0-\ud7ff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f"
)
_WORD = re.compile(r"[^\W_]+")
_CJK_RUN = re.compile(f"[{_CJK}]+")
_PIECE = re.compile(f"[{_CJK}]+|[^{_CJK}]+")


def _bigrams(run: str) -> list[str]:
    return [run] if len(run) < 2 else [run[i : i + 2] for i in range(len(run) - 1)]


def _search_terms(*texts: str | None) -> str:
    terms: list[str] = []
    for text in texts:
        if not text or _CJK_RUN.search(text) is None:
            continue
        for word in _WORD.findall(text.casefold()):
            if _CJK_RUN.search(word) is None:
                continue
            for piece in _PIECE.findall(word):
                terms.extend(_bigrams(piece) if _CJK_RUN.fullmatch(piece) else [piece])
    return " ".join(terms)


def _fts5(columns: str, values: str, old_values: str) -> tuple[str, ...]:
    return (
        f"""
        CREATE VIRTUAL TABLE notes_fts USING fts5(
            {columns},
            content='notes', content_rowid='id',
            tokenize='unicode61 remove_diacritics 2'
        )
        """,
        f"""
        CREATE TRIGGER notes_fts_after_insert AFTER INSERT ON notes BEGIN
            INSERT INTO notes_fts(rowid, {columns}) VALUES (new.id, {values});
        END
        """,
        f"""
        CREATE TRIGGER notes_fts_after_delete AFTER DELETE ON notes BEGIN
            INSERT INTO notes_fts(notes_fts, rowid, {columns}) VALUES ('delete', old.id, {old_values});
        END
        """,
        f"""
        CREATE TRIGGER notes_fts_after_update AFTER UPDATE OF {columns} ON notes BEGIN
            INSERT INTO notes_fts(notes_fts, rowid, {columns}) VALUES ('delete', old.id, {old_values});
            INSERT INTO notes_fts(rowid, {columns}) VALUES (new.id, {values});
        END
        """,
        "INSERT INTO notes_fts(notes_fts) VALUES ('rebuild')",
    )


SQLITE_SEARCH = _fts5(
    "title, body, solution, tags, search_terms",
    "new.title, new.body, coalesce(new.solution, ''), new.tags, new.search_terms",
    "old.title, old.body, coalesce(old.solution, ''), old.tags, old.search_terms",
)
SQLITE_SEARCH_BEFORE = _fts5(
    "title, body, solution, tags",
    "new.title, new.body, coalesce(new.solution, ''), new.tags",
    "old.title, old.body, coalesce(old.solution, ''), old.tags",
)
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS notes_fts_after_insert",
    "DROP TRIGGER IF EXISTS notes_fts_after_delete",
    "DROP TRIGGER IF EXISTS notes_fts_after_update",
    "DROP TABLE IF EXISTS notes_fts",
)


def _postgresql_search(config: str, *, with_terms: bool) -> tuple[str, ...]:
    terms = f" || setweight(to_tsvector('{config}', search_terms), 'C')" if with_terms else ""
    return (
        "ALTER TABLE notes DROP COLUMN IF EXISTS search_vector",
        f"""
        ALTER TABLE notes ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
            setweight(to_tsvector('{config}', coalesce(title, '')), 'A')
            || setweight(to_tsvector('{config}', coalesce(tags, '')), 'B')
            || setweight(to_tsvector('{config}', coalesce(body, '')), 'C')
            || setweight(to_tsvector('{config}', coalesce(solution, '')), 'C'){terms}
        ) STORED
        """,
        "CREATE INDEX ix_notes_search_vector ON notes USING gin (search_vector)",
    )


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE_DROP:
            op.execute(statement)
    op.add_column("notes", sa.Column("search_terms", sa.Text(), server_default="", nullable=False))
    notes = sa.table(
        "notes",
        sa.column("id", sa.Integer()),
        sa.column("title", sa.String()),
        sa.column("body", sa.Text()),
        sa.column("solution", sa.Text()),
        sa.column("tags", sa.String()),
        sa.column("search_terms", sa.Text()),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(notes.c.id, notes.c.title, notes.c.body, notes.c.solution, notes.c.tags))
    for note_id, title, body, solution, tags in rows.all():
        terms = _search_terms(title, body, solution, tags)
        if terms:
            bind.execute(notes.update().where(notes.c.id == note_id).values(search_terms=terms))
    statements = (
        SQLITE_SEARCH
        if dialect == "sqlite"
        else _postgresql_search("simple", with_terms=True)
        if dialect == "postgresql"
        else ()
    )
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE_DROP:
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute("ALTER TABLE notes DROP COLUMN IF EXISTS search_vector")
    op.drop_column("notes", "search_terms")
    statements = (
        SQLITE_SEARCH_BEFORE
        if dialect == "sqlite"
        else _postgresql_search("english", with_terms=False)
        if dialect == "postgresql"
        else ()
    )
    for statement in statements:
        op.execute(statement)
