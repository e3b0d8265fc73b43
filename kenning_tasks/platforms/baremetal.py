"""Kenning's BareMetalPlatform: a bare-metal board, here one of the QEMU boards of platforms.yml.

Kenning simulates bare-metal boards in Renode; this project's bare-metal boards are QEMU
machines (``qemu_machine`` in platforms.yml), so ``simulated: true`` runs the firmware in QEMU
exactly as QEMUPlatform does. No real bare-metal board is declared, so ``simulated: false`` is
refused rather than run somewhere else.
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
    check_build_options,
)
from kenning_tasks.platforms.qemu import QEMUPlatform
from kenning_tasks.problems import did_you_mean


class BareMetalPlatform(QEMUPlatform):
    """Kenning's bare-metal board: our firmware on a QEMU board of platforms.yml."""

    PARAMETERS = (
        *KENNING_PLATFORM_PARAMETERS,
        *KENNING_BOARD_PARAMETERS,
        # This project's extra.
        Param("timeout_s", float, 600.0, "limit for booting and streaming the test split",
              minimum=1.0, maximum=86_400.0),
        *FIRMWARE_BUILD_PARAMETERS,
    )

    @classmethod
    def check(cls, parameters: dict[str, Any], where: str) -> None:
        allowed = board_names(emulated=True, runtime="baremetal")
        name = parameters["name"]
        if name is None:
            raise ScenarioError(f"{where}.name: missing; BareMetalPlatform needs a board; "
                                f"allowed: {', '.join(allowed)}")
        if name not in allowed:
            raise ScenarioError(f"{where}.name: {name!r} is not allowed; allowed: "
                                f"{', '.join(allowed)} (bare-metal boards of platforms.yml)"
                                + did_you_mean(name, allowed))
        if not parameters["simulated"]:
            raise ScenarioError(
                f"{where}.simulated: false is not supported: platforms.yml declares no real "
                f"bare-metal board ({name} is a QEMU machine); nearest: simulated: true, or "
                "ZephyrPlatform with simulated: false for a real board")
        check_build_options(parameters, where)
        if parameters["uart_port"] is not None:
            raise ScenarioError(f"{where}.uart_port: QEMU is reached through its own socket; "
                                "remove uart_port (it names a real board's serial port)")

    @classmethod
    def complete(cls, parameters: dict[str, Any]) -> dict[str, Any]:
        return {**parameters, "board": parameters["name"]}
