"""Static arena planning: place buffers so that buffers alive at the same time never overlap.

Greedy by size (as TFLite Micro's GreedyMemoryPlanner): the largest buffer is placed first, at
the lowest offset that does not collide with any already placed buffer whose lifetime overlaps.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Buffer:
    name: str
    size: int
    first: int  # index of the first step that uses it (inclusive)
    last: int  # index of the last step that uses it (inclusive)

    def overlaps_in_time(self, other: Buffer) -> bool:
        return self.first <= other.last and other.first <= self.last


@dataclass(frozen=True)
class ArenaPlan:
    offsets: dict[str, int]
    size: int


def _align(value: int, alignment: int) -> int:
    return (value + alignment - 1) // alignment * alignment


def plan_arena(buffers: list[Buffer], alignment: int = 4) -> ArenaPlan:
    """Offsets for every buffer and the total arena size (a multiple of ``alignment``)."""
    placed: list[tuple[int, Buffer]] = []
    offsets: dict[str, int] = {}
    order = sorted(buffers, key=lambda b: (-b.size, b.first, b.name))
    for buf in order:
        live = sorted(((off, other) for off, other in placed if other.overlaps_in_time(buf)),
                      key=lambda item: item[0])
        offset = 0
        for other_off, other in live:
            if other_off - offset >= buf.size:
                break  # fits in the gap before this buffer
            offset = max(offset, _align(other_off + other.size, alignment))
        offsets[buf.name] = offset
        placed.append((offset, buf))
    size = max((off + b.size for off, b in placed), default=0)
    return ArenaPlan(offsets=offsets, size=_align(size, alignment))
