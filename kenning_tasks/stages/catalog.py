"""Every stage, in pipeline order: the data the graph and ``dodo.py`` are built from.

``dodo.py`` makes one ``task_<group>`` per task group of this list, the graph one task per
(stage, pipeline) where ``Stage.applies``, and the action finds a stage here by name.
"""

from __future__ import annotations

from kenning_tasks.stages import (
    comparison,
    compile,
    convert,
    dataset,
    evaluate,
    firmware,
    flash,
    grid_report,
    quantize,
    report,
    simulate,
    train,
)
from kenning_tasks.stages.base import Phase, Stage

STAGES: tuple[Stage, ...] = (
    dataset.STAGE, train.STAGE, convert.STAGE, quantize.STAGE, compile.STAGE,
    firmware.STAGE, simulate.STAGE, flash.STAGE, evaluate.STAGE, report.STAGE,
    grid_report.STAGE, comparison.STAGE,
)
BY_NAME: dict[str, Stage] = {stage.name: stage for stage in STAGES}
PIPELINE_STAGES: tuple[Stage, ...] = tuple(s for s in STAGES if s.phase is not Phase.COMPARE)


def get_stage(name: str) -> Stage:
    return BY_NAME[name]


def group_docs() -> dict[str, str]:
    """``{doit task group: its doc}`` in pipeline order (a group's first stage's doc)."""
    groups: dict[str, str] = {}
    for stage in STAGES:
        groups.setdefault(stage.task_group, stage.doc)
    return groups
