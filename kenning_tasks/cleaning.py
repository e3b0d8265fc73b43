"""``doit clean``: remove everything a task wrote, not only its targets.

A stage owns its folder (``build/<pipeline>/<stage>/``), a comparison or grid report its own
(``build/comparison/<a>+<b>/``, ``build/<grid>/report/``). Besides the targets a folder holds
run information (``run-log.json``, ``framework-output.log``, PID files) and what a killed run
left; doit's own ``clean: True`` removes the targets only and leaves the folders. The clean
action here removes the task's folder with everything in it, then each parent left empty, up
to (not including) ``build/``. It refuses a folder outside ``build/``.

A task dict uses it as ``"clean": clean_actions(folder)``.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any


def clean_actions(folder: str | Path, stop_at: str | Path | None = None) -> list[Any]:
    """The ``clean`` entry of a task dict whose outputs all live in ``folder``."""
    if stop_at is None:
        from kenning_tasks.layout import layout

        stop_at = layout().build
    return [(remove_folder, [str(folder), str(stop_at)])]


def remove_folder(folder: str, stop_at: str, dryrun: bool) -> None:
    """doit clean action: remove ``folder`` and the empty parents below ``stop_at``."""
    target, root = Path(folder).absolute(), Path(stop_at).absolute()
    if target == root or not target.is_relative_to(root):
        print(f"clean: not removing {target}: it is not inside {root}")
        return
    if target.exists():
        print(f"clean: removing {target}")
        if not dryrun:
            shutil.rmtree(target)
    for parent in target.parents:
        if parent == root or not parent.is_relative_to(root):
            break
        if not parent.is_dir() or any(parent.iterdir()):
            break
        print(f"clean: removing empty folder {parent}")
        if dryrun:
            break
        parent.rmdir()
