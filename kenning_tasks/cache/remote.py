"""A remote store with the local store's layout, reached through fsspec.

``s3://bucket/prefix`` (s3fs), ``sftp://user@host:port/path`` (sshfs), ``file:///mnt/shared``
and any other fsspec protocol. Writers on several machines may share it:

- objects are immutable and named by their sha256, entries are written after their objects, so
  an entry that is visible names objects that were complete when it was written;
- every upload lands under its final name in one step: a single PUT on an object store (an
  object appears whole or not at all), an upload to ``tmp/`` and a rename elsewhere;
- every download is checked (size and sha256) before it is used.

Any failure to reach or use the remote raises ``RemoteUnavailable``; the run cache then goes
on with the local store alone (``run_cache`` says so once per run). Nothing printed names the
user info or query of the URL, nor any secret-looking fsspec option.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import multiprocessing
import os
import posixpath
import re
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from kenning_tasks import artifacts
from kenning_tasks.cache import entries
from kenning_tasks.cache.entries import Output
from kenning_tasks.cache.settings import CacheSettings, redact, redact_text
from kenning_tasks.errors import ConfigError

Log = Callable[[str], None]
# Object stores, where one PUT is atomic; elsewhere an upload goes to tmp/ and is renamed.
ATOMIC_PUT = {"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "adl", "oss", "r2"}
_SECRET_OPTION = re.compile(r"secret|password|passphrase|token|key$|credential", re.I)
OFFLINE_MARKER = "remote-offline.json"


class RemoteUnavailable(Exception):
    """The remote could not be reached or used; the message is safe to print."""


class _Rejected(Exception):
    """A downloaded object does not have the size or sha256 its entry names."""


class RemoteCache:
    def __init__(self, url: str, options: dict[str, Any], timeout_s: float) -> None:
        self.url = url
        self.shown = redact(url)
        self.secrets = tuple(str(v) for k, v in options.items()
                             if isinstance(v, str) and _SECRET_OPTION.search(k))
        self.offline = False
        self.damaged: set[str] = set()  # objects found damaged: the next push replaces them
        import fsspec

        protocol = fsspec.core.split_protocol(url)[0] or "file"
        try:
            cls = fsspec.get_filesystem_class(protocol)
        except ValueError:
            raise ConfigError(f"remote cache {self.shown}: unknown protocol {protocol!r}"
                              ) from None
        except ImportError as error:
            raise ConfigError(f"remote cache {self.shown}: the {protocol} protocol needs a "
                              f"package that is not installed ({error})") from None
        self.protocol = protocol
        self.atomic_put = protocol in ATOMIC_PUT
        self._options = _with_defaults(cls, protocol, options, timeout_s)
        self._fs: Any = None
        self._base = ""

    # -- low level: every call goes through _call ----------------------------------------------

    def _call(self, operation: Callable[[Any], Any], missing_ok: bool = True) -> Any:
        """Run ``operation(fs)``; FileNotFoundError passes through if ``missing_ok``."""
        try:
            if self._fs is None:
                import fsspec

                self._fs, self._base = fsspec.core.url_to_fs(self.url, **self._options)
                self._base = self._base.rstrip("/")
            return operation(self._fs)
        except FileNotFoundError as error:
            if missing_ok:
                raise
            unavailable: Exception = error
        except Exception as error:
            unavailable = error
        message = redact_text(f"{type(unavailable).__name__}: {unavailable}".strip(),
                              self.secrets)
        raise RemoteUnavailable(message.splitlines()[0][:300]) from None

    def path(self, relative: str) -> str:
        return f"{self._base}/{relative}" if relative else self._base

    def read(self, relative: str) -> bytes | None:
        """A small file's bytes, or None when it does not exist."""
        try:
            return self._call(lambda fs: fs.cat_file(self.path(relative)))
        except FileNotFoundError:
            return None

    def size(self, relative: str) -> int | None:
        try:
            info = self._call(lambda fs: fs.info(self.path(relative)))
        except FileNotFoundError:
            return None
        return info.get("size")

    def write(self, relative: str, data: bytes | None = None, source: Path | None = None
              ) -> None:
        """Upload ``data`` or the file ``source`` so that it appears whole or not at all."""
        def upload(fs: Any, target: str) -> None:
            if source is not None:
                fs.put_file(str(source), target)
            else:
                fs.pipe_file(target, data)

        def operation(fs: Any) -> None:
            final = self.path(relative)
            if self.atomic_put:
                upload(fs, final)
                return
            staging = self.path(f"tmp/{uuid.uuid4().hex}")
            fs.makedirs(posixpath.dirname(staging), exist_ok=True)
            fs.makedirs(posixpath.dirname(final), exist_ok=True)
            try:
                upload(fs, staging)
                fs.mv(staging, final)
            except BaseException:
                with contextlib.suppress(Exception):
                    fs.rm_file(staging)
                raise
        self._call(operation, missing_ok=False)

    def listing(self, relative: str) -> dict[str, tuple[int, float]]:
        """``{path relative to the root: (size, modified as a Unix time)}`` below ``relative``."""
        try:
            found = self._call(lambda fs: fs.find(self.path(relative), detail=True))
        except FileNotFoundError:
            return {}
        result = {}
        for name, info in found.items():
            if info.get("type") == "directory":
                continue
            relative_name = name[len(self._base):].lstrip("/") if name.startswith(
                self._base) else name
            result[relative_name] = (int(info.get("size") or 0), _modified(info))
        return result

    def remove(self, relatives: list[str]) -> None:
        if relatives:
            self._call(lambda fs: fs.rm([self.path(r) for r in relatives]), missing_ok=False)

    # -- entries and objects -------------------------------------------------------------------

    def fetch_object(self, out: Output, destination: Path) -> str:
        """Download an object to ``destination`` (the local store): ``"ok"``, ``"missing"``
        or ``"damaged"`` (wrong size or sha256: nothing is kept)."""
        try:
            with artifacts.atomic_path(destination) as tmp:
                self._call(lambda fs: fs.get_file(self.path(entries.object_path(out.sha256)),
                                                  str(tmp)))
                if tmp.stat().st_size != out.size or artifacts.sha256_file(tmp) != out.sha256:
                    raise _Rejected
        except FileNotFoundError:
            return "missing"
        except _Rejected:
            self.damaged.add(out.sha256)
            return "damaged"
        return "ok"

    def push(self, manifest: entries.Manifest, object_file: Callable[[str], Path]) -> int:
        """Upload an entry: its missing (or damaged) objects first, the manifest last.

        Returns the number of bytes uploaded.
        """
        sent = 0
        for out in manifest.outputs.values():
            relative = entries.object_path(out.sha256)
            if out.sha256 not in self.damaged and self.size(relative) == out.size:
                continue
            self.write(relative, source=object_file(out.sha256))
            self.damaged.discard(out.sha256)
            sent += out.size
        self.write(entries.entry_path(manifest.stage, manifest.key), manifest.to_bytes())
        return sent


