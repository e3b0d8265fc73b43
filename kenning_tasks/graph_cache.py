"""The graph of the last load, reused while nothing it was built from has changed.

Building the graph validates scenarios, imports every stage and block declaration and walks
the sources' imports: most of a no-op rerun's time. So the finished task dicts are pickled
into ``build/.graph-cache.tasks.pickle`` with the stat (size, mtime, inode) of everything the build
read: the selected scenario files and their folders, platforms.yml, ``kenning-tasks.toml``,
every source file and folder of the package and of ``firmware/``, the folders of external
inputs, the ``site-packages`` folders (tool versions) and the tools run for their versions.
A load whose command line, environment and stats all match takes the pickled tasks; any
difference builds the graph again. Loading a hit imports no stage, block or validator.
"""

from __future__ import annotations

import os
import pickle
import shutil
import sys
from typing import Any

from kenning_tasks.layout import PACKAGE_DIR, Layout, project_layout

CACHE = ".graph-cache.tasks.pickle"
VERSION = 1
# Executables whose ``--version`` enters a signature (stages simulate and firmware).
TOOL_EXECUTABLES = ("qemu-system-arm", "arm-none-eabi-gcc", "west", "openocd")


class CachedGraph:
    """What dodo.py needs from a graph: the task dicts by doit task group."""

    def __init__(self, groups: dict[str, str], tasks: dict[str, list[dict[str, Any]]]) -> None:
        self.groups = groups
        self._tasks = tasks

    def tasks(self, group: str) -> list[dict[str, Any]]:
        return self._tasks.get(group, [])


def _stamp(path: str) -> list[int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return [stat.st_size, stat.st_mtime_ns, stat.st_ino]


def _key(spec: str | None, where: Layout) -> dict[str, Any]:
    environment = {k: v for k, v in os.environ.items()
                   if k.startswith("KENNING_TASKS_") or k in ("PATH", "PYTHONPATH")}
    return {"version": VERSION, "spec": spec, "cwd": os.getcwd(), "root": str(where.root),
            "python": [sys.executable, sys.version], "environment": environment}


def _watched(graph: Any, where: Layout) -> list[str]:
    paths: set[str] = {str(where.root / "kenning-tasks.toml"), str(where.root / "platforms.yml"),
                       str(where.platforms), str(where.scenarios)}
    for tree in (PACKAGE_DIR, where.firmware):
        for folder, _, files in os.walk(tree):
            if "__pycache__" in folder:
                continue
            paths.add(folder)
            paths.update(os.path.join(folder, f) for f in files if not f.endswith(".pyc"))
    for path in graph.scenario_files:
        paths.update((str(path), str(path.parent)))
    build = str(where.build)
    for plan, task in graph.plans.values():
        # Code outside the package (a user's block module) is labelled by its absolute path.
        paths.update(label for label in plan.signature["code"] if os.path.isabs(label))
        for dep in task["file_dep"]:
            if not dep.startswith(build):  # an external input: a new file beside it counts
                paths.add(os.path.dirname(dep))
    paths.update(entry for entry in sys.path
                 if entry.endswith(("site-packages", "dist-packages")))
    paths.update(found for tool in TOOL_EXECUTABLES if (found := shutil.which(tool)))
    return sorted(paths)


def load(spec: str | None, where: Layout) -> CachedGraph | None:
    """The cached graph for this command line and environment, if nothing changed."""
    try:
        with open(where.build / CACHE, "rb") as stream:
            data = pickle.load(stream)
        if data["key"] != _key(spec, where):
            return None
        if any(_stamp(path) != stamp for path, stamp in data["stamps"].items()):
            return None
    except Exception:  # missing, damaged or from another version: build again
        return None
    for line in data["notes"]:
        print(line, file=sys.stderr)
    return CachedGraph(data["groups"], data["tasks"])


def store(spec: str | None, where: Layout, graph: Any, groups: dict[str, str]) -> None:
    """Pickle the graph's task dicts with the stamps of what they were built from."""
    tasks: dict[str, list[dict[str, Any]]] = {}
    for name, (_, task) in graph.plans.items():
        tasks.setdefault(name.split(":", 1)[0], []).append(task)
    data = {"key": _key(spec, where), "stamps": {p: _stamp(p) for p in _watched(graph, where)},
            "notes": list(graph.notes), "groups": groups, "tasks": tasks}
    target = where.build / CACHE
    temporary = target.with_name(f".{target.name}.{os.getpid()}")
    try:
        with open(temporary, "wb") as stream:
            pickle.dump(data, stream, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, target)
    except OSError:
        temporary.unlink(missing_ok=True)


def load_graph(spec: str | None) -> Any:
    """The graph dodo.py uses: from the cache when it is valid, else built (and cached)."""
    where = project_layout()
    cached = load(spec, where)
    if cached is not None:
        return cached
    from kenning_tasks.graph import Graph
    from kenning_tasks.stages.catalog import group_docs

    graph = Graph(spec)
    groups = group_docs()
    store(spec, graph.layout, graph, groups)
    return CachedGraph(groups, {g: list(graph.tasks(g)) for g in groups})
