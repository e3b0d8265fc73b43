"""LiteRT (TensorFlow Lite) interpreter on the host."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kenning_tasks.params import Param
from kenning_tasks.runtimes.base import KENNING_RUNTIME_PARAMETERS, LLEXT_PARAMETER, Runtime


class TFLiteRuntime(Runtime):
    """LiteRT (ai-edge-litert) interpreter for .tflite models."""

    ACCEPTS = ("tflite",)
    REQUIRES = ("ai-edge-litert",)
    # Kenning's parameters and defaults (kenning.runtimes.tflite.TFLiteRuntime).
    PARAMETERS = (
        Param("num_threads", int, 4, "interpreter threads (Kenning's default 4)", minimum=1,
              maximum=64),
        Param("delegates", list, None, "Kenning: TFLite delegates", item_type=str,
              nullable=True, only=(None,), only_reason="no delegates are available in LiteRT's "
              "pip wheel here; nearest: null (the built-in CPU kernels)"),
        LLEXT_PARAMETER,
        *KENNING_RUNTIME_PARAMETERS,
    )

    def load(self, model_path: Path, spec: dict[str, Any]) -> None:
        from ai_edge_litert.interpreter import Interpreter

        self._interpreter = Interpreter(model_path=str(model_path),
                                        num_threads=self.parameters["num_threads"])
        self._interpreter.allocate_tensors()
        self._input = self._interpreter.get_input_details()[0]["index"]
        self._output = self._interpreter.get_output_details()[0]["index"]

    def infer(self, sample: Any) -> Any:
        self._interpreter.set_tensor(self._input, sample)
        self._interpreter.invoke()
        return self._interpreter.get_tensor(self._output).copy()
