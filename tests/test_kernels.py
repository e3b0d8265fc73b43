"""Every int8 kernel, through generated C, against TFLite Micro on random models: bit-exact.

Each case is a seeded one-kernel Keras model with random shapes, options and quantisation
parameters, converted to full int8. The generated C is built with host gcc in three variants
(reference loops, portable fast path, fast path with emulated Cortex-M DSP instructions) and
must produce exactly TFLite Micro's output bytes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from codegen_support.build import HOST_VARIANTS, HostModel, TflmModel
from codegen_support.single_ops import BUILDERS, convert

from kenning_tasks.codegen import generate_c_model
from kenning_tasks.codegen.reader import read_tflite

SEEDS = (0, 1, 2)
EXPECTED_OP = {
    "conv2d": "CONV_2D", "depthwise_conv2d": "DEPTHWISE_CONV_2D",
    "fully_connected": "FULLY_CONNECTED", "max_pool2d": "MAX_POOL_2D",
    "average_pool2d": "AVERAGE_POOL_2D", "add": "ADD", "softmax": "SOFTMAX",
    "quantize_dequantize": "DEQUANTIZE",
}


@pytest.fixture(scope="module")
def runtime_work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("runtime")


def _inputs(case, gen, path: Path, rng: np.random.Generator, count: int = 24) -> list[np.ndarray]:
    if case.float_io:
        lo, hi = case.input_range
        span = hi - lo
        n = gen.input_bytes // 4
        # Include values outside the calibration range so QUANTIZE saturates, and exact halves.
        batch = [rng.uniform(lo - span, hi + span, n).astype(np.float32) for _ in range(count)]
        # Exact halves of the quantisation step exercise QUANTIZE's half-away-from-zero rounding.
        step = _quantize_scale(path)
        batch.append(((np.arange(n) - n // 2) * 0.5 * step).astype(np.float32))
        return batch
    n = gen.input_bytes
    batch = [rng.integers(-128, 128, n, dtype=np.int8) for _ in range(count)]
    batch += [np.full(n, -128, np.int8), np.full(n, 127, np.int8)]
    return batch


def _quantize_scale(path: Path) -> float:
    """Scale of the int8 tensor produced by the model's leading QUANTIZE op."""
    graph = read_tflite(path)
    assert graph.operators[0].opcode == "QUANTIZE"
    return graph.tensors[graph.operators[0].outputs[0]].scale


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("builder", BUILDERS, ids=lambda b: b.__name__)
def test_kernel_matches_tflm(builder, seed: int, tmp_path: Path, runtime_work: Path) -> None:
    import keras

    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng([seed, BUILDERS.index(builder)])
    case = builder(rng)
    path = convert(case, tmp_path / f"{case.name}.tflite", rng)
    gen = generate_c_model(path, tmp_path / "gen")
    assert EXPECTED_OP[case.name] in gen.ops

    reference = TflmModel(path)
    out_dtype = np.float32 if case.float_io else np.int8
    inputs = _inputs(case, gen, path, rng)
    expected = [np.asarray(reference(x)).astype(out_dtype) for x in inputs]
    for variant in HOST_VARIANTS:
        model = HostModel(gen, runtime_work, variant)
        for x, want in zip(inputs, expected, strict=True):
            got = model(x, out_dtype)
            # Compare bytes: exact, and float outputs must match bit for bit too.
            assert got.tobytes() == want.tobytes(), (
                f"{variant} differs from TFLM for {gen.ops}: {got} vs {want}")
