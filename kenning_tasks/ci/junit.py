"""JUnit XML from a run summary: one test case per stage task and one per quality gate.

CI systems (GitHub Actions through a test-report action, GitLab's ``artifacts:reports:junit``,
Jenkins) display these natively. A failed stage or gate is a ``<failure>``; an up-to-date or
restored stage passes and says so in ``<system-out>``. Written when asked for: the
``KENNING_TASKS_JUNIT`` setting or ``kenning-tasks run --junit FILE``.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from kenning_tasks import artifacts
from kenning_tasks.ci import gates

JUNIT_ENV = "KENNING_TASKS_JUNIT"


def requested_path(root: Path) -> Path | None:
    """Where JUnit XML was asked for (relative to the project root), or None."""
    value = os.environ.get(JUNIT_ENV, "").strip()
    return (Path(root) / value) if value else None


def to_xml(summary: dict[str, Any]) -> str:
    stages = summary.get("stages", [])
    verdicts = summary.get("gates", [])
    suites = ET.Element("testsuites", name="kenning-tasks")
    stage_suite = _suite(suites, "stages", len(stages),
                         sum(s.get("status") == "failed" for s in stages),
                         sum(float(s.get("seconds", 0)) for s in stages),
                         len(summary.get("errors", [])))
    for stage in stages:
        case = ET.SubElement(stage_suite, "testcase", classname=stage.get("pipeline") or "run",
                             name=stage.get("stage", stage["task"]),
                             time=f"{float(stage.get('seconds', 0)):.3f}")
        if stage.get("status") == "failed":
            failure = ET.SubElement(case, "failure", message=stage.get("message", "failed"),
                                    type="StageFailed")
            failure.text = stage.get("message", "failed")
        else:
            out = ET.SubElement(case, "system-out")
            out.text = stage["status"] + (f" ({stage['cache']} cache)"
                                          if stage.get("cache") else "")
    gate_suite = _suite(suites, "quality gates", len(verdicts),
                        sum(not g.get("passed") for g in verdicts), 0.0, 0)
    for gate in verdicts:
        case = ET.SubElement(gate_suite, "testcase", classname=f"{gate.get('scenario')}.gates",
                             name=f"{gate['metric']} {gate['comparison']}", time="0.000")
        if not gate.get("passed"):
            message = gates.verdict_text(gate)
            ET.SubElement(case, "failure", message=message, type="GateFailed").text = message
    for error in summary.get("errors", []):
        case = ET.SubElement(stage_suite, "testcase", classname="run", name="doit")
        ET.SubElement(case, "error", message=error).text = error
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, "unicode") + "\n"


def write(path: Path, summary: dict[str, Any]) -> Path:
    return artifacts.write_text(path, to_xml(summary))


def _suite(parent: ET.Element, name: str, tests: int, failures: int, seconds: float,
           errors: int) -> ET.Element:
    return ET.SubElement(parent, "testsuite", name=name, tests=str(tests + errors),
                         failures=str(failures), errors=str(errors), time=f"{seconds:.3f}")
