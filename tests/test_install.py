"""The installed package: a built wheel, a fresh venv, a project folder that is not a checkout."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGED = ("kenning_tasks", "firmware", "scenarios", "platforms.yml", "dodo.py",
            "pyproject.toml", "setup.py", "README.md")
HOST_SCENARIO = """description: the user's own scenario, in their own folder
dataset: {type: DigitsDataset}
model_wrapper: {type: KerasModel, parameters: {architecture: cnn, epochs: 2}}
gates:
  accuracy: ">= 0.5"
"""


def build_wheel(tmp_path: Path) -> Path:
    source = tmp_path / "source"
    for name in PACKAGED:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, source / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(path, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp_path / "dist"), str(source)], check=True,
                   capture_output=True)
    [wheel] = (tmp_path / "dist").glob("kenning_tasks-*.whl")
    return wheel


def fresh_venv(tmp_path: Path, wheel: Path) -> Path:
    """A new venv holding only the wheel; its dependencies are this venv's (no download)."""
    venv = tmp_path / "venv"
    subprocess.run([sys._base_executable, "-m", "venv", str(venv)], check=True)
    site = Path(sysconfig.get_paths(vars={"base": str(venv), "platbase": str(venv)})["purelib"])
    # A plain path line: this venv's packages, but not the .pth files in it (the editable
    # checkout's finder), so `import kenning_tasks` can only find the installed wheel.
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--no-deps", "--no-index",
                    "--ignore-installed",  # the checkout's editable install is visible too
                    str(wheel)], check=True, capture_output=True)
    return venv


def test_wheel_carries_the_pipeline(tmp_path: Path) -> None:
    wheel = zipfile.ZipFile(build_wheel(tmp_path))
    names = set(wheel.namelist())
    for needed in ("kenning_tasks/resources/dodo.py", "kenning_tasks/resources/platforms.yml",
                   "kenning_tasks/resources/scenarios/digits-keras-native.yml",
                   "kenning_tasks/resources/firmware/runtime/kt_kernels.h",
                   "kenning_tasks/templates/report.html.j2", "kenning_tasks/ci/gates.py"):
        assert needed in names, needed
    [entry_points] = [n for n in names if n.endswith("entry_points.txt")]
    script = "kenning-tasks = kenning_tasks.__main__:console_main"
    assert script in wheel.read(entry_points).decode()


@pytest.mark.slow
def test_installed_command_runs_a_host_scenario_from_an_empty_folder(tmp_path: Path) -> None:
    venv = fresh_venv(tmp_path, build_wheel(tmp_path))
    command = str(venv / "bin" / "kenning-tasks")
    project = tmp_path / "my-project"
    (project / "scenarios").mkdir(parents=True)
    (project / "scenarios" / "mine.yml").write_text(HOST_SCENARIO)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("KENNING_TASKS_") and k != "PYTHONPATH"}
    env["KENNING_TASKS_RESOURCES"] = str(tmp_path / "resources")
    where = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import kenning_tasks.layout as l; print(l.SHIPPED_DIR)"],
                           cwd=project, env=env, capture_output=True, text=True, check=True)
    assert where.stdout.strip().startswith(str(venv))  # not this checkout
    run = subprocess.run([command, "run", "-n", "2", "scenario=mine", "report"], cwd=project,
                         env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "-- " not in run.stdout and ".  report:mine" in run.stdout
    assert (project / "build" / "mine" / "report" / "report.html").is_file()
    assert any((project / "cache").iterdir())  # the run cache is the project's
    summary = json.loads((project / "build" / "run-summary.json").read_text())
    assert summary["result"] == "passed" and summary["counts"] == {"ran": 7}
    again = subprocess.run([command, "run", "scenario=mine"], cwd=project, env=env,
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and ".  " not in again.stdout  # all up to date
    for args in (["validate", "scenario=mine"], ["info", "KerasModel"], ["list", "runtime"],
                 ["why", "scenario=mine"], ["cache", "status"],
                 ["diff", "build/mine", "build/mine"]):
        done = subprocess.run([command, *args], cwd=project, env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, (args, done.stdout + done.stderr)
    # The shipped example scenarios are found from a folder without them.
    examples = subprocess.run([command, "validate", "scenario=digits-tflite-int8"],
                              cwd=project, env=env, capture_output=True, text=True)
    assert examples.returncode == 0 and "digits-tflite-int8: ok" in examples.stdout
