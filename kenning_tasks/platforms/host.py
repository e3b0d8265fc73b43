"""The host machine: models run in-process, no firmware."""

from __future__ import annotations

from kenning_tasks.platforms.base import KENNING_PLATFORM_PARAMETERS, Platform


class HostPlatform(Platform):
    """This computer: the runtime runs in the evaluate stage's process."""

    REQUIRES = ()


class LocalPlatform(HostPlatform):
    """Kenning's local platform: this computer (the same as HostPlatform)."""

    # Kenning's parameters (kenning.platforms.local.LocalPlatform); ``name`` only labels the
    # platform, the model still runs here, as in Kenning.
    PARAMETERS = KENNING_PLATFORM_PARAMETERS
