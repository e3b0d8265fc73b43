"""Grid search over optimizers and runtimes (Kenning's ``fine-tune-optimizers``).

A scenario with ``optimization_parameters: {strategy: grid_search, optimizable: [...],
metric, policy}`` lists alternatives for its optimizable blocks:

- ``runtime``: a list of runtime blocks;
- ``optimizers``: a list whose items are alternatives — a block (a one-optimizer chain) or a
  list of blocks (a longer chain); ``[]`` means no optimizer;
- inside an alternative, a parameter given as a list of values (for a parameter that is not
  itself a list) expands into one alternative per value.

Every combination becomes a pipeline named ``<scenario>/<variant>``, where the variant id is
a hash of the combination, so adding an alternative keeps every existing name (and result).
Combinations whose formats do not connect are skipped with a line saying why.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
from pathlib import Path
from typing import Any

from kenning_tasks import registry
from kenning_tasks.errors import ScenarioError
from kenning_tasks.params import Param, resolve_parameters
from kenning_tasks.scenario import ChainError, validate

OPTIMIZABLE = ("optimizers", "runtime")
METRICS = {
    "accuracy": "max", "top_5_accuracy": "max", "mean_precision": "max",
    "mean_sensitivity": "max", "g_mean": "max", "inference_time_mean": "min",
    "model_size_bytes": "min",
}
SEARCH_PARAMETERS = (
    Param("strategy", str, "grid_search", "search strategy", enum=("grid_search",)),
    Param("optimizable", list, list(OPTIMIZABLE), "blocks whose alternatives are searched",
          item_type=str),
    Param("metric", str, "accuracy", "measurement that ranks the pipelines",
          enum=tuple(METRICS)),
    Param("policy", str, "max", "whether the best pipeline has the largest or smallest "
          "metric", enum=("max", "min")),
)


def expand(path: Path, data: dict[str, Any]) -> tuple[list[Any], list[str]]:
    """Valid variant scenarios of a grid-search file, and the skipped combinations."""
    search = resolve_parameters(SEARCH_PARAMETERS, data["optimization_parameters"],
                                f"{path}: optimization_parameters")
    for index, name in enumerate(search["optimizable"]):
        if name not in OPTIMIZABLE:
            raise ScenarioError(f"{path}: optimization_parameters.optimizable[{index}]: "
                                f"{name!r} is not allowed; allowed: {', '.join(OPTIMIZABLE)}")
    base = {k: v for k, v in data.items() if k != "optimization_parameters"}
    choices = {
        "optimizers": (_optimizer_alternatives(path, base.get("optimizers") or [])
                       if "optimizers" in search["optimizable"]
                       else [base.get("optimizers") or []]),
        "runtime": (_runtime_alternatives(path, base.get("runtime"))
                    if "runtime" in search["optimizable"] else [base.get("runtime")]),
    }
    variants, skipped = [], []
    for optimizers, runtime in itertools.product(choices["optimizers"], choices["runtime"]):
        concrete = dict(base, optimizers=optimizers, runtime=runtime)
        variant = variant_id(optimizers, runtime)
        label = describe(optimizers, runtime)
        try:
            variants.append(validate(path, f"{path.stem}/{variant}", concrete, variant=variant,
                                     label=label, search=search))
        except ChainError as error:
            reason = str(error).split(": ", 2)[-1]
            skipped.append(f"{path.stem}: skipped {label}: {reason}")
    if not variants:
        raise ScenarioError(f"{path}: optimization_parameters: no compatible combination; "
                            + "; ".join(skipped))
    return variants, skipped


def variant_id(optimizers: list[dict[str, Any]], runtime: dict[str, Any]) -> str:
    text = json.dumps({"optimizers": optimizers, "runtime": runtime}, sort_keys=True)
    return "v-" + hashlib.sha256(text.encode()).hexdigest()[:8]


def describe(optimizers: list[dict[str, Any]], runtime: dict[str, Any]) -> str:
    """``TFLiteCompiler(target=int8) → TFLiteRuntime`` — what a person reads in the report."""
    def block(entry: dict[str, Any]) -> str:
        params = entry.get("parameters") or {}
        inner = ", ".join(f"{k}={v}" for k, v in sorted(params.items()))
        return f"{entry['type']}({inner})" if inner else str(entry["type"])

    return " → ".join([*(block(o) for o in optimizers), block(runtime)])


def _runtime_alternatives(path: Path, runtime: Any) -> list[dict[str, Any]]:
    entries = runtime if isinstance(runtime, list) else [runtime]
    result = []
    for index, entry in enumerate(entries):
        result += _expand_block(path, f"runtime[{index}]", "runtime", entry)
    return result


def _optimizer_alternatives(path: Path, optimizers: Any) -> list[list[dict[str, Any]]]:
    if not isinstance(optimizers, list):
        raise ScenarioError(f"{path}: optimizers: expected a list of alternatives")
    result: list[list[dict[str, Any]]] = []
    for index, alternative in enumerate(optimizers):
        chain = alternative if isinstance(alternative, list) else [alternative]
        expanded = [_expand_block(path, f"optimizers[{index}]", "optimizer", entry)
                    for entry in chain]
        result += [list(combo) for combo in itertools.product(*expanded)]
    return result


def _expand_block(path: Path, key: str, family: str, entry: Any) -> list[dict[str, Any]]:
    """One block with list-valued parameters → one block per combination of values."""
    if not isinstance(entry, dict) or not isinstance(entry.get("type"), str):
        raise ScenarioError(f"{path}: {key}: expected a block {{type, parameters}}")
    cls = registry.find_block(family, entry["type"])
    declared = {p.name: p for p in getattr(cls, "PARAMETERS", ())}
    params = entry.get("parameters") or {}
    names, values = [], []
    for name, value in params.items():
        param = declared.get(name)
        is_alternatives = isinstance(value, list) and (
            param is None or param.type is not list or (value and isinstance(value[0], list)))
        names.append(name)
        values.append(value if is_alternatives else [value])
    blocks = []
    for combo in itertools.product(*values):
        block = copy.deepcopy(entry)
        if names:
            block["parameters"] = dict(zip(names, combo, strict=True))
        blocks.append(block)
    return blocks


def best(results: list[dict[str, Any]], metric: str, policy: str) -> dict[str, Any]:
    """The result with the best ``metric`` (ties: the first in order)."""
    def value(result: dict[str, Any]) -> float:
        return float(result["metrics"][metric])

    chooser = max if policy == "max" else min
    return chooser(results, key=value)
