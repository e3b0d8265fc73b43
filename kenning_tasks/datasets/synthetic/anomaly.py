"""A multivariate sensor series with labelled anomalous segments, in Kenning's CSV layout.

Columns: ``timestamp``, five parameters, ``label`` (0 normal, 1 anomaly); five so that the
default anomaly-detection CNN (two 3×3 convolutions without padding) fits a window. Normal
rows follow slow periodic signals with noise; anomalous segments (about ``anomaly_share`` of
the rows, in runs spread over the whole series so every time block can hold some) add a level
shift, a burst of noise or a frozen, drifting sensor.
"""

from __future__ import annotations

from pathlib import Path

from kenning_tasks import artifacts


def anomaly_csv_text(rows: int = 2000, seed: int = 7, anomaly_share: float = 0.12,
                     segment: int = 24) -> str:
    import numpy as np

    rng = np.random.default_rng(seed)
    t = np.arange(rows)
    temperature = 20 + 2 * np.sin(2 * np.pi * t / 97) + rng.normal(0, 0.15, rows)
    pressure = 1000 + 5 * np.cos(2 * np.pi * t / 61) + rng.normal(0, 0.4, rows)
    vibration = 0.5 + 0.2 * np.sin(2 * np.pi * t / 13) + rng.normal(0, 0.03, rows)
    humidity = 45 + 4 * np.sin(2 * np.pi * t / 211 + 1.0) + rng.normal(0, 0.3, rows)
    current = 2.0 + 0.3 * np.sin(2 * np.pi * t / 29) + rng.normal(0, 0.02, rows)
    label = np.zeros(rows, dtype=int)
    segments = max(1, round(rows * anomaly_share / segment))
    slots = np.linspace(segment, rows - 2 * segment, segments).astype(int)
    for index, start in enumerate(slots + rng.integers(-segment // 2, segment // 2, segments)):
        stop = start + segment
        kind = index % 3
        if kind == 0:  # level shift
            temperature[start:stop] += 3.5
            pressure[start:stop] -= 12
        elif kind == 1:  # vibration burst
            vibration[start:stop] += rng.normal(0, 0.6, segment)
            current[start:stop] += np.abs(rng.normal(0, 0.5, segment))
        else:  # frozen, then drifting sensors
            temperature[start:stop] = temperature[start] + np.linspace(0, 4, segment)
            pressure[start:stop] = pressure[start] + np.linspace(0, 15, segment)
            humidity[start:stop] = humidity[start]
        label[start:stop] = 1
    lines = ["timestamp,temperature,pressure,vibration,humidity,current,label"]
    columns = (temperature, pressure, vibration, humidity, current)
    lines += [f"{i}," + ",".join(f"{c[i]:.4f}" for c in columns) + f",{label[i]}"
              for i in range(rows)]
    return "\n".join(lines) + "\n"


def write_anomaly_csv(target: Path, rows: int = 2000, seed: int = 7) -> Path:
    """Write the CSV to ``target`` (a file, or a folder that gets ``data.csv``)."""
    target = Path(target)
    if target.suffix != ".csv":
        target = target / "data.csv"
    return artifacts.write_text(target, anomaly_csv_text(rows, seed))
