"""The platform contract: which extra stages the target needs, and Kenning's shared parameters."""

from __future__ import annotations

from typing import Any, ClassVar

from kenning_tasks.block import Block
from kenning_tasks.params import Param

RENODE_REASON = ("Renode is not available here (no package in any registry); QEMU runs the "
                 "simulated boards")

# Kenning's parameters of every platform (kenning.core.platform.Platform).
KENNING_PLATFORM_PARAMETERS = (
    Param("name", str, None, "Kenning: the board, a platforms.yml entry", nullable=True),
    Param("platforms_definitions", list, None, "Kenning: platform definition files",
          item_type=str, nullable=True, only=(None,),
          only_reason="boards come from platforms.yml (a project's own platforms.yml replaces "
          "the bundled one); nearest: null"),
)


def _renode_only(name: str, description: str) -> Param:
    return Param(name, (str, list), None, f"Kenning (Renode): {description}", nullable=True,
                 only=(None,), only_reason=RENODE_REASON + "; nearest: null")


# Kenning's parameters of simulatable bare-metal boards (SimulatablePlatform and
# BareMetalPlatform); the Renode-only ones are accepted at their defaults.
KENNING_BOARD_PARAMETERS = (
    Param("simulated", bool, True, "Kenning: simulate the board instead of using the real one"),
    Param("runtime_binary_path", str, None, "Kenning: a prebuilt runtime binary",
          nullable=True, only=(None,), only_reason="the firmware stage builds the firmware "
          "from the model; nearest: null"),
    _renode_only("platform_resc_path", "platform script"),
    _renode_only("resc_dependencies", "platform script dependencies"),
    _renode_only("post_start_commands", "commands after the machine starts"),
    _renode_only("profiler_dump_path", "profiler dump"),
    Param("disable_opcode_counters", bool, False, "Kenning (Renode): opcode counters are not "
          "collected here either way"),
    Param("disable_profiler", bool, False, "Kenning (Renode): the Renode profiler is not run "
          "here either way"),
    Param("profiler_interval_step", float, 10.0, "Kenning (Renode): profiler interval in ms"),
    Param("runtime_init_log_msg", str, None, "Kenning: log line the runtime prints when ready "
          "(the firmware is ready when it answers a PING here)", nullable=True),
    Param("runtime_init_timeout", int, 30, "Kenning: seconds to wait for the runtime to start",
          minimum=1),
    Param("uart_port", str, None, "Kenning: the board's serial port (real boards)",
          nullable=True),
    Param("uart_baudrate", int, None, "Kenning: baud rate; null takes platforms.yml's",
          nullable=True, minimum=300, maximum=12_000_000),
    Param("uart_log_port", str, None, "Kenning: a second UART for logs", nullable=True,
          only=(None,), only_reason="the firmware logs nothing on a second UART; "
          "nearest: null"),
    Param("uart_log_baudrate", int, None, "Kenning: baud rate of the log UART", nullable=True),
    Param("auto_flash", bool, False, "Kenning: flash the real board before evaluating; false "
          "assumes it already runs this pipeline's firmware"),
    Param("openocd_path", str, "openocd", "Kenning: OpenOCD executable", only=("openocd",),
          only_reason="OpenOCD is run from PATH; nearest: 'openocd'"),
    Param("sensor", str, None, "Kenning: a simulated sensor feeding the model", nullable=True,
          only=(None,), only_reason="the test split is streamed over UART; nearest: null"),
    Param("number_of_batches", int, 16, "Kenning: samples per sensor batch (used with "
          "sensor only)", minimum=1),
)


class Platform(Block):
    """Base of platform blocks."""

    family = "platform"
    # Stages inserted between compile and evaluate for this platform, in order.
    TARGET_STAGES: ClassVar[tuple[str, ...]] = ()
    # The runtime that runs a .tflite model on this platform's board (embedded platforms), so
    # a scenario may omit ``runtime`` as in Kenning.
    ON_TARGET_RUNTIME: ClassVar[str | None] = None

    @classmethod
    def board(cls, parameters: dict[str, Any]) -> str | None:
        """The platforms.yml board the parameters name (embedded platforms)."""
        return parameters.get("board")
