"""The platform contract: which extra stages the target needs."""

from __future__ import annotations

from typing import ClassVar

from kenning_tasks.block import Block


class Platform(Block):
    """Base of platform blocks."""

    family = "platform"
    # Stages inserted between compile and evaluate for this platform, in order.
    TARGET_STAGES: ClassVar[tuple[str, ...]] = ()
