"""Kenning's TVM target strings (``llvm -mcpu=core-avx2``) in TVM 0.27's dict form.

TVM 0.27 rejects option strings; it takes ``{"kind": "llvm", "mcpu": "core-avx2"}``. This
module translates without importing TVM, so validation stays fast: the option names and types
below are those of TVM 0.27's ``llvm`` target kind (``TargetKind.options_from_name("llvm")``;
a test compares them with the installed TVM).
"""

from __future__ import annotations

import shlex
from typing import Any

from kenning_tasks.errors import ScenarioError

# Option -> type of TVM 0.27's llvm target kind ("array" = comma-separated list of strings).
LLVM_OPTIONS: dict[str, str] = {
    "keys": "array", "tag": "str", "device": "str", "model": "str", "libs": "array",
    "mattr": "array", "mcpu": "str", "mtriple": "str", "mfloat-abi": "str", "mabi": "str",
    "num-cores": "int", "fast-math": "bool", "fast-math-nnan": "bool",
    "fast-math-ninf": "bool", "fast-math-nsz": "bool", "fast-math-arcp": "bool",
    "fast-math-contract": "bool", "fast-math-reassoc": "bool", "opt-level": "int",
    "cl-opt": "array", "jit": "str", "vector-width": "int",
}
GPU_KINDS = ("cuda", "rocm", "vulkan", "opencl", "metal", "nvptx", "webgpu", "hexagon")
MICRO_KINDS = ("zephyr", "c")  # Kenning's microTVM targets (C code for Zephyr boards)


def target_dict(target: str | dict[str, Any], attrs: str, where: str) -> dict[str, Any]:
    """The TVM dict target for Kenning's ``target`` (+ ``target_attrs``) or our dict form."""
    if isinstance(target, dict):
        if attrs:
            raise ScenarioError(f"{where}.target_attrs: {attrs!r} is given with a dict target; "
                                "put the options into the dict instead")
        result = dict(target)
        kind = result.get("kind")
        if not isinstance(kind, str):
            raise ScenarioError(f"{where}.target: needs a string 'kind' (e.g. {{kind: llvm}}), "
                                f"got {target!r}")
        _check_kind(kind, where)
    else:
        words = shlex.split(f"{target} {attrs}".strip())
        if not words:
            raise ScenarioError(f"{where}.target: empty; allowed: 'llvm' with options, "
                                "e.g. 'llvm -mcpu=core-avx2'")
        kind = words[0]
        _check_kind(kind, where)
        result = {"kind": kind}
        for word in words[1:]:
            name, value = _option(word, f"{where}.target")
            result[name] = value
    for name, value in result.items():
        if name == "kind":
            continue
        if name not in LLVM_OPTIONS:
            raise ScenarioError(f"{where}.target: unknown llvm option {name!r}; allowed: "
                                + ", ".join(sorted(LLVM_OPTIONS)))
        if not _TYPE_CHECKS[LLVM_OPTIONS[name]](value):
            raise ScenarioError(f"{where}.target.{name}: expected {LLVM_OPTIONS[name]} "
                                f"(TVM's llvm target), got {value!r}")
    return result


_TYPE_CHECKS = {
    "str": lambda v: isinstance(v, str),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "bool": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list) and all(isinstance(i, str) for i in v),
}


def _check_kind(kind: str, where: str) -> None:
    if kind in GPU_KINDS:
        raise ScenarioError(f"{where}.target: {kind!r}: GPU targets are out of scope (no GPU "
                            "here); nearest: 'llvm' (this host's CPU)")
    if kind in MICRO_KINDS:
        raise ScenarioError(f"{where}.target: {kind!r}: microTVM is not part of TVM 0.27 "
                            "(Relax only); nearest: 'llvm' on the host, or TFLiteCompiler with "
                            "an embedded platform for a microcontroller")
    if kind != "llvm":
        raise ScenarioError(f"{where}.target.kind: {kind!r} is not allowed; allowed: 'llvm' "
                            "(TVMRuntime loads a host library)")


def _option(word: str, where: str) -> tuple[str, Any]:
    if not word.startswith("-"):
        raise ScenarioError(f"{where}: {word!r} is not an option (expected -name=value)")
    name, has_value, value = word.lstrip("-").partition("=")
    kind = LLVM_OPTIONS.get(name)
    if kind is None:
        raise ScenarioError(f"{where}: unknown llvm option {name!r}; allowed: "
                            + ", ".join(sorted(LLVM_OPTIONS)))
    if kind == "bool":
        if not has_value:
            return name, True
        if value.lower() in ("1", "true"):
            return name, True
        if value.lower() in ("0", "false"):
            return name, False
    elif not has_value or value == "":
        raise ScenarioError(f"{where}: option -{name} needs a value (-{name}=...)")
    elif kind == "array":
        return name, value.split(",")
    elif kind == "int":
        try:
            return name, int(value)
        except ValueError:
            pass
    else:
        return name, value
    raise ScenarioError(f"{where}: option -{name}: {value!r} is not a {kind}")
