"""train stage: train the model wrapper's network on the train split, seeded."""

from __future__ import annotations

import json
import math
from typing import Any

from kenning_tasks import artifacts, formats
from kenning_tasks.errors import StageError
from kenning_tasks.scenario import Scenario
from kenning_tasks.stages.base import Phase, Stage, StageContext


def model_file(scenario: Scenario) -> str:
    return "train/" + formats.file_name(scenario.model_wrapper.cls.FORMAT)


def run(ctx: StageContext) -> None:
    scenario = ctx.scenario
    info = json.loads(ctx.path("dataset/dataset.json").read_text())
    wrapper = scenario.model_wrapper.create()
    model_path = ctx.path(model_file(scenario))
    history = wrapper.train(ctx.path("dataset/splits.npz"), info, model_path, ctx.log)
    if (problem := non_finite_loss(history)) is not None:
        model_path.unlink(missing_ok=True)  # a model trained on NaN is never an artifact
        rate = scenario.model_wrapper.parameters.get("learning_rate")
        hint = (f"lower model_wrapper.parameters.learning_rate ({rate})" if rate is not None
                else "check the model wrapper's parameters")
        raise StageError(f"train: {problem}; the model is not kept; {hint} or check the data")
    wrapper.write_io_spec(model_path, info)
    artifacts.write_json(ctx.out_dir / "training.json", {"history": history})


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


STAGE = Stage(
    name="train",
    phase=Phase.MODEL,
    doc="Train the model (seeded, deterministic) and save it in its native format",
    run=run,
    outputs=outputs,
    inputs=lambda s: ["dataset/splits.npz", "dataset/dataset.json"],
    parameters=lambda s: s.model_wrapper.to_dict(),
    modules=lambda s: [s.model_wrapper.cls.__module__, "kenning_tasks.model_wrappers.base",
                       "kenning_tasks.iospec", *s.model_wrapper.cls.MODULES],
    tools=lambda s: s.model_wrapper.cls.tool_versions(),
)
