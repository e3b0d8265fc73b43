"""Faults and bad input: never a silent wrong result, never a traceback, nothing left behind.

Each expected failure is one line, a non-zero exit and no half-written artifact. The fast
tests drive ``validate``/``verify``/``doit`` on a private copy of the project; those that train
a model are marked slow.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kenning_tasks import safe_names
from kenning_tasks.errors import ScenarioError
from kenning_tasks.scenario_files import load_pipelines
from tests.conftest import REPO, Project

SCENARIO = (REPO / "scenarios" / "digits-tflite-int8.yml").read_text()


def one_error_line(stderr: str) -> str:
    """The single ``error:`` line of a failed command; fails on a traceback."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, stderr
    return lines[0]


def kenning_tasks(project: Project, *args: str, timeout: float = 120
                  ) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(project.root),
           "KENNING_TASKS_CACHE": str(project.root / "cache")}
    return subprocess.run([sys.executable, "-m", "kenning_tasks", *args], cwd=project.root,
                          env=env, capture_output=True, text=True, timeout=timeout)


def files_outside_build_and_cache(root: Path) -> dict[str, int]:
    """Every file of the project but build/ and cache/, with its mtime (to see writes)."""
    found = {}
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if relative.parts[0] in ("build", "cache") or "__pycache__" in relative.parts:
            continue
        found[str(relative)] = path.lstat().st_mtime_ns
    return found


# --- 2. values are finite and in range ------------------------------------------------------

@pytest.mark.parametrize(("old", "new", "expected"), [
    ("learning_rate: 0.005", "learning_rate: .nan",
     "model_wrapper.parameters.learning_rate: nan is not a finite number"),
    ("learning_rate: 0.005", "learning_rate: -.inf",
     "model_wrapper.parameters.learning_rate: -inf is not a finite number"),
    ("test_fraction: 0.25", "test_fraction: .inf",
     "dataset.parameters.test_fraction: inf is not a finite number"),
    ("seed: 1234\n", "seed: 4294967296\n",
     "model_wrapper.parameters.seed: 4294967296 is above the maximum 4294967295"),
    ("seed: 12345", "seed: -1", "dataset.parameters.seed: -1 is below the minimum 0"),
    ("dataset_percentage: 0.25", "dataset_percentage: 1.0e+400",
     "optimizers[0].parameters.dataset_percentage: inf is not a finite number"),
])
def test_non_finite_and_out_of_range_values_are_one_line(tmp_path: Path, old: str, new: str,
                                                          expected: str) -> None:
    path = tmp_path / "bad.yml"
    assert old in SCENARIO
    path.write_text(SCENARIO.replace(old, new, 1))
    with pytest.raises(ScenarioError) as caught:
        load_pipelines(path)
    assert expected in str(caught.value)


def test_nan_timeout_of_a_session_is_refused(tmp_path: Path) -> None:
    text = (REPO / "scenarios" / "digits-int8-qemu-m4.yml").read_text()
    path = tmp_path / "qemu.yml"
    assert text.endswith("protocol:\n  type: UARTProtocol\n")
    path.write_text(text + "  parameters:\n    timeout_s: .nan\n")
    with pytest.raises(ScenarioError, match=r"protocol.parameters.timeout_s: nan is not a "
                                            r"finite number"):
        load_pipelines(path)


def test_nan_inside_a_mapping_parameter_is_refused(tmp_path: Path) -> None:
    text = (REPO / "scenarios" / "digits-int8-qemu-m4.yml").read_text()
    path = tmp_path / "defines.yml"
    marker = "    board: mps2-an386\n"
    assert marker in text
    path.write_text(text.replace(marker, marker + "    defines: {GAIN: .nan}\n", 1))
    with pytest.raises(ScenarioError, match=r"defines.GAIN: nan is not a finite number"):
        load_pipelines(path)


