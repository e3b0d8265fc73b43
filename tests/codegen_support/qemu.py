"""Run a generated model on QEMU's MPS2 Cortex-M boards (test-only semihosting harness).

Counts instructions with SysTick under `-icount shift=0`, calibrated by a loop of known length.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from codegen_support.build import ARM_CPUS, runtime_sources
from kenning_tasks.codegen import GeneratedModel, runtime_dir

HARNESS_DIR = Path(__file__).parent / "qemu"
BOARDS = {"cortex-m3": "mps2-an385", "cortex-m4f": "mps2-an386", "cortex-m7": "mps2-an500"}
CAL_ITERS = 100_000


def tools_available() -> bool:
    return bool(shutil.which("qemu-system-arm") and shutil.which("arm-none-eabi-gcc"))


@dataclass
class QemuRun:
    outputs: list[np.ndarray]
    instructions: list[float]  # per kt_model_invoke, from calibrated SysTick ticks
    # With per_op: instructions of each op (its .tflite index) in the first inference.
    op_instructions: dict[int, float] | None = None


def build_elf(gen: GeneratedModel, cpu: str, inputs: list[np.ndarray], work: Path,
              extra_flags: tuple[str, ...] = (), per_op: bool = False) -> Path:
    work.mkdir(parents=True, exist_ok=True)
    rows = ",\n".join("{" + ", ".join(str(int(v)) for v in x.view(np.int8)) + "}"
                      for x in inputs)
    (work / "harness_inputs.h").write_text(
        "#include <stdint.h>\n#include \"model.h\"\n"
        f"#define KT_H_N_INPUTS {len(inputs)}u\n#define KT_H_CAL_ITERS {CAL_ITERS}u\n"
        f"static const int8_t kt_h_inputs[{len(inputs)}][KT_MODEL_INPUT_BYTES] = {{\n{rows}\n}};\n")
    if per_op and max((op["index"] for op in gen.kernel_ops), default=0) >= 256:
        raise AssertionError("per-op timing supports op indices below 256 (KT_H_MAX_OPS)")
    elf = work / f"model_{cpu}.elf"
    sources = [*runtime_sources(), *gen.sources, HARNESS_DIR / "startup.c",
               HARNESS_DIR / "harness.c"]
    cmd = ["arm-none-eabi-gcc", *ARM_CPUS[cpu], "-O2", "-ffunction-sections", "-fdata-sections",
           "-std=c99", "-Wall", "-Wextra", "-Werror", *extra_flags,
           *(["-DKT_H_PER_OP", "-include", str(HARNESS_DIR / "op_timing.h")] if per_op else []),
           "-I", str(runtime_dir()), "-I", str(gen.header.parent), "-I", str(work),
           *[str(s) for s in sources], "-nostartfiles", "-T", str(HARNESS_DIR / "link.ld"),
           "-Wl,--gc-sections", "-lm", "-lc", "-lgcc", "-o", str(elf)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode:
        raise AssertionError(f"harness build failed:\n{result.stderr}")
    return elf


def per_op_report(gen: GeneratedModel, run: QemuRun) -> list[dict]:
    """``[{"index", "op", "instructions", "macs"}]`` of the first inference: the format the
    reports' on-target section renders (kenning_tasks/reporting/target.py)."""
    assert run.op_instructions is not None, "run with per_op=True"
    return [{"index": op["index"], "op": op["op"],
             "instructions": round(run.op_instructions.get(op["index"], 0.0), 1),
             "macs": op["macs"]} for op in gen.kernel_ops]


def run_elf(elf: Path, cpu: str, n_outputs: int, output_bytes: int,
            timeout: float = 120.0) -> QemuRun:
    cmd = ["qemu-system-arm", "-M", BOARDS[cpu], "-nographic", "-monitor", "none",
           "-serial", "null", "-icount", "shift=0",
           "-semihosting-config", "enable=on,target=native", "-kernel", str(elf)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise AssertionError(f"QEMU exit {result.returncode}: {result.stdout}{result.stderr}")
    # QEMU prints semihosting SYS_WRITE0 text on stderr.
    lines = result.stderr.split("\n")
    cal = next(int(line.split()[1]) for line in lines if line.startswith("CAL "))
    ticks_per_insn = cal / (2 * CAL_ITERS)
    outputs = [np.frombuffer(bytes.fromhex(line.split()[1]), dtype=np.int8)
               for line in lines if line.startswith("OUT ")]
    instructions = [int(line.split()[1]) / ticks_per_insn
                    for line in lines if line.startswith("TICKS ")]
    assert len(outputs) == n_outputs and all(o.size == output_bytes for o in outputs)
    ops = {int(line.split()[1]): int(line.split()[2]) / ticks_per_insn
           for line in lines if line.startswith("OP ")}
    return QemuRun(outputs, instructions, ops or None)


def run_on_qemu(gen: GeneratedModel, cpu: str, inputs: list[np.ndarray], work: Path,
                extra_flags: tuple[str, ...] = (), per_op: bool = False) -> QemuRun:
    elf = build_elf(gen, cpu, inputs, work, extra_flags, per_op)
    return run_elf(elf, cpu, len(inputs), gen.output_bytes)
