"""Flash and RAM of a Cortex-M ELF (an image or one object), by section and by symbol.

Read with pyelftools. Flash holds what is programmed: code, constants and the initial values
of ``.data``; RAM holds what is writable: ``.data``, ``.bss`` (the model's arena included)
and the stack (``.stack``, a section of its own in firmware/boards/common/sections.ld).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kenning_tasks.errors import StageError

_SHF_WRITE = 0x1
_SHF_ALLOC = 0x2
_SYMBOL_TYPES = ("STT_FUNC", "STT_OBJECT")


@dataclass(frozen=True)
class Symbol:
    name: str
    section: str
    bytes: int
    flash: bool  # takes flash (code, constants, .data's initial values)
    ram: bool    # takes RAM (.data, .bss)

    def to_json(self) -> dict[str, Any]:
        regions = [r for r, used in (("flash", self.flash), ("ram", self.ram)) if used]
        return {"name": self.name, "section": self.section, "bytes": self.bytes,
                "regions": regions}


@dataclass(frozen=True)
class MemoryUse:
    flash_bytes: int          # what is programmed: code, constants and .data's initial values
    ram_bytes: int            # writable memory: .data, .bss (arena included) and the stack
    sections: dict[str, int]  # size of every allocated section
    flash_sections: dict[str, int] = field(default_factory=dict)
    ram_sections: dict[str, int] = field(default_factory=dict)
    symbols: tuple[Symbol, ...] = ()  # functions and objects, largest first

    def breakdown(self) -> dict[str, Any]:
        """flash and RAM by section, and every sized symbol, largest first (firmware.json)."""
        return {
            "flash": {"bytes": self.flash_bytes, "sections": self.flash_sections},
            "ram": {"bytes": self.ram_bytes, "sections": self.ram_sections},
            "symbols": [symbol.to_json() for symbol in self.symbols],
        }


def _open(path: Path) -> Any:
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile

    try:
        stream = open(path, "rb")  # noqa: SIM115  (closed by the caller's with-block)
        elf = ELFFile(stream)
    except (OSError, ELFError) as exc:
        raise StageError(f"{path} is not a readable ELF file: {exc}") from None
    if elf.elfclass != 32 or not elf.little_endian:
        stream.close()
        raise StageError(f"{path} is not a 32-bit little-endian ELF file")
    return stream, elf


def section_names(elf: Path) -> list[str]:
    stream, reader = _open(Path(elf))
    with stream:
        return [section.name for section in reader.iter_sections()]


def memory_use(elf: Path) -> MemoryUse:
    """Flash and RAM taken by the allocated sections of ``elf``, and by its symbols."""
    stream, reader = _open(Path(elf))
    with stream:
        flash_sections: dict[str, int] = {}
        ram_sections: dict[str, int] = {}
        sections: dict[str, int] = {}
        regions: dict[int, tuple[str, bool, bool]] = {}
        for index, section in enumerate(reader.iter_sections()):
            flags, size = section["sh_flags"], section["sh_size"]
            if not flags & _SHF_ALLOC or size == 0:
                continue
            in_flash = section["sh_type"] != "SHT_NOBITS"
            in_ram = bool(flags & _SHF_WRITE)
            # An object has a section per function and variable (-ffunction-sections):
            # sum them under their output section's name (.text.foo → .text).
            name = _output_section(section.name)
            regions[index] = (name, in_flash, in_ram)
            sections[name] = sections.get(name, 0) + size
            if in_flash:
                flash_sections[name] = flash_sections.get(name, 0) + size
            if in_ram:
                ram_sections[name] = ram_sections.get(name, 0) + size
        symbols = []
        table = reader.get_section_by_name(".symtab")
        for symbol in table.iter_symbols() if table is not None else ():
            index = symbol["st_shndx"]
            if (symbol["st_info"]["type"] not in _SYMBOL_TYPES or symbol["st_size"] == 0
                    or not isinstance(index, int) or index not in regions):
                continue
            name, in_flash, in_ram = regions[index]
            symbols.append(Symbol(symbol.name, name, symbol["st_size"], in_flash, in_ram))
    symbols.sort(key=lambda s: (-s.bytes, s.name, s.section))
    return MemoryUse(
        flash_bytes=sum(flash_sections.values()), ram_bytes=sum(ram_sections.values()),
        sections=sections, flash_sections=flash_sections, ram_sections=ram_sections,
        symbols=tuple(symbols),
    )


def _output_section(name: str) -> str:
    for prefix in (".text", ".rodata", ".data", ".bss"):
        if name == prefix or name.startswith(prefix + "."):
            return prefix
    return name
