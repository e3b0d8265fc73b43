"""Why would a stage rerun? Compare what doit recorded with the state of things now."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from kenning_tasks.change_detection import differs
from kenning_tasks.graph import DOIT_CONFIG, Pipeline, stage_signature, task_file_deps
from kenning_tasks.signature import changed_outputs, normalise


def recorded_state(state_file: Path) -> dict[str, dict[str, Any]]:
    """Everything doit saved per task (its sqlite3 backend stores one JSON row per task)."""
    if not state_file.is_file():
        return {}
    with sqlite3.connect(state_file) as connection:
        rows = connection.execute("SELECT task_id, task_data FROM doit").fetchall()
    return {task_id: json.loads(data) for task_id, data in rows}


def explain(pipeline: Pipeline, stages: list[str] | None = None,
            state_file: Path | None = None) -> list[str]:
    """For each stage: "is up to date", or "will run:" and the reasons."""
    state = recorded_state(state_file or Path(DOIT_CONFIG["dep_file"]))
    lines = []
    for stage, name in pipeline.task_names.items():
        if stages and stage not in stages:
            continue
        reasons = stage_reasons(stage, pipeline, state.get(name))
        if reasons:
            lines.append(f"{name} will run:")
            lines.extend(f"  - {reason}" for reason in reasons)
        else:
            lines.append(f"{name} is up to date")
    return lines


def stage_reasons(stage: str, pipeline: Pipeline, saved: dict[str, Any] | None) -> list[str]:
    if not saved or "_values_:" not in saved:
        return ["it has never completed successfully"]
    values = saved["_values_:"]
    current = normalise(stage_signature(stage, pipeline.scenario))
    reasons = _signature_reasons(values.get("signature", {}), current)
    for dep in task_file_deps(stage, pipeline):
        recorded = saved.get(dep)
        if recorded is None:
            reasons.append(f"{dep} is a new input")
        elif not Path(dep).is_file():
            reasons.append(f"input {dep} is missing (its stage will recreate it)")
        elif differs(dep, recorded):
            reasons.append(f"input {dep} has different bytes")
    reasons.extend(f"output {path} is missing or was modified"
                   for path in changed_outputs(values.get("outputs", {})))
    return reasons


def _signature_reasons(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    reasons = []
    for key, label in (("parameters", "parameter"), ("tools", "tool version")):
        for path, before, after in _diff(old.get(key, {}), new.get(key, {})):
            reasons.append(f"{label} {path} changed: {before} → {after}")
    old_code, new_code = old.get("code", {}), new.get("code", {})
    for source in sorted(set(old_code) | set(new_code)):
        if source not in old_code:
            reasons.append(f"code {source} is now part of this stage")
        elif source not in new_code:
            reasons.append(f"code {source} is no longer part of this stage")
        elif old_code[source] != new_code[source]:
            reasons.append(f"code {source} changed")
    return reasons


def _diff(old: Any, new: Any, prefix: str = "") -> list[tuple[str, Any, Any]]:
    if isinstance(old, dict) and isinstance(new, dict):
        changes = []
        for key in sorted(set(old) | set(new), key=str):
            path = f"{prefix}.{key}" if prefix else str(key)
            changes += _diff(old.get(key, "(unset)"), new.get(key, "(unset)"), path)
        return changes
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        changes = []
        for index, (a, b) in enumerate(zip(old, new, strict=True)):
            changes += _diff(a, b, f"{prefix}[{index}]")
        return changes
    return [] if old == new else [(prefix, old, new)]
