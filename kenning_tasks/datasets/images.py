"""Image loading shared by the image data sets (Pillow, already a dependency of matplotlib)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from kenning_tasks.errors import StageError

if TYPE_CHECKING:
    import numpy as np


def load_rgb(path: Path, width: int, height: int, resample: str = "bicubic") -> np.ndarray:
    """An image as (height, width, 3) float32 in [0, 1]."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    filters = {"bicubic": Image.Resampling.BICUBIC, "bilinear": Image.Resampling.BILINEAR}
    try:
        with Image.open(path) as image:
            rgb = image.convert("RGB").resize((width, height), filters[resample])
    except FileNotFoundError:
        raise StageError(f"dataset: image {path} does not exist") from None
    except (UnidentifiedImageError, OSError) as failure:
        raise StageError(f"dataset: cannot read image {path}: {failure}") from None
    return np.asarray(rgb, dtype=np.float32) / 255.0


def to_layout(images: np.ndarray, layout: str) -> np.ndarray:
    """NHWC as loaded, or NCHW."""
    return images if layout == "NHWC" else images.transpose(0, 3, 1, 2).copy()
