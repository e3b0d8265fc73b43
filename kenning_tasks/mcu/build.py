"""Firmware builds: bare metal with arm-none-eabi-gcc, Zephyr with west; OpenOCD flashing.

A bare-metal build compiles every source to an object of its own (so each has its exact
command, for ``compile_commands.json``, and its own warnings), the generated model first: the
model's objects alone are measured against the board's flash and RAM before anything else is
compiled (``check_model_fits``), which is also what a Zephyr build does before it needs west.
Then it links with a map file, strips the debug info into the loadable ELF and checks the
whole image against the board's limits. Outputs are renamed into place only when all of that
succeeded.

Paths: what the build writes into its outputs (the map file, the warnings, the recorded
flags) names the firmware sources ``firmware/…``, the generated model ``model/…`` and the
toolchain's own files ``<toolchain>/…``, never a host path, so identical inputs give
identical bytes wherever they are built. The exact commands with their host paths are
returned (``FirmwareImage.commands``) for files that are not targets.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kenning_tasks.artifacts import atomic_path, write_text
from kenning_tasks.errors import StageError
from kenning_tasks.layout import FIRMWARE_DIR
from kenning_tasks.mcu.boards import Board
from kenning_tasks.mcu.elf import MemoryUse, memory_use

ZEPHYR_APP_DIR = FIRMWARE_DIR / "zephyr"
CC = "arm-none-eabi-gcc"
OBJCOPY = "arm-none-eabi-objcopy"
ELF_NAME = "firmware.elf"
DEBUG_ELF_NAME = "firmware.debug.elf"
MAP_NAME = "firmware.map"
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
    "-lm",  # expf for the float32 SOFTMAX (runtime/softmax_f32.c); nothing else uses libm
)
# A define's name: a C identifier (the platform block validates the same).
DEFINE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class BuildOptions:
    """What a scenario adds to a firmware build: its platform block's ``defines``, ``cflags``
    and ``werror`` (validated there). Part of the firmware stage's parameters."""

    defines: tuple[tuple[str, str | None], ...] = ()  # (name, value or None for a bare -D)
    cflags: tuple[str, ...] = ()
    werror: bool = False

    @classmethod
    def from_parameters(cls, parameters: dict[str, Any]) -> BuildOptions:
        defines = parameters.get("defines") or {}
        return cls(
            defines=tuple((name, None if value is None else define_value(value))
                          for name, value in sorted(defines.items())),
            cflags=tuple(parameters.get("cflags") or ()),
            werror=bool(parameters.get("werror", False)),
        )

    def flags(self) -> list[str]:
        return [*(f"-D{name}" if value is None else f"-D{name}={value}"
                  for name, value in self.defines),
                *self.cflags, *(["-Werror"] if self.werror else [])]


