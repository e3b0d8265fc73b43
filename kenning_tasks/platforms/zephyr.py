"""A real board running the Zephyr build of the firmware, flashed with OpenOCD (Kenning's name).

Written against Zephyr's west and OpenOCD; neither a Zephyr workspace nor a board is available
on the machines this project is developed on, so this path is untested here.

Kenning's ``simulated`` defaults to true (Renode); Renode is not available here, so a
simulated ZephyrPlatform is refused in one line until a simulator stands in for it.
"""

from __future__ import annotations

from typing import Any

from kenning_tasks.errors import ScenarioError
from kenning_tasks.mcu.boards import board_names
from kenning_tasks.params import Param
from kenning_tasks.platforms.base import (
    FIRMWARE_BUILD_PARAMETERS,
    KENNING_BOARD_PARAMETERS,
    KENNING_PLATFORM_PARAMETERS,
    RENODE_REASON,
    Platform,
    check_build_options,
)
from kenning_tasks.problems import did_you_mean


class ZephyrPlatform(Platform):
    """Zephyr firmware (west build) on a real board, flashed with OpenOCD, over UART."""

    TARGET_STAGES = ("firmware", "flash")
    ON_TARGET_RUNTIME = "MicroInt8Runtime"
    ON_TARGET_FLOAT_RUNTIME = "MicroFloat32Runtime"
    REQUIRES = ("pyserial", "west")
    # Kenning's parameters and defaults (kenning.platforms.zephyr.ZephyrPlatform).
    PARAMETERS = (
        *KENNING_PLATFORM_PARAMETERS,
        *KENNING_BOARD_PARAMETERS,
        Param("zephyr_build_path", str, None, "Kenning: a prebuilt Kenning Zephyr runtime",
              nullable=True, only=(None,), only_reason="the firmware stage builds this "
              "project's Zephyr application (west build); nearest: null"),
        Param("llext_binary_path", str, None, "Kenning: Zephyr LLEXT binary", nullable=True,
              only=(None,), only_reason="the model is linked into the firmware (no LLEXT); "
              "nearest: null"),
        Param("sensors", list, None, "Kenning (Renode): simulated sensors", item_type=str,
              nullable=True, only=(None,), only_reason=RENODE_REASON + "; nearest: null"),
        Param("sensors_frequency", float, None, "Kenning (Renode): sensor data frequency",
              nullable=True, only=(None,), only_reason=RENODE_REASON + "; nearest: null"),
        # This project's former name of ``name``.
        Param("board", str, None, "the board (this project's former name of `name`)",
              nullable=True),
        *FIRMWARE_BUILD_PARAMETERS,
    )

    @classmethod
    def check(cls, parameters: dict[str, Any], where: str) -> None:
        allowed = board_names(runtime="zephyr")
        name, board = parameters["name"], parameters["board"]
        if name is not None and board is not None and name != board:
            raise ScenarioError(f"{where}.board: {board!r} differs from name {name!r}; give "
                                "the board once, as name")
        chosen = name or board
        if chosen is None:
            raise ScenarioError(f"{where}.name: missing; ZephyrPlatform needs a board; "
                                f"allowed: {', '.join(allowed)}")
        if chosen not in allowed:
            key = "name" if name is not None else "board"
            raise ScenarioError(f"{where}.{key}: {chosen!r} is not allowed; allowed: "
                                f"{', '.join(allowed)} (Zephyr boards of platforms.yml)"
                                + did_you_mean(chosen, allowed))
        check_build_options(parameters, where)
        if parameters["simulated"]:
            raise ScenarioError(
                f"{where}.simulated: true (Kenning's default) simulates the board in Renode; "
                f"{RENODE_REASON}: set simulated: false to flash the real {chosen}, or use "
                "QEMUPlatform (mps2-an386 is a Cortex-M4F) to simulate")

    @classmethod
    def complete(cls, parameters: dict[str, Any]) -> dict[str, Any]:
        return {**parameters, "board": parameters["name"] or parameters["board"]}
