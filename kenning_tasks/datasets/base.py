"""The dataset contract: load samples, split them deterministically, write ``splits.npz``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from kenning_tasks import artifacts
from kenning_tasks.block import Block
from kenning_tasks.params import Param

if TYPE_CHECKING:
    import numpy as np

SPLITS_FILE = "splits.npz"
INFO_FILE = "dataset.json"

SPLIT_PARAMETERS = (
    Param("seed", int, 12345, "seed of the stratified train/validation/test split", minimum=0),
    Param("test_fraction", float, 0.25, "fraction of samples in the test split",
          minimum=0.01, maximum=0.9),
    Param("validation_fraction", float, 0.1, "fraction of the remaining samples used for "
          "validation during training", minimum=0.0, maximum=0.9),
)


class Dataset(Block):
    """Base of dataset blocks."""

    family = "dataset"
    REQUIRES: ClassVar[tuple[str, ...]] = ("numpy", "scikit-learn")
    # "image" (N, H, W, C) or "sequence" (N, T, F); model wrappers pick an architecture from it.
    KIND: ClassVar[str] = "image"

    def input_files(self) -> list[Path]:
        """Local files the dataset reads, so the stage reruns when their bytes change."""
        return []

    def load(self) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """All samples (float32), integer labels and the class names."""
        raise NotImplementedError

    def prepare(self, out_dir: Path) -> dict[str, Any]:
        """Load, split and write ``splits.npz`` and ``dataset.json`` into ``out_dir``."""
        import io

        import numpy as np
        from sklearn.model_selection import train_test_split

        x, y, class_names = self.load()
        p = self.parameters
        x_rest, x_test, y_rest, y_test = train_test_split(
            x, y, test_size=p["test_fraction"], random_state=p["seed"], stratify=y)
        if p["validation_fraction"] > 0:
            x_train, x_val, y_train, y_val = train_test_split(
                x_rest, y_rest, test_size=p["validation_fraction"], random_state=p["seed"],
                stratify=y_rest)
        else:
            x_train, y_train = x_rest, y_rest
            x_val, y_val = x_rest[:0], y_rest[:0]
        splits = {
            "x_train": x_train, "y_train": y_train, "x_val": x_val, "y_val": y_val,
            "x_test": x_test, "y_test": y_test,
        }
        buffer = io.BytesIO()
        # np.savez writes a zip with fixed timestamps, so equal arrays give equal bytes.
        np.savez(buffer, **{k: np.ascontiguousarray(v) for k, v in splits.items()})
        artifacts.write_bytes(out_dir / SPLITS_FILE, buffer.getvalue())
        info = {
            "kind": self.KIND,
            "class_names": class_names,
            "input_shape": list(x.shape[1:]),
            "samples": {"train": len(y_train), "validation": len(y_val), "test": len(y_test)},
        }
        artifacts.write_json(out_dir / INFO_FILE, info)
        return info


def load_splits(path: Path) -> dict[str, np.ndarray]:
    """Read ``splits.npz`` into a dict of arrays."""
    import numpy as np

    with np.load(path) as data:
        return {key: data[key] for key in data.files}
