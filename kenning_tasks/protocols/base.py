"""The protocol contract: the link parameters a target stage uses to reach the firmware."""

from __future__ import annotations

from kenning_tasks.block import Block


class Protocol(Block):
    """Base of protocol blocks."""

    family = "protocol"
