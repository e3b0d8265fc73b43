"""evaluate stage: run the compiled model over the test split and write measurements.json."""

from __future__ import annotations

import platform as host_platform
import sys
import time
from typing import Any

from kenning_tasks import artifacts, iospec, kenning_measurements, live_progress
from kenning_tasks.block import distribution_version
from kenning_tasks.ci import gates
from kenning_tasks.scenario import Scenario
from kenning_tasks.stages.base import Phase, Stage, StageContext

MEASUREMENTS = "evaluate/measurements.json"
LIMITS = ("timeout_s",)  # parameters that bound a run and change none of its results


def run(ctx: StageContext) -> None:
    from kenning_tasks import metrics
    from kenning_tasks.datasets.base import load_splits
    from kenning_tasks.score_curves import score_curves

    scenario = ctx.scenario
    model_path = ctx.path(scenario.model_file("compile"))
    spec = iospec.read_spec(model_path)
    splits = load_splits(ctx.path("dataset/splits.npz"))
    x_test, y_test = splits["x_test"], splits["y_test"]
    utilization: dict[str, Any] = {}
    timestamps = None
    if scenario.target_stages():
        from kenning_tasks.stages import on_target

        scores, times, extra = on_target.evaluate(ctx, spec, x_test)
    else:
        with kenning_measurements.SystemSampler() as sampler:
            scores, times, timestamps, extra = run_on_host(scenario, model_path, spec, x_test,
                                                           sampler.now)
        utilization = sampler.measurements()
    decided = metrics.class_scores(scores, spec)  # per-class scores (anomaly distances → 2)
    measurements: dict[str, Any] = {
        "scenario": scenario.name,
        **metrics.classification_metrics(y_test, decided, spec["class_names"]),
        **(metrics.anomaly_metrics(y_test, scores, spec) if "anomaly" in spec else {}),
        **score_curves(y_test, scores, spec, spec["class_names"]),  # ROC/PR for the report
        "inference_time_s": metrics.timing_summary(times),
        "inference_times_s": [float(t) for t in times],
        "model_size_bytes": model_path.stat().st_size,
        "model_format": spec["format"],
        "runtime": scenario.runtime.type_name,
        "platform": scenario.platform.type_name,
        "tool_versions": tool_versions(scenario),
        "host": {"python": sys.version.split()[0], "machine": host_platform.machine()},
        "resolved_scenario": recorded_scenario(scenario),
        **extra,
        # Kenning's keys (kenning report, fine-tune-optimizers), e.g. a list-valued command.
        **kenning_measurements.kenning_keys(
            scenario, y_test, decided, spec["class_names"], times, timestamps, utilization,
            model_path.stat().st_size),
    }
    artifacts.write_json(ctx.path(MEASUREMENTS), measurements)
    if scenario.gates:  # the verdicts; a failed gate fails the run at its end, not this stage
        verdicts = gates.evaluate(scenario.name, scenario.gates, measurements)
        artifacts.write_json(ctx.path(gates.GATES_FILE), verdicts)
        # One line per failed gate comes at the end of the run (reporter.py), not here.
        ctx.log(f"quality gates: {verdicts['failed']} of {len(verdicts['gates'])} failed"
                if verdicts["failed"] else f"quality gates: all {len(verdicts['gates'])} passed")
    ctx.log(f"accuracy {measurements['accuracy']:.4f}, mean inference "
            f"{measurements['inference_time_s']['mean'] * 1e6:.1f} µs")


def run_on_host(scenario: Scenario, model_path: Any, spec: dict[str, Any], x_test: Any,
                clock: Any = time.perf_counter
                ) -> tuple[Any, list[float], list[float], dict[str, Any]]:
    """Scores, per-inference seconds, when each inference ended (``clock``) and extras."""
    import numpy as np

    from kenning_tasks import metrics

    runtime = scenario.runtime.create()
    runtime.load(model_path, spec)
    input_spec, output_spec = spec["input"][0], spec["output"][0]
    scores, times, ends = [], [], []
    for sample in live_progress.each(x_test, "host inferences"):
        tensor = metrics.quantize(sample[np.newaxis], input_spec)
        started = time.perf_counter()
        output = runtime.infer(tensor)
        times.append(time.perf_counter() - started)
        ends.append(clock())
        scores.append(metrics.dequantize(np.asarray(output), output_spec).reshape(-1))
    return (np.stack(scores), times, ends,
            {"runtime_measurements": runtime.extra_measurements()})


def recorded_scenario(scenario: Scenario) -> dict[str, Any]:
    """The resolved scenario without its limits: a limit (``timeout_s``) decides whether a
    session finishes, never what it measures (target_session.session_timeout_s)."""
    resolved = scenario.resolved()
    for family in ("platform", "protocol"):
        block = resolved.get(family)
        if block is not None:
            block["parameters"] = {k: v for k, v in block["parameters"].items()
                                   if k not in LIMITS}
    return resolved


def tool_versions(scenario: Scenario) -> dict[str, str]:
    """The distributions evaluation itself runs: the runtime and platform blocks' (loaded by
    name, so not all visible to the import closure), numpy and psutil. Upstream blocks' tools
    are in their own stages' signatures; listing them here would rerun evaluate (and rewrite
    measurements.json) after an upgrade that changed no byte it reads."""
    names = {"numpy", "psutil"}
    for block in (scenario.runtime, scenario.platform):
        names.update(block.cls.REQUIRES)
    return {name: distribution_version(name) for name in sorted(names)}


def inputs(scenario: Scenario) -> list[str]:
    model = scenario.model_file("compile")
    deps = [model, model + ".json", "dataset/splits.npz"]
    if scenario.target_stages():
        from kenning_tasks.stages import on_target

        deps += on_target.evaluate_inputs(scenario)
    return deps


def outputs(scenario: Scenario) -> list[str]:
    return [MEASUREMENTS, gates.GATES_FILE] if scenario.gates else [MEASUREMENTS]


def parameters(scenario: Scenario) -> dict[str, Any]:
    # measurements.json names the pipeline and records its resolved scenario, so both belong
    # to the signature (otherwise the run cache could restore another pipeline's file).
    params: dict[str, Any] = {"pipeline": scenario.name,
                              "resolved_scenario": recorded_scenario(scenario)}
    if scenario.gates:  # only then, so an ungated pipeline's signature is what it was
        params["gates"] = [[g.metric, g.comparison] for g in scenario.gates]
    return params


def modules(scenario: Scenario) -> list[str]:
    """The runtime block, created by name (the rest is reached by import)."""
    return [scenario.runtime.cls.__module__, *scenario.runtime.cls.MODULES]


STAGE = Stage(
    name="evaluate",
    phase=Phase.MEASURE,
    doc="Run the model over the test split; write measurements.json (quality, latency, size)",
    run=run,
    outputs=outputs,
    inputs=inputs,
    parameters=parameters,
    modules=modules,
    tools=tool_versions,
)
