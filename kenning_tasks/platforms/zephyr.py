"""A real board running the Zephyr build of the firmware, flashed with OpenOCD.

Written against Zephyr's west and OpenOCD; neither a Zephyr workspace nor a board is available
on the machines this project is developed on, so this path is untested here.
"""

from __future__ import annotations

from typing import Any

from kenning_tasks.params import Param
from kenning_tasks.platforms.base import Platform
from kenning_tasks.platforms.boards import board_names, check_board


class ZephyrPlatform(Platform):
    """Zephyr firmware (west build) on a real board, flashed with OpenOCD, over UART."""

    TARGET_STAGES = ("firmware", "flash")
    REQUIRES = ("pyserial", "west")
    PARAMETERS = (
        Param("board", str, "stm32f746g_disco", "a platforms.yml board with runtime zephyr"),
    )

    @classmethod
    def check(cls, parameters: dict[str, Any], where: str) -> None:
        check_board(parameters["board"], board_names(runtime="zephyr"), where)
