"""ONNX Runtime quantization (static QDQ or dynamic int8) and graph optimization."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kenning_tasks import artifacts, iospec
from kenning_tasks.optimizers.base import Optimizer, StepContext, calibration_samples
from kenning_tasks.params import Param

_LEVELS = ("disable", "basic", "extended", "all")


class ONNXCompiler(Optimizer):
    """ONNX Runtime: static (QDQ, calibrated) or dynamic int8 quantization; graph optimization."""

    ACCEPTS = ("onnx",)
    REQUIRES = ("onnx", "onnxruntime", "numpy")
    PARAMETERS = (
        Param("quantization", str, "static", "int8 quantization mode", phase="quantize",
              enum=("none", "static", "dynamic")),
        Param("calibration_fraction", float, 0.25, "fraction of the train split used to "
              "calibrate static quantization", phase="quantize", minimum=0.001, maximum=1.0),
        Param("per_channel", bool, True, "per-channel weight scales", phase="quantize"),
        Param("calibration_method", str, "minmax", "activation range estimator",
              phase="quantize", enum=("minmax", "entropy", "percentile")),
        Param("graph_optimization_level", str, "basic", "ONNX Runtime graph optimizations "
              "baked into the compiled model ('basic' stays portable to other runtimes)",
              phase="compile", enum=_LEVELS),
    )

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
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = {
            "disable": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
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
        self._items = iter([{input_name: s[None].astype("float32")} for s in samples])

    def get_next(self) -> dict[str, Any] | None:
        return next(self._items, None)

    def rewind(self) -> None:  # only needed by some calibrators; data is consumed once
        pass
