"""How a board's build does float32 arithmetic, read from its compilation flags (platforms.yml).

A hard-float build (``-mfloat-abi=hard`` or ``softfp`` with an ``-mfpu``) runs the float32
kernels on the core's FPU (Cortex-M4F, M7, M33); anything else uses libgcc's software float
(Cortex-M0, M3). Said in the firmware's facts and the report next to the numeric path.
"""

from __future__ import annotations

from collections.abc import Sequence


def _flag(flags: Sequence[str], name: str) -> str | None:
    values = [f.split("=", 1)[1] for f in flags if f.startswith(f"-m{name}=")]
    return values[-1] if values else None  # gcc: the last one wins


def float_arithmetic(flags: Sequence[str]) -> str:
    """e.g. "FPU (fpv4-sp-d16, -mfloat-abi=hard)" or "software float (-mfloat-abi=soft)"."""
    abi = _flag(flags, "float-abi") or "soft"
    fpu = _flag(flags, "fpu")
    if abi in ("hard", "softfp") and fpu and fpu != "none":
        return f"FPU ({fpu}, -mfloat-abi={abi})"
    return f"software float (-mfloat-abi={abi})"
