"""The manual's embedded flows (``scenarios/kenning/``): Kenning's scenario files as printed,
with local data, run here; ``ZephyrPlatform`` with ``simulated: true`` runs the board's QEMU
stand-in (same core, the real part's flags and flash/RAM limits) and says so in one line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from kenning_tasks.errors import ScenarioError
from kenning_tasks.mcu.boards import BoardError, load_boards
from kenning_tasks.platforms.zephyr import ZephyrPlatform
from kenning_tasks.scenario import validate
from kenning_tasks.scenario_files import load_scenario
from tests.conftest import REPO, Project

FLOWS = REPO / "scenarios" / "kenning"
# Files each flow reads (relative to its scenario file), made by the synthetic generators and
# the training scenarios; validation only stats them.
NEEDS = {
    "anomaly-detection-train.yml": ["workspace/data.csv"],
    "anomaly-detection-max32690.yml": ["workspace/data.csv", "workspace/vae_cats.pth"],
    "anomaly-detection-max32690-int8.yml": ["workspace/data.csv", "workspace/vae_cats.pth"],
    "magic-wand-train.yml": [],
    "magic-wand-stm32f746g.yml": ["output/magic_wand.keras"],
    "magic-wand-stm32f746g-int8.yml": ["output/magic_wand.keras"],
}
FLOAT_ON_TARGET = ("anomaly-detection-max32690.yml", "magic-wand-stm32f746g.yml")


def _copy_flows(tmp_path: Path) -> Path:
    folder = tmp_path / "kenning"
    folder.mkdir()
    for name, files in NEEDS.items():
        shutil.copy(FLOWS / name, folder / name)
        for relative in files:
            (folder / relative).parent.mkdir(parents=True, exist_ok=True)
            (folder / relative).write_bytes(b"")
    return folder


def test_every_flow_is_shipped_and_validates_as_printed(tmp_path: Path) -> None:
    assert sorted(p.name for p in FLOWS.glob("*.yml")) == sorted(NEEDS)
    folder = _copy_flows(tmp_path)
    for name in NEEDS:
        scenario = load_scenario(folder / name)
        if name in FLOAT_ON_TARGET:  # as printed: float32 on the board's float32 kernels
            assert scenario.runtime.type_name == "MicroFloat32Runtime"
        if scenario.platform.type_name == "ZephyrPlatform":
            assert scenario.target_stages() == ("firmware", "simulate")
            assert scenario.protocol is None  # QEMU's own socket, not the board's uart_port


def test_simulated_board_keeps_the_real_parts_limits_and_flags() -> None:
    max32690 = ZephyrPlatform.board({"board": "max32690evkit/max32690/m4", "simulated": True})
    assert (max32690.name, max32690.qemu_machine, max32690.runtime) == (
        "max32690evkit/max32690/m4", "mps2-an386", "baremetal")
    assert (max32690.flash_limit_bytes, max32690.ram_limit_bytes) == (3072 * 1024, 1024 * 1024)
    disco = ZephyrPlatform.board({"board": "stm32f746g_disco", "simulated": True})
    assert (disco.qemu_machine, disco.flash_size_kb, disco.ram_size_kb) == ("mps2-an500", 1024,
                                                                            320)
    assert "-mfpu=fpv5-sp-d16" in disco.compilation_flags  # the part's FPU, not the stand-in's
    real = ZephyrPlatform.board({"board": "stm32f746g_disco", "simulated": False})
    assert (real.runtime, real.qemu_machine) == ("zephyr", None)


def test_a_stand_in_with_another_core_or_none_is_one_line(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    text = (REPO / "platforms.yml").read_text()
    wrong = tmp_path / "platforms.yml"
    wrong.write_text(text.replace("qemu_board: mps2-an386", "qemu_board: mps2-an385"))
    with pytest.raises(BoardError) as error:
        load_boards(wrong)
    assert str(error.value) == (
        f"{wrong}: board 'max32690evkit/max32690/m4'.qemu_board: mps2-an385 has a Cortex-M3, "
        "max32690evkit/max32690/m4 a Cortex-M4F; the stand-in must have the same core")
    data = {"dataset": {"type": "DigitsDataset"}, "model_wrapper": {"type": "KerasModel"},
            "platform": {"type": "ZephyrPlatform", "parameters": {"name": "stm32f746g_disco"}}}
    import dataclasses

    from kenning_tasks.platforms import zephyr

    real = zephyr.get_board  # a platforms.yml whose Zephyr boards declare no stand-in
    monkeypatch.setattr(zephyr, "get_board",
                        lambda name: dataclasses.replace(real(name), qemu_board=None))
    with pytest.raises(ScenarioError) as refused:
        validate(tmp_path / "s.yml", "s", data)
    (line,) = refused.value.problems
    assert "platform.parameters.simulated: true simulates stm32f746g_disco (Renode in Kenning; " \
           "Renode is not available here" in line
    assert "no qemu_board with its core; set simulated: false to flash the real board" in line


@pytest.mark.slow
def test_magic_wand_flow_runs_on_the_simulated_stm32f746g_to_its_report(
        project: Project) -> None:
    """The Magic Wand flow from synthetic data: train (the model_path the flow loads), then the
    int8 flow through firmware, QEMU and evaluate to the report."""
    from kenning_tasks.datasets.synthetic.magic_wand import write_magic_wand

    folder = project.root / "scenarios" / "kenning"
    write_magic_wand(folder / "output" / "MagicWandDataset")
    project.edit("scenarios/kenning/magic-wand-train.yml", "num_epochs: 10", "num_epochs: 4")
    trained = project.doit("scenario=kenning/magic-wand-train", "evaluate", timeout=900)
    assert trained.returncode == 0, trained.stdout + trained.stderr
    assert (folder / "output" / "magic_wand.keras").is_file()  # exported save_model_path
    run = project.doit("scenario=kenning/magic-wand-stm32f746g-int8", "report", timeout=900)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    assert ("simulating stm32f746g_disco (Cortex-M7, flash 1024 KiB, RAM 320 KiB) on QEMU "
            "mps2-an500: Renode is not available") in run.stdout + run.stderr
    build = project.build("magic-wand-stm32f746g-int8")
    firmware = json.loads((build / "firmware" / "firmware.json").read_text())
    assert (firmware["flash_limit_bytes"], firmware["ram_limit_bytes"]) == (1024 * 1024,
                                                                            320 * 1024)
    measurements = json.loads((build / "evaluate" / "measurements.json").read_text())
    assert measurements["on_target"]["agreement_with_host"] == 1.0
    assert measurements["accuracy"] >= 0.8
    exported = folder / "output" / "magic-wand-int8.tflite"  # compiled_model_path
    assert exported.read_bytes() == (build / "quantize" / "model.tflite").read_bytes()
    assert (build / "report" / "report.html").is_file()
    again = project.doit("scenario=kenning/magic-wand-stm32f746g-int8", "report")
    assert again.returncode == 0 and again.executed == []
    # The flow as printed (float32 I/O and weights) runs on the board's float32 kernels.
    printed = project.doit("scenario=kenning/magic-wand-stm32f746g", "report", timeout=900)
    assert printed.returncode == 0, printed.stdout + printed.stderr
    printed_build = project.build("magic-wand-stm32f746g")
    printed_m = json.loads((printed_build / "evaluate" / "measurements.json").read_text())
    on_target = printed_m["on_target"]
    assert (on_target["numeric_path"], on_target["agreement_with_host"]) == ("float32", 1.0)
    assert json.loads((printed_build / "firmware" / "firmware.json").read_text())[
        "numeric_path"] == "float32"
    assert on_target["float_arithmetic"].startswith("FPU (fpv5-sp-d16")  # the part's FPU
    assert printed_m["accuracy"] == on_target["host_accuracy"] and printed_m["accuracy"] >= 0.8
    report = (printed_build / "report" / "report.md").read_text()
    assert "| numeric path | float32 kernels, FPU (fpv5-sp-d16" in report
    assert (folder / "output" / "magic-wand.tflite").is_file()


@pytest.mark.slow
def test_anomaly_detection_flow_runs_on_the_simulated_max32690_as_printed(
        project: Project) -> None:
    """The manual's MAX32690 flow: train (its `kenning train` step, which exports the
    model_path), then the scenario as printed, PyTorch VAE → float TFLite → QEMU → report."""
    from kenning_tasks.datasets.synthetic.anomaly import write_anomaly_csv

    folder = project.root / "scenarios" / "kenning"
    write_anomaly_csv(folder / "workspace" / "data.csv")
    trained = project.doit("scenario=kenning/anomaly-detection-train", "evaluate", timeout=900)
    assert trained.returncode == 0, trained.stdout + trained.stderr
    run = project.doit("scenario=kenning/anomaly-detection-max32690", "report", timeout=900)
    assert run.returncode == 0, run.stdout + run.stderr
    assert ("simulating max32690evkit/max32690/m4 (Cortex-M4F, flash 3072 KiB, RAM 1024 KiB) "
            "on QEMU mps2-an386: Renode is not available") in run.stdout + run.stderr
    build = project.build("anomaly-detection-max32690")
    measurements = json.loads((build / "evaluate" / "measurements.json").read_text())
    assert measurements["on_target"]["agreement_with_host"] == 1.0
    assert measurements["on_target"]["flash_limit_bytes"] == 3072 * 1024
    assert measurements["anomaly_metrics"]["samples"] > 0
    # As printed the VAE is float: it runs on the float32 kernels with the part's FPU, and its
    # one output (a distance) is decided against its threshold on host and target alike.
    firmware = json.loads((build / "firmware" / "firmware.json").read_text())
    assert firmware["numeric_path"] == "float32"
    assert {"LOGISTIC", "SLICE", "SUB", "MUL", "SUM", "SQRT"} <= set(firmware["ops"])
    on_target = measurements["on_target"]
    assert on_target["float_arithmetic"] == "FPU (fpv4-sp-d16, -mfloat-abi=hard)"
    assert measurements["accuracy"] == on_target["host_accuracy"]
    assert (folder / "workspace" / "vae_cats.tflite").read_bytes() == (
        build / "quantize" / "model.tflite").read_bytes()
    assert (build / "report" / "report.html").is_file()
    _int8_variant_stops_at_its_sqrt(project, folder)


# The full-integer VAE as TFLiteCompiler target int8 (litert-torch + ai-edge-quantizer) writes it.
VAE_INT8_OPS = ["RESHAPE", *["FULLY_CONNECTED"] * 6, "LOGISTIC", "SLICE", "SUB", "MUL", "SUM",
                "SQRT", "RESHAPE"]


def _int8_variant_stops_at_its_sqrt(project: Project, folder: Path) -> None:
    """The int8 variant: every op of its VAE has an int8 kernel but its distance's SQRT, which
    TFLite Micro runs in float32 only (elementwise.cc; its host interpreter fails to invoke an
    int8 SQRT), so there is no reference to be bit-exact with and the firmware stage refuses it
    in one line. The graph up to SUM (SLICE and SUM included) runs bit-exact with TFLM."""
    from kenning_tasks.codegen.reader import read_tflite

    run = project.doit("scenario=kenning/anomaly-detection-max32690-int8", "report",
                       timeout=900)
    assert run.returncode != 0
    exported = folder / "workspace" / "vae_cats_int8.tflite"  # compiled_model_path
    graph = read_tflite(exported)
    assert [op.opcode for op in graph.operators] == VAE_INT8_OPS
    assert all(graph.tensors[t].dtype == "int8" for op in graph.operators[7:13]
               for t in op.outputs)
    lines = [line for line in (run.stdout + run.stderr).splitlines()
             if "not supported by the kenning-tasks C runtime" in line]
    assert len(lines) == 1, run.stdout + run.stderr
    assert ": 1 operator(s) not supported by the kenning-tasks C runtime: SQRT (#12, " in lines[0]
    assert "TFLite Micro's SQRT kernel is float32 only" in lines[0]
    assert "SLICE (#" not in lines[0] and "SUM (#" not in lines[0]
    _vae_up_to_sum_matches_tflm(exported, project.root / "vae_up_to_sum")


def _vae_up_to_sum_matches_tflm(model: Path, work: Path) -> None:
    """The int8 VAE cut after SUM (its output the squared distance): generated C on the host
    (every variant) and on the Cortex-M4F in QEMU, against TFLite Micro, bit for bit."""
    import numpy as np
    from codegen_support import qemu
    from codegen_support.build import HOST_VARIANTS, HostModel, TflmModel

    from kenning_tasks.codegen import generate_c_model

    cut = _truncated_tflite(model, 12, work / "vae_up_to_sum.tflite")
    gen = generate_c_model(cut, work / "gen")
    assert gen.ops == VAE_INT8_OPS[:12] and gen.numeric_path == "int8"
    reference = TflmModel(cut)
    rng = np.random.default_rng(3)
    inputs = [rng.integers(-128, 128, gen.input_bytes, dtype=np.int8) for _ in range(16)]
    expected = [np.asarray(reference(x)).astype(np.int8) for x in inputs]
    assert len({e.tobytes() for e in expected}) > 1  # the distance varies with the input
    for variant in HOST_VARIANTS:
        model_c = HostModel(gen, work / "host", variant)
        assert [model_c(x).tobytes() for x in inputs] == [e.tobytes() for e in expected], variant
    if qemu.tools_available():
        run = qemu.run_on_qemu(gen, "cortex-m4f", inputs[:6], work / "qemu")
        assert [o.tobytes() for o in run.outputs] == [e.tobytes() for e in expected[:6]]


def _truncated_tflite(model: Path, n_ops: int, out: Path) -> Path:
    """``model`` with only its first ``n_ops`` operators, the last one's output the model's."""
    import flatbuffers
    from tensorflow.lite.python import schema_py_generated as schema

    tree = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(model.read_bytes(), 0))
    subgraph = tree.subgraphs[0]
    subgraph.operators = subgraph.operators[:n_ops]
    subgraph.outputs = [int(subgraph.operators[-1].outputs[0])]
    builder = flatbuffers.Builder(1024)
    builder.Finish(tree.Pack(builder), file_identifier=b"TFL3")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(builder.Output())
    return out
