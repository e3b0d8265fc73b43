"""TFLite conversion: float32, float16 or full-integer int8 (LiteRT / microcontrollers)."""

from __future__ import annotations

from pathlib import Path

from kenning_tasks import artifacts, iospec
from kenning_tasks.optimizers.base import Optimizer, StepContext, calibration_samples
from kenning_tasks.params import Param


class TFLiteCompiler(Optimizer):
    """Keras → TFLite with optional float16 or full-integer int8 quantization."""

    ACCEPTS = ("keras",)
    REQUIRES = ("tensorflow-cpu", "keras", "ai-edge-litert")
    MODULES = ("kenning_tasks.frameworks", "kenning_tasks.converters",
               "kenning_tasks.model_wrappers.keras")
    PARAMETERS = (
        Param("target", str, "int8", "numeric format of the weights", phase="quantize",
              enum=("default", "int8", "float16")),
        Param("inference_input_type", str, "int8", "input tensor type (int8/uint8 only with "
              "target int8)", phase="quantize", enum=("float32", "int8", "uint8")),
        Param("inference_output_type", str, "int8", "output tensor type", phase="quantize",
              enum=("float32", "int8", "uint8")),
        Param("calibration_fraction", float, 0.25, "fraction of the train split used as the "
              "representative dataset for int8 calibration", phase="quantize",
              minimum=0.001, maximum=1.0),
    )

    def output_format(self, phase: str, input_format: str) -> str:
        return "tflite"

    def quantize(self, source: Path, target: Path, ctx: StepContext) -> None:
        import numpy as np

        from kenning_tasks.converters import batch_one_keras
        from kenning_tasks.frameworks import import_tensorflow

        tf = import_tensorflow()
        p = self.parameters
        converter = tf.lite.TFLiteConverter.from_keras_model(batch_one_keras(source))
        if p["target"] == "float16":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.target_spec.supported_types = [tf.float16]
        elif p["target"] == "int8":
            samples = calibration_samples(ctx.splits_path, p["calibration_fraction"])

            def representative() -> object:
                for sample in samples:
                    yield [sample[np.newaxis].astype(np.float32)]

            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.representative_dataset = representative
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            converter.inference_input_type = _tf_type(p["inference_input_type"])
            converter.inference_output_type = _tf_type(p["inference_output_type"])
        artifacts.write_bytes(target, converter.convert())
        iospec.tflite_spec(target, ctx.dataset_info["class_names"])

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
