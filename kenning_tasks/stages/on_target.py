"""The on-target part of the evaluate stage: judge the model by what the board computed.

The target's outputs are compared with TFLite Micro's host interpreter on the same inputs
(``agreement_with_host``, expected 1.0): bit for bit on the int8 path, whose kernels follow
TFLite's reference integer arithmetic exactly; within ``float_agreement``'s tolerance on the
float32 path (same loops, but expf and FMA contraction may differ by ulps). The section says
which path ran (``numeric_path``) and how the board computes floats, and relates the
instruction counts to the model's MACs.
"""

from __future__ import annotations

import json
from typing import Any

from kenning_tasks.scenario import Scenario
from kenning_tasks.stages.base import StageContext


def target_stage(scenario: Scenario) -> str:
    return scenario.target_stages()[-1]  # "simulate" or "flash"


def evaluate_inputs(scenario: Scenario) -> list[str]:
    stage = target_stage(scenario)
    return [f"{stage}/target_outputs.npz", f"{stage}/target_run.json",
            "firmware/firmware.json"]


def host_outputs(model_path: Any, inputs: Any) -> Any:
    """TFLite Micro's host interpreter's raw outputs for inputs in the model's input dtype.

    The firmware's kernels follow TFLite's reference kernels, which is what TFLite Micro runs;
    LiteRT's default kernels (XNNPACK, LUT-based softmax) round some int8 operations
    differently, so they are not the arithmetic to compare against.
    """
    import numpy as np

    from kenning_tasks.codegen.reference import tflm_outputs

    return np.stack(tflm_outputs(model_path, list(inputs)))


def evaluate(ctx: StageContext, spec: dict[str, Any], x_test: Any
             ) -> tuple[Any, list[float], dict[str, Any]]:
    """Scores from the target, per-inference target time and the on-target measurements."""
    import numpy as np

    from kenning_tasks import metrics
    from kenning_tasks.datasets.base import load_splits

    stage = target_stage(ctx.scenario)
    with np.load(ctx.path(f"{stage}/target_outputs.npz")) as data:
        target_outputs, instructions = data["outputs"], data["instructions"]
        op_counts = data["op_counts"] if "op_counts" in data.files else np.zeros(0, np.int64)
    run = json.loads(ctx.path(f"{stage}/target_run.json").read_text())
    firmware = json.loads(ctx.path("firmware/firmware.json").read_text())
    input_spec, output_spec = spec["input"][0], spec["output"][0]
    quantized = [metrics.quantize(sample[np.newaxis], input_spec) for sample in x_test]
    host = host_outputs(ctx.path(ctx.scenario.model_file("compile")), quantized)
    target = target_outputs.astype(host.dtype).reshape(host.shape)
    y_test = load_splits(ctx.path("dataset/splits.npz"))["y_test"]
    host_scores = metrics.dequantize(host, output_spec)
    scores = metrics.dequantize(target, output_spec)
    numeric_path = firmware.get("numeric_path", "int8")
    agreement = _agreement(numeric_path, target, host)
    info = run["target_info"]
    tick_hz = float(info.get("tick_hz") or 1e9)
    unit = info.get("timing_unit", "instructions")
    # Exact instruction counts (QEMU) are shown as time at 1 ns per instruction.
    times = [float(n) / 1e9 for n in instructions] if unit == "instructions" else [
        float(n) / tick_hz for n in instructions]
    mean_instructions = float(np.mean(instructions))
    macs = int(firmware["macs"])
    on_target = {
        "board": firmware["board"],
        "numeric_path": numeric_path,
        "float_arithmetic": firmware.get("float_arithmetic"),
        **agreement,
        "host_accuracy": decision_accuracy(host_scores, spec, y_test),
        "target_instructions": {"mean": mean_instructions, "min": int(instructions.min()),
                                "max": int(instructions.max()), "unit": unit},
        "macs": macs,
        "instructions_per_mac": mean_instructions / macs if macs else float("nan"),
        "flash_bytes": firmware["flash_bytes"], "ram_bytes": firmware["ram_bytes"],
        "flash_limit_bytes": firmware["flash_limit_bytes"],
        "ram_limit_bytes": firmware["ram_limit_bytes"],
        "arena_bytes": firmware["arena_bytes"],
        # int16 (SMLAD), int8 or mixed: chosen per board for its flash (codegen.weight_layout)
        "weight_layout": (firmware.get("weight_layout") or {}).get("layout"),
        "uart_bytes_sent": run["uart_bytes_sent"],
        "uart_bytes_received": run["uart_bytes_received"],
        "toolchain": firmware["toolchain"],
        "timing_basis": ("exact QEMU instruction counts (-icount, SysTick restarted per "
                         "inference), shown at 1 ns per instruction"
                         if unit == "instructions" else f"core cycles at {tick_hz:.0f} Hz"),
    }
    per_op = per_op_counts(firmware.get("kernel_ops") or [], op_counts)
    if per_op:
        on_target["per_op"] = per_op
        # The counts are the last sample's inference: its total bounds their sum.
        on_target["per_op_inference"] = {"sample": len(instructions) - 1,
                                         "instructions": int(instructions[-1]), "unit": unit}
    return scores, times, {"on_target": on_target}


def decision_accuracy(scores: Any, spec: dict[str, Any], y_true: Any) -> float:
    """Accuracy of dequantized scores, decided as evaluate decides the target's: through
    ``metrics.class_scores`` (an anomaly model's distance against its threshold, not an
    argmax over its single output column)."""
    import numpy as np

    from kenning_tasks import metrics

    return float(np.mean(metrics.class_scores(scores, spec).argmax(1) == np.asarray(y_true)))


def _agreement(numeric_path: str, target: Any, host: Any) -> dict[str, Any]:
    """Share of samples whose outputs agree with the host's, the rule and the largest error."""
    import numpy as np

    from kenning_tasks import float_agreement

    if numeric_path == "int8":
        same = np.all(target == host, axis=1)
        rule = "bit-exact"
    else:
        same = float_agreement.within_tolerance(target, host)
        rule = float_agreement.RULE
    return {"agreement_with_host": float(np.mean(same)), "agreement_rule": rule,
            "max_abs_error_vs_host": float_agreement.max_abs_error(target, host)}


def per_op_counts(kernel_ops: list[dict[str, Any]], op_counts: Any) -> list[dict[str, Any]]:
    """``[{"index", "op", "instructions", "macs"}]`` per kernel call (the reports' format), or
    ``[]`` when the firmware recorded none (or for another model than firmware.json's)."""
    if len(op_counts) != len(kernel_ops) or not kernel_ops:
        return []
    return [{"index": op["index"], "op": op["op"], "instructions": int(count),
             "macs": op["macs"]} for op, count in zip(kernel_ops, op_counts, strict=True)]
