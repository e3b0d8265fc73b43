"""Keeping the caches bounded: the local store's size limit and the remote's age limit.

Local: when the store grows past its limit (``max_size``), whole entries are evicted, least
recently used first (an entry's mtime is its last store or restore), with the objects no
remaining entry names. Remote: entries uploaded longer ago than the age limit are removed, then
the objects no remaining entry names that are older than the limit too (a younger one may be
an upload whose entry is still on its way), and upload leftovers in ``tmp/``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kenning_tasks import artifacts
from kenning_tasks.cache import entries
from kenning_tasks.cache.entries import DamagedEntry, LegacyEntry
from kenning_tasks.cache.local import LocalCache
from kenning_tasks.cache.remote import RemoteCache, iter_entries

Log = Callable[[str], None]
# A temporary in the local store this old is a dead writer's, even one on another host.
STALE_TEMPORARY_S = 3600.0
STALE_UPLOAD_S = 86400.0


@dataclass
class Usage:
    """What a store holds: ``entries`` maps (stage, key) to (last use, objects named)."""

    entries: dict[tuple[str, str], tuple[float, set[str]]] = field(default_factory=dict)
    objects: dict[str, int] = field(default_factory=dict)  # sha256 → size
    entry_bytes: int = 0

    @property
    def total(self) -> int:
        return self.entry_bytes + sum(self.objects.values())


def local_size(cache: LocalCache) -> int:
    """Bytes in the store's entries and objects (a quick walk: no file is read)."""
    total = 0
    for folder in ("runs", "objects"):
        for path in (cache.root / folder).rglob("*"):
            with contextlib.suppress(FileNotFoundError):
                if path.is_file():
                    total += path.stat().st_size
    return total


def local_usage(cache: LocalCache) -> Usage:
    """Entries and objects of the local store; unreadable and old-format entries are deleted."""
    usage = Usage()
    for digest, path in cache.object_files():
        with contextlib.suppress(FileNotFoundError):
            usage.objects[digest] = path.stat().st_size
    for stage, key, path in cache.entry_files():
        try:
            stat = path.stat()
            manifest = entries.parse(path.read_bytes(), stage, key)
        except FileNotFoundError:
            continue
        except (DamagedEntry, LegacyEntry):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            continue
        usage.entries[(stage, key)] = (stat.st_mtime, {o.sha256 for o in
                                                       manifest.outputs.values()})
        usage.entry_bytes += stat.st_size
    return usage


@dataclass
class Collected:
    entries: int = 0
    objects: int = 0
    bytes: int = 0


def collect_local(cache: LocalCache, max_size: int,
                  protect: frozenset[tuple[str, str]] = frozenset()) -> Collected:
    """Evict least recently used entries until the store holds at most ``max_size`` bytes.

    Objects no entry names are removed first, and stale temporaries of killed writers.
    ``protect`` names entries to keep (the one just stored).
    """
    done = Collected()
    with cache.collecting():
        for folder in ("runs", "objects"):
            if (cache.root / folder).is_dir():
                artifacts.remove_stale_temporaries(cache.root / folder, STALE_TEMPORARY_S)
        usage = local_usage(cache)
        named: dict[str, int] = {}
        for _, objects in usage.entries.values():
            for digest in objects:
                named[digest] = named.get(digest, 0) + 1
        for digest in [d for d in usage.objects if d not in named]:
            done.bytes += _unlink(cache.object_file(digest))
            done.objects += 1
            del usage.objects[digest]
        total = usage.total
        by_age = sorted(usage.entries.items(), key=lambda item: item[1][0])
        for (stage, key), (_, objects) in by_age:
            if total <= max_size:
                break
            if (stage, key) in protect:
                continue
            freed = _unlink(cache.entry_file(stage, key))
            for digest in objects:
                named[digest] -= 1
                if named[digest] == 0 and digest in usage.objects:
                    freed += _unlink(cache.object_file(digest))
                    done.objects += 1
            total -= freed
            done.bytes += freed
            done.entries += 1
    return done


def enforce_limit(cache: LocalCache, max_size: int, protect: frozenset[tuple[str, str]]
                  ) -> Collected | None:
    """``collect_local`` when the store is over its limit (cheap when it is not)."""
    if local_size(cache) <= max_size:
        return None
    return collect_local(cache, max_size, protect)


def clear_local(cache: LocalCache) -> Collected:
    done = Collected()
    with cache.collecting():
        for folder in ("runs", "objects"):
            for path in sorted((cache.root / folder).rglob("*"), reverse=True):
                if path.is_file() or path.is_symlink():
                    done.bytes += _unlink(path)
                    if folder == "runs" and path.suffix == ".json":
                        done.entries += 1
                    elif folder == "objects" and not path.name.startswith("."):
                        done.objects += 1
                elif path.is_dir():
                    with contextlib.suppress(OSError):
                        path.rmdir()
    return done


def collect_remote(remote: RemoteCache, cutoff: float) -> Collected:
    """Remove remote entries and unnamed objects modified before ``cutoff`` (a Unix time)."""
    done = Collected()
    listed = remote.listing("runs")
    old, kept = [], []
    for stage, key, modified in iter_entries(listed):
        (old if modified < cutoff else kept).append((stage, key))
    old_paths = [entries.entry_path(s, k) for s, k in old]
    remote.remove(old_paths)
    done.entries = len(old_paths)
    done.bytes += sum(listed[p][0] for p in old_paths)
    named: set[str] = set()
    for stage, key in kept:
        data = remote.read(entries.entry_path(stage, key))
        if data is None:
            continue
        try:
            manifest = entries.parse(data, stage, key)
        except (DamagedEntry, LegacyEntry):
            remote.remove([entries.entry_path(stage, key)])
            done.entries += 1
            continue
        named |= {o.sha256 for o in manifest.outputs.values()}
    unnamed = [(path, size) for path, (size, modified) in remote.listing("objects").items()
               if path.rsplit("/", 1)[-1] not in named and modified < cutoff]
    remote.remove([path for path, _ in unnamed])
    done.objects = len(unnamed)
    done.bytes += sum(size for _, size in unnamed)
    uploads = [path for path, (_, modified) in remote.listing("tmp").items()
               if modified < min(cutoff, time.time() - STALE_UPLOAD_S)]
    remote.remove(uploads)
    return done


def clear_remote(remote: RemoteCache) -> Collected:
    """Remove every entry, object and upload leftover of the remote (nothing else there)."""
    done = Collected()
    for folder in ("runs", "objects", "tmp"):
        listed = remote.listing(folder)
        remote.remove(sorted(listed))
        done.bytes += sum(size for size, _ in listed.values())
        if folder == "runs":
            done.entries = len(listed)
        elif folder == "objects":
            done.objects = len(listed)
    return done


def _unlink(path: Path) -> int:
    try:
        size = path.stat().st_size
        path.unlink()
    except FileNotFoundError:
        return 0
    return size
