"""matplotlib figures for the report (Agg backend, fixed metadata so PNG bytes are stable)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kenning_tasks import artifacts

_PNG_METADATA = {"Software": None}  # no matplotlib version/date in the file


def _save(figure: Any, target: Path) -> None:
    import matplotlib.pyplot as plt

    with artifacts.atomic_path(target) as tmp:
        figure.savefig(tmp, format="png", dpi=100, metadata=_PNG_METADATA)
    plt.close(figure)


def confusion_matrix(matrix: list[list[int]], class_names: list[str], target: Path) -> None:
    import numpy as np

    data = np.asarray(matrix)
    figure, axes = _figure((5, 4.5))
    image = axes.imshow(data, cmap="Blues")
    axes.set_xticks(range(len(class_names)), class_names)
    axes.set_yticks(range(len(class_names)), class_names)
    axes.set_xlabel("predicted")
    axes.set_ylabel("actual")
    threshold = data.max() / 2 if data.size else 0
    for (row, col), value in np.ndenumerate(data):
        axes.text(col, row, str(value), ha="center", va="center", fontsize=7,
                  color="white" if value > threshold else "black")
    figure.colorbar(image, ax=axes)
    figure.tight_layout()
    _save(figure, target)


def latency_histogram(seconds: list[float], target: Path, unit_label: str = "µs",
                      scale: float = 1e6) -> None:
    from matplotlib.ticker import MaxNLocator

    figure, axes = _figure()
    axes.hist([s * scale for s in seconds], bins=40, color="#4477aa")
    axes.xaxis.set_major_locator(MaxNLocator(5))  # long tick labels must not overlap
    axes.set_xlabel(f"inference time [{unit_label}]")
    axes.set_ylabel("samples")
    figure.tight_layout()
    _save(figure, target)


def latency_over_time(seconds: list[float], target: Path, unit_label: str = "µs",
                      scale: float = 1e6) -> None:
    figure, axes = _figure()
    axes.plot([s * scale for s in seconds], linewidth=0.8, color="#4477aa")
    axes.set_xlabel("sample")
    axes.set_ylabel(f"inference time [{unit_label}]")
    figure.tight_layout()
    _save(figure, target)


def _figure(size: tuple[float, float] = (5, 3)) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")  # no display: render to files only
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=size)
