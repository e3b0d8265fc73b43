"""Quality gates: syntax, defaults, verdicts, and what a run does with a failed gate."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from kenning_tasks.ci import gate_specs, gates, junit, summary
from kenning_tasks.errors import ScenarioError
from kenning_tasks.reporter import GATE_FAILURE_EXIT
from kenning_tasks.scenario_files import load_scenario
from tests.conftest import Project

HOST = """dataset: {type: DigitsDataset}
model_wrapper: {type: KerasModel, parameters: {architecture: cnn, epochs: 2}}
"""
MEASUREMENTS = {"scenario": "s", "accuracy": 0.95, "model_size_bytes": 9000,
                "inference_time_s": {"mean": 2e-5}, "confusion_matrix": [[1]],
                "on_target": {"agreement_with_host": 0.1486, "flash_bytes": 70000}}


def scenario_file(tmp_path: Path, text: str, name: str = "gated") -> Path:
    path = tmp_path / f"{name}.yml"
    path.write_text(text)
    return path


def test_every_bad_gate_is_reported_at_once(tmp_path: Path) -> None:
    path = scenario_file(tmp_path, HOST + """gates:
  accuracy: 0.95
  on_target.flash_bytes: "<= 100"
  g_mean: "~ 3"
  top_1_accuracy: ">= nan"
  mean_precision: ">= 1e999"
  model_size_bytes: "<= 65536"
