"""What a report flags: values outside what a correct, healthy build gives.

- on target, ``agreement_with_host`` below 1.0 is a failure: the firmware's int8 kernels
  follow TFLite's reference integer arithmetic bit for bit, its float32 kernels TFLite's float
  reference loops within ``float_agreement``'s tolerance, so any other output is a bug;
- flash or RAM above 90 % of the board's limit is a warning (a little more model and it no
  longer fits);
- a failed quality gate is a failure (gates.json, written by the gates stage).

Each flag is shown in colour in HTML and in words in Markdown, and listed at the top.
"""

from __future__ import annotations

from typing import Any

from kenning_tasks.reporting.document import Alert, Cell, num
from kenning_tasks.reporting.units import bytes_text, fraction_text, number_text, short_bytes

MEMORY_WARN_SHARE = 0.9


def agreement_cell(agreement: float) -> Cell:
    return num(fraction_text(agreement), "pass" if agreement >= 1.0 else "fail")


def memory_share(used: int, limit: int) -> float:
    return used / limit if limit else 0.0


def memory_flag(used: int, limit: int) -> str | None:
    share = memory_share(used, limit)
    return "fail" if share > 1.0 else "warn" if share > MEMORY_WARN_SHARE else None


def memory_cell(used: int, limit: int) -> Cell:
    share = memory_share(used, limit)
    return num(f"{number_text(used)} B of {short_bytes(limit)} ({100 * share:.1f} %)",
               memory_flag(used, limit))  # type: ignore[arg-type]


def target_alerts(measurements: dict[str, Any]) -> list[Alert]:
    """The on-target section's verdicts: agreement, and memory near the board's limits."""
    target = measurements["on_target"]
    alerts = []
    agreement = target["agreement_with_host"]
    samples = measurements["samples"]
    path = target.get("numeric_path", "int8")
    exact = target.get("agreement_rule", "bit-exact") == "bit-exact"
    within = "" if exact else f" within {target['agreement_rule']}"
    if agreement < 1.0:
        differ = samples - round(agreement * samples)
        alerts.append(Alert("fail", f"The target's outputs differ from the host TFLite Micro "
                                    f"{path} reference{within} in {differ} of {samples} samples "
                                    f"(agreement {fraction_text(agreement)}, expected 1.0000): "
                                    "the firmware does not compute what TFLite's reference "
                                    "arithmetic computes."))
    else:
        verb = "equal" if exact else "agree with"
        alerts.append(Alert("pass", f"The target's outputs {verb} the host TFLite Micro {path} "
                                    f"reference{within} for all {samples} samples."))
    for key, label in (("flash", "Flash"), ("ram", "RAM")):
        used, limit = target[f"{key}_bytes"], target[f"{key}_limit_bytes"]
        if memory_flag(used, limit):
            alerts.append(Alert("warn", f"{label} use is {bytes_text(used)}, "
                                        f"{100 * memory_share(used, limit):.1f} % of the "
                                        f"board's {bytes_text(limit)} (above 90 %)."))
    return alerts


def gates_banner(gates: dict[str, Any]) -> Alert:
    """The verdict on a pipeline's quality gates, for the top of its report."""
    entries = gates.get("gates", [])
    failed = [g for g in entries if not g.get("passed")]
    if not failed:
        return Alert("pass", f"All {len(entries)} quality gate{'s' if len(entries) != 1 else ''}"
                             " passed.")
    lines = "; ".join(_gate_line(g) for g in failed)
    return Alert("fail", f"{len(failed)} of {len(entries)} quality gate"
                         f"{'s' if len(entries) != 1 else ''} failed: {lines}.")


def _gate_line(gate: dict[str, Any]) -> str:
    value = gate.get("value")
    shown = (str(value) if isinstance(value, int) else f"{value:.6g}") if value is not None \
        else (gate.get("problem") or "missing")
    return f"`{gate['metric']}` = {shown} (required {gate['comparison']})"
