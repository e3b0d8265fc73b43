"""Our float32 C kernels on the microcontroller, with the model compiled ahead of time to C.

The same firmware, protocol and generator as ``MicroInt8Runtime``; the generator lowers the
model's float32 operators to firmware/runtime/*_f32.c, which use the FPU where the board's core
has one (hard-float builds: Cortex-M4F, M7, M33) and libgcc's software float elsewhere (M0, M3).
"""

from __future__ import annotations

from kenning_tasks.numerics import Numerics
from kenning_tasks.runtimes.base import Runtime


class MicroFloat32Runtime(Runtime):
    """float32 .tflite → C (firmware/runtime float32 kernels, static arena) on the target."""

    ACCEPTS = ("tflite",)
    ON_TARGET = True
    REQUIRES = ("tflite", "tflite-micro", "pyserial")
    MODULES = ("kenning_tasks.codegen.reference",)

    @classmethod
    def unsupported(cls, numerics: Numerics) -> str | None:
        if numerics.full_float32:
            return None
        return (f"runs float32 models only (float32 weights, input and output), got "
                f"{numerics.describe()}; for a full-integer int8 model: MicroInt8Runtime")
