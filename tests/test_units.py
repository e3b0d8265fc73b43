"""Small pieces: metrics, parameters, the run cache, output integrity, torch determinism."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from kenning_tasks import metrics, run_cache
from kenning_tasks.errors import ScenarioError
from kenning_tasks.params import Param, resolve_parameters
from kenning_tasks.signature import changed_outputs, record_outputs


def test_classification_metrics_by_hand() -> None:
    y = np.array([0, 0, 1, 1, 2, 2])
    scores = np.array([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.1, 0.8, 0.1],
                       [0.1, 0.6, 0.3], [0.0, 0.2, 0.8], [0.5, 0.1, 0.4]])
    m = metrics.classification_metrics(y, scores, ["a", "b", "c"])
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["confusion_matrix"] == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert m["per_class"]["b"]["precision"] == pytest.approx(2 / 3)
    assert m["mean_sensitivity"] == pytest.approx((0.5 + 1 + 0.5) / 3)
    assert m["g_mean"] == pytest.approx((0.5 * 1 * 0.5) ** (1 / 3))
    assert m["top_2_accuracy"] == pytest.approx(1.0)


def test_quantize_round_trip_uses_scale_and_zero_point() -> None:
    spec = {"dtype": "int8", "scale": 0.5, "zero_point": -3}
    q = metrics.quantize(np.array([0.0, 1.0, 200.0, -200.0]), spec)
    assert q.tolist() == [-3, -1, 127, -128]
    assert metrics.dequantize(q[:2], spec).tolist() == [0.0, 1.0]


def test_timing_summary_has_kenning_statistics() -> None:
    summary = metrics.timing_summary([3.0, 1.0, 2.0])
    assert summary["first"] == 3.0 and summary["median"] == 2.0 and summary["min"] == 1.0


def test_parameters_fill_defaults_and_accept_int_for_float() -> None:
    params = (Param("rate", float, 0.5), Param("mode", str, "a", enum=("a", "b")))
    assert resolve_parameters(params, {"rate": 1}, "f: x") == {"rate": 1.0, "mode": "a"}
    with pytest.raises(ScenarioError, match=r"f: x\.mode: 'c' is not allowed; allowed: 'a', 'b'"):
        resolve_parameters(params, {"mode": "c"}, "f: x")
    with pytest.raises(ScenarioError, match="expected float, got bool"):
        resolve_parameters(params, {"rate": True}, "f: x")


def test_run_cache_restores_and_ignores_damaged_entries(tmp_path: Path) -> None:
    root, out = tmp_path / "cache", tmp_path / "out.bin"
    out.write_bytes(b"result")
    run_cache.store(root, "stage", "k1", {"out": out})
    out.unlink()
    assert run_cache.restore(root, "stage", "k1", {"out": out})
    assert out.read_bytes() == b"result"
    for obj in (root / "objects").rglob("*"):
        if obj.is_file():
            obj.write_bytes(b"damaged")
    out.unlink()
    assert not run_cache.restore(root, "stage", "k1", {"out": out})
    assert not out.exists()
    assert not run_cache.restore(root, "stage", "missing", {"out": out})


def test_run_key_depends_on_input_bytes_and_signature(tmp_path: Path) -> None:
    source = tmp_path / "in.bin"
    source.write_bytes(b"a")
    first = run_cache.run_key("s", {"p": 1}, [source], ["o"])
    assert first == run_cache.run_key("s", {"p": 1}, [source], ["o"])
    assert first != run_cache.run_key("s", {"p": 2}, [source], ["o"])
    source.write_bytes(b"b")
    assert first != run_cache.run_key("s", {"p": 1}, [source], ["o"])


def test_outputs_intact_notices_changed_bytes_not_touches(tmp_path: Path) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(b"12345")
    recorded = json.loads(json.dumps(record_outputs([path])))
    os.utime(path, ns=(1, 1))
    assert changed_outputs(recorded) == []  # touched, same bytes
    path.write_bytes(b"12346")
    assert changed_outputs(recorded) == [str(path)]
    path.unlink()
    assert changed_outputs(recorded) == [str(path)]


@pytest.mark.slow  # trains or converts a model
def test_torch_training_is_deterministic(tmp_path: Path) -> None:
    from kenning_tasks.datasets.digits import DigitsDataset
    from kenning_tasks.model_wrappers.torch import TorchModel

    info = DigitsDataset(resolve_parameters(DigitsDataset.PARAMETERS, {}, "d")).prepare(tmp_path)
    wrapper = TorchModel(resolve_parameters(TorchModel.PARAMETERS, {"epochs": 2}, "m"))
    wrapper.train(tmp_path / "splits.npz", info, tmp_path / "a.pt", lambda _: None)
    wrapper.train(tmp_path / "splits.npz", info, tmp_path / "b.pt", lambda _: None)
    assert (tmp_path / "a.pt").read_bytes() == (tmp_path / "b.pt").read_bytes()


def test_graph_loading_imports_no_framework() -> None:
    import subprocess
    import sys

    code = ("import sys; from kenning_tasks.graph import Graph; Graph('all'); "
            "heavy = [m for m in ('tensorflow', 'torch', 'tvm', 'iree', 'onnxruntime', "
            "'keras', 'numpy') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parent.parent, check=True)
    assert out.stdout.strip() == "[]"
