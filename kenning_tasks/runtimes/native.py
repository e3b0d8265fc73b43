"""Native framework runtimes: the trained Keras or PyTorch model itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kenning_tasks.runtimes.base import Runtime


class KerasRuntime(Runtime):
    """The Keras model run directly by TensorFlow (batch 1, no graph conversion)."""

    ACCEPTS = ("keras",)
    REQUIRES = ("tensorflow-cpu", "keras")
    MODULES = ("kenning_tasks.frameworks", "kenning_tasks.model_wrappers.keras")

    def load(self, model_path: Path, spec: dict[str, Any]) -> None:
        from kenning_tasks.frameworks import import_tensorflow
        from kenning_tasks.model_wrappers.keras import load_keras

        tf = import_tensorflow()

        model = load_keras(model_path)
        # A traced tf.function avoids Keras' per-call Python overhead.
        self._call = tf.function(lambda x: model(x, training=False))

    def infer(self, sample: Any) -> Any:
        return self._call(sample).numpy()


class TorchRuntime(Runtime):
    """The PyTorch model run eagerly on the CPU."""

    ACCEPTS = ("torch",)
    REQUIRES = ("torch",)
    MODULES = ("kenning_tasks.model_wrappers.torch",)

    def load(self, model_path: Path, spec: dict[str, Any]) -> None:
        import torch

        from kenning_tasks.model_wrappers.torch import load_torch

        torch.set_num_threads(1)
        self._torch = torch
        self._model = load_torch(model_path)

    def infer(self, sample: Any) -> Any:
        with self._torch.no_grad():
            return self._model(self._torch.from_numpy(sample)).numpy()
