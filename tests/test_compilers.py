"""Compilers and runtimes end to end on the digits model (TVM, IREE, TFLite Micro, ONNX).

One doit call builds every scenario into a temporary directory with its own run cache, so the
Keras model is trained once and shared; the tests then read the measurements and artifacts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from kenning_tasks import iospec
from kenning_tasks.errors import ScenarioError, StageError
from kenning_tasks.optimizers.base import StepContext
from kenning_tasks.optimizers.iree import IREECompiler
from kenning_tasks.runtimes.tflm import TFLiteMicroRuntime
from kenning_tasks.scenario_files import load_scenario

REPO = Path(__file__).resolve().parent.parent
SCENARIOS = REPO / "scenarios"
SOURCE = "digits-keras-native"  # the float Keras model every compiled variant is held to
# Kenning users' files as written (tests/kenning_scenarios): dotted names, Kenning's defaults
# (IREE's vmvx backend), a Kenning TVM target string with a conv2d layout conversion.
KENNING_FILES = ["tflite-tvm-int8-avx2.json", "iree-vmvx.json"]
COMPILED = ["digits-tvm", "digits-iree", "digits-tflm-int8", "digits-onnx-f32",
            "digits-tflite-onnx", "chain-tflite-onnx-tvm", "chain-tflite-int8-onnx",
            "chain-tflite-int8-tvm", *(Path(f).stem for f in KENNING_FILES)]
TOOLS = ["tvm", "iree.compiler", "iree.runtime", "tflite_micro", "tf2onnx"]

pytestmark = pytest.mark.slow  # trains a model and runs four compilers


def _digits(optimizers: list[dict], runtime: dict) -> dict:
    """A scenario with the digits dataset and Keras model of the shipped scenarios."""
    base = yaml.safe_load((SCENARIOS / "digits-tflite-int8.yml").read_text())
    return {"dataset": base["dataset"], "model_wrapper": base["model_wrapper"],
            "optimizers": optimizers, "runtime": runtime}


# keras → tflite (float) → onnx → TVM: TVMCompiler also accepts tflite, so the ONNXCompiler in
# between is what makes negotiation insert the tflite → onnx conversion.
CHAIN_TVM = _digits([{"type": "TFLiteCompiler", "parameters": {"target": "default"}},
                     {"type": "ONNXCompiler", "parameters": {"quantization": "none"}},
                     {"type": "TVMCompiler"}], {"type": "TVMRuntime"})
# int8 TFLite with int8 I/O → QDQ ONNX: the converter must carry the I/O scales over.
INT8_IO = {"target": "int8", "inference_input_type": "int8", "inference_output_type": "int8"}
CHAIN_INT8 = _digits([{"type": "TFLiteCompiler", "parameters": INT8_IO}],
                     {"type": "ONNXRuntime"})
# int8 TFLite straight into TVM's TFLite frontend.
CHAIN_INT8_TVM = _digits([{"type": "TFLiteCompiler", "parameters": INT8_IO},
                          {"type": "TVMCompiler"}], {"type": "TVMRuntime"})


def _write(directory: Path, name: str, data: dict) -> Path:
    path = directory / f"{name}.yml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    for module in TOOLS:
        pytest.importorskip(module)
    root = tmp_path_factory.mktemp("compilers")
    paths = [SCENARIOS / f"{name}.yml" for name in (SOURCE, *COMPILED[:5])]
    paths.append(_write(root, "chain-tflite-onnx-tvm", CHAIN_TVM))
    paths.append(_write(root, "chain-tflite-int8-onnx", CHAIN_INT8))
    paths.append(_write(root, "chain-tflite-int8-tvm", CHAIN_INT8_TVM))
    paths += [REPO / "tests" / "kenning_scenarios" / name for name in KENNING_FILES]
    # The scenarios sit in a plain temporary folder: name it as the project.
    env = dict(os.environ, KENNING_TASKS_CACHE=str(root / "cache"), KENNING_TASKS_PROJECT=str(root))
    done = subprocess.run(
        [sys.executable, "-m", "doit", "-f", str(REPO / "dodo.py"), "-d", str(root),
         "scenario=" + ",".join(str(p) for p in paths), "evaluate"],
        capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return root / "build"


def _measurements(build: Path, name: str) -> dict:
    return json.loads((build / name / "evaluate" / "measurements.json").read_text())


@pytest.mark.parametrize("name", COMPILED)
def test_accuracy_matches_the_float_source_model(build: Path, name: str) -> None:
    source = _measurements(build, SOURCE)["accuracy"]
    measured = _measurements(build, name)
    assert source > 0.9
    assert abs(measured["accuracy"] - source) <= 0.01, (name, measured["accuracy"], source)
    assert measured["model_size_bytes"] > 0


def test_kenning_files_build_what_kenning_means(build: Path) -> None:
    tvm = iospec.read_spec(build / "tflite-tvm-int8-avx2" / "compile" / "model.tvm.so")
    assert tvm["tvm_target"]["mcpu"] == "core-avx2" and tvm["conv2d_layout"] == "NCHW"
    iree = iospec.read_spec(build / "iree-vmvx" / "compile" / "model.vmfb")
    assert iree["iree_backend"] == "vmvx"
    for name in ("tflite-tvm-int8-avx2", "iree-vmvx", "digits-tvm"):
        measured = _measurements(build, name)
        # What Kenning's report and grid search read (kenning_measurements).
        assert measured["command"][0] == "kenning-tasks run \\"
        assert np.asarray(measured["eval_confusion_matrix"]).sum() == measured["total"]
        assert len(measured["target_inference_step"]) == measured["total"]
        assert measured["session_utilization_cpus_percent"]
        assert {"target", "prediction"} == set(measured["predictions"][0])


def test_tvm_library_and_sidecar(build: Path) -> None:
    model = build / "digits-tvm" / "compile" / "model.tvm.so"
    spec = iospec.read_spec(model)
    assert model.read_bytes()[:4] == b"\x7fELF"
    assert spec["format"] == "tvm" and spec["source_format"] == "onnx"
    assert spec["input"][0]["shape"] == [1, 8, 8, 1]
    assert spec["tvm_target"]["kind"] == "llvm" and spec["opt_level"] == 3
    # The chain that reached TVM through tflite → onnx compiled from ONNX.
    chained = iospec.read_spec(build / "chain-tflite-onnx-tvm" / "compile" / "model.tvm.so")
    assert chained["source_format"] == "onnx"
    # int8 TFLite through the TFLite frontend keeps the int8 input and its quantization.
    int8 = iospec.read_spec(build / "chain-tflite-int8-tvm" / "compile" / "model.tvm.so")
    assert int8["source_format"] == "tflite" and int8["input"][0]["dtype"] == "int8"
    assert int8["input"][0]["scale"] > 0


def test_iree_board_build_is_reported_but_not_runnable(build: Path) -> None:
    compiled = build / "digits-iree" / "compile"
    spec = iospec.read_spec(compiled / "model.vmfb")
    board = spec["board"]
    assert spec["format"] == "iree" and spec["runnable_on_target"] is False
    assert "C runtime" in spec["runnable_on_target_reason"]
    obj = compiled / board["object_file"]
    assert board["object_bytes"] == obj.stat().st_size > 0
    # A 32-bit little-endian ARM relocatable object (ELF e_machine 40 = ARM).
    header = obj.read_bytes()[:20]
    assert header[:5] == b"\x7fELF\x01" and int.from_bytes(header[18:20], "little") == 40
    assert board["library_query_function"] in (compiled / board["header_file"]).read_text()


def test_tflm_runtime_reports_its_arena(build: Path) -> None:
    model = build / "digits-tflm-int8" / "compile" / "model.tflite"
    runtime = TFLiteMicroRuntime({"arena_size": None})
    runtime.load(model, iospec.read_spec(model))
    used = runtime.arena_used_bytes
    assert used is not None and 0 < used <= runtime.arena_size_bytes
    assert runtime.extra_measurements()["tflm_arena_used_bytes"] == used
    # The minimum it reports is enough (an interpreter given exactly that runs and gives the
    # same output) and tight (16 bytes less fails to allocate).
    minimum = runtime.arena_min_bytes
    assert used <= minimum < runtime.arena_size_bytes
    tight = TFLiteMicroRuntime({"arena_size": minimum})
    tight.load(model, iospec.read_spec(model))
    sample = np.zeros((1, 8, 8, 1), dtype=np.int8)
    assert np.array_equal(tight.infer(sample), runtime.infer(sample))
    with pytest.raises(RuntimeError):
        TFLiteMicroRuntime({"arena_size": minimum - 16}).load(model, iospec.read_spec(model))


def test_iree_stderr_errors_fail_even_when_exit_code_is_zero(build: Path,
                                                             tmp_path: Path) -> None:
    # Triple eabihf with a soft-float CPU description: iree-compile prints "calling convention
    # is hard-float, but floating-point registers are unavailable" yet exits 0.
    onnx_model = build / "digits-iree" / "convert" / "model.onnx"
    info = json.loads((build / "digits-iree" / "dataset" / "dataset.json").read_text())
    compiler = IREECompiler({**load_scenario(SCENARIOS / "digits-iree.yml").optimizers[0]
                             .parameters, "board_cpu": "generic", "board_cpu_features": ""})
    ctx = StepContext(build / "digits-iree" / "dataset" / "splits.npz", info, lambda _: None)
    with pytest.raises(StageError, match="hard-float"):
        compiler.compile(onnx_model, tmp_path / "model.vmfb", ctx)


def test_negotiation_finds_keras_tflite_onnx_tvm(tmp_path: Path) -> None:
    scenario = load_scenario(_write(tmp_path, "chain", CHAIN_TVM))
    steps = scenario.convert_steps + scenario.quantize_steps + scenario.compile_steps
    path = [steps[0].input_format] + [s.output_format for s in steps]
    assert [p for i, p in enumerate(path) if i == 0 or p != path[i - 1]] == \
        ["keras", "tflite", "onnx", "tvm"]
    assert any(s.kind == "convert" and (s.input_format, s.output_format) == ("tflite", "onnx")
               for s in steps)
    assert scenario.final_format == "tvm"


@pytest.mark.parametrize(("optimizers", "runtime", "words"), [
    # TVM's library cannot become ONNX again.
    ([{"type": "TVMCompiler"}], {"type": "ONNXRuntime"},
     ["ONNXRuntime accepts onnx", "produces tvm"]),
    # Nothing converts ONNX back to TFLite for TFLite Micro.
    ([{"type": "IREECompiler"}], {"type": "TFLiteMicroRuntime"},
     ["TFLiteMicroRuntime accepts tflite", "produces iree"]),
    ([{"type": "ONNXCompiler"}], {"type": "TFLiteMicroRuntime"},
     ["TFLiteMicroRuntime accepts tflite", "produces onnx"]),
])
def test_impossible_chain_is_rejected(tmp_path: Path, optimizers: list, runtime: dict,
                                      words: list[str]) -> None:
    with pytest.raises(ScenarioError) as error:
        load_scenario(_write(tmp_path, "bad", _digits(optimizers, runtime)))
    for word in words:
        assert word in str(error.value)


@pytest.mark.parametrize(("block", "message"), [
    ({"type": "TVMCompiler", "parameters": {"target": {"kind": "cuda"}}},
     "'cuda': GPU targets are out of scope"),
    ({"type": "TVMCompiler", "parameters": {"target": "llvm -mcpu"}}, "needs a value"),
    ({"type": "TVMCompiler", "parameters": {"target": {"kind": "llvm", "mattr": "+avx2"}}},
     "target.mattr: expected array"),
    ({"type": "TVMCompiler", "parameters": {"opt_level": 4}}, "above the maximum"),
    ({"type": "IREECompiler", "parameters": {"board_float_abi": "softfp"}}, "not allowed"),
    ({"type": "IREECompiler", "parameters": {"extra_args": ["--x", 3]}}, "extra_args[1]"),
])
def test_compiler_parameters_are_validated(tmp_path: Path, block: dict, message: str) -> None:
    runtime = {"type": "TVMRuntime" if block["type"] == "TVMCompiler" else "IREERuntime"}
    with pytest.raises(ScenarioError, match=message.replace("[", r"\[")):
        load_scenario(_write(tmp_path, "bad", _digits([block], runtime)))
