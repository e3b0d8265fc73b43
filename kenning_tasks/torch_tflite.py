"""PyTorch → TFLite through litert-torch, and int8 through ai-edge-quantizer.

litert-torch (Google's maintained successor of ai-edge-torch) lowers the model with
``torch.export`` to the TFLite dialect and writes a float32 ``.tflite`` (batch 1). TensorFlow's
``TFLiteConverter`` cannot start from a ``.tflite``, so full-integer int8 goes through
ai-edge-quantizer's static int8 recipe with the same representative samples the Keras path
uses (the first ``calibration_fraction`` of the train split): per-channel symmetric int8
weights, per-tensor int8 activations calibrated by their min/max over the samples, int8 input
and output tensors — the scheme TFLite's converter gives a Keras model, and what the
microcontroller runtimes run.

Why not onnx2tf: its releases for Python 3.11 (≤ 1.29) call ``onnx.helper.float32_to_bfloat16``,
removed in the onnx 1.23 this project pins, and need Keras 2 (``tf_keras``); 2.x needs
Python ≥ 3.12.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kenning_tasks import artifacts, iospec
from kenning_tasks.errors import StageError

TOOLS = ("torch", "litert-torch", "litert-converter", "ai-edge-quantizer", "ai-edge-litert")


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """litert-torch and torchao log progress bars and CUDA-library notices; keep stderr useful."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    loggers = [logging.getLogger(name)
               for name in ("torchao", "litert_torch", "absl", "torch.utils._pytree", "root")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _litert_torch() -> Any:
    from kenning_tasks.frameworks import detach_absl_from_captured_streams

    with _quiet():
        import litert_torch
    detach_absl_from_captured_streams()
    return litert_torch


def torch_to_tflite_float(source: Path, target: Path, input_shape: list[int]) -> None:
    """Write the float32, batch-1 TFLite form of a saved PyTorch model."""
    import torch

    from kenning_tasks.model_wrappers.torch import load_torch

    litert_torch = _litert_torch()
    model = load_torch(source)
    example = (torch.zeros((1, *input_shape), dtype=torch.float32),)
    try:
        with _quiet(), contextlib.redirect_stdout(_Discard()):
            data = litert_torch.convert(model, example).model_content()
    except Exception as failure:  # the converter raises many kinds of exception
        raise StageError(f"convert torch→tflite: litert-torch cannot convert {source.name}: "
                         f"{str(failure).splitlines()[0][:300]}") from None
    artifacts.write_bytes(target, data)


def quantize_int8(float_model: Path, target: Path, samples: Any) -> None:
    """Full-integer int8 (int8 I/O) of a float ``.tflite``, calibrated on ``samples``."""
    import numpy as np
    from ai_edge_litert.interpreter import Interpreter

    from kenning_tasks.frameworks import detach_absl_from_captured_streams

    with _quiet():
        from ai_edge_quantizer import calibrator, quantizer, recipe, recipe_manager
        from ai_edge_quantizer.utils import qsv_utils
    detach_absl_from_captured_streams()

    signatures = Interpreter(model_path=str(float_model)).get_signature_list()
    if len(signatures) != 1:
        raise StageError(f"quantize: {float_model.name} has {len(signatures)} signatures; "
                         "int8 quantization of a PyTorch model needs exactly one")
    (key, signature), = signatures.items()
    if len(signature["inputs"]) != 1:
        raise StageError(f"quantize: {float_model.name} has {len(signature['inputs'])} inputs; "
                         "only single-input models are supported")
    name = signature["inputs"][0]
    calibration = {key: [{name: sample[np.newaxis].astype(np.float32)} for sample in samples]}
    with _quiet():
        engine = quantizer.Quantizer(str(float_model))
        engine.load_quantization_recipe(recipe.static_wi8_ai8())
        manager = recipe_manager.RecipeManager()
        manager.load_quantization_recipe(recipe.static_wi8_ai8())
        # Ranges are the min/max over all samples, as TFLite's converter calibrates; the
        # quantizer's default moving average would clip the rare extremes (anomalies).
        calibration_run = calibrator.Calibrator(float_model.read_bytes(), num_threads=1,
                                                qsv_update_func=qsv_utils.min_max_update)
        # Calibration draws a tqdm bar on stderr; the stage's own log says what runs.
        with contextlib.redirect_stdout(_Discard()), contextlib.redirect_stderr(_Discard()):
            calibration_run.calibrate(calibration, manager)
            result = engine.quantize(calibration_run.get_model_qsvs())
    artifacts.write_bytes(target, bytes(result.quantized_model))


def torch_to_tflite(source: Path, target: Path, dataset_info: dict[str, Any],
                    samples: Any = None) -> None:
    """PyTorch → TFLite: float32, or full int8 when calibration ``samples`` are given."""
    if samples is None:
        torch_to_tflite_float(source, target, dataset_info["input_shape"])
    else:
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=".float-") as work:
            float_model = Path(work) / "model.tflite"
            torch_to_tflite_float(source, float_model, dataset_info["input_shape"])
            quantize_int8(float_model, target, samples)
    iospec.tflite_spec(target, dataset_info["class_names"])


class _Discard:
    """A stdout that drops litert-torch's progress lines (the stage logs its own)."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass
