"""Rules that keep the code shaped as STYLE.md says."""

from __future__ import annotations

import ast
from pathlib import Path

from models import Base

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN_IN_DOMAIN = ("discord", "sqlalchemy", "aiohttp", "aiosqlite", "asyncpg")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_domain_imports_neither_discord_nor_sqlalchemy():
    files = sorted((ROOT / "bot" / "domain").rglob("*.py"))
    assert files, "bot/domain has no modules"
    for path in files:
        bad = _imports(path) & set(FORBIDDEN_IN_DOMAIN)
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_services_do_not_import_discord():
    for path in sorted((ROOT / "bot" / "services").rglob("*.py")):
        assert "discord" not in _imports(path), f"{path.relative_to(ROOT)} imports discord"


def test_every_table_is_scoped_by_guild():
    for table in Base.metadata.sorted_tables:
        assert "guild_id" in table.columns, f"table {table.name} has no guild_id"
