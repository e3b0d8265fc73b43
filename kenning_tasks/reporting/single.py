"""The single-pipeline report: what one scenario's measurements say, section by section.

Sections follow Kenning's report types and go past them:

- **Overview**: scenario, description, the numbers that matter at a glance, quality gates
  (``evaluate/gates.json``, when the scenario has gates), versions, the resolved scenario;
- **Classification** (Kenning: classification, anomaly): metrics, confusion matrices (counts
  and normalised), per-class precision/recall/F1, top-k; for binary and anomaly tasks ROC and
  precision-recall curves with AUCs, and the alarm quality per threshold;
- **Training**: the training history (``train/training.json``);
- **Performance** (Kenning: performance): latency statistics and distribution, host CPU and
  memory use during the evaluation;
- **On target** (Kenning: renode_stats, in spirit): agreement with the host reference,
  instructions per inference (per operator when the firmware measured them), flash and RAM
  by section against the board's limits, the largest symbols, the arena.

Values outside expectations are flagged (see ``expectations.py``). Every applicable section
writes exactly one figure, named in ``FIGURES``, so the stage's outputs follow from the
scenario alone; optional inputs (per-op counts, symbols, gates, CPU samples) add panels and
tables to a section, never files.

Optional inputs, whoever writes them: the firmware's ``per_op``, ``symbols`` and
``sections`` (``target.py`` says their format), and ``gates.json``: ``{"scenario",
"passed", "failed", "gates": [{"metric", "comparison", "value", "passed", "problem",
"default"}]}``.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kenning_tasks.reporting import expectations, target
from kenning_tasks.reporting.document import (
    Cell,
    Details,
    Document,
    Figure,
    Paragraph,
    Section,
    Table,
    key_value_table,
    num,
)
from kenning_tasks.reporting.units import (
    bytes_text,
    fraction_text,
    number_text,
    percent_text,
    time_text,
    time_unit,
)

SECTIONS = ("classification", "training", "performance", "on_target")
FIGURES = {name: name for name in SECTIONS}  # section -> figure file stem
# Kenning's report_types -> the sections they show.
REPORT_TYPES = {"classification": ("classification", "training"),
                "anomaly": ("classification",),  # detection quality is in that section
                "performance": ("performance", "on_target")}


@dataclass
class ReportInputs:
    """What one pipeline's report is made of (parsed JSON files; None when absent)."""

    measurements: dict[str, Any]
    description: str = ""
    training: dict[str, Any] | None = None
    firmware: dict[str, Any] | None = None
    gates: dict[str, Any] | None = None


@dataclass
class ReportOptions:
    """Kenning's MarkdownReport parameters the report honours."""

    title: str | None = None                 # report_name
    sections: tuple[str, ...] = SECTIONS     # from report_types and the scenario
    image_format: str = "svg"                # "png" with only_png_images
    smaller_header: bool = False
    general_information: bool = True         # not skip_general_information
    extra: dict[str, Any] = field(default_factory=dict)


def figure_file(section: str, image_format: str = "svg") -> str:
    return f"{FIGURES[section]}.{image_format}"


def build(inputs: ReportInputs, folder: Path, options: ReportOptions | None = None
          ) -> Document:
    """Draw the figures into ``folder`` and return the document that shows them."""
    options = options or ReportOptions()
    draw(inputs, folder, options)
    return document(inputs, options)


def document(inputs: ReportInputs, options: ReportOptions | None = None) -> Document:
    """The report's content (its figures are named, ``draw`` writes them)."""
    options = options or ReportOptions()
    m = inputs.measurements
    result = Document(title=options.title or f"Report: {m['scenario']}",
                      subtitle=inputs.description, smaller_header=options.smaller_header)
    result.sections.append(_overview(inputs, options, result))
    builders = {"classification": _classification, "training": _training,
                "performance": _performance, "on_target": _on_target}
    for name in SECTIONS:
        if name in options.sections:
            section = builders[name](inputs, options)
            if section is not None:
                result.sections.append(section)
    return result


