"""ONNX Runtime on the host CPU."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kenning_tasks.params import Param
from kenning_tasks.runtimes.base import Runtime


class ONNXRuntime(Runtime):
    """ONNX Runtime CPU execution provider for .onnx models."""

    ACCEPTS = ("onnx",)
    REQUIRES = ("onnxruntime",)
    PARAMETERS = (
        Param("num_threads", int, 1, "intra-op threads", minimum=1, maximum=64),
    )

    def load(self, model_path: Path, spec: dict[str, Any]) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = self.parameters["num_threads"]
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(model_path), options,
                                             providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name

    def infer(self, sample: Any) -> Any:
        return self._session.run(None, {self._input: sample})[0]
