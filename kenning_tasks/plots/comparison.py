"""Comparison figures (Kenning's classification comparison, and past it): quality against
latency and model size, per-metric bars, per-class F1, and on-target flash/RAM/instructions.

Latency is compared like for like only: host pipelines (wall clock) and on-target pipelines
(target time) get separate panels and never share an axis.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from kenning_tasks.plots import style
from kenning_tasks.reporting.units import short_bytes, time_unit

QUALITY_METRICS = (("accuracy", "accuracy"), ("mean_precision", "mean precision"),
                   ("mean_sensitivity", "mean sensitivity"), ("g_mean", "G-mean"),
                   ("top_5_accuracy", "top-5 accuracy"))
TIMINGS = (("host", "host: wall clock"), ("target", "on target: target time"))


def _colours(count: int) -> list[str]:
    palette = [c for c in style.PALETTE if c not in (style.GREY, "#000000")]
    return [palette[i % len(palette)] for i in range(count)]


def quality_latency_size(rows: list[dict[str, Any]], quality: tuple[str, str], target: Path,
                         image_format: str = "svg") -> Path:
    """Bubble chart: mean latency (x), quality (y), model size (bubble area); one panel per
    timing basis present."""
    kinds = [(kind, title) for kind, title in TIMINGS if any(r["timing"] == kind for r in rows)]
    colours = dict(zip([r["name"] for r in rows], _colours(len(rows)), strict=True))
    sizes = [r["model_size_bytes"] for r in rows]
    largest = max(sizes) or 1
    with style.figure(5.2 * len(kinds) + 0.6, 4.2, ncols=len(kinds), squeeze=False) as (fig,
                                                                                         grid):
        for axes, (kind, title) in zip(grid[0], kinds, strict=True):
            chosen = [r for r in rows if r["timing"] == kind]
            unit, scale = time_unit([r["mean_latency_s"] for r in chosen])
            xs = [r["mean_latency_s"] / scale for r in chosen]
            ys = [r[quality[0]] for r in chosen]
            areas = [60 + 1400 * r["model_size_bytes"] / largest for r in chosen]
            axes.scatter(xs, ys, s=areas, c=[colours[r["name"]] for r in chosen], alpha=0.55,
                         edgecolors="#333333", linewidths=0.8)
            for r, x, y in zip(chosen, xs, ys, strict=True):
                axes.annotate(r["name"], (x, y), xytext=(7, 7), textcoords="offset points",
                              fontsize=8.5)
            if style.wide_spread(xs, 8):
                axes.set_xscale("log")
            _pad(axes, xs, ys, axes.get_xscale() == "log")
            axes.set_xlabel(f"mean inference time [{unit}]")
            axes.set_ylabel(quality[1])
            axes.set_title(title)
        return style.save(fig, target, image_format)


def _pad(axes: Any, xs: list[float], ys: list[float], log: bool) -> None:
    low, high = min(xs), max(xs)
    if log:
        axes.set_xlim(low / 1.6, high * 1.6)
    else:
        span = (high - low) or max(abs(high), 1e-9)
        axes.set_xlim(max(0.0, low - 0.25 * span), high + 0.35 * span)
    y_low, y_high = min(ys), max(ys)
    span = max(y_high - y_low, 0.02)
    axes.set_ylim(max(0.0, y_low - 0.3 * span), min(1.0, y_high + 0.3 * span) + 0.01)


def metric_bars(rows: list[dict[str, Any]], target: Path, image_format: str = "svg") -> Path:
    """Grouped bars per quality metric; below, for on-target pipelines, flash, RAM and
    instructions per inference."""
    metrics = [(key, label) for key, label in QUALITY_METRICS
               if all(r.get(key) is not None for r in rows)]
    on_target = [r for r in rows if r["timing"] == "target"]
    layout = [["quality", "quality", "quality"]]
    heights = [3.6]
    if on_target:
        layout.append(["flash", "ram", "instructions"])
        heights.append(0.35 * len(on_target) + 1.5)
    colours = _colours(len(rows))
    with style.mosaic(layout, 10.0, sum(heights) + 0.6, height_ratios=heights) as (fig, axes):
        quality = axes["quality"]
        width = 0.8 / len(rows)
        values = [r[key] for r in rows for key, _ in metrics]
        for i, (row, colour) in enumerate(zip(rows, colours, strict=True)):
            positions = [m + (i - (len(rows) - 1) / 2) * width for m in range(len(metrics))]
            quality.bar(positions, [row[key] for key, _ in metrics], width * 0.92,
                        color=colour, label=row["name"])
        quality.set_xticks(range(len(metrics)), [label for _, label in metrics])
        low = min(values) if values else 0.0
        quality.set_ylim(max(0.0, math.floor((low - 0.05) * 20) / 20), 1.0)
        quality.set_title("Quality metrics")
        quality.grid(axis="x", visible=False)
        quality.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1),
                       ncols=min(len(rows), 4), fontsize=8)
        if on_target:
            target_colours = [colours[rows.index(r)] for r in on_target]
            for name, key, label in (("flash", "flash_bytes", "flash"),
                                     ("ram", "ram_bytes", "RAM"),
                                     ("instructions", "instructions_mean",
                                      "instructions per inference")):
                _target_bars(axes[name], on_target, key, label, target_colours)
        return style.save(fig, target, image_format)


def _target_bars(axes: Any, rows: list[dict[str, Any]], key: str, label: str,
                 colours: list[str]) -> None:
    values = [r.get(key) or 0 for r in rows]
    axes.barh(range(len(rows)), values, color=colours, height=0.6)
    axes.invert_yaxis()
    axes.set_yticks(range(len(rows)), [r["name"] for r in rows], fontsize=8)
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    top = max(values) or 1
    axes.set_xlim(0, top * 1.45)
    for i, value in enumerate(values):
        text = short_bytes(value) if key.endswith("_bytes") else f"{value:,.0f}".replace(",", " ")
        axes.text(value + top * 0.02, i, text, va="center", fontsize=8)
    axes.xaxis.set_major_locator(MaxNLocator(3))
    axes.xaxis.set_major_formatter(FuncFormatter(
        (lambda v, _: short_bytes(v)) if key.endswith("_bytes") else (lambda v, _: f"{v:,.0f}")))
    axes.set_title(label)
    axes.grid(axis="y", visible=False)
    if key != "flash_bytes":  # the panels share their rows: names on the first one only
        axes.tick_params(labelleft=False)


def per_class_f1(rows: list[dict[str, Any]], class_names: list[str], target: Path,
                 image_format: str = "svg") -> Path:
    """Heat map of F1 per (pipeline, class); blank where a pipeline has no such class."""
    import numpy as np

    data = np.full((len(rows), len(class_names)), np.nan)
    for i, row in enumerate(rows):
        for j, name in enumerate(class_names):
            value = (row.get("per_class_f1") or {}).get(name)
            if value is not None:
                data[i, j] = value
    width = min(12.0, max(5.5, 0.55 * len(class_names) + 3.0))
    height = 0.42 * len(rows) + 1.6
    with style.figure(width, height) as (fig, axes):
        finite = data[np.isfinite(data)]
        low = float(finite.min()) if finite.size else 0.0
        image = axes.imshow(np.ma.masked_invalid(data), cmap="Blues",
                            vmin=min(low, 0.8), vmax=1.0, aspect="auto",
                            interpolation="nearest")
        axes.grid(False)
        axes.set_xticks(range(len(class_names)), class_names,
                        rotation=90 if len(class_names) > 12 else 0, fontsize=8)
        axes.set_yticks(range(len(rows)), [r["name"] for r in rows], fontsize=8.5)
        axes.set_xlabel("class")
        axes.set_title("F1 per class")
        for spine in axes.spines.values():
            spine.set_visible(False)
        if len(class_names) <= 20:
            threshold = (min(low, 0.8) + 1.0) / 2
            for (i, j), value in np.ndenumerate(data):
                if np.isfinite(value):
                    axes.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7.5,
                              color="white" if value > threshold else "#1d2228")
        bar = fig.colorbar(image, ax=axes, fraction=0.03, pad=0.02)
        bar.outline.set_visible(False)
        return style.save(fig, target, image_format)
