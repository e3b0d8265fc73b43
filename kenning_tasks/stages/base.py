"""What every stage declares, and the one action doit runs for any stage.

A stage module defines a ``STAGE = Stage(...)`` whose functions take the scenario and return
its inputs, outputs, parameters, implementing modules and tools. ``graph.py`` turns those into
doit task dicts; ``run_stage`` (a module-level function, so tasks can run in ``doit -n N``
worker processes) reloads the scenario and calls the stage's ``run``.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kenning_tasks.errors import KenningTasksError
from kenning_tasks.layout import layout
from kenning_tasks.scenario import Scenario

BUILD_ROOT = layout().build


@dataclass(frozen=True)
class StageContext:
    """Everything a running stage needs: the scenario, where to read and write, how to log."""

    scenario: Scenario
    stage: str
    owners: dict[str, str]  # stage -> build folder holding its outputs (see graph.Pipeline)
    log: Callable[[str], None]

    @property
    def out_dir(self) -> Path:
        return self.path(self.stage)

    def path(self, relative: str) -> Path:
        """A file of this pipeline, e.g. ``path("train/model.keras")``."""
        stage = relative.split("/", 1)[0]
        return Path(self.owners.get(stage, self.owners[self.stage])) / relative


@dataclass(frozen=True)
class Stage:
    """A pipeline stage's declaration. Paths are relative to ``build/<scenario>/``."""

    name: str
    doc: str
    run: Callable[[StageContext], None]
    outputs: Callable[[Scenario], list[str]]
    inputs: Callable[[Scenario], list[str]] = lambda scenario: []
    external_inputs: Callable[[Scenario], list[Path]] = lambda scenario: []
    parameters: Callable[[Scenario], dict[str, Any]] = lambda scenario: {}
    modules: Callable[[Scenario], list[str]] = lambda scenario: []
    tools: Callable[[Scenario], dict[str, str]] = lambda scenario: {}
    applies: Callable[[Scenario], bool] = lambda scenario: True
    extra: dict[str, Any] = field(default_factory=dict)


def stage_module(name: str) -> Any:
    return importlib.import_module(f"kenning_tasks.stages.{name}")


def get_stage(name: str) -> Stage:
    return stage_module(name).STAGE


def run_stage(scenario_path: str, variant: str | None, stage_name: str,
              owners: dict[str, str], task_name: str, signature: dict[str, Any]
              ) -> dict[str, Any] | Any:
    """doit action: run (or restore from the run cache) one stage of one scenario.

    ``signature`` is the one the graph checked, so the cache key matches what doit decided.
    Returns the hashes of the outputs, which doit saves and ``OutputsIntact`` checks later.
    """
    from doit.exceptions import TaskFailed

    from kenning_tasks import artifacts, expected_failures, run_cache
    from kenning_tasks.graph import Pipeline, task_file_deps
    from kenning_tasks.progress import StageLogger
    from kenning_tasks.scenario_files import load_scenario
    from kenning_tasks.signature import record_outputs

    scenario = load_scenario(scenario_path, variant)
    stage = get_stage(stage_name)
    log = StageLogger(task_name)
    ctx = StageContext(scenario, stage_name, owners, log)
    ctx.out_dir.mkdir(parents=True, exist_ok=True)
    artifacts.remove_stale_temporaries(ctx.out_dir)  # left by a killed earlier run
    names = stage.outputs(scenario)
    outputs = {name: ctx.path(name) for name in names}
    started = time.monotonic()
    cache = run_cache.cache_dir() if stage.extra.get("cacheable", True) else None
    try:
        if cache is None:
            _run(stage, ctx, log)
        else:
            pipeline = Pipeline(scenario, owners, {})
            inputs = [Path(p) for p in task_file_deps(stage_name, pipeline)]
            key = run_cache.run_key(stage_name, signature, inputs, names)
            with run_cache.locked(cache, stage_name, key):
                if hit := run_cache.restore(cache, stage_name, key, outputs, log=log):
                    log(f"restored from the run cache ({hit.source}, {key[:12]}) in "
                        f"{time.monotonic() - started:.2f} s")
                    # "restored" tells the run summary (ci/summary.py) where it came from.
                    return {"outputs": record_outputs(list(outputs.values())),
                            "restored": hit.source}
                _run(stage, ctx, log)
                _check_outputs(outputs, task_name)
                run_cache.store(cache, stage_name, key, outputs, log=log)
    except KenningTasksError as error:
        # A problem the user can act on: one line, no traceback.
        log(f"failed: {error}")
        return TaskFailed(str(error))
    except OSError as error:  # a full disk, a quota: one line too (expected_failures)
        if (line := expected_failures.stage_failure(error, ctx.out_dir)) is None:
            raise
        log(f"failed: {line}")
        return TaskFailed(line)
    _check_outputs(outputs, task_name)  # the reporter says "done in" (once per stage)
    return {"outputs": record_outputs(list(outputs.values()))}


def _run(stage: Stage, ctx: StageContext, log: Callable[[str], None]) -> None:
    from kenning_tasks import framework_noise, live_progress

    log("started")
    with framework_noise.quiet(ctx.out_dir, log), live_progress.stage(log):  # issue 13
        stage.run(ctx)


def _check_outputs(outputs: dict[str, Path], task_name: str) -> None:
    missing = [str(p) for p in outputs.values() if not p.is_file()]
    if missing:
        raise RuntimeError(f"{task_name} did not write {', '.join(missing)}")
