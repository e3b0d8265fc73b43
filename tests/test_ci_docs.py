"""docs/ci.md: its CI files are valid YAML and call kenning-tasks with options that exist."""

from __future__ import annotations

import re
import shlex

import yaml

from kenning_tasks.__main__ import main
from kenning_tasks.ci import shards
from kenning_tasks.console import _run_options
from tests.conftest import REPO

VARIABLES = {"${{ matrix.shard }}": "2", "${{ strategy.job-total }}": "4",
             "$CI_NODE_INDEX": "2", "$CI_NODE_TOTAL": "4",
             "${{ github.base_ref }}": "main", "$CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main"}


def ci_files() -> dict[str, dict]:
    text = (REPO / "docs" / "ci.md").read_text()
    files = [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", text, re.S)]
    return {("github" if "jobs" in f else "gitlab"): f for f in files if "jobs" in f
            or "pipeline" in f}


def commands(shell: str) -> list[list[str]]:
    for name, value in VARIABLES.items():
        shell = shell.replace(name, value)
    found = []
    for part in re.split(r"&&|;|\n", shell):
        words = shlex.split(part)
        if words and words[0].endswith("/kenning-tasks"):
            found.append(words[1:])
    return found


def test_recipes_call_existing_options() -> None:
    files = ci_files()
    github = [step["run"] for step in files["github"]["jobs"]["build"]["steps"] if "run" in step]
    gitlab = files["gitlab"]["pipeline"]["script"]
    called = [c for shell in (*github, *gitlab) for c in commands(shell)]
    runs = [c for c in called if c[0] == "run"]
    assert len(runs) == 2 and len(called) == 4
    for args in runs:
        options, rest = _run_options(args[1:])
        assert shards.parse(options.shard) == (2, 4) and options.junit == "build/junit.xml"
        assert rest == ["-n", "2", "scenario=all", "report"]
    for args in called:
        if args[0] == "diff":  # parses (the revisions are only checked when it runs)
            assert args[1:3] == ["origin/main", "HEAD"] and args[3].startswith("scenario=")
    assert main(["validate", "scenario=digits-tflite-int8"]) == 0
