"""Classification figures: confusion matrices, ROC and precision-recall curves, and the
detection quality of an anomaly detector's alarm per threshold (Kenning's FDR/FAR/ADD)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kenning_tasks.plots import style

ANNOTATE_UP_TO = 20  # classes; beyond that the numbers would be unreadable


def classification_figure(confusion: list[list[int]], class_names: list[str], target: Path,
                          curves: dict[str, Any] | None = None,
                          per_threshold: dict[str, dict[str, float]] | None = None,
                          image_format: str = "svg") -> Path:
    """Confusion matrix (counts and normalised per true class); below it, when given, ROC
    and PR curves and the alarm quality per threshold."""
    classes = len(class_names)
    side = min(7.0, max(3.6, 0.42 * classes + 1.6))
    layout = [["counts", "normalised"]]
    heights = [side]
    if curves:
        layout.append(["roc", "pr"])
        heights.append(3.6)
    if per_threshold:
        layout.append(["rates", "delay"])
        heights.append(3.2)
    width = 2 * side + 0.8 if len(layout) == 1 else max(2 * side + 0.8, 9.5)
    with style.mosaic(layout, width, sum(heights) + 0.3,
                      height_ratios=heights) as (fig, axes):
        _confusion(fig, axes["counts"], confusion, class_names, normalised=False)
        _confusion(fig, axes["normalised"], confusion, class_names, normalised=True)
        if curves:
            _roc(axes["roc"], curves)
            _pr(axes["pr"], curves)
        if per_threshold:
            _rates(axes["rates"], per_threshold)
            _delay(axes["delay"], per_threshold)
        return style.save(fig, target, image_format)


def _confusion(fig: Any, axes: Any, confusion: list[list[int]], class_names: list[str],
               normalised: bool) -> None:
    import numpy as np

    counts = np.asarray(confusion, dtype=np.float64)
    totals = counts.sum(axis=1, keepdims=True)
    data = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0) * 100 \
        if normalised else counts
    top = 100.0 if normalised else max(float(data.max()), 1.0)
    image = axes.imshow(data, cmap="Blues", vmin=0, vmax=top, interpolation="nearest")
    axes.grid(False)
    ticks = range(len(class_names))
    small = len(class_names) > 12
    axes.set_xticks(ticks, class_names, rotation=90 if small else 0,
                    fontsize=7 if small else 9)
    axes.set_yticks(ticks, class_names, fontsize=7 if small else 9)
    axes.set_xlabel("predicted class")
    axes.set_ylabel("true class")
    axes.set_title("Confusion matrix: share of each true class [%]" if normalised
                   else "Confusion matrix: samples")
    for spine in axes.spines.values():
        spine.set_visible(False)
    if len(class_names) <= ANNOTATE_UP_TO:
        size = 8 if len(class_names) > 10 else 9
        for (row, col), value in np.ndenumerate(data):
            if not normalised and value == 0:
                continue
            text = f"{value:.0f}" if normalised or value == int(value) else f"{value:.1f}"
            if normalised and counts[row, col] == 0:
                continue
            axes.text(col, row, text, ha="center", va="center", fontsize=size,
                      color="white" if value > 0.55 * top else "#1d2228")
    bar = fig.colorbar(image, ax=axes, fraction=0.046, pad=0.03)
    bar.outline.set_visible(False)


def _roc(axes: Any, curves: dict[str, Any]) -> None:
    roc = curves["roc"]
    axes.plot([0, 1], [0, 1], linestyle="--", color=style.GREY, linewidth=1, label="chance")
    label = "ROC" + (f" (AUC {curves['roc_auc']:.4f})" if curves.get("roc_auc") is not None
                     else "")
    axes.plot(roc["fpr"], roc["tpr"], color=style.BLUE, label=label)
    axes.set_xlim(-0.01, 1.01)
    axes.set_ylim(-0.01, 1.02)
    axes.set_xlabel("false positive rate")
    axes.set_ylabel("true positive rate")
    axes.set_title(f"ROC curve ({curves.get('positive', 'positive class')})")
    axes.legend(loc="lower right")


def _pr(axes: Any, curves: dict[str, Any]) -> None:
    pr = curves["pr"]
    prevalence = curves.get("prevalence")
    if prevalence is not None:
        axes.axhline(prevalence, linestyle="--", color=style.GREY, linewidth=1,
                     label=f"chance ({prevalence:.3f})")
    label = "precision-recall" + (f" (AP {curves['pr_auc']:.4f})"
                                  if curves.get("pr_auc") is not None else "")
    axes.plot(pr["recall"], pr["precision"], color=style.RED, label=label)
    axes.set_xlim(-0.01, 1.01)
    axes.set_ylim(-0.01, 1.02)
    axes.set_xlabel("recall")
    axes.set_ylabel("precision")
    axes.set_title("Precision-recall curve")
    axes.legend(loc="lower left")


def _thresholds(per_threshold: dict[str, dict[str, float]]) -> tuple[list[float], list[dict]]:
    items = sorted((float(k), v) for k, v in per_threshold.items())
    return [k for k, _ in items], [v for _, v in items]


def _rates(axes: Any, per_threshold: dict[str, dict[str, float]]) -> None:
    thresholds, values = _thresholds(per_threshold)
    axes.plot(thresholds, [v["fdr"] for v in values], marker="o", markersize=3,
              color=style.GREEN, label="fault detection rate (FDR)")
    axes.plot(thresholds, [v["far"] for v in values], marker="o", markersize=3,
              color=style.RED, label="false alarm rate (FAR)")
    axes.set_ylim(-0.02, 1.05)
    axes.set_xlabel("alarm threshold")
    axes.set_ylabel("rate")
    axes.set_title("Alarm quality per threshold")
    axes.legend(loc="best")


def _delay(axes: Any, per_threshold: dict[str, dict[str, float]]) -> None:
    thresholds, values = _thresholds(per_threshold)
    axes.plot(thresholds, [v["add"] for v in values], marker="o", markersize=3,
              color=style.PURPLE)
    axes.set_xlabel("alarm threshold")
    axes.set_ylabel("samples")
    axes.set_title("Average detection delay (ADD)")
    axes.set_ylim(bottom=0)
