"""``python -m kenning_tasks debug scenario=NAME``: a scenario's firmware in QEMU, halted, with gdb.

Brings the scenario's firmware stage up to date (doit, as ``doit scenario=NAME firmware``
would), starts the board's QEMU machine halted at the reset vector (``-S``) with a gdb stub on
a local port (``-gdb tcp:127.0.0.1:PORT``) and the UART on another, prints the command that
attaches gdb to ``firmware.debug.elf``, and stops QEMU by its PID when the user presses
Ctrl-C, when QEMU exits, or when this process is terminated. Timing is the same as in the
simulate stage (``-icount``), so the counts a debugged firmware reports are the stage's.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kenning_tasks.errors import KenningTasksError, StageError
from kenning_tasks.mcu.boards import Board
from kenning_tasks.mcu.qemu import QemuTarget, free_port, icount_shift

GDBS = ("gdb-multiarch", "arm-none-eabi-gdb")


def gdb_command(debug_elf: Path, port: int, gdb: str | None = None) -> list[str]:
    """The command that attaches gdb to the halted QEMU (the first gdb found on PATH)."""
    gdb = gdb or next((name for name in GDBS if shutil.which(name)), GDBS[0])
    return [gdb, "-q", str(debug_elf), "-ex", f"target remote 127.0.0.1:{port}"]


@contextmanager
def halted_qemu(elf: Path, board: Board, gdb_port: int | None = None,
                pid_dir: Path | None = None) -> Iterator[tuple[QemuTarget, int]]:
    """QEMU running ``elf`` on the board's machine, halted at reset, its gdb stub on
    ``gdb_port`` (a free one by default); yields (the QEMU, the port). Stopped on exit."""
    if not board.qemu_machine:
        raise StageError(f"board {board.name} has no QEMU machine to debug in; attach gdb to "
                         "the real board through its debug probe (OpenOCD) instead")
    port = gdb_port or free_port()
    qemu = QemuTarget(elf, board.qemu_machine, pid_dir=pid_dir, shift=icount_shift(board),
                      extra_args=("-S", "-gdb", f"tcp:127.0.0.1:{port}"),
                      wait_for_client=False)
    with qemu:
        yield qemu, port


def _scenario_firmware(spec: str) -> tuple[Any, Path, Board]:
    """(the scenario, its firmware stage folder, its board) for one plain embedded scenario."""
    from kenning_tasks.graph import Graph

    graph = Graph(spec)
    if len(graph.pipelines) != 1 or graph.pipelines[0].scenario.variant is not None:
        names = ", ".join(p.name for p in graph.pipelines)
        raise KenningTasksError(f"debug takes one scenario (not a grid or a list), got {names}")
    pipeline = graph.pipelines[0]
    if "firmware" not in pipeline.task_names:
        raise KenningTasksError(f"scenario {pipeline.name} has no firmware stage: its platform "
                                "is not a board (debug needs QEMUPlatform or BareMetalPlatform)")
    board = pipeline.scenario.board  # a simulated real board: its QEMU stand-in
    return pipeline, pipeline.path("firmware"), board


def _bring_up_to_date(spec: str, task: str) -> None:
    from kenning_tasks.layout import layout

    dodo = layout().root / "dodo.py"
    if not dodo.is_file():
        return  # a project without dodo.py: use what is built
    result = subprocess.run([sys.executable, "-m", "doit", "-f", str(dodo), f"scenario={spec}",
                             task], cwd=layout().root)
    if result.returncode != 0:
        raise KenningTasksError(f"the firmware stage failed (doit {task}); see above")


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "debug", help="run a scenario's firmware in QEMU, halted, with a gdb stub")
    parser.add_argument("args", nargs=1, metavar="scenario=NAME")
    parser.add_argument("--gdb-port", type=int, default=None,
                        help="TCP port of the gdb stub on 127.0.0.1 (default: a free one)")
    parser.add_argument("--no-build", action="store_true",
                        help="use the firmware as built; do not run its stage first")


def run(options: argparse.Namespace, out: Callable[[str], None] = print) -> int:
    arg = options.args[0]
    if not arg.startswith("scenario="):
        raise KenningTasksError(f"debug: expected scenario=NAME, got {arg!r}")
    spec = arg.partition("=")[2]
    pipeline, folder, board = _scenario_firmware(spec)
    if not options.no_build:
        _bring_up_to_date(spec, pipeline.task_names["firmware"])
    elf, debug_elf = folder / "firmware.elf", folder / "firmware.debug.elf"
    if not debug_elf.is_file():
        raise KenningTasksError(f"{debug_elf} does not exist; build it: doit scenario={spec} "
                                "firmware")
    # SIGTERM (a CI runner, kill PID) stops QEMU the same way Ctrl-C does.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        with halted_qemu(elf, board, options.gdb_port, pid_dir=folder.parent / "debug") \
                as (qemu, port):
            out(f"QEMU {board.qemu_machine} (PID {qemu.pid}) is halted at the reset vector of "
                f"{board.name}'s firmware; gdb stub on 127.0.0.1:{port}.")
            out("Attach:  " + " ".join(_quoted(gdb_command(debug_elf, port))))
            out(f"UART:    socket://127.0.0.1:{qemu.port} (the kenning-tasks protocol, "
                "firmware/app/PROTOCOL.md)")
            out("Ctrl-C stops QEMU.")
            try:
                code = qemu.process.wait() if qemu.process else 0
            except KeyboardInterrupt:
                out("stopping QEMU")
                return 130
            out(f"QEMU exited with status {code}")
            return 0
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _quoted(args: list[str]) -> list[str]:
    return [f"'{a}'" if " " in a else a for a in args]
