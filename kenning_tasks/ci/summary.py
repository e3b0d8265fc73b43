"""The run summary: what one run did, per task, as ``build/run-summary.json``.

The doit reporter (``kenning_tasks/reporter.py``) feeds a ``RunRecorder`` as doit decides
and runs tasks; at the end of the run the recorder reads the gates of every evaluate task
that took part and writes the summary (format below), which ``reporting/timeline.py``
renders as ``build/run-summary.html`` and ``ci/junit.py`` as JUnit XML. Run information,
not a target: it names durations and clocks, so no stage reads it.

Format (``"format": 1``)::

    {"format": 1, "result": "passed" | "failed", "started_at": ISO 8601, "seconds": float,
     "counts": {status: n}, "gates_failed": n, "errors": [line, ...],
     "stages": [{"task", "stage", "pipeline", "status", "cache" (restored only), "seconds",
                 "message" (failed only), "gates": {"passed": n, "failed": n} (evaluate)}],
     "gates": [{"scenario", "metric", "comparison", "value", "passed", "problem",
                "default"}]}

``status`` is ``ran``, ``restored`` (``cache``: ``local`` or ``remote``), ``up-to-date``,
``failed`` or ``ignored``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kenning_tasks import artifacts
from kenning_tasks.ci import gates
from kenning_tasks.reporting import timeline

SUMMARY_FILE = timeline.SUMMARY_FILE  # one name, read by the timeline pages
FORMAT = 1


@dataclass
class TaskRecord:
    task: str
    status: str
    seconds: float = 0.0
    cache: str | None = None
    message: str | None = None
    targets: tuple[str, ...] = ()

    def to_dict(self, verdicts: dict[str, Any] | None) -> dict[str, Any]:
        stage, _, pipeline = self.task.partition(":")
        entry: dict[str, Any] = {"task": self.task, "stage": stage, "pipeline": pipeline,
                                 "status": self.status, "seconds": round(self.seconds, 3)}
        if self.cache:
            entry["cache"] = self.cache
        if self.message:
            entry["message"] = self.message
        if verdicts is not None:
            failed = verdicts.get("failed", 0)
            entry["gates"] = {"passed": len(verdicts.get("gates", [])) - failed,
                              "failed": failed}
        return entry


@dataclass
class RunRecorder:
    """Collects what happened to each task of one run (in the order doit decided them)."""

    started_wall: float = field(default_factory=time.time)
    started: float = field(default_factory=time.monotonic)
    records: dict[str, TaskRecord] = field(default_factory=dict)
    _running: dict[str, float] = field(default_factory=dict)

    def start(self, task: Any) -> None:
        self._running[task.name] = time.monotonic()
        self.records[task.name] = TaskRecord(task.name, "ran", targets=_targets(task))

    def succeed(self, task: Any, restored: str | None = None) -> float:
        """Record a finished task; returns its duration."""
        seconds = time.monotonic() - self._running.pop(task.name, time.monotonic())
        record = self.records.setdefault(task.name, TaskRecord(task.name, "ran",
                                                               targets=_targets(task)))
        record.seconds = seconds
        if restored:
            record.status, record.cache = "restored", restored
        return seconds

    def up_to_date(self, task: Any) -> None:
        self.records[task.name] = TaskRecord(task.name, "up-to-date", targets=_targets(task))

    def ignored(self, task: Any) -> None:
        self.records[task.name] = TaskRecord(task.name, "ignored")

    def fail(self, task: Any, message: str) -> None:
        seconds = time.monotonic() - self._running.pop(task.name, time.monotonic())
        first = next((line for line in message.splitlines() if line.strip()), "failed")
        self.records[task.name] = TaskRecord(task.name, "failed", seconds, message=first[:500])

    def summary(self, errors: list[str]) -> dict[str, Any]:
        """The run summary (format above), gates read from this run's evaluate tasks.

        A task still running (the run was interrupted) is recorded as failed."""
        for name in list(self._running):
            self.records[name] = TaskRecord(name, "failed", message="interrupted")
        stages, all_gates = [], []
        for record in self.records.values():
            verdicts = _verdicts(record)
            if verdicts is not None:
                all_gates += [{"scenario": verdicts.get("scenario"), **g}
                              for g in verdicts.get("gates", [])]
            stages.append(record.to_dict(verdicts))
        counts: dict[str, int] = {}
        for entry in stages:
            counts[entry["status"]] = counts.get(entry["status"], 0) + 1
        gates_failed = sum(not g.get("passed") for g in all_gates)
        failed = bool(errors) or counts.get("failed", 0) > 0 or gates_failed > 0
        return {"format": FORMAT, "result": "failed" if failed else "passed",
                "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z",
                                            time.localtime(self.started_wall)),
                "seconds": round(time.monotonic() - self.started, 3), "counts": counts,
                "gates_failed": gates_failed, "errors": list(errors), "stages": stages,
                "gates": all_gates}


def write(build_dir: Path, summary: dict[str, Any]) -> Path:
    return artifacts.write_json(Path(build_dir) / SUMMARY_FILE, summary)


def gate_failure_lines(summary: dict[str, Any]) -> list[str]:
    """One line per failed gate of the run (scenario, metric, value, threshold)."""
    by_scenario: dict[str, list[dict[str, Any]]] = {}
    for gate in summary.get("gates", []):
        by_scenario.setdefault(gate.get("scenario"), []).append(gate)
    return [line for scenario, entries in by_scenario.items()
            for line in gates.failure_lines({"scenario": scenario, "gates": entries})]


def _targets(task: Any) -> tuple[str, ...]:
    return tuple(str(t) for t in getattr(task, "targets", ()) or ())


def _verdicts(record: TaskRecord) -> dict[str, Any] | None:
    if record.status not in ("ran", "restored", "up-to-date"):
        return None
    for target in record.targets:
        if target.endswith(gates.GATES_FILE):
            return gates.read(Path(target))
    return None
