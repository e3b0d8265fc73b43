"""Kenning's MagicWandModelWrapper: the TFLite Micro magic-wand CNN in Keras, trained here.

The network is Kenning's (from TFLite Micro's magic_wand example): two convolutions with max
pooling and dropout, a 16-unit dense layer and a 4-way softmax ``out_layer``. Its input is the
dataset's (window, 3) window; the reshape to (window, 3, 1) Kenning does in
``preprocess_input`` is the first layer here, so the model file takes what the host and the
target feed it. As in Kenning an epoch is ``steps_per_epoch`` batches drawn from the
repeated, shuffled train split (1000 in Kenning); training is seeded (Kenning's is not) and
uses the dataset's train/validation split (Kenning re-splits 0.2/0.1 inside training).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from kenning_tasks.datasets.base import load_splits
from kenning_tasks.errors import StageError
from kenning_tasks.model_wrappers.base import (
    KENNING_WRAPPER_PARAMETERS,
    KenningModelWrapper,
    kenning_training_parameters,
)
from kenning_tasks.params import Param


class MagicWandModelWrapper(KenningModelWrapper):
    """Kenning's Magic Wand gesture CNN (Keras), trained deterministically."""

    FORMAT = "keras"
    PRETRAINED_FORMATS = ("keras", "tflite")  # Kenning's magic_wand.h5, or a .tflite of it
    REQUIRES = ("tensorflow-cpu", "keras", "numpy")
    MODULES = ("kenning_tasks.frameworks", "kenning_tasks.model_wrappers.keras",
               "kenning_tasks.datasets.base")
    PARAMETERS = (
        Param("window_size", int, 128, "rows in one sample window (the dataset's window_size)",
              minimum=4, maximum=65536),
        *KENNING_WRAPPER_PARAMETERS,
        *kenning_training_parameters(64, 0.001, 50),
        Param("steps_per_epoch", int, 1000, "kenning-tasks: batches per epoch from the "
              "repeated train split (Kenning's fixed value is 1000)", minimum=1,
              maximum=1 << 20),
    )

    def train(self, splits_path: Path, dataset_info: dict[str, Any], out_model: Path,
              log: Callable[[str], None]) -> dict[str, Any]:
        from kenning_tasks.frameworks import import_keras
        from kenning_tasks.model_wrappers.keras import EpochLogger, save_keras_deterministic

        keras = import_keras()
        import tensorflow as tf

        p = self.parameters
        shape = list(dataset_info["input_shape"])
        if shape != [p["window_size"], 3]:
            raise StageError(f"model_wrapper MagicWandModelWrapper.window_size: the model "
                             f"takes ({p['window_size']}, 3) windows, the dataset gives "
                             f"{tuple(shape)}; set the same window_size on both")
        keras.utils.set_random_seed(p["seed"])
        splits = load_splits(splits_path)
        model = build_magic_wand(p["window_size"], len(dataset_info["class_names"]))
        model.compile(optimizer=keras.optimizers.Adam(p["learning_rate"], name="adam"),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        batch_size = self.training_batch_size(dataset_info)
        train = (tf.data.Dataset.from_tensor_slices((splits["x_train"], splits["y_train"]))
                 .shuffle(len(splits["y_train"]), seed=p["seed"]).repeat().batch(batch_size))
        validation = ((splits["x_val"], splits["y_val"]) if len(splits["y_val"]) else None)
        history = model.fit(train, epochs=p["num_epochs"], steps_per_epoch=p["steps_per_epoch"],
                            validation_data=validation, verbose=0,
                            callbacks=[EpochLogger(log, p["num_epochs"])])
        save_keras_deterministic(model, out_model)
        return {k: [float(v) for v in values] for k, values in history.history.items()}


def build_magic_wand(window_size: int, classes: int = 4) -> Any:
    """Kenning's magic-wand network, with its (window, 3) → (window, 3, 1) reshape first."""
    import keras
    from keras import layers

    # Explicit layer names: Keras numbers unnamed layers per process, which would make two
    # trainings in one process save different bytes.
    inputs = keras.Input((window_size, 3), name="input_1")
    x = layers.Reshape((window_size, 3, 1), name="reshape")(inputs)
    x = layers.Conv2D(8, (4, 3), padding="same", activation="relu", name="conv2d")(x)
    x = layers.MaxPooling2D((3, 3), name="max_pooling2d")(x)
    x = layers.Dropout(0.1, name="dropout")(x)
    x = layers.Conv2D(16, (4, 1), padding="same", activation="relu", name="conv2d_1")(x)
    x = layers.MaxPooling2D((3, 1), padding="same", name="max_pooling2d_1")(x)
    x = layers.Dropout(0.1, name="dropout_1")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(16, activation="relu", name="dense")(x)
    x = layers.Dropout(0.1, name="dropout_2")(x)
    outputs = layers.Dense(classes, activation="softmax", name="out_layer")(x)
    return keras.Model(inputs, outputs, name="magic_wand")
