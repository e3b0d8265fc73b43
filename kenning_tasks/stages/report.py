"""report stage: report.md and a self-contained report.html (same content) with figures.

What the report shows is ``reporting/single.py``; this module says what the stage reads and
writes. Its outputs follow from the scenario alone (one figure per applicable section), so
the run cache and ``OutputsIntact`` cover every file; optional inputs (gates, per-op counts,
symbols) add content to those files, never files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kenning_tasks import artifacts
from kenning_tasks.block import distribution_version
from kenning_tasks.ci.gate_specs import GATES_FILE
from kenning_tasks.reporting import render, single
from kenning_tasks.scenario import Scenario
from kenning_tasks.stages.base import Phase, Stage, StageContext
from kenning_tasks.stages.evaluate import MEASUREMENTS

TRAINING = "train/training.json"
FIRMWARE_INFO = "firmware/firmware.json"
GATES = GATES_FILE  # written by the evaluate stage when the scenario has gates
SUMMARY = "report/report.summary.json"


def options(scenario: Scenario) -> single.ReportOptions:
    """The report block's parameters (Kenning's MarkdownReport) and what the scenario has."""
    p = scenario.report.parameters if scenario.report is not None else {}
    types = p.get("report_types")
    wanted = (set(single.SECTIONS) if not types else
              {s for t in types for s in single.REPORT_TYPES.get(t, ())})
    if scenario.model_wrapper.parameters.get("model_path") is not None:
        wanted.discard("training")  # a pretrained model has no history
    if not scenario.target_stages():
        wanted.discard("on_target")
    return single.ReportOptions(
        title=p.get("report_name"),
        sections=tuple(s for s in single.SECTIONS if s in wanted),
        image_format="png" if p.get("only_png_images") else "svg",
        smaller_header=bool(p.get("smaller_header")),
        general_information=not p.get("skip_general_information"),
        extra={"save_summary": bool(p.get("save_summary"))})


def inputs(scenario: Scenario) -> list[str]:
    files = [MEASUREMENTS]
    sections = options(scenario).sections
    if "training" in sections:
        files.append(TRAINING)
    if "on_target" in sections:
        files.append(FIRMWARE_INFO)
    if scenario.gates:  # quality gates (ci/gates.py): gates.json
        files.append(GATES)
    return files


def outputs(scenario: Scenario) -> list[str]:
    chosen = options(scenario)
    files = ["report/report.md", "report/report.html",
             *(f"report/{single.figure_file(s, chosen.image_format)}" for s in chosen.sections)]
    if chosen.extra["save_summary"]:
        files.append(SUMMARY)
    return files


def parameters(scenario: Scenario) -> dict[str, Any]:
    """What the report shows besides its input files: the description and the report block."""
    return {"description": scenario.description,
            "report": scenario.report.parameters if scenario.report is not None else None}


def run(ctx: StageContext) -> None:
    scenario = ctx.scenario
    chosen = options(scenario)
    sections = chosen.sections
    report_inputs = single.ReportInputs(
        measurements=_read(ctx.path(MEASUREMENTS)),
        description=scenario.description.strip(),
        training=_read(ctx.path(TRAINING)) if "training" in sections else None,
        firmware=_read(ctx.path(FIRMWARE_INFO)) if "on_target" in sections else None,
        gates=_read(ctx.path(GATES)) if GATES in inputs(scenario) else None)
    out = ctx.out_dir
    document = single.build(report_inputs, out, chosen)
    written = render.write(document, out)
    if chosen.extra["save_summary"]:
        artifacts.write_json(ctx.path(SUMMARY), kenning_summary(report_inputs.measurements))
    ctx.log(f"wrote {written[0].name} and {written[1].name} in {out}")


def kenning_summary(measurements: dict[str, Any]) -> list[dict[str, Any]]:
    """Kenning's ``<report>.summary.json``: the metrics of the report, per model."""
    from kenning_tasks.kenning_measurements import grid_metrics
    from kenning_tasks.reporting.units import strict

    values = grid_metrics(measurements)
    kinds = {"performance": [k for k in values if k.startswith(("inferencetime_",
                                                                  "session_utilization_"))],
             "classification": ["Accuracy", "Mean precision", "Mean sensitivity", "G-mean",
                                "Top-5 accuracy", "ROC AUC", "F1 score", "ROC AUC weighted",
                                "F1 score weighted"]}
    metrics = [{"type": kind, "name": name, "value": values[name]}
               for kind, names in kinds.items() for name in names if name in values]
    return strict([{"metrics": metrics, "scenarioPath": None,
                    "modelName": measurements.get("model_name", measurements["scenario"])}])


def _read(path: Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text())


STAGE = Stage(
    name="report",
    phase=Phase.REPORT,
    doc="Write report.md and a self-contained report.html with figures",
    run=run,
    outputs=outputs,
    inputs=inputs,
    external_inputs=lambda s: render.template_files(),
    parameters=parameters,
    tools=lambda s: {n: distribution_version(n) for n in ("jinja2", "matplotlib", "pyyaml")},
    applies=lambda s: s.variant is None,  # a grid is reported as a whole (grid_report)
)
