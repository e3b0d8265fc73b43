"""TFLite Micro's host interpreter as the bit-exact reference for the generated C.

The generated kernels follow TFLite Micro's reference arithmetic. LiteRT (tf.lite.Interpreter,
with its XNNPACK delegate and LUT-based int8 softmax) rounds differently and disagrees with
TFLite Micro by a few LSBs on some inputs, so compare firmware outputs with this instead.
Needs the `tflite-micro` package (the project's `compilers` extra).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

# TFLM's default arena (10x the model size) is too small for tiny models and then TFLM aborts
# the whole process; this is ample for the models the C runtime targets.
DEFAULT_ARENA_BYTES = 1 << 20


class TflmReference:
    """Runs a .tflite with TFLite Micro's Python interpreter (single input, single output)."""

    def __init__(self, tflite_path: Path, arena_bytes: int = DEFAULT_ARENA_BYTES) -> None:
        from tflite_micro.python.tflite_micro import runtime

        self.interpreter = runtime.Interpreter.from_file(str(tflite_path),
                                                         arena_size=arena_bytes)
        details = self.interpreter.get_input_details(0)
        self.input_shape = tuple(int(d) for d in details["shape"])
        self.input_dtype = np.dtype(details["dtype"])

    def __call__(self, x: np.ndarray | bytes) -> np.ndarray:
        """Flat output array for one input (raw bytes or an array of the input's size)."""
        if isinstance(x, bytes | bytearray):
            x = np.frombuffer(x, dtype=self.input_dtype)
        self.interpreter.set_input(np.asarray(x, dtype=self.input_dtype)
                                   .reshape(self.input_shape), 0)
        self.interpreter.invoke()
        return np.asarray(self.interpreter.get_output(0)).reshape(-1)


def tflm_outputs(tflite_path: Path, inputs: list[np.ndarray | bytes]) -> list[np.ndarray]:
    """TFLite Micro's outputs for each input, in order."""
    reference = TflmReference(tflite_path)
    return [reference(x) for x in inputs]
