"""The optimizer contract.

An optimizer has up to two phases: ``quantize`` (numeric format: int8, float16, ...) and
``compile`` (lowering for a runtime). The quantize stage runs the chain's quantize phases and
the compile stage its compile phases, so each stage's signature holds only the parameters of
its own phase (``Param.phase``): editing a compiler option never re-quantizes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from kenning_tasks.block import Block
from kenning_tasks.numerics import Numerics
from kenning_tasks.params import Param

# Kenning's parameters of every optimizer. compiled_model_path is an export request: after a
# successful run the optimizer's artifact is copied there (build/ stays the source of truth),
# so it is no phase's parameter and never part of a signature.
KENNING_OPTIMIZER_PARAMETERS = (
    Param("compiled_model_path", str, None, "Kenning: also export this optimizer's model to "
          "this path after a successful run", nullable=True),
    Param("location", str, "host", "Kenning: where the optimization runs in a client-server "
          "scenario", enum=("host", "target"), only=("host",),
          only_reason="optimizers run on the host here (no client-server optimization); "
          "nearest: 'host'"),
)


def model_framework_param(frameworks: tuple[str, ...]) -> Param:
    """Kenning's ``model_framework``: the input model's framework, checked at validation."""
    return Param("model_framework", str, "any", "Kenning: framework of the input model; "
                 "'any' takes what the previous block produces", enum=(*frameworks, "any"))


@dataclass(frozen=True)
class StepContext:
    """What an optimizer phase may read besides its input model."""

    splits_path: Path
    dataset_info: dict[str, Any]
    log: Callable[[str], None]


class Optimizer(Block):
    """Base of optimizer blocks."""

    family = "optimizer"
    ACCEPTS: ClassVar[tuple[str, ...]] = ()
    PHASES: ClassVar[tuple[str, ...]] = ("quantize", "compile")

    # Phases that publish their input unchanged (only check it), so an export of this
    # optimizer's model can take the previous phase's file.
    PASS_THROUGH_PHASES: ClassVar[tuple[str, ...]] = ()

    def output_format(self, phase: str, input_format: str) -> str:
        """Format a phase writes given its input format (the same unless overridden)."""
        return input_format

    def pass_through(self, phase: str) -> bool:
        return phase in self.PASS_THROUGH_PHASES

    def numerics(self, incoming: Numerics) -> Numerics:
        """The weight and I/O types of the model this optimizer writes (unchanged by default)."""
        return incoming

    def phase_parameters(self, phase: str) -> dict[str, Any]:
        return {p.name: self.parameters[p.name] for p in self.PARAMETERS if p.phase == phase}

    def extra_outputs(self, target: Path) -> list[Path]:
        """Files a phase writes next to ``target`` besides the model and its sidecar."""
        return []

    def quantize(self, source: Path, target: Path, ctx: StepContext) -> None:
        raise NotImplementedError

    def compile(self, source: Path, target: Path, ctx: StepContext) -> None:
        raise NotImplementedError


def calibration_samples(splits_path: Path, fraction: float) -> Any:
    """The first ``fraction`` of the train split (its order is already a seeded shuffle)."""
    from kenning_tasks.datasets.base import load_splits

    x_train = load_splits(splits_path)["x_train"]
    count = max(1, round(len(x_train) * fraction))
    return x_train[:count]
