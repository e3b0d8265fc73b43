"""Collect every problem of a scenario file, so all of them are reported at once.

Validation code adds one-line problems (or absorbs a ``ScenarioError`` raised by a block's own
check) and carries on; ``raise_if_any`` raises one ``ScenarioError`` holding them all.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from kenning_tasks.errors import ScenarioError


class Problems:
    """An ordered, de-duplicated list of one-line problems."""

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._compatibility: list[bool] = []

    def add(self, line: str, *, compatibility: bool = False) -> None:
        if line not in self._lines:
            self._lines.append(line)
            self._compatibility.append(compatibility)

    def absorb(self, error: ScenarioError) -> None:
        for line in error.problems:
            self.add(line, compatibility=error.compatibility)

    @contextmanager
    def collecting(self) -> Iterator[None]:
        """Turn a ScenarioError raised inside the block into collected problems."""
        try:
            yield
        except ScenarioError as error:
            self.absorb(error)

    def __bool__(self) -> bool:
        return bool(self._lines)

    def __len__(self) -> int:
        return len(self._lines)

    @property
    def lines(self) -> tuple[str, ...]:
        return tuple(self._lines)

    def error(self) -> ScenarioError:
        return ScenarioError(*self._lines, compatibility=all(self._compatibility))

    def raise_if_any(self) -> None:
        if self._lines:
            raise self.error()


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """``; did you mean 'X'?`` for the closest candidate, or ``""`` when none is close."""
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    if not close:  # case-only differences (tfliteruntime) are close enough too
        lowered = {c.lower(): c for c in candidates}
        close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.8)
        close = [lowered[c] for c in close]
    return f"; did you mean {close[0]!r}?" if close else ""
