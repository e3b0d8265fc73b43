"""Kenning's MagicWandDataset: accelerometer gestures (wing, ring, slope, negative).

Kenning's (and TensorFlow's) layout: ``<dataset_root>/<class>/*.txt``, each file a list of
``x,y,z`` lines; a line that is not three numbers (``-,-,-``) ends a recording. Each recording
is padded with noise around its first and last rows to whole windows and cut into windows of
``window_size`` rows (Kenning's ``generate_padding`` and ``split_sample_to_windows``). The
noise is drawn from a generator seeded with ``split_seed`` (Kenning's is unseeded), so the
samples are the same on every run.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from kenning_tasks.datasets.base import KENNING_PARAMETERS
from kenning_tasks.datasets.kenning_resources import ArchiveDataset, resource_parameters
from kenning_tasks.errors import ScenarioError, StageError
from kenning_tasks.params import Param

if TYPE_CHECKING:
    import numpy as np

CLASS_NAMES = ["wing", "ring", "slope", "negative"]


class MagicWandDataset(ArchiveDataset):
    """Kenning's Magic Wand gestures (3-axis accelerometer windows, 4 classes)."""

    KIND = "sequence"
    RESOURCES: ClassVar[dict[str, str]] = {
        "data": "http://download.tensorflow.org/models/tflite/magic_wand/data.tar.gz"}
    MARKERS = tuple(CLASS_NAMES)
    MODULES = (*ArchiveDataset.MODULES, "kenning_tasks.datasets.kenning_resources")
    PARAMETERS = (
        *KENNING_PARAMETERS,
        Param("window_size", int, 128, "rows in one sample window", minimum=1, maximum=65536),
        Param("window_shift", int, 128, "recordings are padded to a multiple of this",
              minimum=1, maximum=65536),
        Param("noise_level", int, 20, "amplitude of the noise used as padding", minimum=0),
        *resource_parameters(RESOURCES),
    )

    @classmethod
    def check(cls, parameters: dict[str, Any], where: str) -> None:
        super().check(parameters, where)
        if parameters["window_shift"] % parameters["window_size"]:
            raise ScenarioError(f"{where}.window_shift: must be a multiple of window_size "
                                f"({parameters['window_size']}) so every window has "
                                "window_size rows")

    def load(self) -> tuple[np.ndarray, np.ndarray, list[str]]:
        import numpy as np

        p = self.parameters
        root = self.data_root()
        rng = np.random.default_rng(p["split_seed"])
        samples, labels = [], []
        for label, name in enumerate(CLASS_NAMES):
            files = sorted(f for f in (root / name).glob("*.txt") if not f.name.startswith("._"))
            for path in files:
                for recording in read_recordings(path):
                    padded = pad_recording(recording, p["window_size"], p["window_shift"],
                                           p["noise_level"], rng)
                    windows = padded.reshape(-1, p["window_size"], 3)
                    samples.append(windows)
                    labels += [label] * len(windows)
        if not samples:
            raise StageError(f"dataset: no recordings under {root} "
                             f"({', '.join(CLASS_NAMES)}/*.txt)")
        return (np.concatenate(samples).astype(np.float32), np.asarray(labels, dtype=np.int64),
                list(CLASS_NAMES))


def read_recordings(path: Path) -> list[list[list[float]]]:
    """The recordings of one file; as Kenning, a recording counts once a separator follows."""
    recordings, current = [], []
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            fields = line.strip().split(",")
            if len(fields) != 3:
                continue
            try:
                current.append([float(v) for v in fields])
            except ValueError:
                if current:
                    recordings.append(current)
                    current = []
    return recordings


def pad_recording(recording: list[list[float]], window: int, shift: int, noise_level: int,
                  rng: Any) -> np.ndarray:
    """Noise around the first row before, around the last row after (Kenning's padding)."""
    import numpy as np

    data = np.asarray(recording, dtype=np.float64)

    def noise(amount: int, neighbour: np.ndarray) -> np.ndarray:
        return np.round((rng.random((amount, 3)) - 0.5) * noise_level, 1) + neighbour

    before = noise(abs(window - len(data)) % window, data[0])
    after = noise((-(len(before) + len(data))) % shift, data[-1])
    return np.concatenate([before, data, after])
