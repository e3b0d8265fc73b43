"""Has a file changed since we hashed it? A stat stamp first, the bytes when in doubt.

doit's default checker (and a plain size+mtime check) trusts a file whose size and mtime are
unchanged, so a replacement made with ``cp -p`` or ``rsync -t`` (or a restored backup) is never
noticed. As git's index and Bazel do, the stamp here is (size, mtime_ns, ctime_ns, inode): a
file rewritten in place or replaced keeps at most its size and mtime — ctime is set by the
kernel on every write, rename or metadata change and cannot be set back by a user, and a
replacement is a new inode. When the stamp differs the file is rehashed, so a touch costs a
hash and never a rerun (early cutoff).

What the stamp cannot see is bit rot (the disk changing bytes under an unchanged inode):
``python -m kenning_tasks verify`` rehashes every input and output for that.

A record is ``{"stamp": [size, mtime_ns, ctime_ns, inode], "sha256": hex}``; it is used both
for a stage's inputs (``StampChecker``, doit's ``check_file_uptodate``) and for the outputs a
stage wrote (``record_outputs`` / ``changed_outputs``, checked by ``signature.OutputsIntact``).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
from pathlib import Path
from typing import Any

from doit.dependency import FileChangedChecker

from kenning_tasks import artifacts
from kenning_tasks.artifacts import sha256_file

Record = dict[str, Any]


def stamp(stat: os.stat_result) -> list[int]:
    """(size, mtime_ns, ctime_ns, inode): what changes when a file is written or replaced."""
    return [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]


def record(path: Path | str) -> Record:
    """The stamp and sha256 of ``path`` (stat taken before hashing: a write racing the hash
    leaves a stamp that no longer matches, so the next check hashes again)."""
    current = stamp(os.stat(path))
    return {"stamp": current, "sha256": sha256_file(path)}


def recorded_digest(saved: Any) -> str | None:
    """The sha256 in a record, or None for a record of another format (an older version)."""
    return saved.get("sha256") if isinstance(saved, dict) else None


def differs(path: Path | str, saved: Any, stat: os.stat_result | None = None) -> bool:
    """Whether ``path``'s bytes differ from ``saved`` (hashing only when the stamp moved)."""
    try:
        stat = stat or os.stat(path)
    except FileNotFoundError:
        return True
    if not isinstance(saved, dict) or "stamp" not in saved:
        return True  # an older record format: the caller recomputes
    if stamp(stat) == saved["stamp"]:
        return False
    if stat.st_size != saved["stamp"][0]:
        return True
    return _MEMO.sha256(str(path), stamp(stat)) != saved["sha256"]


def record_outputs(paths: list[Path]) -> dict[str, Record]:
    """``{path: record}`` for the files a stage wrote (saved by doit with the task)."""
    return {str(path): record(path) for path in paths}


def changed_outputs(recorded: dict[str, Any]) -> list[str]:
    """Outputs that are missing or whose bytes differ from ``recorded``."""
    return [name for name, saved in recorded.items() if differs(name, saved)]


class HashMemo:
    """The sha256 of project files by stamp, kept across runs (``build/.hash-memo.json``).

    doit saves an input's record only when the task runs. After an upstream stage rewrote
    identical bytes (early cutoff), every later no-op run would rehash that input for each
    task reading it; the memo remembers "this stamp has this hash", so it is hashed once. A
    stamp changes with every write, so an entry can be outdated but never wrong (bit rot
    aside: ``verify`` always rehashes). Only files inside the project are memoised.
    """

    NAME = ".hash-memo.json"

    def __init__(self) -> None:
        self._entries: dict[str, list[Any]] | None = None
        self._file: Path | None = None
        self._root: str | None = None  # files under the project root are memoised
        self._dirty = False

    def sha256(self, path: str, current: list[int]) -> str:
        """``path``'s sha256: remembered for this stamp, or hashed (and remembered)."""
        entries = self._load()
        if not self._covers(path):
            return sha256_file(path)
        entry = entries.get(path)
        if entry is not None and entry[0] == current:
            return entry[1]
        digest = sha256_file(path)
        entries[path] = [current, digest]
        if not self._dirty:
            self._dirty = True
            atexit.register(self.save)
        return digest

    def save(self) -> None:
        """Write the memo (entries of files that still exist), atomically; best effort."""
        if not self._dirty or self._file is None or self._entries is None:
            return
        self._dirty = False
        kept = {name: value for name, value in self._entries.items() if os.path.exists(name)}
        with contextlib.suppress(OSError):
            artifacts.write_json(self._file, kept)

    def _covers(self, path: str) -> bool:
        return self._root is not None and path.startswith(self._root)

    def _load(self) -> dict[str, list[Any]]:
        if self._entries is None:
            from kenning_tasks.layout import layout

            self._file = layout().build / self.NAME
            self._root = f"{layout().root}{os.sep}"
            try:
                loaded = json.loads(self._file.read_text())
            except (OSError, ValueError):
                loaded = {}
            self._entries = loaded if isinstance(loaded, dict) else {}
        return self._entries


_MEMO = HashMemo()


class StampChecker(FileChangedChecker):
    """doit ``check_file_uptodate`` class: a stage's input changed when its bytes did."""

    def check_modified(self, file_path: str, file_stat: os.stat_result, state: Any) -> bool:
        return differs(file_path, state, file_stat)

    def get_state(self, dep: str, current_state: Any) -> Record | None:
        if current_state is not None and not _stamp_moved(dep, current_state):
            return None  # unchanged: doit keeps the saved record
        return record(dep)


def _stamp_moved(path: str, saved: Any) -> bool:
    if not isinstance(saved, dict) or "stamp" not in saved:
        return True
    return stamp(os.stat(path)) != saved["stamp"]
