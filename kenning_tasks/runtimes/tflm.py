"""TensorFlow Lite Micro's kernels and allocator as a host Python interpreter (tflite-micro).

This runs the same C++ interpreter, kernels and arena planner a microcontroller would run
(reference kernels, no CMSIS-NN), so it checks that a model works in TFLite Micro and how much
tensor arena it needs, without a board. Latency is host latency, not the board's.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

from kenning_tasks.numerics import Numerics
from kenning_tasks.params import Param
from kenning_tasks.runtimes.base import Runtime

_ARENA_TOTAL = re.compile(r"Arena allocation total (\d+) bytes")


class TFLiteMicroRuntime(Runtime):
    """TFLite Micro host interpreter (pip tflite-micro); records the tensor arena it used."""

    ACCEPTS = ("tflite",)
    REQUIRES = ("tflite-micro",)
    PARAMETERS = (
        Param("arena_size", int, None, "tensor arena given to the interpreter in bytes; null = "
              "TFLite Micro's default of 10× the model size", minimum=256, nullable=True),
    )

    @classmethod
    def unsupported(cls, numerics: Numerics) -> str | None:
        if numerics.weights == "float16":
            # Checked: TFLite Micro fails to allocate a float16-weight model (no float16
            # DEQUANTIZE kernel).
            return ("TFLite Micro has no float16 kernels; nearest: TFLiteCompiler target "
                    "'default' (float32) or 'int8'")
        return None

    # Set by load(), for measurements: the arena given, what the planner kept after allocation
    # (head + tail) and the smallest arena that allocates at all, which is larger than the
    # kept total because planning needs scratch space — that one is what a board must reserve.
    arena_size_bytes: int | None = None
    arena_used_bytes: int | None = None
    arena_min_bytes: int | None = None

    def load(self, model_path: Path, spec: dict[str, Any]) -> None:
        from tflite_micro import runtime

        data = model_path.read_bytes()
        self.arena_size_bytes = self.parameters["arena_size"] or 10 * len(data)
        self._interpreter = runtime.Interpreter.from_bytes(data,
                                                           arena_size=self.arena_size_bytes)
        self.arena_used_bytes = self._measure_arena(spec)
        self.arena_min_bytes = _smallest_arena(data, self.arena_used_bytes or 256,
                                               self.arena_size_bytes)

    def infer(self, sample: Any) -> Any:
        self._interpreter.set_input(sample, 0)
        self._interpreter.invoke()
        return self._interpreter.get_output(0).copy()

    def extra_measurements(self) -> dict[str, Any]:
        return {"tflm_arena_size_bytes": self.arena_size_bytes,
                "tflm_arena_used_bytes": self.arena_used_bytes,
                "tflm_arena_min_bytes": self.arena_min_bytes}

    def _measure_arena(self, spec: dict[str, Any]) -> int | None:
        """Run one zero input, then read the recording allocator's report.

        The Python wrapper has no accessor for the arena usage; PrintAllocations() writes it
        from C++ to file descriptor 2, so that descriptor is pointed at a file meanwhile.
        """
        import numpy as np

        tensor = spec["input"][0]
        self.infer(np.zeros(tensor["shape"], dtype=tensor["dtype"]))
        text = _capture_fd2(self._interpreter.print_allocations)
        self._interpreter.reset()
        match = _ARENA_TOTAL.search(text)
        return int(match.group(1)) if match else None


def _smallest_arena(data: bytes, low: int, high: int, step: int = 16) -> int:
    """Bisect the smallest arena (to ``step`` bytes) in which the interpreter allocates.

    ``high`` is known to work (load() just used it). Failed attempts print planner errors
    from C++, so file descriptor 2 is captured meanwhile.
    """
    from tflite_micro import runtime

    def allocates(size: int) -> bool:
        try:
            runtime.Interpreter.from_bytes(data, arena_size=size)
        except RuntimeError:
            return False
        return True

    def search() -> None:
        nonlocal low, high
        while high - low > step:
            middle = (low + high) // 2
            if allocates(middle):
                high = middle
            else:
                low = middle

    _capture_fd2(search)
    return high


def _capture_fd2(function: Any) -> str:
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            function()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        capture.seek(0)
        return capture.read().decode(errors="replace")
