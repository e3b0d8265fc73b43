"""Kenning users' files as they write them: names, defaults, derived runtime, grids, reports.

``tests/kenning_scenarios/`` holds scenario files written from Kenning's documentation (YAML and
JSON, dotted paths and class names, host and embedded, grids). Each either validates with the
blocks this project has, fails with the documented one-line message for what is out of scope
or not supported, or needs a Kenning data set / model wrapper that is being added (skipped,
with a reason, until it is registered). The grid counts are worked out from Kenning's rules
(``kenning/scenarios/optimization_runner.py``: the cartesian product of each block's parameter
lists, then every non-empty ordered subsequence of the optimizer pool).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kenning_tasks import formats, registry
from kenning_tasks.errors import ScenarioError, format_error
from kenning_tasks.grid import optimizer_chains
from kenning_tasks.kenning_measurements import (
    GRID_METRICS,
    SystemSampler,
    command_lines,
    grid_metrics,
    kenning_keys,
)
from kenning_tasks.optimizers.tvm_target import target_dict
from kenning_tasks.scenario_files import load_pipelines, load_scenario

FILES = Path(__file__).parent / "kenning_scenarios"
REPO = Path(__file__).resolve().parent.parent
KENNING_MIRROR = Path(os.environ.get("KENNING_MIRROR", "/work/.mirror/antmicro+kenning/repo"))

# file -> pipelines (and skipped combinations) it validates into
VALID = {
    "tflite-f32-dotted.json": (1, 0), "tflite-int8-derived-runtime.yml": (1, 0),
    "tflite-defaults.yml": (1, 0), "tflite-tvm-int8-avx2.json": (1, 0),
    "tflite-tvm-derived.yml": (1, 0), "onnx-convert-only.json": (1, 0),
    "torch-onnx-derived.yml": (1, 0), "torch-pytorch-runtime.json": (1, 0),
    "iree-vmvx.json": (1, 0), "iree-llvm-cpu.yml": (1, 0), "report-markdown.yml": (1, 0),
    "report-without-type.yml": (1, 0), "baremetal-qemu-int8.json": (1, 0),
    "zephyr-real-board.yml": (1, 0), "zephyr-tflite-runtime-uart.json": (1, 0),
    "csv-anomaly-tflite.yml": (1, 0), "mcu-int8-float-io.yml": (1, 0),
    # simulated: true (Kenning's default, Renode there): the board's QEMU stand-in here
    "zephyr-simulated.yml": (1, 0),
    # Kenning's documented grid: 1 TFLite × 2 TVM variants → chains [T], [V1], [T, V1], [V2],
    # [T, V2]; × 2 runtimes = 10 combinations, of which 5 connect (Kenning runs all 10 and
    # the other 5 fail at run time).
    "grid-kenning-docs.json": (5, 5),
    # T has 2 variants, O and V one each: picks (T1,O,V), (T2,O,V); 7 subsequences each, 3 of
    # them shared ([O], [V], [O, V]) → 11 chains; runtime derived per chain.
    "grid-three-optimizers.yml": (11, 0),
    # one chain × (TFLiteRuntime × 3 thread counts + ONNXRuntime)
    "grid-runtime-only.yml": (4, 0),
    # this project's form: [T, V], [O(static)], [O(dynamic)], []
    "grid-chain-form.yml": (4, 0),
}
# file -> the documented one-line messages its problems must contain (every problem, one line)
REFUSED = {
    "yolact-detection.yml": ["dataset.type: COCODataset2017: object detection and "
                             "segmentation models are out of scope",
                             "model_wrapper.type: YOLACT: object detection"],
    "llm-mistral.json": ["dataset.type: kenning.datasets.cnn_dailymail.CNNDailymailDataset: "
                         "LLMs are out of scope", "optimizers[0].type: "
                         "kenning.optimizers.awq.AWQOptimizer: LLMs are out of scope",
                         "runtime.type: kenning.runtimes.vllm.VLLMRuntime: LLMs"],
    "cuda-platform.yml": ["platform.type: CUDAPlatform: GPU platforms are out of scope",
                          "optimizers[0].parameters.target: 'cuda': GPU targets are out of "
                          "scope"],
    "automl.yml": ["automl: AutoML is out of scope; nearest: a grid search",
                   "model_wrapper: missing required block"],
    "pruning.json": ["optimizers[0].type: kenning.optimizers.tensorflow_pruning."
                     "TensorFlowPruningOptimizer: pruning and clustering optimizers are out "
                     "of scope; nearest: quantization",
                     "optimizers[1].type: kenning.optimizers.tensorflow_clustering."
                     "TensorFlowClusteringOptimizer: pruning and clustering"],
    "kenningflow.json": ["a list of runners is a KenningFlow: KenningFlow is out of scope"],
    "runtime-builder.json": ["runtime_builder: runtime_builder is out of scope: the firmware "
                             "stage builds the target's runtime itself"],
    "uart-without-platform.json": ["protocol: UARTProtocol names serial port '/dev/ttyUSB0', "
                                   "but platform HostPlatform is this computer"],
    "zephyr-without-board.yml": ["platform.parameters.name: missing; ZephyrPlatform needs a "
                                 "board; allowed: stm32f746g_disco"],
    "mcu-float-model.yml": ["platform.type: BareMetalPlatform runs the model with "
                            "MicroInt8Runtime, which runs int8 models only (int8 weights and "
                            "activations, int8 or float32 input and output), got float16 "
                            "weights",
                            "set optimizers[0].parameters target: int8, inference_input_type: "
                            "int8 and inference_output_type: int8"],
    "tvm-microtvm.json": ["optimizers[0].parameters.target: 'zephyr': microTVM is not part "
                          "of TVM 0.27"],
    "onnx-gpu-providers.json": ["runtime.parameters.execution_providers[0]: "
                                "'CUDAExecutionProvider' is not supported here; GPU and "
                                "accelerator providers are out of scope; nearest: "
                                "[CPUExecutionProvider]"],
    "many-errors.yml": [
        "extra_block: unknown key; allowed: dataset",
        "model_wrapper.parameters.epochs: 0 is below the minimum 1",
        "optimizers[0].parameters.inference_inpt_type: unknown parameter; allowed: ",
        "did you mean 'inference_input_type'?",
        "optimizers[0].parameters.target: 'int4' is not allowed; allowed: 'default', 'int8', "
        "'float16', 'edgetpu'; did you mean 'int8'?",
        "runtime.type: unknown runtime type 'TFLiteRuntim'; allowed: TFLiteRuntime",
        "did you mean 'TFLiteRuntime'?"],
}
# file -> Kenning blocks (or conversions, or model_path) it needs that the data-set work adds
PENDING = {
    "pet-mobilenet-tflite.yml": ["PetDataset", "TensorFlowPetDatasetMobileNetV2", "model_path"],
    "magic-wand-tflite.json": ["MagicWandDataset", "MagicWandModelWrapper", "model_path"],
    "anomaly-vae-max32690.yml": ["AnomalyDetectionDataset", "PyTorchAnomalyDetectionVAE",
                                 "torch→tflite", "model_path"],
    "vww-person-detection.json": ["VisualWakeWordsDataset", "PersonDetectionModelWrapper",
                                  "model_path"],
}


def _problems(name: str) -> list[str]:
    with pytest.raises(ScenarioError) as error:
        load_pipelines(FILES / name)
    return list(error.value.problems)


def test_the_corpus_covers_kenning_users_files() -> None:
    files = sorted(p.name for p in FILES.iterdir())
    assert sorted([*VALID, *REFUSED, *PENDING]) == files
    assert len(files) >= 25
    texts = [(FILES / f).read_text() for f in files]
    assert sum(f.endswith(".json") for f in files) >= 10
    assert sum(f.endswith(".yml") for f in files) >= 10
    assert sum("type: kenning." in t or '"kenning.' in t for t in texts) >= 10  # dotted
    assert sum("Platform" in t for t in texts) >= 8  # host and embedded
    assert sum("optimization_parameters" in t for t in texts) >= 4  # grids


@pytest.mark.parametrize("name", sorted(VALID))
def test_kenning_style_file_validates(name: str) -> None:
    pipelines, skipped = load_pipelines(FILES / name)
    assert (len(pipelines), len(skipped)) == VALID[name]


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_unsupported_kenning_file_is_refused_one_line_each(name: str) -> None:
    problems = _problems(name)
    for expected in REFUSED[name]:
        assert any(expected in line for line in problems), (expected, problems)
    for line in problems:
        assert "\n" not in line and "Traceback" not in line
        assert line.startswith(str(FILES / name))


@pytest.mark.parametrize("name", sorted(PENDING))
def test_file_needing_kenning_blocks_being_added(name: str, tmp_path: Path) -> None:
    missing = [n for n in PENDING[name] if not _available(n)]
    if not missing:
        # The data and model files the scenario names (relative to it) must exist; validation
        # says which are missing, one line each, and only stats them.
        copy = tmp_path / name
        copy.write_text((FILES / name).read_text())
        problems = _problems_of(copy)
        for line in problems:
            assert line.endswith("does not exist"), problems
            missing_file = Path(line.split(": file ", 1)[1].rsplit(" does not exist", 1)[0])
            missing_file.parent.mkdir(parents=True, exist_ok=True)
            missing_file.write_bytes(b"")
        pipelines, _ = load_pipelines(copy)
        assert len(pipelines) == 1
        return
    problems = _problems(name)
    for block in (n for n in missing if "→" not in n and n != "model_path"):
        assert any(f"Kenning's {block} is not available in this version yet" in line
                   for line in problems), problems
    if "model_path" in missing:
        assert any("model_path" in line for line in problems), problems
    pytest.skip(f"needs {', '.join(missing)} (being added with Kenning's data sets)")


def _problems_of(path: Path) -> list[str]:
    try:
        load_pipelines(path)
    except ScenarioError as error:
        return list(error.problems)
    return []


def _available(name: str) -> bool:
    if name == "model_path":
        return True
    if "→" in name:
        source, target = name.split("→")
        return formats.can_convert(source, target)
    return any(name in blocks for blocks in registry.BLOCKS.values())


def test_every_problem_of_a_file_is_reported_at_once() -> None:
    problems = _problems("many-errors.yml")
    assert len(problems) == 5
    text = format_error(ScenarioError(*problems))
    assert text.count("error: ") == 5 and len(text.splitlines()) == 5


def test_kenning_defaults_of_same_named_blocks() -> None:
    scenario = load_scenario(FILES / "tflite-defaults.yml")
    tflite = scenario.optimizers[0].parameters
    assert (tflite["target"], tflite["inference_input_type"], tflite["inference_output_type"],
            tflite["dataset_percentage"]) == ("default", "float32", "float32", 0.25)
    assert scenario.numerics.weights == "float32" and scenario.numerics.input == "float32"
    assert scenario.runtime.type_name == "TFLiteRuntime" and scenario.runtime_source == "derived"
    assert scenario.runtime.parameters["num_threads"] == 4  # Kenning's default
    assert scenario.platform.type_name == "LocalPlatform"
    onnx = load_scenario(FILES / "onnx-convert-only.json").optimizers[0]
    assert onnx.parameters["quantization"] == "none"  # Kenning's ONNXCompiler only converts
    assert onnx.create().pass_through("quantize") and onnx.create().pass_through("compile")
    iree = load_scenario(FILES / "iree-vmvx.json").optimizers[0]
    assert iree.parameters["backend"] == "vmvx"
    zephyr = load_scenario(FILES / "zephyr-tflite-runtime-uart.json")
    assert zephyr.protocol.parameters["baudrate"] == 115200
    uart = registry.find_block("protocol", "UARTProtocol")
    assert {p.name: p.default for p in uart.PARAMETERS}["baudrate"] == 9600
    assert {p.name: p.default for p in zephyr.platform.cls.PARAMETERS}["simulated"] is True


def test_former_parameter_name_says_what_it_is_called() -> None:
    data = {"dataset": {"type": "DigitsDataset"}, "model_wrapper": {"type": "KerasModel"},
            "optimizers": [{"type": "TFLiteCompiler",
                            "parameters": {"calibration_fraction": 0.5}}]}
    from kenning_tasks.scenario import validate

    with pytest.raises(ScenarioError, match="calibration_fraction: unknown parameter; it is "
                                            "called 'dataset_percentage'"):
        validate(Path("x.yml"), "x", data)


def test_runtime_is_derived_from_the_last_optimizer_and_the_platform() -> None:
    derived = {name: load_scenario(FILES / name).runtime.type_name for name in (
        "tflite-int8-derived-runtime.yml", "tflite-tvm-derived.yml", "torch-onnx-derived.yml",
        "iree-llvm-cpu.yml", "baremetal-qemu-int8.json", "zephyr-real-board.yml")}
    assert derived == {
        "tflite-int8-derived-runtime.yml": "TFLiteRuntime",
        "tflite-tvm-derived.yml": "TVMRuntime", "torch-onnx-derived.yml": "ONNXRuntime",
        "iree-llvm-cpu.yml": "IREERuntime", "baremetal-qemu-int8.json": "MicroInt8Runtime",
        "zephyr-real-board.yml": "MicroInt8Runtime"}
    board = load_scenario(FILES / "zephyr-tflite-runtime-uart.json")
    # Kenning's TFLiteRuntime on a board names the model the board's runtime runs.
    assert (board.runtime.type_name, board.runtime_source) == ("MicroInt8Runtime", "platform")
    real = load_scenario(FILES / "zephyr-real-board.yml")
    assert real.platform.parameters["board"] == "stm32f746g_disco"
    assert real.protocol.parameters["port"] == "/dev/ttyACM0"  # Kenning's default protocol
    assert real.protocol.parameters["baudrate"] == 115200  # from platforms.yml


def test_export_requests_are_carried_with_their_artifacts() -> None:
    scenario = load_scenario(FILES / "tflite-tvm-int8-avx2.json")
    exports = {e.key: (e.path, e.artifact) for e in scenario.exports}
    assert exports == {
        "optimizers[0].parameters.compiled_model_path": ("./build/int8.tflite",
                                                         "quantize/model.tflite"),
        "optimizers[1].parameters.compiled_model_path": ("./build/int8_tvm.tar",
                                                         "compile/model.tvm.so"),
        "runtime.parameters.save_model_path": ("./build/int8_tvm.tar", "compile/model.tvm.so")}
    report = load_scenario(FILES / "report-markdown.yml")
    exports = {e.key: (e.path, e.artifact) for e in report.exports}
    assert exports["report.parameters.report_path"] == (
        "./build/classification-report/report.md", "report/report.md")
    # Kenning: to_html true → <report_path without suffix>/<stem>.html
    assert exports["report.parameters.to_html"] == (
        "build/classification-report/report/report.html", "report/report.html")
    assert exports["report.parameters.measurements"] == ("./build/digits-tflite.json",
                                                         "evaluate/measurements.json")
    assert report.report.parameters["main_quality_metric"] == "g_mean"
    assert report.report.parameters["report_types"] == ["performance", "classification"]


def test_grid_exports_get_the_variant_prefix_kenning_gets_its_index() -> None:
    pipelines, _ = load_pipelines(FILES / "grid-kenning-docs.json")
    for pipeline in pipelines:
        for export in pipeline.exports:
            assert Path(export.path).name.startswith(f"{pipeline.variant}_")


def test_kenning_ordered_powerset_of_the_optimizer_pool() -> None:
    pool = [{"type": name} for name in ("TFLiteCompiler", "ONNXCompiler", "TVMCompiler")]
    chains = [[b["type"][:4] for b in chain] for chain in optimizer_chains(Path("x"), pool)]
    # Kenning's docstring: ordered_powerset([1, 2, 3]) == [[1], [2], [3], [1, 2], [1, 3],
    # [2, 3], [1, 2, 3]]
    assert chains == [["TFLi"], ["ONNX"], ["TVMC"], ["TFLi", "ONNX"], ["TFLi", "TVMC"],
                      ["ONNX", "TVMC"], ["TFLi", "ONNX", "TVMC"]]


def test_grid_parameter_lists_are_a_cartesian_product_and_duplicates_are_dropped() -> None:
    pool = [{"type": "TFLiteCompiler", "parameters": {"target": ["default", "int8"],
                                                      "dataset_percentage": [0.1, 0.2]}},
            {"type": "ONNXCompiler"}]
    chains = optimizer_chains(Path("x"), pool)
    # 4 TFLite variants; per pick: [T], [O], [T, O]; [O] is shared → 4 + 1 + 4 chains
    assert len(chains) == 9
    assert sum(chain == [{"type": "ONNXCompiler"}] for chain in chains) == 1
    # our chain form: no subsequences
    assert len(optimizer_chains(Path("x"), [[pool[0]], [pool[1]], []])) == 4 + 1 + 1


def test_kenning_metric_names_rank_grids() -> None:
    for name in ("inferencetime_mean", "session_utilization_mem_percent_mean", "Accuracy",
                 "accuracy", "G-mean", "F1 score weighted", "inference_time_mean"):
        assert name in GRID_METRICS
    data = json.loads((FILES / "grid-kenning-docs.json").read_text())
    data["optimization_parameters"]["metric"] = "inferencetime_men"
    from kenning_tasks.grid import expand

    with pytest.raises(ScenarioError, match="did you mean 'inferencetime_mean'"):
        expand(Path("grid.json"), data)
    data["optimization_parameters"]["metric"] = "session_utilization_mem_percent_mean"
    data["platform"] = {"type": "BareMetalPlatform", "parameters": {"name": "mps2-an386"}}
    data["optimizers"] = [{"type": "TFLiteCompiler", "parameters": {
        "target": ["int8"], "inference_input_type": ["int8"], "inference_output_type": ["int8"]}}]
    data["optimization_parameters"]["optimizable"] = ["optimizers"]
    data.pop("runtime")
    with pytest.raises(ScenarioError, match="measured on the host only"):
        expand(Path("grid.json"), data)


@pytest.mark.parametrize(("target", "attrs", "expected"), [
    ("llvm", "", {"kind": "llvm"}),
    ("llvm -mcpu=core-avx2", "", {"kind": "llvm", "mcpu": "core-avx2"}),
    ("llvm", "-mcpu=core-avx2", {"kind": "llvm", "mcpu": "core-avx2"}),
    ("llvm -mattr=+avx2,+fma -num-cores=2 -fast-math", "",
     {"kind": "llvm", "mattr": ["+avx2", "+fma"], "num-cores": 2, "fast-math": True}),
    ({"kind": "llvm", "mcpu": "skylake"}, "", {"kind": "llvm", "mcpu": "skylake"}),
])
def test_tvm_target_strings_map_to_tvm_027_dicts(target: object, attrs: str,
                                                 expected: dict) -> None:
    assert target_dict(target, attrs, "t") == expected


@pytest.mark.parametrize(("target", "message"), [
    ("cuda -arch=sm_87", "GPU targets are out of scope"),
    ("zephyr", "microTVM is not part of TVM 0.27"),
    ("llvm -march=armv7", "unknown llvm option 'march'"),
    ("llvm -num-cores=two", "is not a int"),
])
def test_unsupported_tvm_targets_are_one_line(target: str, message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        target_dict(target, "", "t")


def _synthetic(classes: int = 3, samples: int = 30) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    y = np.arange(samples) % classes
    scores = rng.random((samples, classes))
    scores[np.arange(samples), y] += 0.6  # mostly right
    return y, scores


def test_measurements_carry_kenning_keys_and_formats() -> None:
    scenario = load_scenario(FILES / "tflite-tvm-int8-avx2.json")
    y, scores = _synthetic()
    keys = kenning_keys(scenario, y, scores, ["a", "b", "c"], [0.001] * 30, None,
                        {"session_utilization_mem_percent": [1.0]}, 1234)
    assert keys["command"] == ["kenning-tasks run \\", "    scenario=tflite-tvm-int8-avx2 \\",
                               "    report"]
    matrix = np.asarray(keys["eval_confusion_matrix"])
    assert matrix.shape == (3, 3) and matrix.sum() == 30
    assert np.trace(matrix) == int((scores.argmax(1) == y).sum())
    assert keys["predictions"][0] == {"target": int(y[0]), "prediction": int(scores[0].argmax())}
    assert keys["total"] == 30 and keys["top_5_count"] == 30  # 3 classes: all in the top 5
    assert keys["target_inference_step_timestamp"][-1] == pytest.approx(0.03)
    assert keys["build_cfg"]["optimizers"][1]["type"] == "kenning.optimizers.tvm.TVMCompiler"
    assert [o["compiler_framework"] for o in keys["optimizers"]] == ["tensorflow", "tvm"]
    assert keys["model_framework"] == "tensorflow" and keys["compiled_model_size"] == 1234
    assert command_lines(["a"]) == ["a"]


def test_grid_metrics_under_kenning_names() -> None:
    y, scores = _synthetic(classes=2)
    scenario = load_scenario(FILES / "tflite-defaults.yml")
    measurements = {
        **kenning_keys(scenario, y, scores, ["n", "a"], [0.002, 0.004] * 15, None,
                       {"session_utilization_cpus_percent": [[50.0, 100.0]],
                        "session_utilization_mem_percent": [10.0]}, 10),
        "accuracy": 0.9, "mean_precision": 0.8, "mean_sensitivity": 0.7, "g_mean": 0.6,
        "inference_time_s": {"mean": 0.003}, "model_size_bytes": 10,
        "inference_times_s": [0.002, 0.004] * 15,
        "predictions": []}  # ROC AUC and F1 are compared with Kenning's in the slow test
    metrics = grid_metrics(measurements)
    assert metrics["inferencetime_mean"] == pytest.approx(0.003)
    assert metrics["session_utilization_cpus_percent_avg_mean"] == pytest.approx(75.0)
    assert metrics["Accuracy"] == metrics["accuracy"] == 0.9
    assert metrics["Top-5 accuracy"] == 1.0 and "ROC AUC" not in metrics


def test_cpu_and_memory_are_sampled_during_host_evaluation() -> None:
    import psutil

    with SystemSampler(period=0.02) as sampler:
        while sampler.now() < 0.05:
            pass
    taken = sampler.measurements()
    assert len(taken["session_utilization_timestamp"]) >= 2
    assert taken["session_utilization_timestamp"] == sorted(
        taken["session_utilization_timestamp"])
    assert all(len(cpus) == psutil.cpu_count() for cpus in
               taken["session_utilization_cpus_percent"])
    assert all(0.0 <= m <= 100.0 for m in taken["session_utilization_mem_percent"])


def test_validation_imports_no_framework() -> None:
    code = ("import sys; from pathlib import Path\n"
            "from kenning_tasks.scenario_files import load_pipelines\n"
            "from kenning_tasks.errors import ScenarioError\n"
            f"for p in sorted(Path({str(FILES)!r}).iterdir()):\n"
            "    try: load_pipelines(p)\n"
            "    except ScenarioError: pass\n"
            "print(sorted(m for m in ('numpy', 'tensorflow', 'torch', 'tvm', 'iree', 'psutil',"
            " 'sklearn') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=REPO, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.slow  # imports TVM (seconds)
def test_tvm_target_option_table_matches_the_installed_tvm() -> None:
    tvm = pytest.importorskip("tvm")
    from kenning_tasks.optimizers.tvm_target import LLVM_OPTIONS

    options = dict(tvm.target.TargetKind.options_from_name("llvm"))
    kinds = {"str": "str", "int": "int", "bool": "bool", "Array<str>": "array"}
    internal = {"kind", "host", "from_device", "target_device_type"}  # set by TVM itself
    expected = {name: kinds[str(kind)] for name, kind in options.items()
                if name not in internal}
    assert expected == LLVM_OPTIONS


@pytest.mark.slow  # runs Kenning's own metric and report code on our measurements (seconds)
def test_kenning_reads_our_measurements(tmp_path: Path) -> None:
    """Kenning v0.8.2's report deduces its report types and computes its metrics from a
    measurements file this project writes (the source comes from the Kenning mirror)."""
    if not (KENNING_MIRROR / "HEAD").exists():
        pytest.skip(f"no Kenning mirror at {KENNING_MIRROR}")
    pytest.importorskip("coloredlogs")  # Kenning's logger needs it (dev dependency)
    source = tmp_path / "kenning"
    source.mkdir()
    archive = subprocess.run(["git", "-C", str(KENNING_MIRROR), "archive", "v0.8.2", "kenning"],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(source)], input=archive, check=True)
    scenario = load_scenario(FILES / "tflite-tvm-int8-avx2.json")
    y, scores = _synthetic()
    with SystemSampler(period=0.01) as sampler:
        while sampler.now() < 0.03:
            pass
    measurements = kenning_keys(scenario, y, scores, ["a", "b", "c"], [0.001] * 30, None,
                                sampler.measurements(), 1234)
    path = tmp_path / "measurements.json"
    path.write_text(json.dumps(measurements))
    check = f"""
