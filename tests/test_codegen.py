"""The code generator on the pipeline's example models: bit-exact on the host, compiles for
Cortex-M3/M4F/M7, plans a reusing arena, and rejects what it cannot run with a clear error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from codegen_support.build import (
    ARM_CPUS,
    HOST_VARIANTS,
    HostModel,
    TflmModel,
    arm_compile,
    runtime_sources,
)
from codegen_support.models import EXAMPLES, build_example

from kenning_tasks.codegen import count_macs, generate_c_model, runtime_dir
from kenning_tasks.codegen.arena import buffers_for
from kenning_tasks.codegen.lowering import Lowerer, pack4_rows
from kenning_tasks.codegen.planner import Buffer, plan_arena
from kenning_tasks.codegen.reader import read_tflite
from kenning_tasks.codegen.reference import tflm_outputs
from kenning_tasks.errors import UnsupportedModelError


@pytest.fixture(scope="module")
def examples(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("examples")
    built = {}
    for name in EXAMPLES:
        path = build_example(name, root)
        built[name] = (path, generate_c_model(path, root / f"gen_{name}"))
    return built


@pytest.fixture(scope="module")
def runtime_work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("runtime")


@pytest.mark.slow  # trains or converts a model
@pytest.mark.parametrize("name", list(EXAMPLES))
def test_example_matches_tflm(name: str, examples: dict, runtime_work: Path) -> None:
    path, gen = examples[name]
    reference = TflmModel(path)
    rng = np.random.default_rng(7)
    inputs = [rng.integers(-128, 128, gen.input_bytes, dtype=np.int8) for _ in range(40)]
    expected = [reference(x).astype(np.int8) for x in inputs]
    assert len({e.tobytes() for e in expected}) > 1  # the check is not vacuous
    for variant in HOST_VARIANTS:
        model = HostModel(gen, runtime_work, variant)
        for x, want in zip(inputs, expected, strict=True):
            assert model(x).tolist() == want.tolist(), variant


@pytest.mark.slow  # trains or converts a model
def test_fallback_paths_match_tflm(examples: dict, tmp_path: Path, runtime_work: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast kernels' slower branches, which the examples do not reach by themselves: the
    generic requantization (a layer with a non-right shift gets no kt_rq_channel table) and
    im2col with per-tap bounds checks (a padded input too big to copy)."""
    from kenning_tasks.codegen import lowering, quant

    default = examples["digits"][1].sources[0].read_text()  # the fast branches are the default
    assert ".rq_fast = kt_op" in default and ".padded_copy = 1," in default
    assert ".out_rq = kt_op" in examples["mixed"][1].sources[0].read_text()  # ADD tables
    monkeypatch.setattr(quant, "fast_requant_rows", lambda *args: None)
    monkeypatch.setattr(lowering, "MAX_PADDED_COPY_BYTES", 0)
    rng = np.random.default_rng(8)
    for name in ("digits", "mixed"):
        path, _ = examples[name]
        gen = generate_c_model(path, tmp_path / name)
        source = gen.sources[0].read_text()
        assert ".rq_fast = 0," in source and ".padded_copy = 1," not in source
        reference = TflmModel(path)
        inputs = [rng.integers(-128, 128, gen.input_bytes, dtype=np.int8) for _ in range(10)]
        for variant in HOST_VARIANTS:
            model = HostModel(gen, runtime_work, variant)
            for x in inputs:
                assert model(x).tolist() == reference(x).astype(np.int8).tolist(), variant


