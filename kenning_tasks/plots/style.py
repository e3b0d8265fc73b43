"""How every figure looks and how it is saved: one style, crisp output, stable bytes.

Figures are SVG by default (vector: sharp at any zoom and on high-DPI screens) or PNG at
``PNG_DPI`` (2× a 100-dpi layout) when a scenario's report asks for PNG only. Either way the
bytes are a function of the data: no date, no software version, and SVG element ids derived
from a fixed salt (``svg.hashsalt``) instead of random ones. Glyphs are stored as paths, so a
figure looks the same on a machine without the font.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from kenning_tasks import artifacts

# Paul Tol's colour-blind-safe "bright" palette, then greys.
PALETTE = ("#4477AA", "#EE6677", "#228833", "#CCBB44", "#66CCEE", "#AA3377", "#BBBBBB",
           "#000000")
BLUE, RED, GREEN, YELLOW, CYAN, PURPLE, GREY = PALETTE[:7]
PASS_COLOUR, WARN_COLOUR, FAIL_COLOUR = "#228833", "#EE7733", "#CC3311"
STATUS_COLOURS = {"ran": BLUE, "restored": GREEN, "up-to-date": GREY, "failed": FAIL_COLOUR,
                  "ignored": "#DDDDDD", "not-run": "#DDDDDD"}
PNG_DPI = 200
FORMATS = ("svg", "png")

RC: dict[str, Any] = {
    "svg.hashsalt": "kenning-tasks",  # deterministic ids instead of uuid4-based ones
    "svg.fonttype": "path",
    "font.family": "DejaVu Sans",     # shipped with matplotlib: same metrics everywhere
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#666666",
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#E6E6E6",
    "grid.linewidth": 0.7,
    "xtick.color": "#444444",
    "ytick.color": "#444444",
    "legend.frameon": False,
    "legend.fontsize": 9,
    "figure.dpi": 100,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "image.cmap": "Blues",
    "lines.linewidth": 1.6,
    "path.simplify": True,
}


@contextlib.contextmanager
def figure(width: float, height: float, **subplots: Any) -> Iterator[tuple[Any, Any]]:
    """A figure (inches) under the report style; closed on exit. Yields (figure, axes)."""
    import matplotlib

    matplotlib.use("Agg")  # no display: render to files only
    import matplotlib.pyplot as plt

    with matplotlib.rc_context(RC):
        fig, axes = plt.subplots(figsize=(width, height), layout="constrained", **subplots)
        try:
            yield fig, axes
        finally:
            plt.close(fig)


@contextlib.contextmanager
def mosaic(layout: list[list[str]], width: float, height: float, **options: Any
           ) -> Iterator[tuple[Any, dict[str, Any]]]:
    """A figure of named panels (``subplot_mosaic``); yields (figure, {name: axes})."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with matplotlib.rc_context(RC):
        fig = plt.figure(figsize=(width, height), layout="constrained")
        try:
            yield fig, fig.subplot_mosaic(layout, **options)
        finally:
            plt.close(fig)


def save(fig: Any, target: Path, image_format: str = "svg") -> Path:
    """Write ``fig`` to ``target`` atomically, in ``image_format`` (svg or png)."""
    import matplotlib

    buffer = io.BytesIO()
    with matplotlib.rc_context(RC):
        if image_format == "svg":
            fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
        elif image_format == "png":
            fig.savefig(buffer, format="png", dpi=PNG_DPI, metadata={"Software": None})
        else:
            raise ValueError(f"unknown image format {image_format!r}; allowed: svg, png")
    return artifacts.write_bytes(target, buffer.getvalue())


def note(axes: Any, text: str) -> None:
    """An empty panel that says why it is empty."""
    axes.axis("off")
    axes.text(0.5, 0.5, text, ha="center", va="center", color="#666666",
              transform=axes.transAxes, wrap=True)


def wide_spread(values: Sequence[float], ratio: float = 20.0) -> bool:
    """True when the values span more than ``ratio``×: a log axis then shows them all."""
    positive = [v for v in values if v > 0]
    return bool(positive) and max(positive) / min(positive) > ratio


def log_bins(low: float, high: float, count: int) -> list[float]:
    low = max(low, 1e-12)
    high = max(high, low * 1.0001)
    step = (math.log10(high) - math.log10(low)) / count
    return [10 ** (math.log10(low) + i * step) for i in range(count + 1)]


def linear_bins(values: Sequence[float], count: int, quantum: float | None = None
                ) -> list[float]:
    """``count`` equal bins over the values; with ``quantum`` (e.g. one instruction) bin
    edges sit between whole quanta, so discrete values never straddle an edge."""
    low, high = min(values), max(values)
    if quantum:
        steps = max(1, math.ceil((high - low) / quantum / count + 1e-9))
        width = steps * quantum
        start = low - quantum / 2
        edges = [start]
        while edges[-1] < high:
            edges.append(edges[-1] + width)
        return edges if len(edges) > 1 else [start, start + width]
    if high == low:
        return [low - 0.5, low + 0.5]
    width = (high - low) / count
    return [low + i * width for i in range(count + 1)]


def label_bars(axes: Any, bars: Any, labels: Sequence[str], inside_fraction: float = 0.6
               ) -> None:
    """Write ``labels`` at the end of horizontal bars (inside long bars, outside short ones)."""
    limit = axes.get_xlim()[1]
    for bar, label in zip(bars, labels, strict=True):
        width = bar.get_width()
        inside = width > inside_fraction * limit
        axes.text(width - limit * 0.01 if inside else width + limit * 0.01,
                  bar.get_y() + bar.get_height() / 2, label, va="center",
                  ha="right" if inside else "left", fontsize=8.5,
                  color="white" if inside else "#333333")


def plain_log_axis(axis: Any) -> None:
    """Log-scale tick labels as plain numbers (0.05, 0.1, 0.2) instead of powers of ten."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_formatter(NullFormatter())


def spread_labels(positions: Sequence[float], gap: float) -> list[float]:
    """Positions moved apart (in order) so neighbours are at least ``gap`` apart."""
    order = sorted(range(len(positions)), key=lambda i: positions[i])
    placed = list(positions)
    for previous, current in itertools.pairwise(order):
        placed[current] = max(placed[current], placed[previous] + gap)
    return placed
