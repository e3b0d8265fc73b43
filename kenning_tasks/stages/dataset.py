"""dataset stage: load the data set and write deterministic train/validation/test splits."""

from __future__ import annotations

from pathlib import Path

from kenning_tasks.scenario import Scenario
from kenning_tasks.stages.base import Stage, StageContext


def run(ctx: StageContext) -> None:
    from kenning_tasks.datasets.base import dataset_for

    info = dataset_for(ctx.scenario.dataset, ctx.scenario.path, ctx.log).prepare(ctx.out_dir)
    ctx.log(f"{info['samples']} samples, classes {', '.join(info['class_names'])}")


def external_inputs(scenario: Scenario) -> list[Path]:
    from kenning_tasks.datasets.base import dataset_for

    return dataset_for(scenario.dataset, scenario.path).input_files()


STAGE = Stage(
    name="dataset",
    doc="Prepare the dataset: deterministic train/validation/test splits (.npz)",
    run=run,
    outputs=lambda s: ["dataset/splits.npz", "dataset/dataset.json"],
    external_inputs=external_inputs,
    parameters=lambda s: s.dataset.to_dict(),
    modules=lambda s: [s.dataset.cls.__module__, "kenning_tasks.datasets.base",
                       "kenning_tasks.datasets.resources", *s.dataset.cls.MODULES],
    tools=lambda s: s.dataset.cls.tool_versions(),
)
