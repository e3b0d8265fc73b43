"""Fit-aware weight layout: int16-widened weights for SMLAD, or int8 where flash is short.

On Armv7E-M (Cortex-M4/M7/M33 with DSP) the fast CONV_2D / FULLY_CONNECTED kernels read weights
stored widened to int16, which doubles their flash. When that would not fit the board's flash,
the layers with the most weight bytes keep the int8 layout (the kernels widen it on the fly,
about 1.3x slower on those layers), largest first, until the estimate fits. A scenario can
force either layout (the platform block's ``weight_layout``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

WEIGHT_LAYOUTS = ("auto", "int16", "int8")
# Flash the rest of the firmware takes besides the model's constants (runtime kernels, the
# application, startup, libc): the digits firmware's non-model code is ~14 KB on every board;
# the margin covers the larger kernels a bigger model links.
FIRMWARE_RESERVE_BYTES = 32 * 1024
# -mcpu values with the DSP extension (Armv7E-M and Armv8-M mainline with DSP), unless +nodsp.
_DSP_CPUS = ("cortex-m4", "cortex-m7", "cortex-m33", "cortex-m35p", "cortex-m55", "cortex-m85")


def cpu_has_dsp(compilation_flags: tuple[str, ...] | list[str]) -> bool:
    """Whether the board's -mcpu has the DSP extension (so the int16 layout is compiled)."""
    for flag in compilation_flags:
        if flag.startswith("-mcpu="):
            cpu = flag[len("-mcpu="):]
            return cpu.split("+")[0] in _DSP_CPUS and "+nodsp" not in cpu
    return False


@dataclass(frozen=True)
class LayoutChoice:
    """What the generator chose; ``record()`` goes to firmware.json."""

    requested: str
    dsp: bool
    int8_ops: tuple[int, ...] = ()  # op indices whose weights stay int8 on a DSP build
    int16_ops: tuple[int, ...] = ()  # op indices with int16 weights on a DSP build
    estimated_flash_bytes: int | None = None  # model constants + reserve, as chosen
    int16_flash_bytes: int | None = None  # the same with every layer int16
    flash_limit_bytes: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def layout(self) -> str:
        if not self.dsp:
            return "int8"
        if not self.int8_ops:
            return "int16"
        return "int8" if not self.int16_ops else "mixed"

    def message(self) -> str:
        """One line for the stage's log (empty when nothing needs saying)."""
        if not self.dsp or not self.int8_ops:
            return ""
        ops = ", ".join(f"#{i}" for i in self.int8_ops)
        if self.requested == "int8":
            return f"weights kept int8 on all {len(self.int8_ops)} layers (weight_layout: int8)"
        return (f"weights of {len(self.int8_ops)} layer(s) ({ops}) kept int8 so the model fits "
                f"{self.flash_limit_bytes} B of flash: int16 weights would need about "
                f"{self.int16_flash_bytes} B (weight_layout: int16 forces them)")

    def record(self) -> dict[str, Any]:
        return {"requested": self.requested, "layout": self.layout, "dsp": self.dsp,
                "int8_ops": list(self.int8_ops), "int16_ops": list(self.int16_ops),
                "estimated_flash_bytes": self.estimated_flash_bytes,
                "int16_flash_bytes": self.int16_flash_bytes,
                "flash_limit_bytes": self.flash_limit_bytes}


def choose(requested: str, dsp: bool, widened_extra: dict[int, int], int16_bytes: int,
           flash_limit_bytes: int | None) -> LayoutChoice:
    """The int8 set for ``requested`` ("auto", "int16", "int8").

    ``widened_extra``: per CONV_2D / FULLY_CONNECTED op, the bytes its int16 weights add over
    int8; ``int16_bytes``: the model's constant bytes in a DSP build with every layer int16.
    """
    if requested not in WEIGHT_LAYOUTS:
        raise ValueError(f"weight_layout must be one of {', '.join(WEIGHT_LAYOUTS)}")
    estimate = int16_bytes + FIRMWARE_RESERVE_BYTES
    ops = sorted(widened_extra)
    if not dsp or requested == "int16":
        return LayoutChoice(requested, dsp, (), tuple(ops) if dsp else (), estimate, estimate,
                            flash_limit_bytes)
    if requested == "int8":
        saved = sum(widened_extra.values())
        return LayoutChoice(requested, dsp, tuple(ops), (), estimate - saved, estimate,
                            flash_limit_bytes)
    int8: list[int] = []
    current = estimate
    # Largest first: the fewest layers lose the faster layout.
    for op in sorted(ops, key=lambda i: (-widened_extra[i], i)):
        if flash_limit_bytes is None or current <= flash_limit_bytes:
            break
        int8.append(op)
        current -= widened_extra[op]
    kept = tuple(sorted(int8))
    return LayoutChoice(requested, dsp, kept, tuple(i for i in ops if i not in int8), current,
                        estimate, flash_limit_bytes)
