"""train stage: train the model wrapper's network on the train split, seeded — or install the
user's trained model (``model_wrapper.parameters.model_path``) instead."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from kenning_tasks import artifacts
from kenning_tasks.block import distribution_version
from kenning_tasks.errors import StageError
from kenning_tasks.model_wrappers import pretrained
from kenning_tasks.scenario import Scenario
from kenning_tasks.stages.base import Phase, Stage, StageContext


def model_file(scenario: Scenario) -> str:
    return scenario.model_file("train")


def run(ctx: StageContext) -> None:
    scenario = ctx.scenario
    info = json.loads(ctx.path("dataset/dataset.json").read_text())
    wrapper = scenario.model_wrapper.create()
    model_path = ctx.path(model_file(scenario))
    splits = ctx.path("dataset/splits.npz")
    if pretrained.given(wrapper.parameters):
        source = pretrained.fetch(wrapper.parameters, scenario.path.parent, ctx.log)
        history = wrapper.install_pretrained(source, info, model_path, ctx.log,
                                             splits_path=splits)
    else:
        history = wrapper.train(splits, info, model_path, ctx.log)
    if (problem := non_finite_loss(history)) is not None:
        model_path.unlink(missing_ok=True)  # a model trained on NaN is never an artifact
        rate = scenario.model_wrapper.parameters.get("learning_rate")
        hint = (f"lower model_wrapper.parameters.learning_rate ({rate})" if rate is not None
                else "check the model wrapper's parameters")
        raise StageError(f"train: {problem}; the model is not kept; {hint} or check the data")
    wrapper.write_io_spec(model_path, info)
    artifacts.write_json(ctx.out_dir / "training.json",
                         {"history": history, "pretrained": pretrained.given(wrapper.parameters)})


def non_finite_loss(history: dict[str, Any]) -> str | None:
    """"the training loss became nan in epoch 3" for the first NaN/inf of a loss curve."""
    for key, values in history.items():
        if "loss" not in key or not isinstance(values, list):
            continue
        for epoch, value in enumerate(values, start=1):
            if isinstance(value, float) and not math.isfinite(value):
                which = "training" if key == "loss" else key.replace("_", " ")
                return f"the {which} loss became {value} in epoch {epoch}"
    return None


def outputs(scenario: Scenario) -> list[str]:
    model = model_file(scenario)
    return [model, model + ".json", "train/training.json"]


def external_inputs(scenario: Scenario) -> list[Path]:
    """A given local model file: its bytes are an input (replacing it reruns train)."""
    return pretrained.input_files(scenario.model_wrapper.parameters, scenario.path.parent)


def tools(scenario: Scenario) -> dict[str, str]:
    versions = scenario.model_wrapper.cls.tool_versions()
    if pretrained.given(scenario.model_wrapper.parameters):
        for name in pretrained.TOOLS[scenario.native_format]:
            versions[name] = distribution_version(name)
    return versions


def modules(scenario: Scenario) -> list[str]:
    wrapper = scenario.model_wrapper.cls
    names = [wrapper.__module__, "kenning_tasks.model_wrappers.base",
             "kenning_tasks.model_wrappers.pretrained", "kenning_tasks.iospec", *wrapper.MODULES]
    if pretrained.given(scenario.model_wrapper.parameters):  # the loaders install uses
        names += pretrained.LOADER_MODULES[scenario.native_format]
    return names


STAGE = Stage(
    name="train",
    phase=Phase.MODEL,
    doc="Train the model (seeded, deterministic) or install the given model_path",
    run=run,
    outputs=outputs,
    inputs=lambda s: ["dataset/splits.npz", "dataset/dataset.json"],
    external_inputs=external_inputs,
    parameters=lambda s: s.model_wrapper.to_dict(),
    modules=modules,
    tools=tools,
)
