"""The keys and formats Kenning's own tools read from a measurements file.

``kenning report`` (v0.8.2: ``kenning/core/report.py``, ``kenning/core/metrics.py``,
``kenning/report/markdown_components/{performance,classification}_report.py`` and the header
template) reads, beside what the evaluate stage writes for this project:

- classification: ``eval_confusion_matrix`` (N×N, rows = true class), ``top_5_count``,
  ``total``, ``class_names`` and ``predictions`` as a list of ``{"target", "prediction"}``
  (Kenning computes ROC AUC and F1 from it);
- performance: ``target_inference_step`` (seconds per inference) with
  ``target_inference_step_timestamp``, and ``session_utilization_cpus_percent`` (per-core % per
  sample), ``session_utilization_mem_percent`` with ``session_utilization_timestamp``;
- the header: ``command`` (shell lines continued with backslashes), ``model_name``,
  ``model_framework`` / ``model_version``, ``optimizers`` (``compiler_framework`` /
  ``compiler_version``) and ``build_cfg``; ``compiled_model_size`` (bytes).

Timestamps are seconds since the start of the evaluation (Kenning stores absolute
``perf_counter`` values; its report only plots them). ``command`` is derived from the scenario,
never from the command line. This module writes those keys and computes the metrics a grid
search ranks by, under Kenning's names (``GRID_METRICS``).
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from kenning_tasks import kenning_names
from kenning_tasks.block import distribution_version

if TYPE_CHECKING:
    import numpy as np

    from kenning_tasks.scenario import BlockConfig, Scenario

# Metrics a grid search may rank by: Kenning's (compute_performance_metrics and
# compute_classification_metrics, v0.8.2, and the lower-case names of its documentation) and
# this project's.
GRID_METRICS: dict[str, str] = {
    **{f"inferencetime_{s}": f"Kenning: inference time {s} (s)"
       for s in ("mean", "std", "median", "min", "max")},
    **{f"session_utilization_mem_percent_{s}": f"Kenning: host memory use {s} (%)"
       for s in ("mean", "std", "median")},
    **{f"session_utilization_cpus_percent_avg_{s}": f"Kenning: host CPU use {s} (%)"
       for s in ("mean", "std", "median")},
    "Accuracy": "Kenning", "Mean precision": "Kenning", "Mean sensitivity": "Kenning",
    "G-mean": "Kenning", "Top-5 accuracy": "Kenning", "ROC AUC": "Kenning (two classes)",
    "F1 score": "Kenning (two classes)", "ROC AUC weighted": "Kenning (more classes)",
    "F1 score weighted": "Kenning (more classes)",
    "accuracy": "accuracy", "top_5_accuracy": "top-5 accuracy",
    "mean_precision": "mean precision", "mean_sensitivity": "mean sensitivity",
    "g_mean": "G-mean", "inference_time_mean": "mean inference time (s)",
    "model_size_bytes": "model size (bytes)",
}
HOST_ONLY_METRICS = tuple(m for m in GRID_METRICS if m.startswith("session_utilization"))

# Block -> (framework Kenning names, distribution whose version is reported).
FRAMEWORKS = {
    "KerasModel": ("tensorflow", "tensorflow-cpu"), "TorchModel": ("torch", "torch"),
    "TFLiteCompiler": ("tensorflow", "tensorflow-cpu"), "ONNXCompiler": ("onnx", "onnx"),
    "TVMCompiler": ("tvm", "apache-tvm"), "IREECompiler": ("iree", "iree-base-compiler"),
}
SAMPLE_PERIOD_S = 0.05  # CPU/memory sampling period during host evaluation


def command_of(scenario: Scenario) -> list[str]:
    """The command that rebuilds this pipeline's report, as argv (from the scenario, not the
    command line that ran it, so the file stays a function of its inputs)."""
    name = scenario.name.split("/", 1)[0] if scenario.variant else scenario.name
    return ["kenning-tasks", "run", f"scenario={name}", "report"]


def command_lines(argv: list[str]) -> list[str]:
    """Kenning's ``command`` layout (kenning.utils.class_loader.get_command): the shell lines of
    the command, continued with backslashes, which its report prints one per line."""
    program, *arguments = argv
    lines = [" ".join([program, *arguments[:1]]), *(f"    {a}" for a in arguments[1:])]
    return [line + " \\" for line in lines[:-1]] + lines[-1:]


def kenning_keys(scenario: Scenario, y_true: np.ndarray, scores: np.ndarray,
                 class_names: list[str], step_seconds: list[float],
                 step_timestamps: list[float] | None, utilization: dict[str, list[Any]],
                 model_size: int) -> dict[str, Any]:
    """The measurements Kenning's report and grid search read, for one pipeline."""
    import numpy as np

    classes = len(class_names)
    predicted = scores.argmax(axis=1)
    confusion = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(confusion, (y_true, predicted), 1)
    top = np.argsort(-scores, axis=1, kind="stable")[:, :5]
    if step_timestamps is None:  # target time: one inference after the other
        step_timestamps = np.cumsum(step_seconds).tolist()
    return {
        "command": command_lines(command_of(scenario)),
        "model_name": scenario.name.replace("/", "_").replace(" ", "_"),
        "build_cfg": build_cfg(scenario),
        "model_framework": _framework(scenario.model_wrapper)[0],
        "model_version": _framework(scenario.model_wrapper)[1],
        "optimizers": [dict(zip(("compiler_framework", "compiler_version"), _framework(o),
                                strict=True)) for o in scenario.optimizers],
        "compiled_model_size": model_size,
        "class_names": class_names,
        "eval_confusion_matrix": confusion.tolist(),
        "top_5_count": int((top == y_true[:, None]).any(axis=1).sum()),
        "total": len(y_true),
        "predictions": [{"target": int(t), "prediction": int(p)}
                        for t, p in zip(y_true, predicted, strict=True)],
        "target_inference_step": [float(s) for s in step_seconds],
        "target_inference_step_timestamp": [float(t) for t in step_timestamps],
        **utilization,
    }


