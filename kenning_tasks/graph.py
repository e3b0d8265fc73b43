"""Turn scenarios into doit task dicts, one task per (stage, scenario).

This module is what ``dodo.py`` imports, so it must stay light: it reads scenario files and
source-file hashes but never imports a machine-learning framework.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kenning_tasks import signature
from kenning_tasks.reporter import StageReporter
from kenning_tasks.scenario import Scenario, load_scenario, select_scenarios
from kenning_tasks.stages import STAGE_ORDER
from kenning_tasks.stages.base import BUILD_ROOT, get_stage, run_stage

COMMON_MODULES = ["kenning_tasks.stages.base", "kenning_tasks.artifacts",
                  "kenning_tasks.scenario", "kenning_tasks.params", "kenning_tasks.block"]

DOIT_CONFIG: dict[str, Any] = {
    # sqlite3 tolerates several processes (doit -n N); the default dbm backend does not.
    "backend": "sqlite3",
    "dep_file": str(BUILD_ROOT / ".doit-state.sqlite3"),
    "default_tasks": ["report"],
    "reporter": StageReporter,
    "verbosity": 1,
}


def task_name(stage: str, scenario: Scenario) -> str:
    return f"{stage}:{scenario.name}"


def build_dir(scenario: Scenario) -> Path:
    return BUILD_ROOT / scenario.name


def stage_signature(stage_name: str, scenario: Scenario) -> dict[str, Any]:
    """Parameters, implementation fingerprint and tool versions of one stage."""
    stage = get_stage(stage_name)
    modules = [*COMMON_MODULES, f"kenning_tasks.stages.{stage_name}", *stage.modules(scenario)]
    return {
        "parameters": stage.parameters(scenario),
        "code": signature.code_fingerprint(modules),
        "tools": {"python": sys.version.split()[0], **stage.tools(scenario)},
    }


def task_file_deps(stage_name: str, scenario: Scenario) -> list[str]:
    """Files whose bytes a stage reads: upstream artifacts and external inputs."""
    stage = get_stage(stage_name)
    directory = build_dir(scenario)
    return ([str(directory / p) for p in stage.inputs(scenario)]
            + [str(p) for p in stage.external_inputs(scenario)])


def stage_task(stage_name: str, scenario: Scenario) -> dict[str, Any]:
    stage = get_stage(stage_name)
    directory = build_dir(scenario)
    name = task_name(stage_name, scenario)
    return {
        "name": scenario.name,
        "doc": stage.doc,
        "actions": [(run_stage, [str(scenario.path), stage_name, str(directory), name])],
        "file_dep": task_file_deps(stage_name, scenario),
        "targets": [str(directory / p) for p in stage.outputs(scenario)],
        "uptodate": [signature.SignatureCheck(stage_signature(stage_name, scenario)),
                     signature.OutputsIntact()],
        "clean": True,
    }


class Graph:
    """The selected scenarios and the doit tasks they need."""

    def __init__(self, scenario_spec: str | None) -> None:
        self.scenarios = [load_scenario(path) for path in select_scenarios(scenario_spec)]
        BUILD_ROOT.mkdir(exist_ok=True)  # doit opens its state database there

    def tasks(self, stage_name: str) -> Iterator[dict[str, Any]]:
        for scenario in self.scenarios:
            if stage_applies(stage_name, scenario):
                yield stage_task(stage_name, scenario)
        if stage_name == "report" and len(self.scenarios) > 1:
            yield self.comparison_task()

    def comparison_task(self) -> dict[str, Any]:
        from kenning_tasks.stages import report
        from kenning_tasks.stages.evaluate import MEASUREMENTS

        names = [s.name for s in self.scenarios]
        measurement_files = [str(build_dir(s) / MEASUREMENTS) for s in self.scenarios]
        key = hashlib.sha256("\n".join(names).encode()).hexdigest()[:10]
        out_dir = BUILD_ROOT / "comparison" / key
        code = signature.code_fingerprint(["kenning_tasks.stages.report", *COMMON_MODULES])
        return {
            "name": "comparison",
            "doc": "Compare the selected scenarios (accuracy, latency, size, ratios)",
            "actions": [(report.run_comparison, [measurement_files, str(out_dir)])],
            "file_dep": measurement_files + [str(p) for p in report.comparison_templates()],
            "targets": [str(out_dir / n) for n in ("comparison.json", "report.md",
                                                   "report.html")],
            "uptodate": [signature.SignatureCheck({"scenarios": names, "code": code}),
                         signature.OutputsIntact()],
            "clean": True,
        }


def stage_applies(stage_name: str, scenario: Scenario) -> bool:
    if stage_name in ("firmware", "simulate", "flash"):
        return stage_name in scenario.target_stages()
    return stage_name in STAGE_ORDER
