"""dataset stage: load the data set and write deterministic train/validation/test splits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kenning_tasks.scenario import Scenario
from kenning_tasks.stages.base import Phase, Stage, StageContext


def run(ctx: StageContext) -> None:
    from kenning_tasks.datasets.base import dataset_for

    dataset = dataset_for(ctx.scenario.dataset, ctx.scenario.path, ctx.log)
    info = dataset.prepare(ctx.out_dir, input_transform(ctx.scenario))
    ctx.log(f"{info['samples']} samples, classes {', '.join(info['class_names'])}")


def external_inputs(scenario: Scenario) -> list[Path]:
    from kenning_tasks.datasets.base import dataset_for

    return dataset_for(scenario.dataset, scenario.path).input_files()


def input_transform(scenario: Scenario) -> dict[str, Any] | None:
    """The model wrapper's preprocessing of dataset samples (see ModelWrapper)."""
    wrapper = scenario.model_wrapper
    return wrapper.cls.input_transform(wrapper.parameters)


def parameters(scenario: Scenario) -> dict[str, Any]:
    transform = input_transform(scenario)
    return {**scenario.dataset.to_dict(), **({"model_input": transform} if transform else {})}


STAGE = Stage(
    name="dataset",
    phase=Phase.DATA,
    doc="Prepare the dataset: deterministic train/validation/test splits (.npz)",
    run=run,
    outputs=lambda s: ["dataset/splits.npz", "dataset/dataset.json"],
    external_inputs=external_inputs,
    parameters=parameters,
    modules=lambda s: [s.dataset.cls.__module__, "kenning_tasks.datasets.base",
                       "kenning_tasks.datasets.resources", *s.dataset.cls.MODULES,
                       *([input_transform(s)["function"].partition(":")[0]]
                         if input_transform(s) else [])],
    tools=lambda s: s.dataset.cls.tool_versions(),
)
