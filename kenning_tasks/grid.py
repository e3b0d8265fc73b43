"""Grid search over optimizers and runtimes (Kenning's ``fine-tune-optimizers``).

A scenario with ``optimization_parameters: {strategy: grid_search, optimizable: [...],
metric, policy}`` lists alternatives for its optimizable blocks. Kenning's rules (read from
``kenning/scenarios/optimization_runner.py``, v0.8.2), which apply to a flat list of optimizer
blocks as Kenning users write it:

- a parameter given as a list of values (for a parameter that is not itself a list) expands
  into one variant of its block per value, the cartesian product over its parameters;
- ``optimizers`` is an ordered pool: a pipeline takes one variant of each optimizer, and every
  non-empty subsequence of the pool in its written order is a chain (A, B → [A], [B], [A, B]),
  duplicates dropped;
- ``runtime`` is a list of runtime blocks: each variant of each is one alternative;
- every combination of a chain and a runtime is one pipeline; combinations whose blocks do not
  fit together are skipped with a line saying why (Kenning runs them and lets them fail).

This project's own form stays: when an item of ``optimizers`` is itself a list (a chain) or is
``[]`` (no optimizer), every item is one alternative chain, with no subsequences taken.

Every pipeline is named ``<scenario>/<variant>``, where the variant id is a hash of the
combination, so adding an alternative keeps every existing name (and result).
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import itertools
import json
from pathlib import Path, PurePosixPath
from typing import Any

from kenning_tasks import registry
from kenning_tasks.errors import ScenarioError, StageError
from kenning_tasks.kenning_measurements import GRID_METRICS, HOST_ONLY_METRICS
from kenning_tasks.params import Param, resolve_parameters
from kenning_tasks.problems import Problems
from kenning_tasks.scenario import Scenario, validate

OPTIMIZABLE = ("optimizers", "runtime")
KENNING_OPTIMIZABLE = ("model_wrapper", "dataset", "protocol")  # Kenning's, not searched here
SEARCH_PARAMETERS = (
    Param("strategy", str, "grid_search", "search strategy", enum=("grid_search",)),
    Param("optimizable", list, list(OPTIMIZABLE), "blocks whose alternatives are searched",
          item_type=str),
    Param("metric", str, "accuracy", "measurement that ranks the pipelines (Kenning's names, "
          "e.g. inferencetime_mean, or this project's)", enum=tuple(GRID_METRICS)),
    Param("policy", str, "max", "whether the best pipeline has the largest or smallest "
          "metric", enum=("max", "min")),
)


def expand(path: Path, data: dict[str, Any]) -> tuple[list[Scenario], list[str]]:
    """Valid variant scenarios of a grid-search file, and the skipped combinations."""
    search = resolve_parameters(SEARCH_PARAMETERS, data["optimization_parameters"],
                                f"{path}: optimization_parameters")
    problems = Problems()
    for index, name in enumerate(search["optimizable"]):
        if name in KENNING_OPTIMIZABLE:
            problems.add(f"{path}: optimization_parameters.optimizable[{index}]: {name!r} is "
                         "not searched here (one dataset and model per grid, trained once); "
                         f"allowed: {', '.join(OPTIMIZABLE)}")
        elif name not in OPTIMIZABLE:
            problems.add(f"{path}: optimization_parameters.optimizable[{index}]: {name!r} is "
                         f"not allowed; allowed: {', '.join(OPTIMIZABLE)}")
    problems.raise_if_any()
    base = {k: v for k, v in data.items() if k != "optimization_parameters"}
    if "optimizers" in search["optimizable"]:
        chains = optimizer_chains(path, base.get("optimizers") or [])
    else:
        chains = [base.get("optimizers") or []]
    if "runtime" in search["optimizable"]:
        runtimes: list[Any] = runtime_alternatives(path, base.get("runtime"))
    elif isinstance(base.get("runtime"), list):
        raise ScenarioError(f"{path}: runtime: a list of runtimes is searched only with "
                            "'runtime' in optimization_parameters.optimizable")
    else:
        runtimes = [base.get("runtime")]
    variants: list[Scenario] = []
    skipped: list[str] = []
    for optimizers, runtime in itertools.product(chains, runtimes):
        concrete = dict(base, optimizers=optimizers)
        if runtime is None:
            concrete.pop("runtime", None)  # derived, as in Kenning
        else:
            concrete["runtime"] = runtime
        variant = variant_id(optimizers, runtime)
        label = describe(optimizers, runtime)
        if any(v.variant == variant for v in variants):
            problems.add(f"{path}: {label}: listed twice (alternatives that differ only in "
                         "compiled_model_path or save_model_path build the same pipeline)")
            continue
        try:
            scenario = validate(path, f"{path.stem}/{variant}", concrete, variant=variant,
                                label=label, search=search)
        except ScenarioError as error:
            if not error.compatibility:
                for line in error.problems:
                    problems.add(line)
                continue
            reasons = "; ".join(line.split(": ", 2)[-1] for line in error.problems)
            skipped.append(f"{path.stem}: skipped {label}: {reasons}")
            continue
        if search["metric"] in HOST_ONLY_METRICS and scenario.target_stages():
            problems.add(f"{path}: optimization_parameters.metric: {search['metric']!r} is "
                         f"measured on the host only, but {label} runs on a board")
        variants.append(_prefix_exports(scenario, variant))
    problems.raise_if_any()
    if not variants:
        raise ScenarioError(f"{path}: optimization_parameters: no compatible combination; "
                            + "; ".join(skipped))
    return variants, skipped


# Export requests do not change what is built: they name neither the variant nor its label.
EXPORT_PARAMETERS = ("compiled_model_path", "save_model_path")


def _without_exports(entry: dict[str, Any] | None) -> dict[str, Any] | None:
    if entry is None or not isinstance(entry.get("parameters"), dict):
        return entry
    params = {k: v for k, v in entry["parameters"].items() if k not in EXPORT_PARAMETERS}
    return {**entry, "parameters": params}


def variant_id(optimizers: list[dict[str, Any]], runtime: dict[str, Any] | None) -> str:
    text = json.dumps({"optimizers": [_without_exports(o) for o in optimizers],
                       "runtime": _without_exports(runtime)}, sort_keys=True)
    return "v-" + hashlib.sha256(text.encode()).hexdigest()[:8]


def describe(optimizers: list[dict[str, Any]], runtime: dict[str, Any] | None) -> str:
    """``TFLiteCompiler(target=int8) → TFLiteRuntime`` — what a person reads in the report."""
    def block(entry: dict[str, Any]) -> str:
        params = _without_exports(entry).get("parameters") or {}  # type: ignore[union-attr]
        inner = ", ".join(f"{k}={v}" for k, v in sorted(params.items()))
        name = str(entry["type"]).rsplit(".", 1)[-1]
        return f"{name}({inner})" if inner else name

    tail = block(runtime) if runtime is not None else "(derived runtime)"
    return " → ".join([*(block(o) for o in optimizers), tail])


def is_chain_form(optimizers: list[Any]) -> bool:
    """This project's form: some item is itself a list (an alternative chain)."""
    return any(isinstance(item, list) for item in optimizers)


