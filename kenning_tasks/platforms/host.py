"""The host machine: models run in-process, no firmware."""

from __future__ import annotations

from kenning_tasks.platforms.base import Platform


class HostPlatform(Platform):
    """This computer: the runtime runs in the evaluate stage's process."""

    REQUIRES = ()
