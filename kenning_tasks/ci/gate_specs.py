"""The syntax of quality gates: a scenario's ``gates:`` block, parsed and checked.

Kept apart from the verdicts (``gates.py``) because scenario validation imports it, and so
every stage's code reaches it: wording or verdict changes must not rerun training.

A scenario's ``gates:`` maps a measurement to a comparison::

    gates:
      accuracy: ">= 0.95"
      on_target.agreement_with_host: "== 1.0"
      on_target.flash_bytes: "<= 65536"
      inference_time_s.mean: "<= 0.002"     # or its short name, inference_time_mean

A metric is a dotted path into ``evaluate/measurements.json``; a comparison is one of
``>= <= > < == !=`` and a finite number. ``off`` (or ``null``) removes a gate, which is how a
scenario opts out of a default one. On-target pipelines gate ``on_target.agreement_with_host
== 1.0`` by default: the firmware follows TFLite's reference integer arithmetic bit for bit,
so anything else is a bug.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

GATES_FILE = "evaluate/gates.json"  # the verdicts, written by the evaluate stage
AGREEMENT = "on_target.agreement_with_host"
DEFAULT_TARGET_GATES = {AGREEMENT: "== 1.0"}
_COMPARISON = re.compile(r"^\s*(>=|<=|==|!=|>|<)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
                         r"\s*$")
_METRIC = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$")
# Short names for nested measurements (the and Kenning's spelling).
ALIASES = {f"inference_time_{stat}": f"inference_time_s.{stat}"
           for stat in ("first", "mean", "median", "std", "min", "max", "p95", "p99")}
ALLOWED = ('a comparison string such as ">= 0.95" (operators: >=, <=, >, <, ==, !=; a finite '
           "number), or off to remove a default gate")
OFF = "off"


@dataclass(frozen=True)
class Gate:
    """One threshold: ``metric`` (a dotted path into measurements.json) ``op`` ``threshold``."""

    metric: str
    op: str
    threshold: float
    number: str  # the threshold as written, for messages
    default: bool = False  # added by kenning-tasks, not written in the scenario

    @property
    def comparison(self) -> str:
        return f"{self.op} {self.number}"


def parse(raw: Any, where: str, embedded: bool) -> tuple[tuple[Gate, ...], list[str]]:
    """The scenario's ``gates:`` block → gates, plus one problem line per bad entry.

    ``where`` is ``"<file>: gates"``; ``embedded`` adds the on-target default gates (unless
    the block turns them off) and allows ``on_target.*`` metrics.
    """
    problems: list[str] = []
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        return (), [f"{where}: expected a mapping of metric to comparison, e.g. "
                    f'accuracy: ">= 0.95"; got {type(raw).__name__}']
    written: dict[str, Gate | None] = {}
    for key, spec in raw.items():
        metric = ALIASES.get(str(key), str(key))
        if not isinstance(key, str) or not _METRIC.match(key):
            problems.append(f"{where}.{key}: not a measurement name; allowed: a dotted path "
                            "into measurements.json such as accuracy or "
                            "on_target.flash_bytes")
            continue
        if metric.split(".")[0] == "on_target" and not embedded:
            problems.append(f"{where}.{key}: on_target measurements exist only on an embedded "
                            "platform; allowed here: host measurements such as accuracy, "
                            "inference_time_s.mean, model_size_bytes")
            continue
        if spec is None or spec is False or (isinstance(spec, str)
                                            and spec.strip().lower() == OFF):
            written[metric] = None  # YAML reads a bare `off` as false
            continue
        gate = _parse_comparison(metric, spec)
        if gate is None:
            problems.append(f"{where}.{key}: {spec!r} is not a comparison; allowed: {ALLOWED}")
            continue
        written[metric] = gate
    defaults = DEFAULT_TARGET_GATES if embedded else {}
    gates = [Gate(m, *_split(c), default=True) for m, c in defaults.items() if m not in written]
    gates += [g for g in written.values() if g is not None]
    return tuple(gates), problems


def _parse_comparison(metric: str, spec: Any) -> Gate | None:
    if not isinstance(spec, str):
        return None
    try:
        return Gate(metric, *_split(spec))
    except ValueError:
        return None


def _split(spec: str) -> tuple[str, float, str]:
    match = _COMPARISON.match(spec)
    if not match:
        raise ValueError(spec)
    threshold = float(match.group(2))
    if not math.isfinite(threshold):  # 1e999
        raise ValueError(spec)
    return match.group(1), threshold, match.group(2)
