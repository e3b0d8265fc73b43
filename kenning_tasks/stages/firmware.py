"""firmware stage: generate C for the model (int8 or float32) and build the board's firmware.

Order matters for a model too large for the board: the generated model is compiled alone and
measured against the board's flash and RAM first (``mcu.build.check_model_fits``), so the
stage stops with one "does not fit" line before linking, and before a Zephyr build would need
west. A failed stage leaves none of its outputs behind (the generated model.c of a large
model is tens of MB).

Targets hold only what follows from the inputs (paths as firmware/…, model/…). The files
with host paths — ``compile_commands.json`` for an editor or clangd, ``run-log.json`` with the
exact commands — are written beside them and are not targets.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import shutil
from pathlib import Path
from typing import Any

from kenning_tasks import artifacts, live_progress
from kenning_tasks.block import distribution_version
from kenning_tasks.errors import StageError
from kenning_tasks.scenario import Scenario
from kenning_tasks.stages.base import Phase, Stage, StageContext

ELF = "firmware/firmware.elf"              # loadable: what simulate and flash use
DEBUG_ELF = "firmware/firmware.debug.elf"  # the same image with debug info, for gdb
MAP = "firmware/firmware.map"              # the linker's map
INFO = "firmware/firmware.json"
MODEL_SOURCES = ("firmware/model/model.h", "firmware/model/model.c")
COMPILE_COMMANDS = "compile_commands.json"  # in the stage folder, not a target
RUN_LOG = "run-log.json"                    # in the stage folder, not a target
BUILD_PARAMETERS = ("defines", "cflags", "werror", "weight_layout")


def board_of(scenario: Scenario) -> Any:
    return scenario.board  # the platform block hands the stage its board


def build_options(scenario: Scenario) -> Any:
    """The platform block's defines, cflags and werror (``mcu.build.BuildOptions``)."""
    from kenning_tasks.mcu.build import BuildOptions

    return BuildOptions.from_parameters(scenario.platform.parameters)


def run(ctx: StageContext) -> None:
    written = [ctx.path(name) for name in outputs(ctx.scenario)]
    try:
        _build(ctx)
    except BaseException:
        # Nothing half-done stays: not the new model.c, not an older ELF beside it.
        for path in [*written, ctx.out_dir / COMPILE_COMMANDS, ctx.out_dir / RUN_LOG]:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        shutil.rmtree(ctx.out_dir / "model", ignore_errors=True)
        raise


