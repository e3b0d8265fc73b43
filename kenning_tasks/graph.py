"""Turn scenarios into doit task dicts, one task per (stage, pipeline).

A plain scenario is one pipeline, built in ``build/<scenario>/``. A grid-search scenario is
one pipeline per variant, built in ``build/<scenario>/<variant>/``; the stages before the
model chain (dataset, train) are shared by all variants and built once in
``build/<scenario>/``. This module is what ``dodo.py`` imports, so it must stay light: it reads
scenario files and source-file hashes but never imports a machine-learning framework.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kenning_tasks import signature
from kenning_tasks.change_detection import StampChecker
from kenning_tasks.cleaning import clean_actions
from kenning_tasks.layout import layout
from kenning_tasks.reporter import StageReporter
from kenning_tasks.scenario import Scenario
from kenning_tasks.scenario_files import load_pipelines, select_scenarios
from kenning_tasks.stages import STAGE_ORDER
from kenning_tasks.stages.base import BUILD_ROOT, get_stage, run_stage

COMMON_MODULES = ["kenning_tasks.stages.base", "kenning_tasks.artifacts",
                  "kenning_tasks.scenario", "kenning_tasks.params", "kenning_tasks.block"]
GRID_SHARED_STAGES = ("dataset", "train")  # their definition never depends on a variant

DOIT_CONFIG: dict[str, Any] = {
    # sqlite3 tolerates several processes (doit -n N); the default dbm backend does not.
    "backend": "sqlite3",
    "check_file_uptodate": StampChecker,  # size, mtime, ctime and inode, not mtime alone
    "dep_file": str(layout().state_file),
    "default_tasks": ["report"],
    "reporter": StageReporter,
    "verbosity": 1,
}


@dataclass(frozen=True)
class Pipeline:
    """A concrete scenario plus which build folder (and task) owns each of its stages."""

    scenario: Scenario
    owners: dict[str, str]  # stage -> build folder holding that stage's outputs
    task_names: dict[str, str]  # stage -> doit task name

    @property
    def name(self) -> str:
        return self.scenario.name

    def path(self, relative: str) -> Path:
        """``train/model.keras`` → the file in the folder of the pipeline owning ``train``."""
        stage = relative.split("/", 1)[0]
        return Path(self.owners.get(stage, str(BUILD_ROOT / self.name))) / relative


def plain_pipeline(scenario: Scenario) -> Pipeline:
    folder = str(BUILD_ROOT / scenario.name)
    stages = [s for s in STAGE_ORDER if stage_applies(s, scenario)]
    return Pipeline(scenario, dict.fromkeys(stages, folder),
                    {s: f"{s}:{scenario.name}" for s in stages})


def grid_pipelines(grid_name: str, variants: list[Scenario]) -> list[Pipeline]:
    pipelines = []
    for scenario in variants:
        stages = [s for s in STAGE_ORDER if stage_applies(s, scenario) and s != "report"]
        owners, names = {}, {}
        for stage in stages:
            shared = stage in GRID_SHARED_STAGES
            owners[stage] = str(BUILD_ROOT / (grid_name if shared else scenario.name))
            names[stage] = f"{stage}:{grid_name if shared else scenario.name}"
        pipelines.append(Pipeline(scenario, owners, names))
    return pipelines


def stage_signature(stage_name: str, scenario: Scenario) -> dict[str, Any]:
    """Parameters, implementation fingerprint and tool versions of one stage."""
    stage = get_stage(stage_name)
    modules = [*COMMON_MODULES, f"kenning_tasks.stages.{stage_name}", *stage.modules(scenario)]
    return {
        "parameters": stage.parameters(scenario),
        "code": signature.code_fingerprint(modules),
        "tools": {"python": sys.version.split()[0], **stage.tools(scenario)},
    }


def task_file_deps(stage_name: str, pipeline: Pipeline) -> list[str]:
    """Files whose bytes a stage reads: upstream artifacts and external inputs."""
    stage = get_stage(stage_name)
    return ([str(pipeline.path(p)) for p in stage.inputs(pipeline.scenario)]
            + [str(p) for p in stage.external_inputs(pipeline.scenario)])


def stage_task(stage_name: str, pipeline: Pipeline) -> dict[str, Any]:
    stage = get_stage(stage_name)
    scenario = pipeline.scenario
    name = pipeline.task_names[stage_name]
    stage_sig = signature.normalise(stage_signature(stage_name, scenario))
    return {
        "name": name.split(":", 1)[1],
        "doc": stage.doc,
        "actions": [(run_stage, [str(scenario.path), scenario.variant, stage_name,
                                 pipeline.owners, name, stage_sig])],
        "file_dep": task_file_deps(stage_name, pipeline),
        "targets": [str(pipeline.path(p)) for p in stage.outputs(scenario)],
        "uptodate": [signature.SignatureCheck(stage_sig),
                     signature.OutputsIntact()],
        "clean": clean_actions(pipeline.path(stage_name), BUILD_ROOT),  # the stage's folder
    }


class Graph:
    """The selected scenarios, expanded into pipelines, and the doit tasks they need."""

    def __init__(self, scenario_spec: str | None) -> None:
        self.pipelines: list[Pipeline] = []
        self.grids: dict[str, list[Pipeline]] = {}
        for path in select_scenarios(scenario_spec):
            scenarios, skipped = load_pipelines(path)
            for line in skipped:
                print(line, file=sys.stderr)
            if scenarios[0].variant is None:
                self.pipelines.append(plain_pipeline(scenarios[0]))
            else:
                variants = grid_pipelines(path.stem, scenarios)
                self.grids[path.stem] = variants
                self.pipelines += variants
        BUILD_ROOT.mkdir(exist_ok=True)  # doit opens its state database there

    def tasks(self, stage_name: str) -> Iterator[dict[str, Any]]:
        seen = set()
        for pipeline in self.pipelines:
            name = pipeline.task_names.get(stage_name)
            if name is not None and name not in seen:  # a shared stage is one task
                seen.add(name)
                yield stage_task(stage_name, pipeline)
        if stage_name == "report":
            for grid_name, variants in self.grids.items():
                yield grid_report_task(grid_name, variants)
            plain = [p for p in self.pipelines if p.scenario.variant is None]
            if len(plain) + len(self.grids) > 1:
                yield self.comparison_task()

    def comparison_task(self) -> dict[str, Any]:
        from kenning_tasks.stages import report

        files = [str(p.path(report.MEASUREMENTS)) for p in self.pipelines]
        names = [p.name for p in self.pipelines]
        key = hashlib.sha256("\n".join(names).encode()).hexdigest()[:10]
        out_dir = BUILD_ROOT / "comparison" / key
        code = signature.code_fingerprint(["kenning_tasks.stages.report", *COMMON_MODULES])
        return {
            "name": "comparison",
            "doc": "Compare the selected pipelines (accuracy, latency, size, ratios)",
            "actions": [(report.run_comparison, [files, str(out_dir)])],
            "file_dep": files + [str(p) for p in report.comparison_templates()],
            "targets": [str(out_dir / n) for n in report.COMPARISON_FILES],
            "uptodate": [signature.SignatureCheck({"pipelines": names, "code": code}),
                         signature.OutputsIntact()],
            "clean": clean_actions(out_dir, BUILD_ROOT),
        }


def grid_report_task(grid_name: str, variants: list[Pipeline]) -> dict[str, Any]:
    from kenning_tasks.stages import grid_report, report

    files = [str(p.path(report.MEASUREMENTS)) for p in variants]
    search = variants[0].scenario.search or {}
    labels = {p.name: p.scenario.label for p in variants}
    out_dir = BUILD_ROOT / grid_name / "report"
    code = signature.code_fingerprint(["kenning_tasks.stages.grid_report",
                                       "kenning_tasks.stages.report", "kenning_tasks.grid",
                                       *COMMON_MODULES])
    config = {"search": search, "labels": labels, "code": code}
    return {
        "name": grid_name,
        "doc": "Rank the grid-search pipelines; write the best one and all results",
        "actions": [(grid_report.run_grid_report, [grid_name, files, labels, search,
                                                   str(out_dir)])],
        "file_dep": files + [str(p) for p in report.comparison_templates()],
        "targets": [str(out_dir / n) for n in grid_report.OUTPUTS],
        "uptodate": [signature.SignatureCheck(config),
                     signature.OutputsIntact()],
        "clean": clean_actions(out_dir, BUILD_ROOT),
    }


def stage_applies(stage_name: str, scenario: Scenario) -> bool:
    if stage_name in ("firmware", "simulate", "flash"):
        return stage_name in scenario.target_stages()
    if stage_name == "report" and scenario.variant is not None:
        return False  # a grid is reported as a whole (grid_report_task)
    return stage_name in STAGE_ORDER