@pytest.mark.slow  # trains or converts a model
def test_digits_model_description(examples: dict) -> None:
    path, gen = examples["digits"]
    assert gen.ops == ["CONV_2D", "MAX_POOL_2D", "CONV_2D", "MAX_POOL_2D", "RESHAPE",
                       "FULLY_CONNECTED", "FULLY_CONNECTED", "SOFTMAX"]
    # conv 8x8x8 taps 3x3x1, conv 4x4x16 taps 3x3x8, dense 64->32, dense 32->10
    assert gen.macs == count_macs(path) == 8 * 8 * 8 * 9 + 4 * 4 * 16 * 72 + 64 * 32 + 32 * 10
    assert (gen.input_bytes, gen.output_bytes) == (64, 10)
    details = TflmModel(path).interp
    in_q = details.get_input_details(0)["quantization_parameters"]
    out_q = details.get_output_details(0)["quantization_parameters"]
    assert gen.input_scale == pytest.approx(float(in_q["scales"][0]), rel=0, abs=0)
    assert gen.input_zero_point == int(in_q["zero_points"][0])
    assert gen.output_scale == pytest.approx(float(out_q["scales"][0]), rel=0, abs=0)
    assert gen.output_zero_point == int(out_q["zero_points"][0]) == -128
    header = gen.header.read_text()
    for line in ("#include <stdint.h>", "#define KT_MODEL_INPUT_BYTES  64",
                 "#define KT_MODEL_OUTPUT_BYTES 10",
                 f"#define KT_MODEL_ARENA_BYTES  {gen.arena_bytes}",
                 "int kt_model_invoke(const int8_t *input, int8_t *output);"):
        assert line in header
    assert [p.name for p in gen.sources] == ["model.c"]


@pytest.mark.slow  # trains or converts a model
@pytest.mark.parametrize("cpu", list(ARM_CPUS))
def test_examples_build_for_cortex_m(cpu: str, examples: dict, tmp_path: Path) -> None:
    arm_compile(runtime_sources(), [runtime_dir()], cpu, tmp_path / "runtime")
    for name, (_, gen) in examples.items():
        arm_compile(gen.sources, [runtime_dir(), gen.header.parent], cpu, tmp_path / name)


@pytest.mark.slow  # trains or converts a model
def test_digits_arena_reuses_memory(examples: dict) -> None:
    path, gen = examples["digits"]
    graph = read_tflite(path)
    activations = sum(t.nbytes for t in graph.tensors if t.data is None)
    assert gen.arena_bytes < activations
    steps = Lowerer(graph).lower()
    buffers, _ = buffers_for(graph, steps)
    plan = plan_arena(buffers)
    assert plan.size <= gen.arena_bytes
    _assert_no_live_overlap(buffers, plan.offsets)


def test_planner_never_overlaps_live_buffers() -> None:
    rng = np.random.default_rng(3)
    for _ in range(200):
        buffers = []
        for i in range(int(rng.integers(1, 14))):
            first = int(rng.integers(0, 10))
            buffers.append(Buffer(f"b{i}", int(rng.integers(1, 300)), first,
                                  first + int(rng.integers(0, 4))))
        plan = plan_arena(buffers, alignment=4)
        assert all(off % 4 == 0 for off in plan.offsets.values())
        assert plan.size >= max(plan.offsets[b.name] + b.size for b in buffers)
        _assert_no_live_overlap(buffers, plan.offsets)
        # Never worse than giving every buffer its own aligned slot.
        assert plan.size <= sum((b.size + 3) // 4 * 4 for b in buffers)


def _assert_no_live_overlap(buffers: list[Buffer], offsets: dict[str, int]) -> None:
    for i, a in enumerate(buffers):
        for b in buffers[i + 1:]:
            if a.overlaps_in_time(b):
                a0, b0 = offsets[a.name], offsets[b.name]
                assert a0 + a.size <= b0 or b0 + b.size <= a0, (a, b, a0, b0)


@pytest.mark.slow  # trains or converts a model
def test_unsupported_ops_are_all_named_in_one_line(tmp_path: Path) -> None:
    import keras
    from codegen_support.models import convert_int8

    inp = keras.Input((6,), batch_size=1)
    a = keras.layers.Dense(4)(inp)
    b = keras.layers.Dense(4)(inp)
    high = keras.layers.Maximum(name="high")([a, b])
    out = keras.layers.Minimum(name="low")([high, b])
    path = convert_int8(keras.Model(inp, out), (6,), tmp_path / "gated.tflite")
    with pytest.raises(UnsupportedModelError) as info:
        generate_c_model(path, tmp_path / "gen")
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    graph = read_tflite(path)
    for opcode in ("MAXIMUM", "MINIMUM"):  # every unsupported op, with its index and output
        op = next(op for op in graph.operators if op.opcode == opcode)
        assert f"{opcode} (#{op.index}, output '{graph.tensors[op.outputs[0]].name}')" in message
    assert "2 operator(s)" in message and "supported: ADD" in message
    assert not (tmp_path / "gen" / "model.c").exists()


@pytest.mark.slow  # trains or converts a model
def test_float16_model_is_rejected_naming_dtype(tmp_path: Path) -> None:
    import keras
    import tensorflow as tf

    inp = keras.Input((5,), batch_size=1)
    model = keras.Model(inp, keras.layers.Dense(3)(inp))
    path = tmp_path / "float16.tflite"
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.target_spec.supported_types = [tf.float16]
    path.write_bytes(converter.convert())
    with pytest.raises(UnsupportedModelError, match=r"DEQUANTIZE.*tensor '.*float16"):
        generate_c_model(path, tmp_path / "gen")


def test_codegen_import_does_not_load_tensorflow() -> None:
    code = "import sys, kenning_tasks.codegen; sys.exit('tensorflow' in sys.modules)"
    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)


