"""The heart of the product: a stage reruns if and only if something it depends on changed."""

from __future__ import annotations

import json

import pytest

from tests.conftest import Project

pytestmark = pytest.mark.slow  # every test here trains and runs a pipeline

SCENARIO = "digits-tflite-int8"
QUANTIZE_PARAM = "dataset_percentage: 0.25"
TEMPLATE = "kenning_tasks/templates/report.md.j2"


@pytest.fixture(scope="module")
def built(module_project: Project) -> Project:
    run = module_project.doit(f"scenario={SCENARIO}", "report")
    assert run.returncode == 0, run.stdout + run.stderr
    return module_project


def test_cold_run_writes_a_report_with_good_accuracy(built: Project) -> None:
    build = built.build(SCENARIO)
    assert (build / "report" / "report.md").is_file()
    assert (build / "report" / "report.html").is_file()
    measurements = json.loads((build / "evaluate" / "measurements.json").read_text())
    assert measurements["accuracy"] >= 0.9
    html = (build / "report" / "report.html").read_text()
    assert "data:image/svg+xml;base64," in html  # self-contained


def test_second_run_executes_no_stage(built: Project) -> None:
    run = built.doit(f"scenario={SCENARIO}", "report")
    assert run.returncode == 0
    assert run.executed == []
    assert len(run.up_to_date) == 7


def test_quantization_parameter_reruns_quantize_and_downstream_only(built: Project) -> None:
    built.edit(f"scenarios/{SCENARIO}.yml", QUANTIZE_PARAM, "dataset_percentage: 0.5")
    try:
        run = built.doit(f"scenario={SCENARIO}", "report")
        assert run.returncode == 0, run.stderr
        assert run.executed_stages() == {"quantize", "compile", "evaluate", "report"}
    finally:
        built.edit(f"scenarios/{SCENARIO}.yml", "dataset_percentage: 0.5", QUANTIZE_PARAM)
    # Reverting restores the earlier results from the run cache instead of recomputing them.
    run = built.doit(f"scenario={SCENARIO}", "report")
    assert "restored from the run cache" in run.stderr


def test_report_template_edit_reruns_only_report(built: Project) -> None:
    built.edit(TEMPLATE, "*Written by kenning-tasks", "*(edited) Written by kenning-tasks")
    run = built.doit(f"scenario={SCENARIO}", "report")
    assert run.returncode == 0, run.stderr
    assert run.executed == [f"report:{SCENARIO}"]
    assert "(edited)" in (built.build(SCENARIO) / "report" / "report.md").read_text()


def test_code_change_reruns_the_stage_it_implements(built: Project) -> None:
    built.edit("kenning_tasks/stages/report.py", '"""report stage:', '"""report stage (v2):')
    run = built.doit(f"scenario={SCENARIO}", "report")
    assert run.executed == [f"report:{SCENARIO}"]


def test_deleted_compiled_model_reruns_compile_but_not_downstream(built: Project) -> None:
    model = built.build(SCENARIO) / "compile" / "model.tflite"
    model.unlink()
    run = built.doit(f"scenario={SCENARIO}", "report", cache=False)
    assert run.returncode == 0, run.stderr
    assert run.executed == [f"compile:{SCENARIO}"]  # same bytes again: early cutoff
    assert model.is_file()


def test_altered_compiled_model_is_rebuilt(built: Project) -> None:
    model = built.build(SCENARIO) / "compile" / "model.tflite"
    original = model.read_bytes()
    model.write_bytes(original[:-1] + bytes([original[-1] ^ 0xFF]))
    run = built.doit(f"scenario={SCENARIO}", "report")
    assert run.executed == [f"compile:{SCENARIO}"]
    assert model.read_bytes() == original


def test_touched_but_unchanged_input_does_not_rerun(built: Project) -> None:
    splits = built.build(SCENARIO) / "dataset" / "splits.npz"
    splits.write_bytes(splits.read_bytes())  # new mtime, same bytes
    run = built.doit(f"scenario={SCENARIO}", "report")
    assert run.executed == []


def test_training_is_deterministic(built: Project) -> None:
    model = built.build(SCENARIO) / "train" / "model.keras"
    before = model.read_bytes()
    model.unlink()
    run = built.doit(f"scenario={SCENARIO}", "train", cache=False)  # really retrain
    assert run.returncode == 0, run.stderr
    assert "epoch 15/15" in run.stderr
    assert model.read_bytes() == before
    assert built.doit(f"scenario={SCENARIO}", "report").executed == []


def test_why_explains_a_pending_rerun(built: Project) -> None:
    built.edit(f"scenarios/{SCENARIO}.yml", "learning_rate: 0.005", "learning_rate: 0.004")
    try:
        import subprocess
        import sys

        completed = subprocess.run(
            [sys.executable, "-m", "kenning_tasks", "why", f"scenario={SCENARIO}", "train"],
            cwd=built.root, env={"PYTHONPATH": str(built.root), "PATH": "/usr/bin:/bin"},
            capture_output=True, text=True)
        assert completed.returncode == 0, completed.stderr
        assert "learning_rate" in completed.stdout
        assert "0.005" in completed.stdout and "0.004" in completed.stdout
    finally:
        built.edit(f"scenarios/{SCENARIO}.yml", "learning_rate: 0.004", "learning_rate: 0.005")


def test_quantize_helper_edit_reruns_the_stages_that_use_it(built: Project) -> None:
    """metrics.quantize is reached only through function-level imports; its stages rerun."""
    built.edit("kenning_tasks/metrics.py", "def quantize(", "# edited\ndef quantize(")
    run = built.doit(f"scenario={SCENARIO}", "report")
    assert run.returncode == 0, run.stderr
    assert run.executed_stages() == {"evaluate", "report"}  # host: no simulate stage


def test_why_names_the_upstream_stage_that_reruns(built: Project) -> None:
    import subprocess
    import sys

    built.edit(f"scenarios/{SCENARIO}.yml", QUANTIZE_PARAM, "dataset_percentage: 0.4")
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "kenning_tasks", "why", f"scenario={SCENARIO}"],
            cwd=built.root / "scenarios", env={"PYTHONPATH": str(built.root),
                                               "PATH": "/usr/bin:/bin"},
            capture_output=True, text=True)
        assert completed.returncode == 0, completed.stderr
        lines = completed.stdout.splitlines()
        assert f"dataset:{SCENARIO} is up to date" in lines
        assert any(line.startswith(f"quantize:{SCENARIO} will run:") for line in lines)
        assert (f"compile:{SCENARIO} will run after quantize: its input model.tflite will be "
                "rebuilt") in lines
    finally:
        built.edit(f"scenarios/{SCENARIO}.yml", "dataset_percentage: 0.4", QUANTIZE_PARAM)