def draw(inputs: ReportInputs, folder: Path, options: ReportOptions | None = None
         ) -> list[Path]:
    """Write one figure per section of ``options.sections`` into ``folder``."""
    from kenning_tasks.plots.classification import classification_figure
    from kenning_tasks.plots.performance import performance_figure
    from kenning_tasks.plots.target import target_figure
    from kenning_tasks.plots.training import training_figure

    options = options or ReportOptions()
    m, fmt = inputs.measurements, options.image_format
    folder = Path(folder)
    written = []
    for name in options.sections:
        path = folder / figure_file(name, fmt)
        if name == "classification":
            classification_figure(m["confusion_matrix"], m["class_names"], path,
                                  m.get("score_curves"), m.get("metrics_per_threshold"), fmt)
        elif name == "training":
            training_figure((inputs.training or {}).get("history") or {}, path, fmt)
        elif name == "performance":
            axis_label, quantum = _timing(m)
            performance_figure(m["inference_times_s"], path, axis_label, quantum,
                               _utilization(m), fmt)
        elif name == "on_target":
            if m.get("on_target") is None:
                continue
            firmware = inputs.firmware or {}
            target_figure(target.memory_regions(m["on_target"], firmware), path,
                          target.per_op_counts(m, firmware), target.symbol_sizes(firmware), fmt)
        written.append(path)
    return written


def _timing(m: dict[str, Any]) -> tuple[str, float | None]:
    """The latency axis' label and the measurements' resolution (1 ns: exact counts)."""
    target = m.get("on_target")
    if not target:
        return "wall clock", None
    exact = target.get("target_instructions", {}).get("unit") == "instructions"
    return ("target time" if exact else "time"), (1e-9 if exact else None)


# -- overview ----------------------------------------------------------------------------------


def _overview(inputs: ReportInputs, options: ReportOptions, document: Document) -> Section:
    m = inputs.measurements
    section = Section("overview", "Overview")
    target = m.get("on_target")
    where = f"board **{target['board']}**" if target else f"**{m['platform']}**"
    section.add(Paragraph(
        f"Runtime **{m['runtime']}** on {where}; model format `{m['model_format']}`, "
        f"{bytes_text(m['model_size_bytes'])}; {m['samples']} test samples."))
    section.add(_at_a_glance(m))
    if inputs.gates:
        document.banner.append(expectations.gates_banner(inputs.gates))
        section.add(_gates_table(inputs.gates))
    if options.general_information:
        versions = ", ".join(f"{name} {version}" for name, version in
                             sorted(m.get("tool_versions", {}).items()))
        if versions:
            section.add(Paragraph(f"Versions: {versions}."))
        if m.get("resolved_scenario"):
            section.add(Details("Resolved scenario (every default filled in)",
                                _yaml(m["resolved_scenario"]), "yaml"))
        command = m.get("command")
        if command:
            text = "\n".join(command) if isinstance(command, list) else str(command)
            section.add(Details("Command that rebuilds this report", text, "sh"))
    section.add(Paragraph("The last run's timeline (which stages ran, were restored from the "
                          "run cache or up to date, and how long each took) is in "
                          "`build/run-summary.html`, rewritten after every run."))
    return section


def _at_a_glance(m: dict[str, Any]) -> Table:
    target = m.get("on_target")
    unit = time_unit(m["inference_times_s"])
    rows: list[tuple[str, Cell | str]] = [("accuracy", num(fraction_text(m["accuracy"])))]
    anomaly = m.get("anomaly_metrics")
    if anomaly:
        rows.append(("anomaly F1", num(fraction_text(anomaly["f1"]))))
    basis = "target" if target else "host"
    rows.append((f"mean inference time ({basis})",
                 num(time_text(m["inference_time_s"]["mean"], unit))))
    rows.append(("model size", num(bytes_text(m["model_size_bytes"]))))
    if target:
        rows.append(("agreement with the host reference",
                     expectations.agreement_cell(target["agreement_with_host"])))
        for key, label in (("flash", "flash"), ("ram", "RAM")):
            rows.append((label, expectations.memory_cell(target[f"{key}_bytes"],
                                                         target[f"{key}_limit_bytes"])))
    return key_value_table(rows, "At a glance")


