"""Scenario files: find them by name, read them, and load the pipelines they define.

A file is one pipeline (``scenario.validate``) or, with ``optimization_parameters``, one per
grid-search variant (``grid.expand``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kenning_tasks import kenning_names
from kenning_tasks.ci import shards
from kenning_tasks.errors import ScenarioError
from kenning_tasks.grid import expand
from kenning_tasks.layout import BUNDLED_SCENARIOS, layout
from kenning_tasks.problems import did_you_mean
from kenning_tasks.safe_names import check_name, check_scenario_file
from kenning_tasks.scenario import Scenario, validate
from kenning_tasks.scenario_parsing import load_json, load_yaml, read_text

SCENARIO_SUFFIXES = (".yml", ".yaml", ".json")
DEFAULT_SCENARIO = "digits-int8-qemu-m4"


def find_scenario(name: str) -> Path:
    """A scenario by name (a file in scenarios/ without extension) or by path."""
    candidate = Path(name)
    if candidate.suffix in SCENARIO_SUFFIXES and candidate.is_file():
        return candidate.resolve()
    # The project's own scenarios first, then the examples shipped with kenning-tasks.
    for folder in dict.fromkeys((layout().scenarios, BUNDLED_SCENARIOS)):
        for suffix in SCENARIO_SUFFIXES:
            path = folder / f"{name}{suffix}"
            if path.is_file():
                return path
    names = sorted(p.stem for p in available_scenarios())
    raise ScenarioError(f"scenario {name!r}: no such file in {layout().scenarios} and not a "
                        f"path to a .yml/.yaml/.json file; available: {', '.join(names)}"
                        + did_you_mean(name, names))


def available_scenarios() -> list[Path]:
    """The project's scenarios/ (the shipped examples when the project has none)."""
    folder = layout().scenarios if layout().scenarios.is_dir() else BUNDLED_SCENARIOS
    return sorted(p for p in folder.iterdir() if p.suffix in SCENARIO_SUFFIXES)


def select_scenarios(spec: str | None) -> list[Path]:
    """``a,b`` → those files; ``all`` → every file in scenarios/; None → the default.

    With a shard requested (``ci/shards.py``), only the files of that shard.
    """
    if not spec:
        spec = DEFAULT_SCENARIO
    if spec == "all":
        return shards.select(available_scenarios(), shards.requested())
    paths: list[Path] = []
    for name in (part.strip() for part in spec.split(",")):
        if name:
            path = find_scenario(name)
            if path not in paths:
                paths.append(path)
    return shards.select(paths, shards.requested())


def read_file(path: Path) -> dict[str, Any]:
    text = read_text(path)
    try:
        data = load_json(path, text) if path.suffix == ".json" else load_yaml(path, text)
    except ScenarioError:
        raise
    except (ValueError, ImportError) as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ScenarioError(f"{path}: not valid {path.suffix[1:].upper()}: {first}") from error
    except RecursionError:
        raise ScenarioError(f"{path}: nested too deeply to be a scenario") from None
    except Exception as error:  # yaml.YAMLError without importing yaml at module level
        first = " ".join(str(error).split())
        raise ScenarioError(f"{path}: not valid YAML: {first}") from error
    if isinstance(data, list) and data and all(
            isinstance(item, dict) and "type" in item for item in data):
        raise ScenarioError(f"{path}: a list of runners is a KenningFlow: "
                            f"{kenning_names.FLOW}")
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: top level must be a mapping of blocks, "
                            f"got {type(data).__name__}")
    return data


def load_pipelines(path: Path | str) -> tuple[list[Scenario], list[str]]:
    """The pipelines a scenario file defines: itself, or its grid-search variants.

    Returns the valid pipelines and one line per skipped (incompatible) grid combination.
    """
    path = Path(path)
    name = check_scenario_file(path)  # it names the build folder: before anything else
    data = read_file(path)
    if "optimization_parameters" not in data:
        return [validate(path, name, data)], []
    variants, skipped = expand(path, data)
    for variant in variants:
        check_name(str(variant.variant), "grid variant id", str(path))
    return variants, skipped


def load_scenario(path: Path | str, variant: str | None = None) -> Scenario:
    """Read and fully validate one scenario file (one grid variant when ``variant`` is set)."""
    pipelines, _ = load_pipelines(path)
    if variant is None and len(pipelines) == 1 and pipelines[0].variant is None:
        return pipelines[0]
    for pipeline in pipelines:
        if pipeline.variant == variant:
            return pipeline
    raise ScenarioError(f"{path}: no grid variant {variant!r}; variants: "
                        + ", ".join(str(p.variant) for p in pipelines))
