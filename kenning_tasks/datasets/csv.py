"""Kenning's anomaly-detection CSV: a timestamp column, parameter columns and a label column.

Consecutive rows are windowed into sequences; a window takes the label of its last row, as
Kenning's AnomalyDetectionDataset does.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

from kenning_tasks.datasets import resources
from kenning_tasks.datasets.base import SPLIT_PARAMETERS, Dataset
from kenning_tasks.errors import StageError
from kenning_tasks.params import Param

if TYPE_CHECKING:
    import numpy as np


class CSVDataset(Dataset):
    """Time series from a CSV file (path or http(s)/file URI, pinned by sha256), windowed."""

    KIND = "sequence"
    PARAMETERS = (
        Param("source", str, description="local path or http(s)/file URI of the CSV file"),
        Param("sha256", str, description="expected sha256 of the file; a mismatch is an error",
              pattern="[0-9a-fA-F]{64}"),
        Param("window_size", int, 10, "rows per sequence window", minimum=2, maximum=4096),
        Param("timestamp_column", str, "timestamp", "name of the timestamp column (ignored)"),
        Param("label_column", str, "label", "name of the integer label column"),
        Param("class_names", list, ["normal", "anomaly"], "names of the label values 0..N-1",
              item_type=str),
        *SPLIT_PARAMETERS,
    )

    def input_files(self) -> list[Path]:
        source = self.parameters["source"]
        return [] if resources.is_uri(source) else [Path(source).expanduser()]

    def load(self) -> tuple[np.ndarray, np.ndarray, list[str]]:
        import numpy as np

        p = self.parameters
        where = "dataset.parameters.source"
        path = resources.fetch(p["source"], p["sha256"], where)
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            columns = reader.fieldnames or []
            for needed in (p["timestamp_column"], p["label_column"]):
                if needed not in columns:
                    raise StageError(f"{path}: column {needed!r} not found; columns: "
                                     + ", ".join(columns))
            features = [c for c in columns if c not in (p["timestamp_column"], p["label_column"])]
            if not features:
                raise StageError(f"{path}: no parameter columns besides timestamp and label")
            rows, labels = [], []
            for line_no, row in enumerate(reader, start=2):
                try:
                    rows.append([float(row[c]) for c in features])
                    labels.append(int(float(row[p["label_column"]])))
                except (TypeError, ValueError) as error:
                    raise StageError(f"{path}:{line_no}: not a number ({error})") from error
        values = np.asarray(rows, dtype=np.float32)
        label_array = np.asarray(labels, dtype=np.int64)
        size = p["window_size"]
        if len(values) < size:
            raise StageError(f"{path}: {len(values)} rows, fewer than window_size={size}")
        if label_array.min() < 0 or label_array.max() >= len(p["class_names"]):
            raise StageError(f"{path}: labels must be 0..{len(p['class_names']) - 1} "
                             f"(dataset.parameters.class_names)")
        # Standardise each parameter so the model sees comparable ranges.
        mean, std = values.mean(axis=0), values.std(axis=0)
        values = (values - mean) / np.where(std > 0, std, 1.0)
        windows = np.lib.stride_tricks.sliding_window_view(values, size, axis=0)
        x = np.ascontiguousarray(windows.transpose(0, 2, 1)).astype(np.float32)
        y = label_array[size - 1:]
        return x, y, list(p["class_names"])
