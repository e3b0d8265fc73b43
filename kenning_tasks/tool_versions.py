"""Versions of the Python distributions a stage's code imports, without importing them.

The third-party top-level names come from the stage's import closure (``fingerprint.py``);
``importlib.metadata`` maps them to distributions and versions. Building that map reads every
installed distribution's metadata (~0.3 s), so it is kept in the graph cache, keyed by the
mtime of the ``site-packages`` folders on ``sys.path``: installing or upgrading a package
changes them.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

SUFFIX = ".distributions.json"


def _stamp() -> list[list[object]]:
    """The mtimes of the folders distributions are installed in (not the project's)."""
    stamp = []
    for entry in sys.path:
        if not entry.endswith(("site-packages", "dist-packages")):
            continue
        try:
            stat = os.stat(entry or ".")
        except OSError:
            continue
        stamp.append([entry, stat.st_mtime_ns])
    return stamp


@functools.cache
def _table(cache_file: Path | None) -> dict[str, dict[str, Any]]:
    """``{"modules": {top-level name: [distributions]}, "versions": {distribution: version}}``."""
    stamp = _stamp()
    if cache_file is not None:
        try:
            cached = json.loads(cache_file.with_suffix(SUFFIX).read_text())
            if cached["stamp"] == stamp and cached.get("format") == 2:
                return cached["table"]
        except (OSError, ValueError, KeyError, TypeError):
            pass
    from importlib import metadata

    # A top-level name several distributions fill (``google``: protobuf, the TF packages…)
    # maps to all of them: which one a submodule comes from is not known without importing.
    modules: dict[str, list[str]] = {}
    versions: dict[str, str] = {}
    for top, distributions in metadata.packages_distributions().items():
        modules[top] = sorted(set(distributions))
        for name in modules[top]:
            if name not in versions:
                try:
                    versions[name] = metadata.version(name)
                except metadata.PackageNotFoundError:
                    versions[name] = "missing"
    table = {"modules": modules, "versions": versions}
    if cache_file is not None:
        try:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            target = cache_file.with_suffix(SUFFIX)
            temporary = target.with_name(f".{target.name}.{os.getpid()}")
            temporary.write_text(json.dumps({"format": 2, "stamp": stamp, "table": table}))
            os.replace(temporary, target)
        except OSError:
            pass
    return table


def canonical(name: str) -> str:
    """A distribution's name as PEP 503 compares them (``tensorflow_cpu`` = ``tensorflow-cpu``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def of_imports(top_level: Iterable[str], cache_file: Path | None = None) -> dict[str, str]:
    """``{distribution: version}`` for the imported top-level names that are installed
    distributions (the standard library is not)."""
    table = _table(cache_file)
    result = {}
    for name in sorted(set(top_level) - set(sys.stdlib_module_names)):
        for distribution in table["modules"].get(name, ()):
            result[canonical(distribution)] = table["versions"][distribution]
    return result
