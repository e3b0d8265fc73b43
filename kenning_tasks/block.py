"""The base of every scenario block: declared parameters, required tools, a one-line doc."""

from __future__ import annotations

import functools
from importlib import metadata
from typing import Any, ClassVar

from kenning_tasks.params import Param


class Block:
    """A scenario block: ``{type: ThisClass, parameters: {...}}``.

    Subclasses declare ``PARAMETERS`` once and list the Python distributions they use in
    ``REQUIRES``; their versions become part of every stage signature that uses the block.
    Block modules import heavy frameworks only inside methods, so the graph loads fast.
    """

    family: ClassVar[str] = ""
    PARAMETERS: ClassVar[tuple[Param, ...]] = ()
    REQUIRES: ClassVar[tuple[str, ...]] = ()
    # Further project modules the block's code runs (part of the stage's code fingerprint).
    MODULES: ClassVar[tuple[str, ...]] = ()
    # Former parameter names -> current ones, for a precise "unknown parameter" message.
    RENAMED: ClassVar[dict[str, str]] = {}

    def __init__(self, parameters: dict[str, Any]) -> None:
        self.parameters = parameters

    @classmethod
    def check(cls, parameters: dict[str, Any], where: str) -> None:
        """Checks beyond single parameters (raise ScenarioError naming ``where``.key)."""

    @classmethod
    def complete(cls, parameters: dict[str, Any]) -> dict[str, Any]:
        """The checked parameters with derived values filled in (e.g. a board from a name)."""
        return parameters

    @classmethod
    def summary(cls) -> str:
        """First line of the class docstring."""
        return (cls.__doc__ or cls.__name__).strip().splitlines()[0]

    @classmethod
    def tool_versions(cls) -> dict[str, str]:
        """Installed versions of the distributions this block uses (``missing`` if absent)."""
        return {name: distribution_version(name) for name in cls.REQUIRES}

    @classmethod
    def dependencies_installed(cls) -> bool:
        return all(v != "missing" for v in cls.tool_versions().values())


@functools.cache
def distribution_version(name: str) -> str:
    """Version of an installed distribution, read from its metadata (no import)."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "missing"
