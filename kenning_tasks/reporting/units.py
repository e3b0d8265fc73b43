"""How numbers are shown in reports: one unit per table, bytes in KiB/MiB, no bare NaN."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

TIME_UNITS = (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9))


def time_unit(seconds: Iterable[float]) -> tuple[str, float]:
    """The unit (name, seconds per unit) in which typical values read as 1…1000."""
    values = sorted(abs(s) for s in seconds if s is not None and math.isfinite(s) and s > 0)
    if not values:
        return "s", 1.0
    median = values[len(values) // 2]
    for name, scale in TIME_UNITS:
        if median >= scale:
            return name, scale
    return TIME_UNITS[-1]


def time_text(seconds: float | None, unit: tuple[str, float] | None = None,
              digits: int = 4) -> str:
    """``0.0000734`` → ``73.4 µs`` (or in the given unit)."""
    if not _finite(seconds):
        return "—"
    name, scale = unit or time_unit([seconds])
    return f"{number_text(seconds / scale, digits)} {name}"


def number_text(value: Any, digits: int = 4) -> str:
    """A number with ``digits`` significant digits, thousands separated; — when missing."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}".replace(",", " ")
    if not _finite(value):
        return "—"
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    decimals = max(0, digits - 1 - magnitude)
    text = f"{value:,.{decimals}f}".replace(",", " ")
    return text


def fraction_text(value: Any, digits: int = 4) -> str:
    """Accuracy-like values in [0, 1] with a fixed number of decimals."""
    return f"{value:.{digits}f}" if _finite(value) else "—"


def percent_text(value: Any, digits: int = 1) -> str:
    return f"{value:.{digits}f} %" if _finite(value) else "—"


def bytes_text(count: Any) -> str:
    """``18421`` → ``18.0 KiB (18 421 B)``; small counts in bytes only."""
    if not _finite(count):
        return "—"
    count = int(count)
    if count < 1024:
        return f"{count} B"
    for name, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= size:
            return f"{count / size:.1f} {name} ({number_text(count)} B)"
    return f"{count} B"


def short_bytes(count: Any) -> str:
    """``18421`` → ``18.0 KiB``: for plot labels."""
    if not _finite(count):
        return "—"
    count = float(count)
    for name, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= size:
            return f"{count / size:.1f} {name}"
    return f"{count:.0f} B"


def strict(value: Any) -> Any:
    """``value`` with every NaN/infinity replaced by None, so JSON stays strict."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: strict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict(v) for v in value]
    return value


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(
        value)
