"""ROC and precision-recall curves of a binary or anomaly task's continuous score.

The report draws them; measurements.json keeps only the curves' corners (at most
``MAX_POINTS`` each, rounded to 6 decimals), never the per-sample scores.
"""

from __future__ import annotations

from typing import Any

import numpy as np

MAX_POINTS = 400


def score_curves(y_true: np.ndarray, scores: np.ndarray, spec: dict[str, Any],
                 class_names: list[str]) -> dict[str, Any]:
    """``{"score_curves": {...}}`` for an anomaly or two-class task, else ``{}``.

    ``scores``: the model's per-sample outputs (dequantized). The positive class is the
    second one (the anomaly).
    """
    from sklearn.metrics import (
        average_precision_score,
        precision_recall_curve,
        roc_auc_score,
        roc_curve,
    )

    from kenning_tasks import metrics

    if "anomaly" in spec:
        score = metrics.anomaly_score(scores, spec)
        kind = f"anomaly score ({spec['anomaly']['score']})"
    elif len(class_names) == 2 and scores.ndim == 2 and scores.shape[1] == 2:
        score = scores[:, 1].astype(np.float64) - scores[:, 0].astype(np.float64)
        kind = f"{class_names[1]} minus {class_names[0]} output"
    else:
        return {}
    truth = np.asarray(y_true) > 0
    if truth.all() or not truth.any():
        return {}  # one class only: no curve
    fpr, tpr, _ = roc_curve(truth, score, drop_intermediate=True)
    precision, recall, _ = precision_recall_curve(truth, score)
    keep = np.r_[True, np.diff(recall) != 0] | np.r_[np.diff(recall) != 0, True]
    return {"score_curves": {
        "score": kind,
        "positive": class_names[1] if len(class_names) > 1 else "positive",
        "prevalence": float(truth.mean()),
        "roc_auc": float(roc_auc_score(truth, score)),
        "pr_auc": float(average_precision_score(truth, score)),
        "roc": _points({"fpr": fpr, "tpr": tpr}),
        "pr": _points({"recall": recall[keep][::-1], "precision": precision[keep][::-1]}),
    }}


def _points(columns: dict[str, np.ndarray]) -> dict[str, list[float]]:
    length = len(next(iter(columns.values())))
    if length > MAX_POINTS:
        index = np.unique(np.linspace(0, length - 1, MAX_POINTS).round().astype(int))
    else:
        index = np.arange(length)
    return {name: [round(float(v), 6) for v in values[index]]
            for name, values in columns.items()}
