"""Firmware builds: bare metal with arm-none-eabi-gcc, Zephyr with west; OpenOCD flashing."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from kenning_tasks.artifacts import atomic_path
from kenning_tasks.errors import StageError
from kenning_tasks.layout import FIRMWARE_DIR
from kenning_tasks.mcu.boards import Board
from kenning_tasks.mcu.elf import memory_use

ZEPHYR_APP_DIR = FIRMWARE_DIR / "zephyr"
CC = "arm-none-eabi-gcc"
OBJCOPY = "arm-none-eabi-objcopy"
ELF_NAME = "firmware.elf"
DEBUG_ELF_NAME = "firmware.debug.elf"
# What a build reads, per folder (documentation such as README.md is not an input).
_SOURCE_SUFFIXES = (".c", ".h", ".ld", ".S", ".s")
_ZEPHYR_FILES = ("CMakeLists.txt", "Kconfig", "prj.conf")

# Flags that do not depend on the board. -g fills only non-allocated sections; the loadable
# ELF is the debug ELF with them stripped, so line numbers (a comment-only edit) never change
# what is flashed or simulated. -ffile-prefix-map keeps build paths out of the debug ELF.
COMMON_CFLAGS = (
    "-std=c11", "-O2", "-g", "-Wall", "-Wextra", "-Wno-unused-parameter",
    "-ffunction-sections", "-fdata-sections", "-fno-common", "-ffreestanding",
)
LINK_FLAGS = (
    "--specs=nano.specs", "-nostartfiles", "-Wl,--gc-sections", "-Wl,--build-id=none",
    "-Wl,--no-warn-rwx-segments",
)


@dataclass(frozen=True)
class FirmwareImage:
    elf: Path                # loadable: what QEMU boots and OpenOCD flashes (no debug info)
    board: str
    flash_bytes: int
    ram_bytes: int
    flash_limit_bytes: int
    ram_limit_bytes: int
    sections: dict[str, int]
    debug_elf: Path | None = None  # the same image with debug info, for gdb


@functools.lru_cache(maxsize=1)
def toolchain_version() -> str:
    """First line of ``arm-none-eabi-gcc --version`` (part of the build's signature)."""
    try:
        out = subprocess.run([CC, "--version"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        raise StageError(f"{CC} is not usable: {exc}") from exc
    return out.stdout.splitlines()[0].strip()


def board_defines(board: Board) -> list[str]:
    """The board's facts from platforms.yml as -D flags (firmware/boards/common/kt_board.h)."""
    _board_dir(board, FIRMWARE_DIR)
    return [
        f'-DKT_BOARD_NAME="{board.name}"',
        f"-DKT_BOARD_CPU_HZ={board.cpu_frequency_hz}u",
        f"-DKT_BOARD_UART_BASE=0x{board.uart_base_address:08X}u",
        f"-DKT_BOARD_UART_BAUD={board.uart_baudrate}u",
        f"-DKT_BOARD_UART_RX_IRQ={board.uart_rx_irq}u",
        f"-DKT_BOARD_IRQS={board.irq_count}",
    ]


def _files(folder: Path, suffixes: Sequence[str] = _SOURCE_SUFFIXES) -> list[Path]:
    return sorted(p for p in folder.glob("*") if p.is_file() and p.suffix in suffixes)


def firmware_inputs(board: Board, source_dir: Path = FIRMWARE_DIR) -> list[Path]:
    """Every source file the firmware build of ``board`` reads, the generated model aside.

    Only the board's own folder and the common ones: editing another board's files does not
    concern this build. The board's facts from platforms.yml are not a file here; they are
    in the build's parameters (the ``Board``).
    """
    source_dir = Path(source_dir)
    common = [*_files(source_dir / "runtime"), *_files(source_dir / "app")]
    if board.runtime == "zephyr":
        zephyr = source_dir / "zephyr"
        overlay = zephyr / "boards" / f"{(board.zephyr_board or '').replace('/', '_')}.overlay"
        return [*common, *(zephyr / name for name in _ZEPHYR_FILES),
                *_files(zephyr / "src"), *([overlay] if overlay.is_file() else [])]
    return [*common, *_files(source_dir / "app" / "baremetal"),
            *_files(source_dir / "boards" / "common"), *_files(_board_dir(board, source_dir))]


def firmware_sources(board: Board, model_dir: Path, source_dir: Path = FIRMWARE_DIR
                     ) -> list[Path]:
    """Every C file of a bare-metal build, in a stable order."""
    c_files = [p for p in firmware_inputs(board, source_dir) if p.suffix == ".c"]
    return [*c_files, *sorted(Path(model_dir).glob("*.c"))]


def _board_dir(board: Board, source_dir: Path) -> Path:
    if board.runtime != "baremetal" or not board.board_dir:
        raise StageError(
            f"board {board.name} is built with {board.runtime}, not the bare-metal toolchain"
        )
    path = Path(source_dir) / "boards" / board.board_dir
    if not (path / "memory.ld").is_file():
        raise StageError(f"board {board.name}: {path / 'memory.ld'} is missing")
    return path


def _compile_command(board: Board, model_dir: Path, output: Path,
                     extra_cflags: Sequence[str], source_dir: Path) -> list[str]:
    board_dir = _board_dir(board, source_dir)
    model_dir = Path(model_dir).resolve()
    includes = [source_dir / "runtime", model_dir, source_dir / "app",
                source_dir / "boards" / "common", board_dir]
    return [
        CC, *board.compilation_flags, *COMMON_CFLAGS, *board_defines(board),
        # The model directory may lie inside the firmware folder: GCC applies the last
        # matching map given, so the model's comes last.
        f"-ffile-prefix-map={source_dir}=firmware",
        f"-ffile-prefix-map={model_dir}=model",
        *extra_cflags,
        *(f"-I{path}" for path in includes),
        *(str(src) for src in firmware_sources(board, model_dir, source_dir)),
        *LINK_FLAGS,
        f"-L{source_dir / 'boards' / 'common'}", f"-T{board_dir / 'memory.ld'}",
        "-o", str(output),
    ]


def _fit_error(board: Board, flash: int, ram: int) -> StageError:
    return StageError(
        f"firmware for {board.name} does not fit: flash {flash} B of {board.flash_limit_bytes} B, "
        f"RAM {ram} B of {board.ram_limit_bytes} B"
    )


def _link_failure(board: Board, stderr: str) -> StageError:
    # A model larger than the physical memory fails at link time: report it like the limits.
    overflow = dict.fromkeys(("FLASH", "RAM"), 0)
    for region, amount in re.findall(r"region `(\w+)' overflowed by (\d+) bytes", stderr):
        overflow[region] = int(amount)
    if any(overflow.values()):
        physical = {"FLASH": board.flash_limit_bytes, "RAM": board.ram_limit_bytes}
        return StageError(
            f"firmware for {board.name} does not fit: "
            + ", ".join(f"{region.replace('FLASH', 'flash')} exceeds {physical[region]} B "
                        f"by {amount} B" for region, amount in overflow.items() if amount)
        )
    lines = [line for line in stderr.splitlines() if "error" in line.lower()] or stderr.splitlines()
    detail = lines[0].strip() if lines else "no diagnostics"
    return StageError(f"firmware build for {board.name} failed: {detail}")


def check_limits(board: Board, elf: Path) -> FirmwareImage:
    """Measure ``elf`` and raise StageError when it exceeds the board's flash or RAM."""
    use = memory_use(elf)
    if use.flash_bytes > board.flash_limit_bytes or use.ram_bytes > board.ram_limit_bytes:
        raise _fit_error(board, use.flash_bytes, use.ram_bytes)
    return FirmwareImage(
        elf=Path(elf), board=board.name, flash_bytes=use.flash_bytes, ram_bytes=use.ram_bytes,
        flash_limit_bytes=board.flash_limit_bytes, ram_limit_bytes=board.ram_limit_bytes,
        sections=use.sections,
    )


def build_firmware(board: Board, model_dir: Path, out_dir: Path,
                   extra_cflags: Sequence[str] = (),
                   source_dir: Path = FIRMWARE_DIR) -> FirmwareImage:
    """Compile and link the bare-metal firmware for ``board`` around the model in ``model_dir``.

    Writes ``out_dir/firmware.debug.elf`` (with debug info, for gdb) and ``out_dir/firmware.elf``
    (the same image without it: what is loaded), both atomically; identical inputs give
    identical bytes, and the loadable ELF changes only when the code or data do.
    ``extra_cflags`` are appended to the compiler flags (e.g. ``-DKT_MAX_PAYLOAD=512``).
    """
    model_dir = Path(model_dir)
    source_dir = Path(source_dir).resolve()
    if not (model_dir / "model.h").is_file():
        raise StageError(f"{model_dir} holds no generated model (model.h is missing)")
    for tool, package in ((CC, "gcc-arm-none-eabi and libnewlib-arm-none-eabi"),
                          (OBJCOPY, "binutils-arm-none-eabi")):
        if shutil.which(tool) is None:
            raise StageError(f"{tool} not found; install {package}")
    with _elf_pair(board, Path(out_dir)) as (debug_tmp, _tmp):
        command = _compile_command(board, model_dir, debug_tmp, extra_cflags, source_dir)
        result = subprocess.run(command, cwd=source_dir, capture_output=True, text=True)
        if result.returncode != 0:
            raise _link_failure(board, result.stderr)
    return _image(board, Path(out_dir))


@contextlib.contextmanager
def _elf_pair(board: Board, out_dir: Path) -> Iterator[tuple[Path, Path]]:
    """Temporary paths for the debug ELF (the caller fills it) and the loadable one (made by
    stripping it); both renamed into ``out_dir`` only when the image fits the board."""
    with atomic_path(out_dir / DEBUG_ELF_NAME) as debug_tmp, \
            atomic_path(out_dir / ELF_NAME) as tmp:
        yield debug_tmp, tmp
        stripped = subprocess.run([OBJCOPY, "--strip-debug", str(debug_tmp), str(tmp)],
                                  capture_output=True, text=True)
        if stripped.returncode != 0:
            raise StageError(f"{OBJCOPY} could not strip the firmware for {board.name}: "
                             f"{(stripped.stderr.strip().splitlines() or ['no output'])[-1]}")
        check_limits(board, tmp)


def _image(board: Board, out_dir: Path) -> FirmwareImage:
    image = check_limits(board, out_dir / ELF_NAME)
    return dataclasses.replace(image, debug_elf=out_dir / DEBUG_ELF_NAME)


def _zephyr_workspace() -> Path:
    base = os.environ.get("ZEPHYR_BASE")
    if base and Path(base, "CMakeLists.txt").is_file():
        return Path(base)
    if shutil.which("west") is None:
        raise StageError("Zephyr build needs `west` on PATH and a Zephyr workspace (ZEPHYR_BASE)")
    found = subprocess.run(["west", "topdir"], capture_output=True, text=True)
    if found.returncode != 0:
        raise StageError(
            "Zephyr build needs a Zephyr workspace: set ZEPHYR_BASE or run from a "
            "`west init`-ed workspace (`west topdir` found none)"
        )
    return Path(found.stdout.strip())


def build_zephyr(board: Board, model_dir: Path, out_dir: Path,
                 timeout_s: float = 1800.0) -> FirmwareImage:
    """Build firmware/zephyr for ``board`` with west and check it against the board's limits.

    Untested here: this machine has no Zephyr workspace or SDK.
    """
    if board.runtime != "zephyr" or not board.zephyr_board:
        raise StageError(f"board {board.name} is not a Zephyr platform")
    workspace = _zephyr_workspace()
    build_dir = Path(out_dir) / "zephyr-build"
    command = [
        "west", "build", "--pristine", "auto", "-b", board.zephyr_board, "-d", str(build_dir),
        str(ZEPHYR_APP_DIR), "--", f"-DKT_MODEL_DIR={Path(model_dir).resolve()}",
    ]
    try:
        result = subprocess.run(command, cwd=workspace, capture_output=True, text=True,
                                timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise StageError(
            f"west build for {board.name} took longer than {timeout_s:.0f} s"
        ) from None
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        raise StageError(f"west build for {board.name} failed: {tail[0]}")
    with _elf_pair(board, Path(out_dir)) as (debug_tmp, _tmp):
        shutil.copyfile(build_dir / "zephyr" / "zephyr.elf", debug_tmp)
    return _image(board, Path(out_dir))


def flash_openocd(board: Board, elf: Path, timeout_s: float = 180.0) -> None:
    """Program ``elf`` into ``board`` with the OpenOCD commands from platforms.yml.

    Untested here: it needs the board connected over its debug probe.
    """
    if not board.openocd_flash_cmd:
        raise StageError(f"board {board.name} has no openocd_flash_cmd in platforms.yml")
    if shutil.which("openocd") is None:
        raise StageError("flashing needs `openocd` on PATH (Debian package openocd)")
    args = ["openocd"]
    for cmd in board.openocd_flash_cmd:
        args += ["-c", cmd.replace("{binary_path}", str(Path(elf).resolve()))]
    try:
        result = subprocess.run(args, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise StageError(
            f"openocd did not finish flashing {board.name} in {timeout_s:.0f} s"
        ) from None
    if result.returncode != 0:
        output = result.stderr.splitlines()
        lines = [line for line in output if "Error" in line] or output
        raise StageError(f"openocd failed to flash {board.name}: {(lines or ['no output'])[-1]}")
