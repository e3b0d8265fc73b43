"""Code fingerprints come from the code: every module a stage can reach, and no other.

Fast tier: the closure is computed from the sources (ast), nothing is run.
"""

from __future__ import annotations

import functools
import modulefinder
from pathlib import Path

import pytest

from kenning_tasks import fingerprint
from kenning_tasks.fingerprint import ImportGraph
from kenning_tasks.graph import Graph
from kenning_tasks.layout import Layout
from kenning_tasks.stages.catalog import get_stage
from tests.conftest import REPO

SCENARIOS = ("digits-int8-qemu-m4", "digits-tflite-int8", "digits-grid")


@pytest.fixture(scope="module")
def graphs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Graph]:
    root = tmp_path_factory.mktemp("fingerprint")
    where = Layout(root=root, build=root / "build", cache=None, scenarios=REPO / "scenarios",
                   platforms=REPO / "platforms.yml")
    return {name: Graph(name, where) for name in SCENARIOS}


@functools.cache
def reached_by_bytecode(entries: tuple[str, ...]) -> set[str]:
    """Project modules Python's own ModuleFinder reaches from ``entries`` (it follows the
    imports in every code object, so inside functions too), as relative paths."""
    finder = modulefinder.ModuleFinder(path=[str(REPO)])
    for module in entries:
        finder.import_hook(module)
    return {str(Path(m.__file__).relative_to(REPO)) for name, m in finder.modules.items()
            if name.split(".")[0] == "kenning_tasks" and m.__file__}


def test_fingerprint_covers_every_module_a_stage_can_reach(graphs: dict[str, Graph]) -> None:
    """The guard: an independent walk (bytecode, not ast) finds nothing the stage's code
    fingerprint leaves out."""
    for graph in graphs.values():
        for plan, _ in graph.plans.values():
            stage = get_stage(plan.stage)
            subject = plan.scenario if plan.scenario is not None else plan.group
            code = plan.signature["code"]
            entries = (stage.module, *stage.modules(subject))
            missing = reached_by_bytecode(entries) - set(code)
            assert not missing, f"{plan.task}: not in its code fingerprint: {sorted(missing)}"


def test_the_quantization_helper_belongs_to_the_stages_that_quantize_inputs(
        graphs: dict[str, Graph]) -> None:
    """metrics.quantize turns test samples into the int8 bytes the board gets (simulate) and
    the host interpreter gets (evaluate); the report reads evaluate's definitions."""
    metrics = "kenning_tasks/metrics.py"
    on_target = {p.stage for p, _ in graphs["digits-int8-qemu-m4"].plans.values()
                 if metrics in p.signature["code"]}
    assert on_target == {"simulate", "evaluate", "report"}
    host = {p.stage for p, _ in graphs["digits-tflite-int8"].plans.values()
            if metrics in p.signature["code"]}
    assert host == {"evaluate", "report"}


def test_a_stage_is_not_fingerprinted_with_code_it_cannot_reach(
        graphs: dict[str, Graph]) -> None:
    plans = {p.stage: p for p, _ in graphs["digits-int8-qemu-m4"].plans.values()}
    dataset = plans["dataset"].signature["code"]
    assert not any(path.startswith(("kenning_tasks/mcu/", "kenning_tasks/codegen/",
                                    "kenning_tasks/reporting/")) for path in dataset)
    assert "kenning_tasks/action.py" not in dataset and "kenning_tasks/graph.py" not in dataset
    firmware = plans["firmware"].signature["code"]
    assert "kenning_tasks/codegen/emit.py" in firmware  # imported inside a function
    assert "kenning_tasks/mcu/build.py" in firmware
    # Tool versions: what the code imports (read from metadata), plus the compiler.
    assert "pyelftools" in plans["firmware"].signature["tools"]
    assert "compiler" in plans["firmware"].signature["tools"]


def test_imports_inside_functions_and_lazy_exports_are_followed(tmp_path: Path) -> None:
    graph = ImportGraph()
    # target_session imports metrics inside a function; simulate gets run_on_qemu through
    # mcu's lazy __getattr__ (mcu/__init__.py's _EXPORTS), also inside a function.
    assert "kenning_tasks.metrics" in graph.closure(["kenning_tasks.stages.target_session"])
    simulate = graph.closure(["kenning_tasks.stages.simulate"])
    assert {"kenning_tasks.mcu.qemu", "kenning_tasks.mcu.link"} <= set(simulate)
    source = tmp_path / "m.py"
    source.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                      "    from kenning_tasks import graph\n"
                      "def f():\n    from kenning_tasks.mcu import get_board\n"
                      "    import numpy\n")
    parsed = fingerprint.parse_imports(source, "kenning_tasks.m")
    assert "kenning_tasks.graph" not in parsed["project"]
    assert "kenning_tasks.mcu.get_board" in parsed["project"]
    assert parsed["third_party"] == ["numpy", "typing"]


def test_the_import_cache_is_reused_until_a_file_changes(tmp_path: Path, monkeypatch) -> None:
    cache = tmp_path / "graph-cache.json"
    first = ImportGraph(cache)
    expected = first.fingerprint(["kenning_tasks.stages.evaluate"])
    first.save()
    assert cache.is_file()
    monkeypatch.setattr(fingerprint, "_PARSED", {})

    def refuse(*args: object) -> None:
        raise AssertionError("parsed again although no file changed")

    monkeypatch.setattr(fingerprint, "parse_imports", refuse)
    assert ImportGraph(cache).fingerprint(["kenning_tasks.stages.evaluate"]) == expected
