"""Kenning's TinyML model wrappers: seeded training gives identical bytes; pretrained files.

Every test trains or converts a model, so all are ``slow``; data comes from the synthetic
generators and downloads from an ``http.server`` process on 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from kenning_tasks import iospec, metrics
from kenning_tasks.datasets.anomaly_detection import AnomalyDetectionDataset
from kenning_tasks.datasets.magic_wand import MagicWandDataset
from kenning_tasks.datasets.pet import PetDataset
from kenning_tasks.datasets.synthetic.anomaly import write_anomaly_csv
from kenning_tasks.datasets.synthetic.images import write_pet_dataset, write_visual_wake_words
from kenning_tasks.datasets.synthetic.magic_wand import write_magic_wand
from kenning_tasks.datasets.visual_wake_words import VisualWakeWordsDataset
from kenning_tasks.model_wrappers.anomaly_detection import (
    PyTorchAnomalyDetectionCNN,
    PyTorchAnomalyDetectionVAE,
)
from kenning_tasks.model_wrappers.magic_wand import MagicWandModelWrapper
from kenning_tasks.model_wrappers.person_detection import PersonDetectionModelWrapper
from kenning_tasks.model_wrappers.pet import TensorFlowPetDatasetMobileNetV2
from kenning_tasks.params import resolve_parameters
from tests.conftest import Project
from tests.data_support.server import serve

pytestmark = pytest.mark.slow


def params(cls: type, **given: object) -> dict:
    return resolve_parameters(cls.PARAMETERS, given, "test")


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def quiet(message: str) -> None:
    pass


@pytest.fixture(scope="module")
def anomaly_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("anomaly")
    write_anomaly_csv(root / "data.csv", rows=1200)
    dataset = AnomalyDetectionDataset(
        params(AnomalyDetectionDataset, dataset_root=".", csv_file="data.csv", window_size=8,
               split_fraction_test=0.25), base_dir=root, log=quiet)
    return root / "splits.npz", dataset.prepare(root)


@pytest.mark.parametrize("cls", [PyTorchAnomalyDetectionVAE, PyTorchAnomalyDetectionCNN])
def test_anomaly_wrappers_train_to_identical_bytes(cls: type, anomaly_data: tuple[Path, dict],
                                                   tmp_path: Path) -> None:
    import torch

    from kenning_tasks.model_wrappers.torch import load_torch

    splits_path, info = anomaly_data
    extra = {"conv_activation": "ReLU"} if cls is PyTorchAnomalyDetectionCNN else {}
    wrapper = cls(params(cls, learning_rate=0.005, num_epochs=4, batch_size=64, **extra))
    first, second = tmp_path / "a.pt", tmp_path / "b.pt"
    wrapper.train(splits_path, info, first, quiet)
    cls(params(cls, learning_rate=0.005, num_epochs=4, batch_size=64, **extra)).train(
        splits_path, info, second, quiet)
    assert sha(first) == sha(second)
    inputs, outputs, extra_spec = wrapper.io_spec(info)
    assert inputs[0]["mean"] == info["normalization"]["mean"]
    splits = np.load(splits_path)
    model = load_torch(first)
    with torch.no_grad():
        train_scores = model(torch.from_numpy(splits["x_train"])).numpy()
        test_scores = model(torch.from_numpy(splits["x_test"])).numpy()
    anomaly = extra_spec["anomaly"]
    if cls is PyTorchAnomalyDetectionVAE:
        # Kenning's calibrate_threshold, on the train split only
        contamination = splits["y_train"].mean()
        expected = np.percentile(train_scores.ravel(), 100 * (1 - contamination))
        assert anomaly["threshold"] == pytest.approx(float(expected), rel=1e-6)
        assert outputs[0]["shape"] == [1, 1]
    result = metrics.anomaly_metrics(splits["y_test"], test_scores, {"anomaly": anomaly})
    assert result["anomaly_metrics"]["roc_auc"] > 0.6  # better than chance on held-out blocks


def test_magic_wand_trains_to_identical_bytes_and_learns(tmp_path: Path) -> None:
    from kenning_tasks.model_wrappers.keras import load_keras

    write_magic_wand(tmp_path / "MagicWandDataset", recordings=30)
    info = MagicWandDataset(params(MagicWandDataset, dataset_root="MagicWandDataset",
                                   split_fraction_val=0.1),
                            base_dir=tmp_path, log=quiet).prepare(tmp_path / "ds")
    given = {"num_epochs": 4, "steps_per_epoch": 25, "batch_size": 32}
    for name in ("a", "b"):
        MagicWandModelWrapper(params(MagicWandModelWrapper, **given)).train(
            tmp_path / "ds" / "splits.npz", info, tmp_path / f"{name}.keras", quiet)
    assert sha(tmp_path / "a.keras") == sha(tmp_path / "b.keras")
    splits = np.load(tmp_path / "ds" / "splits.npz")
    predictions = load_keras(tmp_path / "a.keras").predict(splits["x_test"], verbose=0)
    assert np.mean(predictions.argmax(1) == splits["y_test"]) >= 0.8


def test_pet_mobilenet_trains_deterministically_and_installs_a_pretrained_h5(
        tmp_path: Path) -> None:
    from kenning_tasks.model_wrappers.keras import load_keras
    from kenning_tasks.model_wrappers.pet import build_pet_mobilenet

    write_pet_dataset(tmp_path / "pet", per_breed=2)  # 224×224 MobileNetV2s: keep it small
    info = PetDataset(params(PetDataset, dataset_root="pet", classify_by="species",
                             split_fraction_test=0.25),
                      base_dir=tmp_path, log=quiet).prepare(tmp_path / "ds")
    splits_path = tmp_path / "ds" / "splits.npz"
    given = {"learning_rate": 0.001, "num_epochs": 1, "batch_size": 8, "alpha": 0.35}
    for name in ("a", "b"):
        TensorFlowPetDatasetMobileNetV2(params(TensorFlowPetDatasetMobileNetV2, **given)).train(
            splits_path, info, tmp_path / f"{name}.keras", quiet)
    assert sha(tmp_path / "a.keras") == sha(tmp_path / "b.keras")
    # A "pretrained" file as a user would bring it: a small MobileNetV2, random weights, .h5
    import keras

    keras.utils.set_random_seed(0)
    build_pet_mobilenet(len(info["class_names"]), alpha=0.35).save(tmp_path / "user.h5")
    wrapper = TensorFlowPetDatasetMobileNetV2(params(TensorFlowPetDatasetMobileNetV2))
    installed = tmp_path / "installed.keras"
    wrapper.install_pretrained(tmp_path / "user.h5", info, installed, quiet)
    wrapper.write_io_spec(installed, info)
    spec = iospec.read_spec(installed)
    assert spec["input"][0]["name"] == "input_1" and spec["input"][0]["std"] == [0.229, 0.224,
                                                                                  0.225]
    assert spec["output"][0] == iospec.tensor("out_layer", [1, 2], "float32")
    x = np.load(splits_path)["x_test"][:2]
    assert np.allclose(load_keras(installed).predict(x, verbose=0),
                       keras.models.load_model(tmp_path / "user.h5", compile=False).predict(
                           x, verbose=0), atol=1e-5)


def test_person_detection_installs_an_int8_tflite_and_reads_its_spec(tmp_path: Path) -> None:
    from ai_edge_litert.interpreter import Interpreter

    from kenning_tasks.frameworks import import_tensorflow

    tf = import_tensorflow()
    import keras

    write_visual_wake_words(tmp_path / "coco", images=16)
    wrapper_params = params(PersonDetectionModelWrapper)
    info = VisualWakeWordsDataset(
        params(VisualWakeWordsDataset, dataset_root="coco", image_width=128, image_height=128,
               split_fraction_test=0.25), base_dir=tmp_path, log=quiet).prepare(
        tmp_path / "ds", PersonDetectionModelWrapper.input_transform(wrapper_params))
    splits = np.load(tmp_path / "ds" / "splits.npz")
    # Stand-in for person_detect.tflite: the same I/O (96×96×1 int8 in, 2 int8 out).
    keras.utils.set_random_seed(0)
    inputs = keras.Input((96, 96, 1), batch_size=1)
    x = keras.layers.DepthwiseConv2D(3, strides=2, activation="relu")(inputs)
    x = keras.layers.Conv2D(8, 1, activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Softmax()(keras.layers.Dense(2)(x))
    converter = tf.lite.TFLiteConverter.from_keras_model(keras.Model(inputs, outputs))
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([s[np.newaxis]] for s in splits["x_train"])
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = converter.inference_output_type = tf.int8
    (tmp_path / "person_detect.tflite").write_bytes(converter.convert())
    wrapper = PersonDetectionModelWrapper(wrapper_params)
    model = tmp_path / "model.tflite"
    wrapper.install_pretrained(tmp_path / "person_detect.tflite", info, model, quiet)
    wrapper.write_io_spec(model, info)
    spec = iospec.read_spec(model)
    assert spec["input"][0]["dtype"] == "int8" and spec["input"][0]["shape"] == [1, 96, 96, 1]
    assert spec["class_names"] == ["not-person", "person"]
    interpreter = Interpreter(model_path=str(model))
    interpreter.allocate_tensors()
    scores = []
    for sample in splits["x_test"]:
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"],
                               metrics.quantize(sample[np.newaxis], spec["input"][0]))
        interpreter.invoke()
        scores.append(metrics.dequantize(interpreter.get_tensor(
            interpreter.get_output_details()[0]["index"]), spec["output"][0])[0])
    assert np.allclose(np.sum(scores, axis=1), 1.0, atol=0.02)


def test_anomaly_vae_pipeline_to_int8_tflite_reports_anomaly_metrics(project: Project) -> None:
    served = project.root / "served"
    write_anomaly_csv(served / "data.csv", rows=1200)
    digest = sha(served / "data.csv")
    with serve(served) as url:
        (project.root / "scenarios" / "vae-int8.yml").write_text(f"""\
