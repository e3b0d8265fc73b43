"""Kenning's TensorFlowPetDatasetMobileNetV2: a MobileNetV2 classifier for PetDataset (Keras).

Kenning's network: MobileNetV2 (224×224×3, no top, frozen) followed by global average pooling,
Dense 1024/512/128 with ReLU and dropout 0.5, and a logits layer ``out_layer``. Kenning ships
it pretrained (``model_path``); its base is ImageNet-pretrained, which cannot be downloaded
here, so training here starts from random weights (said in one line when it runs); a given
``model_path`` (.h5/.keras) is installed instead (``pretrained.py``). Training
is seeded and uses no augmentation (Kenning adds random brightness, contrast and flips).
``alpha`` (the MobileNetV2 width multiplier, 1.0 in Kenning) lets tests build a small one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from kenning_tasks import iospec
from kenning_tasks.datasets.base import load_splits
from kenning_tasks.errors import StageError
from kenning_tasks.model_wrappers.base import (
    KENNING_WRAPPER_PARAMETERS,
    KenningModelWrapper,
    kenning_training_parameters,
)
from kenning_tasks.params import Param

INPUT_SHAPE = [224, 224, 3]


class TensorFlowPetDatasetMobileNetV2(KenningModelWrapper):
    """Kenning's MobileNetV2 pet classifier (Keras); trained here from random weights."""

    FORMAT = "keras"
    PRETRAINED_FORMATS = ("keras",)  # Kenning's .h5 (checked against the dataset on install)
    REQUIRES = ("tensorflow-cpu", "keras", "numpy")
    MODULES = ("kenning_tasks.frameworks", "kenning_tasks.model_wrappers.keras",
               "kenning_tasks.datasets.base")
    PARAMETERS = (
        *KENNING_WRAPPER_PARAMETERS,
        *kenning_training_parameters(None, None, None),
        Param("alpha", float, 1.0, "kenning-tasks: MobileNetV2 width multiplier (Kenning: "
              "1.0)", enum=(0.35, 0.5, 0.75, 1.0, 1.3, 1.4)),
    )

    def _check_dataset(self, dataset_info: dict[str, Any]) -> None:
        if list(dataset_info["input_shape"]) != INPUT_SHAPE:
            raise StageError(f"model_wrapper TensorFlowPetDatasetMobileNetV2: the model takes "
                             f"224×224×3 (NHWC) images, the dataset gives "
                             f"{tuple(dataset_info['input_shape'])}")

    def train(self, splits_path: Path, dataset_info: dict[str, Any], out_model: Path,
              log: Callable[[str], None]) -> dict[str, Any]:
        from kenning_tasks.frameworks import import_keras
        from kenning_tasks.model_wrappers.keras import EpochLogger, save_keras_deterministic

        keras = import_keras()
        self._check_dataset(dataset_info)
        p = self.parameters
        keras.utils.set_random_seed(p["seed"])
        log("MobileNetV2 base initialised with random weights (Kenning's ImageNet weights "
            "cannot be downloaded here); it stays frozen as in Kenning")
        model = build_pet_mobilenet(len(dataset_info["class_names"]), p["alpha"])
        model.compile(optimizer=keras.optimizers.Adam(p["learning_rate"], name="adam"),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=["accuracy"])
        splits = load_splits(splits_path)
        validation = (splits["x_val"], splits["y_val"]) if len(splits["y_val"]) else None
        history = model.fit(splits["x_train"], splits["y_train"], validation_data=validation,
                            epochs=p["num_epochs"], batch_size=self.training_batch_size(
                                dataset_info), shuffle=True, verbose=0,
                            callbacks=[EpochLogger(log, p["num_epochs"])])
        save_keras_deterministic(model, out_model)
        return {k: [float(v) for v in values] for k, values in history.history.items()}

    def io_spec(self, dataset_info: dict[str, Any]) -> tuple[list, list, dict[str, Any]]:
        inputs, _, extra = super().io_spec(dataset_info)
        inputs[0]["name"] = "input_1"
        outputs = [iospec.tensor("out_layer", [1, len(dataset_info["class_names"])], "float32")]
        return inputs, outputs, extra


def build_pet_mobilenet(classes: int, alpha: float = 1.0) -> Any:
    """Kenning's network (random MobileNetV2 weights), with fixed layer names."""
    import keras
    from keras import layers

    # Named input: Keras numbers unnamed layers per process (bytes would depend on history).
    inputs = keras.Input(tuple(INPUT_SHAPE), name="input_1")
    base = keras.applications.MobileNetV2(input_tensor=inputs, include_top=False,
                                          weights=None, alpha=alpha)
    base.trainable = False
    x = layers.GlobalAveragePooling2D(name="avgpool")(base.output)
    for index, units in enumerate((1024, 512, 128)):
        x = layers.Dense(units, activation="relu", name=f"dense_{index}")(x)
        x = layers.Dropout(0.5, name=f"dropout_{index}")(x)
    outputs = layers.Dense(classes, name="out_layer")(x)
    return keras.Model(inputs, outputs, name="pet_mobilenetv2")
