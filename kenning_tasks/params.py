"""Declare-once block parameters.

A block lists its parameters once as ``Param`` objects; validation, defaults, the ``info``
command and the stage signatures all derive from that single declaration.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from kenning_tasks.errors import ScenarioError
from kenning_tasks.problems import Problems, did_you_mean

REQUIRED: Any = object()  # sentinel: the parameter has no default and must be given
# Seeds go to numpy's legacy seeding, which takes [0, 2**32 - 1]; TF and PyTorch take more.
SEED_MAX = 2**32 - 1
# Any other integer must fit the frameworks' int64 (a bigger one overflows in numpy/TF/C).
INT_LIMIT = 2**63 - 1

_TYPE_NAMES = {bool: "bool", int: "int", float: "float", str: "str", list: "list", dict: "dict"}


@dataclass(frozen=True)
class Param:
    """One parameter of a block: its name, type, default, allowed values and meaning."""

    name: str
    type: type | tuple[type, ...]  # a tuple: any of these types (e.g. Kenning's str or our dict)
    default: Any = REQUIRED
    description: str = ""
    enum: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    nullable: bool = False
    # Which stage phase uses this parameter (optimizers only): "quantize" or "compile".
    phase: str | None = None
    item_type: type | None = None  # element type for list parameters
    pattern: str | None = None  # regular expression a str value must match in full
    # Values this project runs, among those the declaration allows (Kenning accepts more):
    # any other value is refused with ``only_reason``, which names the nearest alternative.
    only: tuple[Any, ...] | None = None
    only_reason: str = ""
    # NaN and ±inf are refused anywhere in the value (lists, mappings) unless this is False.
    finite: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def type_name(self) -> str:
        types = self.type if isinstance(self.type, tuple) else (self.type,)
        name = " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in types)
        if self.item_type is not None:
            name += f"[{_TYPE_NAMES.get(self.item_type, self.item_type.__name__)}]"
        return name + (" or null" if self.nullable else "")

    def describe_allowed(self) -> str:
        if self.enum is not None:
            return "one of " + ", ".join(repr(v) for v in self.enum)
        text = self.type_name()
        if self.minimum is not None and self.maximum is not None:
            text += f" in [{self.minimum}, {self.maximum}]"
        elif self.minimum is not None:
            text += f" >= {self.minimum}"
        elif self.maximum is not None:
            text += f" <= {self.maximum}"
        return text

    def to_schema(self) -> dict[str, Any]:
        """A JSON-friendly description, used by ``python -m kenning_tasks info``."""
        schema: dict[str, Any] = {"name": self.name, "type": self.type_name(),
                                  "description": self.description}
        schema["default"] = None if self.required else self.default
        schema["required"] = self.required
        if self.enum is not None:
            schema["enum"] = list(self.enum)
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        if self.phase is not None:
            schema["phase"] = self.phase
        return schema


def _check_type(value: Any, expected: type | tuple[type, ...]) -> bool:
    if isinstance(expected, tuple):
        return any(_check_type(value, t) for t in expected)
    if expected is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, expected)


def _non_finite(value: Any, where: str = "") -> tuple[str, float] | None:
    """(key suffix, value) of the first NaN/±inf in ``value`` (nested lists and mappings)."""
    if isinstance(value, float):
        return None if math.isfinite(value) else (where, value)
    items = (value.items() if isinstance(value, dict)
             else enumerate(value) if isinstance(value, (list, tuple)) else ())
    for key, item in items:
        found = _non_finite(item, f"{where}[{key}]" if isinstance(key, int) else f"{where}.{key}")
        if found is not None:
            return found
    return None


def resolve_parameters(params: tuple[Param, ...], given: Any, where: str,
                       renamed: dict[str, str] | None = None) -> dict[str, Any]:
    """Check ``given`` against ``params`` and return it with defaults filled in.

    ``where`` is a "file: key.path" prefix so every error names the file and the key. Every
    problem of the block is collected and raised together. ``renamed`` maps former parameter
    names to the current ones, for a precise hint.
    """
    if given is None:
        given = {}
    if not isinstance(given, dict):
        raise ScenarioError(f"{where}: must be a mapping of parameters, got {type(given).__name__}")
    problems = Problems()
    known = {p.name: p for p in params}
    for key in given:
        if key in known:
            continue
        if renamed and key in renamed:
            problems.add(f"{where}.{key}: unknown parameter; it is called {renamed[key]!r} "
                         "(Kenning's name)")
            continue
        allowed = ", ".join(sorted(known)) or "no parameters"
        problems.add(f"{where}.{key}: unknown parameter; allowed: {allowed}"
                     + did_you_mean(str(key), known))
    resolved: dict[str, Any] = {}
    for param in params:
        key_path = f"{where}.{param.name}"
        if param.name not in given:
            if param.required:
                problems.add(
                    f"{key_path}: missing required parameter ({param.describe_allowed()})")
                continue
            resolved[param.name] = param.default
            continue
        with problems.collecting():
            resolved[param.name] = check_value(param, given[param.name], key_path)
    problems.raise_if_any()
    return resolved


def check_value(param: Param, value: Any, key_path: str) -> Any:
    """Validate one value; return it normalised (ints accepted where floats are expected)."""
    if value is None and param.nullable:
        return None
    if not _check_type(value, param.type):
        raise ScenarioError(
            f"{key_path}: expected {param.type_name()}, got {type(value).__name__} {value!r}")
    if param.finite and (where := _non_finite(value)) is not None:
        raise ScenarioError(f"{key_path}{where[0]}: {where[1]!r} is not a finite number; "
                            "NaN and infinity are not allowed here")
    if isinstance(value, int) and not isinstance(value, bool) and param.maximum is None \
            and abs(value) > INT_LIMIT:
        raise ScenarioError(f"{key_path}: {value!r} is out of range; integers must be within "
                            f"±{INT_LIMIT} (int64)")
    if param.enum is not None and value not in param.enum:
        raise ScenarioError(f"{key_path}: {value!r} is not allowed; allowed: "
                            + ", ".join(repr(v) for v in param.enum)
                            + did_you_mean(str(value), [str(v) for v in param.enum]))
    if param.minimum is not None and value < param.minimum:
        raise ScenarioError(f"{key_path}: {value!r} is below the minimum {param.minimum}")
    if param.maximum is not None and value > param.maximum:
        raise ScenarioError(f"{key_path}: {value!r} is above the maximum {param.maximum}")
    if param.pattern is not None:
        import re

        if not re.fullmatch(param.pattern, value):
            raise ScenarioError(f"{key_path}: {value!r} does not match {param.pattern}")
    if param.item_type is not None:
        for index, item in enumerate(value):
            if not _check_type(item, param.item_type):
                raise ScenarioError(f"{key_path}[{index}]: expected "
                                    f"{_TYPE_NAMES.get(param.item_type)}, got {item!r}")
    if param.only is not None and value not in param.only:
        raise ScenarioError(f"{key_path}: {value!r} is not supported here; {param.only_reason}")
    if param.type is float:
        return float(value)
    return value
