"""Why would a stage rerun? doit's own answer, in words.

The tasks are the graph's, turned into doit ``Task`` objects; ``doit.dependency.Dependency``
(the class doit's runner uses) gives each one's status and reasons from the state database,
and its saved values hold the signature of the last successful run, which is compared with
today's. A stage whose input is the output of a stage that will run is reported as running
after it, as doit will.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kenning_tasks.graph import Graph
from kenning_tasks.signature import OutputsIntact, SignatureCheck, changed_outputs


def explain(graph: Graph, stages: list[str] | None = None,
            state_file: Path | None = None) -> list[str]:
    """For each task of the graph (optionally only some stages): "is up to date", or
    "will run" and the reasons."""
    from doit.dependency import Dependency, MD5Checker, SqliteDB, TimestampChecker
    from doit.task import dict_to_task

    from kenning_tasks.doit_config import DOIT_CONFIG

    state = Path(state_file or graph.layout.state_file)
    tasks = {name: dict_to_task({**task, "name": name})
             for name, (_, task) in graph.plans.items()}
    producer = {target: name for name, task in tasks.items() for target in task.targets}
    running: set[str] = set()
    lines: list[str] = []
    # The file checker doit runs with (DOIT_CONFIG), so the answer is doit's.
    checker = DOIT_CONFIG.get("check_file_uptodate", MD5Checker)
    if isinstance(checker, str):  # doit's names for its own checkers
        checker = {"md5": MD5Checker, "timestamp": TimestampChecker}[checker]
    dependency = (Dependency(SqliteDB, str(state), checker_cls=checker)
                  if state.is_file() else None)
    try:
        for name, task in tasks.items():  # the graph lists every task after its inputs'
            upstream = sorted({(producer[dep], dep) for dep in task.file_dep
                               if producer.get(dep) in running})
            reasons = (task_reasons(dependency, task, tasks, upstream)
                       if dependency is not None else ["it has never completed successfully"])
            if reasons or upstream:
                running.add(name)
            if stages and name.split(":", 1)[0] not in stages:
                continue
            if upstream:
                # The nearest upstream task first (the graph lists tasks in order).
                order = list(tasks)
                upstream.sort(key=lambda item: (-order.index(item[0]), item[1]))
                before, file = upstream[0]
                lines.append(f"{name} will run after {_stage(before)}: its input "
                             f"{Path(file).name} will be rebuilt")
                others = list(dict.fromkeys(_stage(b) for b, _ in upstream[1:]))
                others = [o for o in others if o != _stage(before)]
                if others:
                    lines.append(f"  - also after {', '.join(others)}")
                lines.extend(f"  - {reason}" for reason in reasons)
            elif reasons:
                lines.append(f"{name} will run:")
                lines.extend(f"  - {reason}" for reason in reasons)
            else:
                lines.append(f"{name} is up to date")
    finally:
        # Read only: nothing is committed (doit's close() would write back what get_status
        # changed, e.g. a task's state dropped when the file checker changed).
        del dependency
    return lines


def _stage(task_name: str) -> str:
    return task_name.split(":", 1)[0]


def task_reasons(dependency: Any, task: Any, tasks: dict[str, Any],
                 upstream: list[tuple[str, str]]) -> list[str]:
    """Reasons doit gives for running ``task`` now, except inputs an upstream task rebuilds."""
    values = dependency.get_values(task.name)
    if not values:
        return ["it has never completed successfully"]
    status = dependency.get_status(task, tasks, get_log=True)
    if status.status == "up-to-date":
        return []
    rebuilt = {file for _, file in upstream}
    reasons: list[str] = []
    for check, _, _ in status.reasons.get("uptodate_false", []):
        if isinstance(check, SignatureCheck):
            reasons += signature_reasons(values.get("signature", {}), check.signature)
        elif isinstance(check, OutputsIntact):
            reasons += [f"output {path} is missing or was modified"
                        for path in changed_outputs(values.get("outputs", {}))]
    reasons += [f"{path} is a new input" for path in status.reasons.get("added_file_dep", [])]
    reasons += [f"{path} is no longer an input"
                for path in status.reasons.get("removed_file_dep", [])]
    for path in status.reasons.get("missing_file_dep", []):
        if path not in rebuilt:
            reasons.append(f"input {path} is missing and no stage writes it")
    for path in status.reasons.get("changed_file_dep", []):
        if path not in rebuilt:
            reasons.append(f"input {path} has different bytes")
    for path in status.reasons.get("missing_target", []):
        reason = f"output {path} is missing or was modified"
        if reason not in reasons:
            reasons.append(f"output {path} is missing")
    if status.reasons.get("checker_changed"):
        reasons.append("doit's file checker changed")
    return reasons


def signature_reasons(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
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
