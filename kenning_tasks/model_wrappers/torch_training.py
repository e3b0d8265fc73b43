"""Deterministic PyTorch training helpers shared by the PyTorch wrappers.

Training is seeded (weights, shuffling, dropout, VAE sampling all draw from torch's seeded
generator), uses deterministic algorithms and one thread (the summation order, and so the
bytes, do not depend on the machine's core count), and the model is saved as a ``.pt`` holding
the builder of its architecture, the builder's arguments and the state dict, so
``model_wrappers.torch.load_torch`` can rebuild any of them.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kenning_tasks import artifacts


@contextlib.contextmanager
def deterministic_torch(seed: int) -> Iterator[Any]:
    """Seed torch, force deterministic kernels and one thread; yield a seeded generator."""
    import torch

    threads = torch.get_num_threads()
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    try:
        yield torch.Generator().manual_seed(seed)
    finally:
        torch.set_num_threads(threads)


def batches(count: int, batch_size: int, generator: Any) -> Iterator[Any]:
    """Index batches of a seeded permutation of ``range(count)``."""
    import torch

    order = torch.randperm(count, generator=generator)
    for start in range(0, count, batch_size):
        yield order[start:start + batch_size]


def save_torch(target: Path, builder: str, spec: dict[str, Any], model: Any) -> None:
    """Write ``{"builder", "spec", "state_dict"}`` atomically (same model → same bytes)."""
    import torch

    buffer = io.BytesIO()
    torch.save({"builder": builder, "spec": spec, "state_dict": model.state_dict()}, buffer)
    artifacts.write_bytes(target, buffer.getvalue())
