"""I/O spec sidecars: ``<model file>.json`` describing a model's tensors, as Kenning does.

Layout: ``{"input": [tensor], "output": [tensor], "class_names": [...], "format": str}`` where a
tensor is ``{"name", "shape", "dtype", "scale", "zero_point"}`` (scale 0 = not quantized).

Optional facts that no model file holds and every later model of the chain keeps
(``carry_over``):
- ``mean``/``std`` on an input tensor, with ``normalization`` at the top: the inputs are
  ``(raw - mean) / std`` per parameter column, with statistics of the train split
  (``dataset.json``), so a firmware can apply the same preprocessing to raw sensor data;
- ``anomaly``: how the output becomes an anomaly decision (``metrics.anomaly_score``), e.g.
  ``{"score": "distance", "threshold": 0.83}`` with the threshold chosen on the train split.
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


INPUT_FACTS = ("mean", "std")
TOP_LEVEL_FACTS = ("normalization", "anomaly")


def dataset_facts(dataset_info: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(input tensor keys, top-level keys) describing the dataset's normalisation, if any."""
    normalization = dataset_info.get("normalization")
    if not normalization:
        return {}, {}
    tensor_keys = {"mean": normalization["mean"], "std": normalization["std"]}
    return tensor_keys, {"normalization": normalization}


def carry_over(source: Path, target: Path) -> None:
    """Copy the facts in ``source``'s sidecar that ``target``'s lacks (see the module doc)."""
    source_spec, target_spec = read_spec(source), read_spec(target)
    changed = False
    for key in TOP_LEVEL_FACTS:
        if key in source_spec and key not in target_spec:
            target_spec[key] = source_spec[key]
            changed = True
    for old, new in zip(source_spec["input"], target_spec["input"], strict=False):
        for key in INPUT_FACTS:
            if key in old and key not in new:
                new[key] = old[key]
                changed = True
    if changed:
        artifacts.write_json(spec_path(target), target_spec)


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
