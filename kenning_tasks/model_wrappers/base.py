"""The model wrapper contract: train on the dataset splits, save a native model file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from kenning_tasks.block import Block
from kenning_tasks.params import Param

TRAINING_PARAMETERS = (
    Param("architecture", str, "auto", "network: a small CNN for images, an MLP or a 1-D CNN "
          "for sequences; auto picks cnn for images and conv1d for sequences",
          enum=("auto", "cnn", "mlp", "conv1d")),
    Param("epochs", int, 15, "training epochs", minimum=1, maximum=1000),
    Param("batch_size", int, 32, "training batch size", minimum=1, maximum=65536),
    Param("learning_rate", float, 0.005, "Adam learning rate", minimum=1e-7, maximum=1.0),
    Param("seed", int, 1234, "seed for weight initialisation and shuffling", minimum=0),
)


class ModelWrapper(Block):
    """Base of model wrapper blocks."""

    family = "model_wrapper"
    FORMAT: ClassVar[str] = ""
    PARAMETERS = TRAINING_PARAMETERS

    def architecture(self, dataset_kind: str) -> str:
        chosen = self.parameters["architecture"]
        if chosen == "auto":
            return "cnn" if dataset_kind == "image" else "conv1d"
        return chosen

    def train(self, splits_path: Path, dataset_info: dict[str, Any], out_model: Path,
              log: Callable[[str], None]) -> dict[str, Any]:
        """Train, write ``out_model`` atomically and return the training history."""
        raise NotImplementedError