def _build(ctx: StageContext) -> None:
    from kenning_tasks.codegen import generate_c_model
    from kenning_tasks.codegen.weight_layout import cpu_has_dsp
    from kenning_tasks.mcu.build import build_firmware, build_zephyr, estimate_model_fit
    from kenning_tasks.mcu.float_abi import float_arithmetic

    board = board_of(ctx.scenario)
    simulation_notice(ctx)
    options = build_options(ctx.scenario)
    model_dir = ctx.out_dir / "model"
    # The weight layout is chosen per board: int16 for SMLAD where it fits the flash.
    generated = generate_c_model(
        ctx.path(ctx.scenario.model_file("compile")), model_dir,
        flash_limit_bytes=board.flash_limit_bytes, dsp=cpu_has_dsp(board.compilation_flags),
        weight_layout_request=ctx.scenario.platform.parameters.get("weight_layout") or "auto")
    if generated.weight_layout.message():
        ctx.log(generated.weight_layout.message())
    ctx.log(f"generated {generated.numeric_path} C for {len(generated.ops)} ops "
            f"({', '.join(sorted(set(generated.ops)))}), arena {generated.arena_bytes} B, "
            f"{generated.macs} MACs")
    with live_progress.working(f"compiling and linking the firmware for {board.name}"):
        if board.runtime == "zephyr":
            # The fit check needs only gcc; west and a Zephyr workspace come after it.
            estimate_model_fit(board, model_dir, options)
            image = build_zephyr(board, model_dir, ctx.out_dir)
        else:
            image = build_firmware(board, model_dir, ctx.out_dir, options=options, log=ctx.log)
    info = {
        "board": board.name, "display_name": board.display_name,
        "flash_bytes": image.flash_bytes, "ram_bytes": image.ram_bytes,
        "flash_limit_bytes": image.flash_limit_bytes, "ram_limit_bytes": image.ram_limit_bytes,
        "sections": image.sections,
        # By section and by symbol, largest first (pyelftools on the loadable ELF).
        "memory": image.memory.breakdown() if image.memory else {},
        "arena_bytes": generated.arena_bytes, "macs": generated.macs, "ops": generated.ops,
        # Which kernels the model runs on (int8 or float32), and how floats are computed.
        "numeric_path": generated.numeric_path,
        "float_arithmetic": float_arithmetic(board.compilation_flags),
        # The kernel calls in model.c's order, each timed on target (PROTOCOL.md).
        "kernel_ops": list(generated.kernel_ops),
        "input_bytes": generated.input_bytes, "output_bytes": generated.output_bytes,
        "weight_layout": generated.weight_layout.record(),
        "toolchain": toolchain(board.runtime),
        "build": {**image.recorded, "warnings": list(image.warnings),
                  "werror": options.werror},
    }
    artifacts.write_json(ctx.path(INFO), info)
    if image.commands:
        artifacts.write_json(ctx.out_dir / COMPILE_COMMANDS,
                             [c for c in image.commands if c["file"] != "(link)"])
        artifacts.write_json(ctx.out_dir / RUN_LOG, {"stage": "firmware",
                                                     "commands": list(image.commands)})
    warned = f", {len(image.warnings)} warning lines" if image.warnings else ""
    ctx.log(f"{board.name}: flash {image.flash_bytes} B of {image.flash_limit_bytes} B, "
            f"RAM {image.ram_bytes} B of {image.ram_limit_bytes} B{warned}")


def simulation_notice(ctx: StageContext) -> None:
    """A simulated real board says where it runs, first (ZephyrPlatform ``simulated``)."""
    from kenning_tasks.platforms.zephyr import simulation_line

    if ctx.scenario.platform.type_name == "ZephyrPlatform":
        line = simulation_line(ctx.scenario.platform.parameters)
        if line:
            ctx.log(line)


@functools.cache
def toolchain(runtime: str) -> str:
    if runtime == "zephyr":
        return "west build (Zephyr SDK)"
    from kenning_tasks.mcu.build import toolchain_version

    try:
        return toolchain_version()
    except StageError as error:
        return f"unavailable ({error})"


def external_inputs(scenario: Scenario) -> list[Path]:
    """The sources this board's build compiles (its own folder, its drivers and the common
    ones), so editing one rebuilds it. The board's platforms.yml entry is in ``parameters``."""
    from kenning_tasks.mcu.build import firmware_inputs

    return firmware_inputs(board_of(scenario))


def tools(scenario: Scenario) -> dict[str, str]:
    board = board_of(scenario)
    return {"tflite": distribution_version("tflite"), "compiler": toolchain(board.runtime),
            "pyelftools": distribution_version("pyelftools")}


def parameters(scenario: Scenario) -> dict[str, Any]:
    """The board's facts from platforms.yml and the platform block's build options."""
    platform = scenario.platform.parameters
    return {"board": dataclasses.asdict(board_of(scenario)),
            "build": {name: platform.get(name) for name in BUILD_PARAMETERS}}


def outputs(scenario: Scenario) -> list[str]:
    outs = [*MODEL_SOURCES, ELF, DEBUG_ELF, INFO]
    return [*outs, MAP] if board_of(scenario).runtime == "baremetal" else outs


STAGE = Stage(
    name="firmware",
    phase=Phase.TARGET,
    applies=lambda s: "firmware" in s.target_stages(),
    doc="Generate C for the model (int8 or float32); build the board's firmware (flash/RAM "
        "checked)",
    run=run,
    outputs=outputs,
    inputs=lambda s: [s.model_file("compile"), s.model_file("compile") + ".json"],
    external_inputs=external_inputs,
    parameters=parameters,
    tools=tools,
)
