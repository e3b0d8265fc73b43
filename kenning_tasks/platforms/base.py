"""The platform contract: which extra stages the target needs, and Kenning's shared parameters."""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any, ClassVar

from kenning_tasks.block import Block
from kenning_tasks.errors import ScenarioError
from kenning_tasks.numerics import Numerics
from kenning_tasks.params import Param

if TYPE_CHECKING:
    from kenning_tasks.mcu.boards import Board

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


# This project's firmware-build options of every embedded platform: parameters of the
# firmware stage (its signature), passed to arm-none-eabi-gcc after the board's own flags.
FIRMWARE_BUILD_PARAMETERS = (
    Param("defines", dict, None, "C defines for the firmware build, NAME: value (a string, "
          "number or bool; null for a bare -DNAME), e.g. {KT_MAX_PAYLOAD: 256}",
          nullable=True),
    Param("cflags", list, [], "extra compiler/linker flags for the firmware build, e.g. "
          "[-O3, -Wl,--defsym=KT_STACK_SIZE=4096]", item_type=str),
    Param("werror", bool, False, "turn the firmware build's warnings into errors (-Werror)"),
    Param("weight_layout", str, "auto", "conv/dense weights on DSP cores (M4/M7/M33): int16 "
          "(fastest, twice the flash), int8, or auto (int16 unless the model would not fit "
          "the board's flash; then the largest layers stay int8)",
          enum=("auto", "int16", "int8")),
)
_DEFINE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Flags that would change what the build produces, not how it compiles.
_REFUSED_FLAGS = ("-o", "-c", "-E", "-S", "-M", "-MM", "-shared", "-save-temps")


def check_build_options(parameters: dict[str, Any], where: str) -> None:
    """One line for a bad ``defines`` entry or ``cflags`` item, naming the key."""
    for name, value in (parameters.get("defines") or {}).items():
        key = f"{where}.defines.{name}"
        if not isinstance(name, str) or not _DEFINE_NAME.fullmatch(name):
            raise ScenarioError(f"{where}.defines: {name!r} is not a C identifier "
                                "(letters, digits and _, not starting with a digit)")
        if value is not None and not isinstance(value, (str, int, float, bool)):
            raise ScenarioError(f"{key}: expected a string, number, bool or null, got "
                                f"{type(value).__name__} {value!r}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ScenarioError(f"{key}: {value!r} is not a finite number")
        if isinstance(value, str) and any(ord(c) < 32 for c in value):
            raise ScenarioError(f"{key}: control characters (newlines, tabs) are not allowed")
    for index, flag in enumerate(parameters.get("cflags") or ()):
        key = f"{where}.cflags[{index}]"
        if not flag.startswith("-") or len(flag) < 2 or any(c.isspace() for c in flag):
            raise ScenarioError(f"{key}: {flag!r} is not one compiler flag (starts with -, no "
                                "spaces; give each flag as its own item)")
        if flag in _REFUSED_FLAGS or flag.startswith(("-o", "-MF", "-MT")):
            raise ScenarioError(f"{key}: {flag!r} changes what the build writes; the "
                                "firmware stage chooses its outputs (nearest: remove it)")


class Platform(Block):
    """Base of platform blocks."""

    family = "platform"
    # Stages inserted between compile and evaluate for this platform, in order.
    TARGET_STAGES: ClassVar[tuple[str, ...]] = ()
    # The runtime that runs a .tflite model on this platform's board (embedded platforms), so
    # a scenario may omit ``runtime`` as in Kenning.
    ON_TARGET_RUNTIME: ClassVar[str | None] = None
    # ... and the one for a float32 model (float32 weights, input and output), if any.
    ON_TARGET_FLOAT_RUNTIME: ClassVar[str | None] = None

    @classmethod
    def on_target_runtime(cls, numerics: Numerics) -> str | None:
        """The board's runtime for a model with these numerics: the float32 kernels for a
        float32 model, else ON_TARGET_RUNTIME (int8; it refuses other models with a hint)."""
        if numerics.full_float32 and cls.ON_TARGET_FLOAT_RUNTIME:
            return cls.ON_TARGET_FLOAT_RUNTIME
        return cls.ON_TARGET_RUNTIME

    @classmethod
    def target_stages(cls, parameters: dict[str, Any]) -> tuple[str, ...]:
        """The target stages of this block as configured (a real board may be simulated)."""
        return cls.TARGET_STAGES

    @classmethod
    def board(cls, parameters: dict[str, Any]) -> Board | None:
        """The platforms.yml board the parameters name (None for the host): what the
        firmware, simulate and flash stages build for and talk to."""
        name = parameters.get("board")
        if name is None:
            return None
        from kenning_tasks.mcu.boards import get_board

        return get_board(name)


def check_board(board: str, allowed: list[str], where: str) -> None:
    """One line for a board that is not among ``allowed``, with the closest name."""
    if board not in allowed:
        from kenning_tasks.layout import layout
        from kenning_tasks.problems import did_you_mean

        raise ScenarioError(f"{where}.board: {board!r} is not allowed; allowed: "
                            + ", ".join(allowed) + f" (from {layout().platforms.name})"
                            + did_you_mean(board, allowed))
