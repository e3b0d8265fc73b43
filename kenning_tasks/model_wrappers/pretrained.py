"""Bring your own model: ``model_wrapper.parameters.model_path`` instead of training.

``model_path`` is Kenning's name: a ``.tflite``, ``.onnx``, ``.keras``/``.h5`` or PyTorch
``.pt``/``.pth`` file, as a path relative to the scenario file or an http(s)/file/kenning URI
(downloaded through the resource cache, ``datasets.resources``). Its format, taken from the
suffix, is where the model chain starts (``ModelWrapper.native_format``), so a user's int8
``.tflite`` needs no optimizer to reach the firmware.

The train stage installs the file instead of training (``install``): it checks the model's
input and output shapes against the dataset (one line naming the file on a mismatch) and
writes ``train/model.<format>``. TFLite and ONNX files are copied byte for byte and their I/O
spec (shapes, dtypes, quantization) is read from the file itself, so the test split is
quantized with the model's own scale and zero point; Keras files are re-saved as a
deterministic ``.keras``; a PyTorch file is either this project's ``.pt`` (architecture builder
+ state dict) or a bare state dict for the wrapper's own architecture.

A local file is an input of the train stage (content-hashed by doit): replacing it reruns
train, and what follows reruns only if the installed model's bytes changed.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from kenning_tasks.errors import ScenarioError, StageError
from kenning_tasks.numerics import FLOAT32, Numerics


class InstallableWrapper(Protocol):
    """What installing needs of a model wrapper (``model_wrappers.base.ModelWrapper`` has it;
    named here so this module, which the base class uses, does not import it back)."""

    parameters: dict[str, Any]

    def native_format(self, parameters: dict[str, Any]) -> str: ...

    def output_size(self, dataset_info: dict[str, Any]) -> int: ...

    def torch_architecture(self, dataset_info: dict[str, Any]) -> tuple[str, dict[str, Any]]: ...


SUFFIXES = {".tflite": "tflite", ".onnx": "onnx", ".keras": "keras", ".h5": "keras",
            ".pt": "torch", ".pth": "torch"}
ALL_FORMATS = ("tflite", "onnx", "keras", "torch")
WHERE = "model_wrapper.parameters.model_path"
# Distributions that read each format (part of the train stage's signature).
TOOLS = {"tflite": ("ai-edge-litert", "tflite"), "onnx": ("onnx",),
         "keras": ("tensorflow-cpu", "keras", "h5py"), "torch": ("torch",)}
KERAS = "kenning_tasks.model_wrappers.keras"
# Project modules each format's install runs (part of the train stage's code fingerprint).
LOADER_MODULES = {
    "tflite": ["kenning_tasks.codegen.reader"], "onnx": [],
    "keras": [KERAS, "kenning_tasks.frameworks"],
    "torch": ["kenning_tasks.model_wrappers.torch", "kenning_tasks.model_wrappers.torch_training",
              "kenning_tasks.registry"]}
Log = Callable[[str], None]


def given(parameters: dict[str, Any]) -> bool:
    return bool(parameters.get("model_path"))


def model_format(model_path: str) -> str | None:
    """The format a model file's suffix names (``None`` for an unknown suffix)."""
    from kenning_tasks.datasets.resources import is_uri

    name = urllib.parse.urlparse(model_path).path if is_uri(model_path) else model_path
    return SUFFIXES.get(PurePosixPath(name).suffix.lower())


def check(wrapper: type, parameters: dict[str, Any], base_dir: Path, where: str) -> None:
    """Validation: a known suffix the wrapper loads, and a local file that exists (stat only)."""
    from kenning_tasks.datasets import resources

    source = parameters["model_path"]
    fmt = model_format(source)
    allowed = wrapper.PRETRAINED_FORMATS
    if fmt is None:
        raise ScenarioError(f"{where}.model_path: {source!r} is not a model file this project "
                            "reads; allowed suffixes: " + ", ".join(SUFFIXES))
    if fmt not in allowed:
        suffixes = ", ".join(s for s, f in SUFFIXES.items() if f in allowed)
        raise ScenarioError(f"{where}.model_path: {wrapper.__name__} loads {suffixes} files, "
                            f"not {PurePosixPath(source).name}; nearest: KerasModel or "
                            "TorchModel, which take any of " + ", ".join(SUFFIXES))
    if not resources.is_remote(source):
        resources.check_local_file(resources.local_path(source, base_dir),
                                   f"{where}.model_path", ScenarioError)