def optimizer_chains(path: Path, optimizers: Any) -> list[list[dict[str, Any]]]:
    """Every optimizer chain the grid tries (see the module docstring for the rules)."""
    if not isinstance(optimizers, list):
        raise ScenarioError(f"{path}: optimizers: expected a list of optimizer blocks")
    if is_chain_form(optimizers):
        result: list[list[dict[str, Any]]] = []
        for index, alternative in enumerate(optimizers):
            chain = alternative if isinstance(alternative, list) else [alternative]
            expanded = [expand_block(path, f"optimizers[{index}]", "optimizer", entry)
                        for entry in chain]
            result += [list(combo) for combo in itertools.product(*expanded)]
        return result
    # Kenning: one variant of every optimizer, then each non-empty ordered subsequence.
    variants = [expand_block(path, f"optimizers[{index}]", "optimizer", entry)
                for index, entry in enumerate(optimizers)]
    chains: list[list[dict[str, Any]]] = []
    for picked in itertools.product(*variants):
        for size in range(1, len(picked) + 1):
            for chain in itertools.combinations(picked, size):
                if list(chain) not in chains:
                    chains.append(list(chain))
    return chains


def runtime_alternatives(path: Path, runtime: Any) -> list[dict[str, Any] | None]:
    if runtime is None:
        return [None]  # derived from each chain's last optimizer, as in Kenning
    entries = runtime if isinstance(runtime, list) else [runtime]
    result: list[dict[str, Any] | None] = []
    for index, entry in enumerate(entries):
        result += expand_block(path, f"runtime[{index}]", "runtime", entry)
    return result


def expand_block(path: Path, key: str, family: str, entry: Any) -> list[dict[str, Any]]:
    """One block with list-valued parameters → one block per combination of values."""
    if not isinstance(entry, dict) or not isinstance(entry.get("type"), str):
        raise ScenarioError(f"{path}: {key}: expected a block {{type, parameters}}")
    cls = registry.find_block(family, entry["type"])
    declared = {p.name: p for p in getattr(cls, "PARAMETERS", ())}
    params = entry.get("parameters") or {}
    if not isinstance(params, dict):
        raise ScenarioError(f"{path}: {key}.parameters: must be a mapping of parameters")
    names, values = [], []
    for name, value in params.items():
        param = declared.get(name)
        is_alternatives = isinstance(value, list) and (
            param is None or param.type is not list or (value and isinstance(value[0], list)))
        if is_alternatives and not value:
            raise ScenarioError(f"{path}: {key}.parameters.{name}: an empty list of values "
                                "leaves no variant")
        names.append(name)
        values.append(value if is_alternatives else [value])
    blocks = []
    for combo in itertools.product(*values):
        # Values are copied per variant, the rest of the block shared (validation reads it).
        block = dict(entry)
        if names:
            block["parameters"] = {name: copy.deepcopy(value)
                                   for name, value in zip(names, combo, strict=True)}
        blocks.append(block)
    return blocks


def _prefix_exports(scenario: Scenario, variant: str) -> Scenario:
    """Each variant exports to its own files: ``<variant>_<name>``, as Kenning prefixes its
    pipeline index (here the stable variant id)."""
    exports = tuple(dataclasses.replace(e, path=_prefixed(e.path, variant))
                    for e in scenario.exports)
    return dataclasses.replace(scenario, exports=exports)


def _prefixed(path: str, variant: str) -> str:
    pure = PurePosixPath(path)
    return str(pure.with_name(f"{variant}_{pure.name}"))


def best(results: list[dict[str, Any]], metric: str, policy: str) -> dict[str, Any]:
    """The result with the best ``metric`` (ties: the first in order).

    Pipelines that do not measure the metric (Kenning's ROC AUC needs two classes) are not
    ranked; when none does, that is an error.
    """
    ranked = [r for r in results if metric in r["metrics"]]
    if not ranked:
        raise StageError(f"optimization_parameters.metric: no pipeline measures {metric!r}; "
                         "measured: " + ", ".join(sorted(results[0]["metrics"])))

    def value(result: dict[str, Any]) -> float:
        return float(result["metrics"][metric])

    chooser = max if policy == "max" else min
    return chooser(ranked, key=value)

