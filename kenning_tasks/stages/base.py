"""What a stage declares (data, read by the graph) and what it gets when it runs.

A stage module defines ``STAGE = Stage(...)``: its phase, whether the run cache may restore
it, when it applies, and functions of the scenario giving its inputs, outputs, parameters,
entry modules and tools. ``stages/catalog.py`` lists them in pipeline order, ``graph.py``
turns them into doit task dicts and ``action.py`` runs one from a ``TaskPlan``. This module
imports neither: a stage never reaches the graph or the action.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # a declaration module: loading it must not load the validator
    from kenning_tasks.scenario import Scenario


class Phase(enum.Enum):
    """Where a stage sits in a pipeline. In a grid search the ``SHARED`` phases (dataset and
    train do not depend on a variant) run once for all variants."""

    DATA = "data"          # dataset
    MODEL = "model"        # train
    CHAIN = "chain"        # convert, quantize, compile
    TARGET = "target"      # firmware, simulate, flash (embedded platforms)
    MEASURE = "measure"    # evaluate
    REPORT = "report"      # one pipeline's report
    COMPARE = "compare"    # several pipelines: the comparison and the grid-search report

    @property
    def shared_in_grid(self) -> bool:
        return self in (Phase.DATA, Phase.MODEL)


@dataclass(frozen=True)
class Group:
    """What a comparing stage (``Phase.COMPARE``) is built for, in place of a scenario:
    several pipelines, each with its label and measurements file, written into ``folder``."""

    name: str
    folder: str
    members: tuple[tuple[str, str, str], ...]  # (pipeline, label, measurements.json)
    search: Mapping[str, Any] | None = None  # a grid's optimization_parameters

    @property
    def names(self) -> list[str]:
        return [name for name, _, _ in self.members]


@dataclass(frozen=True)
class StageContext:
    """Everything a running stage needs: the scenario, where to read and write, how to log.

    A comparing stage gets its ``group`` instead of a scenario.
    """

    scenario: Scenario | None
    stage: str
    owners: Mapping[str, str]  # stage -> build folder holding its outputs (graph.Pipeline)
    log: Callable[[str], None]
    group: Group | None = None

    @property
    def out_dir(self) -> Path:
        if self.group is not None:
            return Path(self.group.folder)
        return self.path(self.stage)

    def path(self, relative: str) -> Path:
        """A file of this pipeline, e.g. ``path("train/model.keras")``."""
        if self.group is not None:
            return Path(self.group.folder) / relative
        stage = relative.split("/", 1)[0]
        return Path(self.owners.get(stage, self.owners[self.stage])) / relative


def _none(scenario: Scenario) -> list[Any]:
    return []


def _empty(scenario: Scenario) -> dict[str, Any]:
    return {}


def _always(scenario: Scenario) -> bool:
    return True


@dataclass(frozen=True)
class Stage:
    """A stage's declaration. Paths are relative to the pipeline's build folder and start
    with the stage owning the file (``train/model.keras``)."""

    name: str
    phase: Phase
    doc: str
    run: Callable[[StageContext], None]
    outputs: Callable[[Scenario], list[str]]
    inputs: Callable[[Scenario], list[str]] = _none
    external_inputs: Callable[[Scenario], list[Path]] = _none
    parameters: Callable[[Scenario], dict[str, Any]] = _empty
    # Entry modules besides the stage's own (its blocks'); the code fingerprint follows their
    # imports (fingerprint.py), so only what is loaded dynamically needs naming here.
    modules: Callable[[Scenario], list[str]] = _none
    # Tools that are not Python distributions a block declares (QEMU, gcc).
    tools: Callable[[Scenario], dict[str, str]] = _empty
    applies: Callable[[Scenario], bool] = _always
    # False when an output depends on something doit cannot see (a board's state).
    cacheable: bool = True
    # The doit task group (``task_<group>`` in dodo.py); the stage's name by default.
    group: str = ""

    @property
    def task_group(self) -> str:
        return self.group or self.name

    @property
    def module(self) -> str:
        return self.run.__module__