def define_value(value: Any) -> str:
    """A define's value as C source: true/false → 1/0, numbers and strings as written."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


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
    map_file: Path | None = None   # the linker's map, paths as firmware/…, model/…
    memory: MemoryUse | None = None  # by section and by symbol
    warnings: tuple[str, ...] = ()  # the compiler's and linker's, paths as firmware/…
    # The exact commands with their host paths: compile_commands.json entries (directory,
    # arguments, file) and the link command. Not for target files.
    commands: tuple[dict[str, Any], ...] = ()
    recorded: dict[str, Any] = field(default_factory=dict)  # the flags, paths as firmware/…


@functools.lru_cache(maxsize=1)
def toolchain_version() -> str:
    """First line of ``arm-none-eabi-gcc --version`` (part of the build's signature)."""
    try:
        out = subprocess.run([CC, "--version"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        raise StageError(f"{CC} is not usable: {exc}") from exc
    return out.stdout.splitlines()[0].strip()


@functools.lru_cache(maxsize=1)
def _toolchain_dirs() -> tuple[str, ...]:
    """The toolchain's install directory (libgcc, and newlib beside it), to hide in outputs."""
    try:
        out = subprocess.run([CC, "-print-search-dirs"], capture_output=True, text=True,
                             check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return ()
    found = re.search(r"^install: (.+?)/?$", out, flags=re.M)
    if not found:
        return ()
    install = found.group(1)
    return (install, os.path.normpath(os.path.join(install, "..", "..", "..")))


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


def _driver_files(board: Board, source_dir: Path) -> list[Path]:
    drivers = Path(source_dir) / "boards" / "drivers"
    files = []
    for name in board.drivers:
        path = drivers / f"{name}.c"
        if not path.is_file():
            known = ", ".join(p.stem for p in _files(drivers, (".c",)))
            raise StageError(f"board {board.name}: driver {name!r} of platforms.yml has no "
                             f"{path}; drivers: {known}")
        files.append(path)
    return files


def firmware_inputs(board: Board, source_dir: Path = FIRMWARE_DIR) -> list[Path]:
    """Every source file the firmware build of ``board`` reads, the generated model aside.

    Only the board's own folder, its drivers and the common folders: editing another board's
    files or a driver it does not use does not concern this build. The board's facts from
    platforms.yml are not a file here; they are in the build's parameters (the ``Board``).
    """
    source_dir = Path(source_dir)
    common = [*_files(source_dir / "runtime"), *_files(source_dir / "app")]
    if board.runtime == "zephyr":
        zephyr = source_dir / "zephyr"
        overlay = zephyr / "boards" / f"{(board.zephyr_board or '').replace('/', '_')}.overlay"
        return [*common, *(zephyr / name for name in _ZEPHYR_FILES),
                *_files(zephyr / "src"), *([overlay] if overlay.is_file() else [])]
    return [*common, *_files(source_dir / "app" / "baremetal"),
            *_files(source_dir / "boards" / "common"), *_driver_files(board, source_dir),
            *_files(_board_dir(board, source_dir))]


def firmware_sources(board: Board, model_dir: Path, source_dir: Path = FIRMWARE_DIR
                     ) -> list[Path]:
    """Every C file of a bare-metal build, the generated model's first, in a stable order."""
    c_files = [p for p in firmware_inputs(board, source_dir) if p.suffix == ".c"]
    return [*sorted(Path(model_dir).glob("*.c")), *c_files]


def _board_dir(board: Board, source_dir: Path) -> Path:
    if board.runtime != "baremetal" or not board.board_dir:
        raise StageError(
            f"board {board.name} is built with {board.runtime}, not the bare-metal toolchain"
        )
    path = Path(source_dir) / "boards" / board.board_dir
    if not (path / "memory.ld").is_file():
        raise StageError(f"board {board.name}: {path / 'memory.ld'} is missing")
    return path


class PathNames:
    """Host paths → the names outputs use: firmware/…, model/…, <toolchain>/…, objects bare."""

    def __init__(self, source_dir: Path, model_dir: Path, obj_dir: Path | None = None) -> None:
        pairs = [(str(source_dir), "firmware"), (str(model_dir), "model"),
                 *((d, "<toolchain>") for d in _toolchain_dirs())]
        if obj_dir is not None:
            pairs.append((str(obj_dir), "."))
        # Longest first: the model folder may lie inside the firmware folder (tests).
        self._pairs = sorted(pairs, key=lambda pair: -len(pair[0]))

    def __call__(self, text: str) -> str:
        for path, name in self._pairs:
            text = text.replace(path + "/", name + "/").replace(path, name)
        return text


def compile_flags(board: Board, model_dir: Path, source_dir: Path = FIRMWARE_DIR,
                  extra_cflags: Sequence[str] = (),
                  options: BuildOptions = BuildOptions()) -> list[str]:
    """The flags every C file of the bare-metal build is compiled with (host paths)."""
    board_dir = _board_dir(board, source_dir)
    model_dir = Path(model_dir).resolve()
    includes = [source_dir / "runtime", model_dir, source_dir / "app",
                source_dir / "boards" / "common", board_dir]
    return [
        *board.compilation_flags, *COMMON_CFLAGS, *board_defines(board),
        # The model directory may lie inside the firmware folder: GCC applies the last
        # matching map given, so the model's comes last.
        f"-ffile-prefix-map={source_dir}=firmware",
        f"-ffile-prefix-map={model_dir}=model",
        *options.flags(), *extra_cflags,
        *(f"-I{path}" for path in includes),
        # model.c's per-operator hooks record a tick reading each (PROTOCOL.md).
        "-include", str(source_dir / "app" / "kt_op_timing.h"),
    ]


def _link_flags(board: Board, source_dir: Path) -> list[str]:
    board_dir = _board_dir(board, source_dir)
    return [*LINK_FLAGS, f"-L{source_dir / 'boards' / 'common'}",
            f"-T{board_dir / 'memory.ld'}"]


def _object_name(source: Path, model_dir: Path, source_dir: Path) -> str:
    """runtime/conv2d.o, boards/common/startup.o, model/model.o."""
    if source.is_relative_to(model_dir):
        return "model/" + source.relative_to(model_dir).with_suffix(".o").as_posix()
    return source.relative_to(source_dir).with_suffix(".o").as_posix()


def fit_error(board: Board, flash: int, ram: int, what: str = "") -> StageError:
    """The one line for an image (or a part of it) larger than the board."""
    return StageError(
        f"firmware for {board.name} does not fit: flash {flash} B of "
        f"{board.flash_limit_bytes} B, RAM {ram} B of {board.ram_limit_bytes} B{what}"
    )


def _link_failure(board: Board, stderr: str, names: Callable[[str], str]) -> StageError:
    # A model larger than the physical memory fails at link time: report it like the limits.
    overflow = dict.fromkeys(("FLASH", "RAM"), 0)
    for region, amount in re.findall(r"region `(\w+)' overflowed by (\d+) bytes", stderr):
        overflow[region] = int(amount)
    if any(overflow.values()):
        physical = {"FLASH": board.flash_limit_bytes, "RAM": board.ram_limit_bytes}
        return StageError(
            f"firmware for {board.name} does not fit: "
            + ", ".join(f"{region.replace('FLASH', 'flash')} {physical[region] + amount} B "
                        f"of {physical[region]} B (exceeds by {amount} B)"
                        for region, amount in overflow.items() if amount)
        )
    return _compile_failure(board, stderr, names)


def _overflow_measured(board: Board, link: list[str], obj_dir: Path,
                       stderr: str) -> StageError | None:
    """For an image larger than the board's physical memory, the fit error with the flash and
    RAM it would take: linked once more with --noinhibit-exec, which writes it anyway."""
    if "overflowed by" not in stderr:
        return None
    scratch = "overflowing.elf"
    _run([*link[:-2], "-Wl,--noinhibit-exec", "-o", scratch], obj_dir)
    if not (obj_dir / scratch).is_file():
        return None
    use = memory_use(obj_dir / scratch)
    return fit_error(board, use.flash_bytes, use.ram_bytes)


def _compile_failure(board: Board, stderr: str, names: Callable[[str], str]) -> StageError:
    lines = [line for line in stderr.splitlines() if "error" in line.lower()] or stderr.splitlines()
    detail = names(lines[0].strip()) if lines else "no diagnostics"
    return StageError(f"firmware build for {board.name} failed: {detail}")


def _diagnostics(stderr: str, names: Callable[[str], str]) -> list[str]:
    """The compiler's warning lines (with their notes), paths as firmware/… and model/…."""
    return [names(line.rstrip()) for line in stderr.splitlines()
            if re.search(r"\b(warning|note):", line)]


def check_limits(board: Board, elf: Path) -> FirmwareImage:
    """Measure ``elf`` and raise StageError when it exceeds the board's flash or RAM."""
    use = memory_use(elf)
    if use.flash_bytes > board.flash_limit_bytes or use.ram_bytes > board.ram_limit_bytes:
        raise fit_error(board, use.flash_bytes, use.ram_bytes)
    return FirmwareImage(
        elf=Path(elf), board=board.name, flash_bytes=use.flash_bytes, ram_bytes=use.ram_bytes,
        flash_limit_bytes=board.flash_limit_bytes, ram_limit_bytes=board.ram_limit_bytes,
        sections=use.sections, memory=use,
    )


def check_model_fits(board: Board, objects: Sequence[Path]) -> MemoryUse:
    """Raise the fit error when the generated model's objects alone exceed the board.

    Their sections are a lower bound of the whole image (the rest of the firmware adds code,
    buffers and the stack), so this stops an impossible build before the rest is compiled,
    linked, or handed to west.
    """
    flash = ram = 0
    for obj in objects:
        use = memory_use(obj)
        flash += use.flash_bytes
        ram += use.ram_bytes
    if flash > board.flash_limit_bytes or ram > board.ram_limit_bytes:
        raise fit_error(board, flash, ram, " for the generated model alone (weights, code and "
                        "arena), before the rest of the firmware")
    return MemoryUse(flash, ram, {})


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True)


def _check_tools() -> None:
    for tool, package in ((CC, "gcc-arm-none-eabi and libnewlib-arm-none-eabi"),
                          (OBJCOPY, "binutils-arm-none-eabi")):
        if shutil.which(tool) is None:
            raise StageError(f"{tool} not found; install {package}")


@contextlib.contextmanager
def _object_dir(out_dir: Path) -> Iterator[Path]:
    """A scratch folder for the objects, named like an artifacts temporary (its writer's PID),
    so a killed build's leftovers are swept by the next run of the stage."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=f".objects.{os.getpid()}.", dir=out_dir))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def build_firmware(board: Board, model_dir: Path, out_dir: Path,
                   extra_cflags: Sequence[str] = (),
                   source_dir: Path = FIRMWARE_DIR,
                   options: BuildOptions = BuildOptions(),
                   log: Callable[[str], None] | None = None) -> FirmwareImage:
    """Compile and link the bare-metal firmware for ``board`` around the model in ``model_dir``.

    Writes ``out_dir/firmware.debug.elf`` (with debug info, for gdb), ``out_dir/firmware.elf``
    (the same image without it: what is loaded) and ``out_dir/firmware.map``, all atomically
    and only when the image fits the board; identical inputs give identical bytes, and the
    loadable ELF changes only when the code or data do. ``options`` are the scenario's
    defines, flags and -Werror; ``extra_cflags`` are appended after them. ``log`` gets each
    warning line as it is found (so they show even when the build fails later).
    """
    model_dir = Path(model_dir).resolve()
    source_dir = Path(source_dir).resolve()
    out_dir = Path(out_dir)
    if not (model_dir / "model.h").is_file():
        raise StageError(f"{model_dir} holds no generated model (model.h is missing)")
    _check_tools()
    flags = compile_flags(board, model_dir, source_dir, extra_cflags, options)
    sources = firmware_sources(board, model_dir, source_dir)
    link_flags = _link_flags(board, source_dir)
    with _object_dir(out_dir) as obj_dir:
        names = PathNames(source_dir, model_dir, obj_dir)
        commands: list[dict[str, Any]] = []
        warnings: list[str] = []
        objects: list[str] = []

        def note(lines: list[str]) -> None:
            warnings.extend(lines)
            for line in lines if log else ():
                log(line)

        def compile_one(source: Path) -> Path:
            name = _object_name(source, model_dir, source_dir)
            obj = obj_dir / name
            obj.parent.mkdir(parents=True, exist_ok=True)
            command = [CC, *flags, "-c", str(source), "-o", str(obj)]
            commands.append({"directory": str(source_dir), "arguments": command,
                             "file": str(source)})
            result = _run(command, source_dir)
            note(_diagnostics(result.stderr, names))
            if result.returncode != 0:
                raise _compile_failure(board, result.stderr, names)
            objects.append(name)
            return obj

        model_sources = [s for s in sources if s.is_relative_to(model_dir)]
        # The model alone against the board first: an impossible build stops here.
        check_model_fits(board, [compile_one(source) for source in model_sources])
        for source in sources:
            if source not in model_sources:
                compile_one(source)
        # The map's rename comes last: a link that does not fit leaves neither ELF nor map.
        with atomic_path(out_dir / MAP_NAME) as map_tmp, \
                _elf_pair(board, out_dir) as (debug_tmp, _tmp):
            # Linked inside the object folder under its final name: the map names it so.
            link = [CC, *flags, *objects, *link_flags, f"-Wl,-Map={MAP_NAME}",
                    "-o", DEBUG_ELF_NAME]
            commands.append({"directory": str(obj_dir), "arguments": link, "file": "(link)"})
            result = _run(link, obj_dir)
            note(_diagnostics(result.stderr, names))
            if result.returncode != 0:
                raise _overflow_measured(board, link, obj_dir, result.stderr) \
                    or _link_failure(board, result.stderr, names)
            shutil.copyfile(obj_dir / DEBUG_ELF_NAME, debug_tmp)
            raw_map = (obj_dir / MAP_NAME).read_text(encoding="utf-8", errors="replace")
            write_text(map_tmp, names(raw_map))
    recorded = {
        "compiler": CC,
        "cflags": [names(flag) for flag in flags],
        "link_flags": [names(flag) for flag in link_flags],
        "sources": [names(str(source)) for source in sources],
    }
    image = _image(board, out_dir)
    return dataclasses.replace(image, map_file=out_dir / MAP_NAME, warnings=tuple(warnings),
                               commands=tuple(commands), recorded=recorded)


def estimate_model_fit(board: Board, model_dir: Path,
                       options: BuildOptions = BuildOptions()) -> MemoryUse:
    """Compile the generated model alone with the board's flags and check it against the
    board (``check_model_fits``): the fit check of a build that needs more than gcc (west)."""
    model_dir = Path(model_dir).resolve()
    _check_tools()
    flags = [*board.compilation_flags, *COMMON_CFLAGS, *options.flags(),
             f"-I{FIRMWARE_DIR / 'runtime'}", f"-I{model_dir}"]
    with tempfile.TemporaryDirectory(prefix="kt-model-fit-") as scratch:
        names = PathNames(FIRMWARE_DIR, model_dir)
        objects = []
        for source in sorted(model_dir.glob("*.c")):
            obj = Path(scratch) / source.with_suffix(".o").name
            result = _run([CC, *flags, "-c", str(source), "-o", str(obj)], model_dir)
            if result.returncode != 0:
                raise _compile_failure(board, result.stderr, names)
            objects.append(obj)
        return check_model_fits(board, objects)


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
