"""Target boards: THE loader of ``platforms.yml`` (Kenning's platforms layout plus a few fields).

Validation, the platform blocks and the stages all read boards through ``load_boards`` /
``get_board``: one parser, one set of rules, one cache. Importing this module costs only
PyYAML. Every error is one line naming the file, the board and the key.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kenning_tasks.errors import ScenarioError
from kenning_tasks.layout import layout

RUNTIMES = ("baremetal", "zephyr")

_REQUIRED = ("display_name", "flash_size_kb", "ram_size_kb", "uart_baudrate",
             "compilation_flags", "runtime")
# The facts the bare-metal firmware is compiled with (kenning_tasks.mcu.build passes them
# as -D flags; firmware/boards/common/kt_board.h checks they are there).
_BAREMETAL_REQUIRED = ("board_dir", "cpu_frequency_hz", "uart_base_address", "uart_rx_irq",
                       "irq_count", "drivers")
_OURS = {
    "uart_port_wildcard", "uart_log_baudrate", "openocd_flash_cmd", "default_platform",
    "board_dir", "zephyr_board", "qemu_machine", "cpu_frequency_hz", "uart_base_address",
    "uart_rx_irq", "irq_count", "drivers", "qemu_board",
}
# Fields of Kenning's own platforms.yml that only its Renode/TVM flows use: accepted so a
# Kenning platforms file loads, and ignored.
KENNING_ONLY_FIELDS = frozenset({
    "platform_resc_path", "resc_dependencies", "post_start_commands", "runtime_binary_path",
    "runtime_init_log_msg", "default_optimizer", "compute_capability", "contextname",
    "conversion_func", "opt_level", "target_host", "use_tvm_vm", "ai8x_device",
    "ai8x_device_id", "ai8x_weights_memory_kb", "ai8x_data_memory_kb",
})
_KNOWN = set(_REQUIRED) | _OURS | KENNING_ONLY_FIELDS
# The bare-metal firmware embeds the name in C source and the PING reply.
_C_SAFE_NAME = re.compile(r"[A-Za-z0-9_./+-]{1,64}")
_DRIVER_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")


class BoardError(ScenarioError):
    """platforms.yml is unreadable or malformed, or names no such board."""


@dataclass(frozen=True)
class Board:
    name: str
    display_name: str
    flash_size_kb: int
    ram_size_kb: int
    uart_baudrate: int
    compilation_flags: tuple[str, ...]
    runtime: str
    board_dir: str | None = None
    zephyr_board: str | None = None
    qemu_machine: str | None = None
    uart_port_wildcard: str | None = None
    openocd_flash_cmd: tuple[str, ...] = ()
    default_platform: str | None = None
    cpu_frequency_hz: int | None = None
    uart_base_address: int | None = None
    uart_rx_irq: int | None = None
    irq_count: int | None = None
    drivers: tuple[str, ...] = ()  # firmware/boards/drivers/<name>.c (baremetal)
    # A real board's stand-in for simulation: a bare-metal QEMU board with the same core
    # (``simulated_board``), as Kenning simulates the real part in Renode.
    qemu_board: str | None = None

    @property
    def flash_limit_bytes(self) -> int:
        return self.flash_size_kb * 1024

    @property
    def ram_limit_bytes(self) -> int:
        return self.ram_size_kb * 1024

    @property
    def emulated(self) -> bool:
        return self.qemu_machine is not None

    @property
    def firmware_name(self) -> str:
        """The name the firmware reports in its PING reply (Zephyr: its board target)."""
        return self.zephyr_board if self.runtime == "zephyr" and self.zephyr_board else self.name


def _integer(where: str, entry: dict, key: str, minimum: int, maximum: int) -> int:
    value = entry[key]
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= maximum:
        raise BoardError(f"{where}.{key}: must be an integer from {minimum} to {maximum}, "
                         f"got {value!r}")
    return value


def _board_from_entry(name: str, entry: Any, source: Path) -> Board:
    where = f"{source}: board {name!r}"
    if not isinstance(entry, dict):
        raise BoardError(f"{where}: must be a mapping of fields, got {type(entry).__name__}")
    unknown = sorted(str(key) for key in set(entry) - _KNOWN)
    if unknown:
        hint = difflib.get_close_matches(unknown[0], sorted(_KNOWN), n=1)
        raise BoardError(f"{where}.{unknown[0]}: unknown field"
                         + (f" (did you mean {hint[0]}?)" if hint else ""))
    runtime = entry.get("runtime")
    required = _REQUIRED + (_BAREMETAL_REQUIRED if runtime == "baremetal" else ())
    missing = [key for key in required if key not in entry]
    if missing:
        raise BoardError(f"{where}.{missing[0]}: missing (required: {', '.join(missing)})")
    if runtime not in RUNTIMES:
        raise BoardError(f"{where}.runtime: must be one of {', '.join(RUNTIMES)}, "
                         f"got {runtime!r}")
    if not _C_SAFE_NAME.fullmatch(name):
        raise BoardError(f"{where}: a board name is 1-64 letters, digits and _ . / + -")
    for key in ("flash_size_kb", "ram_size_kb"):
        _integer(where, entry, key, 1, 1 << 22)
    _integer(where, entry, "uart_baudrate", 300, 12_000_000)
    for key in ("compilation_flags", "openocd_flash_cmd"):
        value = entry.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise BoardError(f"{where}.{key}: must be a list of strings")
    for key in ("display_name", "board_dir", "zephyr_board", "qemu_machine",
                "uart_port_wildcard", "default_platform", "qemu_board"):
        value = entry.get(key)
        if value is not None and (not isinstance(value, str) or not value):
            raise BoardError(f"{where}.{key}: must be a non-empty string, got {value!r}")
    if runtime == "zephyr" and not entry.get("zephyr_board"):
        raise BoardError(f"{where}.zephyr_board: missing (a zephyr board needs it)")
    board_dir = entry.get("board_dir")
    if board_dir is not None and (board_dir in (".", "..")
                                  or not re.fullmatch(r"[A-Za-z0-9_.+-]+", board_dir)):
        raise BoardError(f"{where}.board_dir: must be one folder name under firmware/boards, "
                         f"got {board_dir!r}")
    facts: dict[str, Any] = {}
    if runtime == "baremetal":
        drivers = entry["drivers"]
        if not isinstance(drivers, list) or not drivers or not all(
                isinstance(d, str) and _DRIVER_NAME.fullmatch(d) for d in drivers):
            raise BoardError(f"{where}.drivers: must be a non-empty list of driver names "
                             f"(files of firmware/boards/drivers without .c), got {drivers!r}")
        facts["drivers"] = tuple(drivers)
        facts["cpu_frequency_hz"] = _integer(where, entry, "cpu_frequency_hz", 1000, 10**10)
        facts["uart_base_address"] = _integer(where, entry, "uart_base_address", 0, 2**32 - 4)
        facts["irq_count"] = _integer(where, entry, "irq_count", 1, 496)
        facts["uart_rx_irq"] = _integer(where, entry, "uart_rx_irq", 0, facts["irq_count"] - 1)
    return Board(
        name=name,
        display_name=entry["display_name"],
        flash_size_kb=entry["flash_size_kb"],
        ram_size_kb=entry["ram_size_kb"],
        uart_baudrate=entry["uart_baudrate"],
        compilation_flags=tuple(entry["compilation_flags"]),
        runtime=runtime,
        board_dir=board_dir,
        zephyr_board=entry.get("zephyr_board"),
        qemu_machine=entry.get("qemu_machine"),
        uart_port_wildcard=entry.get("uart_port_wildcard"),
        openocd_flash_cmd=tuple(entry.get("openocd_flash_cmd", [])),
        default_platform=entry.get("default_platform"),
        qemu_board=entry.get("qemu_board"),
        **facts,
    )


@functools.lru_cache(maxsize=8)
def _load(source: Path, _stamp: tuple[int, int, int]) -> dict[str, Board]:
    import yaml

    try:
        data = yaml.load(source.read_text(encoding="utf-8"),
                         Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, UnicodeDecodeError) as exc:
        raise BoardError(f"cannot read platforms file {source}: "
                         f"{getattr(exc, 'strerror', None) or exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise BoardError(f"{source}: not valid YAML{at}: "
                         f"{getattr(exc, 'problem', None) or exc}") from None
    if not isinstance(data, dict) or not data:
        raise BoardError(f"{source}: must map board names to their fields")
    boards = {str(name): _board_from_entry(str(name), entry, source)
              for name, entry in data.items()}
    for board in boards.values():
        if board.qemu_board is not None:
            _check_stand_in(board, boards, source)
    return boards


def core_of(board: Board) -> tuple[str, str]:
    """(``-mcpu`` value, float ABI) of a board's compilation flags."""
    flags = dict(f.lstrip("-").split("=", 1) for f in board.compilation_flags if "=" in f)
    return flags.get("mcpu", "?"), flags.get("mfloat-abi", "soft")


