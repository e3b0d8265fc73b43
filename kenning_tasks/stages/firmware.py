"""firmware stage: generate C for the int8 model and build the firmware ELF for the board."""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from typing import Any

from kenning_tasks import artifacts
from kenning_tasks.block import distribution_version
from kenning_tasks.errors import StageError
from kenning_tasks.layout import PACKAGE_DIR
from kenning_tasks.scenario import Scenario
from kenning_tasks.stages.base import Stage, StageContext
from kenning_tasks.stages.chain import model_file

ELF = "firmware/firmware.elf"              # loadable: what simulate and flash use
DEBUG_ELF = "firmware/firmware.debug.elf"  # the same image with debug info, for gdb
INFO = "firmware/firmware.json"
MODEL_SOURCES = ("firmware/model/model.h", "firmware/model/model.c")


def board_of(scenario: Scenario) -> Any:
    from kenning_tasks.mcu import get_board

    return get_board(scenario.platform.parameters["board"])


def run(ctx: StageContext) -> None:
    from kenning_tasks.codegen import generate_c_model
    from kenning_tasks.mcu import build_firmware, build_zephyr

    board = board_of(ctx.scenario)
    model_dir = ctx.out_dir / "model"
    generated = generate_c_model(ctx.path(model_file(ctx.scenario, "compile")), model_dir)
    ctx.log(f"generated C for {len(generated.ops)} ops ({', '.join(sorted(set(generated.ops)))})"
            f", arena {generated.arena_bytes} B, {generated.macs} MACs")
    if board.runtime == "zephyr":
        image = build_zephyr(board, model_dir, ctx.out_dir)
    else:
        image = build_firmware(board, model_dir, ctx.out_dir)
    info = {
        "board": board.name, "display_name": board.display_name,
        "flash_bytes": image.flash_bytes, "ram_bytes": image.ram_bytes,
        "flash_limit_bytes": image.flash_limit_bytes, "ram_limit_bytes": image.ram_limit_bytes,
        "sections": image.sections,
        "arena_bytes": generated.arena_bytes, "macs": generated.macs, "ops": generated.ops,
        "input_bytes": generated.input_bytes, "output_bytes": generated.output_bytes,
        "toolchain": toolchain(board.runtime),
    }
    artifacts.write_json(ctx.path(INFO), info)
    ctx.log(f"{board.name}: flash {image.flash_bytes} B of {image.flash_limit_bytes} B, "
            f"RAM {image.ram_bytes} B of {image.ram_limit_bytes} B")


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
    """The sources this board's build compiles (its own folder and the common ones), so
    editing one rebuilds it. The board's platforms.yml entry is in ``parameters``."""
    from kenning_tasks.mcu.build import firmware_inputs

    return firmware_inputs(board_of(scenario))


def codegen_modules() -> list[str]:
    package = PACKAGE_DIR / "codegen"
    return sorted(f"kenning_tasks.codegen.{p.stem}" if p.stem != "__init__"
                  else "kenning_tasks.codegen" for p in package.glob("*.py"))


def tools(scenario: Scenario) -> dict[str, str]:
    board = board_of(scenario)
    return {"tflite": distribution_version("tflite"), "compiler": toolchain(board.runtime)}


def parameters(scenario: Scenario) -> dict[str, Any]:
    """The board's facts from platforms.yml: all the build takes from the platform block."""
    return {"board": dataclasses.asdict(board_of(scenario))}


STAGE = Stage(
    name="firmware",
    doc="Generate C for the int8 model and build the board's firmware (flash/RAM checked)",
    run=run,
    outputs=lambda s: [*MODEL_SOURCES, ELF, DEBUG_ELF, INFO],
    inputs=lambda s: [model_file(s, "compile"), model_file(s, "compile") + ".json"],
    external_inputs=external_inputs,
    parameters=parameters,
    modules=lambda s: [*codegen_modules(), "kenning_tasks.mcu.build",
                       "kenning_tasks.mcu.boards", "kenning_tasks.mcu.elf"],
    tools=tools,
)

