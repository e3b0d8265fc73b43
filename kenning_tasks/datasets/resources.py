"""Data files and archives from a local path or an http(s)/file URI, through a resource cache.

- A **local path** (relative paths are resolved against the scenario file's folder) is read in
  place; its bytes are an input of the dataset stage (content-hashed by doit), so ``sha256`` is
  optional for it and, when given, checked.
- A **remote URI** is downloaded into the resource cache (``$KENNING_TASKS_RESOURCES``, default
  ``~/.cache/kenning-tasks/resources``). With ``sha256`` the download is written to a temporary
  file, verified and only then renamed into ``<cache>/<sha256>/``, so a wrong or truncated
  download never looks complete; without it, one warning line says the download is unverified
  and a changed remote file will not rerun the stage (Kenning's own URLs carry no sha256).
- An **archive** (``.tar``, ``.tar.gz``/``.tgz``, ``.zip``) is unpacked once into a folder next
  to it, through a temporary folder renamed into place; members that would land outside it are
  refused.

Checks run before any hashing, so a directory or a device (``/dev/zero``) is a one-line error and
never a hang.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import stat
import tarfile
import tempfile
import time
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path

from kenning_tasks import live_progress
from kenning_tasks.artifacts import apply_umask, sha256_file
from kenning_tasks.errors import KenningTasksError, StageError

CACHE_ENV = "KENNING_TASKS_RESOURCES"
REMOTE_SCHEMES = ("http", "https", "kenning")
# Kenning's resource URIs, resolved as Kenning's ResourceManager does.
KENNING_RESOURCES = "https://dl.antmicro.com/kenning/"
ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".zip")
Log = Callable[[str], None]


def resource_cache_dir() -> Path:
    """``$KENNING_TASKS_RESOURCES`` or ``~/.cache/kenning-tasks/resources``."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "kenning-tasks" / "resources"


def is_uri(source: str) -> bool:
    return urllib.parse.urlparse(source).scheme in {*REMOTE_SCHEMES, "file"}


def is_remote(source: str) -> bool:
    return urllib.parse.urlparse(source).scheme in REMOTE_SCHEMES


def download_url(source: str) -> str:
    """The http(s) address of a remote source (``kenning:///x`` is Kenning's server)."""
    parsed = urllib.parse.urlparse(source)
    if parsed.scheme == "kenning":
        return KENNING_RESOURCES + (parsed.netloc + parsed.path).lstrip("/")
    return source


def local_path(source: str, base_dir: Path | None) -> Path:
    """The file a local path or ``file://`` URI names; relative paths start at ``base_dir``."""
    parsed = urllib.parse.urlparse(source)
    path = Path(urllib.parse.unquote(parsed.path)) if parsed.scheme == "file" else Path(source)
    path = path.expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return path


