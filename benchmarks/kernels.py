"""Instructions per MAC of the int8 kernels on QEMU Cortex-M, per layer and per operator (JSON).

Builds one-op int8 models (and with ``--models`` the example models and the MLPerf-Tiny-shaped
ones, built with Keras at run time), generates C, runs each on QEMU's MPS2 boards with
``-icount shift=0`` (instruction-counting virtual time) and prints instructions/MAC for the fast
path and the reference loops. With ``--models`` every model is also timed per operator (the
generated KT_OP_BEGIN/KT_OP_END hooks), in the reports' ``per_op`` format. Outputs are checked
against TFLite Micro on the way.

    .venv/bin/python benchmarks/kernels.py [--cpus cortex-m4f ...] [--models] [--no-ref]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from codegen_support.build import TflmModel  # noqa: E402
from codegen_support.models import (  # noqa: E402
    EXAMPLES,
    MLPERF_TINY,
    build_example,
    build_mlperf_tiny,
    conv_layer,
    convert_int8,
    dense_layer,
)
from codegen_support.qemu import BOARDS, per_op_report, run_on_qemu  # noqa: E402

from kenning_tasks.codegen import generate_c_model  # noqa: E402


def depthwise_layer(h: int, w: int, c: int, k: int, stride: int):
    """One DEPTHWISE_CONV_2D (SAME, ReLU)."""
    import keras

    inp = keras.Input((h, w, c), batch_size=1)
    out = keras.layers.DepthwiseConv2D(k, strides=stride, padding="same", activation="relu")(inp)
    return keras.Model(inp, out), (h, w, c)


def add_layer(h: int, w: int, c: int):
    """A residual ADD of the input and a 1x1 conv of it."""
    import keras

    inp = keras.Input((h, w, c), batch_size=1)
    return keras.Model(inp, keras.layers.Add()([inp, keras.layers.Conv2D(c, 1)(inp)])), (h, w, c)


CASES = {
    "conv 8x8x1->8 k3 (digits #1)": lambda: conv_layer(8, 8, 1, 8, 3),
    "conv 4x4x8->16 k3 (digits #2)": lambda: conv_layer(4, 4, 8, 16, 3),
    "conv 16x16x16->32 k3": lambda: conv_layer(16, 16, 16, 32, 3),
    "conv 12x12x32->32 k1": lambda: conv_layer(12, 12, 32, 32, 1),
    "fc 64->32 (digits)": lambda: dense_layer(64, 32),
    "fc 256->128": lambda: dense_layer(256, 128),
    "depthwise 25x5x64 k3 (DS-CNN)": lambda: depthwise_layer(25, 5, 64, 3, 1),
    "depthwise 24x24x32 k3 s2": lambda: depthwise_layer(24, 24, 32, 3, 2),
    "depthwise 48x48x8 k3 (MobileNet #1)": lambda: depthwise_layer(48, 48, 8, 3, 1),
    "depthwise 6x6x128 k3 (MobileNet)": lambda: depthwise_layer(6, 6, 128, 3, 1),
    "add 16x16x16 + conv 1x1": lambda: add_layer(16, 16, 16),
}


def measure(path: Path, work: Path, cpus: list[str], ref: bool, per_op: bool = False) -> dict:
    gen = generate_c_model(path, work / "gen")
    rng = np.random.default_rng(0)
    inputs = [rng.integers(-128, 128, gen.input_bytes, dtype=np.int8) for _ in range(2)]
    reference = TflmModel(path)
    expected = [reference(x).astype(np.int8) for x in inputs]
    result: dict = {"macs": gen.macs, "cpus": {}}
    for cpu in cpus:
        figures: dict = {}
        for label, flags in (("fast", ()), ("ref", ("-DKT_FAST_KERNELS=0",)))[:2 if ref else 1]:
            run = run_on_qemu(gen, cpu, inputs, work / f"{cpu}_{label}", flags,
                              per_op=per_op and label == "fast")
            for got, want in zip(run.outputs, expected, strict=True):
                if not np.array_equal(got, want):
                    raise SystemExit(f"{path.name} {cpu} {label}: output differs from TFLM")
            figures[f"{label}_instructions_per_mac"] = round(min(run.instructions) / gen.macs, 3)
            if run.op_instructions is not None:
                figures["per_op"] = per_op_report(gen, run)
        result["cpus"][cpu] = figures
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpus", nargs="+", default=list(BOARDS), choices=list(BOARDS))
    parser.add_argument("--models", action="store_true",
                        help="also whole models (examples, MLPerf-Tiny-shaped), timed per op")
    parser.add_argument("--no-layers", action="store_true", help="skip the one-layer cases")
    parser.add_argument("--no-ref", action="store_true", help="skip the reference loops")
    args = parser.parse_args()
    import keras

    rows = []
    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(sys.stderr):
        work = Path(tmp)
        for i, (name, build) in enumerate(CASES.items() if not args.no_layers else []):
            keras.utils.set_random_seed(i)
            model, shape = build()
            path = convert_int8(model, shape, work / f"case{i}.tflite", seed=i)
            rows.append({"case": name, **measure(path, work / f"case{i}", args.cpus,
                                                 not args.no_ref)})
        if args.models:
            for name in EXAMPLES:
                path = build_example(name, work)
                rows.append({"model": name, **measure(path, work / name, args.cpus,
                                                      not args.no_ref, per_op=True)})
            for name in MLPERF_TINY:
                path = build_mlperf_tiny(name, work)
                rows.append({"model": name, **measure(path, work / name, args.cpus, False,
                                                      per_op=True)})
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
