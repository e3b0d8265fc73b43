"""The model wrapper contract: train on the dataset splits, save a native model and its I/O spec.

A wrapper writes its model with ``train`` (seeded, deterministic bytes) and then its I/O spec
with ``write_io_spec``; ``install_pretrained`` is the other way to get there (a user's model
file instead of training: issue 9's ``model_path``), ending in the same two files.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from kenning_tasks import iospec
from kenning_tasks.block import Block
from kenning_tasks.errors import ScenarioError, StageError
from kenning_tasks.params import SEED_MAX, Param

TRAINING_PARAMETERS = (
    Param("architecture", str, "auto", "network: a small CNN for images, an MLP or a 1-D CNN "
          "for sequences; auto picks cnn for images and conv1d for sequences",
          enum=("auto", "cnn", "mlp", "conv1d")),
    Param("epochs", int, 15, "training epochs", minimum=1, maximum=1000),
    Param("batch_size", int, 32, "training batch size", minimum=1, maximum=65536),
    Param("learning_rate", float, 0.005, "Adam learning rate", minimum=1e-7, maximum=1.0),
    Param("seed", int, 1234, "seed for weight initialisation and shuffling", minimum=0,
          maximum=SEED_MAX),
)

# What every Kenning model wrapper takes (kenning.core.model.ModelWrapper and its framework
# bases), plus the seed that makes training here deterministic.
KENNING_WRAPPER_PARAMETERS = (
    Param("model_path", str, None, "a pretrained model file to use instead of training "
          "(not supported yet: leave it out to train here)", nullable=True),
    Param("model_name", str, None, "name of the model, recorded in its I/O spec",
          nullable=True),
    Param("seed", int, 1234, "kenning-tasks: seed of weight initialisation, shuffling and "
          "dropout, so training gives the same bytes every time", minimum=0,
          maximum=SEED_MAX),
)


def kenning_training_parameters(batch_size: int | None, learning_rate: float | None,
                                num_epochs: int | None) -> tuple[Param, ...]:
    """Kenning's training parameters with a wrapper's own defaults (None = must be given)."""
    return (
        Param("batch_size", int, batch_size, "training batch size (null: the dataset's "
              "inference_batch_size, as in Kenning)", nullable=True, minimum=1,
              maximum=1 << 20),
        Param("learning_rate", float, learning_rate, "Adam learning rate", nullable=True,
              minimum=1e-9, maximum=10.0),
        Param("num_epochs", int, num_epochs, "training epochs", nullable=True, minimum=1,
              maximum=100000),
        Param("logdir", str, None, "Kenning's log folder; not written here (progress goes to "
              "the stage log and train/training.json)", nullable=True),
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

    @classmethod
    def input_transform(cls, parameters: dict[str, Any]) -> dict[str, Any] | None:
        """Model-side preprocessing the dataset stage applies to every split, or None.

        ``{"function": "module:function", "parameters": {...}}``; the function maps a batch of
        dataset samples to model inputs (Kenning's ``preprocess_input``). Applied once there,
        training, calibration and host and target evaluation all see the same inputs.
        """
        return None

    def train(self, splits_path: Path, dataset_info: dict[str, Any], out_model: Path,
              log: Callable[[str], None]) -> dict[str, Any]:
        """Train, write ``out_model`` atomically and return the training history."""
        raise NotImplementedError

    def install_pretrained(self, source: Path, dataset_info: dict[str, Any], out_model: Path,
                           log: Callable[[str], None]) -> dict[str, Any]:
        """Write a user's pretrained ``source`` as ``out_model`` (same format as ``train``)."""
        raise StageError(f"model_wrapper {type(self).__name__}: loading a pretrained model "
                         "is not supported")

    def io_spec(self, dataset_info: dict[str, Any]
                ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
        """(inputs, outputs, top-level extras) of the model ``train`` wrote: float32, batch 1."""
        tensor_keys, extra = iospec.dataset_facts(dataset_info)
        shape = [1, *dataset_info["input_shape"]]
        inputs = [{**iospec.tensor("input", shape, "float32"), **tensor_keys}]
        outputs = [iospec.tensor("output", [1, len(dataset_info["class_names"])], "float32")]
        name = self.parameters.get("model_name")
        return inputs, outputs, {**extra, **({"model_name": name} if name else {})}

    def write_io_spec(self, model_path: Path, dataset_info: dict[str, Any]) -> Path:
        inputs, outputs, extra = self.io_spec(dataset_info)
        return iospec.write_spec(model_path, self.FORMAT, inputs, outputs,
                                 dataset_info["class_names"], extra)


class KenningModelWrapper(ModelWrapper):
    """Base of the wrappers carrying Kenning's names: trained here unless given a model."""

    # Training parameters Kenning has no default for; needed unless model_path is given.
    REQUIRED_FOR_TRAINING: ClassVar[tuple[str, ...]] = ("learning_rate", "num_epochs")

    @classmethod
    def check(cls, parameters: dict[str, Any], where: str) -> None:
        if parameters.get("model_path") is not None:
            raise ScenarioError(f"{where}.model_path: loading a pretrained model into "
                                f"{cls.__name__} is not supported yet; remove model_path to "
                                "train the model here")
        missing = [n for n in cls.REQUIRED_FOR_TRAINING if parameters.get(n) is None]
        if missing:
            raise ScenarioError(f"{where}.{missing[0]}: {cls.__name__} needs "
                                f"{' and '.join(missing)} to train (Kenning has no default)")

    def training_batch_size(self, dataset_info: dict[str, Any]) -> int:
        return int(self.parameters.get("batch_size") or dataset_info.get("batch_size") or 1)
