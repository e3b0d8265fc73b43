"""The runtime contract: load a model once, then run one batch-1 sample at a time.

Inputs and outputs are raw tensors in the model's own dtypes; quantizing inputs and
dequantizing outputs with the I/O spec's scale and zero point is the evaluate stage's job.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from kenning_tasks.block import Block
from kenning_tasks.numerics import Numerics
from kenning_tasks.params import Param

if TYPE_CHECKING:
    import numpy as np

# Kenning's parameters of every runtime. save_model_path (Kenning's runtime ``model_path``) is
# an export request: the evaluated model is also copied there after a successful run.
KENNING_RUNTIME_PARAMETERS = (
    Param("save_model_path", str, None, "Kenning: also export the evaluated model to this path "
          "after a successful run", nullable=True),
    Param("disable_performance_measurements", bool, False, "Kenning: skip timing",
          only=(False,), only_reason="evaluate always measures inference time; nearest: false"),
    Param("batch_size", int, 1, "Kenning: samples per inference", minimum=1, only=(1,),
          only_reason="evaluate runs one sample at a time (batch-1 models); nearest: 1"),
)
LLEXT_PARAMETER = Param(
    "llext_binary_path", str, None, "Kenning: Zephyr LLEXT runtime binary", nullable=True,
    only=(None,), only_reason="the firmware stage links the model into the firmware (no "
    "Zephyr LLEXT); nearest: null")


class Runtime(Block):
    """Base of runtime blocks."""

    family = "runtime"
    ACCEPTS: ClassVar[tuple[str, ...]] = ()
    # Runs on a microcontroller through firmware (needs an embedded platform).
    ON_TARGET: ClassVar[bool] = False

    @classmethod
    def unsupported(cls, numerics: Numerics) -> str | None:
        """Why this runtime cannot run a model with these numerics (None: it can)."""
        return None

    def load(self, model_path: Path, spec: dict[str, Any]) -> None:
        raise NotImplementedError

    def infer(self, sample: np.ndarray) -> np.ndarray:
        """Run one sample (with its batch dimension) and return the raw output tensor."""
        raise NotImplementedError

    def extra_measurements(self) -> dict[str, Any]:
        """Runtime-specific figures for measurements.json (e.g. an arena size), after load."""
        return {}
