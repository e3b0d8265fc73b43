"""IREE runtime (Python bindings) on the host module written by ``IREECompiler``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kenning_tasks.params import Param
from kenning_tasks.runtimes.base import KENNING_RUNTIME_PARAMETERS, LLEXT_PARAMETER, Runtime


class IREERuntime(Runtime):
    """IREE HAL local driver running a vmvx or llvm-cpu ``model.vmfb`` on the host."""

    ACCEPTS = ("iree",)
    REQUIRES = ("iree-base-runtime",)
    PARAMETERS = (
        # Kenning's parameters and defaults (kenning.runtimes.iree.IREERuntime).
        Param("driver", str, "local-sync", "HAL driver: local-sync runs dispatches inline on "
              "the caller's thread; local-task uses a worker pool (slower for batch-1 models "
              "this small)", enum=("local-sync", "local-task", "cuda", "vulkan", "hip", "metal"),
              only=("local-sync", "local-task"),
              only_reason="GPU drivers are out of scope; nearest: 'local-sync'"),
        LLEXT_PARAMETER,
        *KENNING_RUNTIME_PARAMETERS,
    )

    def load(self, model_path: Path, spec: dict[str, Any]) -> None:
        import iree.runtime as ireert

        self._context = ireert.SystemContext(config=ireert.Config(self.parameters["driver"]))
        module = ireert.VmModule.copy_buffer(self._context.instance, model_path.read_bytes())
        self._context.add_vm_module(module)
        # The importer names the function after the ONNX graph (e.g. main_graph).
        self._main = self._context.modules[module.name][spec["entry_function"]]

    def infer(self, sample: Any) -> Any:
        output = self._main(sample)
        if isinstance(output, (tuple, list)):  # a multi-output model
            output = output[0]
        return output.to_host()

    def extra_measurements(self) -> dict[str, Any]:
        return {"iree_driver": self.parameters["driver"]}