def test_pack4_layout_interleaves_groups_of_four_rows() -> None:
    rows = np.arange(6 * 6, dtype=np.int8).reshape(6, 6)  # 6 rows of 6: 4-byte chunk + 2 tail
    expected = np.concatenate([
        rows[0, :4], rows[1, :4], rows[2, :4], rows[3, :4],  # chunk 0 of rows 0..3
        rows[0, 4:], rows[1, 4:], rows[2, 4:], rows[3, 4:],  # their tails
        rows[4], rows[5],  # last, incomplete group stays row-major
    ])
    assert pack4_rows(rows).tolist() == expected.tolist()


@pytest.mark.slow  # trains or converts a model
def test_weight_layout_mismatch_fails_to_link(examples: dict, tmp_path: Path) -> None:
    """model.c built for the fast kernels must not link against a reference-only runtime."""
    _, gen = examples["mlp"]
    flags = ["-std=c99", "-O1", "-fPIC", "-I", str(runtime_dir()), "-I", str(gen.header.parent)]
    objs = []
    for src, fast in [(gen.sources[0], 1), *[(s, 0) for s in runtime_sources()]]:
        obj = tmp_path / f"{src.stem}.o"
        subprocess.run(["gcc", *flags, f"-DKT_FAST_KERNELS={fast}", "-c", str(src), "-o",
                        str(obj)], check=True)
        objs.append(str(obj))
    link = subprocess.run(["gcc", "-shared", "-Wl,--no-undefined", *objs, "-o",
                           str(tmp_path / "x.so")], capture_output=True, text=True)
    assert link.returncode != 0 and "kt_runtime_abi_fast_v1" in link.stderr


@pytest.mark.slow  # trains or converts a model
def test_tflm_outputs_accepts_raw_bytes(examples: dict) -> None:
    path, gen = examples["mlp"]
    x = np.arange(gen.input_bytes, dtype=np.int8)
    from_bytes, from_array = tflm_outputs(path, [x.tobytes(), x])
    assert from_bytes.dtype == np.int8 and from_bytes.tolist() == from_array.tolist()


@pytest.mark.slow  # trains or converts a model
def test_int8_weight_layout_matches_tflm(examples: dict, tmp_path: Path,
                                         runtime_work: Path) -> None:
    """weight_layout int8: the DSP kernels widen int8 pack4 weights on the fly, bit-exact."""
    path, _ = examples["digits"]
    gen = generate_c_model(path, tmp_path / "gen", weight_layout_request="int8")
    source = gen.sources[0].read_text()
    assert ".weights_s16 = 0," in source and "static const int16_t" not in source
    assert gen.weight_layout.layout == "int8" and len(gen.weight_layout.int8_ops) == 4
    reference = TflmModel(path)
    rng = np.random.default_rng(9)
    inputs = [rng.integers(-128, 128, gen.input_bytes, dtype=np.int8) for _ in range(10)]
    for variant in HOST_VARIANTS:
        model = HostModel(gen, runtime_work, variant)
        for x in inputs:
            assert model(x).tolist() == reference(x).astype(np.int8).tolist(), variant


