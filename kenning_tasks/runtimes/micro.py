"""Our int8 C kernels on the microcontroller, with the model compiled ahead of time to C."""

from __future__ import annotations

from kenning_tasks.numerics import Numerics
from kenning_tasks.runtimes.base import Runtime


class MicroInt8Runtime(Runtime):
    """int8 .tflite → C (firmware/runtime kernels, static arena) running on the target."""

    ACCEPTS = ("tflite",)
    ON_TARGET = True
    REQUIRES = ("tflite", "tflite-micro", "pyserial")
    MODULES = ("kenning_tasks.codegen.reference",)

    @classmethod
    def unsupported(cls, numerics: Numerics) -> str | None:
        # The firmware's kernels and the UART session exchange int8 tensors only.
        if numerics.full_integer:
            return None
        reason = (f"runs full-integer int8 models only (int8 weights, int8 input and output), "
                  f"got {numerics.describe()}")
        if numerics.full_float32:
            reason += "; for a float32 model: MicroFloat32Runtime"
        return reason