def input_files(parameters: dict[str, Any], base_dir: Path) -> list[Path]:
    """The local model file (a remote one is named by its URI in the stage parameters)."""
    from kenning_tasks.datasets import resources

    source = parameters.get("model_path")
    if not source or resources.is_remote(source):
        return []
    return [resources.local_path(source, base_dir)]


def fetch(parameters: dict[str, Any], base_dir: Path, log: Log) -> Path:
    from kenning_tasks.datasets import resources

    return resources.fetch(parameters["model_path"], None, WHERE, base_dir, log)


def numerics(parameters: dict[str, Any], base_dir: Path) -> Numerics:
    """What a given ``.tflite`` computes with (read from the file), so validation knows
    whether an int8-only target runs it; other formats are float32 models."""
    from kenning_tasks.datasets import resources

    source = parameters.get("model_path")
    if not source or model_format(source) != "tflite" or resources.is_remote(source):
        return FLOAT32
    path = resources.local_path(source, base_dir)
    if not path.is_file():
        return FLOAT32  # validation says it is missing
    try:  # numpy and the flatbuffer schema, no framework
        from kenning_tasks.codegen.reader import read_tflite

        graph = read_tflite(path)
    except Exception:  # unreadable: the train stage says so in one line
        return FLOAT32
    constants = {t.dtype for t in graph.tensors if t.data is not None and len(t.shape) >= 1}
    weights = "int8" if "int8" in constants else "float16" if "float16" in constants \
        else "float32"
    return Numerics(weights=weights, input=graph.tensors[graph.inputs[0]].dtype,
                    output=graph.tensors[graph.outputs[0]].dtype,
                    scheme="tflite-int8" if weights == "int8" else "none",
                    source=f"model_path {path.name}")


def install(wrapper: InstallableWrapper, source: Path, dataset_info: dict[str, Any],
            out_model: Path, log: Log) -> None:
    """Check ``source`` against the dataset and write it as ``out_model`` (see module doc)."""
    from kenning_tasks import artifacts

    fmt = model_format(str(source)) or wrapper.native_format(wrapper.parameters)
    expected_in = [int(s) for s in dataset_info["input_shape"]]
    expected_out = wrapper.output_size(dataset_info)
    if fmt in ("tflite", "onnx"):
        inputs, outputs = (_tflite_shapes if fmt == "tflite" else _onnx_shapes)(source)
        _check_shapes(source, inputs, outputs, expected_in, expected_out, dataset_info)
        artifacts.write_bytes(out_model, source.read_bytes())
    elif fmt == "keras":
        from kenning_tasks.registry import load_object

        # By name, as formats.CONVERSIONS: keras.py subclasses base.py, which calls this.
        load_keras = load_object(KERAS + ":load_keras")
        save_keras_deterministic = load_object(KERAS + ":save_keras_deterministic")
        try:
            model = load_keras(source)
        except Exception as failure:  # Keras raises assorted errors on a foreign file
            raise StageError(f"{WHERE}: cannot load {source} as a Keras model: "
                             f"{_first_line(failure)}") from None
        _check_shapes(source, [list(model.input_shape[1:])], [list(model.output_shape[1:])],
                      expected_in, expected_out, dataset_info)
        save_keras_deterministic(model, out_model)
    else:
        _install_torch(wrapper, source, dataset_info, out_model, expected_in, expected_out)
    log(f"installed {source.name} ({fmt}) as {out_model.name} instead of training")


def _first_line(failure: BaseException) -> str:
    text = str(failure).strip()
    return text.splitlines()[0] if text else type(failure).__name__


