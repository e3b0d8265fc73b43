"""``kenning-tasks diff A B``: the measurements of two builds side by side, like ``dvc metrics
diff``.

A and B are each

- a pipeline's build folder (``build/digits-tflite-int8``, holding ``evaluate/
  measurements.json``), or a whole ``build/`` folder (its pipelines are matched by name); or
- with ``scenario=NAME``, a git revision (``main``, ``HEAD~3``, a tag): the scenario is built
  up to ``evaluate`` in a temporary export of that revision (``git archive``) with this
  project's run cache, so a revision whose stages are cached (locally or on the remote) is
  restored, not recomputed. The line ``B: restored|computed ...`` says which.

The table shows the numbers that changed (``--all``: every number); ``--json`` prints
``{pipeline: {metric: {"old", "new", "diff"}}}`` instead (dvc's shape; ``null`` for a side
that lacks the metric). Exit status 0 either way: a diff is information, gates judge.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from kenning_tasks.errors import KenningTasksError

MEASUREMENTS = "evaluate/measurements.json"
# Numbers that describe the run, not the model, or repeat others (Kenning's keys).
SKIPPED_ROOTS = {"resolved_scenario", "build_cfg", "tool_versions", "host", "score_curves",
                 "runtime_measurements"}


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("diff", help="compare the measurements of two builds")
    parser.add_argument("a", help="a build folder, or a git revision (with scenario=NAME)")
    parser.add_argument("b", help="a build folder, or a git revision (with scenario=NAME)")
    parser.add_argument("scenario", nargs="?", help="scenario=NAME: compare git revisions")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--all", action="store_true", help="also the unchanged numbers")


def run(options: argparse.Namespace) -> int:
    scenario = None
    if options.scenario is not None:
        if not options.scenario.startswith("scenario="):
            raise KenningTasksError(f"diff: {options.scenario!r}: expected scenario=NAME")
        scenario = options.scenario.partition("=")[2]
    with tempfile.TemporaryDirectory(prefix="kenning-tasks-diff-") as scratch:
        old = _side(options.a, scenario, Path(scratch) / "a")
        new = _side(options.b, scenario, Path(scratch) / "b")
    result = compare(old, new, everything=options.all)
    if options.json:
        print(json.dumps(result, indent=2, sort_keys=True, allow_nan=False))
    else:
        print(table(result, options.a, options.b))
    return 0


def numbers(measurements: Mapping[str, Any]) -> dict[str, float]:
    """Every finite number of a measurements.json, by dotted path (lists left out)."""
    def walk(node: Mapping[str, Any], prefix: str) -> Iterator[tuple[str, float]]:
        for key, value in node.items():
            path = f"{prefix}{key}"
            if not prefix and key in SKIPPED_ROOTS:
                continue
            if isinstance(value, Mapping):
                yield from walk(value, path + ".")
            elif isinstance(value, int | float) and not isinstance(value, bool) \
                    and math.isfinite(value):
                yield path, value
    return dict(walk(measurements, ""))


def compare(old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]],
            everything: bool = False) -> dict[str, dict[str, dict[str, float | None]]]:
    """``{pipeline: {metric: {"old", "new", "diff"}}}`` for the pipelines on either side."""
    result: dict[str, dict[str, dict[str, float | None]]] = {}
    for pipeline in sorted(set(old) | set(new)):
        a, b = numbers(old.get(pipeline, {})), numbers(new.get(pipeline, {}))
        rows = {}
        for metric in sorted(set(a) | set(b)):
            before, after = a.get(metric), b.get(metric)
            if before == after and not everything:
                continue
            rows[metric] = {"old": before, "new": after,
                            "diff": None if before is None or after is None else after - before}
        if rows or everything:
            result[pipeline] = rows
    return result


def table(result: dict[str, dict[str, dict[str, float | None]]], a: str, b: str) -> str:
    if not any(result.values()):
        return "no differences"
    rows = [("pipeline", "metric", a, b, "change")]
    for pipeline, metrics in result.items():
        for metric, entry in metrics.items():
            rows.append((pipeline, metric, _text(entry["old"]), _text(entry["new"]),
                         _change(entry)))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = ["  ".join(cell.ljust(w) if i < 2 else cell.rjust(w)
                       for i, (cell, w) in enumerate(zip(row, widths, strict=True))).rstrip()
             for row in rows]
    return "\n".join(lines)


def _text(value: float | None) -> str:
    if value is None:
        return "—"
    return str(value) if isinstance(value, int) else f"{value:.6g}"


def _change(entry: Mapping[str, float | None]) -> str:
    diff, old = entry["diff"], entry["old"]
    if diff is None:
        return "—"
    percent = f" ({100 * diff / old:+.1f} %)" if old else ""
    return (f"{diff:+d}" if isinstance(diff, int) else f"{diff:+.6g}") + percent


# -- the two sides ---------------------------------------------------------------------------

def _side(spec: str, scenario: str | None, scratch: Path) -> dict[str, dict[str, Any]]:
    folder = Path(spec)
    if folder.is_dir():
        return read_build(folder)
    if scenario is None:
        raise KenningTasksError(f"diff: {spec}: no such build folder; to compare git "
                                "revisions add scenario=NAME")
    return {scenario: build_revision(spec, scenario, scratch)}


def read_build(folder: Path) -> dict[str, dict[str, Any]]:
    """``{pipeline name: measurements}`` of a pipeline folder or of a whole build folder."""
    own = folder / MEASUREMENTS
    files = [own] if own.is_file() else sorted(folder.glob(f"*/{MEASUREMENTS}")) + sorted(
        folder.glob(f"*/*/{MEASUREMENTS}"))
    if not files:
        raise KenningTasksError(f"diff: {folder}: no {MEASUREMENTS} in it or in its pipeline "
                                "folders; build the scenario first (report or evaluate)")
    found = {}
    for path in files:
        data = json.loads(path.read_text())
        found[data.get("scenario") or path.parents[1].name] = data
    return found


def build_revision(revision: str, scenario: str, scratch: Path) -> dict[str, Any]:
    """The scenario's measurements at a git revision, through this project's run cache."""
    from kenning_tasks.layout import CACHE_ENV, PROJECT_ENV, layout

    where = layout()
    git = shutil.which("git")
    if git is None:
        raise KenningTasksError("diff: comparing revisions needs git on PATH")
    listed = subprocess.run([git, "-C", str(where.root), "rev-parse", "--verify", "--quiet",
                             f"{revision}^{{commit}}"], capture_output=True, text=True)
    if listed.returncode != 0:
        raise KenningTasksError(f"diff: {revision!r} is neither a build folder nor a git "
                                f"revision of {where.root}")
    scratch.mkdir(parents=True)
    archive = subprocess.run([git, "-C", str(where.root), "archive", "--format=tar",
                              listed.stdout.strip()], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(scratch)], input=archive.stdout, check=True)
    env = {k: v for k, v in os.environ.items() if k != PROJECT_ENV}
    env.update({"PYTHONPATH": str(scratch), CACHE_ENV: str(where.cache or "off"),
                "KENNING_TASKS_PROGRESS": "off"})
    env.pop("KENNING_TASKS_SHARD", None)
    env.pop("KENNING_TASKS_JUNIT", None)
    done = subprocess.run([sys.executable, "-m", "doit", "-f", str(scratch / "dodo.py"),
                           f"scenario={scenario}", "evaluate"], cwd=scratch, env=env,
                          capture_output=True, text=True)
    if done.returncode not in (0, 1) or not (scratch / "build" / scenario / MEASUREMENTS
                                            ).is_file():
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise KenningTasksError(f"diff: {scenario} at {revision} did not build: {last}")
    restored = done.stderr.count("restored from the run cache")
    started = done.stderr.count(": started")
    print(f"{revision}: {scenario} {'computed' if started else 'restored'} "
          f"({restored} stage{'s' if restored != 1 else ''} restored from the run cache, "
          f"{started} computed)", file=sys.stderr)
    return json.loads((scratch / "build" / scenario / MEASUREMENTS).read_text())
