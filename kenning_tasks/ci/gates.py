"""Quality gates' verdicts: thresholds on measurements that fail the build.

The syntax (a scenario's ``gates:``) is ``gate_specs.py``. The evaluate stage writes the
verdicts to ``evaluate/gates.json`` (read by the report and the run summary). A failed gate
does not fail its stage (everything downstream still runs); the run exits non-zero at its
very end (``kenning_tasks/reporter.py``).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from kenning_tasks.ci.gate_specs import GATES_FILE, Gate

__all__ = ["GATES_FILE", "check", "evaluate", "failure_lines", "lookup", "read", "verdict_text"]
OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt,
    "==": operator.eq, "!=": operator.ne}  # the operators gate_specs accepts


def check(gate: Gate, measurements: Mapping[str, Any]) -> dict[str, Any]:
    """One gate's verdict as a gates.json entry."""
    value, problem = lookup(measurements, gate.metric)
    passed = problem is None and OPERATORS[gate.op](value, gate.threshold)
    return {"metric": gate.metric, "comparison": gate.comparison,
            "value": value if problem is None else None, "passed": bool(passed),
            "problem": problem, "default": gate.default}


def evaluate(scenario_name: str, gates: tuple[Gate, ...],
             measurements: Mapping[str, Any]) -> dict[str, Any]:
    """gates.json: ``{"scenario", "passed", "failed", "gates": [...]}``."""
    entries = [check(gate, measurements) for gate in gates]
    failed = sum(not e["passed"] for e in entries)
    return {"scenario": scenario_name, "passed": failed == 0, "failed": failed,
            "gates": entries}


def failure_lines(verdicts: Mapping[str, Any]) -> list[str]:
    """One line per failed gate: scenario, metric, value and threshold."""
    return [f"gate failed: {verdicts.get('scenario')}: {verdict_text(entry)}"
            for entry in verdicts.get("gates", []) if not entry.get("passed")]


def verdict_text(entry: Mapping[str, Any]) -> str:
    """``metric = value (required comparison)`` of one gates.json entry."""
    value = entry.get("value")
    shown = _number_text(value) if value is not None else entry.get("problem") or "missing"
    return f"{entry['metric']} = {shown} (required {entry['comparison']})"


def lookup(measurements: Mapping[str, Any], metric: str) -> tuple[float | None, str | None]:
    """The number at ``metric`` (a dotted path), or None and why not."""
    node: Any = measurements
    for depth, part in enumerate(metric.split(".")):
        if not isinstance(node, Mapping) or part not in node:
            where = ".".join(metric.split(".")[:depth]) or "measurements.json"
            keys = sorted(k for k, v in node.items()
                          if _is_number(v) or isinstance(v, Mapping)) \
                if isinstance(node, Mapping) else []
            return None, (f"no {part!r} in {where}"
                          + (f" (has: {', '.join(keys[:12])})" if keys else ""))
        node = node[part]
    if not _is_number(node):
        return None, f"not a number ({type(node).__name__})"
    if not math.isfinite(node):
        return None, "not a finite number"
    return float(node) if isinstance(node, float) else node, None


def read(path: Path) -> dict[str, Any] | None:
    """A gates.json, or None when missing or unreadable."""
    import json

    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number_text(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:.6g}"  # as the report shows it
