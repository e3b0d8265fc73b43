"""Kenning's AnomalyDetectionDataset: windows of a multivariate time series from a CSV file.

Kenning's layout: the first column is a timestamp (dropped), the last an integer label (any
value above 0 is an anomaly), the columns between are the parameters. A window holds
``window_size`` consecutive rows and takes the label of the row that follows it, as Kenning
does. Two deliberate differences, both to keep test rows out of training: the split is by
contiguous time blocks (Kenning splits the overlapping windows at random), and the
standardisation statistics are per parameter column over the train split's rows (Kenning's
``get_input_mean_std`` averages every window of the whole file).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from kenning_tasks.datasets.base import KENNING_PARAMETERS, KenningDataset
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

_KENNING = {p.name: p for p in KENNING_PARAMETERS}


class AnomalyDetectionDataset(TimeSeriesDataset, KenningDataset):
    """Kenning's anomaly-detection CSV (timestamp, parameters, label), windowed."""

    SOURCE_PARAMETER = "csv_file"
    LABEL_OFFSET = 1
    MODULES = (*TimeSeriesDataset.MODULES, "kenning_tasks.datasets.timeseries")
    PARAMETERS = (
        dataclasses.replace(_KENNING["dataset_root"], description=(
            "Kenning copies csv_file here; kenning-tasks reads csv_file in place (its bytes "
            "are an input of the dataset stage), so this folder is not used")),
        Param("csv_file", str, description="path (relative to the scenario file's folder) or "
              "http(s)/file URI of the CSV file"),
        SHA256,
        Param("window_size", int, 5, "consecutive time steps in one window", minimum=1,
              maximum=4096),
        Param("gather_predictions", bool, True, "per-sample targets and predictions in the "
              "measurements (always recorded here)"),
        TIME_BLOCKS,
        *(p for p in KENNING_PARAMETERS if p.name != "dataset_root"),
    )

    def class_names(self) -> list[str]:
        return ["normal", "anomaly"]

    def read_series(self, path: Path) -> Series:
        import numpy as np

        header, rows = read_numeric_rows(path, self.source_where())
        if len(header) < 3:
            raise StageError(f"{path}: expected a timestamp column, parameter columns and a "
                             f"label column, got {len(header)} column(s)")
        values, labels = [], []
        for line, row in enumerate(rows, start=2):
            if len(row) != len(header):
                raise StageError(f"{path}:{line}: {len(row)} fields, the header has "
                                 f"{len(header)}")
            values.append([parse_float(row[i], path, line, header[i])
                           for i in range(1, len(header) - 1)])
            label = parse_float(row[-1], path, line, header[-1])
            labels.append(1 if label > 0 else 0)  # anomaly categories fold into one class
        return Series(np.asarray(values, dtype=np.float32), np.asarray(labels, dtype=np.int64),
                      header[1:-1])
