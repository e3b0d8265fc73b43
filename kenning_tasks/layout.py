"""Where things are: the one place that knows the project's folders and the package's files.

Two kinds of location:

- **package resources** ship with kenning-tasks itself: the firmware sources, the report
  templates, the bundled ``platforms.yml`` and example scenarios (``SHIPPED_DIR``). They sit
  next to the ``kenning_tasks`` package in a checkout and in ``kenning_tasks/resources/`` in
  an installed wheel.
- **the project** is the user's folder: ``scenarios/``, an optional ``platforms.yml`` of its own,
  and the ``build/`` and ``cache/`` folders kenning-tasks writes. It is found from the working
  directory upwards (so a run from a subdirectory works on the right tree), or given by
  ``$KENNING_TASKS_PROJECT``.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# The folder holding the package: source files are found and labelled relative to it.
RESOURCES_DIR = PACKAGE_DIR.parent
# The files shipped besides the code: in a checkout the repository's top-level folders; a
# built wheel carries them inside the package (setup.py copies them to kenning_tasks/resources/).
_IN_WHEEL = PACKAGE_DIR / "resources"
SHIPPED_DIR = _IN_WHEEL if (_IN_WHEEL / "dodo.py").is_file() else RESOURCES_DIR
DODO_FILE = SHIPPED_DIR / "dodo.py"  # what `kenning-tasks run` hands to doit
FIRMWARE_DIR = SHIPPED_DIR / "firmware"
TEMPLATES_DIR = PACKAGE_DIR / "templates"
BUNDLED_PLATFORMS = SHIPPED_DIR / "platforms.yml"
BUNDLED_SCENARIOS = SHIPPED_DIR / "scenarios"

PROJECT_ENV = "KENNING_TASKS_PROJECT"
CACHE_ENV = "KENNING_TASKS_CACHE"
# A folder holding one of these is a project root.
PROJECT_MARKERS = ("dodo.py", "scenarios", "kenning-tasks.toml")


@dataclass(frozen=True)
class Layout:
    """The folders of one project (absolute paths)."""

    root: Path
    build: Path
    cache: Path | None  # None: the run cache is off
    scenarios: Path
    platforms: Path
    firmware: Path = FIRMWARE_DIR
    templates: Path = TEMPLATES_DIR

    @property
    def state_file(self) -> Path:
        """doit's state database."""
        return self.build / ".doit-state.sqlite3"

    def relative(self, path: Path | str) -> str:
        """``path`` relative to the project root when it is inside it (for messages)."""
        try:
            return str(Path(path).resolve().relative_to(self.root))
        except ValueError:
            return str(path)


def find_root(start: Path) -> Path:
    """The nearest folder from ``start`` upwards that holds a project marker, else ``start``."""
    for folder in (start, *start.parents):
        if any((folder / marker).exists() for marker in PROJECT_MARKERS):
            return folder
    return start


@functools.cache
def _layout(cwd: str, project: str | None, cache: str | None) -> Layout:
    root = Path(project).resolve() if project else find_root(Path(cwd))
    if cache == "off":
        cache_dir = None
    elif cache:
        cache_dir = Path(cache).expanduser().resolve()
    else:
        cache_dir = root / "cache"
    own_platforms = root / "platforms.yml"
    return Layout(root=root, build=root / "build", cache=cache_dir,
                  scenarios=root / "scenarios",
                  platforms=own_platforms if own_platforms.is_file() else BUNDLED_PLATFORMS)


def layout() -> Layout:
    """The layout for the current working directory and environment."""
    return _layout(os.getcwd(), os.environ.get(PROJECT_ENV) or None,
                   os.environ.get(CACHE_ENV) or None)


def project_layout() -> Layout:
    """The project of the working directory; one line when there is none (no stray build/)."""
    where = layout()
    if not os.environ.get(PROJECT_ENV) and not any(
            (where.root / marker).exists() for marker in PROJECT_MARKERS):
        from kenning_tasks.errors import KenningTasksError

        raise KenningTasksError(
            f"no kenning-tasks project in {where.root} or above (a folder with "
            f"{', '.join(PROJECT_MARKERS)}); run from one or set {PROJECT_ENV}")
    return where
