"""Our int8 C kernels on the microcontroller, with the model compiled ahead of time to C."""

from __future__ import annotations

from kenning_tasks.numerics import Numerics
from kenning_tasks.runtimes.base import Runtime

# Tensor types the firmware's session exchanges with an int8-weight model: int8, or float32
# when the model quantizes its own input (QUANTIZE first) and dequantizes its output
# (DEQUANTIZE last), which the firmware runs as kernels too (quantize.c, dequantize.c).
IO_TYPES = ("int8", "float32")


class MicroInt8Runtime(Runtime):
    """int8 .tflite → C (firmware/runtime kernels, static arena) running on the target."""

    ACCEPTS = ("tflite",)
    ON_TARGET = True
    REQUIRES = ("tflite", "tflite-micro", "pyserial")
    MODULES = ("kenning_tasks.codegen.reference",)

    @classmethod
    def unsupported(cls, numerics: Numerics) -> str | None:
        if numerics.weights == "int8" and numerics.input in IO_TYPES \
                and numerics.output in IO_TYPES:
            return None
        reason = (f"runs int8 models only (int8 weights and activations, int8 or float32 input "
                  f"and output), got {numerics.describe()}")
        if numerics.full_float32:
            reason += "; for a float32 model: MicroFloat32Runtime"
        return reason
