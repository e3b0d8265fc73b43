"""ROC and precision-recall curves of a binary or anomaly task's continuous score.

The report draws them; measurements.json keeps the curves (at most ``MAX_POINTS`` points
each, rounded to 6 decimals), never the per-sample scores. numpy only: the AUCs follow
scikit-learn's definitions (trapezoidal ROC AUC; average precision as the step sum).
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
    fpr, tpr, precision, recall = _rates(truth, score)
    return {"score_curves": {
        "score": kind,
        "positive": class_names[1] if len(class_names) > 1 else "positive",
        "prevalence": float(truth.mean()),
        "roc_auc": float(np.trapezoid(tpr, fpr)),
        # Average precision: precision at each threshold weighted by the recall it adds.
        "pr_auc": float(np.sum(np.diff(recall) * precision[1:])),
        "roc": _points({"fpr": fpr, "tpr": tpr}),
        "pr": _points({"recall": recall, "precision": precision}),
    }}


def _rates(truth: np.ndarray, score: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """FPR, TPR, precision and recall at every distinct threshold (highest first), starting
    from the empty selection; tied scores move together (sklearn's convention)."""
    order = np.argsort(-score, kind="stable")
    ordered, hits = score[order], truth[order].astype(np.float64)
    last_of_tie = np.r_[np.flatnonzero(np.diff(ordered)), len(ordered) - 1]
    tp = np.cumsum(hits)[last_of_tie]
    fp = (last_of_tie + 1) - tp
    positives, negatives = hits.sum(), len(hits) - hits.sum()
    fpr, tpr = np.r_[0.0, fp / negatives], np.r_[0.0, tp / positives]
    precision = np.r_[1.0, tp / (tp + fp)]
    recall = np.r_[0.0, tp / positives]
    return fpr, tpr, precision, recall


def _points(columns: dict[str, np.ndarray]) -> dict[str, list[float]]:
    length = len(next(iter(columns.values())))
    if length > MAX_POINTS:
        index = np.unique(np.linspace(0, length - 1, MAX_POINTS).round().astype(int))
    else:
        index = np.arange(length)
    return {name: [round(float(v), 6) for v in values[index]]
            for name, values in columns.items()}
