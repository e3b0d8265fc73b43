"""The graph in-process: task dicts, their file_dep/targets/uptodate, without running doit.

Fast tier: no stage runs here, nothing trains, converts or boots QEMU.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kenning_tasks.errors import KenningTasksError, ScenarioError
from kenning_tasks.fingerprint import ImportGraph, all_modules
from kenning_tasks.graph import Graph
from kenning_tasks.layout import Layout
from kenning_tasks.stages.base import Phase
from kenning_tasks.stages.catalog import STAGES, group_docs
from tests.conftest import REPO

DEFAULT = "digits-int8-qemu-m4"


def project_layout(root: Path) -> Layout:
    return Layout(root=root, build=root / "build", cache=None, scenarios=REPO / "scenarios",
                  platforms=REPO / "platforms.yml")


@pytest.fixture
def where(tmp_path: Path) -> Layout:
    return project_layout(tmp_path)


def tasks_of(graph: Graph) -> dict[str, dict]:
    return {name: task for name, (_, task) in graph.plans.items()}


def test_no_import_cycle_in_the_package() -> None:
    """Every import counts, also those inside functions (they run when the function does)."""
    imports = ImportGraph()
    modules = all_modules()
    edges = {m: [d for d in imports.direct(m) if d != m] for m in modules}
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for dep in edges.get(module, []):
            # A package's __init__ runs before its submodules: importing a parent is not a
            # cycle back (``a.b`` imports ``a`` by being in it).
            if module.startswith(dep + "."):
                continue
            if state.get(dep) == 1:
                cycle = [*path[path.index(dep):], dep] if dep in path else [module, dep]
                pytest.fail("import cycle: " + " → ".join(cycle))
            if dep not in state:
                visit(dep, [*path, dep])
        state[module] = 2

    for module in modules:
        if module not in state:
            visit(module, [module])


def test_the_default_scenario_is_one_task_per_stage(where: Layout) -> None:
    graph = Graph(None, where)
    tasks = tasks_of(graph)
    assert [name.split(":")[0] for name in tasks] == [
        "dataset", "train", "convert", "quantize", "compile", "firmware", "simulate",
        "evaluate", "report"]
    build = where.build / DEFAULT
    simulate = tasks[f"simulate:{DEFAULT}"]
    # Its inputs are the firmware stage's loadable image and the test split, by path.
    assert str(build / "firmware/firmware.elf") in simulate["file_dep"]
    assert str(build / "firmware/firmware.elf") in tasks[f"firmware:{DEFAULT}"]["targets"]
    assert str(build / "firmware/firmware.debug.elf") not in simulate["file_dep"]
    assert str(build / "dataset/splits.npz") in simulate["file_dep"]
    # Checks are doit uptodate callables: the signature and the outputs' recorded bytes.
    checks = [type(check).__name__ for check in simulate["uptodate"]]
    assert checks == ["SignatureCheck", "OutputsIntact"]
    plan = simulate["actions"][0][1][0]
    assert plan.scenario.board.name == "mps2-an386"
    assert plan.outputs == ("simulate/target_outputs.npz", "simulate/target_run.json")
    assert simulate["targets"] == [str(build / name) for name in plan.outputs]


def test_signature_check_runs_against_saved_values(where: Layout) -> None:
    """``uptodate`` as doit calls it: (task, values saved by the last successful run)."""
    from doit.task import dict_to_task

    graph = Graph("digits-tflite-int8", where)
    name, (plan, task_dict) = next(iter(graph.plans.items()))
    task = dict_to_task({**task_dict, "name": name})
    check, intact = (entry[0] for entry in task.uptodate)
    assert check(task, {}) is False  # never ran
    assert check(task, {"signature": dict(plan.signature)}) is True
    changed = {**plan.signature, "parameters": {"other": 1}}
    assert check(task, {"signature": changed}) is False
    assert intact(task, {}) is False  # no recorded outputs


def test_task_groups_come_from_the_catalog() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("dodo_under_test", REPO / "dodo.py")
    module = importlib.util.module_from_spec(spec)
    argv = sys.argv
    sys.argv = ["doit", "list"]
    try:
        spec.loader.exec_module(module)
    finally:
        sys.argv = argv
    creators = sorted(name for name in vars(module) if name.startswith("task_"))
    assert creators == sorted(f"task_{group}" for group in group_docs())
    assert {stage.task_group for stage in STAGES} == set(group_docs())
    assert all(isinstance(stage.phase, Phase) for stage in STAGES)
    assert [s.name for s in STAGES if not s.cacheable] == ["flash"]


def test_a_grid_shares_dataset_and_train_and_is_reported_as_a_whole(where: Layout) -> None:
    graph = Graph("digits-grid", where)
    tasks = tasks_of(graph)
    names = list(tasks)
    assert names.count("dataset:digits-grid") == 1 and names.count("train:digits-grid") == 1
    variants = [n for n in names if n.startswith("evaluate:")]
    assert len(variants) > 1
    report = tasks["report:digits-grid"]
    assert len([d for d in report["file_dep"] if d.endswith("measurements.json")]) == len(
        variants)
    assert report["targets"][0] == str(where.build / "digits-grid/report/results.json")
    assert not any(n.startswith("report:digits-grid/") for n in names)


def test_comparison_is_a_stage_with_a_stable_folder(where: Layout) -> None:
    first = tasks_of(Graph("digits-tflite-int8,digits-onnx-f32", where))["report:comparison"]
    again = tasks_of(Graph("digits-tflite-int8,digits-onnx-f32", where))["report:comparison"]
    assert first["targets"] == again["targets"]
    assert first["actions"][0][1][0].cacheable  # restored from the run cache like any stage
    assert first["uptodate"][0].signature == again["uptodate"][0].signature


def test_same_named_scenarios_in_two_folders_are_refused(tmp_path: Path, where: Layout) -> None:
    text = (REPO / "scenarios/digits-tflite-int8.yml").read_text()
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "same.yml").write_text(text)
    with pytest.raises(ScenarioError) as error:
        Graph(f"{tmp_path / 'a/same.yml'},{tmp_path / 'b/same.yml'}", where)
    message = str(error.value)
    assert "\n" not in message and "'same' is already selected" in message


def test_an_unknown_doit_variable_names_the_closest(tmp_path: Path) -> None:
    from kenning_tasks.doit_vars import check_variables

    with pytest.raises(KenningTasksError, match=r"unknown variable 'senario'.*did you mean "
                                                r"'scenario'"):
        check_variables(["senario=x", "report"])
    check_variables(["scenario=x", "-n", "2", "report"])
    run = subprocess.run([sys.executable, "-m", "doit", "-f", str(REPO / "dodo.py"),
                          "senario=x", "list"], cwd=REPO, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    assert run.returncode != 0
    assert run.stderr.strip().count("\n") == 0 and "did you mean 'scenario'" in run.stderr


def test_an_unknown_scenario_names_the_closest(where: Layout) -> None:
    with pytest.raises(ScenarioError, match="did you mean 'digits-tflite-int8'"):
        Graph("digits-tflite-int9", where)


def test_session_timeout_is_in_no_signature(tmp_path: Path, where: Layout) -> None:
    """The one timeout rule: the protocol's timeout_s limits the session when there is a
    protocol block, else the platform's; no limit changes a result, so none is signed."""
    from kenning_tasks.scenario_files import load_scenario
    from kenning_tasks.stages.target_session import session_timeout_s

    base = (REPO / "scenarios" / f"{DEFAULT}.yml").read_text()
    assert "protocol:" in base and "timeout_s" not in base
    signatures = []
    for limit in (100.0, 200.0):
        path = tmp_path / str(int(limit)) / f"{DEFAULT}.yml"
        path.parent.mkdir()
        path.write_text(base.replace("    board: mps2-an386",
                                     f"    board: mps2-an386\n    timeout_s: {limit}"))
        assert f"timeout_s: {limit}" in path.read_text()
        scenario = load_scenario(path)
        assert session_timeout_s(scenario) == scenario.protocol.parameters["timeout_s"]
        graph = Graph(str(path), where)
        signatures.append({n: dict(p.signature) for n, (p, _) in graph.plans.items()})
    assert signatures[0] == signatures[1]


