"""The lock files hold what pyproject.toml asks for: every direct dependency pinned, within its
bounds, with hashes; the image's lock at the versions CI tests. A stale lock fails here, offline."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")


def _pins(path: Path) -> dict[str, list[tuple[Version, str | None, int]]]:
    """name -> [(version, marker, number of hashes)] of a uv/pip-tools hashed requirements file."""
    pins: dict[str, list[tuple[Version, str | None, int]]] = {}
    current: list[object] | None = None
    for line in path.read_text().splitlines():
        match = PIN.match(line)
        if match:
            name, version, marker = match.groups()
            current = [Version(version), marker, 0]
            pins.setdefault(canonicalize_name(name), []).append(current)  # type: ignore[arg-type]
        elif line.strip().startswith("--hash=sha256:") and current is not None:
            current[2] = int(current[2]) + 1  # type: ignore[call-overload]
    return {name: [(v, m, int(h)) for v, m, h in entries] for name, entries in pins.items()}  # type: ignore[misc]


def _project() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]  # type: ignore[no-any-return]


def _direct(extra: bool) -> list[Requirement]:
    project = _project()
    names = list(project["dependencies"])  # type: ignore[call-overload]
    if extra:
        names += project["optional-dependencies"]["dev"]  # type: ignore[index]
    return [Requirement(text) for text in names]


def test_every_direct_dependency_is_locked_within_its_bounds():
    for lock, extra in (("dev.lock", True), ("runtime.lock", False)):
        pins = _pins(ROOT / "requirements" / lock)
        for requirement in _direct(extra):
            entries = pins.get(canonicalize_name(requirement.name))
            assert entries, f"{requirement.name} is in pyproject.toml but not in {lock}: run ./scripts/lock"
            for version, _marker, _hashes in entries:
                assert requirement.specifier.contains(version, prereleases=True), (
                    f"{lock} pins {requirement.name}=={version}, outside {requirement}: run ./scripts/lock"
                )


def test_every_pin_carries_its_hashes():
    for lock in ("dev.lock", "runtime.lock"):
        for name, entries in _pins(ROOT / "requirements" / lock).items():
            for version, _marker, hashes in entries:
                assert hashes >= 1, f"{lock}: {name}=={version} has no --hash (pip --require-hashes refuses it)"


def test_the_image_runs_the_versions_ci_tests():
    dev = _pins(ROOT / "requirements" / "dev.lock")
    runtime = _pins(ROOT / "requirements" / "runtime.lock")
    assert runtime, "runtime.lock is empty"
    for name, entries in runtime.items():
        assert name in dev, f"runtime.lock has {name}, dev.lock does not"
        assert {(v, m) for v, m, _ in entries} <= {(v, m) for v, m, _ in dev[name]}, name
    # nothing of the dev tools reaches the image
    assert not {"pytest", "ruff", "mypy", "uv"} & set(runtime)


def test_the_parser_reads_a_pin_its_marker_and_hashes(tmp_path):
    lock = tmp_path / "x.lock"
    lock.write_text(
        "numpy==2.4.6 ; python_full_version < '3.12' \\\n"
        "    --hash=sha256:aa \\\n"
        "    --hash=sha256:bb\n"
        "    # via scipy\n"
        "six==1.17.0 \\\n"
        "    --hash=sha256:cc\n"
    )
    assert _pins(lock) == {
        "numpy": [(Version("2.4.6"), "python_full_version < '3.12'", 2)],
        "six": [(Version("1.17.0"), None, 1)],
    }
