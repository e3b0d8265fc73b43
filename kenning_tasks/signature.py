"""What makes a stage's result valid: its signature and the integrity of its outputs.

A stage's signature is its resolved parameters, a fingerprint of the source files that
implement it and the versions of the tools it uses. Input files are tracked by doit's MD5
file_dep checker (which gives early cutoff); outputs are checked against the hashes the stage
recorded when it wrote them, because doit itself only checks that targets exist.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
from pathlib import Path
from typing import Any

from kenning_tasks.artifacts import sha256_file
from kenning_tasks.layout import RESOURCES_DIR as ROOT


@functools.cache
def _file_digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def module_file(module: str) -> Path:
    """Source file of a module, found without importing it (or its package)."""
    relative = ROOT.joinpath(*module.split("."))
    for candidate in (relative.with_suffix(".py"), relative / "__init__.py"):
        if candidate.is_file():
            return candidate
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise ImportError(f"module {module} not found")
    return Path(spec.origin)


def code_fingerprint(modules: list[str], extra_files: list[Path] = ()) -> dict[str, str]:
    """``{relative source path: short sha256}`` for the modules and files implementing a stage."""
    files = {module_file(m) for m in modules} | {Path(f) for f in extra_files}
    result = {}
    for path in sorted(files):
        try:
            label = str(path.relative_to(ROOT))
        except ValueError:
            label = str(path)
        result[label] = _file_digest(str(path))
    return result


def normalise(signature: dict[str, Any]) -> dict[str, Any]:
    """The signature as doit stores it (JSON types only), so saved and fresh ones compare."""
    return json.loads(json.dumps(signature, sort_keys=True, default=str))


class SignatureCheck:
    """doit ``uptodate`` entry: up to date only if the saved signature equals this one."""

    def __init__(self, signature: dict[str, Any]) -> None:
        self.signature = normalise(signature)

    def __call__(self, task: Any, values: dict[str, Any]) -> bool:
        task.value_savers.append(lambda: {"signature": self.signature})
        return values.get("signature") == self.signature


class OutputsIntact:
    """doit ``uptodate`` entry: every output still has the bytes the stage wrote.

    Size and mtime are compared first; a file is hashed only when they differ, so a no-op
    rerun costs a ``stat`` per output.
    """

    def __call__(self, task: Any, values: dict[str, Any]) -> bool:
        recorded = values.get("outputs")
        if not recorded:
            return False
        return not changed_outputs(recorded)


def record_outputs(paths: list[Path]) -> dict[str, list[Any]]:
    """``{path: [size, mtime_ns, sha256]}`` for the files a stage wrote."""
    result = {}
    for path in paths:
        stat = os.stat(path)
        result[str(path)] = [stat.st_size, stat.st_mtime_ns, sha256_file(path)]
    return result


def changed_outputs(recorded: dict[str, list[Any]]) -> list[str]:
    """Outputs that are missing or whose bytes differ from ``recorded``."""
    changed = []
    for name, (size, mtime_ns, digest) in recorded.items():
        try:
            stat = os.stat(name)
        except FileNotFoundError:
            changed.append(name)
            continue
        if stat.st_size != size or (
                stat.st_mtime_ns != mtime_ns and sha256_file(name) != digest):
            changed.append(name)
    return changed
