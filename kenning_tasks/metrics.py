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


# --- Anomaly detection -------------------------------------------------------------------
# A model's I/O spec says how its output becomes an anomaly decision:
#   {"anomaly": {"score": "distance", "threshold": t}}  one output: anomaly when score > t
#                                                        (the threshold chosen on the train split)
#   {"anomaly": {"score": "logits"}}                     two outputs: anomaly when the second wins


def anomaly_score(scores: np.ndarray, spec: dict[str, Any]) -> np.ndarray:
    """One continuous score per sample, higher meaning more anomalous."""
    kind = spec["anomaly"]["score"]
    if kind == "distance":
        return scores.reshape(len(scores), -1)[:, 0].astype(np.float64)
    if kind == "logits":
        return (scores[:, 1] - scores[:, 0]).astype(np.float64)
    raise ValueError(f"unknown anomaly score kind {kind!r}")


def class_scores(scores: np.ndarray, spec: dict[str, Any]) -> np.ndarray:
    """Per-class scores whose argmax is the model's decision (distances become two columns)."""
    if "anomaly" not in spec or spec["anomaly"]["score"] != "distance":
        return scores
    margin = anomaly_score(scores, spec) - spec["anomaly"]["threshold"]
    # A distance equal to the threshold is normal (Kenning: distance > threshold).
    return np.stack([-margin, margin], axis=1)


def anomaly_metrics(y_true: np.ndarray, scores: np.ndarray, spec: dict[str, Any],
                    smoothing_window_size: int = 10) -> dict[str, Any]:
    """Precision/recall/F1 of the anomaly class, ROC-AUC, PR-AUC and metrics per threshold.

    ``y_true`` and ``scores`` must be in time order (the time-block split keeps them so).
    ROC-AUC and PR-AUC (average precision) rank the continuous anomaly score; they are None when
    the test split holds a single class.
    """
    from sklearn.metrics import average_precision_score, roc_auc_score

    score = anomaly_score(scores, spec)
    predicted = class_scores(scores, spec).argmax(axis=1)
    truth = np.asarray(y_true) > 0
    anomaly = predicted > 0
    tp = int(np.sum(anomaly & truth))
    fp = int(np.sum(anomaly & ~truth))
    fn = int(np.sum(~anomaly & truth))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    both = bool(truth.any() and (~truth).any())
    return {
        "anomaly_metrics": {
            "precision": precision,
            "recall": recall,
            "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
            "accuracy": float(np.mean(anomaly == truth)),
            "roc_auc": float(roc_auc_score(truth, score)) if both else None,
            "pr_auc": float(average_precision_score(truth, score)) if both else None,
            "score": spec["anomaly"]["score"],
            "threshold": spec["anomaly"].get("threshold"),
            "anomalies": int(truth.sum()),
            "samples": len(truth),
        },
        "metrics_per_threshold": metrics_per_threshold(truth, anomaly, smoothing_window_size),
    }


def metrics_per_threshold(truth: np.ndarray, predicted: np.ndarray,
                          smoothing_window_size: int = 10,
                          threshold_number: int = 20) -> dict[str, dict[str, float]]:
    """Kenning's ``metrics_per_threshold``: detection quality of a smoothed alarm signal.

    As Kenning's AnomalyDetectionInferenceLoop: the time-ordered samples are cut into runs of
    equal ground truth; within a run the alarm score is the share of anomaly predictions among
    the last ``smoothing_window_size`` samples (the window starts empty at each run). For each
    threshold 1/N, 2/N, ... 1 a run raises an alarm when its score reaches the threshold:
    ``fdr`` = detected anomalous runs / anomalous runs, ``far`` = false alarms / all alarms,
    ``add`` = mean samples from the start of an anomalous run to its alarm.
    """
    truth = np.asarray(truth, dtype=bool)
    predicted = np.asarray(predicted, dtype=bool)
    runs: list[tuple[bool, np.ndarray]] = []
    start = 0
    for index in range(1, len(truth) + 1):
        if index == len(truth) or truth[index] != truth[start]:
            hits = predicted[start:index].astype(np.float64)
            window = np.convolve(hits, np.ones(smoothing_window_size))[: len(hits)]
            runs.append((bool(truth[start]), window / smoothing_window_size))
            start = index
    result: dict[str, dict[str, float]] = {}
    for step in range(1, threshold_number + 1):
        threshold = step / threshold_number
        expected = detected = false_alarms = 0
        delays: list[int] = []
        for anomalous, score in runs:
            crossed = np.flatnonzero(score >= threshold - 1e-12)
            expected += anomalous
            if crossed.size and anomalous:
                detected += 1
                delays.append(int(crossed[0]))
            elif crossed.size:
                false_alarms += 1
        result[str(threshold)] = {
            "fdr": detected / expected if expected else 1.0,
            "far": false_alarms / (detected + false_alarms) if detected + false_alarms else 0.0,
            "add": sum(delays) / len(delays) if delays else 0.0,
        }
    return result
