"""TFLite conversion: float32, float16 or int8 (LiteRT / microcontrollers), Kenning's block.

Parameter names and defaults are Kenning's: without ``target`` the model stays float32 with
float32 input and output.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from kenning_tasks import artifacts, iospec, live_progress
from kenning_tasks.numerics import Numerics
from kenning_tasks.optimizers.base import (
    KENNING_OPTIMIZER_PARAMETERS,
    Optimizer,
    StepContext,
    calibration_samples,
    model_framework_param,
)
from kenning_tasks.params import Param
from kenning_tasks.problems import Problems

_NOT_WITH_QAT = "used only by quantization-aware training, which is not supported"


class TFLiteCompiler(Optimizer):
    """Keras → TFLite, float32 (Kenning's default), float16 or int8 post-training quantization."""

    # A PyTorch model goes through litert-torch and ai-edge-quantizer (torch_tflite.py).
    ACCEPTS = ("keras", "torch")
    PASS_THROUGH_PHASES = ("compile",)
    REQUIRES = ("tensorflow-cpu", "keras", "ai-edge-litert", "litert-torch", "ai-edge-quantizer")
    MODULES = ("kenning_tasks.frameworks", "kenning_tasks.converters",
               "kenning_tasks.model_wrappers.keras", "kenning_tasks.torch_tflite")
    RENAMED: ClassVar[dict[str, str]] = {"calibration_fraction": "dataset_percentage"}
    # Kenning's parameters, names and defaults (kenning.optimizers.tflite.TFLiteCompiler).
    PARAMETERS = (
        model_framework_param(("keras", "onnx", "torch")),
        Param("target", str, "default", "numeric format: default (float32), int8 (weights and "
              "activations; full-integer with int8/uint8 I/O) or float16 weights",
              phase="quantize", enum=("default", "int8", "float16", "edgetpu"),
              only=("default", "int8", "float16"),
              only_reason="'edgetpu' needs the Edge TPU compiler, which is not available here; "
              "nearest: 'int8'"),
        Param("inference_input_type", str, "float32", "input tensor type (int8/uint8 need "
              "target int8)", phase="quantize", enum=("float32", "int8", "uint8")),
        Param("inference_output_type", str, "float32", "output tensor type (int8/uint8 need "
              "target int8)", phase="quantize", enum=("float32", "int8", "uint8")),
        Param("dataset_percentage", float, 0.25, "fraction of the train split used as the "
              "representative dataset for int8 calibration", phase="quantize",
              minimum=0.0, maximum=1.0),
        Param("quantization_aware_training", bool, False, "retrain with fake quantization",
              only=(False,), only_reason="quantization-aware training is not supported; "
              "nearest: post-training quantization (target: int8)"),
        Param("use_tf_select_ops", bool, False, "allow TensorFlow (Flex) ops", only=(False,),
              only_reason="Flex (SELECT_TF_OPS) kernels are in neither LiteRT's pip wheel nor "
              "the firmware; nearest: false (builtin ops only)"),
        Param("resolver_template_path", str, None, "TFLite Micro op-resolver template",
              nullable=True, only=(None,), only_reason="the firmware stage generates the "
              "model's C code itself and needs no op resolver; nearest: null"),
        Param("resolver_output_path", str, None, "where to write a TFLite Micro op resolver",
              nullable=True, only=(None,), only_reason="the firmware stage generates the "
              "model's C code itself and needs no op resolver; nearest: null"),
        Param("epochs", int, 3, _NOT_WITH_QAT, minimum=1),
        Param("batch_size", int, 32, _NOT_WITH_QAT, minimum=1),
        Param("optimizer", str, "adam", _NOT_WITH_QAT, enum=("adam", "SGD", "RMSprop")),
        Param("disable_from_logits", bool, False, _NOT_WITH_QAT),
        Param("save_to_zip", bool, False, "also save a ZIP of the model", only=(False,),
              only_reason="the .tflite is published as is (export it with compiled_model_path); "
              "nearest: false"),
        *KENNING_OPTIMIZER_PARAMETERS,
    )

    @classmethod
    def check(cls, parameters: dict[str, Any], where: str) -> None:
        problems = Problems()
        for name in ("inference_input_type", "inference_output_type"):
            if parameters[name] != "float32" and parameters["target"] != "int8":
                problems.add(f"{where}.{name}: {parameters[name]!r} needs target 'int8' (the "
                             f"target is {parameters['target']!r}); nearest: 'float32'",
                             compatibility=True)
        problems.raise_if_any()

    def numerics(self, incoming: Numerics) -> Numerics:
        p = self.parameters
        weights = {"default": "float32", "float16": "float16", "int8": "int8"}[p["target"]]
        return incoming.changed(
            "TFLiteCompiler", weights=weights, input=p["inference_input_type"],
            output=p["inference_output_type"],
            scheme="tflite-int8" if p["target"] == "int8" else "none")

    def output_format(self, phase: str, input_format: str) -> str:
        return "tflite"

    def quantize(self, source: Path, target: Path, ctx: StepContext) -> None:
        import numpy as np

        from kenning_tasks.converters import batch_one_keras
        from kenning_tasks.frameworks import import_tensorflow

        p = self.parameters
        if source.suffix == ".pt":
            return self._quantize_torch(source, target, ctx)
        tf = import_tensorflow()
        converter = tf.lite.TFLiteConverter.from_keras_model(batch_one_keras(source))
        if p["target"] == "float16":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.target_spec.supported_types = [tf.float16]
        elif p["target"] == "int8":
            samples = calibration_samples(ctx.splits_path, p["dataset_percentage"])

            def representative() -> object:
                for sample in live_progress.each(samples, "calibration samples"):
                    yield [sample[np.newaxis].astype(np.float32)]

            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.representative_dataset = representative
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            converter.inference_input_type = _tf_type(p["inference_input_type"])
            converter.inference_output_type = _tf_type(p["inference_output_type"])
        artifacts.write_bytes(target, converter.convert())
        iospec.tflite_spec(target, ctx.dataset_info["class_names"])

    def _quantize_torch(self, source: Path, target: Path, ctx: StepContext) -> None:
        from kenning_tasks.errors import StageError
        from kenning_tasks.torch_tflite import torch_to_tflite

        p = self.parameters
        wanted = "int8" if p["target"] == "int8" else "float32"
        if p["target"] == "float16":
            raise StageError("optimizers TFLiteCompiler.target: float16 is not supported for "
                             "PyTorch models; nearest: default (float32) or int8")
        for key in ("inference_input_type", "inference_output_type"):
            if p[key] != wanted:
                raise StageError(f"optimizers TFLiteCompiler.{key}: a PyTorch model with "
                                 f"target {p['target']} has {wanted} tensors; set {key}: "
                                 f"{wanted}")
        samples = (calibration_samples(ctx.splits_path, p["dataset_percentage"])
                   if p["target"] == "int8" else None)
        torch_to_tflite(source, target, ctx.dataset_info, samples)

    def compile(self, source: Path, target: Path, ctx: StepContext) -> None:
        """Check the model loads and allocates in LiteRT, then publish it unchanged."""
        from ai_edge_litert.interpreter import Interpreter

        Interpreter(model_path=str(source)).allocate_tensors()
        artifacts.write_bytes(target, source.read_bytes())
        artifacts.write_bytes(iospec.spec_path(target), iospec.spec_path(source).read_bytes())


def _tf_type(name: str) -> object:
    from kenning_tasks.frameworks import import_tensorflow

    tf = import_tensorflow()
    return {"float32": tf.float32, "int8": tf.int8, "uint8": tf.uint8}[name]
