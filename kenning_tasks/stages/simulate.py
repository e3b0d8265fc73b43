"""simulate stage: boot the firmware in QEMU and stream the test split through it over UART."""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path
from typing import Any

from kenning_tasks.block import distribution_version
from kenning_tasks.scenario import Scenario
from kenning_tasks.stages import target_session
from kenning_tasks.stages.base import Phase, Stage, StageContext


def run(ctx: StageContext) -> None:
    from kenning_tasks.mcu import run_on_qemu

    def session(elf: Path, board: Any, inputs: list[bytes], timeout_s: float,
                process_s: float) -> Any:
        # QEMU's PID file goes to the stage folder: a later run stops it if it survived us.
        return run_on_qemu(elf, board, inputs, timeout_s=timeout_s, pid_dir=ctx.out_dir,
                           process_s=process_s)

    target_session.stream_test_split(ctx, session)


def parameters(scenario: Scenario) -> dict[str, Any]:
    """What the outputs depend on besides the input files: the board QEMU emulates.

    The session limit (``timeout_s``) is not here: it decides whether the session finishes,
    never what it writes, and a failed session leaves no outputs to reuse.
    """
    from kenning_tasks.mcu.timing import icount_shift

    board = scenario.board
    return {"board": board.name, "qemu_machine": board.qemu_machine,
            "icount_shift": icount_shift(board)}


@functools.cache
def qemu_version() -> str:
    try:
        out = subprocess.run(["qemu-system-arm", "--version"], capture_output=True, text=True)
    except OSError:
        return "missing"
    return out.stdout.splitlines()[0] if out.stdout else "missing"


STAGE = Stage(
    name="simulate",
    phase=Phase.TARGET,
    applies=lambda s: "simulate" in s.target_stages(),
    doc="Run the firmware in QEMU; stream the test split over UART; record outputs and counts",
    run=run,
    outputs=lambda s: target_session.outputs("simulate"),
    inputs=target_session.inputs,
    parameters=parameters,
    tools=lambda s: {"qemu": qemu_version(), "pyserial": distribution_version("pyserial")},
)
