"""Windowed time series from a CSV file: shared by CSVDataset and AnomalyDetectionDataset.

The rows are read in file order (one row per time step), split by contiguous time blocks
(``splitting.time_block_split``: no row is seen by two splits), standardised per parameter
column with the mean and standard deviation of the **train split's rows only**, and cut into
windows of ``window_size`` rows. The statistics go to ``dataset.json`` (``normalization``) and
from there into the model's I/O spec, so the firmware can apply the same ``(x - mean) / std``
to raw sensor rows.
"""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from kenning_tasks.datasets import resources
from kenning_tasks.datasets.base import Dataset
from kenning_tasks.errors import ScenarioError, StageError
from kenning_tasks.params import Param

if TYPE_CHECKING:
    import numpy as np

TIME_BLOCKS = Param("time_blocks", int, 10, "contiguous time blocks the series is cut into; "
                    "whole blocks go to the test/validation/train splits and windows crossing "
                    "a block edge are dropped, so no row is shared between splits",
                    minimum=2, maximum=1000)
SHA256 = Param("sha256", str, None, "expected sha256 of the file: optional for a local file "
               "(its bytes are hashed as an input anyway), recommended for a URL (without it "
               "the download is not verified)", nullable=True, pattern="[0-9a-fA-F]{64}")


@dataclasses.dataclass(frozen=True)
class Series:
    """The parsed CSV: one row per time step."""

    values: np.ndarray  # (rows, parameters) float32
    labels: np.ndarray  # (rows,) int64
    columns: list[str]  # names of the parameter columns


class TimeSeriesDataset(Dataset):
    """Base of the CSV time-series datasets."""

    KIND = "sequence"
    SOURCE_PARAMETER: ClassVar[str] = "source"
    # Kenning's AnomalyDetectionDataset labels a window with the row after it; ours with its last.
    LABEL_OFFSET: ClassVar[int] = 0

    @classmethod
    def check_sources(cls, parameters: dict[str, Any], base_dir: Path, where: str) -> None:
        source = parameters[cls.SOURCE_PARAMETER]
        if not resources.is_remote(source):
            resources.check_local_file(resources.local_path(source, base_dir),
                                       f"{where}.{cls.SOURCE_PARAMETER}", ScenarioError)

    def source_where(self) -> str:
        return f"dataset.parameters.{self.SOURCE_PARAMETER}"

    def input_files(self) -> list[Path]:
        source = self.parameters[self.SOURCE_PARAMETER]
        return [] if resources.is_remote(source) else [
            resources.local_path(source, self.base_dir)]

    def csv_path(self) -> Path:
        p = self.parameters
        return resources.fetch(p[self.SOURCE_PARAMETER], p["sha256"], self.source_where(),
                               self.base_dir, self.log)

    def read_series(self, path: Path) -> Series:
        raise NotImplementedError

    def class_names(self) -> list[str]:
        raise NotImplementedError

    def make_splits(self) -> tuple[dict[str, np.ndarray], list[str], dict[str, Any]]:
        import numpy as np

        from kenning_tasks.datasets.splitting import time_block_split

        p = self.parameters
        path = self.csv_path()
        series = self.read_series(path)
        names = self.class_names()
        size = p["window_size"]
        rows = len(series.values)
        if p.get("reduce_dataset", 1.0) < 1.0:  # keep the leading part: windows stay contiguous
            rows = max(size + self.LABEL_OFFSET, round(rows * p["reduce_dataset"]))
        values, labels = series.values[:rows], series.labels[:rows]
        span = size + self.LABEL_OFFSET
        if rows < span:
            raise StageError(f"{path}: {rows} rows, fewer than window_size={size}"
                             + (" plus the label row" if self.LABEL_OFFSET else ""))
        if labels.min() < 0 or labels.max() >= len(names):
            raise StageError(f"{path}: labels must be 0..{len(names) - 1} "
                             f"({', '.join(names)})")
        starts = np.arange(rows - span + 1)
        y = labels[starts + span - 1]
        test, validation, seed = self.split_settings()
        chosen = time_block_split(starts, span, rows, y, names, p["time_blocks"], test,
                                  validation, seed)
        train_rows = np.zeros(rows, dtype=bool)
        for start in starts[chosen["train"]]:
            train_rows[start:start + size] = True
        mean = values[train_rows].mean(axis=0)
        std = values[train_rows].std(axis=0)
        std = np.where(std > 0, std, 1.0).astype(np.float32)
        normalised = ((values - mean) / std).astype(np.float32)
        windows = np.lib.stride_tricks.sliding_window_view(normalised, size, axis=0)
        x = np.ascontiguousarray(windows.transpose(0, 2, 1))[: len(starts)]
        # The train split is shuffled (seeded) so that any leading share of it, such as the
        # int8 calibration samples, spans the whole series; validation and test keep time
        # order, which the per-threshold detection metrics need.
        chosen["train"] = np.random.default_rng(seed).permutation(chosen["train"])
        splits = {}
        for name in ("train", "val", "test"):
            splits[f"x_{name}"] = x[chosen[name]]
            splits[f"y_{name}"] = y[chosen[name]]
        extra = {
            "normalization": {
                "mean": [float(v) for v in mean], "std": [float(v) for v in std],
                "columns": series.columns, "computed_on": "rows of the train split",
                "formula": "(x - mean) / std per parameter column"},
            "split": {"method": "time_blocks", "time_blocks": p["time_blocks"],
                      "windows_dropped_at_block_edges": int(
                          len(starts) - sum(len(v) for v in chosen.values())),
                      "label": ("row after the window" if self.LABEL_OFFSET
                                else "last row of the window"),
                      "order": "train: seeded shuffle; validation and test: time order"},
        }
        return splits, names, extra


def read_numeric_rows(path: Path, where: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a CSV file, with a one-line error for an unreadable file."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            rows = [row for row in reader if row]
    except (OSError, UnicodeDecodeError, csv.Error) as failure:
        raise StageError(f"{where}: cannot read {path} as CSV: {failure}") from None
    if not header:
        raise StageError(f"{where}: {path} is empty")
    return header, rows


def parse_float(text: str, path: Path, line: int, column: str) -> float:
    import math

    try:
        value = float(text)
    except ValueError:
        raise StageError(f"{path}:{line}: column {column!r}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise StageError(f"{path}:{line}: column {column!r}: {text!r} is not finite "
                         "(NaN and infinity are refused)")
    return value
