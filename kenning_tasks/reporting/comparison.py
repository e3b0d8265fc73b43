"""Comparison and grid-search reports: several pipelines side by side.

Latency is compared like for like only: a host pipeline's wall-clock time against other host
pipelines, an on-target pipeline's target time (exact instruction counts at 1 ns each)
against other on-target pipelines. ``speedup`` is relative to the first pipeline *of the same
timing* and None otherwise; ``size_ratio`` to the first pipeline. Every JSON file written
here is strict (NaN and infinities become null).

The writer takes the output folder as given; where it is (``build/comparison/<a>+<b>/``, a
grid's ``report/``) is the graph's decision.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kenning_tasks import artifacts
from kenning_tasks.reporting import render
from kenning_tasks.reporting.document import (
    Alert,
    Cell,
    Document,
    Figure,
    Paragraph,
    Section,
    Table,
    num,
)
from kenning_tasks.reporting.units import (
    bytes_text,
    fraction_text,
    number_text,
    percent_text,
    strict,
    time_text,
    time_unit,
)

FIGURES = ("quality_latency_size.svg", "metrics.svg", "per_class_f1.svg")
FILES = ("comparison.json", "report.md", "report.html", *FIGURES)
# Kenning's main_quality_metric (Metric enum, lower case) -> our measurement key.
QUALITY_KEYS = {"acc": "accuracy", "top_5": "top_5_accuracy", "mean_prec": "mean_precision",
                "mean_sens": "mean_sensitivity", "g_mean": "g_mean"}
QUALITY_LABELS = {"accuracy": "accuracy", "top_5_accuracy": "top-5 accuracy",
                  "mean_precision": "mean precision", "mean_sensitivity": "mean sensitivity",
                  "g_mean": "G-mean"}


def comparison_rows(all_measurements: list[dict[str, Any]],
                    labels: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """One row per pipeline: quality, like-for-like latency and size, on-target figures."""
    first_of: dict[str, dict[str, Any]] = {}
    base_size = all_measurements[0]["model_size_bytes"] or None
    rows = []
    for m in all_measurements:
        target = m.get("on_target")
        timing = "target" if target else "host"
        mean = m["inference_time_s"]["mean"]
        baseline = first_of.setdefault(timing, m)
        row: dict[str, Any] = {
            "scenario": m["scenario"],
            "name": (labels or {}).get(m["scenario"], m["scenario"]),
            "timing": timing,
            "accuracy": m["accuracy"],
            "mean_precision": m.get("mean_precision"),
            "mean_sensitivity": m.get("mean_sensitivity"),
            "g_mean": m.get("g_mean"),
            "top_5_accuracy": m.get("top_5_accuracy"),
            "mean_latency_s": mean,
            "median_latency_s": m["inference_time_s"].get("median"),
            "speedup": baseline["inference_time_s"]["mean"] / mean if mean else None,
            "speedup_relative_to": baseline["scenario"],
            "model_size_bytes": m["model_size_bytes"],
            "size_ratio": m["model_size_bytes"] / base_size if base_size else None,
            "per_class_f1": {name: c["f1"] for name, c in m.get("per_class", {}).items()},
        }
        if labels:
            row["label"] = row["name"]
        if target:
            row.update({
                "board": target["board"],
                "agreement_with_host": target["agreement_with_host"],
                "instructions_mean": target["target_instructions"]["mean"],
                "flash_bytes": target["flash_bytes"], "ram_bytes": target["ram_bytes"],
                "flash_limit_bytes": target["flash_limit_bytes"],
                "ram_limit_bytes": target["ram_limit_bytes"],
            })
        rows.append(row)
    return strict(rows)


def write_comparison(rows: list[dict[str, Any]], folder: Path, title: str = "Comparison",
                     search: dict[str, Any] | None = None, best: dict[str, Any] | None = None,
                     quality_metric: str = "acc") -> list[Path]:
    """Write ``FILES`` into ``folder`` (created); return them."""
    from kenning_tasks.plots import comparison as plots

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    quality = _quality(rows, quality_metric)
    plots.quality_latency_size(rows, quality, folder / FIGURES[0])
    plots.metric_bars(rows, folder / FIGURES[1])
    plots.per_class_f1(rows, _class_names(rows), folder / FIGURES[2])
    artifacts.write_json(folder / "comparison.json", strict(rows))
    document = comparison_document(rows, title, quality, search, best)
    render.write(document, folder)
    return [folder / name for name in FILES]


def comparison_document(rows: list[dict[str, Any]], title: str, quality: tuple[str, str],
                        search: dict[str, Any] | None = None,
                        best: dict[str, Any] | None = None) -> Document:
    document = Document(title=title, subtitle=f"{len(rows)} pipelines.")
    best_index = next((i for i, r in enumerate(rows)
                       if best and r["scenario"] == best.get("pipeline")), None)
    summary = Section("summary", "Summary")
    if search and best:
        metric = search["metric"]
        summary.add(Paragraph(
            f"Grid search: {search.get('strategy', 'grid')}, metric `{metric}`, "
            f"policy `{search['policy']}`. **Best:** {best['label']} (`{best['pipeline']}`): "
            f"{metric} = {metric_text(metric, best['metrics'].get(metric), rows)}."))
    summary.add(Paragraph(
        "Latency is compared like for like: host pipelines by wall-clock time, on-target "
        "pipelines by target time (exact QEMU instruction counts at 1 ns per instruction). "
        "Speedup is relative to the first pipeline of the same timing; size ratio to the "
        f"first pipeline ({rows[0]['name']})."))
    for row in rows:
        if row["timing"] == "target" and (row.get("agreement_with_host") or 0) < 1.0:
            summary.add(Alert("fail", f"{row['name']}: the target's outputs differ from the "
                                      "host reference (agreement "
                                      f"{fraction_text(row['agreement_with_host'])})."))
    summary.add(_summary_table(rows, best_index))
    document.sections.append(summary)
    plots = Section("plots", "Quality, speed and size")
    largest = max(r["model_size_bytes"] for r in rows)
    plots.add(Figure(FIGURES[0], f"{quality[1]} against mean inference time and model size",
                     f"{quality[1].capitalize()} (y) against mean inference time (x) per timing "
                     f"basis; the bubble's area is the model's size (largest: "
                     f"{bytes_text(largest)})."),
              Figure(FIGURES[1], "quality metrics per pipeline",
                     "Quality metrics per pipeline" + (
                         "; below, flash, RAM and instructions per inference of the on-target "
                         "pipelines." if any(r["timing"] == "target" for r in rows) else ".")),
              Figure(FIGURES[2], "F1 per class and pipeline",
                     "F1 per class: where the pipelines differ."))
    document.sections.append(plots)
    if any(r["timing"] == "target" for r in rows):
        document.sections.append(_target_section(rows))
    return document


def _summary_table(rows: list[dict[str, Any]], best_index: int | None) -> Table:
    units = {kind: time_unit([r["mean_latency_s"] for r in rows if r["timing"] == kind])
             for kind in ("host", "target")}
    names = {r["scenario"]: r["name"] for r in rows}
    table_rows = []
    for i, r in enumerate(rows):
        unit = units[r["timing"]]
        name = r["name"] + (" ★ best" if i == best_index else "")
        speedup = ("1.00 (baseline)" if r["speedup_relative_to"] == r["scenario"]
                   else f"{r['speedup']:.2f}× vs {names[r['speedup_relative_to']]}"
                   if r["speedup"] is not None else "—")
        table_rows.append([
            Cell(name), Cell(r["timing"]), num(fraction_text(r["accuracy"])),
            num(time_text(r["mean_latency_s"], unit)), num(speedup),
            num(bytes_text(r["model_size_bytes"])),
            num(f"{r['size_ratio']:.2f}" if r["size_ratio"] is not None else "—")])
    return Table(["pipeline", "timing", "accuracy", "mean latency", "speedup (same timing)",
                  "model size", "size ratio"], table_rows, highlight_row=best_index)


def _target_section(rows: list[dict[str, Any]]) -> Section:
    from kenning_tasks.reporting.expectations import agreement_cell, memory_cell

    section = Section("on-target", "On target")
    target_rows = []
    for r in rows:
        if r["timing"] != "target":
            continue
        target_rows.append([
            Cell(r["name"]), Cell(r["board"]), agreement_cell(r["agreement_with_host"]),
            num(number_text(round(r["instructions_mean"]))),
            memory_cell(r["flash_bytes"], r["flash_limit_bytes"]),
            memory_cell(r["ram_bytes"], r["ram_limit_bytes"])])
    section.add(Table(["pipeline", "board", "agreement", "instructions per inference",
                       "flash", "RAM"], target_rows))
    return section


def metric_text(metric: str, value: Any, rows: list[dict[str, Any]] | None = None) -> str:
    """A grid metric in the units the table uses (µs for latency, bytes, %)."""
    if value is None:
        return "—"
    if "inferencetime" in metric or "inference_time" in metric:
        unit = time_unit([r["mean_latency_s"] for r in rows]) if rows else None
        return time_text(value, unit)
    if metric.endswith("_bytes"):
        return bytes_text(value)
    if "percent" in metric:
        return percent_text(value, 2)
    if isinstance(value, float) and 0.0 <= value <= 1.0:
        return fraction_text(value)
    return number_text(value, 6)


def _quality(rows: list[dict[str, Any]], metric: str) -> tuple[str, str]:
    key = QUALITY_KEYS.get(metric, "accuracy")
    if not all(r.get(key) is not None for r in rows):
        key = "accuracy"
    return key, QUALITY_LABELS[key]


def _class_names(rows: list[dict[str, Any]]) -> list[str]:
    names: list[str] = []
    for row in rows:
        names += [n for n in row.get("per_class_f1", {}) if n not in names]
    return names
