"""Board names for platform blocks, read from platforms.yml without importing the target code."""

from __future__ import annotations

import functools
from typing import Any

from kenning_tasks.errors import ScenarioError
from kenning_tasks.layout import layout


@functools.cache
def _entries() -> dict[str, dict[str, Any]]:
    import yaml

    text = layout().platforms.read_text(encoding="utf-8")
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}


def board_names(emulated: bool | None = None, runtime: str | None = None) -> list[str]:
    """Boards in platforms.yml, filtered by having a QEMU machine and by firmware runtime."""
    names = []
    for name, entry in _entries().items():
        if emulated is not None and bool(entry.get("qemu_machine")) != emulated:
            continue
        if runtime is not None and entry.get("runtime") != runtime:
            continue
        names.append(name)
    return names


def check_board(board: str, allowed: list[str], where: str) -> None:
    if board not in allowed:
        raise ScenarioError(f"{where}.board: {board!r} is not allowed; allowed: "
                            + ", ".join(allowed) + f" (from {layout().platforms.name})")


def board_entry(board: str) -> dict[str, Any]:
    """The platforms.yml entry of a board ({} when it does not exist)."""
    return dict(_entries().get(board) or {})
