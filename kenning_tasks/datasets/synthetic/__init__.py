"""Small, deterministic synthetic data sets in Kenning's on-disk layouts.

They stand in for data sets that cannot be downloaded here (CATS, Magic Wand, Oxford-IIIT Pet,
COCO/Visual Wake Words) in tests and example scenarios; nothing generated is committed.
``python -m kenning_tasks synthetic-data KIND FOLDER`` writes one (``--help`` lists the kinds).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

GENERATORS: dict[str, str] = {
    "anomaly": "kenning_tasks.datasets.synthetic.anomaly:write_anomaly_csv",
    "magic-wand": "kenning_tasks.datasets.synthetic.magic_wand:write_magic_wand",
    "pet": "kenning_tasks.datasets.synthetic.images:write_pet_dataset",
    "visual-wake-words": "kenning_tasks.datasets.synthetic.images:write_visual_wake_words",
}


def generator(kind: str) -> Callable[..., Path]:
    import importlib

    module, _, name = GENERATORS[kind].partition(":")
    return getattr(importlib.import_module(module), name)
