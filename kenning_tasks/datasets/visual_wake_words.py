"""Kenning's VisualWakeWordsDataset: COCO images labelled by whether an object class is present.

Kenning's layout: ``<dataset_root>/annotations/instances_<dataset_type>.json`` (COCO
annotations) and ``<dataset_root>/<dataset_type>/<file_name>``. An image is class 1 when the
boxes of ``objects_class`` cover more than ``area_threshold`` of it, else 0 (Kenning's rule).
Images are read as RGB, resized to ``image_width``×``image_height`` and scaled to [0, 1].
Kenning decodes and resizes with OpenCV (bilinear); here it is Pillow's bilinear filter, which
also antialiases when shrinking, so pixel values differ slightly from Kenning's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from kenning_tasks.datasets.base import KENNING_PARAMETERS
from kenning_tasks.datasets.kenning_resources import ArchiveDataset
from kenning_tasks.errors import StageError
from kenning_tasks.params import Param

if TYPE_CHECKING:
    import numpy as np

COCO = "http://images.cocodataset.org/"
KENNING_URLS = {
    "train2017": {"images": COCO + "zips/train2017.zip",
                  "annotations": COCO + "annotations/annotations_trainval2017.zip"},
    "val2017": {"images": COCO + "zips/val2017.zip",
                "annotations": COCO + "annotations/annotations_trainval2017.zip"},
}


class VisualWakeWordsDataset(ArchiveDataset):
    """Kenning's Visual Wake Words (COCO images: is an object class present?)."""

    KIND = "image"
    RESOURCES: ClassVar[dict[str, str]] = {"images": "", "annotations": ""}
    MODULES = (*ArchiveDataset.MODULES, "kenning_tasks.datasets.kenning_resources",
               "kenning_tasks.datasets.images")
    PARAMETERS = (
        *KENNING_PARAMETERS,
        Param("dataset_type", str, "val2017", "COCO subset to use", enum=("val2017",
                                                                        "train2017")),
        Param("objects_class", str, "person", "COCO category whose presence is class 1"),
        Param("area_threshold", float, 0.005, "fraction of the image the category's boxes "
              "must cover", minimum=0.0, maximum=1.0),
        Param("image_memory_layout", str, "NHWC", "layout of the image tensors",
              enum=("NHWC", "NCHW")),
        Param("image_width", int, 416, "width of the images", minimum=1, maximum=8192),
        Param("image_height", int, 416, "height of the images", minimum=1, maximum=8192),
        *(Param(f"{name}_url", str, None, f"kenning-tasks: where the {name} archive is "
                "downloaded from (null: Kenning's COCO address for dataset_type)",
                nullable=True) for name in ("images", "annotations")),
        *(Param(f"{name}_sha256", str, None, f"kenning-tasks: expected sha256 of the {name} "
                "archive", nullable=True, pattern="[0-9a-fA-F]{64}")
          for name in ("images", "annotations")),
    )

    @classmethod
    def markers(cls, parameters: dict[str, Any]) -> tuple[str, ...]:
        kind = parameters["dataset_type"]
        return (f"annotations/instances_{kind}.json", kind)

    def data_root(self) -> Path:
        p = self.parameters
        for name in ("images", "annotations"):  # fill in Kenning's address for the subset
            if p[f"{name}_url"] is None:
                p[f"{name}_url"] = KENNING_URLS[p["dataset_type"]][name]
        return super().data_root()

    def load(self) -> tuple[np.ndarray, np.ndarray, list[str]]:
        import numpy as np

        from kenning_tasks.datasets.images import load_rgb, to_layout

        p = self.parameters
        root = self.data_root()
        annotations_path = root / "annotations" / f"instances_{p['dataset_type']}.json"
        try:
            coco = json.loads(annotations_path.read_text(encoding="utf-8"))
            category = {c["id"]: c["name"] for c in coco["categories"]}
            images = {i["id"]: i for i in coco["images"]}
            annotations = coco.get("annotations", [])
        except (OSError, ValueError, KeyError, TypeError) as failure:
            raise StageError(f"dataset: cannot read COCO annotations {annotations_path}: "
                             f"{failure}") from None
        if p["objects_class"] not in category.values():
            raise StageError(f"dataset.parameters.objects_class: {p['objects_class']!r} is not "
                             f"a category of {annotations_path.name}")
        covered = dict.fromkeys(images, 0.0)
        for annotation in annotations:
            if category.get(annotation["category_id"]) == p["objects_class"]:
                box = annotation["bbox"]
                covered[annotation["image_id"]] += box[2] * box[3]
        order = list(images)  # the annotation file's order, as Kenning
        labels = [int(covered[key] > p["area_threshold"] * images[key]["height"]
                      * images[key]["width"]) for key in order]
        pixels = np.stack([load_rgb(root / p["dataset_type"] / images[key]["file_name"],
                                    p["image_width"], p["image_height"], "bilinear")
                           for key in order])
        return (to_layout(pixels, p["image_memory_layout"]), np.asarray(labels, np.int64),
                [f"not-{p['objects_class']}", p["objects_class"]])
