"""Our int8 C kernels on the microcontroller, with the model compiled ahead of time to C."""

from __future__ import annotations

from kenning_tasks.runtimes.base import Runtime


class MicroInt8Runtime(Runtime):
    """int8 .tflite → C (firmware/runtime kernels, static arena) running on the target."""

    ACCEPTS = ("tflite",)
    ON_TARGET = True
    REQUIRES = ("tflite", "tflite-micro", "pyserial")
    MODULES = ("kenning_tasks.codegen.reference",)
