"""The float32 path: kernels (host gcc) against numpy in TFLite's reference order, generated C
for float32 .tflite models against TFLite Micro within the documented tolerance (slow: they
convert models), and the same models on Cortex-M3 (soft-float) and M4F (FPU) in QEMU."""

from __future__ import annotations

import ctypes
import subprocess
from pathlib import Path

import numpy as np
import pytest
from codegen_support import qemu, single_ops
from codegen_support.build import HostModel, TflmModel
from codegen_support.float_models import (
    TENSOR_OP_MODELS,
    build_float_example,
    build_float_op,
    build_tensor_op_model,
    random_inputs,
)

from kenning_tasks import float_agreement
from kenning_tasks.codegen import generate_c_model, runtime_dir
from kenning_tasks.codegen.float_lowering import _empty_window, float_literal, numeric_path

FLOAT_SOURCES = ("conv2d_f32.c", "fully_connected_f32.c", "pool2d_f32.c", "softmax_f32.c")


class _FC(ctypes.Structure):
    _fields_ = [("batches", ctypes.c_int32), ("in_depth", ctypes.c_int32),
                ("out_depth", ctypes.c_int32), ("act_min", ctypes.c_float),
                ("act_max", ctypes.c_float), ("weights", ctypes.c_void_p),
                ("bias", ctypes.c_void_p)]


class _Softmax(ctypes.Structure):
    _fields_ = [("outer", ctypes.c_int32), ("depth", ctypes.c_int32), ("beta", ctypes.c_float)]


@pytest.fixture(scope="module")
def float_lib(tmp_path_factory: pytest.TempPathFactory) -> ctypes.CDLL:
    work = tmp_path_factory.mktemp("f32")
    lib = work / "libf32.so"
    subprocess.run(["gcc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-fPIC", "-shared",
                    "-I", str(runtime_dir()), *[str(runtime_dir() / s) for s in FLOAT_SOURCES],
                    "-o", str(lib), "-lm"], check=True, capture_output=True, text=True)
    library = ctypes.CDLL(str(lib))
    for name in ("kt_fully_connected_f32", "kt_softmax_f32"):
        getattr(library, name).argtypes = [ctypes.c_void_p] * 3
    return library


def _ptr(a: np.ndarray) -> ctypes.c_void_p:
    return ctypes.c_void_p(a.ctypes.data)


def test_fully_connected_f32_sums_in_reference_order(float_lib: ctypes.CDLL) -> None:
    rng = np.random.default_rng(3)
    n_in, n_out = 37, 9
    x = rng.normal(0, 3, n_in).astype(np.float32)
    w = rng.normal(0, 1, (n_out, n_in)).astype(np.float32)
    b = rng.normal(0, 1, n_out).astype(np.float32)
    out = np.zeros(n_out, np.float32)
    params = _FC(1, n_in, n_out, 0.0, 6.0, w.ctypes.data, b.ctypes.data)  # fused ReLU6
    float_lib.kt_fully_connected_f32(ctypes.byref(params), _ptr(x), _ptr(out))
    want = np.zeros(n_out, np.float32)
    for o in range(n_out):  # float32 accumulation from 0 in input order, then the bias
        total = np.float32(0)
        for d in range(n_in):
            total = np.float32(total + x[d] * w[o, d])
        want[o] = min(max(np.float32(total + b[o]), np.float32(0)), np.float32(6))
    assert out.tobytes() == want.tobytes()
    assert 0 < np.count_nonzero(want) < n_out or np.any(want == 6)  # the clamp is exercised


def test_softmax_f32_rows_sum_to_one_and_follow_beta(float_lib: ctypes.CDLL) -> None:
    x = np.array([[1.0, 2.0, 3.0, -50.0], [0.0, 0.0, 0.0, 0.0]], np.float32)
    out = np.zeros_like(x)
    float_lib.kt_softmax_f32(ctypes.byref(_Softmax(2, 4, 0.5)), _ptr(x), _ptr(out))
    e = np.exp((x - x.max(axis=1, keepdims=True)) * 0.5)
    np.testing.assert_allclose(out, e / e.sum(axis=1, keepdims=True), rtol=1e-6)
    assert out[1].tolist() == [0.25] * 4


def test_float_literals_are_exact_and_windows_checked() -> None:
    for value in (0.1, -6.0, 3.4028234663852886e38, 1e-42):
        literal = float_literal(value)
        assert literal.endswith("f") and float.fromhex(literal[:-1]) == float(np.float32(value))
    assert not _empty_window(size=5, kernel=2, stride=2, pad=0, out_size=3)  # SAME, last tap
    assert _empty_window(size=2, kernel=3, stride=1, pad=3, out_size=1)


