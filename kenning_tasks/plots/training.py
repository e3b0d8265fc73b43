"""Training curves: one panel per quantity (loss, accuracy, ...), train solid and validation
dashed, the best validation epoch marked."""

from __future__ import annotations

from pathlib import Path

from kenning_tasks.plots import style

LOWER_IS_BETTER = ("loss", "error", "mse", "mae")


def quantities(history: dict[str, list[float]]) -> list[str]:
    """``loss``, ``accuracy``, ... in the history (``val_x`` belongs to ``x``), loss first."""
    names = sorted({key.removeprefix("val_") for key in history if history[key]})
    return sorted(names, key=lambda n: (not lower_is_better(n), n))


def lower_is_better(name: str) -> bool:
    return any(word in name for word in LOWER_IS_BETTER)


def best_epoch(history: dict[str, list[float]], name: str) -> int | None:
    """0-based epoch with the best validation (else training) value of ``name``."""
    values = history.get(f"val_{name}") or history.get(name)
    if not values:
        return None
    pick = min if lower_is_better(name) else max
    return values.index(pick(values))


def training_figure(history: dict[str, list[float]], target: Path,
                    image_format: str = "svg") -> Path:
    names = quantities(history)
    columns = min(len(names), 3) or 1
    rows = -(-len(names) // columns) or 1
    with style.figure(10.0 if columns > 1 else 6.0, 3.0 * rows + 0.3, nrows=rows,
                      ncols=columns, squeeze=False) as (fig, grid):
        panels = [axes for row in grid for axes in row]
        for axes, name in zip(panels, names, strict=False):
            train = history.get(name) or []
            val = history.get(f"val_{name}") or []
            if train:
                axes.plot(range(1, len(train) + 1), train, color=style.BLUE, label="train")
            if val:
                axes.plot(range(1, len(val) + 1), val, color=style.RED, linestyle="--",
                          label="validation")
            best = best_epoch(history, name)
            if best is not None:
                values = val or train
                axes.scatter([best + 1], [values[best]], color=style.RED if val else style.BLUE,
                             s=30, zorder=5, label=f"best (epoch {best + 1})")
            axes.set_xlabel("epoch")
            axes.set_title(name.replace("_", " "))
            if lower_is_better(name) and all(v > 0 for v in train + val) and \
                    style.wide_spread(train + val, 30):
                axes.set_yscale("log")
                style.plain_log_axis(axes.yaxis)
            axes.legend(fontsize=8)
        for axes in panels[len(names):]:
            axes.axis("off")
        if not names:
            style.note(panels[0], "no training history recorded")
        return style.save(fig, target, image_format)
