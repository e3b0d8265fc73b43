"""Read a .tflite flatbuffer into a small, framework-free graph description.

Uses the `tflite` package's generated flatbuffer classes only (no TensorFlow import), so code
generation stays fast and works without a TensorFlow runtime.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kenning_tasks.errors import UnsupportedModelError

# tflite.TensorType values -> (name, numpy dtype)
_TENSOR_TYPES: dict[int, tuple[str, Any]] = {
    0: ("float32", np.float32),
    1: ("float16", np.float16),
    2: ("int32", np.int32),
    3: ("uint8", np.uint8),
    4: ("int64", np.int64),
    6: ("bool", np.bool_),
    7: ("int16", np.int16),
    9: ("int8", np.int8),
}


@dataclass
class Tensor:
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str
    scales: list[float] = field(default_factory=list)
    zero_points: list[int] = field(default_factory=list)
    quantized_dimension: int = 0
    data: np.ndarray | None = None  # set for constant tensors (weights, biases, shapes)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape)) if self.shape else 1

    @property
    def nbytes(self) -> int:
        return self.size * np.dtype(_numpy_dtype(self.dtype)).itemsize

    @property
    def scale(self) -> float:
        return self.scales[0] if self.scales else 0.0

    @property
    def zero_point(self) -> int:
        return self.zero_points[0] if self.zero_points else 0


@dataclass
class Operator:
    index: int
    opcode: str
    inputs: list[int]  # -1 marks an omitted optional input
    outputs: list[int]
    raw: Any  # tflite.Operator, for reading builtin options


@dataclass
class Graph:
    path: Path
    tensors: list[Tensor]
    operators: list[Operator]
    inputs: list[int]
    outputs: list[int]

    def unsupported(self, op: Operator | None, tensor: Tensor | None, what: str) -> None:
        """Raise the one-line UnsupportedModelError naming op, tensor and file."""
        parts = []
        if op is not None:
            parts.append(f"op {op.opcode} (#{op.index})")
        if tensor is not None:
            parts.append(f"tensor '{tensor.name}'")
        where = ", ".join(parts)
        raise UnsupportedModelError(f"{self.path}: {where}: {what}")


def _numpy_dtype(name: str) -> Any:
    for type_name, np_type in _TENSOR_TYPES.values():
        if type_name == name:
            return np_type
    return np.uint8


def _opcode_names() -> dict[int, str]:
    import tflite

    return {
        value: key
        for key, value in vars(tflite.BuiltinOperator).items()
        if not key.startswith("_") and isinstance(value, int)
    }


def read_tflite(path: Path) -> Graph:
    """Parse the first subgraph of a .tflite file."""
    import tflite

    path = Path(path)
    buf = path.read_bytes()
    try:
        model = tflite.Model.GetRootAsModel(buf, 0)
        n_subgraphs = model.SubgraphsLength()
    except Exception as exc:  # flatbuffers raises assorted errors on garbage input
        raise UnsupportedModelError(f"{path}: not a readable .tflite flatbuffer ({exc})") from exc
    if n_subgraphs != 1:
        raise UnsupportedModelError(f"{path}: {n_subgraphs} subgraphs; only 1 is supported")
    subgraph = model.Subgraphs(0)
    names = _opcode_names()

    tensors = [_read_tensor(model, subgraph.Tensors(i), i, buf)
               for i in range(subgraph.TensorsLength())]
    operators = []
    for i in range(subgraph.OperatorsLength()):
        raw = subgraph.Operators(i)
        code = model.OperatorCodes(raw.OpcodeIndex())
        # Newer schemas keep the real code in BuiltinCode, older ones in DeprecatedBuiltinCode.
        builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        opcode = names.get(builtin, f"BUILTIN_{builtin}")
        if opcode == "CUSTOM":
            opcode = f"CUSTOM({code.CustomCode().decode(errors='replace')})"
        operators.append(Operator(
            index=i,
            opcode=opcode,
            inputs=[int(raw.Inputs(j)) for j in range(raw.InputsLength())],
            outputs=[int(raw.Outputs(j)) for j in range(raw.OutputsLength())],
            raw=raw,
        ))
    return Graph(
        path=path,
        tensors=tensors,
        operators=operators,
        inputs=[int(subgraph.Inputs(j)) for j in range(subgraph.InputsLength())],
        outputs=[int(subgraph.Outputs(j)) for j in range(subgraph.OutputsLength())],
    )


def _read_tensor(model: Any, raw: Any, index: int, file_bytes: bytes) -> Tensor:
    type_code = raw.Type()
    dtype, np_type = _TENSOR_TYPES.get(type_code, (f"type{type_code}", None))
    shape = tuple(int(d) for d in raw.ShapeAsNumpy()) if raw.ShapeLength() else ()
    tensor = Tensor(index=index, name=raw.Name().decode(errors="replace"), shape=shape, dtype=dtype)

    quant = raw.Quantization()
    if quant is not None and quant.ScaleLength():
        tensor.scales = [float(s) for s in quant.ScaleAsNumpy()]
        tensor.zero_points = [int(z) for z in quant.ZeroPointAsNumpy()] if quant.ZeroPointLength() \
            else [0] * len(tensor.scales)
        tensor.quantized_dimension = int(quant.QuantizedDimension())

    buffer = model.Buffers(raw.Buffer())
    data: bytes | None = None
    if buffer is not None and buffer.DataLength():
        data = buffer.DataAsNumpy().tobytes()
    elif buffer is not None and buffer.Offset() > 1:
        # Large models keep buffers outside the flatbuffer, addressed from the file start.
        data = file_bytes[buffer.Offset(): buffer.Offset() + buffer.Size()]
    if data is not None and np_type is not None:
        tensor.data = np.frombuffer(data, dtype=np_type).reshape(shape if shape else ())
    return tensor
