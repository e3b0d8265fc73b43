"""Performance figures: the latency distribution and the host's CPU and memory use.

The first inference is drawn apart (it pays for lazy initialisation and can be 30× the
rest); the distribution of the others uses a log axis when they spread over more than 20×,
and the percentiles are marked. Target counts are integers, so their histogram bins hold
whole instructions (no comb of empty bins).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kenning_tasks.plots import style
from kenning_tasks.reporting.units import time_unit

PERCENTILES = (50, 95, 99)


def performance_figure(seconds: Sequence[float], target: Path, axis_label: str,
                       quantum_s: float | None = None,
                       utilization: dict[str, Any] | None = None,
                       image_format: str = "svg") -> Path:
    """Latency per sample and its distribution; below, when given, CPU and memory use.

    ``quantum_s``: the resolution of the measurements (1 ns for exact instruction counts).
    ``utilization``: Kenning's ``session_utilization_*`` lists (timestamps, per-core CPU %,
    memory %).
    """
    layout = [["series", "series", "series", "histogram"]]
    heights = [3.4]
    if utilization:
        layout.append(["cpu", "cpu", "memory", "memory"])
        heights.append(2.8)
    with style.mosaic(layout, 10.0, sum(heights) + 0.4, height_ratios=heights) as (fig, axes):
        _latency(axes["series"], axes["histogram"], list(seconds), axis_label, quantum_s)
        if utilization:
            _cpu(axes["cpu"], utilization)
            _memory(axes["memory"], utilization)
        return style.save(fig, target, image_format)


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolation percentile (numpy's default), without numpy."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _latency(series: Any, histogram: Any, seconds: list[float], axis_label: str,
             quantum_s: float | None) -> None:
    first, rest = seconds[0], seconds[1:] or seconds[:1]
    unit, scale = time_unit(rest)
    values = [s / scale for s in rest]
    log = style.wide_spread(values)
    low, high = min(values), max(values)
    count = max(8, min(40, int(2 * math.sqrt(len(values)))))  # sparse data: wider bins
    if log:
        bins = style.log_bins(low, high, count)
    else:
        bins = style.linear_bins(values, count, quantum_s / scale if quantum_s else None)
    top = bins[-1]
    bottom = bins[0]
    margin = (top - bottom) * 0.04 if not log else 0
    y_low, y_high = (bottom / 1.15, top * 1.15) if log else (bottom - margin, top + margin)

    xs = list(range(2, len(values) + 2)) if len(seconds) > 1 else [1]
    series.scatter(xs, values, s=6, color=style.BLUE, alpha=0.45, linewidths=0,
                   label="inference", rasterized=False)
    window = max(5, len(values) // 40)
    if len(values) >= 2 * window:
        medians = [statistics.median(values[max(0, i - window):i + window])
                   for i in range(len(values))]
        series.plot(xs, medians, color="#1d2228", linewidth=0.9, alpha=0.7,
                    label=f"running median ({2 * window} samples)")
    first_value = first / scale
    if len(seconds) > 1:
        inside = y_low <= first_value <= y_high
        shown = min(max(first_value, y_low), y_high)
        series.scatter([1], [shown], s=36, color=style.RED, zorder=5,
                       marker="o" if inside else "^", label="first inference")
        near_top = _fraction(shown, y_low, y_high, log) > 0.8
        series.annotate(f"first: {first_value:.4g} {unit}" + ("" if inside else " (off scale)"),
                        (1, shown), xytext=(8, -14 if near_top else 8),
                        textcoords="offset points", color=style.RED, fontsize=9,
                        bbox={"boxstyle": "round,pad=0.2", "facecolor": "white",
                              "edgecolor": "none", "alpha": 0.85})
    series.set_xlim(0, len(seconds) + 1)
    series.set_xlabel("sample (in evaluation order)")
    series.set_ylabel(f"{axis_label} [{unit}]")
    series.set_title("Inference time per sample")
    histogram.hist(values, bins=bins, orientation="horizontal", color=style.BLUE, alpha=0.8)
    histogram.set_xlabel("samples")
    histogram.set_title("Distribution")
    for axes in (series, histogram):
        if log:
            axes.set_yscale("log")
            style.plain_log_axis(axes.yaxis)
        axes.set_ylim(y_low, y_high)
    histogram.tick_params(labelleft=False)
    marks = [(q, percentile(values, q), colour) for q, colour in
             zip(PERCENTILES, ("#1d2228", style.PURPLE, style.RED), strict=True)]
    placed = style.spread_labels([_fraction(v, y_low, y_high, log) for _, v, _ in marks], 0.08)
    for (q, value, colour), where in zip(marks, placed, strict=True):
        histogram.axhline(value, color=colour, linewidth=0.9, linestyle=":")
        histogram.text(1.03, where, f"p{q} {value:.4g}", transform=histogram.transAxes,
                       va="center", fontsize=8, color=colour)
    series.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=3, fontsize=8,
                  markerscale=1.5)


def _fraction(value: float, low: float, high: float, log: bool) -> float:
    """Where ``value`` sits on an axis from ``low`` to ``high`` (0 bottom, 1 top)."""
    if log:
        return (math.log10(value) - math.log10(low)) / (math.log10(high) - math.log10(low))
    return (value - low) / (high - low) if high > low else 0.5


def _cpu(axes: Any, utilization: dict[str, Any]) -> None:
    times = utilization["session_utilization_timestamp"]
    cpus = utilization["session_utilization_cpus_percent"]
    if not cpus:
        style.note(axes, "no CPU samples")
        return
    cores = len(cpus[0])
    marker = "o" if len(cpus) < 10 else None  # a short evaluation: show the samples
    for core in range(cores):
        axes.plot(times, [sample[core] for sample in cpus], color=style.GREY, linewidth=0.7,
                  marker=marker, markersize=3, label="each core" if core == 0 else None)
    axes.plot(times, [sum(s) / len(s) for s in cpus], color=style.BLUE, label="average",
              marker=marker, markersize=4)
    if len(cpus) < 10:
        axes.text(0.02, 0.95, f"{len(cpus)} samples: the evaluation was short", fontsize=8,
                  color="#555555", transform=axes.transAxes, va="top")
    axes.set_ylim(0, 105)
    axes.set_xlabel("time since the evaluation started [s]")
    axes.set_ylabel("CPU use [%]")
    axes.set_title(f"Host CPU use ({cores} cores)")
    axes.legend(loc="lower right", fontsize=8)


def _memory(axes: Any, utilization: dict[str, Any]) -> None:
    times = utilization["session_utilization_timestamp"]
    memory = utilization["session_utilization_mem_percent"]
    if not memory:
        style.note(axes, "no memory samples")
        return
    axes.plot(times, memory, color=style.GREEN, marker="o" if len(memory) < 10 else None,
              markersize=4)
    spread = max(memory) - min(memory)
    middle = (max(memory) + min(memory)) / 2
    half = max(spread * 0.7, 1.0)
    axes.set_ylim(max(0, middle - half), min(100, middle + half))
    axes.set_xlabel("time since the evaluation started [s]")
    axes.set_ylabel("memory in use [%]")
    axes.set_title("Host memory use")
