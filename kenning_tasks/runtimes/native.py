"""Native framework runtimes: the trained Keras or PyTorch model itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kenning_tasks.params import Param
from kenning_tasks.runtimes.base import KENNING_RUNTIME_PARAMETERS, Runtime


class KerasRuntime(Runtime):
    """The Keras model run directly by TensorFlow (batch 1, no graph conversion)."""

    ACCEPTS = ("keras",)
    REQUIRES = ("tensorflow-cpu", "keras")
    PARAMETERS = (KENNING_RUNTIME_PARAMETERS[0],)  # save_model_path: export the model
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


class PyTorchRuntime(TorchRuntime):
    """Kenning's PyTorch runtime: the model compiled with TorchScript (or eager) on the CPU."""

    jit = False  # set by load(): whether TorchScript compiled the model

    # Kenning's parameters and defaults (kenning.runtimes.pytorch.PyTorchRuntime).
    PARAMETERS = (
        Param("skip_jit", bool, False, "Kenning: run eagerly instead of compiling the model "
              "with TorchScript (torch.jit.script + freeze; eager when it cannot be scripted)"),
        *KENNING_RUNTIME_PARAMETERS,
    )

    def load(self, model_path: Path, spec: dict[str, Any]) -> None:
        super().load(model_path, spec)
        if self.parameters["skip_jit"]:
            return
        try:
            self._model = self._torch.jit.freeze(self._torch.jit.script(self._model.eval()))
        except Exception:  # as in Kenning, a model TorchScript rejects runs eagerly
            return
        self.jit = True

    def extra_measurements(self) -> dict[str, Any]:
        return {"torchscript": self.jit}
