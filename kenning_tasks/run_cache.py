"""A content-addressed cache of stage results, like DVC's run cache, shareable through a remote.

Key = sha256 of the stage's signature (parameters, code, tool versions) and of the bytes of
every input. When a stage is about to run and its key is in the cache, the outputs are
restored instead of recomputed: reverting a parameter is instant, and pipelines that share an
upstream stage (several scenarios, a grid search) compute it once. A per-key file lock makes
parallel workers (``doit -n N``) wait for each other instead of doing the same work twice.

With a remote configured (``KENNING_TASKS_REMOTE_CACHE`` or ``[cache] remote`` in
``kenning-tasks.toml``), a local miss reads through to the remote and a stored result is
written through to it, so CI runners and colleagues share results. Every object is checked
against its sha256 on the way in; a damaged entry or object is a miss, said in one line, and
the recomputed result replaces it; an unreachable remote is said once per run and the build
goes on with the local cache. The parts live in ``kenning_tasks/cache/``.

This module is the API the stage action uses::

    root = cache_dir()                        # None: the cache is off
    key = run_key(stage, signature, inputs, output_names)
    with locked(root, stage, key):
        hit = restore(root, stage, key, outputs, log=log)   # Hit(source, key) or None
        if not hit:
            ...run the stage...
            store(root, stage, key, outputs, log=log)
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from kenning_tasks import artifacts
from kenning_tasks.cache import entries, gc
from kenning_tasks.cache.entries import DamagedEntry, LegacyEntry, Manifest
from kenning_tasks.cache.local import LocalCache
from kenning_tasks.cache.remote import (
    RemoteCache,
    RemoteUnavailable,
    mark_offline,
    remote_cache,
)
from kenning_tasks.cache.settings import cache_settings
from kenning_tasks.layout import layout
from kenning_tasks.progress import log as progress_log

Log = Callable[[str], None]


@dataclass(frozen=True)
class Hit:
    """A restored result (always truthy): where it came from, for the run summary."""

    source: Literal["local", "remote"]
    key: str


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
    """Hold the key's lock: parallel workers with the same key wait instead of recomputing."""
    with LocalCache(root).key_lock(stage, key):
        yield


def restore(root: Path, stage: str, key: str, outputs: dict[str, Path],
            log: Log | None = None) -> Hit | None:
    """Write a cached result onto ``outputs`` (output name → path); None on a miss.

    The local store is tried first, then the remote (whose entry is then kept locally too).
    Either every output is restored, each object checked by size and sha256, or none is.
    """
    log = log or _log
    local = LocalCache(root)
    names = sorted(outputs)
    settings = cache_settings()
    with local.using():
        manifest = local.read_entry(stage, key, names, log)
        if manifest is not None and _write_outputs(local, manifest, outputs, log):
            local.touch(stage, key)
            return Hit("local", key)
        remote = remote_cache(settings, root)
        if remote is None:
            return None
        try:
            manifest = fetch_entry(remote, local, stage, key, names, log)
        except RemoteUnavailable as error:
            mark_offline(remote, root, error, log)
            return None
        if manifest is None or not _write_outputs(local, manifest, outputs, log):
            return None
        local.write_entry(manifest)
    return Hit("remote", key)


def store(root: Path, stage: str, key: str, outputs: dict[str, Path],
          log: Log | None = None) -> None:
    """Keep the outputs a stage just wrote as the entry ``key``, locally and on the remote.

    Replaces a damaged entry or object. Afterwards the local store is brought under its size
    limit (evicting least recently used entries, never this one).
    """
    log = log or _log
    local = LocalCache(root)
    settings = cache_settings()
    try:
        with local.using():
            manifest = Manifest(stage, key, {name: local.add_object(Path(path))
                                             for name, path in sorted(outputs.items())})
            local.write_entry(manifest)
    except OSError as error:  # a full cache disk: the stage's result stands, uncached
        from kenning_tasks.expected_failures import is_os_limit

        if not is_os_limit(error):
            raise
        log(f"warning: run cache: result not stored in {layout().relative(root)} "
            f"({os.strerror(error.errno).lower()})")
        return
    gc.enforce_limit(local, settings.max_size, frozenset({(stage, key)}))
    remote = remote_cache(settings, root)
    if remote is not None:
        with local.using():
            try:
                remote.push(manifest, local.object_file)
            except RemoteUnavailable as error:
                mark_offline(remote, root, error, log)


def _write_outputs(local: LocalCache, manifest: Manifest, outputs: dict[str, Path], log: Log
                   ) -> bool:
    """Copy every object of ``manifest`` onto its output, all or none."""
    try:
        with contextlib.ExitStack() as stack:
            for name, path in sorted(outputs.items()):
                out = manifest.outputs[name]
                tmp = stack.enter_context(artifacts.atomic_path(path))
                present = local.object_file(out.sha256).is_file()
                if not local.copy_object(out, tmp):
                    problem = ("is corrupt (size or sha256 mismatch)" if present
                               else "is missing")
                    log(f"run cache: {manifest.stage} entry {manifest.key[:12]}: object "
                        f"{out.sha256[:12]} for {name} {problem}; ignored, it will be replaced")
                    raise _Miss
    except _Miss:
        return False
    return True


def fetch_entry(remote: RemoteCache, local: LocalCache, stage: str, key: str,
                names: list[str] | None, log: Log) -> Manifest | None:
    """Bring a remote entry's objects into the local store, each checked; None on a miss.

    ``names`` are the outputs the stage declares (None: whatever the entry names). The caller
    writes the entry locally once it has used it. Raises ``RemoteUnavailable``.
    """
    data = remote.read(entries.entry_path(stage, key))
    if data is None:
        return None
    where = f"remote cache {remote.shown}: {stage} entry {key[:12]}"
    try:
        manifest = entries.parse(data, stage, key, names)
    except LegacyEntry:
        return None
    except DamagedEntry as damage:
        log(f"{where} is damaged ({damage}); recomputing, the result replaces it")
        return None
    for name, out in sorted(manifest.outputs.items()):
        if local.has_object(out.sha256, out.size):
            continue
        outcome = remote.fetch_object(out, local.object_file(out.sha256))
        if outcome == "missing":
            log(f"{where} is incomplete (object {out.sha256[:12]} for {name} is missing); "
                "recomputing")
            return None
        if outcome == "damaged":
            log(f"{where}: object {out.sha256[:12]} for {name} is corrupt (size or sha256 "
                "mismatch); recomputing, the result replaces it")
            return None
    return manifest


class _Miss(Exception):
    pass


def _log(message: str) -> None:
    progress_log(message)
