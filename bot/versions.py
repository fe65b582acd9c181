"""The releases of SQLAlchemy that Nexus's SQLite adapter runs on, checked before anything imports it.

`bot/sqlite_adapter.py` subclasses private classes of SQLAlchemy's aiosqlite dialect and imports
`sqlalchemy.util.concurrency.await_`, which appeared in 2.1. A release outside the tested range is
refused with what to install: the adapter refuses it at import, and the command line checks the
installed version first (through package metadata, without importing SQLAlchemy) so an operator
reads one line instead of a traceback. Dependabot proposes each new release as a pull request that
runs the adapter's tests; widening the range is a change here and in pyproject.toml.
"""

from __future__ import annotations

from importlib import metadata

SUPPORTED_SQLALCHEMY = ((2, 1), (2, 2))
"""From 2.1 up to, not including, 2.2 (pyproject.toml says the same: SQLAlchemy>=2.1,<2.2)."""


def unsupported_sqlalchemy(version: str) -> str | None:
    """Why SQLAlchemy `version` cannot run Nexus, or None when it can."""
    parts = tuple(int(p) for p in version.split(".")[:2] if p.isdigit())
    low, high = SUPPORTED_SQLALCHEMY
    if len(parts) == 2 and low <= parts < high:
        return None
    return (
        f"Nexus needs SQLAlchemy {low[0]}.{low[1]}.x (found {version}): run ./scripts/bootstrap, "
        "or pip install -r requirements/dev.lock"
    )


def installed_problem() -> str | None:
    """What is wrong with the installed SQLAlchemy, or None; read from its metadata, not imported."""
    try:
        version = metadata.version("SQLAlchemy")
    except metadata.PackageNotFoundError:
        return "Nexus needs SQLAlchemy 2.1.x, which is not installed: run ./scripts/bootstrap"
    return unsupported_sqlalchemy(version)
