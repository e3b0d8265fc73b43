"""Per-board figures of the default model on target, printed as JSON.

Builds the default scenario (or ``--scenario``) up to its compiled model (in a temporary copy
of the project, or reuses ``--model``), then for each QEMU board generates C, builds the
firmware, runs ``--samples`` test inputs under ``-icount shift=0`` and reports the numeric
path (int8 or float32 kernels), instructions per inference, MACs, instructions per MAC, flash
and RAM bytes, and how the outputs compare with TFLite Micro's host interpreter (bit-exact
samples, largest absolute difference).
Usage: ``.venv/bin/python benchmarks/target.py [--model compile/model.tflite] [--samples 20]``;
float32: ``--scenario digits-float-qemu-m4 --boards mps2-an385 mps2-an386 mps2-an505``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

BOARDS = ("mps2-an385", "mps2-an386", "mps2-an500")


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
                  reference: list) -> dict:
    import numpy as np

    from kenning_tasks.codegen import generate_c_model
    from kenning_tasks.float_agreement import max_abs_error
    from kenning_tasks.mcu import build_firmware, get_board, run_on_qemu
    from kenning_tasks.mcu.float_abi import float_arithmetic

    board = get_board(board_name)
    generated = generate_c_model(model, work / board_name / "model")
    image = build_firmware(board, work / board_name / "model", work / board_name)
    run = run_on_qemu(image.elf, board, inputs, timeout_s=300)
    instructions = np.asarray(run.instructions, dtype=np.float64)
    want = np.stack(reference)
    got = np.stack([np.frombuffer(o, dtype=want.dtype) for o in run.outputs])
    return {
        "board": board_name, "numeric_path": generated.numeric_path,
        "float_arithmetic": float_arithmetic(board.compilation_flags),
        "bit_exact_samples": int(np.sum(np.all(got == want, axis=1))),
        "max_abs_error_vs_tflm": max_abs_error(got, want),
        "instructions_per_inference": {"mean": float(instructions.mean()),
                                       "min": int(instructions.min()),
                                       "max": int(instructions.max())},
        "macs": generated.macs,
        "instructions_per_mac": float(instructions.mean()) / generated.macs,
        "flash_bytes": image.flash_bytes, "ram_bytes": image.ram_bytes,
        "arena_bytes": generated.arena_bytes, "samples": len(inputs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="a .tflite (with its .json sidecar)")
    parser.add_argument("--scenario", help="build this scenario's model (default: the "
                                           "default scenario)")
    parser.add_argument("--splits", type=Path, help="splits.npz for the inputs")
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--boards", nargs="*", default=list(BOARDS))
    options = parser.parse_args()

    import numpy as np

    from kenning_tasks import iospec, metrics
    from kenning_tasks.codegen.reference import tflm_outputs
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
        reference = tflm_outputs(model, inputs)
        results = [measure_board(b, model, inputs, work, reference) for b in options.boards]
    print(json.dumps({"model": str(options.model or options.scenario or "default scenario"),
                      "boards": results}, indent=2))


if __name__ == "__main__":
    main()
