"""Hand-made measurement files for the report tests: one per kind of pipeline.

The values have the shape and keys the evaluate stage writes (``stages/evaluate.py``,
``kenning_measurements.py``, ``metrics.py``), drawn from a seeded generator so every test
sees the same numbers.
"""

from __future__ import annotations

import copy
import random
from typing import Any

DIGITS = [str(d) for d in range(10)]


def _confusion(classes: int, per_class: int, errors: int, rng: random.Random) -> list[list[int]]:
    matrix = [[0] * classes for _ in range(classes)]
    for row in range(classes):
        matrix[row][row] = per_class
    for _ in range(errors):
        row, col = rng.randrange(classes), rng.randrange(classes)
        if row != col and matrix[row][row] > 1:
            matrix[row][row] -= 1
            matrix[row][col] += 1
    return matrix


def _classification(matrix: list[list[int]], names: list[str]) -> dict[str, Any]:
    classes = len(names)
    total = sum(map(sum, matrix))
    per_class = {}
    precisions, recalls = [], []
    for i, name in enumerate(names):
        tp = matrix[i][i]
        predicted = sum(matrix[r][i] for r in range(classes))
        actual = sum(matrix[i])
        precision = tp / predicted if predicted else 0.0
        recall = tp / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[name] = {"precision": precision, "recall": recall, "f1": f1,
                           "support": actual}
        precisions.append(precision)
        recalls.append(recall)
    g_mean = 1.0
    for r in recalls:
        g_mean *= r
    accuracy = sum(matrix[i][i] for i in range(classes)) / total
    return {
        "accuracy": accuracy, "top_1_accuracy": accuracy,
        **({"top_2_accuracy": min(1.0, accuracy + 0.02)} if classes > 2 else {}),
        **({"top_5_accuracy": 1.0} if classes > 5 else {}),
        "mean_precision": sum(precisions) / classes, "mean_sensitivity": sum(recalls) / classes,
        "g_mean": g_mean ** (1 / classes), "per_class": per_class,
        "confusion_matrix": matrix, "eval_confusion_matrix": matrix,
        "class_names": names, "samples": total,
    }


