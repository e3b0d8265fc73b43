"""Time series from a CSV file with named columns: timestamp, parameter columns and a label.

Consecutive rows are windowed into sequences; a window takes the label of its last row. The
split is by contiguous time blocks and the standardisation uses the train split's rows only
(see ``timeseries.py``).
"""

from __future__ import annotations

from pathlib import Path

from kenning_tasks.datasets.base import SPLIT_PARAMETERS
from kenning_tasks.datasets.timeseries import (
    SHA256,
    TIME_BLOCKS,
    Series,
    TimeSeriesDataset,
    parse_float,
    read_numeric_rows,
)
from kenning_tasks.errors import StageError
from kenning_tasks.params import Param


class CSVDataset(TimeSeriesDataset):
    """Time series from a CSV file (path relative to the scenario, or URI), windowed."""

    MODULES = (*TimeSeriesDataset.MODULES, "kenning_tasks.datasets.timeseries")
    PARAMETERS = (
        Param("source", str, description="CSV file: a path (relative to the scenario file's "
              "folder) or an http(s)/file URI"),
        SHA256,
        Param("window_size", int, 10, "rows per sequence window", minimum=2, maximum=4096),
        Param("timestamp_column", str, "timestamp", "name of the timestamp column (ignored)"),
        Param("label_column", str, "label", "name of the integer label column"),
        Param("class_names", list, ["normal", "anomaly"], "names of the label values 0..N-1",
              item_type=str),
        TIME_BLOCKS,
        *SPLIT_PARAMETERS,
    )

    def class_names(self) -> list[str]:
        return list(self.parameters["class_names"])

    def read_series(self, path: Path) -> Series:
        import numpy as np

        p = self.parameters
        header, rows = read_numeric_rows(path, self.source_where())
        for needed in (p["timestamp_column"], p["label_column"]):
            if needed not in header:
                raise StageError(f"{path}: column {needed!r} not found; columns: "
                                 + ", ".join(header))
        label_at = header.index(p["label_column"])
        features = [i for i, name in enumerate(header)
                    if name not in (p["timestamp_column"], p["label_column"])]
        if not features:
            raise StageError(f"{path}: no parameter columns besides timestamp and label")
        values, labels = [], []
        for line, row in enumerate(rows, start=2):
            if len(row) != len(header):
                raise StageError(f"{path}:{line}: {len(row)} fields, the header has "
                                 f"{len(header)}")
            values.append([parse_float(row[i], path, line, header[i]) for i in features])
            label = parse_float(row[label_at], path, line, header[label_at])
            if label != int(label):
                raise StageError(f"{path}:{line}: label {row[label_at]!r} is not an integer")
            labels.append(int(label))
        return Series(np.asarray(values, dtype=np.float32), np.asarray(labels, dtype=np.int64),
                      [header[i] for i in features])
