"""Synthetic image data sets in Kenning's layouts: Oxford-IIIT Pet and COCO / Visual Wake Words.

Pictures are drawn with Pillow and saved as JPEG (deterministic bytes): each pet breed is a
shape and colour of its own on a noisy background; a Visual Wake Words image holds a
"person" (a tall figure, boxes from a few % up to a third of the image) or only small
distractors, with COCO annotations saying where.
"""

from __future__ import annotations

import json
from pathlib import Path

from kenning_tasks import artifacts

BREEDS = (("Abyssinian", 1), ("Bengal", 1), ("beagle", 2), ("boxer", 2))  # (name, species)
COLOURS = ((200, 120, 40), (230, 200, 60), (120, 80, 40), (90, 60, 150))


def _background(rng: object, size: int) -> object:
    import numpy as np
    from PIL import Image

    noise = rng.integers(60, 140, (size, size, 3), dtype=np.uint8)
    return Image.fromarray(noise, "RGB")


def _jpeg(image: object) -> bytes:
    import io

    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def write_pet_dataset(root: Path, per_breed: int = 8, size: int = 64, seed: int = 5) -> Path:
    """``<root>/images/*.jpg`` and ``<root>/annotations/list.txt`` with four breeds."""
    import numpy as np
    from PIL import ImageDraw

    root = Path(root)
    rng = np.random.default_rng(seed)
    lines = ["#Image CLASS-ID SPECIES BREED ID", "#ID: 1:37 Class Ids", "#SPECIES: 1:Cat 2:Dog"]
    for class_id, ((breed, species), colour) in enumerate(zip(BREEDS, COLOURS, strict=True), 1):
        for index in range(1, per_breed + 1):
            image = _background(rng, size)
            draw = ImageDraw.Draw(image)
            x, y = rng.integers(4, size // 3, 2)
            extent = int(rng.integers(size // 2, size - 8))
            box = (int(x), int(y), int(min(size - 1, x + extent)), int(min(size - 1, y + extent)))
            shade = tuple(int(c + rng.integers(-20, 20)) for c in colour)
            if class_id % 2:
                draw.ellipse(box, fill=shade)
            else:
                draw.rectangle(box, fill=shade)
            name = f"{breed}_{index}"
            artifacts.write_bytes(root / "images" / f"{name}.jpg", _jpeg(image))
            lines.append(f"{name} {class_id} {species} {index}")
    artifacts.write_text(root / "annotations" / "list.txt", "\n".join(lines) + "\n")
    return root


def write_visual_wake_words(root: Path, images: int = 40, size: int = 96, seed: int = 9,
                            dataset_type: str = "val2017") -> Path:
    """``<root>/<dataset_type>/*.jpg`` and ``<root>/annotations/instances_<type>.json``."""
    import numpy as np
    from PIL import ImageDraw

    root = Path(root)
    rng = np.random.default_rng(seed)
    coco: dict = {"images": [], "annotations": [],
                  "categories": [{"id": 1, "name": "person"}, {"id": 18, "name": "dog"}]}
    for index in range(images):
        image = _background(rng, size)
        draw = ImageDraw.Draw(image)
        file_name = f"{index + 1:012d}.jpg"
        coco["images"].append({"id": index + 1, "file_name": file_name, "width": size,
                               "height": size})
        if index % 2 == 0:  # a person: a tall bright figure with a head
            width = int(rng.integers(size // 6, size // 3))
            height = int(rng.integers(size // 3, size * 3 // 4))
            x = int(rng.integers(0, size - width))
            y = int(rng.integers(0, size - height))
            draw.rectangle((x, y + height // 4, x + width, y + height), fill=(230, 230, 230))
            draw.ellipse((x, y, x + width, y + height // 4), fill=(250, 210, 180))
            coco["annotations"].append({"id": len(coco["annotations"]) + 1,
                                        "image_id": index + 1, "category_id": 1,
                                        "bbox": [x, y, width, height],
                                        "area": width * height, "iscrowd": 0})
        else:  # a dog: a small dark blob
            x, y = (int(v) for v in rng.integers(0, size - 20, 2))
            draw.ellipse((x, y, x + 18, y + 12), fill=(40, 30, 20))
            coco["annotations"].append({"id": len(coco["annotations"]) + 1,
                                        "image_id": index + 1, "category_id": 18,
                                        "bbox": [x, y, 18, 12], "area": 216, "iscrowd": 0})
        artifacts.write_bytes(root / dataset_type / file_name, _jpeg(image))
    artifacts.write_text(root / "annotations" / f"instances_{dataset_type}.json",
                         json.dumps(coco, sort_keys=True) + "\n")
    return root
