"""Turn the selected scenarios into doit task dicts, one per (stage, pipeline).

A plain scenario is one pipeline, built in ``build/<scenario>/``. A grid-search scenario is
one pipeline per variant, built in ``build/<scenario>/<variant>/``; the stages whose phase is
shared in a grid (dataset, train) are built once in ``build/<scenario>/``. The comparing
stages get a ``Group`` in place of a scenario: a grid's variants, or the selected pipelines
when there are several.

Each task's action gets a ``TaskPlan`` with the resolved pipeline value; nothing downstream
reads the scenario again. This module is what ``dodo.py`` imports, so it must stay light: it
reads scenario files and the import graph of the sources (``fingerprint.py``, cached by
file stat) but never imports a machine-learning framework.
"""

from __future__ import annotations

import hashlib
import pickle
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kenning_tasks import signature, tool_versions
from kenning_tasks.action import TaskPlan, run_task
from kenning_tasks.cleaning import clean_actions
from kenning_tasks.doit_config import DOIT_CONFIG  # noqa: F401  (dodo.py's, re-exported)
from kenning_tasks.errors import ScenarioError
from kenning_tasks.fingerprint import ImportGraph
from kenning_tasks.layout import Layout, project_layout
from kenning_tasks.scenario import Scenario
from kenning_tasks.scenario_files import load_pipelines, select_scenarios
from kenning_tasks.stages.base import Group, Phase, Stage
from kenning_tasks.stages.catalog import PIPELINE_STAGES, STAGES, get_stage

GRAPH_CACHE = ".graph-cache.json"

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
        return Path(self.file(relative))

    def file(self, relative: str) -> str:
        """``path()`` as a string (what task dicts hold)."""
        return f"{self.owners[relative.split('/', 1)[0]]}/{relative}"


def plain_pipeline(scenario: Scenario, build: Path) -> Pipeline:
    folder = str(build / scenario.name)
    stages = [s.name for s in PIPELINE_STAGES if s.applies(scenario)]
    return Pipeline(scenario, dict.fromkeys(stages, folder),
                    {s: f"{get_stage(s).task_group}:{scenario.name}" for s in stages})


def grid_pipelines(grid_name: str, variants: list[Scenario], build: Path) -> list[Pipeline]:
    pipelines = []
    for scenario in variants:
        owners, names = {}, {}
        for stage in PIPELINE_STAGES:
            if not stage.applies(scenario):
                continue
            owner = grid_name if stage.phase.shared_in_grid else scenario.name
            owners[stage.name] = str(build / owner)
            names[stage.name] = f"{stage.task_group}:{owner}"
        pipelines.append(Pipeline(scenario, owners, names))
    return pipelines


