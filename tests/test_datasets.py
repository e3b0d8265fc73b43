"""Datasets: a deterministic split, and downloads pinned by sha256 served from 127.0.0.1."""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from kenning_tasks.datasets.csv import CSVDataset
from kenning_tasks.datasets.digits import DigitsDataset
from kenning_tasks.errors import StageError
from kenning_tasks.params import resolve_parameters
from tests.conftest import Project


def make_csv(rows: int = 240) -> bytes:
    rng = np.random.default_rng(0)
    lines = ["timestamp,temperature,pressure,label"]
    for i in range(rows):
        anomaly = int(i % 40 >= 30)
        temperature = 20 + rng.normal() + 8 * anomaly
        pressure = 1000 + rng.normal() - 5 * anomaly
        lines.append(f"{i},{temperature:.3f},{pressure:.3f},{anomaly}")
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 serving tmp_path/served, stopped after the test."""
    served = tmp_path / "served"
    served.mkdir()
    (served / "series.csv").write_bytes(make_csv())

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(served), **kwargs)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_digits_split_is_deterministic_and_stratified(tmp_path: Path) -> None:
    params = resolve_parameters(DigitsDataset.PARAMETERS, {}, "test")
    first, second = tmp_path / "a", tmp_path / "b"
    DigitsDataset(params).prepare(first)
    DigitsDataset(params).prepare(second)
    assert (first / "splits.npz").read_bytes() == (second / "splits.npz").read_bytes()
    with np.load(first / "splits.npz") as splits:
        counts = np.bincount(splits["y_test"])
        assert len(splits["y_test"]) == 450
        assert counts.min() >= 43 and counts.max() <= 46


def csv_params(source: str, sha256: str) -> dict:
    given = {"source": source, "sha256": sha256, "window_size": 8}
    return resolve_parameters(CSVDataset.PARAMETERS, given, "test")


def test_csv_download_with_right_sha256_is_cached(http_server: str, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KENNING_TASKS_RESOURCES", str(tmp_path / "resources"))
    digest = hashlib.sha256(make_csv()).hexdigest()
    info = CSVDataset(csv_params(f"{http_server}/series.csv", digest)).prepare(tmp_path / "out")
    assert info["kind"] == "sequence" and info["input_shape"] == [8, 2]
    assert (tmp_path / "resources" / digest / "series.csv").read_bytes() == make_csv()


def test_csv_download_with_wrong_sha256_fails_and_leaves_nothing(
        http_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    resources = tmp_path / "resources"
    monkeypatch.setenv("KENNING_TASKS_RESOURCES", str(resources))
    wrong = "0" * 64
    with pytest.raises(StageError, match="sha256 mismatch"):
        CSVDataset(csv_params(f"{http_server}/series.csv", wrong)).prepare(tmp_path / "out")
    assert not any(resources.rglob("*"))  # no file, no temp file, no empty folder
    assert not (tmp_path / "out").exists()


def test_wrong_sha256_in_the_pipeline_is_one_line_and_no_artifact(
        http_server: str, project: Project) -> None:
    scenario = project.root / "scenarios" / "csv-bad-sha.yml"
    scenario.write_text(f"""\
dataset:
  type: CSVDataset
  parameters:
    source: {http_server}/series.csv
    sha256: {"f" * 64}
model_wrapper:
  type: KerasModel
  parameters: {{architecture: mlp, epochs: 2}}
runtime:
  type: KerasRuntime
""")
    run = project.doit("scenario=csv-bad-sha", "dataset", timeout=120)
    assert run.returncode != 0
    assert "sha256 mismatch" in run.stdout + run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    assert not (project.build("csv-bad-sha") / "dataset" / "splits.npz").exists()
    assert not any((project.root / "resources").rglob("*.csv"))


@pytest.mark.slow
def test_csv_sequence_pipeline_end_to_end(http_server: str, project: Project) -> None:
    digest = hashlib.sha256(make_csv()).hexdigest()
    (project.root / "scenarios" / "csv-anomaly.yml").write_text(f"""\
dataset:
  type: CSVDataset
  parameters: {{source: {http_server}/series.csv, sha256: {digest}, window_size: 8}}
model_wrapper:
  type: KerasModel
  parameters: {{architecture: conv1d, epochs: 20, learning_rate: 0.01}}
optimizers:
  - type: TFLiteCompiler
    parameters: {{target: int8, inference_input_type: int8, inference_output_type: int8}}
runtime:
  type: TFLiteRuntime
""")
    run = project.doit("scenario=csv-anomaly", "report", timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    build = project.build("csv-anomaly")
    spec = json.loads((build / "compile" / "model.tflite.json").read_text())
    assert spec["input"][0]["shape"] == [1, 8, 2] and spec["input"][0]["dtype"] == "int8"
    measurements = json.loads((build / "evaluate" / "measurements.json").read_text())
    assert measurements["class_names"] == ["normal", "anomaly"]
    assert measurements["accuracy"] >= 0.8
