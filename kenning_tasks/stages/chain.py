"""The model chain shared by the convert, quantize and compile stages.

Each of those stages runs its slice of the planned steps (format conversions and optimizer
phases, see ``scenario._plan_chain``) from the previous stage's model to its own
``<stage>/model.<format>``. A stage with no steps publishes its input unchanged.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from kenning_tasks import formats, iospec, live_progress
from kenning_tasks.block import distribution_version
from kenning_tasks.converters import converter_for, copy_model
from kenning_tasks.optimizers.base import StepContext
from kenning_tasks.scenario import Scenario, Step
from kenning_tasks.stages.base import Phase, Stage, StageContext

CHAIN_STAGES = ("convert", "quantize", "compile")
_PREVIOUS = {"convert": "train", "quantize": "convert", "compile": "quantize"}


def steps(scenario: Scenario, stage: str) -> tuple[Step, ...]:
    return getattr(scenario, f"{stage}_steps")


def model_file(scenario: Scenario, stage: str) -> str:
    """Relative path of the model a stage (train, convert, quantize, compile) writes."""
    return scenario.model_file(stage)


def run_chain(ctx: StageContext) -> None:
    scenario = ctx.scenario
    source = ctx.path(model_file(scenario, _PREVIOUS[ctx.stage]))
    target = ctx.path(model_file(scenario, ctx.stage))
    info = json.loads(ctx.path("dataset/dataset.json").read_text())
    step_ctx = StepContext(ctx.path("dataset/splits.npz"), info, ctx.log)
    planned = steps(scenario, ctx.stage)
    if not planned:
        copy_model(source, target, info)
        ctx.log(f"nothing to do; {target.name} published unchanged")
        return
    with tempfile.TemporaryDirectory(dir=ctx.out_dir, prefix=".work-") as work:
        current = source
        for index, step in enumerate(planned):
            last = index == len(planned) - 1
            name = f"step{index}-{formats.file_name(step.output_format)}"
            out = target if last else Path(work) / name
            ctx.log(step.describe(scenario))
            with live_progress.working(step.describe(scenario)):
                if step.optimizer is None:
                    converter_for(step.input_format, step.output_format)(current, out, info)
                else:
                    optimizer = scenario.optimizers[step.optimizer].create()
                    getattr(optimizer, step.kind)(current, out, step_ctx)
            current = out
    # Facts a conversion cannot read back from the new file (normalisation, anomaly threshold).
    iospec.carry_over(source, target)
    size = target.stat().st_size
    ctx.log(f"{target.name}: {size} bytes")


def parameters(scenario: Scenario, stage: str) -> dict[str, Any]:
    result = []
    for step in steps(scenario, stage):
        entry: dict[str, Any] = {"kind": step.kind, "from": step.input_format,
                                 "to": step.output_format}
        if step.optimizer is not None:
            optimizer = scenario.optimizers[step.optimizer]
            entry["type"] = f"{optimizer.cls.__module__}.{optimizer.cls.__name__}"
            entry["parameters"] = optimizer.create().phase_parameters(step.kind)
        result.append(entry)
    return {"steps": result}


def modules(scenario: Scenario, stage: str) -> list[str]:
    """What the chain loads by name: conversion functions, optimizer classes, the model
    wrapper (conversions load the trained model with its loader)."""
    names = set()
    for step in steps(scenario, stage):
        if step.optimizer is None:
            conversion = formats.CONVERSIONS.get((step.input_format, step.output_format))
            if conversion:
                names.add(conversion.partition(":")[0])
            names.add(scenario.model_wrapper.cls.__module__)
        else:
            optimizer = scenario.optimizers[step.optimizer].cls
            names.update((optimizer.__module__, *optimizer.MODULES))
    return sorted(names)


def tools(scenario: Scenario, stage: str) -> dict[str, str]:
    versions: dict[str, str] = {}
    for step in steps(scenario, stage):
        if step.optimizer is None:
            for name in formats.CONVERSION_TOOLS.get((step.input_format, step.output_format), ()):
                versions[name] = distribution_version(name)
        else:
            versions.update(scenario.optimizers[step.optimizer].cls.tool_versions())
    return versions


def outputs(scenario: Scenario, stage: str) -> list[str]:
    """The model, its sidecar and any extra files the stage's last optimizer phase writes."""
    model = model_file(scenario, stage)
    names = [model, model + ".json"]
    planned = steps(scenario, stage)
    if planned and planned[-1].optimizer is not None:
        optimizer = scenario.optimizers[planned[-1].optimizer].create()
        folder = model.rsplit("/", 1)[0]
        names += [f"{folder}/{p.name}" for p in optimizer.extra_outputs(Path(model))]
    return names


def chain_stage(name: str, doc: str) -> Stage:
    return Stage(
        name=name,
        phase=Phase.CHAIN,
        doc=doc,
        run=run_chain,
        outputs=lambda s: outputs(s, name),
        inputs=lambda s: [model_file(s, _PREVIOUS[name]), model_file(s, _PREVIOUS[name]) + ".json",
                          "dataset/splits.npz", "dataset/dataset.json"],
        parameters=lambda s: parameters(s, name),
        modules=lambda s: modules(s, name),
        tools=lambda s: tools(s, name),
    )

