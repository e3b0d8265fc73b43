"""Atomic artifact writing, content hashing and the file modes artifacts get.

Every file a stage produces goes through these helpers: the bytes are written to a temporary
file in the same directory and renamed into place, so an interrupted stage never leaves a file
that looks complete. The temporary's name carries the writer's PID, so a later run can tell
the leftovers of a killed writer (``remove_stale_temporaries``) from a live writer's files.
Files get the mode the umask gives (0644 under umask 022), not ``mkstemp``'s 0600: caches and
reports are shared between users, CI runners and web servers.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# ".<target name>.<writer PID>.<mkstemp's 8 characters><suffix>"
_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[a-z0-9_]{8}(?P<suffix>(?:\.[^.]*)?)$")
# The same without a PID, as written before the PID was part of the name. The suffix is
# empty or one extension (mkstemp's), so names like `.graph-cache.distributions.json` never match.
_OLD_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.[a-z0-9_]{8}(?P<suffix>(?:\.[^.]*)?)$")


def umask() -> int:
    """The process's umask, read without changing it (``os.umask`` can only set it)."""
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status") as status:
        for line in status:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)  # no /proc: set and restore (briefly process-wide)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """The mode a new regular file gets under the current umask (0o644 under 022)."""
    return 0o666 & ~umask()


def apply_umask(path: Path | str) -> None:
    """Give a file made by ``mkstemp`` (always 0600) the mode the umask asks for."""
    os.chmod(path, file_mode())


@contextlib.contextmanager
def atomic_path(target: Path | str, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; rename it onto ``target`` on success.

    Use it for writers that need a file name (``model.save(path)``, compilers). The temporary
    file keeps ``target``'s suffix unless ``suffix`` is given, because several libraries pick
    the format from the extension.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{target.name}.{os.getpid()}.",
        suffix=suffix if suffix is not None else target.suffix, dir=target.parent,
    )
    try:
        os.fchmod(fd, file_mode())
    finally:
        os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def is_temporary(path: Path) -> bool:
    """Whether ``path``'s name is one ``atomic_path`` gives its temporaries."""
    return bool(_TEMPORARY.match(path.name) or _OLD_TEMPORARY.match(path.name))


def remove_stale_temporaries(folder: Path | str, min_age_s: float = 0.0) -> list[Path]:
    """Delete the ``atomic_path`` temporaries under ``folder`` whose writer has died.

    A writer killed by SIGKILL (or the OOM killer) leaves e.g. ``.firmware.elf.4242.k3j2l1x0.elf``
    behind. A temporary is stale when the PID in its name is no longer running (or it has no
    PID: an older version wrote it) and it is older than ``min_age_s`` — use a margin for a
    folder other hosts may write (a shared cache), where a PID says nothing. Call it at the
    start of the stage that owns ``folder``. Returns the paths removed.
    """
    removed = []
    now = time.time()
    for path in sorted(Path(folder).rglob(".*")):
        match = _TEMPORARY.match(path.name)
        if match is None and _OLD_TEMPORARY.match(path.name) is None:
            continue
        if match is not None and _running(int(match["pid"])):
            continue
        try:
            if now - path.lstat().st_mtime < min_age_s:
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
        except FileNotFoundError:
            continue
        removed.append(path)
    return removed


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's live process
    except OverflowError:
        return False
    return True


def write_bytes(target: Path | str, data: bytes) -> Path:
    """Atomically write ``data`` to ``target``."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def write_text(target: Path | str, text: str) -> Path:
    """Atomically write UTF-8 ``text`` to ``target``."""
    return write_bytes(target, text.encode("utf-8"))


def write_json(target: Path | str, obj: Any) -> Path:
    """Atomically write ``obj`` as stable, indented JSON (sorted keys, trailing newline)."""
    text = json.dumps(obj, indent=2, sort_keys=True, default=_json_default)
    return write_text(target, text + "\n")


def _json_default(obj: Any) -> Any:
    # numpy scalars and arrays show up in measurements; convert without importing numpy here.
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot serialise {type(obj).__name__} to JSON")


def hash_file(path: Path | str, algorithm: str = "sha256", chunk_size: int = 1 << 20) -> str:
    """Hex digest of a file's bytes (``algorithm`` as hashlib names it)."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_file(path: Path | str) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hash_file(path, "sha256")
