"""Export requests: copy a stage's artifact to the path the user named (Kenning's
``compiled_model_path``, ``save_model_path`` and the report's paths).

The run action (``action.py``) calls ``publish`` after a stage succeeded or was restored from
the run cache; it copies each artifact of that stage that an export names, byte for byte
(and its I/O spec sidecar, which Kenning writes next to a model as ``<model>.json``),
atomically: a temporary file in the target folder renamed into place, so a reader never sees
half a model. A relative export path starts at the scenario file's folder, as every other
path in a scenario does.

Exports are deliberately not doit targets: the same file is often named twice (Kenning's files
give ``compiled_model_path`` and ``save_model_path`` the same path, and doit refuses two tasks
with one target), it lies outside ``build/`` where ``clean`` must not delete a user's file,
and it is a copy, not an input of anything: editing or removing it must not rerun a stage.
An export is refreshed whenever its stage runs or is restored.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from kenning_tasks import artifacts, iospec
from kenning_tasks.errors import StageError

if TYPE_CHECKING:
    from kenning_tasks.scenario import Export, Scenario
    from kenning_tasks.stages.base import StageContext


def export_path(scenario: Scenario, export: Export) -> Path:
    """Where ``export`` goes: absolute as written, or relative to the scenario file."""
    path = Path(export.path).expanduser()
    return path if path.is_absolute() else scenario.path.parent / path


def stage_exports(scenario: Scenario, stage: str) -> list[Export]:
    """The exports whose artifact ``stage`` writes."""
    return [e for e in scenario.exports
            if e.artifact is not None and e.artifact.split("/", 1)[0] == stage]


def publish(ctx: StageContext, log: Callable[[str], None]) -> list[Path]:
    """The run action's hook: copy the exports of ``ctx``'s stage (none for a comparing
    stage, which has no scenario)."""
    if ctx.scenario is None:
        return []
    return copy_exports(ctx.scenario, ctx.stage, ctx.path, log)


def copy_exports(scenario: Scenario, stage: str, artifact_path: Callable[[str], Path],
                 log: Callable[[str], None]) -> list[Path]:
    """Copy ``stage``'s exported artifacts to their paths; return the files written.

    ``artifact_path`` maps a pipeline-relative artifact (``compile/model.tflite``) to its file
    (``StageContext.path``). A copy that cannot be written is one line naming the key.
    """
    written = []
    for export in stage_exports(scenario, stage):
        assert export.artifact is not None
        source = artifact_path(export.artifact)
        target = export_path(scenario, export)
        pairs = [(source, target)]
        sidecar = iospec.spec_path(source)
        if sidecar.is_file():
            pairs.append((sidecar, iospec.spec_path(target)))
        for src, dst in pairs:
            try:
                if _copy_if_changed(src, dst):
                    written.append(dst)
            except OSError as failure:
                raise StageError(f"{scenario.path}: {export.key}: cannot write {dst}: "
                                 f"{failure.strerror or failure}") from None
        log(f"exported {export.artifact} to {target} ({export.key})")
    if stage == "compile":  # the end of the model chain says which models it could not keep
        for export in scenario.exports:
            if export.artifact is None:
                log(f"warning: {export.key}: {export.path} not written: {export.note}")
    return written


def _copy_if_changed(source: Path, target: Path) -> bool:
    """Copy ``source`` onto ``target`` atomically unless it already holds the same bytes."""
    if target.is_file() and target.stat().st_size == source.stat().st_size \
            and artifacts.sha256_file(target) == artifacts.sha256_file(source):
        return False
    if target.is_dir():
        raise IsADirectoryError(21, "is a directory")
    with artifacts.atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)
        os.chmod(tmp, artifacts.file_mode())
    return True
