"""Exact instruction counts from timer ticks under QEMU's -icount: which shift, and the inversion.

Light on purpose (no serial, no subprocess): the simulate stage's parameters use
``icount_shift`` while the graph is built.
"""

from __future__ import annotations

from kenning_tasks.errors import StageError
from kenning_tasks.mcu.boards import Board

ICOUNT_SHIFT = 6  # the MPS2 boards' (a 40 or 50 ns tick)
NS_PER_INSTRUCTION = 1 << ICOUNT_SHIFT


def exact_tick(tick_hz: int) -> bool:
    """Whether a tick is a whole number of nanoseconds (20, 25 MHz): QEMU's timers, which keep
    their deadlines in whole ns, then land exactly on its edges."""
    return 10**9 % tick_hz == 0


def counts_are_exact(tick_hz: int, ns_per_instruction: int) -> bool:
    """Whether ``ticks_to_instructions`` is exact for this tick rate and instruction time."""
    if exact_tick(tick_hz):
        return tick_hz * ns_per_instruction >= 10**9          # a tick ≤ an instruction
    return tick_hz * (ns_per_instruction - 2) > 2 * 10**9    # 2 ticks + 2 ns < an instruction


def ticks_to_instructions(ticks: int, tick_hz: int, ns_per_instruction: int) -> int:
    """The exact instruction count of a measured section from its timer ticks.

    Under -icount every instruction takes I = ``ns_per_instruction`` of virtual time, and the
    firmware restarts its timer at the start of the section, so a section of M instructions
    lasts exactly M × I ns and reads ticks = floor(M × I / p) for a tick of p ns.

    - A whole-ns tick (25 MHz: 40 ns) no longer than an instruction: that has one solution,
      M = ceil(ticks × p / I).
    - A fractional tick (24 MHz: 41.67 ns; 168 MHz: 5.95 ns): QEMU keeps timer deadlines in
      whole ns, so the tick edges drift by up to 1 ns and a reading may be one tick more. Then
      ticks × p lies within (M × I - p, M × I + p + 1), and the nearest M is exact while
      2 (p + 1) < I: ``qemu.icount_shift`` picks an I for which it is.
    Computed in integers.
    """
    if not counts_are_exact(tick_hz, ns_per_instruction):
        raise StageError(f"a {tick_hz} Hz tick is coarser than one instruction of "
                         f"{ns_per_instruction} ns resolves exactly: counts would not be exact")
    if exact_tick(tick_hz):
        return -(-(ticks * 10**9) // (tick_hz * ns_per_instruction))
    unit = tick_hz * ns_per_instruction
    return (2 * ticks * 10**9 + unit) // (2 * unit)


def icount_shift(board: Board) -> int:
    """The -icount shift for ``board``: 6 unless its tick (the core clock, cpu_frequency_hz)
    needs longer instructions for exact counts (``link.counts_are_exact``)."""
    hz = board.cpu_frequency_hz or 0
    for shift in range(ICOUNT_SHIFT, 11):
        if hz and counts_are_exact(hz, 1 << shift):
            return shift
    raise StageError(f"board {board.name}: a {hz} Hz tick gives no exact instruction counts "
                     "under QEMU's -icount")