def _tflite_shapes(source: Path) -> tuple[list[list[int]], list[list[int]]]:
    from ai_edge_litert.interpreter import Interpreter

    try:
        interpreter = Interpreter(model_path=str(source))
    except (ValueError, RuntimeError) as failure:
        raise StageError(f"{WHERE}: {source} is not a TFLite model: "
                         f"{_first_line(failure)}") from None
    return ([list(d["shape"][1:]) for d in interpreter.get_input_details()],
            [list(d["shape"][1:]) for d in interpreter.get_output_details()])


def _onnx_shapes(source: Path) -> tuple[list[list[int]], list[list[int]]]:
    import onnx

    try:
        model = onnx.load(str(source))
        onnx.checker.check_model(model)
    except Exception as failure:  # protobuf and checker errors
        raise StageError(f"{WHERE}: {source} is not a valid ONNX model: "
                         f"{_first_line(failure)}") from None
    initializers = {i.name for i in model.graph.initializer}

    def shapes(values: Any) -> list[list[int]]:
        return [[d.dim_value if d.dim_value > 0 else -1 for d in v.type.tensor_type.shape.dim][1:]
                for v in values if v.name not in initializers]

    return shapes(model.graph.input), shapes(model.graph.output)


def _check_shapes(source: Path, inputs: list[list[int]], outputs: list[list[int]],
                  expected_in: list[int], expected_out: int,
                  dataset_info: dict[str, Any]) -> None:
    if len(inputs) != 1 or len(outputs) != 1:
        raise StageError(f"{WHERE}: {source.name} has {len(inputs)} inputs and {len(outputs)} "
                         "outputs; a model here takes one input and gives one output")
    size = 1
    for dim in outputs[0]:
        size *= dim
    if inputs[0] != expected_in or size != expected_out:
        raise StageError(
            f"{WHERE}: {source.name} maps {tuple(inputs[0])} to {tuple(outputs[0])}; the "
            f"dataset gives {tuple(expected_in)} inputs and the model wrapper needs "
            f"{expected_out} outputs ({len(dataset_info['class_names'])} classes)")


def _install_torch(wrapper: InstallableWrapper, source: Path, dataset_info: dict[str, Any],
                   out_model: Path, expected_in: list[int], expected_out: int) -> None:
    import pickle

    import torch

    from kenning_tasks.model_wrappers.torch_training import save_torch
    from kenning_tasks.registry import load_object

    try:
        saved = torch.load(source, weights_only=True, map_location="cpu")
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError) as failure:
        raise StageError(f"{WHERE}: cannot load {source.name} with weights only (a pickled "
                         "nn.Module runs arbitrary code and is not loaded; save the "
                         f"state_dict instead): {_first_line(failure)}") from None
    if isinstance(saved, dict) and "state_dict" in saved and "spec" in saved:
        builder = saved.get("builder") or "kenning_tasks.model_wrappers.torch:build_model"
        spec, state = saved["spec"], saved["state_dict"]
        if not builder.startswith("kenning_tasks.model_wrappers."):
            raise StageError(f"{WHERE}: {source.name}: unknown architecture builder "
                             f"{builder!r}")
    elif isinstance(saved, dict) and all(isinstance(v, torch.Tensor) for v in saved.values()):
        builder, spec = wrapper.torch_architecture(dataset_info)  # a bare state dict
        state = saved
    else:
        raise StageError(f"{WHERE}: {source.name} holds {type(saved).__name__}; expected a "
                         "state dict of the wrapper's architecture")
    try:
        model = load_object(builder)(**spec)
        model.load_state_dict(state, strict=True)
    except (RuntimeError, TypeError) as failure:
        raise StageError(f"{WHERE}: {source.name} does not fit {type(wrapper).__name__}'s "
                         f"architecture: {_first_line(failure)}") from None
    model.eval()
    with torch.no_grad():
        try:
            out = model(torch.zeros([1, *expected_in]))
        except RuntimeError as failure:
            raise StageError(f"{WHERE}: {source.name} does not take the dataset's "
                             f"{tuple(expected_in)} inputs: {_first_line(failure)}") from None
    if out.numel() != expected_out:
        raise StageError(f"{WHERE}: {source.name} gives {tuple(out.shape[1:])} outputs; the "
                         f"model wrapper needs {expected_out} "
                         f"({len(dataset_info['class_names'])} classes)")
    save_torch(out_model, builder, spec, model)