def _timing(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    mean = sum(times) / len(times)
    return {"first": times[0], "mean": mean, "median": ordered[len(ordered) // 2],
            "std": (sum((t - mean) ** 2 for t in times) / len(times)) ** 0.5,
            "p95": ordered[int(0.95 * (len(ordered) - 1))], "min": ordered[0],
            "max": ordered[-1]}


def _common(name: str, matrix: list[list[int]], names: list[str], times: list[float],
            platform: str, runtime: str) -> dict[str, Any]:
    return {
        "scenario": name,
        **_classification(matrix, names),
        "inference_time_s": _timing(times),
        "inference_times_s": times,
        "target_inference_step": times,
        "model_size_bytes": 9384, "compiled_model_size": 9384, "model_format": "tflite",
        "runtime": runtime, "platform": platform,
        "tool_versions": {"numpy": "2.4.6", "tensorflow-cpu": "2.21.0"},
        "host": {"python": "3.11.7", "machine": "x86_64"},
        "resolved_scenario": {"dataset": {"type": "DigitsDataset", "parameters": {"seed": 1}},
                              "platform": {"type": platform, "parameters": {}}},
        "command": ["kenning-tasks run \\", "    scenario=" + name + " \\", "    report"],
        "model_name": name,
    }


def host_classification(name: str = "digits-host", samples_per_class: int = 12,
                        seed: int = 1) -> dict[str, Any]:
    """A 10-class host pipeline: wall-clock times with a slow first inference, CPU/memory."""
    rng = random.Random(seed)
    matrix = _confusion(10, samples_per_class, 6, rng)
    count = 10 * samples_per_class
    times = [3.3e-3] + [rng.lognormvariate(-11.8, 0.25) for _ in range(count - 1)]
    m = _common(name, matrix, DIGITS, times, "HostPlatform", "TFLiteRuntime")
    steps = 12
    m.update({
        "session_utilization_timestamp": [i * 0.05 for i in range(steps)],
        "session_utilization_cpus_percent": [[rng.uniform(40, 100), rng.uniform(0, 30)]
                                             for _ in range(steps)],
        "session_utilization_mem_percent": [41.0 + rng.uniform(0, 0.3) for _ in range(steps)],
        "runtime_measurements": {"num_threads": 1},
    })
    return m


def anomaly_detection(name: str = "csv-anomaly", samples: int = 80, seed: int = 2
                      ) -> dict[str, Any]:
    """A two-class anomaly pipeline with Kenning's anomaly metrics and score curves."""
    rng = random.Random(seed)
    matrix = [[samples // 2 - 4, 4], [6, samples // 2 - 6]]
    times = [rng.uniform(4e-6, 6e-6) for _ in range(samples)]
    m = _common(name, matrix, ["normal", "anomaly"], times, "HostPlatform", "TFLiteRuntime")
    m["anomaly_metrics"] = {"precision": 0.9, "recall": 0.85, "f1": 0.874, "accuracy": 0.875,
                            "roc_auc": 0.93, "pr_auc": 0.9, "score": "distance",
                            "threshold": 0.4213, "anomalies": samples // 2, "samples": samples}
    m["metrics_per_threshold"] = {str(t / 20): {"fdr": max(0.0, 1 - t / 25), "far": 0.3 / t,
                                                "add": t / 4}
                                  for t in range(1, 21)}
    fpr = [0.0, 0.0, 0.05, 0.1, 0.2, 0.4, 1.0]
    tpr = [0.0, 0.4, 0.7, 0.85, 0.9, 0.97, 1.0]
    m["score_curves"] = {"score": "anomaly score (distance)", "positive": "anomaly",
                         "prevalence": 0.5, "roc_auc": 0.93, "pr_auc": 0.9,
                         "roc": {"fpr": fpr, "tpr": tpr},
                         "pr": {"recall": [0.0, 0.4, 0.7, 0.85, 1.0],
                                "precision": [1.0, 1.0, 0.93, 0.89, 0.5]}}
    return m


def on_target(name: str = "digits-m4", samples_per_class: int = 6, agreement: float = 1.0,
              flash_bytes: int = 18421, flash_limit: int = 4194304, seed: int = 3
              ) -> dict[str, Any]:
    """An on-target pipeline: exact instruction counts shown at 1 ns per instruction."""
    rng = random.Random(seed)
    matrix = _confusion(10, samples_per_class, 3, rng)
    count = 10 * samples_per_class
    instructions = [73_400 + rng.randrange(-300, 300) for _ in range(count)]
    times = [n / 1e9 for n in instructions]
    m = _common(name, matrix, DIGITS, times, "QEMUPlatform", "MicroInt8Runtime")
    m["on_target"] = {
        "board": "mps2-an386", "agreement_with_host": agreement,
        "host_accuracy": m["accuracy"],
        "target_instructions": {"mean": sum(instructions) / count, "min": min(instructions),
                                "max": max(instructions), "unit": "instructions"},
        "macs": 25408, "instructions_per_mac": sum(instructions) / count / 25408,
        "flash_bytes": flash_bytes, "ram_bytes": 11264, "flash_limit_bytes": flash_limit,
        "ram_limit_bytes": 4194304, "arena_bytes": 888, "uart_bytes_sent": 6120,
        "uart_bytes_received": 3370, "toolchain": "arm-none-eabi-gcc 12.2.1",
        "timing_basis": "exact QEMU instruction counts (-icount, SysTick restarted per "
                        "inference), shown at 1 ns per instruction",
    }
    return m


def firmware(per_op: bool = False, symbols: bool = False, flash_bytes: int = 18421,
             memory: bool = False) -> dict[str, Any]:
    """firmware.json; ``memory``: the firmware stage's ELF breakdown (regions from section
    flags, symbols with their regions) instead of the bare ``sections`` and ``symbols``."""
    info: dict[str, Any] = {
        "board": "mps2-an386", "display_name": "Arm MPS2 AN386 (Cortex-M4F, QEMU)",
        "flash_bytes": flash_bytes, "ram_bytes": 11264, "flash_limit_bytes": 4194304,
        "ram_limit_bytes": 4194304, "arena_bytes": 888, "macs": 25408,
        "sections": {".bss": 3072, ".rodata": 9625, ".stack": 8192, ".text": 8604,
                     ".vectors": 192},
        "ops": ["CONV_2D", "MAX_POOL_2D", "CONV_2D", "MAX_POOL_2D", "RESHAPE",
                "FULLY_CONNECTED", "FULLY_CONNECTED", "SOFTMAX"],
    }
    if per_op:
        counts = [(18_000, 10_368), (2_100, 0), (41_000, 10_368), (900, 0), (40, 0),
                  (9_800, 4_096), (1_300, 320), (300, 0)]
        info["per_op"] = [{"index": i, "op": op, "instructions": n, "macs": macs}
                          for i, (op, (n, macs)) in enumerate(zip(info["ops"], counts,
                                                                  strict=True))]
    if memory:
        info["memory"] = {
            "flash": {"bytes": flash_bytes, "sections": {".vectors": 192, ".text": 8604,
                                                         ".rodata": 9561, ".data": 64}},
            "ram": {"bytes": 11264, "sections": {".data": 64, ".bss": 3008, ".stack": 8192}},
            "symbols": [{"name": "model_weights", "section": ".rodata", "bytes": 8960,
                         "regions": ["flash"]},
                        {"name": "kt_arena", "section": ".bss", "bytes": 888,
                         "regions": ["ram"]},
                        {"name": "kt_state", "section": ".data", "bytes": 64,
                         "regions": ["flash", "ram"]}]}
    if symbols:
        info["symbols"] = [
            {"name": "kt_weights_dense_0", "bytes": 4096, "section": ".rodata",
             "region": "flash"},
            {"name": "kt_arena", "bytes": 888, "section": ".bss", "region": "ram"},
            {"name": "kt_conv2d_s8_fast", "bytes": 1480, "section": ".text", "region": "flash"},
            {"name": "kt_weights_conv_1", "bytes": 1152, "section": ".rodata",
             "region": "flash"},
            {"name": "_stack", "bytes": 8192, "section": ".stack", "region": "ram"},
        ]
    return info


def training_history(epochs: int = 6) -> dict[str, Any]:
    loss = [1.8 / (1 + 1.5 * e) for e in range(epochs)]
    return {"history": {"loss": loss, "val_loss": [v * 1.3 for v in loss],
                        "accuracy": [1 - v / 2 for v in loss],
                        "val_accuracy": [1 - v / 2.6 for v in loss]}}


def gates(passed: bool = True) -> dict[str, Any]:
    entries = [{"metric": "accuracy", "comparison": ">= 0.9", "value": 0.95, "passed": True,
                "problem": None, "default": False},
               {"metric": "on_target.agreement_with_host", "comparison": "== 1.0",
                "value": 1.0 if passed else 0.1486, "passed": passed, "problem": None,
                "default": True}]
    return {"scenario": "digits-m4", "passed": passed, "failed": 0 if passed else 1,
            "gates": entries}


def variant(m: dict[str, Any], name: str, scale: float) -> dict[str, Any]:
    """A copy of ``m`` for another pipeline: times scaled, size and accuracy nudged."""
    other = copy.deepcopy(m)
    other["scenario"] = other["model_name"] = name
    other["inference_times_s"] = [t * scale for t in m["inference_times_s"]]
    other["target_inference_step"] = other["inference_times_s"]
    other["inference_time_s"] = {k: v * scale for k, v in m["inference_time_s"].items()}
    other["model_size_bytes"] = other["compiled_model_size"] = int(m["model_size_bytes"] * scale)
    other["accuracy"] = max(0.0, m["accuracy"] - 0.01 * scale)
    return other