dataset:
  type: AnomalyDetectionDataset
  parameters: {{dataset_root: ./build/CATS, csv_file: {url}/data.csv, sha256: {digest},
               window_size: 8, split_fraction_test: 0.25, inference_batch_size: 64}}
model_wrapper:
  type: PyTorchAnomalyDetectionVAE
  parameters: {{learning_rate: 0.005, num_epochs: 4, output_activation: tanh}}
optimizers:
  - type: TFLiteCompiler
    parameters: {{target: int8, inference_input_type: int8, inference_output_type: int8}}
runtime:
  type: TFLiteRuntime
""")
        run = project.doit("scenario=vae-int8", "evaluate", timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    build = project.build("vae-int8")
    spec = json.loads((build / "compile" / "model.tflite.json").read_text())
    trained = json.loads((build / "train" / "model.pt.json").read_text())
    assert spec["input"][0]["dtype"] == "int8"
    assert spec["anomaly"] == trained["anomaly"] and spec["anomaly"]["score"] == "distance"
    assert spec["input"][0]["mean"] == trained["input"][0]["mean"]
    measurements = json.loads((build / "evaluate" / "measurements.json").read_text())
    anomaly = measurements["anomaly_metrics"]
    assert anomaly["roc_auc"] > 0.6
    assert set(measurements["metrics_per_threshold"]["0.5"]) == {"fdr", "far", "add"}
    assert measurements["class_names"] == ["normal", "anomaly"]
