"""A Cortex-M board simulated by QEMU, running our bare-metal firmware."""

from __future__ import annotations

from typing import Any

from kenning_tasks.mcu.boards import board_names
from kenning_tasks.params import Param
from kenning_tasks.platforms.base import (
    FIRMWARE_BUILD_PARAMETERS,
    Platform,
    check_board,
    check_build_options,
)


class QEMUPlatform(Platform):
    """Bare-metal firmware on a QEMU Cortex-M board of platforms.yml, over UART."""

    TARGET_STAGES = ("firmware", "simulate")
    ON_TARGET_RUNTIME = "MicroInt8Runtime"
    ON_TARGET_FLOAT_RUNTIME = "MicroFloat32Runtime"
    REQUIRES = ("pyserial",)
    PARAMETERS = (
        Param("board", str, "mps2-an386", "a platforms.yml board with a qemu_machine"),
        Param("timeout_s", float, 600.0, "limit for booting and streaming the test split",
              minimum=1.0, maximum=86_400.0),
        *FIRMWARE_BUILD_PARAMETERS,
    )

    @classmethod
    def check(cls, parameters: dict[str, Any], where: str) -> None:
        check_board(parameters["board"], board_names(emulated=True, runtime="baremetal"), where)
        check_build_options(parameters, where)
