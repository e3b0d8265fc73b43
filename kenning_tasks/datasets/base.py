"""The dataset contract: load samples, split them deterministically, write ``splits.npz``.

``splits.npz`` holds exactly what the model consumes (float32 inputs, integer labels) for the
train, validation and test splits; ``dataset.json`` says what it is (kind, input shape, class
names, sample counts) and, when the inputs were normalised, the statistics used (computed on the
train split only), which the train stage copies into the model's I/O spec so host and target
apply the same preprocessing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from kenning_tasks import artifacts
from kenning_tasks.block import Block
from kenning_tasks.errors import ScenarioError, StageError
from kenning_tasks.params import SEED_MAX, Param

if TYPE_CHECKING:
    import numpy as np

SPLITS_FILE = "splits.npz"
INFO_FILE = "dataset.json"

SPLIT_PARAMETERS = (
    Param("seed", int, 12345, "seed of the stratified train/validation/test split", minimum=0,
          maximum=SEED_MAX),
    Param("test_fraction", float, 0.25, "fraction of samples in the test split",
          minimum=0.01, maximum=0.9),
    Param("validation_fraction", float, 0.1, "fraction of the remaining samples used for "
          "validation during training", minimum=0.0, maximum=0.9),
)

# The parameters every Kenning dataset takes (kenning.core.dataset.Dataset), with its defaults.
KENNING_PARAMETERS = (
    Param("dataset_root", str, description="folder holding the data set in Kenning's layout "
          "(relative to the scenario file); read in place when present, otherwise the data "
          "set is downloaded into the resource cache (this folder is never written)"),
    Param("inference_batch_size", int, 1, "Kenning's batch size; here it is the training "
          "batch size when the model wrapper gives none (evaluation runs batch 1)", minimum=1),
    Param("download_dataset", bool, True, "download the data set when dataset_root does not "
          "hold it"),
    Param("force_download_dataset", bool, False, "download again even when cached"),
    Param("external_calibration_dataset", str, None, "not supported: calibration uses the "
          "train split", nullable=True),
    Param("split_fraction_test", float, 0.2, "fraction of the data in the test split",
          minimum=0.01, maximum=0.9),
    Param("split_fraction_val", float, None, "fraction of the data in the validation split "
          "(none if null)", nullable=True, minimum=0.0, maximum=0.9),
    Param("split_seed", int, 1234, "seed of the split", minimum=0, maximum=SEED_MAX),
    Param("reduce_dataset", float, 1.0, "use this fraction of the data set (Kenning's "
          "dataset_percentage)", minimum=0.001, maximum=1.0),
)

Log = Callable[[str], None]


class Dataset(Block):
    """Base of dataset blocks."""

    family = "dataset"
    REQUIRES: ClassVar[tuple[str, ...]] = ("numpy", "scikit-learn")
    MODULES: ClassVar[tuple[str, ...]] = ("kenning_tasks.datasets.resources",
                                          "kenning_tasks.datasets.splitting")
    # "image" (N, H, W, C) or "sequence" (N, T, F); model wrappers pick an architecture from it.
    KIND: ClassVar[str] = "image"

    def __init__(self, parameters: dict[str, Any], base_dir: Path | None = None,
                 log: Log | None = None) -> None:
        super().__init__(parameters)
        # Relative paths in the parameters start at the scenario file's folder.
        self.base_dir = base_dir
        self.log: Log = log or _stderr

    @classmethod
    def check_sources(cls, parameters: dict[str, Any], base_dir: Path, where: str) -> None:
        """Validation-time checks of the files the parameters name (stat only, never hashing).

        Raise ScenarioError naming ``where``.key; the default has nothing to check.
        """

    def input_files(self) -> list[Path]:
        """Local files the dataset reads, so the stage reruns when their bytes change."""
        return []

    def load(self) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """All samples (float32), integer labels and the class names."""
        raise NotImplementedError

    def split_settings(self) -> tuple[float, float, int]:
        """(test fraction, validation fraction of what remains after the test split, seed)."""
        p = self.parameters
        if "split_seed" in p:  # Kenning's split_fraction_val is a fraction of the whole
            test, validation = p["split_fraction_test"], p["split_fraction_val"] or 0.0
            return test, validation / (1 - test), p["split_seed"]
        return p["test_fraction"], p["validation_fraction"], p["seed"]

    def make_splits(self) -> tuple[dict[str, np.ndarray], list[str], dict[str, Any]]:
        """The six split arrays, the class names and extra ``dataset.json`` entries.

        The default loads everything and splits it stratified and seeded; time series override
        it to split by time blocks.
        """
        from kenning_tasks.datasets.splitting import reduce_stratified, stratified_split

        x, y, class_names = self.load()
        test, validation, seed = self.split_settings()
        fraction = self.parameters.get("reduce_dataset", 1.0)
        if fraction < 1.0:
            keep = reduce_stratified(y, fraction, seed)
            x, y = x[keep], y[keep]
        return stratified_split(x, y, class_names, test, validation, seed), class_names, {}

    def prepare(self, out_dir: Path, input_transform: dict[str, Any] | None = None
                ) -> dict[str, Any]:
        """Split and write ``splits.npz`` and ``dataset.json`` into ``out_dir``.

        ``input_transform`` is the model wrapper's preprocessing (``ModelWrapper.
        input_transform``), applied to every split's inputs.
        """
        import io

        import numpy as np

        splits, class_names, extra = self.make_splits()
        if input_transform:
            from kenning_tasks.registry import load_object

            transform = load_object(input_transform["function"])
            for key in ("x_train", "x_val", "x_test"):
                if len(splits[key]):
                    splits[key] = transform(splits[key], **input_transform["parameters"])
            extra["model_input_transform"] = input_transform
        for key, array in splits.items():
            if key.startswith("x_") and array.size and not np.isfinite(array).all():
                raise StageError(f"dataset: the {key[2:]} split holds NaN or infinite values")
        buffer = io.BytesIO()
        # np.savez writes a zip with fixed timestamps, so equal arrays give equal bytes.
        np.savez(buffer, **{k: np.ascontiguousarray(v) for k, v in splits.items()})
        artifacts.write_bytes(out_dir / SPLITS_FILE, buffer.getvalue())
        info = {
            "kind": self.KIND,
            "class_names": class_names,
            "input_shape": list(splits["x_train"].shape[1:]),
            "samples": {"train": len(splits["y_train"]), "validation": len(splits["y_val"]),
                        "test": len(splits["y_test"])},
            **extra,
        }
        if "inference_batch_size" in self.parameters:  # Kenning's default training batch
            info["batch_size"] = self.parameters["inference_batch_size"]
        artifacts.write_json(out_dir / INFO_FILE, info)
        return info


class KenningDataset(Dataset):
    """Base of the data sets that carry Kenning's names, parameters and on-disk layouts."""

    @classmethod
    def check(cls, parameters: dict[str, Any], where: str) -> None:
        if parameters.get("external_calibration_dataset") is not None:
            raise ScenarioError(f"{where}.external_calibration_dataset: not supported by "
                                f"{cls.__name__}; calibration uses the train split (set "
                                "TFLiteCompiler's calibration share instead)")
        test, validation = parameters["split_fraction_test"], parameters["split_fraction_val"]
        if validation and test + validation >= 1.0:
            raise ScenarioError(f"{where}.split_fraction_val: split_fraction_test + "
                                f"split_fraction_val must be below 1, got {test + validation}")

    def root(self) -> Path:
        from kenning_tasks.datasets.resources import local_path

        return local_path(self.parameters["dataset_root"], self.base_dir)


def load_splits(path: Path) -> dict[str, np.ndarray]:
    """Read ``splits.npz`` into a dict of arrays."""
    import numpy as np

    with np.load(path) as data:
        return {key: data[key] for key in data.files}


def dataset_for(config: Any, scenario_path: Path, log: Log | None = None) -> Dataset:
    """The dataset block of a scenario, resolving relative paths against its file's folder."""
    return config.cls(dict(config.parameters), base_dir=scenario_path.parent, log=log)


def _stderr(message: str) -> None:
    from kenning_tasks.progress import log

    log(message)
