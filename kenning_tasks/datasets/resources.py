"""Fetch a data file from a local path or an http(s)/file URI into the resource cache.

Every resource is pinned by its sha256: a download is written to a temporary file, checked and
only then renamed into the cache, so a wrong or truncated download never looks complete.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path

from kenning_tasks.artifacts import apply_umask, sha256_file
from kenning_tasks.errors import StageError

CACHE_ENV = "KENNING_TASKS_RESOURCES"


def resource_cache_dir() -> Path:
    """``$KENNING_TASKS_RESOURCES`` or ``~/.cache/kenning-tasks/resources``."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "kenning-tasks" / "resources"


def is_uri(source: str) -> bool:
    return urllib.parse.urlparse(source).scheme in {"http", "https", "file"}


def fetch(source: str, sha256: str, where: str, timeout_s: float = 60.0) -> Path:
    """Return a verified local copy of ``source``; ``where`` names the scenario key for errors."""
    if not is_uri(source):
        path = Path(source).expanduser()
        if not path.is_file():
            raise StageError(f"{where}: file {path} does not exist")
        _verify(path, sha256, where, source)
        return path
    name = Path(urllib.parse.urlparse(source).path).name or "resource"
    cached = resource_cache_dir() / sha256 / name
    if cached.is_file() and sha256_file(cached) == sha256:
        return cached
    cached.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", dir=cached.parent)
    tmp = Path(tmp_name)
    apply_umask(tmp)  # mkstemp's 0600 would keep a shared resource cache private
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(source, timeout=timeout_s) as src:
            shutil.copyfileobj(src, out)
        _verify(tmp, sha256, where, source)
        os.replace(tmp, cached)
    except OSError as error:
        raise StageError(f"{where}: cannot download {source}: {error}") from error
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        with contextlib.suppress(OSError):
            cached.parent.rmdir()  # only succeeds when nothing was kept
    return cached


def _verify(path: Path, sha256: str, where: str, source: str) -> None:
    actual = sha256_file(path)
    if actual != sha256.lower():
        raise StageError(f"{where}: sha256 mismatch for {source}: expected {sha256}, got {actual}")