def test_a_run_outside_a_project_stops_with_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "KENNING_TASKS_PROJECT"}
    run = subprocess.run([sys.executable, "-m", "kenning_tasks", "why"], cwd=tmp_path,
                         capture_output=True, text=True,
                         env={**env, "PYTHONPATH": str(REPO)})
    assert run.returncode != 0
    assert run.stderr.count("\n") == 1 and "no kenning-tasks project" in run.stderr
    assert not (tmp_path / "build").exists()


def test_why_from_a_subdirectory_uses_the_project(tmp_path: Path) -> None:
    from tests.conftest import copy_project

    project = copy_project(tmp_path / "project")
    run = subprocess.run([sys.executable, "-m", "kenning_tasks", "why", "dataset"],
                         cwd=project.root / "firmware", capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(project.root)})
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(f"dataset:{DEFAULT} will run")
    assert (project.root / "build").is_dir() and not (project.root / "firmware/build").exists()


def test_the_cached_graph_is_the_built_one_until_an_input_changes(tmp_path: Path,
                                                                  where: Layout) -> None:
    from kenning_tasks import graph_cache

    scenario = tmp_path / "mine.yml"
    scenario.write_text((REPO / "scenarios/digits-tflite-int8.yml").read_text())
    graph = Graph(str(scenario), where)
    graph_cache.store(str(scenario), where, graph, group_docs())
    cached = graph_cache.load(str(scenario), where)
    assert cached is not None
    built = {t["name"]: t for g in group_docs() for t in graph.tasks(g)}
    loaded = {t["name"]: t for g in group_docs() for t in cached.tasks(g)}
    assert built.keys() == loaded.keys()
    for name, task in built.items():
        assert loaded[name]["file_dep"] == task["file_dep"]
        assert loaded[name]["targets"] == task["targets"]
        assert loaded[name]["uptodate"][0].signature == task["uptodate"][0].signature
    assert graph_cache.load("another-spec", where) is None  # another command line
    scenario.write_text(scenario.read_text().replace("epochs: 15", "epochs: 14"))
    assert graph_cache.load(str(scenario), where) is None  # the scenario changed


