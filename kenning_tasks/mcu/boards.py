"""Target boards, loaded from ``platforms.yml`` (Kenning's platforms layout plus a few fields)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kenning_tasks.errors import StageError
from kenning_tasks.layout import layout

RUNTIMES = ("baremetal", "zephyr")

_REQUIRED = ("display_name", "flash_size_kb", "ram_size_kb", "uart_baudrate",
             "compilation_flags", "runtime")
_KNOWN = set(_REQUIRED) | {
    "uart_port_wildcard", "uart_log_baudrate", "openocd_flash_cmd", "default_platform",
    "board_dir", "zephyr_board", "qemu_machine", "platform_resc_path",
}


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

    @property
    def flash_limit_bytes(self) -> int:
        return self.flash_size_kb * 1024

    @property
    def ram_limit_bytes(self) -> int:
        return self.ram_size_kb * 1024

    @property
    def emulated(self) -> bool:
        return self.qemu_machine is not None


def _board_from_entry(name: str, entry: Any, source: Path) -> Board:
    where = f"{source}: platform {name!r}"
    if not isinstance(entry, dict):
        raise StageError(f"{where} must be a mapping")
    unknown = sorted(set(entry) - _KNOWN)
    if unknown:
        raise StageError(f"{where} has unknown field(s): {', '.join(unknown)}")
    missing = [key for key in _REQUIRED if key not in entry]
    if missing:
        raise StageError(f"{where} lacks field(s): {', '.join(missing)}")
    for key in ("flash_size_kb", "ram_size_kb", "uart_baudrate"):
        value = entry[key]
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise StageError(f"{where}: {key} must be a positive integer, got {value!r}")
    for key in ("compilation_flags", "openocd_flash_cmd"):
        value = entry.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise StageError(f"{where}: {key} must be a list of strings")
    runtime = entry["runtime"]
    if runtime not in RUNTIMES:
        raise StageError(f"{where}: runtime must be one of {', '.join(RUNTIMES)}, got {runtime!r}")
    if runtime == "baremetal" and not entry.get("board_dir"):
        raise StageError(f"{where}: a baremetal platform needs board_dir")
    if runtime == "zephyr" and not entry.get("zephyr_board"):
        raise StageError(f"{where}: a zephyr platform needs zephyr_board")
    return Board(
        name=name,
        display_name=str(entry["display_name"]),
        flash_size_kb=entry["flash_size_kb"],
        ram_size_kb=entry["ram_size_kb"],
        uart_baudrate=entry["uart_baudrate"],
        compilation_flags=tuple(entry["compilation_flags"]),
        runtime=runtime,
        board_dir=entry.get("board_dir"),
        zephyr_board=entry.get("zephyr_board"),
        qemu_machine=entry.get("qemu_machine"),
        uart_port_wildcard=entry.get("uart_port_wildcard"),
        openocd_flash_cmd=tuple(entry.get("openocd_flash_cmd", [])),
        default_platform=entry.get("default_platform"),
    )


def load_boards(path: Path | None = None) -> dict[str, Board]:
    """Parse and validate a platforms file (default: the repository's ``platforms.yml``)."""
    import yaml

    source = Path(path) if path is not None else layout().platforms
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise StageError(f"cannot read platforms file {source}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise StageError(f"{source} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or not data:
        raise StageError(f"{source} must map platform names to their definitions")
    return {str(name): _board_from_entry(str(name), entry, source) for name, entry in data.items()}


def get_board(name: str, path: Path | None = None) -> Board:
    """The board called ``name``; a StageError lists the known ones otherwise."""
    boards = load_boards(path)
    try:
        return boards[name]
    except KeyError:
        raise StageError(
            f"unknown board {name!r}; known boards: {', '.join(sorted(boards))}"
        ) from None
