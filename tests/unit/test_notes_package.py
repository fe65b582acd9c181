"""The notes package keeps its shape: small modules, and engine differences behind one backend."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.db import create_engine, create_sessionmaker
from bot.services.notes.fts5 import Fts5Search
from bot.services.notes.search import search_backend
from bot.services.notes.tsvector import TsvectorSearch

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "bot" / "services" / "notes"
MAX_MODULE_LINES = 400
DIALECT = re.compile(r"dialect|== *['\"](sqlite|postgresql)['\"]")


def test_every_module_is_small():
    for path in sorted(PACKAGE.glob("*.py")):
        lines = len(path.read_text().splitlines())
        assert lines <= MAX_MODULE_LINES, f"{path.relative_to(ROOT)} has {lines} lines"


def test_only_the_backend_choice_asks_which_engine_runs():
    for path in sorted(PACKAGE.glob("*.py")):
        text = path.read_text()
        if path.name == "search.py":  # search_backend: the one place the engine is looked at
            text = re.sub(r"SEARCH_BACKENDS.*?\n\n\n(def search_backend.*?\n\n\n)", "", text, flags=re.DOTALL)
        assert not DIALECT.search(text), f"{path.relative_to(ROOT)} branches on the database engine"


def test_domain_search_holds_no_query_syntax_nor_markdown():
    text = (ROOT / "bot" / "domain" / "search.py").read_text()
    for syntax in ("**", "MATCH", "tsquery", " OR ", "LIKE"):
        assert syntax not in text, f"bot/domain/search.py mentions {syntax!r}"


@pytest.mark.parametrize(
    ("url", "backend"),
    [("sqlite+aiosqlite:///nexus.db", Fts5Search), ("postgresql+asyncpg://nexus@127.0.0.1/nexus", TsvectorSearch)],
)
async def test_the_backend_is_chosen_from_the_engine(url, backend):
    """No connection is made: the engine alone names its dialect."""
    engine = create_engine(url)
    try:
        assert isinstance(search_backend(create_sessionmaker(engine)), backend)
    finally:
        await engine.dispose()
