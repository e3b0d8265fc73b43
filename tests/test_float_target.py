"""Float32 models on an embedded platform: validation picks the float32 kernels, says what it
refuses in one line, and the on-target evaluation scores and compares like the host (fast);
the float scenario end to end in QEMU (slow)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from kenning_tasks.errors import ScenarioError
from kenning_tasks.mcu.float_abi import float_arithmetic
from kenning_tasks.scenario_files import load_scenario
from kenning_tasks.stages.on_target import _agreement, decision_accuracy
from tests.conftest import Project

FLOAT_SCENARIO = "digits-float-qemu-m4"


def _write(tmp_path: Path, optimizer: str, runtime: str = "", board: str = "mps2-an385") -> Path:
    path = tmp_path / "scenario.yml"
    path.write_text(
        f"platform: {{type: BareMetalPlatform, parameters: {{name: {board}}}}}\n"
        "dataset: {type: DigitsDataset}\nmodel_wrapper: {type: KerasModel}\n"
        f"optimizers:\n  - type: TFLiteCompiler\n    parameters: {optimizer}\n"
        + (f"runtime: {{type: {runtime}}}\n" if runtime else ""))
    return path


def test_float_model_on_a_board_derives_the_float32_kernels(tmp_path: Path) -> None:
    scenario = load_scenario(_write(tmp_path, "{target: default}"))
    assert (scenario.runtime.type_name, scenario.runtime_source) == ("MicroFloat32Runtime",
                                                                     "derived")
    assert scenario.target_stages() == ("firmware", "simulate")
    int8 = load_scenario(_write(tmp_path, "{target: int8, inference_input_type: int8, "
                                          "inference_output_type: int8}"))
    assert int8.runtime.type_name == "MicroInt8Runtime"


def test_float_model_with_the_int8_runtime_is_one_line_naming_the_float_one(
        tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(_write(tmp_path, "{target: default}", runtime="MicroInt8Runtime"))
    message = str(info.value)
    assert "\n" not in message
    assert "runtime.type: MicroInt8Runtime runs int8 models only" in message
    assert "for a float32 model: MicroFloat32Runtime" in message


def test_int8_model_with_the_float_runtime_is_refused_without_an_int8_hint(
        tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(_write(tmp_path, "{target: int8, inference_input_type: int8, "
                                       "inference_output_type: int8}",
                             runtime="MicroFloat32Runtime"))
    message = str(info.value)
    assert "MicroFloat32Runtime runs float32 models only" in message
    assert "for a full-integer int8 model: MicroInt8Runtime" in message
    assert "set optimizers[0]" not in message


def test_int8_weights_with_float_io_run_on_the_int8_kernels(tmp_path: Path) -> None:
    # int8 weights behind float32 I/O: the model's own QUANTIZE first and DEQUANTIZE last are
    # int8-path kernels too (quantize.c, dequantize.c), so the board's int8 runtime runs it.
    scenario = load_scenario(_write(tmp_path, "{target: int8}"))
    assert (scenario.runtime.type_name, scenario.runtime_source) == ("MicroInt8Runtime",
                                                                     "derived")
    with pytest.raises(ScenarioError, match="MicroInt8Runtime runs int8 models only"):
        load_scenario(_write(tmp_path, "{target: float16}", runtime="MicroInt8Runtime"))


def test_float_arithmetic_follows_the_boards_flags() -> None:
    assert float_arithmetic(["-mcpu=cortex-m4", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"]) == \
        "FPU (fpv4-sp-d16, -mfloat-abi=hard)"
    assert float_arithmetic(["-mcpu=cortex-m3", "-mthumb", "-mfloat-abi=soft"]) == \
        "software float (-mfloat-abi=soft)"
    assert float_arithmetic(["-mcpu=cortex-m0plus"]).startswith("software float")


def test_host_accuracy_decides_anomaly_distances_with_the_threshold() -> None:
    spec = {"anomaly": {"score": "distance", "threshold": 0.5}}
    distances = np.array([[0.1], [0.9], [0.5], [0.7]], np.float32)
    truth = np.array([0, 1, 0, 1])
    assert decision_accuracy(distances, spec, truth) == 1.0
    # A plain argmax over the one column calls everything normal.
    assert float(np.mean(distances.argmax(1) == truth)) == 0.5
    logits = np.array([[2.0, 1.0], [0.0, 3.0]])
    assert decision_accuracy(logits, {}, np.array([0, 0])) == 0.5


def test_agreement_is_bit_exact_for_int8_and_toleranced_for_float32() -> None:
    host = np.array([[0.25, 0.75], [0.5, 0.5]], np.float32)
    ulp = np.nextafter(host, np.float32(1))
    floats = _agreement("float32", ulp, host)
    assert floats["agreement_with_host"] == 1.0 and 0 < floats["max_abs_error_vs_host"] < 1e-6
    assert floats["agreement_rule"].startswith("|target − host| ≤")
    off = host.copy()
    off[1, 0] = 0.51
    assert _agreement("float32", off, host)["agreement_with_host"] == 0.5
    ints = np.array([[3, -4]], np.int8)
    assert _agreement("int8", ints, ints) == {"agreement_with_host": 1.0,
                                              "agreement_rule": "bit-exact",
                                              "max_abs_error_vs_host": 0.0}
    assert _agreement("int8", ints + 1, ints)["agreement_with_host"] == 0.0


@pytest.mark.slow
def test_float_scenario_runs_on_the_cortex_m4f_in_qemu(module_project: Project) -> None:
    run = module_project.doit(f"scenario={FLOAT_SCENARIO}", "report")
    assert run.returncode == 0, run.stdout + run.stderr
    build = module_project.build(FLOAT_SCENARIO)
    firmware = json.loads((build / "firmware/firmware.json").read_text())
    assert firmware["numeric_path"] == "float32"
    assert firmware["float_arithmetic"].startswith("FPU (fpv4-sp-d16")
    m = json.loads((build / "evaluate/measurements.json").read_text())
    on_target = m["on_target"]
    assert on_target["numeric_path"] == "float32"
    assert on_target["agreement_with_host"] == 1.0
    assert on_target["max_abs_error_vs_host"] < 1e-5
    assert m["accuracy"] == on_target["host_accuracy"] and m["accuracy"] >= 0.9
    outputs = np.load(build / "simulate/target_outputs.npz")["outputs"]
    assert outputs.dtype == np.float32 and np.allclose(outputs.sum(axis=1), 1.0, atol=1e-5)
    report = (build / "report/report.md").read_text()
    assert "| numeric path | float32 kernels, FPU (fpv4-sp-d16, -mfloat-abi=hard) |" in report
    assert "agree with the host TFLite Micro float32 reference within" in report


@pytest.mark.slow
def test_int8_weights_with_float_io_run_bit_exact_on_the_cortex_m4f(
        module_project: Project) -> None:
    """TFLiteCompiler target int8 with float32 I/O: QUANTIZE first and DEQUANTIZE last run on
    the board's int8 path too, float32 bytes over the UART, bit-exact with TFLite Micro."""
    module_project.edit("scenarios/digits-int8-qemu-m4.yml",
                        "inference_input_type: int8\n      inference_output_type: int8",
                        "inference_input_type: float32\n      inference_output_type: float32")
    run = module_project.doit("scenario=digits-int8-qemu-m4", "report")
    assert run.returncode == 0, run.stdout + run.stderr
    build = module_project.build("digits-int8-qemu-m4")
    firmware = json.loads((build / "firmware/firmware.json").read_text())
    assert (firmware["ops"][0], firmware["ops"][-1]) == ("QUANTIZE", "DEQUANTIZE")
    assert (firmware["numeric_path"], firmware["input_bytes"]) == ("int8", 4 * 64)
    on_target = json.loads((build / "evaluate/measurements.json").read_text())["on_target"]
    assert (on_target["agreement_with_host"], on_target["agreement_rule"]) == (1.0, "bit-exact")
    assert on_target["host_accuracy"] >= 0.9
    outputs = np.load(build / "simulate/target_outputs.npz")["outputs"]
    assert outputs.dtype == np.float32
