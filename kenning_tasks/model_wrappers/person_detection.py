"""Kenning's PersonDetectionModelWrapper: TFLite Micro's int8 person detector (96×96 grey).

Kenning ships it pretrained (``person_detect.tflite``) and cannot train it; neither can this
one, so ``model_path`` is required. The ``.tflite`` is installed as given and its I/O spec
(int8 input, scale and zero point) is read from the file (``pretrained.py``); its input is
checked against the transformed dataset (image_height × image_width × 1).
``input_transform`` is Kenning's ``preprocess_input`` (central crop, resize, grey, scaled to
[-1, 1]) applied in the dataset stage, so training-free evaluation, calibration and the
target all see the same inputs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kenning_tasks.errors import ScenarioError, StageError
from kenning_tasks.model_wrappers.base import KENNING_WRAPPER_PARAMETERS, ModelWrapper
from kenning_tasks.params import Param

if TYPE_CHECKING:
    import numpy as np


class PersonDetectionModelWrapper(ModelWrapper):
    """Kenning's pretrained int8 person-detection model (TFLite), VisualWakeWords inputs."""

    FORMAT = "tflite"
    REQUIRES = ("ai-edge-litert", "numpy", "pillow")
    MODULES = ("kenning_tasks.iospec", "kenning_tasks.model_wrappers.pretrained")
    PARAMETERS = (
        *KENNING_WRAPPER_PARAMETERS[:2],  # model_path, model_name: nothing to seed
        Param("central_fraction", float, 0.875, "fraction of the image kept by the central "
              "crop", minimum=0.01, maximum=1.0),
        Param("image_width", int, 96, "width of the model's input", minimum=1, maximum=4096),
        Param("image_height", int, 96, "height of the model's input", minimum=1, maximum=4096),
    )

    PRETRAINED_FORMATS = ("tflite",)

    @classmethod
    def check(cls, parameters: dict[str, Any], where: str) -> None:
        if not parameters.get("model_path"):
            raise ScenarioError(f"{where}.model_path: missing; PersonDetectionModelWrapper "
                                "cannot be trained (Kenning ships person_detect.tflite "
                                "pretrained): give the .tflite file")

    @classmethod
    def input_transform(cls, parameters: dict[str, Any]) -> dict[str, Any] | None:
        return {"function": f"{__name__}:person_detection_inputs",
                "parameters": {k: parameters[k] for k in ("central_fraction", "image_width",
                                                           "image_height")}}

    def train(self, splits_path: Path, dataset_info: dict[str, Any], out_model: Path,
              log: Callable[[str], None]) -> dict[str, Any]:
        raise StageError("model_wrapper PersonDetectionModelWrapper: training is not supported")


def person_detection_inputs(images: np.ndarray, central_fraction: float, image_width: int,
                            image_height: int) -> np.ndarray:
    """Kenning's preprocessing: central crop, resize, RGB → grey, [0, 1] → [-1, 1].

    ``images`` are (N, H, W, 3) in [0, 1]; the result is (N, image_height, image_width, 1).
    Kenning resizes with OpenCV's bilinear filter; Pillow's is used here.
    """
    import numpy as np
    from PIL import Image

    result = []
    for image in images:
        rows, cols = image.shape[:2]
        crop = image[int(rows / 2 * (1 - central_fraction)):int(rows / 2 * (1 + central_fraction)),
                     int(cols / 2 * (1 - central_fraction)):int(cols / 2 * (1 + central_fraction))]
        channels = [np.asarray(Image.fromarray(crop[..., c].astype(np.float32), "F").resize(
            (image_width, image_height), Image.Resampling.BILINEAR)) for c in range(3)]
        grey = 0.299 * channels[0] + 0.587 * channels[1] + 0.114 * channels[2]
        result.append((grey * 2.0 - 1.0)[..., np.newaxis])
    return np.stack(result).astype(np.float32)