def core_name(board: Board) -> str:
    """``Cortex-M4F``: the core and whether it has an FPU, in the datasheets' words."""
    cpu, abi = core_of(board)
    name = cpu.replace("cortex-m", "Cortex-M")
    return name + ("F" if abi == "hard" and not name.endswith(("7", "33")) else "")


def _check_stand_in(board: Board, boards: dict[str, Board], source: Path) -> None:
    where = f"{source}: board {board.name!r}.qemu_board"
    stand_in = boards.get(board.qemu_board or "")
    if stand_in is None or stand_in.runtime != "baremetal" or not stand_in.emulated:
        allowed = [b.name for b in boards.values() if b.runtime == "baremetal" and b.emulated]
        raise BoardError(f"{where}: {board.qemu_board!r} is not a bare-metal QEMU board; "
                         f"allowed: {', '.join(allowed)}")
    if core_of(stand_in)[0] != core_of(board)[0] or (
            core_of(board)[1] == "hard" and core_of(stand_in)[1] != "hard"):
        raise BoardError(f"{where}: {stand_in.name} has a {core_name(stand_in)}, {board.name} a "
                         f"{core_name(board)}; the stand-in must have the same core")


def simulated_board(board: Board, path: Path | str | None = None) -> Board:
    """The board a simulated real board runs on: its stand-in QEMU board's machine, memory
    map, UART and timebase (the bare-metal firmware), with the real part's name, compiler
    flags and flash/RAM limits, so the firmware that fits here fits the part."""
    if board.qemu_board is None:
        raise BoardError(f"board {board.name!r}: no qemu_board in platforms.yml, so it cannot "
                         "be simulated (no QEMU machine with its core is declared)")
    stand_in = get_board(board.qemu_board, path)
    return dataclasses.replace(
        stand_in, name=board.name, qemu_board=stand_in.name,
        display_name=f"{board.display_name} (simulated on QEMU {stand_in.qemu_machine})",
        flash_size_kb=board.flash_size_kb, ram_size_kb=board.ram_size_kb,
        compilation_flags=board.compilation_flags, uart_baudrate=board.uart_baudrate)