def test_numeric_path_counts_the_ops_on_float_kernels() -> None:
    class Op:
        def __init__(self, index: int) -> None:
            self.index = index

    class S:  # the part of lowering.Step numeric_path reads
        def __init__(self, index: int, kernel: str) -> None:
            self.op, self.kernel = Op(index), kernel

    steps = [S(0, "kt_conv2d_f32"), S(1, ""), S(2, "kt_softmax_f32")]
    assert numeric_path(steps, {0, 2}) == "float32"  # the alias (#1) computes nothing
    assert numeric_path([S(0, "kt_quantize_f32_s8"), S(1, "kt_conv2d_s8")], set()) == "int8"
    assert numeric_path([S(0, "kt_conv2d_f32"), S(1, "kt_add_s8")], {0}) == "mixed"


def test_tolerance_accepts_ulps_and_refuses_real_errors() -> None:
    host = np.array([[0.5, 120.0, 1e-7]], np.float32)
    ulps = np.nextafter(host, np.float32(np.inf))
    assert float_agreement.within_tolerance(ulps, host).tolist() == [True]
    wrong = host.copy()
    wrong[0, 1] = 120.1
    assert float_agreement.within_tolerance(wrong, host).tolist() == [False]
    assert float_agreement.max_abs_error(wrong, host) == pytest.approx(0.1, rel=1e-3)


# -- generated C for whole float32 models (converting with TensorFlow: slow) ---------------

FLOAT_BUILDERS = [b for b in single_ops.BUILDERS if b is not single_ops.quantize_dequantize]


@pytest.mark.slow
@pytest.mark.parametrize("seed", (0, 1, 2))
@pytest.mark.parametrize("builder", FLOAT_BUILDERS, ids=lambda b: b.__name__)
def test_float_kernel_matches_tflm(builder, seed: int, tmp_path: Path) -> None:
    path, case = build_float_op(builder, seed, tmp_path)
    gen = generate_c_model(path, tmp_path / "gen")
    assert gen.numeric_path == "float32"
    reference = TflmModel(path)
    rng = np.random.default_rng(seed)
    inputs = random_inputs(case.input_shape, case.input_range, 16, rng)
    model = HostModel(gen, tmp_path, "ref")
    got = np.stack([model(x, np.float32) for x in inputs])
    want = np.stack([np.asarray(reference(x), np.float32) for x in inputs])
    assert float_agreement.within_tolerance(got, want).all(), (
        f"{gen.ops}: max abs error {float_agreement.max_abs_error(got, want)}")


@pytest.mark.slow
@pytest.mark.parametrize("name", TENSOR_OP_MODELS)
def test_float_tensor_ops_match_tflm(name: str, tmp_path: Path) -> None:
    """SUB, MUL, LOGISTIC, TANH, LEAKY_RELU, RELU, RELU6, HARD_SWISH, CONCATENATION, PAD,
    TRANSPOSE, SLICE, SUM, ABS, SQRT, MEAN: host build against TFLite Micro, and the first
    model on a Cortex-M3 (software float, newlib's expf/tanhf) in QEMU."""
    path, shape = build_tensor_op_model(name, tmp_path)
    gen = generate_c_model(path, tmp_path / "gen")
    assert gen.numeric_path == "float32"
    reference = TflmModel(path)
    inputs = random_inputs(shape, (-3.0, 3.0), 12, np.random.default_rng(2))
    want = np.stack([np.asarray(reference(x), np.float32).reshape(-1) for x in inputs])
    model = HostModel(gen, tmp_path, "ref")
    got = np.stack([model(x, np.float32) for x in inputs])
    assert float_agreement.within_tolerance(got, want).all(), gen.ops
    if name == TENSOR_OP_MODELS[0] and qemu.tools_available():
        run = qemu.run_on_qemu(gen, "cortex-m3", inputs[:4], tmp_path / "m3")
        on_m3 = np.stack([o.view(np.float32) for o in run.outputs])
        assert float_agreement.within_tolerance(on_m3, want[:4]).all(), (
            float_agreement.max_abs_error(on_m3, want[:4]))


@pytest.fixture(scope="module")
def float_digits(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    root = tmp_path_factory.mktemp("float_digits")
    path, _ = build_float_example("digits", root)
    return path, generate_c_model(path, root / "gen")


@pytest.mark.slow
@pytest.mark.skipif(not qemu.tools_available(), reason="needs qemu-system-arm, arm-none-eabi-gcc")
@pytest.mark.parametrize("cpu", ["cortex-m3", "cortex-m4f"])
def test_float_digits_on_cortex_m_matches_tflm(cpu: str, float_digits: tuple,
                                               tmp_path: Path) -> None:
    path, gen = float_digits
    rng = np.random.default_rng(5)
    inputs = random_inputs((8, 8, 1), (0.0, 16.0), 6, rng)
    run = qemu.run_on_qemu(gen, cpu, inputs, tmp_path)
    got = np.stack([o.view(np.float32) for o in run.outputs])
    reference = TflmModel(path)
    want = np.stack([np.asarray(reference(x), np.float32) for x in inputs])
    assert float_agreement.within_tolerance(got, want).all(), (
        f"{cpu}: max abs error {float_agreement.max_abs_error(got, want)}")
    assert (got.argmax(axis=1) == want.argmax(axis=1)).all()
