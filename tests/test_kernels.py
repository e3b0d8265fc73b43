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
from codegen_support import qemu, single_ops
from codegen_support.build import HOST_VARIANTS, HostModel, TflmModel
from codegen_support.models import conv_layer, convert_int8, dense_layer
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


# -- the optimized kernels on the real instruction sets (QEMU MPS2 boards) ---------------------

# Layer shapes whose instructions/MAC are bounded (fast path, -icount instruction counting).
PERF_CASES = {"conv 16x16x16->32 k3": (conv_layer, (16, 16, 16, 32, 3)),
              "fc 256->128": (dense_layer, (256, 128))}
MAX_INSNS_PER_MAC = {"cortex-m3": 5.0, "cortex-m4f": 3.0, "cortex-m7": 3.0}


@pytest.fixture(scope="module")
def qemu_models(tmp_path_factory: pytest.TempPathFactory) -> dict:
    import keras

    root = tmp_path_factory.mktemp("qemu_models")
    models = {}
    for seed, builder in enumerate([single_ops.conv2d, single_ops.conv2d,
                                    single_ops.fully_connected, single_ops.add]):
        keras.utils.set_random_seed(100 + seed)
        rng = np.random.default_rng(100 + seed)
        case = builder(rng)
        path = convert(case, root / f"{case.name}_{seed}.tflite", rng)
        models[path.stem] = path
    for i, (name, (build, shape)) in enumerate(PERF_CASES.items()):
        keras.utils.set_random_seed(i)
        model, input_shape = build(*shape)
        models[name] = convert_int8(model, input_shape, root / f"perf{i}.tflite", seed=i)
    return models


@pytest.mark.slow
@pytest.mark.skipif(not qemu.tools_available(), reason="needs qemu-system-arm, arm-none-eabi-gcc")
@pytest.mark.parametrize("cpu", list(qemu.BOARDS))
def test_fast_kernels_on_cortex_m_match_tflm(cpu: str, qemu_models: dict, tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    for name, path in qemu_models.items():
        gen = generate_c_model(path, tmp_path / "gen" / name.replace(" ", "_"))
        reference = TflmModel(path)
        count = 1 if name in PERF_CASES else 6
        inputs = [rng.integers(-128, 128, gen.input_bytes, dtype=np.int8) for _ in range(count)]
        run = qemu.run_on_qemu(gen, cpu, inputs, tmp_path / name.replace(" ", "_"))
        for x, got in zip(inputs, run.outputs, strict=True):
            assert got.tolist() == reference(x).astype(np.int8).tolist(), (cpu, name)
        if name in PERF_CASES:
            per_mac = run.instructions[0] / gen.macs
            assert per_mac <= MAX_INSNS_PER_MAC[cpu], f"{cpu} {name}: {per_mac:.2f} insns/MAC"
