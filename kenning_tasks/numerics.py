"""What numbers a model computes with, known before anything is built.

Validation follows the model along its chain: a model wrapper starts float32, each optimizer
says what it turns the model into (``Optimizer.numerics``) and each runtime says what it can
run (``Runtime.unsupported``). So "int8 weights with float32 input for the microcontroller" is
a one-line error at validation instead of a crash in evaluate.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Numerics:
    """Weight and I/O tensor types of a model, and the quantization scheme that produced it."""

    weights: str = "float32"  # float32, float16 or int8
    input: str = "float32"  # float32, int8 or uint8
    output: str = "float32"
    # none, tflite-int8 (TFLite post-training), onnx-qdq (static QDQ) or onnx-dynamic
    # (dynamic quantization: MatMulInteger / DynamicQuantizeLinear operators)
    scheme: str = "none"
    source: str = ""  # the block that set these, for messages

    @property
    def full_integer(self) -> bool:
        return self.weights == "int8" and self.input == "int8" and self.output == "int8"

    @property
    def full_float32(self) -> bool:
        return self.weights == "float32" and self.input == "float32" and self.output == "float32"

    def describe(self) -> str:
        return (f"{self.weights} weights with {self.input} input and {self.output} output"
                + (f" ({self.source})" if self.source else ""))

    def changed(self, source: str, **fields: str) -> Numerics:
        return replace(self, source=source, **fields)


FLOAT32 = Numerics()
FULL_INT8 = Numerics(weights="int8", input="int8", output="int8", scheme="tflite-int8")
