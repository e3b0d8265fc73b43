"""Measure sharing a build through the remote cache: checkout A cold, checkout B restoring.

Starts a real server on 127.0.0.1 (moto's S3 server, or OpenSSH's sshd for SFTP; stopped by
PID), builds a host scenario in a fresh copy A of the project with the remote configured, then
in a fresh copy B at another path with an empty local cache, and prints JSON:
``{"scenario", "remote", "a_cold_s", "b_restore_s", "stages", "b_restored", "b_recomputed",
"remote_objects", "remote_bytes"}``.
Usage: ``.venv/bin/python benchmarks/remote_cache.py [--scenario NAME] [--remote s3|sftp]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.conftest import Project, copy_project  # noqa: E402
from tests.servers import MotoS3, SFTPServer  # noqa: E402


def timed(project: Project, scenario: str) -> tuple[float, str]:
    started = time.perf_counter()
    run = project.doit(f"scenario={scenario}", "report")
    elapsed = time.perf_counter() - started
    if run.returncode != 0:
        sys.exit(f"doit failed in {project.root}:\n{run.stdout}\n{run.stderr}")
    return elapsed, run.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="digits-keras-native")
    parser.add_argument("--remote", choices=("s3", "sftp"), default="s3")
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kt-remote-cache-"))
    try:
        measure(options.scenario, options.remote, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def measure(scenario: str, kind: str, work: Path) -> None:
    server = MotoS3(work / "moto") if kind == "s3" else SFTPServer(work / "sshd")
    with server:
        if isinstance(server, MotoS3):
            server.make_bucket("kt-cache")
            os.environ.update(server.env)
            os.environ["KENNING_TASKS_REMOTE_CACHE"] = "s3://kt-cache/benchmark"
        else:
            os.environ["KENNING_TASKS_REMOTE_CACHE"] = server.url(work / "served")
            # fsspec's own environment settings carry the key and known_hosts file.
            os.environ["FSSPEC_SFTP"] = json.dumps(server.options)
        a = copy_project(work / "checkout-a")
        a_cold, a_log = timed(a, scenario)
        b = copy_project(work / "somewhere" / "else" / "checkout-b")
        b_restore, b_log = timed(b, scenario)
        if isinstance(server, MotoS3):
            fs = server.filesystem()
            found = fs.find("kt-cache/benchmark/objects", detail=True)
            remote_objects = len(found)
            remote_bytes = sum(info["size"] for info in found.values())
        else:
            files = [p for p in (work / "served" / "objects").rglob("*") if p.is_file()]
            remote_objects, remote_bytes = len(files), sum(p.stat().st_size for p in files)
    pattern = rf"\] (\w+):{re.escape(scenario)}: "
    print(json.dumps({
        "scenario": scenario,
        "remote": kind,
        "a_cold_s": round(a_cold, 2),
        "b_restore_s": round(b_restore, 2),
        "stages": sorted(set(re.findall(pattern + "started", a_log))),
        "b_restored": dict(sorted(re.findall(pattern + r"restored from the run cache \((\w+),",
                                             b_log))),
        "b_recomputed": sorted(set(re.findall(pattern + "started", b_log))),
        "remote_objects": remote_objects,
        "remote_bytes": remote_bytes,
    }, indent=2))


if __name__ == "__main__":
    main()
