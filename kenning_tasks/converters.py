"""Format conversions used by the convert stage and between optimizers (see formats.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from kenning_tasks import artifacts, iospec

Converter = Callable[[Path, Path, dict[str, Any]], None]


def batch_one_keras(source: Path) -> Any:
    """Reload a Keras model as a fixed batch-1 graph with the same weights.

    Fixed batch 1 is what microcontroller runtimes and TVM's TFLite frontend need, and it
    avoids Keras 3 calibration crashes in the TFLite converter.
    """
    from kenning_tasks.model_wrappers.keras import load_keras

    model = load_keras(source)
    import keras

    config = model.get_config()
    for layer in config["layers"]:
        if layer["class_name"] == "InputLayer":
            shape = layer["config"].get("batch_shape") or layer["config"].get("batch_input_shape")
            layer["config"]["batch_shape"] = [1, *shape[1:]]
            layer["config"].pop("batch_input_shape", None)
    fixed = keras.Model.from_config(config)
    fixed.set_weights(model.get_weights())
    return fixed


def keras_to_tflite(source: Path, target: Path, dataset_info: dict[str, Any]) -> None:
    """Keras → TFLite float32 (batch 1)."""
    from kenning_tasks.frameworks import import_tensorflow

    tf = import_tensorflow()

    converter = tf.lite.TFLiteConverter.from_keras_model(batch_one_keras(source))
    artifacts.write_bytes(target, converter.convert())
    iospec.tflite_spec(target, dataset_info["class_names"])


def keras_to_onnx(source: Path, target: Path, dataset_info: dict[str, Any]) -> None:
    """Keras → ONNX through a tf.function (tf2onnx's from_keras is broken on Keras 3)."""
    from kenning_tasks.frameworks import import_tensorflow

    tf = import_tensorflow()
    import tf2onnx

    model = batch_one_keras(source)
    signature = [tf.TensorSpec((1, *dataset_info["input_shape"]), tf.float32, name="input")]
    function = tf.function(lambda x: {"output": model(x)}, input_signature=signature)
    proto, _ = tf2onnx.convert.from_function(function, input_signature=signature, opset=17)
    artifacts.write_bytes(target, proto.SerializeToString())
    iospec.onnx_spec(target, dataset_info["class_names"])


def torch_to_onnx(source: Path, target: Path, dataset_info: dict[str, Any]) -> None:
    """PyTorch → ONNX with the dynamo exporter, weights embedded, batch 1."""
    import torch

    from kenning_tasks.model_wrappers.torch import load_torch

    model = load_torch(source)
    example = (torch.zeros((1, *dataset_info["input_shape"]), dtype=torch.float32),)
    with artifacts.atomic_path(target) as tmp:
        program = torch.onnx.export(model, example, input_names=["input"],
                                    output_names=["output"], dynamo=True, external_data=False,
                                    verbose=False)
        program.save(str(tmp))
    iospec.onnx_spec(target, dataset_info["class_names"])


def tflite_to_onnx(source: Path, target: Path, dataset_info: dict[str, Any]) -> None:
    """TFLite → ONNX through tf2onnx's TFLite reader (int8 models become QDQ ONNX).

    tf2onnx keeps an int8 model's integer input and output tensors but the ONNX graph does
    not say how to (de)quantize them, so their scale and zero point are carried over from the
    TFLite sidecar; the evaluate stage needs them to feed and read the model.
    """
    from kenning_tasks.frameworks import import_tensorflow

    import_tensorflow()  # tf2onnx imports TensorFlow; configure it first
    import warnings

    import tf2onnx

    with warnings.catch_warnings():
        # tf2onnx reads tensor shapes through tf.lite.Interpreter, which warns that it is
        # deprecated in favour of LiteRT; the warning is about tf2onnx, not this model.
        warnings.filterwarnings("ignore", message=".*tf.lite.Interpreter is deprecated")
        proto, _ = tf2onnx.convert.from_tflite(str(source), opset=17)
    artifacts.write_bytes(target, proto.SerializeToString())
    iospec.onnx_spec(target, dataset_info["class_names"])
    source_spec, spec = iospec.read_spec(source), iospec.read_spec(target)
    for side in ("input", "output"):
        for onnx_tensor, tflite_tensor in zip(spec[side], source_spec[side], strict=False):
            if onnx_tensor["dtype"] == tflite_tensor["dtype"]:
                onnx_tensor["scale"] = tflite_tensor["scale"]
                onnx_tensor["zero_point"] = tflite_tensor["zero_point"]
    iospec.write_spec(target, "onnx", spec["input"], spec["output"], spec["class_names"])


def copy_model(source: Path, target: Path, dataset_info: dict[str, Any]) -> None:
    """Identity: copy the model and its sidecar byte for byte."""
    artifacts.write_bytes(target, source.read_bytes())
    sidecar = iospec.spec_path(source)
    if sidecar.exists():
        artifacts.write_bytes(iospec.spec_path(target), sidecar.read_bytes())


def converter_for(source_format: str, target_format: str) -> Converter:
    import importlib

    from kenning_tasks.formats import CONVERSIONS

    if source_format == target_format:
        return copy_model
    module_name, _, function = CONVERSIONS[(source_format, target_format)].partition(":")
    return getattr(importlib.import_module(module_name), function)
