"""The project config file, ``kenning-tasks.toml`` at the project root (``layout().root``).

One table per concern (``[cache]``, ...). This module reads and parses the file and checks
that every table is a known one; each concern validates its own keys (the cache's are in
``kenning_tasks/cache/settings.py``). A missing file is an empty config.
"""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path
from typing import Any

from kenning_tasks.errors import ConfigError
from kenning_tasks.layout import layout

CONFIG_NAME = "kenning-tasks.toml"
# The tables a project config may hold; a concern that reads the config adds its table here.
SECTIONS = ("cache",)


def config_path() -> Path:
    return layout().root / CONFIG_NAME


def project_config() -> dict[str, Any]:
    """The parsed config of the current project (``{}`` when it has no config file)."""
    path = config_path()
    try:
        stat = path.stat()
    except FileNotFoundError:
        return {}
    return _parse(str(path), stat.st_mtime_ns, stat.st_size)


def section(name: str) -> dict[str, Any]:
    """One table of the config (``{}`` when absent)."""
    if name not in SECTIONS:
        raise ValueError(f"config section {name!r} is not declared in config.SECTIONS")
    return project_config().get(name, {})


@functools.cache
def _parse(path: str, mtime_ns: int, size: int) -> dict[str, Any]:
    # Keyed by mtime and size too, so an edited file is read again in a long-lived process.
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})"
                          ) from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror}") from None
    for key, value in data.items():
        if key not in SECTIONS:
            raise ConfigError(f"{path}: unknown table [{key}]; allowed: "
                              + ", ".join(f"[{s}]" for s in SECTIONS))
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: {key} must be a table ([{key}])")
    return data
