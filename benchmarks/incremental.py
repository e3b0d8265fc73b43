"""Measure the incremental build: what reruns after each kind of edit, and what loading costs.

Runs on a fresh copy of the project (sources + scenarios) in a temporary folder, with its own
build/ and run cache, and prints JSON:

- ``noop``: CPU time (user + system of the doit process) of a no-op rerun of the default
  scenario against bare doit running 9 trivial file tasks in a chain, medians of ``--repeat``
  runs, and their ratio;
- ``grid_load``: wall and CPU time of ``doit list --all`` for a generated grid-search scenario
  of 4/16/64/256 variants, built (scenario just edited) and cached, medians of 3;
- ``edits``: the stages executed after a comment-only edit of a firmware C file, a forced
  re-simulation of the same ELF (its outputs deleted, run cache off), an edit of the input
  quantization helper (``metrics.quantize``), and one quantization parameter.

Usage: ``.venv/bin/python benchmarks/incremental.py [--repeat N] [--keep DIR]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COPIED = ("dodo.py", "kenning_tasks", "scenarios", "firmware", "platforms.yml")
DOIT = [sys.executable, "-m", "doit"]
BARE_DODO = '''
DOIT_CONFIG = {"backend": "sqlite3", "dep_file": ".doit.db", "verbosity": 1}


def write(targets):
    for target in targets:
        with open(target, "w") as stream:
            stream.write("x")


def task_stage():
    previous = []
    for index in range(9):
        target = f"out{index}.txt"
        yield {"name": str(index), "actions": [write], "file_dep": previous,
               "targets": [target]}
        previous = [target]
'''
C_SOURCE = "firmware/runtime/conv2d.c"
QUANTIZE_HELPER = "kenning_tasks/metrics.py"


def copy_sources(destination: Path) -> None:
    for name in COPIED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, destination / name,
                            ignore=shutil.ignore_patterns("__pycache__"))
        elif source.exists():
            shutil.copy2(source, destination / name)


def run(root: Path, *args: str, cache: bool = True) -> tuple[float, float, list[str]]:
    """(wall s, CPU s of the child, tasks executed) of one doit run in ``root``."""
    env = dict(os.environ, PYTHONPATH=str(root),
               KENNING_TASKS_CACHE=str(root / "cache") if cache else "off")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    completed = subprocess.run([*DOIT, *args], cwd=root, env=env, capture_output=True,
                               text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode != 0:
        sys.exit(f"doit {' '.join(args)} failed in {root}:\n{completed.stdout}\n"
                 f"{completed.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, re.findall(r"^\.  (\S+)$", completed.stdout, flags=re.M)


def stages(executed: list[str]) -> list[str]:
    return [name.split(":", 1)[0] for name in executed]


def median_cpu(root: Path, repeat: int, *args: str) -> float:
    return statistics.median(run(root, *args)[1] for _ in range(repeat))


def noop(root: Path, scenario: str, repeat: int) -> dict[str, object]:
    bare = root / "bare-doit"
    bare.mkdir()
    (bare / "dodo.py").write_text(BARE_DODO)
    run(bare)
    bare_cpu = median_cpu(bare, repeat)
    ours_cpu = median_cpu(root, repeat, f"scenario={scenario}", "report")
    _, _, executed = run(root, f"scenario={scenario}", "report")
    return {"scenario": scenario, "runs": repeat, "kenning_tasks_cpu_s": round(ours_cpu, 3),
            "bare_doit_9_tasks_cpu_s": round(bare_cpu, 3),
            "ratio": round(ours_cpu / bare_cpu, 2), "executed": executed}


def grid_scenario(root: Path, variants: int) -> str:
    percentages = ", ".join(f"{(i + 1) / (variants + 1):.4f}" for i in range(variants))
    name = f"bench-grid-{variants}"
    (root / "scenarios" / f"{name}.yml").write_text(f"""\
dataset: {{type: DigitsDataset}}
model_wrapper: {{type: KerasModel, parameters: {{epochs: 1}}}}
optimizers:
  - type: TFLiteCompiler
    parameters: {{target: int8, dataset_percentage: [{percentages}]}}
runtime: {{type: TFLiteRuntime}}
optimization_parameters: {{strategy: grid_search, optimizable: [optimizers],
                          metric: accuracy, policy: max}}
""")
    return name


def grid_load(root: Path, repeat: int) -> list[dict[str, object]]:
    """Medians of ``repeat`` loads: built (the scenario file touched before each, so the
    graph is built again; the sources' import graph stays cached) and cached."""
    result = []
    for variants in (4, 16, 64, 256):
        name = grid_scenario(root, variants)
        built, cached = [], []
        for _ in range(repeat):
            os.utime(root / "scenarios" / f"{name}.yml")
            built.append(run(root, f"scenario={name}", "list", "--all")[:2])
            cached.append(run(root, f"scenario={name}", "list", "--all")[:2])
        result.append({"variants": variants,
                       "built_load_s": round(statistics.median(w for w, _ in built), 3),
                       "built_load_cpu_s": round(statistics.median(c for _, c in built), 3),
                       "cached_load_s": round(statistics.median(w for w, _ in cached), 3),
                       "cached_load_cpu_s": round(statistics.median(c for _, c in cached), 3)})
    return result


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    if old not in text:
        sys.exit(f"{path}: {old!r} not found")
    path.write_text(text.replace(old, new, 1))


def edits(root: Path, scenario: str) -> dict[str, object]:
    spec = f"scenario={scenario}"
    build = root / "build" / scenario
    result: dict[str, object] = {}

    elf = (build / "firmware/firmware.elf").read_bytes()
    edit(root / C_SOURCE, "#include", "/* a comment-only edit */\n#include")
    _, _, executed = run(root, spec, "report")
    result["comment_only_c_edit"] = {
        "file": C_SOURCE, "executed": stages(executed),
        "loadable_elf_unchanged": (build / "firmware/firmware.elf").read_bytes() == elf}

    outputs = build / "simulate/target_outputs.npz"
    before = outputs.read_bytes()
    outputs.unlink()
    _, _, executed = run(root, spec, "report", cache=False)  # really run QEMU again
    result["forced_resimulation_same_elf"] = {
        "executed": stages(executed), "target_outputs_identical": outputs.read_bytes() == before}

    edit(root / QUANTIZE_HELPER, "def quantize(", "# an edit of the input quantization helper\n"
         "def quantize(")
    _, _, executed = run(root, spec, "report")
    result["quantize_helper_edit"] = {"file": QUANTIZE_HELPER, "executed": stages(executed)}

    scenario_file = root / "scenarios" / f"{scenario}.yml"
    edit(scenario_file, "dataset_percentage: 0.25", "dataset_percentage: 0.3")
    _, _, executed = run(root, spec, "report")
    result["quantization_parameter_edit"] = {"executed": stages(executed)}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default=None, help="default: the project's default")
    parser.add_argument("--repeat", type=int, default=7, help="runs per CPU-time median")
    parser.add_argument("--keep", type=Path, help="run in this folder and keep it")
    options = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from kenning_tasks.scenario_files import DEFAULT_SCENARIO

    scenario = options.scenario or DEFAULT_SCENARIO
    root = options.keep or Path(tempfile.mkdtemp(prefix="kt-incremental-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        copy_sources(root)
        cold_wall, _, cold = run(root, f"scenario={scenario}", "report")
        figures = {"cold_s": round(cold_wall, 3), "cold_stages": stages(cold),
                   "noop": noop(root, scenario, options.repeat),
                   "grid_load": grid_load(root, 3),
                   "edits": edits(root, scenario)}
    finally:
        if options.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