def _gates_table(gates: dict[str, Any]) -> Table:
    rows = []
    for gate in gates.get("gates", []):
        value = gate.get("value")
        shown = gate_value_text(value) if value is not None else (gate.get("problem") or "—")
        rows.append([Cell(f"`{gate['metric']}`"), num(gate["comparison"]),
                     num(shown, None if gate["passed"] else "fail"),
                     Cell("passed" if gate["passed"] else "failed",
                          "pass" if gate["passed"] else "fail"),
                     Cell("default" if gate.get("default") else "scenario")])
    return Table(["gate", "required", "value", "verdict", "from"], rows, "Quality gates")


def gate_value_text(value: Any) -> str:
    return str(value) if isinstance(value, int) else f"{value:.6g}"


def _yaml(data: Any) -> str:
    import yaml

    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=96)


# -- classification ----------------------------------------------------------------------------


def _classification(inputs: ReportInputs, options: ReportOptions) -> Section:
    m = inputs.measurements
    section = Section("classification", "Classification")
    rows: list[tuple[str, Cell | str]] = [("accuracy", fraction_text(m["accuracy"]))]
    for k in (2, 5):
        if f"top_{k}_accuracy" in m and len(m["class_names"]) > k:
            rows.append((f"top-{k} accuracy", fraction_text(m[f"top_{k}_accuracy"])))
    rows += [("mean precision", fraction_text(m["mean_precision"])),
             ("mean sensitivity (recall)", fraction_text(m["mean_sensitivity"])),
             ("G-mean", fraction_text(m["g_mean"]))]
    curves = m.get("score_curves")
    anomaly = m.get("anomaly_metrics")
    if anomaly:
        rows += [("anomaly precision", fraction_text(anomaly["precision"])),
                 ("anomaly recall", fraction_text(anomaly["recall"])),
                 ("anomaly F1", fraction_text(anomaly["f1"])),
                 ("ROC AUC", fraction_text(anomaly.get("roc_auc"))),
                 ("PR AUC (average precision)", fraction_text(anomaly.get("pr_auc"))),
                 ("anomalies in the test split",
                  f"{anomaly['anomalies']} of {anomaly['samples']}")]
        if anomaly.get("threshold") is not None:
            rows.append((f"decision threshold ({anomaly['score']})",
                         f"{anomaly['threshold']:.6g}"))
    elif curves:
        rows += [("ROC AUC", fraction_text(curves.get("roc_auc"))),
                 ("PR AUC (average precision)", fraction_text(curves.get("pr_auc")))]
    section.add(key_value_table(rows, "Quality on the test split", ("metric", "value")))
    per_class = [[Cell(name), num(fraction_text(c["precision"], 3)),
                  num(fraction_text(c["recall"], 3)), num(fraction_text(c["f1"], 3)),
                  num(str(c["support"]), "warn" if c["support"] == 0 else None)]
                 for name, c in m["per_class"].items()]
    section.add(Table(["class", "precision", "recall", "F1", "support"], per_class,
                      "Per class"))
    figure = figure_file("classification", options.image_format)
    caption = ("Left: samples per (true, predicted) class. Right: each row normalised to its "
               "true class, so the diagonal is the recall.")
    if curves:
        caption += (" Below: ROC and precision-recall curves of the continuous score "
                    f"({curves.get('score', 'score')}).")
    if m.get("metrics_per_threshold"):
        caption += (" Bottom: Kenning's alarm quality for a smoothed alarm per threshold "
                    "(FDR: detected anomalous runs, FAR: false alarms among alarms, ADD: "
                    "samples until the alarm).")
    section.add(Figure(figure, "confusion matrices" + (", ROC and PR curves" if curves else ""),
                       caption))
    if not curves and not anomaly and len(m["class_names"]) == 2:
        section.add(Paragraph("ROC and precision-recall curves need the per-sample scores "
                              "(`score_curves` in measurements.json), which these "
                              "measurements do not hold."))
    return section


# -- training ----------------------------------------------------------------------------------


