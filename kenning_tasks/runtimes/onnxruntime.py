"""ONNX Runtime on the host CPU."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kenning_tasks.errors import ScenarioError
from kenning_tasks.params import Param
from kenning_tasks.runtimes.base import KENNING_RUNTIME_PARAMETERS, Runtime

CPU_PROVIDER = "CPUExecutionProvider"


class ONNXRuntime(Runtime):
    """ONNX Runtime CPU execution provider for .onnx models."""

    ACCEPTS = ("onnx",)
    REQUIRES = ("onnxruntime",)
    PARAMETERS = (
        # Kenning's parameters and defaults (kenning.runtimes.onnx.ONNXRuntime).
        Param("execution_providers", list, [CPU_PROVIDER], "Kenning: execution providers by "
              "priority", item_type=str),
        *KENNING_RUNTIME_PARAMETERS,
        # This project's extra.
        Param("num_threads", int, None, "intra-op threads; null = ONNX Runtime's default (one "
              "per core), as in Kenning", minimum=1, maximum=64, nullable=True),
    )

    @classmethod
    def check(cls, parameters: dict[str, Any], where: str) -> None:
        for index, provider in enumerate(parameters["execution_providers"]):
            if provider != CPU_PROVIDER:
                raise ScenarioError(
                    f"{where}.execution_providers[{index}]: {provider!r} is not supported "
                    f"here; GPU and accelerator providers are out of scope; nearest: "
                    f"[{CPU_PROVIDER}]")

    def load(self, model_path: Path, spec: dict[str, Any]) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        if self.parameters["num_threads"] is not None:
            options.intra_op_num_threads = self.parameters["num_threads"]
            options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(model_path), options,
                                             providers=self.parameters["execution_providers"])
        self._input = self._session.get_inputs()[0].name

    def infer(self, sample: Any) -> Any:
        return self._session.run(None, {self._input: sample})[0]