def _record_success(graph: Graph, state: Path) -> None:
    """Write every task's outputs and save its success as doit's runner does."""
    from doit.dependency import Dependency, SqliteDB
    from doit.task import dict_to_task

    from kenning_tasks.doit_config import DOIT_CONFIG
    from kenning_tasks.signature import record_outputs

    # The file checker doit runs with, as doit's runner would use it.
    dependency = Dependency(SqliteDB, str(state),
                            checker_cls=DOIT_CONFIG["check_file_uptodate"])
    for name, (plan, task_dict) in graph.plans.items():
        for target in task_dict["targets"]:
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            Path(target).write_text(f"{name} {Path(target).name}")
        task = dict_to_task({**task_dict, "name": name})
        task.values = {"signature": dict(plan.signature),
                       "outputs": record_outputs([Path(t) for t in task_dict["targets"]])}
        dependency.save_success(task)
    dependency.close()


def test_why_says_a_stage_runs_after_the_upstream_stage_that_reruns(tmp_path: Path,
                                                                     where: Layout) -> None:
    from kenning_tasks.explain import explain

    scenario = tmp_path / "host.yml"
    text = (REPO / "scenarios/digits-tflite-int8.yml").read_text()
    scenario.write_text(text)
    state = where.build / "state.sqlite3"
    _record_success(Graph(str(scenario), where), state)
    assert all(line.endswith("is up to date")
               for line in explain(Graph(str(scenario), where), state_file=state))
    scenario.write_text(text.replace("dataset_percentage: 0.25", "dataset_percentage: 0.5"))
    lines = explain(Graph(str(scenario), where), state_file=state)
    assert "dataset:host is up to date" in lines and "train:host is up to date" in lines
    quantize = lines.index("quantize:host will run:")
    assert "parameter steps[0].parameters.dataset_percentage changed: 0.25 → 0.5" \
        in lines[quantize + 1]
    assert "compile:host will run after quantize: its input model.tflite will be rebuilt" \
        in lines
    assert "report:host will run after evaluate: its input measurements.json will be " \
        "rebuilt" in lines