class Graph:
    """The selected scenarios, expanded into pipelines, and the doit tasks they need.

    Every task is built here, at load time: a problem shows once, before anything runs.
    """

    def __init__(self, scenario_spec: str | None, where: Layout | None = None) -> None:
        self.layout = where or project_layout()
        self.imports = ImportGraph(self.layout.build / GRAPH_CACHE)
        self.pipelines: list[Pipeline] = []
        self.groups: list[Group] = []
        self.notes: list[str] = []  # lines said while loading (skipped grid combinations)
        self.scenario_files: list[Path] = []
        sources: dict[str, Path] = {}
        for path in select_scenarios(scenario_spec):
            if path.stem in sources:
                # One name, one build folder: two files of that name would share results.
                raise ScenarioError(f"{path}: a scenario named {path.stem!r} is already "
                                    f"selected ({sources[path.stem]}); rename one file")
            sources[path.stem] = path
            self.scenario_files.append(path)
            scenarios, skipped = load_pipelines(path)
            for line in skipped:
                print(line, file=sys.stderr)
            self.notes += skipped
            if scenarios[0].variant is None:
                self.pipelines.append(plain_pipeline(scenarios[0], self.layout.build))
                continue
            variants = grid_pipelines(path.stem, scenarios, self.layout.build)
            self.pipelines += variants
            self.groups.append(Group(
                path.stem, str(self.layout.build / path.stem / "report"),
                tuple((p.name, p.scenario.label, str(p.path("evaluate/measurements.json")))
                      for p in variants), variants[0].scenario.search))
        plain = [p for p in self.pipelines if p.scenario.variant is None]
        if len(plain) + sum(1 for g in self.groups) > 1:
            key = comparison_folder_name([p.name for p in self.pipelines])
            self.groups.append(Group(
                "comparison", str(self.layout.build / "comparison" / key),
                tuple((p.name, p.scenario.label or p.name,
                       str(p.path("evaluate/measurements.json"))) for p in self.pipelines)))
        self.plans: dict[str, tuple[TaskPlan, dict[str, Any]]] = {}
        self._pickles: dict[int, bytes] = {}
        self._code: dict[tuple[str, ...], tuple[dict[str, str], dict[str, str]]] = {}
        for pipeline in self.pipelines:
            for stage_name, task in pipeline.task_names.items():
                if task not in self.plans:  # a stage shared by grid variants is one task
                    self.plans[task] = self._pipeline_task(get_stage(stage_name), pipeline)
        for group in self.groups:
            for stage in STAGES:
                if stage.phase is Phase.COMPARE and stage.applies(group):
                    plan = self._group_task(stage, group)
                    self.plans[plan[0].task] = plan
        self.layout.build.mkdir(parents=True, exist_ok=True)  # doit's state database is there
        self.imports.save()

    def tasks(self, group: str) -> Iterator[dict[str, Any]]:
        """The task dicts of one doit task group (``task_<group>`` in dodo.py)."""
        for name, (_, task) in self.plans.items():
            if name.split(":", 1)[0] == group:
                yield task

    def signature(self, stage: Stage, subject: Scenario | Group,
                  entries: list[str]) -> dict[str, Any]:
        """Parameters, code fingerprint and tool versions of one stage for one subject."""
        # The stage's module and what it loads by name, and all they import. The action that
        # dispatches and caches (action.py) decides no byte of an output, so it is not here.
        key = tuple(sorted({stage.module, *entries}))
        if key not in self._code:  # shared by every pipeline with the same blocks
            closure = self.imports.closure(key)
            self._code[key] = (self.imports.fingerprint(key), tool_versions.of_imports(
                self.imports.third_party(closure), self.layout.build / GRAPH_CACHE))
        code, imported = self._code[key]
        tools = {tool_versions.canonical(k): str(v) for k, v in stage.tools(subject).items()}
        return {"parameters": signature.normalise(stage.parameters(subject)),
                "code": dict(code),
                "tools": dict(sorted({"python": sys.version.split()[0], **imported,
                                      **tools}.items()))}

    def _pipeline_task(self, stage: Stage, pipeline: Pipeline
                       ) -> tuple[TaskPlan, dict[str, Any]]:
        scenario = pipeline.scenario
        name = pipeline.task_names[stage.name]
        stage_sig = self.signature(stage, scenario, stage.modules(scenario))
        outputs = stage.outputs(scenario)
        plan = TaskPlan(task=name, stage=stage.name, scenario_data=self._pickled(scenario),
                        owners=dict(pipeline.owners), outputs=tuple(outputs),
                        signature=stage_sig, cacheable=stage.cacheable)
        file_dep = ([pipeline.file(p) for p in stage.inputs(scenario)]
                    + [str(p) for p in stage.external_inputs(scenario)])
        return plan, self._task_dict(plan, stage, file_dep,
                                     [pipeline.file(p) for p in outputs],
                                     pipeline.path(stage.name))

    def _pickled(self, scenario: Scenario) -> bytes:
        key = id(scenario)
        if key not in self._pickles:
            self._pickles[key] = pickle.dumps(scenario)
        return self._pickles[key]

    def _group_task(self, stage: Stage, group: Group) -> tuple[TaskPlan, dict[str, Any]]:
        name = f"{stage.task_group}:{group.name}"
        stage_sig = self.signature(stage, group, stage.modules(group))
        outputs = stage.outputs(group)
        plan = TaskPlan(task=name, stage=stage.name, scenario_data=None, owners={},
                        outputs=tuple(outputs), signature=stage_sig,
                        cacheable=stage.cacheable, group=group)
        file_dep = [*stage.inputs(group), *(str(p) for p in stage.external_inputs(group))]
        folder = Path(group.folder)
        return plan, self._task_dict(plan, stage, file_dep,
                                     [str(folder / n) for n in outputs], folder)

    def _task_dict(self, plan: TaskPlan, stage: Stage, file_dep: list[str],
                   targets: list[str], folder: Path) -> dict[str, Any]:
        return {
            "name": plan.task.split(":", 1)[1],
            "doc": stage.doc,
            "actions": [(run_task, [plan])],
            "file_dep": file_dep,
            "targets": targets,
            "uptodate": [signature.SignatureCheck(dict(plan.signature), normalised=True),
                         signature.OutputsIntact()],
            "clean": clean_actions(folder, self.layout.build),  # the stage's folder
        }


def comparison_folder_name(names: list[str]) -> str:
    """``a+b`` for the pipelines compared, in the order given, so the folder says what it holds
    and the same selection finds its earlier result. A grid variant's ``/`` becomes ``~``; a
    long selection is ``<first>+<n>-more-<hash>`` (a folder name stays short)."""
    joined = "+".join(name.replace("/", "~") for name in names)
    if len(joined) <= 100:
        return joined
    digest = hashlib.sha256("\n".join(names).encode()).hexdigest()[:10]
    return f"{names[0].replace('/', '~')}+{len(names) - 1}-more-{digest}"
