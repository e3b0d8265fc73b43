"""The local store: ``objects/`` by sha256, ``runs/<stage>/<key>.json`` entries, ``locks/``.

Everything is written through ``artifacts`` (temporary file + rename), so a killed writer never
leaves a file under its final name. Objects are checked on the way out: a restore copies an
object and hashes it in one pass, and a damaged object or entry is deleted, so the next store
replaces it. An entry's mtime is its last use (the size limit evicts least recently used).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

from kenning_tasks import artifacts
from kenning_tasks.cache import entries
from kenning_tasks.cache.entries import DamagedEntry, LegacyEntry, Manifest, Output

Log = Callable[[str], None]
CHUNK = 1 << 20


class LocalCache:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def entry_file(self, stage: str, key: str) -> Path:
        return self.root / entries.entry_path(stage, key)

    def object_file(self, digest: str) -> Path:
        return self.root / entries.object_path(digest)

    # -- locks -------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _flock(self, name: str, mode: int) -> Iterator[None]:
        path = self.root / "locks" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a") as handle:
            fcntl.flock(handle, mode)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def key_lock(self, stage: str, key: str) -> contextlib.AbstractContextManager[None]:
        """Held while a stage with this key is restored or run: parallel workers wait."""
        return self._flock(f"{stage}-{key}.lock", fcntl.LOCK_EX)

    def using(self) -> contextlib.AbstractContextManager[None]:
        """Held (shared) while entries are read or written, so eviction never races them."""
        return self._flock("gc.lock", fcntl.LOCK_SH)

    def collecting(self) -> contextlib.AbstractContextManager[None]:
        """Held (exclusive) while entries and objects are deleted."""
        return self._flock("gc.lock", fcntl.LOCK_EX)

    # -- entries -----------------------------------------------------------------------------

    def read_entry(self, stage: str, key: str, names: list[str] | None, log: Log
                   ) -> Manifest | None:
        """The intact entry, or None; a damaged one is reported, deleted and so replaced."""
        path = self.entry_file(stage, key)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            return entries.parse(data, stage, key, names)
        except LegacyEntry:
            return None  # an older version's entry: recomputed and overwritten, nothing to say
        except DamagedEntry as damage:
            log(f"run cache: {stage} entry {key[:12]} is damaged ({damage}); ignored, the "
                "recomputed result replaces it")
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            return None

    def write_entry(self, manifest: Manifest) -> None:
        artifacts.write_bytes(self.entry_file(manifest.stage, manifest.key), manifest.to_bytes())

    def touch(self, stage: str, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.utime(self.entry_file(stage, key))

    def entry_files(self) -> Iterator[tuple[str, str, Path]]:
        """``(stage, key, path)`` of every entry file."""
        runs = self.root / "runs"
        if not runs.is_dir():
            return
        for stage_dir in sorted(runs.iterdir()):
            if stage_dir.is_dir():
                for path in sorted(stage_dir.glob("*.json")):
                    yield stage_dir.name, path.stem, path

    # -- objects -----------------------------------------------------------------------------

    def has_object(self, digest: str, size: int) -> bool:
        """The object is present with the right size and hash."""
        path = self.object_file(digest)
        try:
            if path.stat().st_size != size:
                return False
        except FileNotFoundError:
            return False
        return artifacts.sha256_file(path) == digest

    def add_object(self, source: Path) -> Output:
        """Store ``source``'s bytes as an object (unless an intact copy is already there)."""
        digest, size = artifacts.sha256_file(source), source.stat().st_size
        if not self.has_object(digest, size):
            with artifacts.atomic_path(self.object_file(digest)) as tmp:
                shutil.copyfile(source, tmp)
            if not self.has_object(digest, size):
                raise OSError(f"{source} changed while it was being cached")
        return Output(digest, size)

    def copy_object(self, out: Output, destination: Path) -> bool:
        """Copy an object to ``destination`` while hashing it; False if missing or damaged.

        A damaged object is deleted, so the next store writes it again.
        """
        path = self.object_file(out.sha256)
        digest, size = hashlib.sha256(), 0
        try:
            with open(path, "rb") as src, open(destination, "wb") as dst:
                while chunk := src.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    dst.write(chunk)
        except FileNotFoundError:
            return False
        if digest.hexdigest() == out.sha256 and size == out.size:
            return True
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return False

    def object_files(self) -> Iterator[tuple[str, Path]]:
        """``(sha256, path)`` of every object file (temporaries excluded)."""
        objects = self.root / "objects"
        if not objects.is_dir():
            return
        for shard in sorted(objects.iterdir()):
            if shard.is_dir():
                for path in sorted(shard.iterdir()):
                    if not path.name.startswith("."):
                        yield path.name, path