def load_boards(path: Path | str | None = None) -> dict[str, Board]:
    """Every board of a platforms file (default: the project's ``platforms.yml``), validated.

    Parsed once per file version: the cache key includes the file's size, mtime and inode.
    """
    source = Path(path) if path is not None else layout().platforms
    try:
        stat = os.stat(source)
        stamp = (stat.st_size, stat.st_mtime_ns, stat.st_ino)
    except OSError as exc:
        raise BoardError(f"cannot read platforms file {source}: {exc.strerror}") from None
    return dict(_load(source.resolve(), stamp))


def get_board(name: str, path: Path | str | None = None) -> Board:
    """The board called ``name``; a BoardError naming the closest known boards otherwise."""
    boards = load_boards(path)
    try:
        return boards[name]
    except KeyError:
        source = Path(path) if path is not None else layout().platforms
        close = difflib.get_close_matches(str(name), sorted(boards), n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        raise BoardError(f"{source}: no board {name!r}; {hint}known boards: "
                         f"{', '.join(sorted(boards))}") from None


def board_names(emulated: bool | None = None, runtime: str | None = None,
                path: Path | str | None = None) -> list[str]:
    """Boards filtered by having a QEMU machine and by firmware runtime, in file order."""
    return [name for name, board in load_boards(path).items()
            if (emulated is None or board.emulated == emulated)
            and (runtime is None or board.runtime == runtime)]
