"""Per-board figures of the default model, or of MLPerf-Tiny-shaped models, on target (JSON).

Builds the default scenario (or ``--scenario``) up to its compiled model (in a temporary copy
of the project, or reuses ``--model``), then for each QEMU board generates C (weight layout
chosen for the board's flash), builds the firmware, runs ``--samples`` test inputs under
``-icount`` and reports the numeric path (int8 or float32 kernels), instructions per
inference, MACs, instructions per MAC, flash and RAM bytes, and how the outputs compare with
TFLite Micro's host interpreter (share of bit-exact samples, largest absolute difference),
and the instructions of each operator (``per_op``, the last inference's), per operator type
(``layer_types``) and against the core's speed targets (``target``: TARGETS below).
With ``--mlperf``, the models are the four MLPerf Tiny reference networks' shapes (FC
autoencoder, ResNet-8, DS-CNN, MobileNetV1-0.25 at 96x96x3), built with Keras at run time with
seeded random weights and random int8 inputs, each output checked against TFLite Micro.
Usage: ``.venv/bin/python benchmarks/target.py [--model compile/model.tflite] [--samples 20]``
or ``.venv/bin/python benchmarks/target.py --mlperf [--boards mps2-an385 mps2-an386]``;
float32: ``--scenario digits-float-qemu-m4 --boards mps2-an385 mps2-an386 mps2-an505``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

BOARDS = ("mps2-an385", "mps2-an386", "mps2-an500")
MLPERF_BOARDS = ("mps2-an385", "mps2-an386")  # Cortex-M3, Cortex-M4F
# The speed targets per core (-mcpu): instructions/MAC of the whole model and, where set, of
# every layer type (the op's instructions summed over its layers / their MACs).
TARGETS = {"cortex-m4": {"model": 1.5, "layer_type": 3.0}, "cortex-m3": {"model": 3.5}}


def layer_types(per_op: list[dict]) -> dict[str, float]:
    """Instructions/MAC of each operator type that does MACs."""
    sums: dict[str, list[int]] = {}
    for op in per_op:
        if op.get("macs"):
            total = sums.setdefault(op["op"], [0, 0])
            total[0] += op["instructions"]
            total[1] += op["macs"]
    return {name: round(insns / macs, 3) for name, (insns, macs) in sums.items()}


def target_check(compilation_flags: tuple[str, ...], per_mac: float,
                 per_type: dict[str, float]) -> dict | None:
    """The core's targets and which of them this model misses (None: no target for it)."""
    cpu = next((f.split("=", 1)[1] for f in compilation_flags if f.startswith("-mcpu=")), "")
    target = TARGETS.get(cpu)
    if target is None:
        return None
    missed = [f"model {per_mac:.2f} > {target['model']}"] if per_mac > target["model"] else []
    limit = target.get("layer_type")
    if limit is not None:
        missed += [f"{name} {value:.2f} > {limit}" for name, value in per_type.items()
                   if value > limit]
    return {**target, "met": not missed, "missed": missed}


def build_default_model(root: Path, scenario: str | None = None) -> tuple[Path, Path]:
    """Run the scenario (default: the default one) up to compile in ``root``; return the model
    and splits."""
    from kenning_tasks.scenario_files import DEFAULT_SCENARIO

    scenario = scenario or DEFAULT_SCENARIO
    for name in ("dodo.py", "kenning_tasks", "scenarios", "firmware", "platforms.yml"):
        source = REPO / name
        copy = shutil.copytree if source.is_dir() else shutil.copy2
        copy(source, root / name)
    env = dict(os.environ, PYTHONPATH=str(root), KENNING_TASKS_CACHE=str(REPO / "cache"))
    doit = Path(sys.executable).with_name("doit")
    subprocess.run([str(doit), "-f", str(root / "dodo.py"), f"scenario={scenario}",
                    "compile"], cwd=root, env=env, check=True, capture_output=True)
    build = root / "build" / scenario
    return build / "compile" / "model.tflite", build / "dataset" / "splits.npz"


