"""Kenning's PetDataset: the Oxford-IIIT Pet images, by breed (37 classes) or species (2).

Kenning's layout: ``<dataset_root>/annotations/list.txt`` (``#`` comments, then
``<image name> <class id> <species> <breed id>`` with ids from 1) and
``<dataset_root>/images/<image name>.jpg``. Images are converted to RGB, resized to 224×224
(Pillow's default bicubic filter, as Kenning), scaled to [0, 1] and standardised with
Kenning's ImageNet mean and standard deviation, recorded as the dataset's normalisation.
All images are decoded into ``splits.npz`` (the full data set is ~4.4 GB of float32).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from kenning_tasks.datasets.base import KENNING_PARAMETERS
from kenning_tasks.datasets.kenning_resources import ArchiveDataset, resource_parameters
from kenning_tasks.errors import StageError
from kenning_tasks.params import Param

if TYPE_CHECKING:
    import numpy as np

MEAN = (0.485, 0.456, 0.406)  # Kenning's get_input_mean_std (ImageNet statistics)
STD = (0.229, 0.224, 0.225)
SIZE = 224


class PetDataset(ArchiveDataset):
    """Kenning's Oxford-IIIT Pet data set (224×224 RGB, breeds or species)."""

    KIND = "image"
    RESOURCES: ClassVar[dict[str, str]] = {
        "images": "kenning:///datasets/pet_dataset/images.tar.gz",
        "annotations": "kenning:///datasets/pet_dataset/annotations.tar.gz",
    }
    MARKERS = ("annotations/list.txt", "images")
    MODULES = (*ArchiveDataset.MODULES, "kenning_tasks.datasets.kenning_resources",
               "kenning_tasks.datasets.images")
    PARAMETERS = (
        *KENNING_PARAMETERS,
        Param("classify_by", str, "breeds", "classify by species (2 classes) or breeds (37)",
              enum=("species", "breeds")),
        Param("image_memory_layout", str, "NHWC", "layout of the image tensors",
              enum=("NHWC", "NCHW")),
        *resource_parameters(RESOURCES),
    )

    def load(self) -> tuple[np.ndarray, np.ndarray, list[str]]:
        import numpy as np

        from kenning_tasks.datasets.images import load_rgb, to_layout

        p = self.parameters
        root = self.data_root()
        entries = read_list(root / "annotations" / "list.txt")
        if not entries:
            raise StageError(f"dataset: {root / 'annotations' / 'list.txt'} lists no images")
        if p["classify_by"] == "species":
            labels = [species - 1 for _, _, species in entries]
            names = ["cat", "dog"]
        else:
            labels = [class_id - 1 for _, class_id, _ in entries]
            by_id: dict[int, str] = {}
            for (image, class_id, _), label in zip(entries, labels, strict=True):
                breed = image.rsplit("_", 1)[0]
                if by_id.setdefault(label, breed) != breed:
                    raise StageError(f"dataset: class id {class_id} names both "
                                     f"{by_id[label]!r} and {breed!r} in list.txt")
            if sorted(by_id) != list(range(len(by_id))):
                raise StageError("dataset: list.txt class ids are not 1..N without gaps")
            names = [by_id[i] for i in range(len(by_id))]
        images = np.stack([load_rgb(root / "images" / f"{image}.jpg", SIZE, SIZE)
                           for image, _, _ in entries])
        images = (images - np.asarray(MEAN, np.float32)) / np.asarray(STD, np.float32)
        return (to_layout(images.astype(np.float32), p["image_memory_layout"]),
                np.asarray(labels, dtype=np.int64), names)

    def make_splits(self) -> tuple[dict[str, np.ndarray], list[str], dict[str, Any]]:
        splits, names, extra = super().make_splits()
        extra["normalization"] = {
            "mean": list(MEAN), "std": list(STD), "columns": ["red", "green", "blue"],
            "computed_on": "ImageNet (Kenning's PetDataset constants)",
            "formula": "(pixel / 255 - mean) / std per colour channel"}
        return splits, names, extra


def read_list(path: Any) -> list[tuple[str, int, int]]:
    """``(image name, class id, species)`` per line of Kenning's ``annotations/list.txt``."""
    entries = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as failure:
        raise StageError(f"dataset: cannot read {path}: {failure.strerror}") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split()
        try:
            entries.append((fields[0], int(fields[1]), int(fields[2])))
        except (IndexError, ValueError):
            raise StageError(f"{path}:{number}: expected '<image> <class id> <species> "
                             f"<breed id>', got {line!r}") from None
    return entries

