"""Split a scenario selection across CI jobs: ``--shard i/n`` (1-based).

A scenario file lands on shard ``1 + sha256(name) mod n``: the assignment depends on the
scenario's own name only, so it is the same in every job and every pipeline, and adding or
removing another scenario never moves it (its warm remote-cache entries stay where they are
used). A grid-search file is one unit (its variants share dataset and train). With many
scenarios the shards are near even; a shard may be empty, which is a successful no-op.

Set by ``kenning-tasks run --shard i/n`` or ``KENNING_TASKS_SHARD=i/n`` (also for plain
``doit``); ``scenario_files.select_scenarios`` applies it.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from kenning_tasks.errors import ConfigError

SHARD_ENV = "KENNING_TASKS_SHARD"
_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def parse(text: str, where: str = SHARD_ENV) -> tuple[int, int]:
    """``"2/4"`` → ``(2, 4)``; anything else is a one-line error."""
    match = _SHARD.match(text)
    index, count = (int(match.group(1)), int(match.group(2))) if match else (0, 0)
    if not match or count < 1 or not 1 <= index <= count:
        raise ConfigError(f"{where}: {text!r} is not a shard; allowed: i/n with "
                          "1 <= i <= n, e.g. 1/4")
    return index, count


def shard_of(name: str, count: int) -> int:
    """The shard (1-based) a scenario named ``name`` belongs to."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return 1 + int.from_bytes(digest[:8], "big") % count


def select(paths: list[Path], shard: tuple[int, int] | None) -> list[Path]:
    if shard is None:
        return paths
    index, count = shard
    return [p for p in paths if shard_of(p.stem, count) == index]


def requested() -> tuple[int, int] | None:
    value = os.environ.get(SHARD_ENV, "").strip()
    return parse(value) if value else None
