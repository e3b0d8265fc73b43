"""doit reporter: doit's usual marks plus how long each stage took, and the end of a run.

At the end of every run it writes the run summary (``ci/summary.py``: ``build/run-summary.json``
and its timeline pages), JUnit XML when asked for (``ci/junit.py``), prints one line per
failed quality gate and, when a gate failed and nothing else did, exits with status 1 — after
everything else that could run has run.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from doit.reporter import ConsoleReporter

from kenning_tasks.expected_failures import interrupted

GATE_FAILURE_EXIT = 1  # like a failed task: the build is red


class StageReporter(ConsoleReporter):
    """``.  stage:scenario`` when a stage starts, ``-- stage:scenario`` when it is reused,
    and a closing line with its duration when it finishes."""

    desc = "doit's console output with stage durations"

    def __init__(self, outstream: Any, options: dict[str, Any]) -> None:
        from kenning_tasks.ci.summary import RunRecorder

        super().__init__(outstream, options)
        self._recorder = RunRecorder()
        self._run_started = time.monotonic()
        self._run_started_at = time.time()  # a run summary newer than this is this run's

    def execute_task(self, task: Any) -> None:
        if task.actions:
            self._recorder.start(task)
        super().execute_task(task)

    def add_success(self, task: Any) -> None:
        if task.actions:
            restored = (getattr(task, "values", None) or {}).get("restored")
            seconds = self._recorder.succeed(task, restored)
            verb = f"restored from the {restored} run cache" if restored else "done"
            self.write(f"   {task.name} {verb} in {seconds:.2f} s\n")

    def add_failure(self, task: Any, fail: Any) -> None:
        if task.actions:
            self._recorder.fail(task, failure_message(fail))
        super().add_failure(task, fail)

    def skip_uptodate(self, task: Any) -> None:
        if task.actions:
            self._recorder.up_to_date(task)
            super().skip_uptodate(task)

    def skip_ignore(self, task: Any) -> None:
        if task.actions:
            self._recorder.ignored(task)
        super().skip_ignore(task)

    def complete_run(self) -> None:
        from kenning_tasks.ci import junit, summary
        from kenning_tasks.layout import layout
        from kenning_tasks.reporting import timeline

        where = layout()
        run = self._recorder.summary([*self.runtime_errors,
                                      *(["interrupted"] if interrupted() else [])])
        try:
            summary.write(where.build, run)
            junit_file = junit.requested_path(where.root)
            if junit_file is not None:
                junit.write(junit_file, run)
        except OSError as error:  # a full disk must not hide the run's own result
            self.write(f"   could not write the run summary: {error}\n")
        timeline.write_after_run(where.build, self._run_started_at)  # run-summary.html
        super().complete_run()
        gate_lines = summary.gate_failure_lines(run)
        for line in gate_lines:
            self.write(f"{line}\n")
        if not self.failures and not self.runtime_errors and not interrupted():
            failed = f", {len(gate_lines)} quality gate{'s' if len(gate_lines) != 1 else ''} " \
                     "failed" if gate_lines else ""
            self.write(f"   finished in {time.monotonic() - self._run_started:.2f} s{failed}\n")
            if gate_lines:
                self.outstream.flush()
                sys.exit(GATE_FAILURE_EXIT)  # doit's own result is success; the gates are not


def failure_message(fail: Any) -> str:
    """doit's message, and for a crash the exception's own last line (not the traceback)."""
    message = str(getattr(fail, "message", "") or fail).strip()
    trace = "".join(getattr(fail, "traceback", "") or "").strip().splitlines()
    return f"{message}: {trace[-1]}" if trace else message