def measure_board(board_name: str, model: Path, inputs: list[bytes], work: Path,
                  reference: object | None = None) -> dict:
    import numpy as np

    from kenning_tasks.codegen import generate_c_model
    from kenning_tasks.codegen.weight_layout import cpu_has_dsp
    from kenning_tasks.float_agreement import max_abs_error
    from kenning_tasks.mcu import build_firmware, get_board, run_on_qemu
    from kenning_tasks.mcu.float_abi import float_arithmetic
    from kenning_tasks.stages.on_target import per_op_counts

    board = get_board(board_name)
    out = work / board_name / model.stem
    generated = generate_c_model(model, out / "model", flash_limit_bytes=board.flash_limit_bytes,
                                 dsp=cpu_has_dsp(board.compilation_flags))
    image = build_firmware(board, out / "model", out)
    run = run_on_qemu(image.elf, board, inputs, timeout_s=600, process_s=600)
    instructions = np.asarray(run.instructions, dtype=np.float64)
    result = {
        "board": board_name, "numeric_path": generated.numeric_path,
        "float_arithmetic": float_arithmetic(board.compilation_flags),
        "instructions_per_inference": {"mean": float(instructions.mean()),
                                       "min": int(instructions.min()),
                                       "max": int(instructions.max())},
        "macs": generated.macs,
        "instructions_per_mac": float(instructions.mean()) / generated.macs,
        "flash_bytes": image.flash_bytes, "ram_bytes": image.ram_bytes,
        "arena_bytes": generated.arena_bytes, "samples": len(inputs),
        "weight_layout": generated.weight_layout.layout,
        # The last inference's exact instructions per kernel call, from the firmware's hooks.
        "per_op": per_op_counts(list(generated.kernel_ops), run.op_counts),
    }
    result["layer_types"] = layer_types(result["per_op"])
    result["target"] = target_check(board.compilation_flags, result["instructions_per_mac"],
                                    result["layer_types"])
    if reference is not None:
        want = np.stack([np.asarray(reference(x)).reshape(-1) for x in inputs])
        got = np.stack([np.frombuffer(bytes(o), dtype=want.dtype) for o in run.outputs])
        # Share of bit-exact samples (1.0 expected on the int8 path), and the largest
        # difference (the float32 path's measure: float_agreement).
        result["agreement_with_tflm"] = float(np.mean(np.all(got == want, axis=1)))
        result["max_abs_error_vs_tflm"] = max_abs_error(got, want)
    return result


def measure_mlperf(boards: list[str], samples: int, work: Path) -> list[dict]:
    import numpy as np
    from codegen_support.models import MLPERF_TINY, build_mlperf_tiny

    from kenning_tasks.codegen.reference import TflmReference

    results = []
    for name in MLPERF_TINY:
        with contextlib.redirect_stdout(sys.stderr):  # Keras prints its export to stdout
            model = build_mlperf_tiny(name, work)
        reference = TflmReference(model)
        rng = np.random.default_rng(0)
        size = int(np.prod(reference.input_shape))
        inputs = [rng.integers(-128, 128, size, dtype=np.int8).tobytes() for _ in range(samples)]
        results.append({"model": name, "boards": [
            measure_board(b, model, inputs, work, reference) for b in boards]})
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="a .tflite (with its .json sidecar)")
    parser.add_argument("--scenario", help="build this scenario's model (default: the "
                                           "default scenario)")
    parser.add_argument("--splits", type=Path, help="splits.npz for the inputs")
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--boards", nargs="*", default=None)
    parser.add_argument("--mlperf", action="store_true",
                        help="the MLPerf-Tiny-shaped models instead of the default model")
    options = parser.parse_args()
    if options.mlperf:
        boards = options.boards or list(MLPERF_BOARDS)
        with tempfile.TemporaryDirectory(prefix="kt-target-") as tmp:
            results = measure_mlperf(boards, min(options.samples, 2), Path(tmp))
        print(json.dumps({"models": results}, indent=2))
        return
    options.boards = options.boards or list(BOARDS)

    import numpy as np

    from kenning_tasks import iospec, metrics
    from kenning_tasks.codegen.reference import TflmReference
    from kenning_tasks.datasets.base import load_splits

    with tempfile.TemporaryDirectory(prefix="kt-target-") as tmp:
        work = Path(tmp)
        model, splits = options.model, options.splits
        if model is None:
            (work / "project").mkdir()
            model, splits = build_default_model(work / "project", options.scenario)
        spec = iospec.read_spec(model)["input"][0]
        x_test = load_splits(splits)["x_test"][: options.samples]
        inputs = [metrics.quantize(s[np.newaxis], spec).tobytes() for s in x_test]
        reference = TflmReference(model)
        results = [measure_board(b, model, inputs, work, reference) for b in options.boards]
    print(json.dumps({"model": str(options.model or options.scenario or "default scenario"),
                      "boards": results}, indent=2))


if __name__ == "__main__":
    main()
