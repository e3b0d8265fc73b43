"""scikit-learn's bundled 8×8 handwritten digits (1797 images, 10 classes, no download)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kenning_tasks.datasets.base import SPLIT_PARAMETERS, Dataset

if TYPE_CHECKING:
    import numpy as np


class DigitsDataset(Dataset):
    """scikit-learn's 8x8 digits, scaled to [0, 1], with a seeded stratified split."""

    KIND = "image"
    PARAMETERS = SPLIT_PARAMETERS

    def load(self) -> tuple[np.ndarray, np.ndarray, list[str]]:
        import numpy as np
        from sklearn.datasets import load_digits

        digits = load_digits()
        x = (digits.images.astype(np.float32) / 16.0)[..., np.newaxis]
        y = digits.target.astype(np.int64)
        return x, y, [str(i) for i in range(10)]
