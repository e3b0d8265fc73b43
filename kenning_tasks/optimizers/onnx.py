"""Kenning's ONNXCompiler: the model as ONNX; optionally ONNX Runtime int8 quantization.

As in Kenning, by default it only converts (the conversion itself is the chain's convert step
into ONNX) and publishes the model unchanged. ``quantization`` (static QDQ or dynamic int8) and
``graph_optimization_level`` are this project's extras and off by default.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

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

_LEVELS = ("disable", "basic", "extended", "all")


class ONNXCompiler(Optimizer):
    """ONNX: converts (Kenning's default); optionally ONNX Runtime int8 quantization."""

    ACCEPTS = ("onnx",)
    REQUIRES = ("onnx", "onnxruntime", "numpy")
    PARAMETERS = (
        model_framework_param(("keras", "torch", "tflite", "onnx")),
        *KENNING_OPTIMIZER_PARAMETERS,
        # This project's extras (Kenning's ONNXCompiler only converts).
        Param("quantization", str, "none", "int8 quantization with ONNX Runtime: none (only "
              "convert), static (QDQ, calibrated) or dynamic", phase="quantize",
              enum=("none", "static", "dynamic")),
        Param("calibration_fraction", float, 0.25, "fraction of the train split used to "
              "calibrate static quantization", phase="quantize", minimum=0.001, maximum=1.0),
        Param("per_channel", bool, True, "per-channel weight scales", phase="quantize"),
        Param("calibration_method", str, "minmax", "activation range estimator",
              phase="quantize", enum=("minmax", "entropy", "percentile")),
        Param("graph_optimization_level", str, "disable", "ONNX Runtime graph optimizations "
              "baked into the compiled model: 'disable' publishes it unchanged, 'basic' stays "
              "portable to other runtimes", phase="compile", enum=_LEVELS),
    )

    def pass_through(self, phase: str) -> bool:
        if phase == "quantize":
            return self.parameters["quantization"] == "none"
        return self.parameters["graph_optimization_level"] == "disable"

    def numerics(self, incoming: Numerics) -> Numerics:
        quantization = self.parameters["quantization"]
        if quantization == "none":
            return incoming
        return incoming.changed("ONNXCompiler", weights="int8",
                                scheme="onnx-qdq" if quantization == "static" else "onnx-dynamic")

    def quantize(self, source: Path, target: Path, ctx: StepContext) -> None:
        p = self.parameters
        if p["quantization"] == "none":
            artifacts.write_bytes(target, source.read_bytes())
        else:
            from onnxruntime import quantization as q

            with artifacts.atomic_path(target) as tmp:
                if p["quantization"] == "dynamic":
                    q.quantize_dynamic(str(source), str(tmp), per_channel=p["per_channel"],
                                       weight_type=q.QuantType.QInt8)
                else:
                    samples = calibration_samples(ctx.splits_path, p["calibration_fraction"])
                    input_name = iospec.read_spec(source)["input"][0]["name"]
                    method = {"minmax": q.CalibrationMethod.MinMax,
                              "entropy": q.CalibrationMethod.Entropy,
                              "percentile": q.CalibrationMethod.Percentile}
                    q.quantize_static(
                        str(source), str(tmp), _Calibration(input_name, samples),
                        quant_format=q.QuantFormat.QDQ, per_channel=p["per_channel"],
                        activation_type=q.QuantType.QInt8, weight_type=q.QuantType.QInt8,
                        calibrate_method=method[p["calibration_method"]])
        iospec.onnx_spec(target, ctx.dataset_info["class_names"])

    def compile(self, source: Path, target: Path, ctx: StepContext) -> None:
        if self.parameters["graph_optimization_level"] == "disable":
            artifacts.write_bytes(target, source.read_bytes())
            artifacts.write_bytes(iospec.spec_path(target), iospec.spec_path(source).read_bytes())
            return
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = {
            "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
            "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
            "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
        }[self.parameters["graph_optimization_level"]]
        with artifacts.atomic_path(target) as tmp:
            options.optimized_model_filepath = str(tmp)
            ort.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])
        iospec.onnx_spec(target, ctx.dataset_info["class_names"])


class _Calibration:
    """onnxruntime CalibrationDataReader over an array of samples, batch 1."""

    def __init__(self, input_name: str, samples: Any) -> None:
        self._items = live_progress.each([{input_name: s[None].astype("float32")}
                                          for s in samples], "calibration samples")

    def get_next(self) -> dict[str, Any] | None:
        return next(self._items, None)

    def rewind(self) -> None:  # only needed by some calibrators; data is consumed once
        pass