import json, sys
sys.path.insert(0, {str(source)!r})
from kenning.core.metrics import compute_classification_metrics, compute_performance_metrics
from kenning.core.report import Report
data, types, _ = Report.load_measurements_for_report([{str(path)!r}], False, None, None)
cls = compute_classification_metrics(data[0])
perf = compute_performance_metrics(data[0])
header = {{"command": []}}
header["command"] += data[0]["command"] + [""]
print(json.dumps({{"types": [str(t.value) for t in types],
                  "accuracy": float(cls["Accuracy"]), "top5": float(cls["Top-5 accuracy"]),
                  "roc": float(cls["ROC AUC weighted"]), "f1": float(cls["F1 score weighted"]),
                  "mean": float(perf["inferencetime_mean"]),
                  "cpu": "session_utilization_cpus_percent_avg_mean" in perf}}))
"""
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["types"] == ["classification", "performance"]
    assert result["accuracy"] == pytest.approx(float(np.mean(scores.argmax(1) == y)))
    assert result["top5"] == 1.0 and result["mean"] == pytest.approx(0.001) and result["cpu"]
    ours = grid_metrics({**measurements, "accuracy": 0, "mean_precision": 0,
                         "mean_sensitivity": 0, "g_mean": 0, "inference_time_s": {"mean": 0},
                         "model_size_bytes": 0})
    assert ours["ROC AUC weighted"] == pytest.approx(result["roc"])
    assert ours["F1 score weighted"] == pytest.approx(result["f1"])
