"""I/O spec sidecars: ``<model file>.json`` describing a model's tensors, as Kenning does.

Layout: ``{"input": [tensor], "output": [tensor], "class_names": [...], "format": str}`` where a
tensor is ``{"name", "shape", "dtype", "scale", "zero_point"}`` (scale 0 = not quantized).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kenning_tasks import artifacts


def spec_path(model_path: Path) -> Path:
    return model_path.with_name(model_path.name + ".json")


def tensor(name: str, shape: list[int], dtype: str, scale: float = 0.0,
           zero_point: int = 0) -> dict[str, Any]:
    return {"name": name, "shape": [int(s) for s in shape], "dtype": dtype,
            "scale": float(scale), "zero_point": int(zero_point)}


def write_spec(model_path: Path, fmt: str, inputs: list[dict[str, Any]],
               outputs: list[dict[str, Any]], class_names: list[str],
               extra: dict[str, Any] | None = None) -> Path:
    spec = {"format": fmt, "input": inputs, "output": outputs, "class_names": class_names}
    spec.update(extra or {})
    return artifacts.write_json(spec_path(model_path), spec)


def read_spec(model_path: Path) -> dict[str, Any]:
    return json.loads(spec_path(model_path).read_text())


def tflite_spec(model_path: Path, class_names: list[str]) -> Path:
    """Write the sidecar of a .tflite file from its own tensor details."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(model_path))

    def describe(details: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [tensor(d["name"], list(d["shape"]), d["dtype"].__name__,
                       d["quantization"][0], d["quantization"][1]) for d in details]

    return write_spec(model_path, "tflite", describe(interpreter.get_input_details()),
                      describe(interpreter.get_output_details()), class_names)


def onnx_spec(model_path: Path, class_names: list[str]) -> Path:
    """Write the sidecar of an .onnx file from its graph inputs and outputs."""
    import onnx

    model = onnx.load(str(model_path), load_external_data=False)

    def describe(values: Any) -> list[dict[str, Any]]:
        out = []
        for value in values:
            tensor_type = value.type.tensor_type
            shape = [d.dim_value if d.dim_value > 0 else 1 for d in tensor_type.shape.dim]
            dtype = onnx.helper.tensor_dtype_to_np_dtype(tensor_type.elem_type).name
            out.append(tensor(value.name, shape, dtype))
        return out

    return write_spec(model_path, "onnx", describe(model.graph.input),
                      describe(model.graph.output), class_names)
