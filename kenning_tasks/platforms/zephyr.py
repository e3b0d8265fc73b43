"""Kenning's ZephyrPlatform: a real board running Zephyr, or that board simulated.

- ``simulated: false``: the Zephyr build of the firmware (``west build`` in a Zephyr
  workspace) flashed with OpenOCD and driven over the board's UART. Written against west and
  OpenOCD; neither a Zephyr workspace nor a board is available on the machines this project
  is developed on, so this path is untested here, and a missing west or workspace is one line
  from the firmware stage (after the model's flash/RAM fit check, which needs only gcc).
- ``simulated: true`` (Kenning's default) is Renode in Kenning; Renode is not available here,
  so the board's QEMU stand-in of platforms.yml (``qemu_board``: a bare-metal QEMU board with
  the same core) runs the bare-metal firmware built with the real part's compiler flags and
  checked against the real part's flash and RAM (``mcu.boards.simulated_board``). The firmware
  and simulate stages say so in one line. A board without a stand-in is a one-line error.
"""

from __future__ import annotations

from typing import Any

from kenning_tasks.errors import ScenarioError
from kenning_tasks.mcu.boards import Board, board_names, get_board
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
    """Zephyr firmware on a real board (west, OpenOCD, UART), or simulated in QEMU."""

    TARGET_STAGES = ("firmware", "flash")
    SIMULATED_STAGES = ("firmware", "simulate")
    ON_TARGET_RUNTIME = "MicroInt8Runtime"
    ON_TARGET_FLOAT_RUNTIME = "MicroFloat32Runtime"
    REQUIRES = ("pyserial", "west")
    # Kenning's parameters and defaults (kenning.platforms.zephyr.ZephyrPlatform).
    PARAMETERS = (
        *KENNING_PLATFORM_PARAMETERS,
        *KENNING_BOARD_PARAMETERS,
        Param("zephyr_build_path", str, None, "Kenning: the folder of a prebuilt Kenning Zephyr "
              "runtime; not read here: the firmware stage builds this project's firmware for "
              "the model", nullable=True),
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
        Param("timeout_s", float, 600.0, "kenning-tasks: limit for booting and streaming the "
              "test split (simulated)", minimum=1.0, maximum=86_400.0),
        *FIRMWARE_BUILD_PARAMETERS,
    )

    @classmethod
    def target_stages(cls, parameters: dict[str, Any]) -> tuple[str, ...]:
        return cls.SIMULATED_STAGES if parameters.get("simulated") else cls.TARGET_STAGES

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
        if parameters["simulated"] and get_board(chosen).qemu_board is None:
            simulatable = [b for b in allowed if get_board(b).qemu_board]
            raise ScenarioError(
                f"{where}.simulated: true simulates {chosen} (Renode in Kenning; {RENODE_REASON}"
                f"), but platforms.yml gives it no qemu_board with its core; set simulated: "
                f"false to flash the real board, or simulate {', '.join(simulatable)}")

    @classmethod
    def complete(cls, parameters: dict[str, Any]) -> dict[str, Any]:
        return {**parameters, "board": parameters["name"] or parameters["board"]}

    @classmethod
    def board(cls, parameters: dict[str, Any]) -> Board | None:
        """The real board, or, when ``simulated``, its QEMU stand-in with the part's flags and
        limits (what the firmware and simulate stages build for and run on)."""
        from kenning_tasks.mcu.boards import simulated_board

        board = super().board(parameters)
        return simulated_board(board) if board is not None and parameters["simulated"] else board


def simulation_line(parameters: dict[str, Any]) -> str | None:
    """What a simulated run says first: which board runs where, and why not Renode."""
    from kenning_tasks.mcu.boards import core_name, simulated_board

    if not parameters.get("simulated"):
        return None
    real = get_board(parameters["board"])
    stand_in = simulated_board(real)
    return (f"simulating {real.name} ({core_name(real)}, flash {real.flash_size_kb} KiB, RAM "
            f"{real.ram_size_kb} KiB) on QEMU {stand_in.qemu_machine}: Renode is not available")
