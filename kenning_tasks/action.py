"""The one action doit runs for every task: run (or restore) one stage from its ``TaskPlan``.

The graph resolves everything before doit decides anything: the scenario with its block
configurations, which folder owns each stage's files, the signature it checked. The action
gets that plan, plus the inputs and outputs doit itself injects (``dependencies``,
``targets``), and never reads a scenario file or imports the graph. It is a module-level
function, so tasks also run in ``doit -n N`` worker processes (the plan pickles).
"""

from __future__ import annotations

import pickle
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kenning_tasks.errors import KenningTasksError
from kenning_tasks.stages.base import Group, StageContext

if TYPE_CHECKING:
    from kenning_tasks.scenario import Scenario


@dataclass(frozen=True)
class TaskPlan:
    """Everything one task's action needs, decided by the graph."""

    task: str                    # doit's task name, e.g. "simulate:digits-int8-qemu-m4"
    stage: str                   # a name in stages/catalog.py
    # The resolved scenario (blocks and chain), pickled: a graph loaded from its cache
    # (graph_cache.py) then imports no block module until a stage runs.
    scenario_data: bytes | None
    owners: Mapping[str, str]    # stage -> build folder holding its outputs
    outputs: tuple[str, ...]     # the stage's output names, in the order of doit's targets
    signature: Mapping[str, Any]  # what SignatureCheck compared: the run cache key uses it
    cacheable: bool = True
    group: Group | None = None   # what a comparing stage compares

    @property
    def scenario(self) -> Scenario | None:
        """The resolved scenario (None for a comparing stage)."""
        return pickle.loads(self.scenario_data) if self.scenario_data is not None else None


def run_task(plan: TaskPlan, targets: list[str], dependencies: list[str]
             ) -> dict[str, Any] | Any:
    """doit action: restore the stage's outputs from the run cache or run it.

    Returns the hashes of the outputs, which doit saves and ``OutputsIntact`` checks later.
    """
    from doit.exceptions import TaskFailed

    from kenning_tasks import artifacts, expected_failures, run_cache
    from kenning_tasks.progress import StageLogger
    from kenning_tasks.signature import record_outputs
    from kenning_tasks.stages.catalog import get_stage

    stage = get_stage(plan.stage)
    log = StageLogger(plan.task)
    ctx = StageContext(plan.scenario, plan.stage, dict(plan.owners), log, plan.group)
    ctx.out_dir.mkdir(parents=True, exist_ok=True)
    artifacts.remove_stale_temporaries(ctx.out_dir)  # left by a killed earlier run
    outputs = dict(zip(plan.outputs, (Path(t) for t in targets), strict=True))
    started = time.monotonic()
    cache = run_cache.cache_dir() if plan.cacheable else None
    try:
        if cache is None:
            _run(stage.run, ctx, log)
        else:
            inputs = sorted(Path(p) for p in dependencies)  # doit passes a set
            key = run_cache.run_key(plan.stage, dict(plan.signature), inputs,
                                    list(plan.outputs))
            with run_cache.locked(cache, plan.stage, key):
                if hit := run_cache.restore(cache, plan.stage, key, outputs, log=log):
                    log(f"restored from the run cache ({hit.source}, {key[:12]}) in "
                        f"{time.monotonic() - started:.2f} s")
                    # "restored" tells the run summary (ci/summary.py) where it came from.
                    return {"outputs": record_outputs(list(outputs.values())),
                            "restored": hit.source}
                _run(stage.run, ctx, log)
                _check_outputs(outputs, plan.task)
                run_cache.store(cache, plan.stage, key, outputs, log=log)
    except KenningTasksError as error:
        # A problem the user can act on: one line, no traceback, said once (doit prints
        # a TaskFailed's message; the reporter shows nothing else for it).
        return TaskFailed(str(error))
    except OSError as error:  # a full disk, a quota: one line too (expected_failures)
        if (line := expected_failures.stage_failure(error, ctx.out_dir)) is None:
            raise
        return TaskFailed(line)
    _check_outputs(outputs, plan.task)  # the reporter says "done in" (once per stage)
    return {"outputs": record_outputs(list(outputs.values()))}


def _run(run: Callable[[StageContext], None], ctx: StageContext,
         log: Callable[[str], None]) -> None:
    from kenning_tasks import framework_noise, live_progress

    log("started")
    with framework_noise.quiet(ctx.out_dir, log), live_progress.stage(log):  # issue 13
        run(ctx)


def _check_outputs(outputs: dict[str, Path], task_name: str) -> None:
    missing = [str(p) for p in outputs.values() if not p.is_file()]
    if missing:
        raise RuntimeError(f"{task_name} did not write {', '.join(missing)}")
