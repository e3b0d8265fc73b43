"""LiteRT (TensorFlow Lite) interpreter on the host."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kenning_tasks.params import Param
from kenning_tasks.runtimes.base import Runtime


class TFLiteRuntime(Runtime):
    """LiteRT (ai-edge-litert) interpreter for .tflite models."""

    ACCEPTS = ("tflite",)
    REQUIRES = ("ai-edge-litert",)
    PARAMETERS = (Param("num_threads", int, 1, "interpreter threads", minimum=1, maximum=64),)

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
