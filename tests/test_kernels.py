"""Every int8 kernel, through generated C, against TFLite Micro on random models: bit-exact.

Each case is a seeded one-kernel Keras model with random shapes, options and quantisation
parameters, converted to full int8. The generated C is built with host gcc in three variants
(reference loops, portable fast path, fast path with emulated Cortex-M DSP instructions) and
must produce exactly TFLite Micro's output bytes.
"""

from __future__ import annotations

import ctypes
import subprocess
from pathlib import Path

import numpy as np
import pytest
from codegen_support import qemu, single_ops
from codegen_support.build import HOST_VARIANTS, HostModel, TflmModel
from codegen_support.models import build_example, conv_layer, convert_int8, dense_layer
from codegen_support.single_ops import BUILDERS, MORE_BUILDERS, convert

from kenning_tasks.codegen import generate_c_model, quant, runtime_dir
from kenning_tasks.codegen.reader import read_tflite

SEEDS = (0, 1, 2)
EXPECTED_OP = {
    "conv2d": "CONV_2D", "depthwise_conv2d": "DEPTHWISE_CONV_2D",
    "fully_connected": "FULLY_CONNECTED", "max_pool2d": "MAX_POOL_2D",
    "average_pool2d": "AVERAGE_POOL_2D", "add": "ADD", "softmax": "SOFTMAX",
    "quantize_dequantize": "DEQUANTIZE", "tanh": "TANH", "logistic": "LOGISTIC", "relu": "RELU",
    "relu6": "RELU6", "leaky_relu": "LEAKY_RELU", "hard_swish": "HARD_SWISH", "mul": "MUL",
    "sub": "SUB", "concatenation": "CONCATENATION", "mean": "MEAN", "pad": "PAD",
    "transpose": "TRANSPOSE", "slice": "SLICE", "sum": "SUM",
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


@pytest.mark.slow  # trains or converts a model
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


@pytest.mark.slow
@pytest.mark.parametrize("builder", MORE_BUILDERS, ids=lambda b: b.__name__)
def test_more_ops_match_tflm(builder, tmp_path: Path, runtime_work: Path) -> None:
    """TANH, LOGISTIC, RELU(6), LEAKY_RELU, HARD_SWISH (tables: every int8 input value fed),
    MUL, SUB, CONCATENATION, MEAN, PAD, TRANSPOSE, SLICE, SUM: bit-exact with TFLite Micro."""
    import keras

    index = MORE_BUILDERS.index(builder)
    keras.utils.set_random_seed(index)
    rng = np.random.default_rng([7, index])
    case = builder(rng)
    path = convert(case, tmp_path / f"{case.name}.tflite", rng)
    gen = generate_c_model(path, tmp_path / "gen")
    assert EXPECTED_OP[case.name] in gen.ops, gen.ops
    reference = TflmModel(path)
    inputs = _inputs(case, gen, path, rng, count=6)
    if gen.input_bytes == 256:  # every int8 value once, in a shuffled order
        inputs.append(rng.permutation(np.arange(-128, 128)).astype(np.int8))
    for variant in HOST_VARIANTS:
        model = HostModel(gen, runtime_work, variant)
        for x in inputs:
            want = np.asarray(reference(x)).astype(np.int8)
            assert model(x).tobytes() == want.tobytes(), (variant, gen.ops)


# Depthwise shapes for the fast path (depth multiplier 1): channel counts that are and are not
# multiples of 4, strides 1 and 2 (Armv7E-M: the int16 ring band and the int8 band), dilation
# (vertical only too: ring rows dil_h apart), SAME/VALID, a non-square kernel, inputs 1-3 wide,
# odd widths at stride 2, wider rows.
DEPTHWISE_FAST_CASES = [
    ((7, 9, 5), (3, 3), 1, 1, "same"), ((8, 8, 8), (3, 3), 2, 1, "same"),
    ((7, 8, 3), (3, 3), 1, 2, "same"), ((9, 6, 4), (5, 3), 1, 1, "valid"),
    ((5, 6, 1), (2, 2), 2, 1, "valid"), ((6, 6, 12), (3, 3), 2, 1, "valid"),
    ((3, 1, 4), (3, 3), 1, 1, "same"), ((4, 2, 7), (3, 3), 2, 1, "same"),
    ((5, 3, 4), (3, 3), 1, 1, "valid"), ((6, 14, 4), (5, 5), 1, 1, "same"),
    ((5, 12, 9), (3, 3), 1, 3, "same"),
    ((5, 14, 5), (3, 3), 1, 1, "same"), ((4, 15, 8), (3, 3), 1, 1, "valid"),
    ((2, 16, 4), (3, 3), 1, 1, "same"), ((6, 27, 3), (3, 3), 2, 1, "same"),
    ((7, 25, 6), (3, 3), 2, 1, "valid"), ((6, 13, 4), (3, 3), 1, (2, 1), "same"),
    # Armv7E-M's planar 3x3 kernel: rows and (taller than wide) columns, stride 1 and 2 along
    # the line and across it, lines of 1..7 outputs (partial passes), ReLU (no upper bound)
    # and no activation (neither bound); lines under 8 outputs keep the 4-channel band
    ((13, 5, 8), (3, 3), 1, 1, "same", "relu"), ((17, 6, 4), (3, 3), 2, 1, "same", None),
    ((7, 17, 5), (3, 3), (1, 2), 1, "same", "relu"), ((19, 4, 8), (3, 3), (2, 1), 1, "valid"),
    ((3, 3, 16), (3, 3), 1, 1, "same", None),
]


@pytest.mark.slow
@pytest.mark.parametrize("case", DEPTHWISE_FAST_CASES, ids=lambda c: "x".join(map(str, c[0])))
def test_depthwise_fast_path_matches_tflm(case, tmp_path: Path, runtime_work: Path) -> None:
    import keras

    shape, kernel, stride, dilation, padding, *activation = case
    keras.utils.set_random_seed(3)
    rng = np.random.default_rng(list(shape))
    inp = keras.Input(shape, batch_size=1)
    out = keras.layers.DepthwiseConv2D(kernel, strides=stride, dilation_rate=dilation,
                                       padding=padding,
                                       activation=activation[0] if activation else "relu6")(inp)
    op_case = single_ops.OpCase("depthwise_conv2d", keras.Model(inp, out), shape, (-1.5, 2.0))
    path = convert(op_case, tmp_path / "dw.tflite", rng)
    gen = generate_c_model(path, tmp_path / "gen")
    assert "_dw_weights" in gen.sources[0].read_text()  # the fast path is generated
    reference = TflmModel(path)
    inputs = _inputs(op_case, gen, path, rng, count=8)
    for variant in HOST_VARIANTS:
        model = HostModel(gen, runtime_work, variant)
        for x in inputs:
            assert model(x).tobytes() == reference(x).astype(np.int8).tobytes(), variant


# FULLY_CONNECTED with fewer than 4 rows (no widened column on DSP builds, rows in pairs and a
# single one), and with leftover rows after the 4-row groups (6 and 7 outputs).
FC_FEW_ROWS_CASES = [(256, 2), (37, 1), (40, 3), (24, 6), (33, 7), (36, 7), (20, 5)]


@pytest.mark.slow
@pytest.mark.parametrize("case", FC_FEW_ROWS_CASES, ids=lambda c: f"{c[0]}to{c[1]}")
def test_fully_connected_leftover_rows_match_tflm(case, tmp_path: Path,
                                                  runtime_work: Path) -> None:
    import keras

    n_in, n_out = case
    keras.utils.set_random_seed(6)
    rng = np.random.default_rng(list(case))
    inp = keras.Input((n_in,), batch_size=1)
    op_case = single_ops.OpCase("fully_connected",
                                keras.Model(inp, keras.layers.Dense(n_out)(inp)), (n_in,),
                                (-1.5, 2.0))
    path = convert(op_case, tmp_path / "fc.tflite", rng)
    reference = TflmModel(path)
    gen = generate_c_model(path, tmp_path / "gen")
    inputs = _inputs(op_case, gen, path, rng, count=8)
    for variant in HOST_VARIANTS:
        model = HostModel(gen, runtime_work, variant)
        for x in inputs:
            assert model(x).tobytes() == reference(x).astype(np.int8).tobytes(), variant


# AVERAGE_POOL_2D's 4-channel window sums (windows of up to 256 taps; DS-CNN's 25x5 one; a
# bigger global pool keeps the per-channel loop), MAX_POOL_2D's windows inside the image, and
# ADD's runs (dense with a tail of fewer
# than 4 elements, and broadcast from a (1, 1, C) tensor).
POOL_ADD_CASES = {
    "avgpool 9x7x6 k3 s2 same": ((9, 7, 6), "pool", (3, 2, "same")),
    "avgpool 25x5x8 global": ((25, 5, 8), "pool", ((25, 5), 1, "valid")),
    "avgpool 17x17x5 global": ((17, 17, 5), "pool", ((17, 17), 1, "valid")),
    "maxpool 8x8x8 k2 s2": ((8, 8, 8), "maxpool", (2, 2, "valid")),
    "maxpool 9x9x4 k3 s2": ((9, 9, 4), "maxpool", (3, 2, "valid")),
    # the 2x2 word paths: 16 channels stride 2 (two LDRD pairs a pixel), 12 channels (any word
    # count), stride 1 (overlapping windows), odd input (a row and column left over)
    "maxpool 4x4x16 k2 s2": ((4, 4, 16), "maxpool", (2, 2, "valid")),
    "maxpool 6x6x12 k2 s2": ((6, 6, 12), "maxpool", (2, 2, "valid")),
    "maxpool 5x5x8 k2 s1": ((5, 5, 8), "maxpool", (2, 1, "valid")),
    "maxpool 7x5x8 k2 s2": ((7, 5, 8), "maxpool", (2, 2, "valid")),
    "add 5x3x7 dense": ((5, 3, 7), "add", None),
    "add 4x4x16 dense": ((4, 4, 16), "add", None),
    "add 3x5x6 broadcast": ((3, 5, 6), "add_broadcast", None),
}


def _pool_add_model(shape: tuple[int, int, int], kind: str, pool: tuple | None):
    import keras

    inp = keras.Input(shape, batch_size=1)
    if kind in ("pool", "maxpool"):
        size, stride, padding = pool
        layer = keras.layers.AveragePooling2D if kind == "pool" else keras.layers.MaxPooling2D
        return keras.Model(inp, layer(size, stride, padding)(inp))
    if kind == "add":
        other = keras.layers.Conv2D(shape[-1], 1)(inp)
    else:
        other = keras.layers.GlobalAveragePooling2D(keepdims=True)(inp)
        other = keras.layers.Conv2D(shape[-1], 1)(other)
    return keras.Model(inp, keras.layers.Add()([inp, other]))


@pytest.mark.slow
@pytest.mark.parametrize("name", list(POOL_ADD_CASES))
def test_pool_and_add_fast_paths_match_tflm(name: str, tmp_path: Path,
                                            runtime_work: Path) -> None:
    import keras

    shape, kind, pool = POOL_ADD_CASES[name]
    keras.utils.set_random_seed(4)
    rng = np.random.default_rng(list(shape))
    op_name = {"pool": "average_pool2d", "maxpool": "max_pool2d"}.get(kind, "add")
    op_case = single_ops.OpCase(op_name,
                                _pool_add_model(shape, kind, pool), shape, (-2.0, 3.0))
    path = convert(op_case, tmp_path / "m.tflite", rng)
    gen = generate_c_model(path, tmp_path / "gen")
    assert EXPECTED_OP[op_case.name] in gen.ops, gen.ops
    reference = TflmModel(path)
    inputs = _inputs(op_case, gen, path, rng, count=6)
    inputs += [np.full(gen.input_bytes, v, np.int8) for v in (-128, 127)]  # extreme sums
    for variant in HOST_VARIANTS:
        model = HostModel(gen, runtime_work, variant)
        for x in inputs:
            assert model(x).tobytes() == reference(x).astype(np.int8).tobytes(), variant


# CONV_2D shapes for the fast path's variants: one input channel (3x3 and a DS-CNN-like 4x3
# stride 2), 3 channels stride 2, 1x1 stride 1 and 2 (the input pixel read as the column),
# 1x1 with channels not a multiple of 4 (im2col with int16 rows), dilation, out_c not a multiple
# of 4 (leftover rows) and odd pixel counts (the two-pixel pass leaves a single pixel); the
# 40x36x3 input's padded copy exceeds MAX_PADDED_COPY_BYTES (checked im2col, word runs inside).
CONV_FAST_CASES = [
    ((40, 36, 3), (3, 3), 2, 1, "same", 8),
    ((8, 8, 1), (3, 3), 1, 1, "same", 8), ((11, 6, 1), (4, 3), 2, 1, "same", 5),
    ((9, 7, 3), (3, 3), 2, 1, "same", 6), ((7, 5, 8), (1, 1), 1, 1, "same", 16),
    ((7, 7, 12), (1, 1), 2, 1, "valid", 10), ((5, 5, 5), (1, 1), 1, 1, "valid", 7),
    ((6, 7, 4), (3, 3), 1, 2, "same", 9), ((5, 3, 2), (2, 2), 1, 1, "valid", 3),
]
POINTWISE_CASES = [
    # Armv7E-M's pointwise kernel (conv2d_pointwise.c, in_c 4, 8 and 16): odd pixel counts, ReLU6
    # and no activation, and the clamps ("concat": ReLU, ReLU6 and plain branches sharing one
    # output scale, so act_min > -128 and act_max < 127 as in CONV_SMALL_C_CASES; "concat_hi":
    # ReLU and ReLU6, act_min -128 and act_max < 127); 6 filters: the generic path
    ((9, 5, 8), (1, 1), 1, 1, "valid", 12, "relu6"), ((5, 3, 4), (1, 1), 1, 1, "same", 8, None),
    ((7, 3, 4), (1, 1), 1, 1, "same", 4, "relu6"), ((3, 7, 8), (1, 1), 1, 1, "same", 8, "concat"),
    ((5, 5, 4), (1, 1), 1, 1, "valid", 4, "concat"), ((3, 3, 8), (1, 1), 1, 1, "same", 6, None),
    ((5, 3, 8), (1, 1), 1, 1, "same", 4, "concat_hi"),
    ((3, 3, 4), (1, 1), 1, 1, "valid", 8, "concat_hi"),
    # in_c 16: the kernel for the full activation range, the generic path with a clamp
    ((5, 3, 16), (1, 1), 1, 1, "same", 8, "relu6"), ((3, 3, 16), (1, 1), 1, 1, "same", 4, "concat"),
]
CONV_FAST_CASES += POINTWISE_CASES


def _conv_fast_case(case, path: Path, rng: np.random.Generator):
    import keras

    shape, kernel, stride, dilation, padding, filters, *rest = case
    activation = rest[0] if rest else "relu"
    keras.utils.set_random_seed(4)
    inp = keras.Input(shape, batch_size=1)
    value_range = (-1.5, 2.0)
    if activation in ("concat", "concat_hi"):
        acts = ("relu", "relu6", None) if activation == "concat" else ("relu", "relu6")
        out = keras.layers.Concatenate()([
            keras.layers.Conv2D(filters, kernel, strides=stride, dilation_rate=dilation,
                                padding=padding, activation=act)(inp)
            for act in acts])
        value_range = (-6.0, 9.0)
    else:
        out = keras.layers.Conv2D(filters, kernel, strides=stride, dilation_rate=dilation,
                                  padding=padding, activation=activation)(inp)
    op_case = single_ops.OpCase("conv2d", keras.Model(inp, out), shape, value_range)
    return op_case, convert(op_case, path, rng)


def _check_conv_layouts(op_case, path: Path, rng: np.random.Generator, tmp_path: Path,
                        runtime_work: Path) -> None:
    """A CONV_2D model's fused fast path, int16 and int8 weight layouts, every host build,
    against TFLite Micro."""
    reference = TflmModel(path)
    for layout in ("auto", "int8"):
        gen = generate_c_model(path, tmp_path / f"gen_{layout}", weight_layout_request=layout)
        assert "_rq_fast" in gen.sources[0].read_text()  # the fused fast path is generated
        inputs = _inputs(op_case, gen, path, rng, count=8)
        for variant in HOST_VARIANTS:
            model = HostModel(gen, runtime_work, variant)
            for x in inputs:
                want = reference(x).astype(np.int8).tobytes()
                assert model(x).tobytes() == want, (variant, layout)


@pytest.mark.slow
@pytest.mark.parametrize("case", CONV_FAST_CASES, ids=lambda c: "x".join(map(str, c[0])) +
                         f"_k{c[1][0]}{c[1][1]}s{c[2]}" + "".join(f"_{a}" for a in c[6:]))
def test_conv_fast_paths_match_tflm(case, tmp_path: Path, runtime_work: Path) -> None:
    """Every CONV_2D fast path (two pixels per pass and its single-pixel tail, direct 1x1
    columns, checked and padded im2col), with int16 and with int8 weights on the DSP build."""
    rng = np.random.default_rng(list(case[0]))
    op_case, path = _conv_fast_case(case, tmp_path / "conv.tflite", rng)
    _check_conv_layouts(op_case, path, rng, tmp_path, runtime_work)


@pytest.mark.slow
@pytest.mark.skipif(not qemu.tools_available(), reason="needs qemu-system-arm, arm-none-eabi-gcc")
@pytest.mark.parametrize("cpu", list(qemu.BOARDS))
def test_conv_fast_paths_on_cortex_m_match_tflm(cpu: str, tmp_path: Path) -> None:
    """The CONV_2D fast paths on the real instruction sets (SMLAD inline assembly, int8 weights
    widened by SXTB16 on the DSP cores), both weight layouts."""
    rng = np.random.default_rng(9)
    # Without DSP both layouts are the same int8 pack4 build: one run is enough there. The
    # pointwise kernel is Armv7E-M-only and int16-only (the host tests cover the generic path
    # on those shapes): its cases run on the DSP cores' default layout.
    dsp = cpu != "cortex-m3"
    for i, case in enumerate(CONV_FAST_CASES if dsp else CONV_FAST_CASES[:-len(POINTWISE_CASES)]):
        _, path = _conv_fast_case(case, tmp_path / f"conv{i}.tflite", rng)
        reference = TflmModel(path)
        pointwise = case in POINTWISE_CASES
        for layout in ("auto", "int8") if dsp and not pointwise else ("auto",):
            gen = generate_c_model(path, tmp_path / f"gen{i}_{layout}",
                                   weight_layout_request=layout)
            inputs = [rng.integers(-128, 128, gen.input_bytes, dtype=np.int8) for _ in range(2)]
            run = qemu.run_on_qemu(gen, cpu, inputs, tmp_path / f"q{i}_{layout}")
            for x, got in zip(inputs, run.outputs, strict=True):
                assert got.tobytes() == reference(x).astype(np.int8).tobytes(), (cpu, case, layout)


# 1-channel 3x3 layers (conv2d_small_c.c): SAME/VALID, stride 1/2, odd widths (the one-pixel
# tail), ReLU / ReLU6 / none, filter counts not a multiple of 4 (the last pack4 group).
CONV_SMALL_C_CASES = [
    ((8, 8, 1), 1, "same", 8, "relu"), ((9, 7, 1), 1, "same", 5, "relu6"),
    ((10, 9, 1), 2, "same", 6, None), ((7, 9, 1), 1, "valid", 4, "relu"),
    ((12, 11, 1), 2, "valid", 3, "relu6"), ((5, 6, 1), 1, "valid", 9, None),
    # more channels than one block of the Armv7E-M pass (8): a block of 8, then one of 4
    ((8, 8, 1), 1, "same", 12, "relu"),
    # ReLU, ReLU6 and plain layers on one input, concatenated: CONCATENATION shares one
    # output scale, so the activations clamp inside [-128, 127] (act_min > -128, act_max < 127)
    ((9, 9, 1), 1, "same", 7, "concat"),
]


def _conv_small_c_case(case, path: Path, rng: np.random.Generator):
    import keras

    shape, stride, padding, filters, activation = case
    keras.utils.set_random_seed(5)
    inp = keras.Input(shape, batch_size=1)
    if activation == "concat":
        out = keras.layers.Concatenate()([
            keras.layers.Conv2D(filters + i, (3, 3), strides=stride, padding=padding,
                                activation=act)(inp)
            for i, act in enumerate(("relu", "relu6", None))])
        op_case = single_ops.OpCase("conv2d", keras.Model(inp, out), shape, (-6.0, 9.0))
        return op_case, convert(op_case, path, rng)
    out = keras.layers.Conv2D(filters, (3, 3), strides=stride, padding=padding,
                              activation=activation)(inp)
    op_case = single_ops.OpCase("conv2d", keras.Model(inp, out), shape, (-1.5, 2.0))
    return op_case, convert(op_case, path, rng)


def _small_c_id(case) -> str:
    return "x".join(map(str, case[0])) + f"_s{case[1]}{case[2]}{case[3]}_{case[4]}"


@pytest.mark.slow
@pytest.mark.parametrize("case", CONV_SMALL_C_CASES, ids=_small_c_id)
def test_conv_small_c_matches_tflm(case, tmp_path: Path, runtime_work: Path) -> None:
    """The 1-channel 3x3 direct kernel, int16 and int8 weight layouts, every host build."""
    rng = np.random.default_rng(list(case[0]))
    op_case, path = _conv_small_c_case(case, tmp_path / "conv.tflite", rng)
    _check_conv_layouts(op_case, path, rng, tmp_path, runtime_work)


@pytest.mark.slow
@pytest.mark.skipif(not qemu.tools_available(), reason="needs qemu-system-arm, arm-none-eabi-gcc")
@pytest.mark.parametrize("cpu", ["cortex-m3", "cortex-m4f"])
def test_conv_small_c_on_cortex_m_matches_tflm(cpu: str, tmp_path: Path) -> None:
    """The 1-channel kernel on the real instruction sets (SMLAD pairs on M4F, plain C on M3):
    an odd-width SAME layer (pairs + one-pixel tail), a stride-2 layer, the clamped ones, a
    VALID layer whose last pixel ends at the input's last byte and a two-block one (12 filters)."""
    rng = np.random.default_rng(11)
    for i, case in enumerate([CONV_SMALL_C_CASES[1], CONV_SMALL_C_CASES[2],
                              CONV_SMALL_C_CASES[3], CONV_SMALL_C_CASES[-2],
                              CONV_SMALL_C_CASES[-1]]):
        _, path = _conv_small_c_case(case, tmp_path / f"conv{i}.tflite", rng)
        reference = TflmModel(path)
        gen = generate_c_model(path, tmp_path / f"gen{i}")
        inputs = [rng.integers(-128, 128, gen.input_bytes, dtype=np.int8) for _ in range(2)]
        run = qemu.run_on_qemu(gen, cpu, inputs, tmp_path / f"q{i}")
        for x, got in zip(inputs, run.outputs, strict=True):
            assert got.tobytes() == reference(x).astype(np.int8).tobytes(), (cpu, case)


_MBQM_CHECK_C = r"""
#include "kt_fixedpoint.h"
/* Number of (x, channel) pairs where the fast requantization differs from kt_mbqm + zp. */
int32_t mismatches(const int32_t *xs, int32_t nx, const int32_t *rows, const int32_t *mult,
                   const int32_t *shift, int32_t nc, int32_t zp)
{
    int32_t bad = 0;
    for (int32_t c = 0; c < nc; ++c) {
        const int32_t *r = rows + 4 * c;
        for (int32_t i = 0; i < nx; ++i) {
            bad += kt_mbqm_fast(xs[i], r[0], r[1], r[2], r[3]) !=
                   (int32_t)((uint32_t)kt_mbqm(xs[i], mult[c], shift[c]) + (uint32_t)zp);
        }
    }
    return bad;
}
/* The same for the Armv7E-M form (rows from quant.dsp_requant_rows), for |x| < 2^30. */
int32_t dsp_mismatches(const int32_t *xs, int32_t nx, const int32_t *rows, const int32_t *mult,
                       const int32_t *shift, int32_t nc, int32_t zp)
{
    int32_t bad = 0;
    for (int32_t c = 0; c < nc; ++c) {
        const int32_t *r = rows + 3 * c;
        for (int32_t i = 0; i < nx; ++i) {
            bad += kt_mbqm_dsp(xs[i], r[0], r[1], r[2]) !=
                   (int32_t)((uint32_t)kt_mbqm(xs[i], mult[c], shift[c]) + (uint32_t)zp);
        }
    }
    return bad;
}
"""


def test_fast_requantization_equals_mbqm(tmp_path: Path) -> None:
    """The one-multiply requantization of the fast paths against TFLite's two-step MBQM on the
    whole int32 range (the Armv7E-M SMMLAR form below 2^30): extremes, rounding ties, every
    right shift, edge multipliers and output zero points, which the fast form folds into its
    rounding constant."""
    rng = np.random.default_rng(11)
    shifts = np.arange(-quant.FAST_REQUANT_MAX_SHIFT, 0, dtype=np.int32)
    mults = []
    for shift in shifts:  # edge multipliers (2^30 = an exact power-of-two scale) and random ones
        mults += [(1 << 30, shift), ((1 << 31) - 1, shift)]
        mults += [(int(m), shift) for m in rng.integers(1 << 30, 1 << 31, 4)]
    mult = np.array([m for m, _ in mults], dtype=np.int32)
    shift = np.array([s for _, s in mults], dtype=np.int32)
    assert quant.fast_requant_rows(mult, np.zeros_like(shift)) is None
    assert quant.fast_requant_rows(mult, shift - 1) is None  # a shift beyond the range
    xs = [-(1 << 31), -(1 << 31) + 1, (1 << 31) - 1, -1, 0, 1, -2, 2]
    xs += [sign * ((1 << k) + d) for k in range(31) for d in (-1, 0, 1) for sign in (1, -1)]
    xs += rng.integers(-(1 << 31), 1 << 31, 2000).tolist()
    xs += rng.integers(-(1 << 16), 1 << 16, 2000).tolist()  # typical accumulators
    x = np.clip(np.array(xs, dtype=np.int64), -(1 << 31), (1 << 31) - 1).astype(np.int32)
    src = tmp_path / "check.c"
    src.write_text(_MBQM_CHECK_C)
    lib_path = tmp_path / "check.so"
    subprocess.run(["gcc", "-O2", "-fPIC", "-shared", "-std=c99", "-Wall", "-Wextra", "-Werror",
                    "-I", str(runtime_dir()), str(src), "-o", str(lib_path)], check=True)
    lib = ctypes.CDLL(str(lib_path))
    lib.mismatches.restype = ctypes.c_int32
    ptr, n = ctypes.c_void_p, ctypes.c_int32
    lib.mismatches.argtypes = [ptr, n, ptr, ptr, ptr, n, n]
    lib.dsp_mismatches.restype = ctypes.c_int32
    lib.dsp_mismatches.argtypes = [ptr, n, ptr, ptr, ptr, n, n]
    limit = quant.FAST_REQUANT_MAX_ACC
    assert quant.fast_requant_rows(mult, shift, 0, acc_bound=limit) is None
    small = x[np.abs(x.astype(np.int64)) < limit]
    small = np.concatenate([small, np.array([limit - 1, 1 - limit, -limit // 2], np.int32)])
    for zp in (-128, -1, 0, 5, 127):
        rows = np.ascontiguousarray(quant.fast_requant_rows(mult, shift, zp), dtype=np.int32)
        bad = lib.mismatches(x.ctypes.data, x.size, rows.ctypes.data, mult.ctypes.data,
                             shift.ctypes.data, mult.size, zp)
        assert bad == 0, zp
        dsp = np.ascontiguousarray(quant.dsp_requant_rows(rows), dtype=np.int32)
        bad = lib.dsp_mismatches(small.ctypes.data, small.size, dsp.ctypes.data,
                                 mult.ctypes.data, shift.ctypes.data, mult.size, zp)
        assert bad == 0, zp


# -- the optimized kernels on the real instruction sets (QEMU MPS2 boards) ---------------------

# Layer shapes whose instructions/MAC are bounded (fast path, -icount instruction counting).
PERF_CASES = {"conv 16x16x16->32 k3": (conv_layer, (16, 16, 16, 32, 3)),
              "fc 256->128": (dense_layer, (256, 128))}
MAX_INSNS_PER_MAC = {"cortex-m3": 4.0, "cortex-m4f": 1.6, "cortex-m7": 1.6}
# The targets for the whole digits model (kt_model_invoke, fast path).
MAX_DIGITS_INSNS_PER_MAC = {"cortex-m3": 5.0, "cortex-m4f": 3.0, "cortex-m7": 3.0}


@pytest.fixture(scope="module")
def qemu_models(tmp_path_factory: pytest.TempPathFactory) -> dict:
    import keras

    root = tmp_path_factory.mktemp("qemu_models")
    models = {}
    # The fast paths and the newer ops on the real instruction sets (the host runs C models
    # of the DSP instructions): depthwise (multiplier 1), SUB/MUL, tables, MEAN, PAD, ...
    builders = [single_ops.conv2d, single_ops.conv2d, single_ops.fully_connected,
                single_ops.add, single_ops.sub, single_ops.mul, single_ops.tanh,
                single_ops.logistic, single_ops.hard_swish, single_ops.mean, single_ops.pad,
                single_ops.concatenation, single_ops.transpose, single_ops.slice_,
                single_ops.sum_, single_ops.sum_]
    for seed, builder in enumerate(builders):
        keras.utils.set_random_seed(100 + seed)
        rng = np.random.default_rng(100 + seed)
        case = builder(rng)
        path = convert(case, root / f"{case.name}_{seed}.tflite", rng)
        models[path.stem] = path
    for i, (name, (build, shape)) in enumerate(PERF_CASES.items()):
        keras.utils.set_random_seed(i)
        model, input_shape = build(*shape)
        models[name] = convert_int8(model, input_shape, root / f"perf{i}.tflite", seed=i)
    models["digits"] = build_example("digits", root)
    models["mixed"] = build_example("mixed", root)  # depthwise fast path, ADD, average pool
    # The paths whose Arm code differs from the host's (4-wide ADD on DSP, the pools' words).
    on_target = ("avgpool 25x5x8 global", "maxpool 8x8x8 k2 s2", "maxpool 4x4x16 k2 s2",
                 "maxpool 7x5x8 k2 s2", "add 5x3x7 dense", "add 3x5x6 broadcast")
    for i, name in enumerate(on_target):
        shape, kind, pool = POOL_ADD_CASES[name]
        keras.utils.set_random_seed(20 + i)
        models[name] = convert_int8(_pool_add_model(shape, kind, pool), shape,
                                    root / f"pool_add{i}.tflite", seed=i)
    keras.utils.set_random_seed(7)
    inp = keras.Input((9, 7, 6), batch_size=1)
    dw = keras.layers.DepthwiseConv2D(3, strides=2, padding="same", activation="relu6")(inp)
    models["depthwise"] = convert_int8(keras.Model(inp, dw), (9, 7, 6), root / "dw.tflite")
    # Armv7E-M's int16 ring band (stride 1; 10 and 6 channels: partial last groups)
    for name, shape, padding in (("dw int16", (6, 5, 10), "valid"),
                                 ("dw int16 wide", (5, 14, 6), "same")):
        keras.utils.set_random_seed(8)
        inp = keras.Input(shape, batch_size=1)
        dw = keras.layers.DepthwiseConv2D(3, padding=padding, activation="relu6")(inp)
        models[name] = convert_int8(keras.Model(inp, dw), shape,
                                    root / f"{name.replace(' ', '_')}.tflite")
    # Armv7E-M's pointwise kernel in assembly: in_c 8, 4 and 16, no clamp and the clamps
    for name, case in (("conv pointwise c8", ((7, 5, 8), (1, 1), 1, 1, "same", 12, "relu6")),
                       ("conv pointwise c4", ((5, 3, 4), (1, 1), 1, 1, "valid", 4, "concat")),
                       ("conv pointwise hi", ((3, 5, 8), (1, 1), 1, 1, "same", 8, "concat_hi")),
                       ("conv pointwise c16", ((3, 5, 16), (1, 1), 1, 1, "same", 12, None))):
        _, models[name] = _conv_fast_case(case, root / f"{name.replace(' ', '_')}.tflite",
                                          np.random.default_rng(12))
    # FULLY_CONNECTED with fewer than 4 rows (no widened column on DSP cores)
    for i, (n_in, n_out) in enumerate(FC_FEW_ROWS_CASES[:3]):
        keras.utils.set_random_seed(30 + i)
        inp = keras.Input((n_in,), batch_size=1)
        models[f"fc {n_in}to{n_out}"] = convert_int8(
            keras.Model(inp, keras.layers.Dense(n_out)(inp)), (n_in,), root / f"fc{i}.tflite")
    # ... and Armv7E-M's int16 requantizing loops (dot_s8.c requant_rows_s16_dsp): groups of 4
    # rows, an odd chunk count, leftover rows reading the widened column, with and without a clamp
    for i, (n_in, n_out, act) in enumerate(((36, 7, "relu6"), (20, 5, None), (24, 6, "relu"))):
        keras.utils.set_random_seed(40 + i)
        inp = keras.Input((n_in,), batch_size=1)
        models[f"fc {n_in}to{n_out} {act}"] = convert_int8(
            keras.Model(inp, keras.layers.Dense(n_out, activation=act)(inp)), (n_in,),
            root / f"fc_rq{i}.tflite")
    # the clamp (act_min > -128, act_max < 127): ReLU, ReLU6 and plain layers concatenated share
    # one output scale
    keras.utils.set_random_seed(43)
    inp = keras.Input((36,), batch_size=1)
    out = keras.layers.Concatenate()([keras.layers.Dense(7, activation=act)(inp)
                                      for act in ("relu", "relu6", None)])
    models["fc 36to7 concat"] = convert_int8(keras.Model(inp, out), (36,),
                                             root / "fc_rq_concat.tflite")
    # Armv7E-M's planar 3x3 kernel in assembly: rows and columns, strides 1 and 2, upper bound
    # or not, last passes moved back (aligned or not)
    for name, shape, stride, activation in (("dw planar rows", (6, 13, 8), 1, "relu"),
                                            ("dw planar rows even", (5, 10, 4), 1, "relu6"),
                                            ("dw planar cols", (13, 5, 12), 1, "relu6"),
                                            ("dw planar s2", (9, 17, 8), 2, None),
                                            ("dw planar cols s2", (19, 6, 4), 2, "relu")):
        keras.utils.set_random_seed(9)
        inp = keras.Input(shape, batch_size=1)
        dw = keras.layers.DepthwiseConv2D(3, strides=stride, padding="same",
                                          activation=activation)(inp)
        models[name] = convert_int8(keras.Model(inp, dw), shape,
                                    root / f"{name.replace(' ', '_')}.tflite")
    return models


@pytest.mark.slow
@pytest.mark.skipif(not qemu.tools_available(), reason="needs qemu-system-arm, arm-none-eabi-gcc")
@pytest.mark.parametrize("cpu", list(qemu.BOARDS))
def test_fast_kernels_on_cortex_m_match_tflm(cpu: str, qemu_models: dict, tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    for name, path in qemu_models.items():
        gen = generate_c_model(path, tmp_path / "gen" / name.replace(" ", "_"))
        reference = TflmModel(path)
        count = 1 if name in PERF_CASES or name == "digits" else 6
        inputs = [rng.integers(-128, 128, gen.input_bytes, dtype=np.int8) for _ in range(count)]
        run = qemu.run_on_qemu(gen, cpu, inputs, tmp_path / name.replace(" ", "_"))
        for x, got in zip(inputs, run.outputs, strict=True):
            assert got.tolist() == reference(x).astype(np.int8).tolist(), (cpu, name)
        bound = MAX_INSNS_PER_MAC if name in PERF_CASES else MAX_DIGITS_INSNS_PER_MAC
        if name in PERF_CASES or name == "digits":
            per_mac = run.instructions[0] / gen.macs
            assert per_mac <= bound[cpu], f"{cpu} {name}: {per_mac:.2f} insns/MAC"


_RECIP_CHECK_C = r"""
#include <stdint.h>
/* Window sums where the reciprocal division of average_pool2d.c differs from TFLite's
 * rounded division, over every count 1..256 and every sum an int8 window can have. */
int32_t mismatches(void)
{
    int32_t bad = 0;
    for (int32_t count = 1; count <= 256; ++count) {
        const uint32_t recip = (uint32_t)((((uint64_t)1 << 24) + count - 1) / count);
        for (int32_t acc = -128 * count; acc <= 127 * count; ++acc) {
            const int32_t want = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
            const uint32_t n = (uint32_t)(acc < 0 ? -acc : acc) + (uint32_t)(count / 2);
            const int32_t q = (int32_t)((n * recip) >> 24);
            bad += (acc < 0 ? -q : q) != want;
        }
    }
    return bad;
}
"""


def test_average_pool_reciprocal_division_is_exact(tmp_path: Path) -> None:
    """The multiply-by-reciprocal division (no __aeabi_idiv on Cortex-M0) against TFLite's
    rounded integer division on every window count up to 256 taps and every possible sum."""
    src = tmp_path / "recip.c"
    src.write_text(_RECIP_CHECK_C)
    lib_path = tmp_path / "recip.so"
    subprocess.run(["gcc", "-O2", "-fPIC", "-shared", "-std=c99", "-Wall", "-Wextra", "-Werror",
                    str(src), "-o", str(lib_path)], check=True)
    lib = ctypes.CDLL(str(lib_path))
    lib.mismatches.restype = ctypes.c_int32
    assert lib.mismatches() == 0