def build_cfg(scenario: Scenario) -> dict[str, Any]:
    """The resolved scenario, with Kenning's dotted paths where a block carries its name."""
    def block(config: BlockConfig) -> dict[str, Any]:
        path = kenning_names.kenning_path(config.type_name)
        return {"type": path or f"{config.cls.__module__}.{config.type_name}",
                "parameters": config.parameters}

    cfg: dict[str, Any] = {
        "dataset": block(scenario.dataset), "model_wrapper": block(scenario.model_wrapper),
        "optimizers": [block(o) for o in scenario.optimizers],
        "runtime": block(scenario.runtime), "platform": block(scenario.platform)}
    if scenario.protocol is not None:
        cfg["protocol"] = block(scenario.protocol)
    return cfg


def _framework(config: BlockConfig) -> tuple[str, str]:
    framework, distribution = FRAMEWORKS.get(config.type_name, (config.type_name, ""))
    return framework, distribution_version(distribution) if distribution else ""


class SystemSampler:
    """Samples CPU (per core) and memory use with psutil while the host evaluates.

    ``with SystemSampler() as sampler:`` samples every ``period`` seconds in a thread, once at
    the start and once at the end; ``sampler.now()`` is the time since the start, the clock
    of every timestamp.
    """

    def __init__(self, period: float = SAMPLE_PERIOD_S) -> None:
        self.period = period
        self.cpus: list[list[float]] = []
        self.memory: list[float] = []
        self.timestamps: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="system-sampler", daemon=True)
        self._start = 0.0

    def __enter__(self) -> SystemSampler:
        import psutil

        psutil.cpu_percent(interval=None, percpu=True)  # the first call only sets a baseline
        self._start = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def now(self) -> float:
        return time.perf_counter() - self._start

    def _run(self) -> None:
        while not self._stop.wait(self.period if self.timestamps else 0.0):
            self._sample()

    def _sample(self) -> None:
        import psutil

        self.cpus.append([float(c) for c in psutil.cpu_percent(interval=None, percpu=True)])
        self.memory.append(float(psutil.virtual_memory().percent))
        self.timestamps.append(self.now())

    def measurements(self) -> dict[str, list[Any]]:
        return {"session_utilization_cpus_percent": self.cpus,
                "session_utilization_mem_percent": self.memory,
                "session_utilization_timestamp": self.timestamps}


def grid_metrics(measurements: dict[str, Any]) -> dict[str, float]:
    """The metrics of ``GRID_METRICS`` a pipeline's measurements give."""
    import numpy as np

    result: dict[str, float] = {}
    steps = measurements.get("target_inference_step") or measurements["inference_times_s"]
    for name, op in (("mean", np.mean), ("std", np.std), ("median", np.median),
                     ("min", np.min), ("max", np.max)):
        result[f"inferencetime_{name}"] = float(op(steps))
    memory = measurements.get("session_utilization_mem_percent")
    cpus = measurements.get("session_utilization_cpus_percent")
    for name, op in (("mean", np.mean), ("std", np.std), ("median", np.median)):
        if memory:
            result[f"session_utilization_mem_percent_{name}"] = float(op(memory))
        if cpus:
            averages = [float(np.mean(c)) for c in cpus]
            result[f"session_utilization_cpus_percent_avg_{name}"] = float(op(averages))
    result.update({
        "accuracy": measurements["accuracy"], "Accuracy": measurements["accuracy"],
        "mean_precision": measurements["mean_precision"],
        "Mean precision": measurements["mean_precision"],
        "mean_sensitivity": measurements["mean_sensitivity"],
        "Mean sensitivity": measurements["mean_sensitivity"],
        "g_mean": measurements["g_mean"], "G-mean": measurements["g_mean"],
        "inference_time_mean": measurements["inference_time_s"]["mean"],
        "model_size_bytes": measurements["model_size_bytes"],
    })
    if "top_5_count" in measurements:
        top5 = measurements["top_5_count"] / measurements["total"]
        result["Top-5 accuracy"] = result["top_5_accuracy"] = float(top5)
    result.update(_roc_f1(measurements.get("predictions") or []))
    return result


def _roc_f1(predictions: list[dict[str, int]]) -> dict[str, float]:
    """Kenning's ROC AUC and F1 from hard predictions (its compute_classification_metrics)."""
    if not predictions:
        return {}
    from sklearn.metrics import f1_score, roc_auc_score

    targets = [p["target"] for p in predictions]
    predicted = [p["prediction"] for p in predictions]
    classes = len(set(targets))
    if classes < 2:
        return {}
    if classes == 2:
        return {"ROC AUC": float(roc_auc_score(targets, predicted)),
                "F1 score": float(f1_score(targets, predicted))}
    if max(predicted) >= classes or max(targets) >= classes:
        return {}  # Kenning's one-hot encoding assumes the classes 0..N-1 all occur
    one_hot = [[1.0 if p == i else 0.0 for i in range(classes)] for p in predicted]
    return {"ROC AUC weighted": float(roc_auc_score(targets, one_hot, average="weighted",
                                                    multi_class="ovr")),
            "F1 score weighted": float(f1_score(targets, predicted, average="weighted"))}
