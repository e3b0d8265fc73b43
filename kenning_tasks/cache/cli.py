"""``python -m kenning_tasks cache status|push|pull|gc|clear``: look after the run cache.

push/pull copy entries the other side lacks (read-through and write-through do this during
runs; these are for seeding a shared cache or a machine that goes offline). gc brings the
local store under its size limit and, with ``--remote``, removes remote entries past their
age limit. clear empties the local store (and the remote with ``--remote``).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import TypeVar

from kenning_tasks import run_cache
from kenning_tasks.cache import entries, gc
from kenning_tasks.cache.entries import DamagedEntry, LegacyEntry
from kenning_tasks.cache.local import LocalCache
from kenning_tasks.cache.remote import RemoteCache, RemoteUnavailable, iter_entries
from kenning_tasks.cache.settings import CacheSettings, cache_settings, parse_age, parse_size
from kenning_tasks.errors import KenningTasksError

T = TypeVar("T")


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="cache_command", required=True)
    actions.add_parser("status", help="what the local and remote caches hold")
    for name, help_text in (("push", "upload local entries the remote lacks"),
                            ("pull", "download remote entries the local cache lacks")):
        action = actions.add_parser(name, help=help_text)
        action.add_argument("--stage", action="append", help="only this stage (repeatable)")
    collect = actions.add_parser("gc", help="bring the local cache under its size limit")
    collect.add_argument("--max-size", help="limit for this run (default: the setting)")
    collect.add_argument("--remote", action="store_true",
                         help="also remove remote entries older than the age limit")
    collect.add_argument("--older-than", help="age limit for this run, e.g. 30d")
    clear = actions.add_parser("clear", help="remove every local entry and object")
    clear.add_argument("--remote", action="store_true", help="empty the remote too")


def run(options: argparse.Namespace) -> int:
    root = run_cache.cache_dir()
    if root is None:
        raise KenningTasksError("the run cache is off (KENNING_TASKS_CACHE=off)")
    local, settings = LocalCache(root), cache_settings()
    command = options.cache_command
    if command == "status":
        return _status(local, settings)
    if command == "gc":
        limit = (parse_size(options.max_size, "--max-size") if options.max_size
                 else settings.max_size)
        done = gc.collect_local(local, limit)
        print(f"local cache {root}: evicted {done.entries} entries and {done.objects} objects, "
              f"freed {format_size(done.bytes)}; now {format_size(gc.local_size(local))} of "
              f"{format_size(limit)}")
        if not options.remote:
            return 0
        age = (parse_age(options.older_than, "--older-than") if options.older_than
               else settings.remote_max_age_s)
        remote = _remote(settings, required=True)
        done = _guard(remote, lambda: gc.collect_remote(remote, time.time() - age))
        print(f"remote cache {remote.shown}: removed {done.entries} entries and {done.objects} "
              f"objects older than {format_age(age)} ({format_size(done.bytes)})")
        return 0
    if command == "clear":
        done = gc.clear_local(local)
        print(f"local cache {root}: removed {done.entries} entries and {done.objects} objects "
              f"({format_size(done.bytes)})")
        if options.remote:
            remote = _remote(settings, required=True)
            done = _guard(remote, lambda: gc.clear_remote(remote))
            print(f"remote cache {remote.shown}: removed {done.entries} entries and "
                  f"{done.objects} objects ({format_size(done.bytes)})")
        return 0
    remote = _remote(settings, required=True)
    stages = set(options.stage or ())
    if command == "push":
        return _guard(remote, lambda: _push(local, remote, stages))
    return _guard(remote, lambda: _pull(local, remote, stages))


def _status(local: LocalCache, settings: CacheSettings) -> int:
    usage = gc.local_usage(local)
    print(f"local cache {local.root}: {len(usage.entries)} entries, {len(usage.objects)} "
          f"objects, {format_size(usage.total)} of {format_size(settings.max_size)}")
    remote = _remote(settings, required=False)
    if remote is None:
        print("remote cache: none configured (KENNING_TASKS_REMOTE_CACHE or [cache] remote "
              "in kenning-tasks.toml)")
        return 0
    try:
        listed = remote.listing("runs")
        objects = remote.listing("objects")
    except RemoteUnavailable as error:
        print(f"remote cache {remote.shown}: unreachable ({error})")
        return 1
    there = {(stage, key) for stage, key, _ in iter_entries(listed)}
    here = set(usage.entries)
    print(f"remote cache {remote.shown}: {len(there)} entries, {len(objects)} objects, "
          f"{format_size(sum(size for size, _ in objects.values()))}; "
          f"{len(here - there)} entries only local, {len(there - here)} only remote")
    return 0


def _push(local: LocalCache, remote: RemoteCache, stages: set[str]) -> int:
    there = {(stage, key) for stage, key, _ in iter_entries(remote.listing("runs"))}
    pushed = skipped = damaged = sent = 0
    for stage, key, path in local.entry_files():
        if stages and stage not in stages:
            continue
        if (stage, key) in there:
            skipped += 1
            continue
        with local.using():
            try:
                manifest = entries.parse(path.read_bytes(), stage, key)
            except (DamagedEntry, LegacyEntry, FileNotFoundError):
                damaged += 1
                continue
            if not all(local.has_object(o.sha256, o.size) for o in manifest.outputs.values()):
                damaged += 1  # never spread a damaged object; the next run replaces it
                continue
            sent += remote.push(manifest, local.object_file)
        pushed += 1
    print(f"pushed {pushed} entries ({format_size(sent)}) to {remote.shown}; {skipped} were "
          f"already there" + (f"; {damaged} damaged or incomplete local entries skipped"
                              if damaged else ""))
    return 0


def _pull(local: LocalCache, remote: RemoteCache, stages: set[str]) -> int:
    pulled = skipped = refused = 0
    for stage, key, _ in sorted(iter_entries(remote.listing("runs"))):
        if stages and stage not in stages:
            continue
        with local.using():
            if local.read_entry(stage, key, None, _print) is not None:
                skipped += 1
                continue
            manifest = run_cache.fetch_entry(remote, local, stage, key, None, _print)
            if manifest is None:
                refused += 1
                continue
            local.write_entry(manifest)
        pulled += 1
    print(f"pulled {pulled} entries from {remote.shown}; {skipped} were already here"
          + (f"; {refused} damaged or incomplete remote entries refused" if refused else ""))
    return 0 if not refused else 1


def _remote(settings: CacheSettings, required: bool) -> RemoteCache | None:
    if settings.remote is None:
        if required:
            raise KenningTasksError("no remote cache configured: set KENNING_TASKS_REMOTE_CACHE "
                                    "or [cache] remote in kenning-tasks.toml")
        return None
    return RemoteCache(settings.remote, settings.remote_options, settings.remote_timeout_s)


def _guard(remote: RemoteCache, action: Callable[[], T]) -> T:
    """``action()``, with an unreachable remote as one line (an explicit command fails)."""
    try:
        return action()
    except RemoteUnavailable as error:
        raise KenningTasksError(f"remote cache {remote.shown} unreachable ({error})") from None


def _print(message: str) -> None:
    print(message)


def format_size(size: float) -> str:
    if size < 1000:
        return f"{size:.0f} B"
    for unit in ("kB", "MB", "GB"):
        size /= 1000
        if size < 1000 or unit == "GB":
            break
    return f"{size:.1f} {unit}"


def format_age(seconds: float) -> str:
    for unit, length in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= length:
            return f"{seconds / length:g}{unit}"
    return f"{seconds:g}s"
