"""A content-addressed cache of stage results, like DVC's run cache.

Key = sha256 of the stage's signature (parameters, code, tool versions) and of the bytes of
every input. When a stage is about to run and its key is in the cache, the outputs are
restored instead of recomputed: reverting a parameter is instant, and pipelines that share an
upstream stage (several scenarios, a grid search) compute it once. A per-key file lock makes
parallel workers (``doit -n N``) wait for each other instead of doing the same work twice.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kenning_tasks import artifacts
from kenning_tasks.layout import layout


def cache_dir() -> Path | None:
    """``$KENNING_TASKS_CACHE`` (``off`` disables the cache) or the project's ``cache/``."""
    return layout().cache


def run_key(stage: str, signature: dict[str, Any], inputs: list[Path],
            outputs: list[str]) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps({"stage": stage, "signature": signature, "outputs": outputs},
                             sort_keys=True, default=str).encode())
    for path in inputs:
        digest.update(path.name.encode())
        digest.update(artifacts.sha256_file(path).encode())
    return digest.hexdigest()


@contextlib.contextmanager
def locked(root: Path, stage: str, key: str) -> Iterator[None]:
    lock_path = root / "locks" / f"{stage}-{key}.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def restore(root: Path, stage: str, key: str, outputs: dict[str, Path]) -> bool:
    """Copy a cached result onto ``outputs`` (relative name → path); False on a miss."""
    manifest_path = root / "runs" / stage / f"{key}.json"
    if not manifest_path.is_file():
        return False
    manifest = json.loads(manifest_path.read_text())
    if set(manifest) != set(outputs):
        return False
    objects = {name: root / "objects" / digest[:2] / digest for name, digest in manifest.items()}
    if not all(path.is_file() for path in objects.values()):
        return False
    for name, path in outputs.items():
        data = objects[name].read_bytes()
        if hashlib.sha256(data).hexdigest() != manifest[name]:
            return False  # a damaged cache entry is a miss, never a wrong result
        artifacts.write_bytes(path, data)
    return True


def store(root: Path, stage: str, key: str, outputs: dict[str, Path]) -> None:
    manifest = {}
    for name, path in outputs.items():
        digest = artifacts.sha256_file(path)
        target = root / "objects" / digest[:2] / digest
        if not target.is_file():
            artifacts.write_bytes(target, path.read_bytes())
        manifest[name] = digest
    artifacts.write_json(root / "runs" / stage / f"{key}.json", manifest)
