"""``kenning-tasks diff A B``: two build folders, or a scenario at two git revisions."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from kenning_tasks.__main__ import main
from tests.conftest import PYTHON, Project


def write_measurements(folder: Path, name: str, **values: object) -> None:
    path = folder / name / "evaluate" / "measurements.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"scenario": name, "inference_times_s": [1, 2],
                                "tool_versions": {"numpy": "2"}, **values}))


def test_two_build_folders_as_table_and_json(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    write_measurements(tmp_path / "a", "p", accuracy=0.9, model_size_bytes=9000,
                       inference_time_s={"mean": 2e-5}, on_target={"flash_bytes": 100})
    write_measurements(tmp_path / "b", "p", accuracy=0.95, model_size_bytes=9000,
                       inference_time_s={"mean": 1e-5})
    write_measurements(tmp_path / "b", "q", accuracy=0.5)
    assert main(["diff", str(tmp_path / "a"), str(tmp_path / "b"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["p"]["accuracy"] == {"old": 0.9, "new": 0.95,
                                       "diff": pytest.approx(0.05)}
    assert result["p"]["on_target.flash_bytes"] == {"old": 100, "new": None, "diff": None}
    assert "model_size_bytes" not in result["p"]  # unchanged: only with --all
    assert result["q"] == {"accuracy": {"old": None, "new": 0.5, "diff": None}}
    assert not any(k.startswith(("tool_versions", "inference_times_s")) for k in result["p"])
    assert main(["diff", str(tmp_path / "a" / "p"), str(tmp_path / "b" / "p"), "--all"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["pipeline", "metric", str(tmp_path / "a" / "p"),
                                str(tmp_path / "b" / "p"), "change"]
    assert lines[1].split() == ["p", "accuracy", "0.9", "0.95", "+0.05", "(+5.6", "%)"]
    assert lines[-2].split()[:5] == ["p", "model_size_bytes", "9000", "9000", "+0"]


def test_a_missing_side_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", str(tmp_path), str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no evaluate/measurements.json" in err[0]


@pytest.mark.slow
def test_a_scenario_at_two_git_revisions_through_the_cache(project: Project) -> None:
    root = project.root
    scenario = root / "scenarios" / "rev.yml"
    scenario.write_text("dataset: {type: DigitsDataset}\nmodel_wrapper: {type: KerasModel, "
                        "parameters: {architecture: cnn, epochs: 2}}\n")
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "two epochs"], check=True)
    assert project.doit("scenario=rev", "evaluate").returncode == 0  # fills the run cache
    project.edit("scenarios/rev.yml", "epochs: 2", "epochs: 3")
    subprocess.run([*git, "commit", "-qam", "three epochs"], check=True)
    env = {**os.environ, "PYTHONPATH": str(root), "KENNING_TASKS_CACHE": str(root / "cache")}
    done = subprocess.run([PYTHON, "-m", "kenning_tasks", "diff", "HEAD~1", "HEAD",
                           "scenario=rev", "--json"], cwd=root, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "HEAD~1: rev restored (" in done.stderr and "HEAD: rev computed (" in done.stderr
    result = json.loads(done.stdout)["rev"]
    assert result["accuracy"]["old"] != result["accuracy"]["new"]
