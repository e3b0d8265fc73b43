"""``kenning-tasks run`` and ``clean``: doit in the project folder (the console script is
``__main__.console_main``).

``kenning-tasks run [--shard i/n] [--junit FILE] [doit options] [scenario=NAME] [stages]`` is
doit's ``run`` on the dodo file shipped with kenning-tasks (``layout.DODO_FILE``), in the
project folder (``layout.find_root``: the nearest folder upwards holding ``scenarios/``,
``kenning-tasks.toml`` or a ``dodo.py``; else the working directory), so doit's marks and
options (``-n 4``, ``-v 2``, ``--continue``) are kept and ``build/`` and ``cache/`` are
written there; ``clean`` is doit's clean. Every other subcommand is ``__main__.py``'s
(``why``, ``validate``, ``list``, ``info``, ``cache``, ``diff``, ...).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

RUN_HELP = """usage: kenning-tasks run [--shard I/N] [--junit FILE] [doit options]
                         [scenario=NAME] [stage ...]

Runs the pipeline (doit's run) in this project folder. Anything not listed here is passed to
doit unchanged, e.g. -n 4 (parallel), -v 2, --continue, or stage names (default: report).

  --shard I/N    build only shard I of N of the selected scenarios (stable by scenario name)
  --junit FILE   also write JUnit XML (one test case per stage and per quality gate)
"""


def _run_options(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(prog="kenning-tasks run", add_help=False)
    parser.add_argument("--shard")
    parser.add_argument("--junit")
    parser.add_argument("-h", "--help", action="store_true")
    return parser.parse_known_args(argv)


def run(argv: list[str], command: str = "run") -> int:
    """``kenning-tasks run ...``: doit's ``command`` (run, clean) in the project folder; its
    exit status."""
    from doit.doit_cmd import DoitMain

    from kenning_tasks.ci import junit, shards
    from kenning_tasks.layout import DODO_FILE, PROJECT_ENV, PROJECT_MARKERS, find_root

    options, doit_args = _run_options(argv)
    if options.help:
        print(RUN_HELP, end="")
        return 0
    root = Path(os.environ[PROJECT_ENV]).resolve() if os.environ.get(PROJECT_ENV) \
        else find_root(Path.cwd())
    if options.shard is not None:
        shards.parse(options.shard, "--shard")
        os.environ[shards.SHARD_ENV] = options.shard
    if options.junit is not None:
        os.environ[junit.JUNIT_ENV] = str(Path(options.junit).resolve())
    if any((root / marker).exists() for marker in PROJECT_MARKERS):
        os.environ[PROJECT_ENV] = str(root)  # the same project for every doit worker process
    return DoitMain().run([command, "-f", str(DODO_FILE), "-d", str(root), *doit_args])