@pytest.mark.slow  # trains or converts a model
def test_weight_layout_keeps_largest_layers_int8_to_fit(examples: dict, tmp_path: Path) -> None:
    path, _ = examples["digits"]
    unlimited = generate_c_model(path, tmp_path / "a").weight_layout
    assert unlimited.layout == "int16" and not unlimited.int8_ops and not unlimited.message()
    # One byte short: only the layer with the most weights (dense 64->32, op #5) goes int8.
    limit = unlimited.int16_flash_bytes - 1
    choice = generate_c_model(path, tmp_path / "b", flash_limit_bytes=limit).weight_layout
    assert choice.int8_ops == (5,) and choice.layout == "mixed"
    assert choice.estimated_flash_bytes <= limit < choice.int16_flash_bytes
    message = choice.message()
    assert "\n" not in message and "#5" in message and str(limit) in message
    assert choice.record()["int8_ops"] == [5]
    forced = generate_c_model(path, tmp_path / "c", flash_limit_bytes=limit,
                              weight_layout_request="int16").weight_layout
    assert forced.layout == "int16" and not forced.int8_ops
    # Without DSP (Cortex-M0/M3) the int16 layout is never compiled: nothing to choose.
    m3 = generate_c_model(path, tmp_path / "d", flash_limit_bytes=1, dsp=False).weight_layout
    assert m3.layout == "int8" and not m3.int8_ops and not m3.message()


@pytest.mark.slow
def test_a_model_too_big_for_int16_weights_fits_the_1mib_board_with_int8(tmp_path: Path) -> None:
    """A dense model whose int16 weights (1.5 MB) exceed the STM32F405's 1 MiB flash: the
    largest layer keeps int8 weights, the firmware links within the limit and its outputs on
    the QEMU board equal TFLite Micro's."""
    import keras
    from codegen_support.models import convert_int8

    from kenning_tasks.codegen.weight_layout import cpu_has_dsp
    from kenning_tasks.mcu.boards import get_board
    from kenning_tasks.mcu.build import build_firmware
    from kenning_tasks.mcu.qemu import run_on_qemu

    keras.utils.set_random_seed(0)
    inp = keras.Input((640,), batch_size=1)
    x = keras.layers.Dense(1024, activation="relu")(inp)  # 655k weights: the largest
    x = keras.layers.Dense(64, activation="relu")(x)
    model = keras.Model(inp, keras.layers.Dense(640)(x))
    path = convert_int8(model, (640,), tmp_path / "big_fc.tflite")
    board = get_board("netduinoplus2")
    assert cpu_has_dsp(board.compilation_flags)
    gen = generate_c_model(path, tmp_path / "model", flash_limit_bytes=board.flash_limit_bytes,
                           dsp=True)
    choice = gen.weight_layout
    assert choice.int16_flash_bytes > board.flash_limit_bytes and choice.layout == "mixed"
    assert choice.int8_ops == (0,) and len(choice.int16_ops) == 2
    image = build_firmware(board, tmp_path / "model", tmp_path / "fw")
    assert image.flash_bytes <= board.flash_limit_bytes
    rng = np.random.default_rng(1)
    inputs = [rng.integers(-128, 128, 640, dtype=np.int8).tobytes() for _ in range(2)]
    run = run_on_qemu(image.elf, board, inputs, timeout_s=300, process_s=300)
    reference = TflmModel(path)
    for x_bytes, out in zip(inputs, run.outputs, strict=True):
        assert np.frombuffer(out, np.int8).tolist() == reference(x_bytes).astype(np.int8).tolist()
