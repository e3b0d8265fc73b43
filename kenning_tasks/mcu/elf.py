"""Section sizes of a 32-bit little-endian ELF (all our Cortex-M images), without binutils."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from kenning_tasks.errors import StageError

_SHF_WRITE = 0x1
_SHF_ALLOC = 0x2
_SHT_NOBITS = 8


@dataclass(frozen=True)
class MemoryUse:
    flash_bytes: int          # what is programmed: code, constants and .data's initial values
    ram_bytes: int            # writable memory: .data, .bss (arena included) and the stack
    sections: dict[str, int]  # size of every allocated section


def _section_headers(elf: Path) -> list[tuple[str, tuple[int, ...]]]:
    """(name, header fields) of every section of ``elf``."""
    data = Path(elf).read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 1 or data[5] != 1:
        raise StageError(f"{elf} is not a 32-bit little-endian ELF file")
    (shoff,) = struct.unpack_from("<I", data, 0x20)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x2E)
    headers = [struct.unpack_from("<IIIIIIIIII", data, shoff + i * shentsize) for i in range(shnum)]
    strtab_offset = headers[shstrndx][4]

    def name_of(offset: int) -> str:
        start = strtab_offset + offset
        return data[start:data.index(b"\0", start)].decode("ascii", "replace")

    return [(name_of(header[0]), header) for header in headers]


def section_names(elf: Path) -> list[str]:
    return [name for name, _ in _section_headers(elf)]


def memory_use(elf: Path) -> MemoryUse:
    """Flash and RAM taken by the allocated sections of ``elf``."""
    flash = ram = 0
    sections: dict[str, int] = {}
    for name, (_name_off, sh_type, flags, _addr, _off, size, *_) in _section_headers(elf):
        if not flags & _SHF_ALLOC or size == 0:
            continue
        sections[name] = size
        if sh_type != _SHT_NOBITS:
            flash += size
        if flags & _SHF_WRITE:
            ram += size
    return MemoryUse(flash, ram, sections)
