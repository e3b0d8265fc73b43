"""Classification and timing measurements, with Kenning's names."""

from __future__ import annotations

from typing import Any

import numpy as np


def classification_metrics(y_true: np.ndarray, scores: np.ndarray,
                           class_names: list[str]) -> dict[str, Any]:
    """Accuracy, top-k, per-class precision/recall/F1, mean precision/sensitivity, G-mean."""
    classes = len(class_names)
    predictions = scores.argmax(axis=1)
    confusion = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(confusion, (y_true, predictions), 1)
    true_positives = np.diag(confusion).astype(np.float64)
    predicted = confusion.sum(axis=0).astype(np.float64)
    actual = confusion.sum(axis=1).astype(np.float64)
    precision = np.divide(true_positives, predicted, out=np.zeros(classes), where=predicted > 0)
    recall = np.divide(true_positives, actual, out=np.zeros(classes), where=actual > 0)
    denominator = precision + recall
    f1 = np.divide(2 * precision * recall, denominator, out=np.zeros(classes),
                   where=denominator > 0)
    # Stable descending order: ties keep the lower class index, as argmax does.
    ranked = np.argsort(-scores, axis=1, kind="stable")
    top_k = {f"top_{k}_accuracy": float(np.mean((ranked[:, :k] == y_true[:, None]).any(axis=1)))
             for k in (1, 2, 5) if k <= classes}
    present = actual > 0
    return {
        "accuracy": float(np.mean(predictions == y_true)),
        **top_k,
        "mean_precision": float(precision[present].mean()),
        "mean_sensitivity": float(recall[present].mean()),
        "g_mean": float(np.prod(recall[present]) ** (1.0 / present.sum())),
        "per_class": {name: {"precision": float(precision[i]), "recall": float(recall[i]),
                             "f1": float(f1[i]), "support": int(actual[i])}
                      for i, name in enumerate(class_names)},
        "confusion_matrix": confusion.tolist(),
        "class_names": class_names,
        "samples": len(y_true),
    }


def timing_summary(seconds: list[float]) -> dict[str, float]:
    """first/mean/median/std/p95/min/max of per-sample inference times, in seconds."""
    values = np.asarray(seconds, dtype=np.float64)
    return {
        "first": float(values[0]),
        "mean": float(values.mean()),
        "median": float(np.median(values)),
        "std": float(values.std()),
        "p95": float(np.percentile(values, 95)),
        "min": float(values.min()),
        "max": float(values.max()),
    }


def quantize(x: np.ndarray, spec: dict[str, Any]) -> np.ndarray:
    """Float input → the tensor's dtype, using its scale and zero point when quantized."""
    dtype = np.dtype(spec["dtype"])
    if spec["scale"] and dtype.kind in "iu":
        info = np.iinfo(dtype)
        q = np.round(x / spec["scale"]) + spec["zero_point"]
        return np.clip(q, info.min, info.max).astype(dtype)
    return x.astype(dtype)


def dequantize(y: np.ndarray, spec: dict[str, Any]) -> np.ndarray:
    if spec["scale"] and np.dtype(spec["dtype"]).kind in "iu":
        return (y.astype(np.float32) - spec["zero_point"]) * spec["scale"]
    return y.astype(np.float32)
