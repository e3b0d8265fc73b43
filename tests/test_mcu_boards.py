"""The real-MCU QEMU boards (netduinoplus2, stm32vldiscovery, mps2-an505, microbit) in QEMU:
exact instruction counts with each board's own timebase, and the int8 kernels bit-exact with
TFLite Micro on each core (Cortex-M4F, M3, M33, M0). Boots QEMU: slow."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from target_support import (
    generated_model,
    loop_inputs,
    qemu_children,
    reference_outputs,
    sample_inputs,
)

from kenning_tasks.mcu.boards import get_board
from kenning_tasks.mcu.build import build_firmware
from kenning_tasks.mcu.qemu import icount_shift, run_on_qemu

pytestmark = pytest.mark.slow
BOARDS = ["netduinoplus2", "stm32vldiscovery", "mps2-an505", "microbit"]


def write_portable_loop_model(model_dir: Path) -> Path:
    """A model whose invoke runs exactly 2·n more instructions for n = the first three input
    bytes: a subs/bne loop in unified syntax, which Thumb-1 (Cortex-M0) assembles too."""
    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / "model.h").write_text(
        "#include <stdint.h>\n#define KT_MODEL_INPUT_BYTES 4\n#define KT_MODEL_OUTPUT_BYTES 4\n"
        "#define KT_MODEL_ARENA_BYTES 0\n"
        "int kt_model_invoke(const int8_t *input, int8_t *output);\n")
    (model_dir / "loop.c").write_text(
        '#include "model.h"\n'
        "#if defined(__thumb2__)\n#define UNIFIED \"\"\n#define DIVIDED \"\"\n#else\n"
        '#define UNIFIED ".syntax unified\\n\\t"\n#define DIVIDED "\\n\\t.syntax divided"\n'
        "#endif\n"
        "int kt_model_invoke(const int8_t *input, int8_t *output)\n{\n"
        "    const uint8_t *in = (const uint8_t *)input;\n"
        "    uint32_t n = in[0] | ((uint32_t)in[1] << 8) | ((uint32_t)in[2] << 16);\n"
        '    __asm__ volatile(UNIFIED "cmp %0, #0\\n\\tbeq 2f\\n1:\\n\\tsubs %0, %0, #1\\n\\t'
        'bne 1b\\n2:" DIVIDED : "+l"(n) : : "cc");\n'
        "    for (int i = 0; i < 4; i++) {\n        output[i] = input[i];\n    }\n"
        "    return 0;\n}\n")
    return model_dir


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return generated_model(tmp_path_factory)


@pytest.mark.parametrize("name", BOARDS)
def test_counts_are_exact_on_each_boards_timebase(name, tmp_path):
    """2·n more instructions for a loop of n, run to run identical: SysTick on the STM32s and
    the M33 (fractional-ns ticks at 24 and 168 MHz), TIMER0 on the nRF51."""
    board = get_board(name)
    image = build_firmware(board, write_portable_loop_model(tmp_path / "loop"), tmp_path / "fw")
    counts = [0, 1, 2, 3, 5, 8, 13, 21, 46, 60, 74, 100, 171, 299, 1001, 65537]
    run = run_on_qemu(image.elf, board, loop_inputs(counts))
    base = run.instructions[0]
    assert [m - base for m in run.instructions] == [2 * n for n in counts]
    assert 20 < base < 80
    assert run.target_info["icount_shift"] == icount_shift(board)
    assert run.target_info["tick_hz"] == board.cpu_frequency_hz
    again = run_on_qemu(image.elf, board, loop_inputs(counts))
    assert again.instructions == run.instructions and again.ticks == run.ticks


@pytest.mark.parametrize("name", BOARDS)
def test_int8_model_is_bit_exact_on_each_core(name, model, tmp_path):
    tflite, model_dir = model
    board = get_board(name)
    image = build_firmware(board, model_dir, tmp_path)
    inputs = sample_inputs(12)
    run = run_on_qemu(image.elf, board, inputs)
    expected = reference_outputs(tflite, inputs)
    assert all(np.array_equal(np.frombuffer(out, np.int8), ref)
               for out, ref in zip(run.outputs, expected, strict=True))
    assert run.target_info["board"] == name
    assert run.target_info["hard_float"] == ("-mfloat-abi=hard" in board.compilation_flags)
    assert run.log["qemu_pid"] not in qemu_children()


def test_default_model_on_the_small_boards_through_the_pipeline(project):
    """doit: the default digits model on the Cortex-M0 and on the 8 KiB STM32F100, agreement
    1.0; the same scenario with a stack the 8 KiB cannot hold stops in the firmware stage with
    one line and leaves its folder empty."""
    import json

    run = project.doit("scenario=digits-int8-qemu-m0,digits-int8-qemu-stm32f100", "evaluate",
                       timeout=1200)
    assert run.returncode == 0, run.stderr[-3000:]
    for name, board in (("digits-int8-qemu-m0", "microbit"),
                        ("digits-int8-qemu-stm32f100", "stm32vldiscovery")):
        folder = project.build(name)
        on_target = json.loads((folder / "evaluate/measurements.json").read_text())["on_target"]
        assert on_target["board"] == board and on_target["agreement_with_host"] == 1.0
        info = json.loads((folder / "firmware/firmware.json").read_text())
        assert info["memory"]["symbols"][0]["bytes"] >= info["memory"]["symbols"][-1]["bytes"]
        assert info["build"]["sources"][0] == "model/model.c"
        # No DSP on the M0/M3: int8 weights, nothing to choose; the choice reaches measurements.
        assert info["weight_layout"]["layout"] == "int8" and not info["weight_layout"]["dsp"]
        assert on_target["weight_layout"] == "int8"
        assert (folder / "firmware/firmware.map").is_file()
        commands = json.loads((folder / "firmware/compile_commands.json").read_text())
        assert all(Path(c["file"]).is_absolute() for c in commands)
    project.edit("scenarios/digits-int8-qemu-stm32f100.yml", "board: stm32vldiscovery",
                 'board: stm32vldiscovery\n    cflags: ["-Wl,--defsym=KT_STACK_SIZE=8192"]')
    failed = project.doit("scenario=digits-int8-qemu-stm32f100", "firmware")
    assert failed.returncode != 0
    # The flash used is stated and fits (its size follows the kernels' code); the RAM does not:
    # 8 KiB of stack + .bss (3376 B, of which 72 B hold the per-operator tick readings; the
    # arena includes the conv scratch for two output pixels per pass).
    assert re.search(r"firmware for stm32vldiscovery does not fit: flash \d+ B of 131072 B, "
                     r"RAM 11568 B of 8192 B", failed.stdout + failed.stderr)
    assert list((project.build("digits-int8-qemu-stm32f100") / "firmware").iterdir()) == []
