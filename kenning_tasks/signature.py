"""What makes a stage's result valid: its signature and the integrity of its outputs.

A stage's signature is its resolved parameters, a fingerprint of the source files it can
reach (``fingerprint.py``) and the versions of the tools it uses (``tool_versions.py``).
Input files are tracked by doit's MD5 file_dep checker (which gives early cutoff); outputs
are checked against the hashes the stage recorded when it wrote them, because doit itself
only checks that targets exist.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from kenning_tasks.artifacts import sha256_file


def normalise(signature: dict[str, Any]) -> dict[str, Any]:
    """The signature as doit stores it (JSON types only), so saved and fresh ones compare."""
    return json.loads(json.dumps(signature, sort_keys=True, default=str))


class SignatureCheck:
    """doit ``uptodate`` entry: up to date only if the saved signature equals this one."""

    def __init__(self, signature: dict[str, Any], normalised: bool = False) -> None:
        self.signature = signature if normalised else normalise(signature)

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
