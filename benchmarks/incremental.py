"""Measure the incremental build: cold run, no-op rerun, one quantization parameter change.

Runs on a fresh copy of the project (sources + the default scenario) in a temporary folder,
with its own build/ and run cache, and prints JSON:
``{"cold_s", "noop_s", "param_change_s", "cold_stages", "noop_stages", "param_change_stages"}``.
Usage: ``.venv/bin/python benchmarks/incremental.py [--keep DIR]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COPIED = ("dodo.py", "kenning_tasks", "scenarios", "firmware", "platforms.yml")


def copy_sources(destination: Path) -> None:
    for name in COPIED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, destination / name,
                            ignore=shutil.ignore_patterns("__pycache__"))
        elif source.exists():
            shutil.copy2(source, destination / name)


def timed_doit(root: Path, scenario: str) -> tuple[float, list[str]]:
    env = dict(os.environ, PYTHONPATH=str(root), KENNING_TASKS_CACHE=str(root / "cache"))
    doit = Path(sys.executable).with_name("doit")
    started = time.perf_counter()
    completed = subprocess.run([str(doit), "-f", str(root / "dodo.py"), f"scenario={scenario}",
                                "report"], cwd=root, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        sys.exit(f"doit failed:\n{completed.stdout}\n{completed.stderr}")
    return elapsed, re.findall(r"^\.  (\S+)$", completed.stdout, flags=re.M)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default=None, help="default: the project's default")
    parser.add_argument("--keep", type=Path, help="run in this folder and keep it")
    options = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from kenning_tasks.scenario_files import DEFAULT_SCENARIO

    scenario = options.scenario or DEFAULT_SCENARIO
    root = options.keep or Path(tempfile.mkdtemp(prefix="kt-incremental-"))
    try:
        copy_sources(root)
        cold_s, cold = timed_doit(root, scenario)
        noop_s, noop = timed_doit(root, scenario)
        scenario_file = root / "scenarios" / f"{scenario}.yml"
        text = scenario_file.read_text()
        edited = re.sub(r"dataset_percentage: [0-9.]+", "dataset_percentage: 0.3", text,
                        count=1)
        if edited == text:
            sys.exit(f"{scenario_file}: no dataset_percentage to change")
        scenario_file.write_text(edited)
        change_s, changed = timed_doit(root, scenario)
    finally:
        if options.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    print(json.dumps({
        "scenario": scenario,
        "cold_s": round(cold_s, 3), "noop_s": round(noop_s, 3),
        "param_change_s": round(change_s, 3),
        "cold_stages": cold, "noop_stages": noop, "param_change_stages": changed,
    }, indent=2))


if __name__ == "__main__":
    main()
