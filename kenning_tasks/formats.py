"""Model formats and the conversions between them.

A format names a kind of model file. Optimizers and runtimes declare which formats they accept
and produce; the scenario validator uses ``CONVERSIONS`` to find the first common format
between neighbours ("format negotiation") before anything runs.
"""

from __future__ import annotations

FILE_NAMES = {
    "keras": "model.keras",
    "torch": "model.pt",
    "tflite": "model.tflite",
    "onnx": "model.onnx",
    "tvm": "model.tvm.so",  # a Relax VM executable exported as a host shared library
    "iree": "model.vmfb",  # an IREE VM FlatBuffer module
}

# (source, target) -> "module:function" implementing it; the identity is always allowed.
CONVERSIONS: dict[tuple[str, str], str] = {
    ("keras", "tflite"): "kenning_tasks.converters:keras_to_tflite",
    ("keras", "onnx"): "kenning_tasks.converters:keras_to_onnx",
    ("torch", "onnx"): "kenning_tasks.converters:torch_to_onnx",
    ("torch", "tflite"): "kenning_tasks.torch_tflite:torch_to_tflite",
    ("tflite", "onnx"): "kenning_tasks.converters:tflite_to_onnx",
}

# Distributions whose versions make up a conversion's signature.
CONVERSION_TOOLS: dict[tuple[str, str], tuple[str, ...]] = {
    ("keras", "tflite"): ("tensorflow-cpu", "keras"),
    ("keras", "onnx"): ("tensorflow-cpu", "keras", "tf2onnx", "onnx"),
    ("torch", "onnx"): ("torch", "onnx", "onnxscript"),
    ("torch", "tflite"): ("torch", "litert-torch", "litert-converter", "ai-edge-litert"),
    ("tflite", "onnx"): ("tensorflow-cpu", "tf2onnx", "onnx"),
}


def file_name(fmt: str) -> str:
    return FILE_NAMES.get(fmt, f"model.{fmt}")


def can_convert(source: str, target: str) -> bool:
    return source == target or (source, target) in CONVERSIONS


def pick_format(source: str, accepted: tuple[str, ...]) -> str | None:
    """The first accepted format reachable from ``source`` (itself preferred), or None."""
    if source in accepted:
        return source
    for fmt in accepted:
        if can_convert(source, fmt):
            return fmt
    return None