""")
    with pytest.raises(ScenarioError) as raised:
        load_scenario(path)
    lines = raised.value.problems
    assert [line.split(": ")[1] for line in lines] == [
        "gates.accuracy", "gates.on_target.flash_bytes", "gates.g_mean",
        "gates.top_1_accuracy", "gates.mean_precision"]
    assert all(line.startswith(f"{path}: gates.") for line in lines)
    assert "allowed: a comparison string such as \">= 0.95\"" in lines[0]
    assert "only on an embedded platform" in lines[1]


def test_on_target_agreement_is_gated_unless_turned_off(tmp_path: Path) -> None:
    embedded = Path("scenarios/digits-int8-qemu-m4.yml").read_text()
    default = load_scenario(scenario_file(tmp_path, embedded, "m4"))
    assert [(g.metric, g.comparison, g.default) for g in default.gates] == [
        (gate_specs.AGREEMENT, "== 1.0", True)]
    opted_out = load_scenario(scenario_file(
        tmp_path, embedded + "\ngates:\n  on_target.agreement_with_host: off\n", "m4-off"))
    assert opted_out.gates == ()
    stricter = load_scenario(scenario_file(
        tmp_path, embedded + '\ngates:\n  on_target.agreement_with_host: ">= 0.99"\n', "m4b"))
    assert [(g.comparison, g.default) for g in stricter.gates] == [(">= 0.99", False)]
    assert load_scenario(scenario_file(tmp_path, HOST, "host")).gates == ()


def test_verdicts_and_failure_lines() -> None:
    parsed, problems = gate_specs.parse(
        {"accuracy": ">= 0.9", "inference_time_mean": "<= 0.002",
         "on_target.flash_bytes": "<= 65536", "roc_auc": "> 0.5"}, "f: gates", embedded=True)
    assert problems == []
    verdicts = gates.evaluate("s", parsed, MEASUREMENTS)
    by_metric = {g["metric"]: g for g in verdicts["gates"]}
    assert verdicts["failed"] == 3 and verdicts["passed"] is False
    assert by_metric["accuracy"]["passed"] and by_metric["inference_time_s.mean"]["passed"]
    agreement = by_metric[gate_specs.AGREEMENT]
    assert agreement["default"] and not agreement["passed"]
    assert "no 'roc_auc' in measurements.json" in by_metric["roc_auc"]["problem"]
    assert gates.failure_lines(verdicts) == [
        "gate failed: s: on_target.agreement_with_host = 0.1486 (required == 1.0)",
        "gate failed: s: on_target.flash_bytes = 70000 (required <= 65536)",
        f"gate failed: s: roc_auc = {by_metric['roc_auc']['problem']} (required > 0.5)"]


def test_junit_has_one_case_per_stage_and_per_gate() -> None:
    run = {"stages": [
        {"task": "train:s", "stage": "train", "pipeline": "s", "status": "restored",
         "cache": "remote", "seconds": 0.2},
        {"task": "evaluate:s", "stage": "evaluate", "pipeline": "s", "status": "failed",
         "seconds": 0.1, "message": "boom"}],
        "gates": [{"scenario": "s", "metric": "accuracy", "comparison": ">= 0.9",
                   "value": 0.5, "passed": False},
                  {"scenario": "s", "metric": "model_size_bytes", "comparison": "<= 9",
                   "value": 9, "passed": True}], "errors": []}
    root = ET.fromstring(junit.to_xml(run))
    suites = {s.get("name"): s for s in root}
    assert suites["stages"].get("tests") == "2" and suites["stages"].get("failures") == "1"
    assert suites["quality gates"].get("failures") == "1"
    failure = suites["quality gates"].find("testcase/failure")
    assert failure is not None
    assert failure.get("message") == "accuracy = 0.5 (required >= 0.9)"
    assert root.find(".//testcase[@name='train']/system-out").text == "restored (remote cache)"


@pytest.mark.slow
def test_failed_gate_fails_the_run_after_everything_ran(project: Project) -> None:
    path = project.root / "scenarios" / "gated.yml"
    path.write_text(HOST + 'gates:\n  accuracy: ">= 0.999"\n  model_size_bytes: "<= 1e9"\n')
    run = project.doit("scenario=gated", "report", cache=False)
    assert run.returncode == GATE_FAILURE_EXIT == 1, run.stdout + run.stderr
    assert run.executed_stages() == {"dataset", "train", "convert", "quantize", "compile",
                                     "evaluate", "report"}  # the report ran after the gate
    [line] = [x for x in run.stdout.splitlines() if x.startswith("gate failed:")]
    assert line.startswith("gate failed: gated: accuracy = 0.") and "(required >= 0.999)" in line
    report = (project.build("gated") / "report" / "report.md").read_text()
    assert "**✗ FAILED:** 1 of 2 quality gates failed" in report
    recorded = json.loads((project.root / "build" / summary.SUMMARY_FILE).read_text())
    assert recorded["result"] == "failed" and recorded["gates_failed"] == 1
    assert [s["status"] for s in recorded["stages"]] == ["ran"] * 7
    [evaluate] = [s for s in recorded["stages"] if s["stage"] == "evaluate"]
    assert evaluate["gates"] == {"passed": 1, "failed": 1}
    again = project.doit("scenario=gated", "report", cache=False)  # still red when reused
    assert again.returncode == 1 and again.executed == []
    assert line in again.stdout


@pytest.mark.slow
def test_a_firmware_kernel_regression_fails_the_default_gate(project: Project) -> None:
    """The issue's case: softmax off by one on the target passed green; now it fails the run."""
    softmax = project.root / "firmware" / "runtime" / "softmax.c"
    text = softmax.read_text()
    assert text.count(" - 128);") >= 2  # every output path of the kernel
    softmax.write_text(text.replace(" - 128);", " - 127);"))
    text = project.scenario_path("digits-int8-qemu-m4").read_text()
    project.scenario_path("m4").write_text(text.replace("epochs: 15", "epochs: 2"))
    junit_file = project.root / "build" / "junit.xml"
    os.environ[junit.JUNIT_ENV] = str(junit_file)
    try:
        run = project.doit("scenario=m4", "report", cache=False)
    finally:
        del os.environ[junit.JUNIT_ENV]
    assert run.returncode == 1, run.stdout + run.stderr
    [line] = [x for x in run.stdout.splitlines() if x.startswith("gate failed:")]
    prefix, _, rest = line.partition(" = ")
    assert prefix == "gate failed: m4: on_target.agreement_with_host"
    value, _, required = rest.partition(" ")
    assert 0 <= float(value) < 1 and required == "(required == 1.0)"
    report = (project.build("m4") / "report" / "report.md").read_text()
    assert "**✗ FAILED:** 1 of 1 quality gate failed" in report
    failures = ET.parse(junit_file).getroot().findall(".//testcase/failure")
    assert [f.get("type") for f in failures] == ["GateFailed"]
    # Opting out is explicit, and reruns only evaluate and report.
    project.scenario_path("m4").write_text(
        project.scenario_path("m4").read_text()
        + "\ngates:\n  on_target.agreement_with_host: off\n")
    waived = project.doit("scenario=m4", "report", cache=False)
    assert waived.returncode == 0, waived.stdout + waived.stderr
    assert waived.executed_stages() == {"evaluate", "report"}
