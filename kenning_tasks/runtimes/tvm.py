"""Apache TVM Relax virtual machine on the library exported by ``TVMCompiler``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kenning_tasks.params import Param
from kenning_tasks.runtimes.base import Runtime


class TVMRuntime(Runtime):
    """TVM Relax VM running a compiled ``model.tvm.so`` on the host CPU."""

    ACCEPTS = ("tvm",)
    REQUIRES = ("apache-tvm",)
    PARAMETERS = (
        Param("num_threads", int, 1, "TVM thread-pool size (1 compares fairly with the other "
              "single-threaded host runtimes)", minimum=1, maximum=64),
    )

    def load(self, model_path: Path, spec: dict[str, Any]) -> None:
        import tvm
        from tvm import relax

        # affinity mode 0 = no pinning; the pool is process-wide, so set it before running.
        tvm.get_global_func("runtime.config_threadpool")(0, self.parameters["num_threads"])
        self._tvm = tvm
        self._device = tvm.cpu()
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
