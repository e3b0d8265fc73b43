"""The reporter's end of a run, with real doit and plain tasks: run summary, JUnit, gate exit."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.conftest import REPO

DODO = '''
import json
from pathlib import Path
from kenning_tasks.reporter import StageReporter

DOIT_CONFIG = {"reporter": StageReporter, "verbosity": 1, "backend": "sqlite3",
               "dep_file": "build/.doit-state.sqlite3"}
GATES = {"scenario": "p", "passed": False, "failed": 1, "gates": [
    {"metric": "accuracy", "comparison": ">= 0.99", "value": 0.5, "passed": False,
     "problem": None, "default": False}]}

def write(path, data):
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(data))

def task_evaluate():
    yield {"name": "p", "actions": [(write, ["build/p/evaluate/gates.json", GATES])],
           "targets": ["build/p/evaluate/gates.json"], "uptodate": [True]}

def task_report():
    yield {"name": "p", "actions": [(write, ["build/p/report/report.md", {}])],
           "file_dep": ["build/p/evaluate/gates.json"],
           "targets": ["build/p/report/report.md"]}

def task_broken():
    yield {"name": "p", "actions": ["exit 3"]}
'''


def doit(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {"PYTHONPATH": str(REPO), "KENNING_TASKS_PROJECT": str(root),
           "KENNING_TASKS_JUNIT": "build/junit.xml", "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "doit", "-f", str(root / "dodo.py"), *args],
                          cwd=root, env=env, capture_output=True, text=True, timeout=60)


def test_gate_failure_exits_1_after_the_run_and_is_recorded(tmp_path: Path) -> None:
    (tmp_path / "dodo.py").write_text(DODO)
    (tmp_path / "build").mkdir()
    first = doit(tmp_path, "report")
    assert first.returncode == 1, first.stdout + first.stderr
    lines = first.stdout.splitlines()
    assert lines[-2:] == ["gate failed: p: accuracy = 0.5 (required >= 0.99)",
                          lines[-1]] and "1 quality gate failed" in lines[-1]
    assert lines.index(".  report:p") < lines.index(lines[-2])  # the report ran first
    summary = json.loads((tmp_path / "build" / "run-summary.json").read_text())
    assert [(s["task"], s["status"]) for s in summary["stages"]] == [
        ("evaluate:p", "ran"), ("report:p", "ran")]
    assert summary["stages"][0]["gates"] == {"passed": 0, "failed": 1}
    assert summary["result"] == "failed" and summary["gates_failed"] == 1
    assert (tmp_path / "build" / "run-summary.html").is_file()
    junit = ET.parse(tmp_path / "build" / "junit.xml").getroot()
    assert [c.get("name") for c in junit.iter("testcase")] == ["evaluate", "report",
                                                              "accuracy >= 0.99"]

    again = doit(tmp_path, "report")  # reused, still red
    assert again.returncode == 1
    summary = json.loads((tmp_path / "build" / "run-summary.json").read_text())
    assert [s["status"] for s in summary["stages"]] == ["up-to-date", "up-to-date"]

    broken = doit(tmp_path, "broken")  # a failed stage: doit's own status and record
    assert broken.returncode == 1
    summary = json.loads((tmp_path / "build" / "run-summary.json").read_text())
    assert [(s["task"], s["status"]) for s in summary["stages"]] == [("broken:p", "failed")]
    assert "exit 3" in summary["stages"][0]["message"]  # doit's one line, no traceback
    assert "gate failed" not in broken.stdout
