"""The run cache's settings: environment variables over ``[cache]`` in ``kenning-tasks.toml``.

| setting | environment | config key | default |
|---|---|---|---|
| local folder | ``KENNING_TASKS_CACHE`` (``off`` disables the cache) | — | ``<project>/cache`` |
| remote | ``KENNING_TASKS_REMOTE_CACHE`` (``off`` disables it) | ``remote`` | none |
| fsspec options | ``FSSPEC_<PROTOCOL>_<OPTION>`` (fsspec's own) | ``[cache.remote_options]`` | none |
| remote timeout | — | ``remote_timeout`` (seconds) | 10 |
| local size limit | ``KENNING_TASKS_MAX_CACHE_SIZE`` | ``max_size`` | 50 GB |
| remote age limit (``cache gc --remote``) | — | ``remote_max_age`` | ``"30d"`` |

Sizes are bytes, or a number with a unit (``500MB``, ``2GiB``); ages a number with a unit
(``45s``, ``90m``, ``12h``, ``30d``, ``2w``).
"""

from __future__ import annotations

import math
import os
import re
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from kenning_tasks import config
from kenning_tasks.errors import ConfigError

REMOTE_ENV = "KENNING_TASKS_REMOTE_CACHE"
MAX_SIZE_ENV = "KENNING_TASKS_MAX_CACHE_SIZE"
DEFAULT_MAX_SIZE = 50_000_000_000  # Kenning's default for KENNING_MAX_CACHE_SIZE
DEFAULT_REMOTE_MAX_AGE = "30d"
DEFAULT_REMOTE_TIMEOUT_S = 10.0
KEYS = ("remote", "remote_options", "remote_timeout", "max_size", "remote_max_age")

_SIZE_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6,
               "g": 10**9, "gb": 10**9, "t": 10**12, "tb": 10**12, "kib": 2**10,
               "mib": 2**20, "gib": 2**30, "tib": 2**40}
_AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_NUMBER_UNIT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")


@dataclass(frozen=True)
class CacheSettings:
    remote: str | None  # an fsspec URL, or None
    remote_options: dict[str, Any] = field(default_factory=dict)
    remote_timeout_s: float = DEFAULT_REMOTE_TIMEOUT_S
    max_size: int = DEFAULT_MAX_SIZE
    remote_max_age_s: float = _AGE_UNITS["d"] * 30


def cache_settings() -> CacheSettings:
    """The settings in force for the current project and environment."""
    where = config.config_path().name
    table = config.section("cache")
    for key in table:
        if key not in KEYS:
            raise ConfigError(f"{where}: [cache] unknown key {key!r}; allowed: "
                              + ", ".join(KEYS))
    remote = _remote(os.environ.get(REMOTE_ENV), REMOTE_ENV)
    if os.environ.get(REMOTE_ENV) is None or os.environ[REMOTE_ENV].strip() == "":
        remote = _remote(_string(table, "remote", where), f"{where}: [cache] remote")
    options = table.get("remote_options", {})
    if not isinstance(options, dict):
        raise ConfigError(f"{where}: [cache] remote_options must be a table of fsspec options")
    timeout = table.get("remote_timeout", DEFAULT_REMOTE_TIMEOUT_S)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) \
            or not math.isfinite(timeout) or timeout <= 0:
        raise ConfigError(f"{where}: [cache] remote_timeout: {timeout!r} is not allowed; "
                          "allowed: a number of seconds > 0")
    env_size = os.environ.get(MAX_SIZE_ENV)
    if env_size:
        max_size = parse_size(env_size, MAX_SIZE_ENV)
    else:
        max_size = parse_size(table.get("max_size", DEFAULT_MAX_SIZE), f"{where}: [cache] max_size")
    max_age = parse_age(table.get("remote_max_age", DEFAULT_REMOTE_MAX_AGE),
                        f"{where}: [cache] remote_max_age")
    return CacheSettings(remote=remote, remote_options=dict(options),
                         remote_timeout_s=float(timeout), max_size=max_size,
                         remote_max_age_s=max_age)


def _string(table: dict[str, Any], key: str, where: str) -> str | None:
    value = table.get(key)
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{where}: [cache] {key} must be a string (an fsspec URL)")
    return value


def _remote(value: str | None, where: str) -> str | None:
    if value is None or value.strip() in ("", "off"):
        return None
    value = value.strip()
    scheme = urllib.parse.urlsplit(value).scheme
    if not scheme and not value.startswith("/"):
        raise ConfigError(f"{where}: {redact(value)!r} is not allowed; allowed: an URL such as "
                          "s3://bucket/prefix, sftp://host/path, file:///absolute/path, or off")
    return value


def parse_size(value: Any, where: str) -> int:
    """Bytes from an integer or a string such as ``500MB`` or ``2GiB``."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    match = _NUMBER_UNIT.match(value) if isinstance(value, str) else None
    if match and match[2].lower() in _SIZE_UNITS:
        size = int(float(match[1]) * _SIZE_UNITS[match[2].lower()])
        if size > 0:
            return size
    raise ConfigError(f"{where}: {value!r} is not allowed; allowed: a size > 0 in bytes or "
                      "with a unit (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB), e.g. 20GB")


def parse_age(value: Any, where: str) -> float:
    """Seconds from a string such as ``30d``, ``12h``, ``90m``, ``45s`` or ``2w``."""
    match = _NUMBER_UNIT.match(value) if isinstance(value, str) else None
    if match and match[2].lower() in _AGE_UNITS:
        return float(match[1]) * _AGE_UNITS[match[2].lower()]
    raise ConfigError(f"{where}: {value!r} is not allowed; allowed: a number with a unit "
                      "s, m, h, d or w, e.g. 30d")


_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s@]+@")


def redact(url: str) -> str:
    """``url`` safe to print: no user name, password, token or query string."""
    parts = urllib.parse.urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rpartition("@")[2]
    query = "***" if parts.query else ""
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def redact_text(text: str, secrets: tuple[str, ...] = ()) -> str:
    """An error message safe to print: URLs without user info, given secrets masked."""
    text = _USERINFO.sub(r"\g<scheme>***@", text)
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text