def check_local_file(path: Path, where: str,
                     error: type[KenningTasksError] = StageError) -> None:
    """One line unless ``path`` is an existing regular file (stat only: never reads it)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise error(f"{where}: file {path} does not exist") from None
    except OSError as failure:
        raise error(f"{where}: cannot read {path}: {failure.strerror}") from None
    if stat.S_ISDIR(mode):
        raise error(f"{where}: {path} is a directory; expected a file")
    if not stat.S_ISREG(mode):
        raise error(f"{where}: {path} is not a regular file (a device, pipe or socket)")


def check_local_dir(path: Path, where: str,
                    error: type[KenningTasksError] = StageError) -> None:
    if not path.is_dir():
        what = "is not a directory" if path.exists() else "does not exist"
        raise error(f"{where}: {path} {what}")


def fetch(source: str, sha256: str | None, where: str, base_dir: Path | None = None,
          log: Log | None = None, timeout_s: float = 60.0, force: bool = False) -> Path:
    """A local file for ``source``: the file itself, or a download in the resource cache.

    ``where`` names the scenario key in errors (``dataset.parameters.csv_file``); ``force``
    downloads again even when the cache holds the file.
    """
    if not is_remote(source):
        path = local_path(source, base_dir)
        check_local_file(path, where)
        if sha256:
            _verify(path, sha256, where, source)
        return path
    name = Path(urllib.parse.urlparse(source).path).name
    if name in ("", ".", ".."):  # http://host/.. must not name the cache folder itself
        name = "resource"
    if sha256:
        cached = resource_cache_dir() / sha256.lower() / name
        if not force and cached.is_file() and sha256_file(cached) == sha256.lower():
            return cached
    else:
        (log or _stderr)(f"warning: {where}: {source} has no sha256; the download is not "
                         "verified and a changed remote file will not rerun this stage")
        key = "url-" + hashlib.sha256(source.encode()).hexdigest()[:32]
        cached = resource_cache_dir() / key / name
        if not force and cached.is_file():
            return cached
    _download(source, cached, sha256, where, log or _stderr, timeout_s)
    return cached


def fetch_archive(source: str, sha256: str | None, where: str, base_dir: Path | None = None,
                  log: Log | None = None, force: bool = False) -> Path:
    """The folder an archive unpacks to (unpacked once, next to the cached archive)."""
    archive = fetch(source, sha256, where, base_dir, log, force=force)
    if not archive.name.endswith(ARCHIVE_SUFFIXES):
        raise StageError(f"{where}: {source} is not an archive ("
                         + ", ".join(ARCHIVE_SUFFIXES) + ")")
    if is_remote(source):
        target = archive.parent / (archive.name + ".unpacked")
    else:  # a local archive: unpack into the cache, keyed by its content
        target = resource_cache_dir() / sha256_file(archive) / (archive.name + ".unpacked")
    if target.is_dir() and not force:
        return target
    shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    (log or _stderr)(f"unpacking {archive.name}")
    work = Path(tempfile.mkdtemp(prefix=f".{archive.name}.", dir=target.parent))
    try:
        _unpack(archive, work, where)
        os.replace(work, target)
    except (OSError, tarfile.TarError, zipfile.BadZipFile) as failure:
        raise StageError(f"{where}: cannot unpack {source}: {failure}") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def _download(source: str, cached: Path, sha256: str | None, where: str, log: Log,
              timeout_s: float) -> None:
    cached.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{cached.name}.", dir=cached.parent)
    tmp = Path(tmp_name)
    apply_umask(tmp)  # mkstemp's 0600 would keep a shared resource cache private
    try:
        with (os.fdopen(fd, "wb") as out,
              urllib.request.urlopen(download_url(source), timeout=timeout_s) as src):
            _copy_with_progress(src, out, source, where, log)
        if sha256:
            _verify(tmp, sha256, where, source)
        os.replace(tmp, cached)
    except OSError as failure:
        raise StageError(f"{where}: cannot download {source}: {failure}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        with contextlib.suppress(OSError):
            cached.parent.rmdir()  # only succeeds when nothing was kept


def _copy_with_progress(src: object, out: object, source: str, where: str, log: Log) -> None:
    """Copy the response with live progress (a bar on a terminal, lines in a log).

    A reply cut short is an error: with a Content-Length, ``http.client`` just stops reading
    (so fewer bytes than announced is checked here); a chunked reply raises IncompleteRead.
    """
    import http.client

    total = int(getattr(src, "headers", {}).get("Content-Length") or 0)
    done, started = 0, time.monotonic()
    log(f"downloading {source}" + (f" ({_size(total)})" if total else ""))
    chunks = iter(lambda: src.read(1 << 16), b"")  # type: ignore[attr-defined]
    try:
        for chunk in live_progress.each(chunks, f"downloading {Path(source).name}",
                                        total=total or None, weight=len, unit="B"):
            out.write(chunk)  # type: ignore[attr-defined]
            done += len(chunk)
    except http.client.IncompleteRead as cut:
        done += len(cut.partial)
        raise StageError(f"{where}: cannot download {source}: connection closed after "
                         f"{done} bytes, in the middle of a chunked reply") from None
    except http.client.HTTPException as failure:
        raise StageError(f"{where}: cannot download {source}: {type(failure).__name__} after "
                         f"{done} bytes") from None
    if total and done != total:
        raise StageError(f"{where}: cannot download {source}: connection closed after {done} "
                         f"of {total} bytes")
    log(f"downloaded {_size(done)} in {time.monotonic() - started:.1f} s")


def _size(count: int) -> str:
    return f"{count / (1 << 20):.1f} MiB" if count >= 1 << 20 else f"{count / 1024:.1f} KiB"


def _unpack(archive: Path, target: Path, where: str) -> None:
    root = target.resolve()
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as zipped:
            for member in zipped.namelist():
                _inside(root, member, where)
            zipped.extractall(target)
        return
    with tarfile.open(archive) as tarred:
        for member in tarred.getmembers():
            _inside(root, member.name, where)
            if member.issym() or member.islnk():
                raise StageError(f"{where}: {archive.name} holds a link ({member.name}); "
                                 "refusing to unpack it")
        tarred.extractall(target, filter="data")


def _inside(root: Path, member: str, where: str) -> None:
    if not (root / member).resolve().is_relative_to(root):
        raise StageError(f"{where}: archive member {member!r} would be written outside the "
                         "unpack folder; refusing it")


def _verify(path: Path, sha256: str, where: str, source: str) -> None:
    actual = sha256_file(path)
    if actual != sha256.lower():
        raise StageError(f"{where}: sha256 mismatch for {source}: expected {sha256}, got {actual}")


def _stderr(message: str) -> None:
    from kenning_tasks.progress import log

    log(message)
