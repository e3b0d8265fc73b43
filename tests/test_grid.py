"""Grid search: one shared dataset and training, every compatible combination, the best one."""

from __future__ import annotations

import json

import pytest

from kenning_tasks.errors import ScenarioError
from kenning_tasks.grid import best
from tests.conftest import Project

GRID = """\
optimization_parameters:
  strategy: grid_search
  optimizable: [optimizers, runtime]
  metric: accuracy
  policy: max
dataset:
  type: DigitsDataset
model_wrapper:
  type: KerasModel
  parameters: {architecture: cnn, epochs: 15}  # as digits-tflite-int8: shared via the cache
optimizers:  # a flat list: Kenning's ordered pool, its subsequences are the chains
  - type: TFLiteCompiler
    parameters:
      target: [int8, default]
  - type: ONNXCompiler
    parameters:
      quantization: static
runtime:
  - type: TFLiteRuntime
  - type: ONNXRuntime
"""


@pytest.fixture(scope="module")
def grid(module_project: Project) -> Project:
    (module_project.root / "scenarios" / "grid.yml").write_text(GRID)
    run = module_project.doit("-n", "2", "scenario=grid", "report")  # parallel workers
    assert run.returncode == 0, run.stdout + run.stderr
    module_project.first_run = run  # type: ignore[attr-defined]
    return module_project


@pytest.mark.slow  # trains or converts a model
def test_trains_once_and_evaluates_every_compatible_combination(grid: Project) -> None:
    run = grid.first_run  # type: ignore[attr-defined]
    assert [t for t in run.executed if t.startswith("train:")] == ["train:grid"]
    assert run.stderr.count("train:grid: started") == 1
    evaluated = [t for t in run.executed if t.startswith("evaluate:")]
    # Kenning's rules: the chains are T(int8), T(default), O and [T(int8), O], [T(default), O];
    # T × 2 runtimes + O × ONNX Runtime + [T, O] × ONNX Runtime; → TFLiteRuntime after O skipped.
    assert len(evaluated) == 7
    assert "skipped ONNXCompiler(quantization=static) → TFLiteRuntime" in run.stderr


@pytest.mark.slow  # trains or converts a model
def test_best_follows_metric_and_policy(grid: Project) -> None:
    report = grid.root / "build" / "grid" / "report"
    results = json.loads((report / "results.json").read_text())["results"]
    chosen = json.loads((report / "best.json").read_text())
    expected = max(results, key=lambda r: r["metrics"]["accuracy"])
    assert chosen["pipeline"] == expected["pipeline"]
    assert "Best:" in (report / "report.md").read_text()
    fastest = best(results, "inference_time_mean", "min")
    assert fastest["metrics"]["inference_time_mean"] == min(
        r["metrics"]["inference_time_mean"] for r in results)


@pytest.mark.slow  # trains or converts a model
def test_adding_an_alternative_reuses_every_existing_result(grid: Project) -> None:
    before = json.loads((grid.root / "build/grid/report/results.json").read_text())["results"]
    old = {r["pipeline"] for r in before}
    grid.edit("scenarios/grid.yml", "target: [int8, default]", "target: [int8, default, float16]")
    run = grid.doit("scenario=grid", "report")
    assert run.returncode == 0, run.stderr
    executed_pipelines = {t.split(":", 1)[1] for t in run.executed}
    assert not executed_pipelines & old
    assert "train:grid" not in run.executed and "dataset:grid" not in run.executed
    new = executed_pipelines - {"grid"}
    assert len(new) == 3  # T(float16) × (TFLiteRuntime, ONNXRuntime), [T(float16), O] × ONNX
    after = json.loads((grid.root / "build/grid/report/results.json").read_text())["results"]
    assert len(after) == 10


def test_grid_without_compatible_combination_is_an_error(tmp_path) -> None:
    from kenning_tasks.scenario_files import load_pipelines

    path = tmp_path / "impossible.yml"
    path.write_text(GRID.replace("  - type: ONNXRuntime\n", "").replace(
        "  - type: TFLiteCompiler\n    parameters:\n      target: [int8, default]\n", ""))
    with pytest.raises(ScenarioError, match="no compatible combination"):
        load_pipelines(path)


@pytest.mark.slow  # trains or converts a model
def test_identical_pipelines_in_other_scenarios_keep_their_own_measurements(
        grid: Project) -> None:
    # digits-tflite-int8 has the same dataset, model, optimizer and runtime as one grid variant.
    run = grid.doit("scenario=grid,digits-tflite-int8", "report")
    assert run.returncode == 0, run.stdout + run.stderr
    m = json.loads((grid.build("digits-tflite-int8") / "evaluate/measurements.json").read_text())
    assert m["scenario"] == "digits-tflite-int8"
    for result in json.loads((grid.root / "build/grid/report/results.json").read_text())[
            "results"]:
        assert result["pipeline"].startswith("grid/")
