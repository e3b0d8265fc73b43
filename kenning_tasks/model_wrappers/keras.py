"""Keras (TensorFlow) models: a small CNN for images, an MLP or 1-D CNN for sequences."""

from __future__ import annotations

import io
import json
import math
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kenning_tasks import artifacts
from kenning_tasks.datasets.base import load_splits
from kenning_tasks.frameworks import import_keras
from kenning_tasks.model_wrappers.base import ModelWrapper


class KerasModel(ModelWrapper):
    """Keras 3 on TensorFlow, trained deterministically; saved as .keras."""

    FORMAT = "keras"
    REQUIRES = ("tensorflow-cpu", "keras", "numpy")
    MODULES = ("kenning_tasks.frameworks", "kenning_tasks.datasets.base")

    def train(self, splits_path: Path, dataset_info: dict[str, Any], out_model: Path,
              log: Callable[[str], None]) -> dict[str, Any]:
        keras = import_keras()
        p = self.parameters
        keras.utils.set_random_seed(p["seed"])
        splits = load_splits(splits_path)
        model = build_model(self.architecture(dataset_info["kind"]),
                            tuple(dataset_info["input_shape"]), len(dataset_info["class_names"]))
        model.compile(optimizer=keras.optimizers.Adam(p["learning_rate"]),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        validation = (splits["x_val"], splits["y_val"]) if len(splits["y_val"]) else None
        history = model.fit(
            splits["x_train"], splits["y_train"], validation_data=validation,
            epochs=p["epochs"], batch_size=p["batch_size"], shuffle=True, verbose=0,
            callbacks=[EpochLogger(log, p["epochs"])],
        )
        save_keras_deterministic(model, out_model)
        return {k: [float(v) for v in values] for k, values in history.history.items()}


def build_model(architecture: str, input_shape: tuple[int, ...], classes: int,
                batch_size: int | None = None) -> Any:
    """The network for ``architecture``; ``batch_size=1`` gives the fixed-batch deploy graph."""
    import keras
    from keras import layers

    inputs = keras.Input(input_shape, batch_size=batch_size)
    if architecture == "cnn":
        x = layers.Conv2D(8, 3, padding="same", activation="relu")(inputs)
        x = layers.MaxPooling2D(2)(x)
        x = layers.Conv2D(16, 3, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D(2)(x)
        x = layers.Flatten()(x)
    elif architecture == "conv1d":
        x = layers.Conv1D(16, 3, padding="same", activation="relu")(inputs)
        x = layers.MaxPooling1D(2)(x)
        x = layers.Flatten()(x)
    else:
        x = layers.Flatten()(inputs)
        x = layers.Dense(64, activation="relu")(x)
    x = layers.Dense(32, activation="relu")(x)
    x = layers.Dense(classes)(x)
    outputs = layers.Softmax()(x)
    return keras.Model(inputs, outputs)


class EpochLogger:
    """Keras callback printing one progress line per epoch."""

    def __init__(self, log: Callable[[str], None], epochs: int) -> None:
        import keras

        self._callback = keras.callbacks.LambdaCallback(on_epoch_end=self._on_epoch_end)
        self._log = log
        self._epochs = epochs

    def __getattr__(self, name: str) -> Any:
        return getattr(self._callback, name)

    def _on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        parts = " ".join(f"{k}={v:.4f}" for k, v in sorted(logs.items()))
        self._log(f"epoch {epoch + 1}/{self._epochs} {parts}")
        if not math.isfinite(logs.get("loss", 0.0)):
            self._callback.model.stop_training = True  # the train stage then fails in one line


def save_keras_deterministic(model: Any, target: Path) -> None:
    """Save a .keras file whose bytes depend only on the model.

    Keras stores the save date in metadata.json and zip entry times; both are fixed here so
    the same weights always give the same file (and downstream stages can be cut off).
    """
    with artifacts.atomic_path(target) as tmp:
        model.save(tmp)
        source = zipfile.ZipFile(tmp)
        buffer = io.BytesIO()
        with source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
            for name in sorted(source.namelist()):
                data = source.read(name)
                if name == "metadata.json":
                    meta = json.loads(data)
                    meta.pop("date_saved", None)
                    data = json.dumps(meta, sort_keys=True).encode()
                elif name == "config.json":
                    data = json.dumps(_renumber_shared_ids(json.loads(data))).encode()
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                out.writestr(info, data)
        tmp.write_bytes(buffer.getvalue())


def _renumber_shared_ids(config: Any) -> Any:
    """Replace ``shared_object_id`` values (Python object ids) by their order of appearance."""
    numbering: dict[int, int] = {}

    def visit(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: (numbering.setdefault(value, len(numbering) + 1)
                          if key == "shared_object_id" else visit(value))
                    for key, value in node.items()}
        if isinstance(node, list):
            return [visit(item) for item in node]
        return node

    return visit(config)


def load_keras(path: Path) -> Any:
    keras = import_keras()
    return keras.models.load_model(path, compile=False)
