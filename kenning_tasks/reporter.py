"""doit reporter: doit's usual marks plus how long each stage took."""

from __future__ import annotations

import time
from typing import Any

from doit.reporter import ConsoleReporter

from kenning_tasks.expected_failures import interrupted


class StageReporter(ConsoleReporter):
    """``.  stage:scenario`` when a stage starts, ``-- stage:scenario`` when it is reused,
    and a closing line with its duration when it finishes."""

    desc = "doit's console output with stage durations"

    def __init__(self, outstream: Any, options: dict[str, Any]) -> None:
        super().__init__(outstream, options)
        self._started: dict[str, float] = {}
        self._run_started = time.monotonic()
        self._run_started_at = time.time()  # a run summary newer than this is this run's

    def execute_task(self, task: Any) -> None:
        self._started[task.name] = time.monotonic()
        super().execute_task(task)

    def add_success(self, task: Any) -> None:
        started = self._started.pop(task.name, None)
        if started is not None and task.actions:
            restored = (getattr(task, "values", None) or {}).get("restored")
            verb = f"restored from the {restored} run cache" if restored else "done"
            self.write(f"   {task.name} {verb} in {time.monotonic() - started:.2f} s\n")

    def skip_uptodate(self, task: Any) -> None:
        if task.actions:
            super().skip_uptodate(task)

    def complete_run(self) -> None:
        from kenning_tasks.layout import layout
        from kenning_tasks.reporting import timeline

        timeline.write_after_run(layout().build, self._run_started_at)  # run-summary.html
        super().complete_run()
        if not self.failures and not self.runtime_errors and not interrupted():
            self.write(f"   finished in {time.monotonic() - self._run_started:.2f} s\n")
