"""Measure a scenario matrix split over CI jobs that share one remote cache.

Starts moto's S3 server on 127.0.0.1 (stopped by PID), then runs ``kenning-tasks run
--shard i/n`` for i = 1..n one after the other, each in a fresh copy of the project with an
empty local cache (one CI job each), and prints JSON: per shard its scenarios, wall seconds
and how many stages ran, were restored from the remote, or failed (from each job's
``build/run-summary.json``).
Usage: ``.venv/bin/python benchmarks/shards.py [--shards N] [--scenarios a,b,...]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from kenning_tasks.ci.shards import shard_of  # noqa: E402
from tests.conftest import copy_project  # noqa: E402
from tests.servers import MotoS3  # noqa: E402

HOST_SCENARIOS = "digits-keras-native,digits-tflite-int8,digits-tflm-int8,digits-onnx-f32"


def run_shard(root: Path, index: int, count: int, scenarios: str, server: MotoS3) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KENNING_TASKS_")}
    env.update(server.env)
    env.update({"PYTHONPATH": str(root), "KENNING_TASKS_CACHE": str(root / "cache"),
                "KENNING_TASKS_RESOURCES": str(root / "resources"),
                "KENNING_TASKS_REMOTE_CACHE": "s3://kt-shards/benchmark"})
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "kenning_tasks", "run", "--shard",
                           f"{index}/{count}", f"scenario={scenarios}", "report"],
                          cwd=root, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    summary = json.loads((root / "build" / "run-summary.json").read_text())
    stages = summary["stages"]
    return {"shard": f"{index}/{count}", "exit": done.returncode, "seconds": round(seconds, 2),
            "scenarios": sorted({s["pipeline"] for s in stages}),
            "ran": sum(s["status"] == "ran" for s in stages),
            "restored_remote": sum(s.get("cache") == "remote" for s in stages),
            "restored_local": sum(s.get("cache") == "local" for s in stages),
            "failed": sum(s["status"] == "failed" for s in stages)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shards", type=int, default=2)
    parser.add_argument("--scenarios", default=HOST_SCENARIOS)
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kt-shards-"))
    try:
        with MotoS3(work / "moto") as server:
            server.make_bucket("kt-shards")
            jobs = [run_shard(copy_project(work / f"job-{i}").root, i, options.shards,
                              options.scenarios, server)
                    for i in range(1, options.shards + 1)]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    names = options.scenarios.split(",")
    print(json.dumps({"assignment": {n: shard_of(n, options.shards) for n in names},
                      "jobs": jobs}, indent=2))


if __name__ == "__main__":
    main()