def _training(inputs: ReportInputs, options: ReportOptions) -> Section:
    from kenning_tasks.plots.training import best_epoch, quantities

    history = (inputs.training or {}).get("history") or {}
    section = Section("training", "Training")
    figure = figure_file("training", options.image_format)
    names = quantities(history)
    if not names:
        section.add(Paragraph("The training stage recorded no history."))
        return section
    epochs = max(len(v) for v in history.values())
    section.add(Paragraph(f"{epochs} epochs; the validation curve is dashed."))
    section.add(Figure(figure, "training curves",
                       "Per epoch, on the train split (solid) and the validation split "
                       "(dashed); the dot marks the best validation epoch."))
    rows = []
    for name in names:
        train, val = history.get(name) or [], history.get(f"val_{name}") or []
        best = best_epoch(history, name)
        rows.append([Cell(name.replace("_", " ")),
                     num(number_text(train[-1]) if train else "—"),
                     num(number_text(val[-1]) if val else "—"),
                     num(f"{number_text((val or train)[best])} (epoch {best + 1})"
                         if best is not None else "—")])
    section.add(Table(["quantity", "last epoch (train)", "last epoch (validation)",
                       "best (validation)"], rows, "Training history"))
    return section


# -- performance -------------------------------------------------------------------------------


def _performance(inputs: ReportInputs, options: ReportOptions) -> Section:
    from kenning_tasks.plots.performance import percentile

    m = inputs.measurements
    target = m.get("on_target")
    times = m["inference_times_s"]
    section = Section("performance", "Performance")
    if target:
        basis = target.get("timing_basis", "target time")
        section.add(Paragraph(f"Inference time on the target: {basis}. It is compared only "
                              "with other target times, never with host wall-clock time."))
    else:
        section.add(Paragraph("Inference time on the host: wall clock around one inference, "
                              "one sample at a time."))
    quantum = _timing(m)[1]
    unit = time_unit(times[1:] or times)
    summary = m["inference_time_s"]
    rows: list[tuple[str, Cell | str]] = [
        ("first inference", time_text(summary["first"], unit)),
        ("mean", time_text(summary["mean"], unit)),
        ("median", time_text(summary["median"], unit)),
        ("standard deviation", time_text(summary["std"], unit)),
        ("minimum", time_text(summary["min"], unit)),
        ("maximum", time_text(summary["max"], unit)),
        ("95th percentile", time_text(percentile(times, 95), unit)),
        ("99th percentile", time_text(percentile(times, 99), unit)),
    ]
    if target and quantum:
        ti = target["target_instructions"]
        rows.insert(0, ("instructions per inference (mean / min / max)",
                        f"{number_text(round(ti['mean']))} / {number_text(ti['min'])} / "
                        f"{number_text(ti['max'])}"))
    section.add(key_value_table(rows, "Inference time", ("statistic", "value")))
    utilization = _utilization(m)
    figure = figure_file("performance", options.image_format)
    caption = ("Left: every inference in evaluation order (the first one, red, pays for "
               "initialisation) with a running median. Right: the distribution of all but the "
               "first, with its 50th, 95th and 99th percentiles (the table's include the "
               "first).")
    if utilization:
        caption += " Below: host CPU (per core and average) and memory use during evaluation."
    section.add(Figure(figure, "inference time per sample and its distribution", caption))
    if utilization:
        section.add(_utilization_table(utilization))
    if m.get("runtime_measurements"):
        section.add(key_value_table(
            [(k, str(v)) for k, v in sorted(m["runtime_measurements"].items())],
            "Reported by the runtime"))
    return section


def _utilization(m: dict[str, Any]) -> dict[str, Any] | None:
    keys = ("session_utilization_timestamp", "session_utilization_cpus_percent",
            "session_utilization_mem_percent")
    if all(m.get(k) for k in keys):
        return {k: m[k] for k in keys}
    return None


def _utilization_table(utilization: dict[str, Any]) -> Table:
    cpu = [sum(s) / len(s) for s in utilization["session_utilization_cpus_percent"] if s]
    memory = utilization["session_utilization_mem_percent"]
    rows = []
    for label, values in (("CPU use, average of the cores", cpu), ("memory in use", memory)):
        rows.append([Cell(label), num(percent_text(statistics.fmean(values))),
                     num(percent_text(statistics.pstdev(values))),
                     num(percent_text(statistics.median(values)))])
    return Table(["host, during evaluation", "mean", "standard deviation", "median"], rows,
                 f"Host CPU and memory use ({len(memory)} samples)")


# -- on target ---------------------------------------------------------------------------------


def _on_target(inputs: ReportInputs, options: ReportOptions) -> Section | None:
    return target.section(inputs.measurements, inputs.firmware or {},
                          figure_file("on_target", options.image_format))
