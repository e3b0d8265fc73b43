"""The runtime contract: load a model once, then run one batch-1 sample at a time.

Inputs and outputs are raw tensors in the model's own dtypes; quantizing inputs and
dequantizing outputs with the I/O spec's scale and zero point is the evaluate stage's job.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from kenning_tasks.block import Block

if TYPE_CHECKING:
    import numpy as np


class Runtime(Block):
    """Base of runtime blocks."""

    family = "runtime"
    ACCEPTS: ClassVar[tuple[str, ...]] = ()
    # Runs on a microcontroller through firmware (needs an embedded platform).
    ON_TARGET: ClassVar[bool] = False

    def load(self, model_path: Path, spec: dict[str, Any]) -> None:
        raise NotImplementedError

    def infer(self, sample: np.ndarray) -> np.ndarray:
        """Run one sample (with its batch dimension) and return the raw output tensor."""
        raise NotImplementedError

    def extra_measurements(self) -> dict[str, Any]:
        """Runtime-specific figures for measurements.json (e.g. an arena size), after load."""
        return {}
