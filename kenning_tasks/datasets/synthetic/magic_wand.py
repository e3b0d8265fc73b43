"""Accelerometer gestures in the Magic Wand layout: ``<root>/{wing,ring,slope,negative}/*.txt``.

Each class has its own trajectory (a W, a circle, a diagonal slope, small random motion) in
milli-g with per-recording jitter; recordings are separated by ``-,-,-`` lines, as in
TensorFlow's data set.
"""

from __future__ import annotations

from pathlib import Path

from kenning_tasks import artifacts

CLASSES = ("wing", "ring", "slope", "negative")


def _trajectory(kind: str, length: int, rng: object) -> object:
    import numpy as np

    t = np.linspace(0, 1, length)
    if kind == "wing":  # a W: x sweeps, y zigzags
        x, y = 600 * t - 300, 300 * np.abs(((4 * t) % 2) - 1) - 150
    elif kind == "ring":
        x, y = 300 * np.cos(2 * np.pi * t), 300 * np.sin(2 * np.pi * t)
    elif kind == "slope":  # up the diagonal, then flat
        x = np.where(t < 0.7, 500 * t, 350)
        y = np.where(t < 0.7, 500 * t, 350)
    else:
        x, y = rng.normal(0, 40, length), rng.normal(0, 40, length)
    z = 50 * np.sin(6 * t + rng.random())
    jitter = rng.normal(0, 15, (length, 3))
    return np.stack([x, y, z], axis=1) * rng.uniform(0.8, 1.2) + jitter


def write_magic_wand(root: Path, recordings: int = 30, seed: int = 3) -> Path:
    """Write ``recordings`` gestures per class into ``root``; returns ``root``."""
    import numpy as np

    root = Path(root)
    rng = np.random.default_rng(seed)
    for kind in CLASSES:
        lines = []
        for _ in range(recordings):
            for row in _trajectory(kind, int(rng.integers(60, 160)), rng):
                lines.append(",".join(f"{v:.1f}" for v in row))
            lines.append("-,-,-")
        artifacts.write_text(root / kind / f"output_{kind}_synthetic.txt", "\n".join(lines) + "\n")
    return root
