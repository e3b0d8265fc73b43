"""Instructions per MAC of the int8 CONV_2D / FULLY_CONNECTED kernels on QEMU Cortex-M.

Builds one-op int8 models, generates C, runs each on QEMU's MPS2 boards with `-icount shift=0`
(instruction-counting virtual time) and prints instructions/MAC for the fast path and the
reference loops. Outputs are checked against TFLite Micro on the way.

    .venv/bin/python benchmarks/kernels.py [--cpus cortex-m4f ...]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from codegen_support.build import TflmModel  # noqa: E402
from codegen_support.models import (  # noqa: E402
    EXAMPLES,
    build_example,
    conv_layer,
    convert_int8,
    dense_layer,
)
from codegen_support.qemu import BOARDS, run_on_qemu  # noqa: E402

from kenning_tasks.codegen import generate_c_model  # noqa: E402

CASES = {
    "conv 8x8x1->8 k3 (digits #1)": lambda: conv_layer(8, 8, 1, 8, 3),
    "conv 4x4x8->16 k3 (digits #2)": lambda: conv_layer(4, 4, 8, 16, 3),
    "conv 16x16x16->32 k3": lambda: conv_layer(16, 16, 16, 32, 3),
    "conv 12x12x32->32 k1": lambda: conv_layer(12, 12, 32, 32, 1),
    "fc 64->32 (digits)": lambda: dense_layer(64, 32),
    "fc 256->128": lambda: dense_layer(256, 128),
}


def measure(path: Path, work: Path, cpus: list[str]) -> dict[tuple[str, str], float]:
    gen = generate_c_model(path, work / "gen")
    rng = np.random.default_rng(0)
    inputs = [rng.integers(-128, 128, gen.input_bytes, dtype=np.int8) for _ in range(2)]
    reference = TflmModel(path)
    expected = [reference(x).astype(np.int8) for x in inputs]
    result = {}
    for cpu in cpus:
        for label, flags in (("fast", ()), ("ref", ("-DKT_FAST_KERNELS=0",))):
            run = run_on_qemu(gen, cpu, inputs, work / f"{cpu}_{label}", flags)
            for got, want in zip(run.outputs, expected, strict=True):
                if not np.array_equal(got, want):
                    raise SystemExit(f"{path.name} {cpu} {label}: output differs from TFLM")
            result[(cpu, label)] = min(run.instructions) / gen.macs
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpus", nargs="+", default=list(BOARDS), choices=list(BOARDS))
    parser.add_argument("--examples", action="store_true", help="also whole example models")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        rows = []
        for i, (name, build) in enumerate(CASES.items()):
            import keras

            keras.utils.set_random_seed(i)
            model, shape = build()
            path = convert_int8(model, shape, work / f"case{i}.tflite", seed=i)
            rows.append((name, measure(path, work / f"case{i}", args.cpus)))
        if args.examples:
            for name in EXAMPLES:
                path = build_example(name, work)
                rows.append((f"model {name} (whole invoke)", measure(path, work / name, args.cpus)))
    header = "".join(f"{cpu + ' ' + label:>18}" for cpu in args.cpus for label in ("fast", "ref"))
    print(f"{'instructions / MAC':34}{header}")
    for name, result in rows:
        cells = "".join(f"{result[(cpu, label)]:18.2f}" for cpu in args.cpus
                        for label in ("fast", "ref"))
        print(f"{name:34}{cells}")


if __name__ == "__main__":
    main()
