"""Shared fixtures: an isolated copy of the project in which doit runs for real."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
COPIED = ("dodo.py", "kenning_tasks", "scenarios", "firmware", "platforms.yml", "pyproject.toml")


@dataclass
class DoitRun:
    returncode: int
    stdout: str
    stderr: str

    @property
    def executed(self) -> list[str]:
        """Tasks doit ran (``.  name``), in order."""
        return re.findall(r"^\.  (\S+)$", self.stdout, flags=re.M)

    @property
    def up_to_date(self) -> list[str]:
        return re.findall(r"^-- (\S+)$", self.stdout, flags=re.M)

    def executed_stages(self) -> set[str]:
        return {name.split(":")[0] for name in self.executed}


@dataclass
class Project:
    """A private copy of the repository's sources, with its own build/ and run cache.

    ``cache_root`` points the run cache elsewhere, e.g. at the cache of a module fixture that
    already built the upstream stages: they are then restored instead of recomputed (no
    TensorFlow import, no training). Only for tests that assert nothing about those stages.
    """

    root: Path
    cache_root: Path | None = None

    def doit(self, *args: str, cache: bool = True, timeout: float = 600) -> DoitRun:
        env = dict(os.environ)
        env["PYTHONPATH"] = str(self.root)
        env["KENNING_TASKS_CACHE"] = str(self.cache_root or self.root / "cache") if cache \
            else "off"
        env["KENNING_TASKS_RESOURCES"] = str(self.root / "resources")
        completed = subprocess.run(
            [PYTHON, "-m", "doit", "-f", str(self.root / "dodo.py"), *args],
            cwd=self.root, env=env, capture_output=True, text=True, timeout=timeout)
        return DoitRun(completed.returncode, completed.stdout, completed.stderr)

    def build(self, scenario: str) -> Path:
        return self.root / "build" / scenario

    def scenario_path(self, name: str) -> Path:
        return self.root / "scenarios" / f"{name}.yml"

    def edit(self, relative: str, old: str, new: str) -> None:
        path = self.root / relative
        text = path.read_text()
        assert old in text, f"{old!r} not in {relative}"
        path.write_text(text.replace(old, new, 1))


def copy_project(destination: Path, cache_root: Path | None = None) -> Project:
    destination.mkdir(parents=True, exist_ok=True)
    for name in COPIED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, destination / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif source.exists():
            shutil.copy2(source, destination / name)
    return Project(destination, cache_root)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return copy_project(tmp_path / "project")


@pytest.fixture(scope="module")
def module_project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return copy_project(tmp_path_factory.mktemp("module") / "project")
