"""Apache TVM Relax virtual machine on the library exported by ``TVMCompiler``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kenning_tasks.params import Param
from kenning_tasks.runtimes.base import KENNING_RUNTIME_PARAMETERS, LLEXT_PARAMETER, Runtime


class TVMRuntime(Runtime):
    """TVM Relax VM running a compiled ``model.tvm.so`` on the host CPU."""

    ACCEPTS = ("tvm",)
    REQUIRES = ("apache-tvm",)
    PARAMETERS = (
        # Kenning's parameters and defaults (kenning.runtimes.tvm.TVMRuntime).
        Param("target_device_context", str, "cpu", "Kenning: device the library runs on",
              enum=("cpu", "llvm", "cuda", "opencl", "vulkan", "metal", "rocm"),
              only=("cpu", "llvm"), only_reason="GPU devices are out of scope; nearest: 'cpu'"),
        Param("target_device_context_id", int, 0, "Kenning: device index", minimum=0),
        Param("runtime_use_vm", bool, False, "Kenning: run in the Relay VM instead of the graph "
              "executor; TVM 0.27 always runs the Relax VM (same results)"),
        LLEXT_PARAMETER,
        *KENNING_RUNTIME_PARAMETERS,
        # This project's extra.
        Param("num_threads", int, None, "TVM thread-pool size; null = TVM's default (one per "
              "core), as in Kenning; 1 compares fairly with single-threaded runtimes",
              minimum=1, maximum=64, nullable=True),
    )

    def load(self, model_path: Path, spec: dict[str, Any]) -> None:
        import tvm
        from tvm import relax

        if self.parameters["num_threads"] is not None:
            # affinity mode 0 = no pinning; the pool is process-wide, so set it before running.
            tvm.get_global_func("runtime.config_threadpool")(0, self.parameters["num_threads"])
        self._tvm = tvm
        self._device = tvm.cpu(self.parameters["target_device_context_id"])
        library = tvm.runtime.load_module(str(model_path))
        self._vm = relax.VirtualMachine(library, self._device)
        self._main = self._vm[spec.get("entry_function", "main")]

    def infer(self, sample: Any) -> Any:
        output = self._main(self._tvm.runtime.tensor(sample, self._device))
        if not hasattr(output, "numpy"):  # a multi-output model returns a tuple
            output = output[0]
        return output.numpy()

    def extra_measurements(self) -> dict[str, Any]:
        return {"tvm_num_threads": self.parameters["num_threads"]}