def test_duplicate_yaml_key_names_both_lines(tmp_path: Path) -> None:
    path = tmp_path / "twice.yml"
    path.write_text(SCENARIO.replace("    epochs: 15\n", "    epochs: 15\n    epochs: 1\n"))
    line = SCENARIO.splitlines().index("    epochs: 15") + 1
    with pytest.raises(ScenarioError) as caught:
        load_pipelines(path)
    assert str(caught.value) == (f"{path}: line {line + 1}: duplicate key 'epochs' (first "
                                 f"given on line {line}); give each key once")


def test_duplicate_json_key_names_both_lines(tmp_path: Path) -> None:
    path = tmp_path / "twice.json"
    path.write_text('{\n  "dataset": {"type": "DigitsDataset"},\n  "model_wrapper": {\n'
                    '    "type": "KerasModel",\n    "parameters": {"epochs": 15,\n'
                    '                   "epochs": 1}}}\n')
    with pytest.raises(ScenarioError) as caught:
        load_pipelines(path)
    assert str(caught.value) == (f"{path}: line 6: duplicate key 'epochs' (first given on "
                                 "line 5); give each key once")


def test_yaml_merge_keys_still_override(tmp_path: Path) -> None:
    from kenning_tasks.scenario_parsing import load_yaml

    data = load_yaml(tmp_path / "m.yml", "base: &b {epochs: 15, seed: 1}\nx:\n  <<: *b\n"
                                         "  epochs: 1\n")
    assert data["x"] == {"epochs": 1, "seed": 1}


@pytest.mark.parametrize(("content", "expected"), [
    (b"\x7fELF\x02\x01\x01\x00\xff\xfe", "not UTF-8 text (byte 0xff at offset 8)"),
    (b"dataset: {type: DigitsDataset}\x00\n", "holds a NUL byte at offset 30"),
])
def test_binary_scenario_file_is_one_line(project: Project, content: bytes,
                                          expected: str) -> None:
    path = project.root / "scenarios" / "garbage.yml"
    path.write_bytes(content)
    result = kenning_tasks(project, "validate", "scenario=garbage")
    assert result.returncode != 0
    assert one_error_line(result.stderr) == f"error: {path}: {expected}; a scenario is a " + (
        "YAML or JSON text file" if "UTF-8" in expected
        else "YAML or JSON text file, not binary data")


def test_directory_as_scenario_file_is_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "folder.yml"
    folder.mkdir()
    with pytest.raises(ScenarioError, match="is a directory"):
        load_pipelines(folder)


# --- 3. names are safe ----------------------------------------------------------------------

@pytest.mark.parametrize("name", [".", "..", "...", ".hidden", "-rf", "a/b", "a\\b", "a b",
                                  "tab\there", "new\nline", "bell\x07", "x" * 101, ""])
def test_unsafe_names_are_refused(name: str) -> None:
    assert not safe_names.is_safe(name)
    with pytest.raises(ScenarioError, match="cannot be a folder name"):
        safe_names.check_name(name, "grid variant id", "f.yml")


@pytest.mark.parametrize("name", ["digits-tflite-int8", "v-0123abcd", "a.b_c+d", "X" * 100])
def test_safe_names_pass(name: str) -> None:
    assert safe_names.is_safe(name)


@pytest.mark.parametrize("file_name", ["...yml", "..yml", "..json", "bell\x07.yml"])
def test_a_scenario_named_like_a_path_writes_nothing_outside_build_and_cache(
        project: Project, file_name: str) -> None:
    path = project.root / "scenarios" / file_name
    path.write_text(SCENARIO if file_name.endswith(".yml") else "{}")
    before = files_outside_build_and_cache(project.root)
    for spec in (str(path), Path(file_name).stem):
        run = project.doit(f"scenario={spec}", "report", timeout=120)
        assert run.returncode != 0
        line = one_error_line(run.stderr)
        assert "cannot be a folder name" in line, line
    validated = kenning_tasks(project, "validate", f"scenario={path}")
    assert validated.returncode != 0 and "cannot be a folder name" in validated.stderr
    assert files_outside_build_and_cache(project.root) == before
    assert not any((project.root / "build").rglob("*.tflite"))
