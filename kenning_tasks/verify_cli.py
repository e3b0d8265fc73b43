"""``python -m kenning_tasks verify [scenario=NAME|a,b|all]``: rehash every input and output.

The stamp check (``change_detection``) catches a file that was rewritten or replaced, even with
its size and mtime kept. What no stamp can see is a byte changed under an unchanged inode: bit
rot, a faulty disk or controller. ``verify`` rehashes every file doit recorded for the selected
scenarios' stages — their inputs and the outputs they wrote — and compares it with the recorded
sha256. A stage with a mismatch is forgotten in doit's state database, so the next run reruns
it (restoring it from the run cache, whose objects are verified, when its key is there). Exit
status 1 when anything did not match, so a CI job can run it.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kenning_tasks import doit_state
from kenning_tasks.artifacts import sha256_file
from kenning_tasks.change_detection import recorded_digest
from kenning_tasks.layout import layout


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "verify", help="rehash every artifact and input; rerun what no longer matches")
    parser.add_argument("args", nargs="*", help="[scenario=NAME|a,b|all]")


def run(options: argparse.Namespace) -> int:
    from kenning_tasks.graph import Graph

    spec = next((a.partition("=")[2] for a in options.args if a.startswith("scenario=")), None)
    graph = Graph(spec)
    state_file = graph.layout.state_file
    doit_state.prepare(state_file)
    saved = doit_state.recorded_state(state_file)
    started = time.monotonic()
    files = stages = 0
    mismatched: dict[str, list[str]] = {}
    for task_id, (_, task) in graph.plans.items():
        record = saved.get(task_id)
        if not record or "_values_:" not in record:
            continue  # never completed: the next run runs it anyway
        stages += 1
        for problem in _mismatches(task, record):
            files += 1
            if problem:
                mismatched.setdefault(task_id, []).append(problem)
    for task_id, problems in mismatched.items():
        for problem in problems:
            print(f"{task_id}: {problem}")
    doit_state.forget(state_file, list(mismatched))
    summary = (f"verify: rehashed {files} files of {stages} stage(s) in "
               f"{time.monotonic() - started:.1f} s")
    if not mismatched:
        print(f"{summary}: every file matches")
        return 0
    rerun = "doit" + (f" scenario={spec}" if spec else "")
    count = len(mismatched)
    what = "1 stage no longer matches and reruns" if count == 1 else \
        f"{count} stages no longer match and rerun"
    print(f"{summary}: {what} with `{rerun}`")
    return 1


def _mismatches(task: dict[str, Any], record: dict[str, Any]) -> Iterator[str | None]:
    """One item per file checked: None when it matches, else a line saying what differs."""
    for dep in task.get("file_dep", []):
        expected = recorded_digest(record.get(dep))
        if expected is None:
            continue  # no record of this input (or an older format): doit decides
        yield _compare(Path(dep), expected, "input", "it was when the stage read it")
    outputs = record["_values_:"].get("outputs") or {}
    for name, saved in outputs.items():
        expected = recorded_digest(saved)
        if expected is None:
            expected = saved[-1] if isinstance(saved, list) and saved else None
        if expected is not None:
            yield _compare(Path(name), expected, "output", "the stage wrote")


def _compare(path: Path, expected: str, role: str, when: str) -> str | None:
    shown = layout().relative(path)
    try:
        actual = sha256_file(path)
    except FileNotFoundError:
        return f"{role} {shown} is missing"
    except OSError as error:
        return f"{role} {shown} cannot be read: {error.strerror}"
    if actual == expected:
        return None
    return (f"{role} {shown} has different bytes than {when} (sha256 {actual[:12]}…, "
            f"recorded {expected[:12]}…)")