def _with_defaults(cls: Any, protocol: str, options: dict[str, Any], timeout_s: float
                   ) -> dict[str, Any]:
    """The options with bounded timeouts and safe defaults where the user set none."""
    from fsspec.config import conf  # FSSPEC_<PROTOCOL>_<OPTION> from the environment

    protocols = cls.protocol if isinstance(cls.protocol, tuple | list) else (cls.protocol,)
    merged: dict[str, Any] = {}
    for name in protocols:
        merged.update(conf.get(name, {}))
    merged.update(options)
    merged.setdefault("skip_instance_cache", True)  # one instance per RemoteCache, ours
    if protocol in ("s3", "s3a"):
        botocore = dict(merged.get("config_kwargs") or {})
        botocore.setdefault("connect_timeout", timeout_s)
        botocore.setdefault("read_timeout", max(timeout_s, 60.0))
        botocore.setdefault("retries", {"max_attempts": 2, "mode": "standard"})
        merged["config_kwargs"] = botocore
    elif protocol in ("sftp", "ssh"):
        merged.setdefault("timeout", timeout_s)
        merged.setdefault("connect_timeout", timeout_s)
        # sshfs turns host key checking off unless told otherwise; () is asyncssh's default,
        # ~/.ssh/known_hosts.
        merged.setdefault("known_hosts", ())
    return merged


def _modified(info: dict[str, Any]) -> float:
    for key in ("LastModified", "mtime", "last_modified", "updated", "modified", "created"):
        value = info.get(key)
        if isinstance(value, datetime.datetime):
            if value.tzinfo is None:
                value = value.replace(tzinfo=datetime.UTC)
            return value.timestamp()
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    return time.time()  # unknown: treat as new, so gc never removes it by mistake


# -- one remote per process, and "unreachable" said once per run -------------------------------

_REMOTES: dict[tuple[Any, ...], RemoteCache] = {}


def remote_cache(settings: CacheSettings, local_root: Path) -> RemoteCache | None:
    """The configured remote, or None (none configured, or found unreachable in this run)."""
    if settings.remote is None:
        return None
    key = (os.getpid(), settings.remote, settings.remote_timeout_s,
           json.dumps(settings.remote_options, sort_keys=True, default=str))
    remote = _REMOTES.get(key)
    if remote is None:
        remote = _REMOTES[key] = RemoteCache(settings.remote, settings.remote_options,
                                             settings.remote_timeout_s)
        if _offline_marker(local_root).get("run") == [_run_id(), _remote_id(remote)]:
            remote.offline = True  # another worker of this run found it unreachable
    return None if remote.offline else remote


def mark_offline(remote: RemoteCache, local_root: Path, error: RemoteUnavailable, log: Log
                 ) -> None:
    """Stop using ``remote`` for the rest of this run, saying so once."""
    if remote.offline:
        return
    remote.offline = True
    run = [_run_id(), _remote_id(remote)]
    if _offline_marker(local_root).get("run") == run:
        return
    log(f"remote cache {remote.shown} unreachable ({error}); this run uses the local cache only")
    with contextlib.suppress(OSError):
        artifacts.write_json(Path(local_root) / OFFLINE_MARKER, {"run": run})


def forget_remotes() -> None:
    """Drop this process's remote connections (tests, and after the settings changed)."""
    _REMOTES.clear()


def _offline_marker(local_root: Path) -> dict[str, Any]:
    try:
        return json.loads((Path(local_root) / OFFLINE_MARKER).read_text())
    except (OSError, ValueError):
        return {}


def _remote_id(remote: RemoteCache) -> str:
    return hashlib.sha256(remote.url.encode()).hexdigest()[:16]


def _run_id() -> list[int]:
    """The run's main process (doit's own, also in its ``-n`` workers): PID and start time."""
    parent = multiprocessing.parent_process()
    pid = parent.pid if parent is not None and parent.pid else os.getpid()
    try:  # the start time tells a reused PID apart
        started = int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[19])
    except (OSError, IndexError, ValueError):
        started = 0
    return [pid, started]


def iter_entries(listing: dict[str, tuple[int, float]]) -> Iterator[tuple[str, str, float]]:
    """``(stage, key, modified)`` of the entries in a listing of ``runs/``."""
    for name, (_, modified) in listing.items():
        parts = name.split("/")
        if len(parts) == 3 and parts[0] == "runs" and parts[2].endswith(".json"):
            yield parts[1], parts[2][:-5], modified
