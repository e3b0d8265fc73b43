"""Invalid scenarios fail before any task runs: one line naming file, key and what is allowed."""

from __future__ import annotations

import pytest

from tests.conftest import Project

VALID = """\
dataset:
  type: DigitsDataset
model_wrapper:
  type: KerasModel
  parameters:
    epochs: 2
optimizers:
  - type: TFLiteCompiler
    parameters:
      target: int8
runtime:
  type: TFLiteRuntime
"""

CASES = {
    "unknown_top_level_key": (VALID + "extra_block: {}\n",
                              "extra_block: unknown key; allowed: dataset"),
    "unknown_parameter": (VALID.replace("epochs: 2", "epochs: 2\n    epoch: 3"),
                          "model_wrapper.parameters.epoch: unknown parameter; allowed: "
                          "architecture, batch_size, epochs"),
    "unknown_type": (VALID.replace("type: TFLiteRuntime", "type: TFLiteRuntim"),
                     "runtime.type: unknown runtime type 'TFLiteRuntim'; allowed: "
                     "TFLiteRuntime"),
    "wrong_value_type": (VALID.replace("epochs: 2", "epochs: two"),
                         "model_wrapper.parameters.epochs: expected int, got str 'two'"),
    "value_outside_enum": (VALID.replace("target: int8", "target: int4"),
                           "optimizers[0].parameters.target: 'int4' is not allowed; allowed: "
                           "'default', 'int8', 'float16'"),
    "value_below_minimum": (VALID.replace("epochs: 2", "epochs: 0"),
                            "model_wrapper.parameters.epochs: 0 is below the minimum 1"),
    "missing_required_block": (VALID.replace("dataset:\n  type: DigitsDataset\n", ""),
                               "dataset: missing required block"),
    "missing_required_parameter": (
        VALID.replace("type: DigitsDataset",
                      "type: CSVDataset\n  parameters: {sha256: " + "ab" * 32 + "}"),
        "dataset.parameters.source: missing required parameter (str)"),
    "chain_formats_do_not_connect": (
        VALID.replace("type: TFLiteRuntime", "type: TorchRuntime"),
        "runtime.type: TorchRuntime accepts torch but optimizers[0] (TFLiteCompiler) "
        "produces tflite and no conversion tflite→(torch) exists"),
    "not_yaml": ("dataset: [unclosed\n", "not valid YAML"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_invalid_scenario_fails_fast_and_writes_nothing(project: Project, case: str) -> None:
    text, expected = CASES[case]
    path = project.root / "scenarios" / f"bad-{case}.yml"
    path.write_text(text)
    run = project.doit(f"scenario=bad-{case}", "report", timeout=60)
    assert run.returncode != 0
    error_lines = [line for line in run.stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1, run.stderr
    assert str(path) in error_lines[0]
    assert expected in error_lines[0]
    assert not (project.root / "build" / f"bad-{case}").exists()
    assert not (project.root / "cache" / "runs").exists()


def test_unknown_scenario_name_lists_available(project: Project) -> None:
    run = project.doit("scenario=no-such-scenario", "report", timeout=60)
    assert run.returncode != 0
    assert "scenario 'no-such-scenario': no such file" in run.stderr
    assert "digits-tflite-int8" in run.stderr


def test_dotted_type_path_is_accepted(project: Project) -> None:
    from kenning_tasks.scenario_files import load_scenario

    path = project.root / "scenarios" / "dotted.yml"
    path.write_text(VALID.replace("type: TFLiteRuntime",
                                  "type: kenning_tasks.runtimes.litert.TFLiteRuntime"))
    scenario = load_scenario(path)
    assert scenario.runtime.type_name == "TFLiteRuntime"
    assert [s.describe(scenario) for s in scenario.quantize_steps] == [
        "TFLiteCompiler.quantize keras→tflite"]


def test_every_shipped_scenario_is_valid() -> None:
    from kenning_tasks.scenario_files import available_scenarios, load_pipelines

    for path in available_scenarios():
        pipelines, _ = load_pipelines(path)
        assert pipelines
