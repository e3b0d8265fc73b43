"""simulate stage: boot the firmware in QEMU and stream the test split through it over UART."""

from __future__ import annotations

import functools
import subprocess
from typing import Any

from kenning_tasks.block import distribution_version
from kenning_tasks.stages import target_session
from kenning_tasks.stages.base import Stage, StageContext


def run(ctx: StageContext) -> None:
    from kenning_tasks.mcu import run_on_qemu

    def session(elf: Any, board: Any, inputs: list[bytes], timeout_s: float) -> Any:
        return run_on_qemu(elf, board, inputs, timeout_s=timeout_s)

    target_session.stream_test_split(ctx, session)


@functools.cache
def qemu_version() -> str:
    try:
        out = subprocess.run(["qemu-system-arm", "--version"], capture_output=True, text=True)
    except OSError:
        return "missing"
    return out.stdout.splitlines()[0] if out.stdout else "missing"


STAGE = Stage(
    name="simulate",
    doc="Run the firmware in QEMU; stream the test split over UART; record outputs and counts",
    run=run,
    outputs=lambda s: target_session.outputs("simulate"),
    inputs=target_session.inputs,
    parameters=target_session.parameters,
    modules=lambda s: ["kenning_tasks.stages.target_session", "kenning_tasks.mcu.qemu",
                       "kenning_tasks.mcu.link", "kenning_tasks.mcu.protocol"],
    tools=lambda s: {"qemu": qemu_version(), "pyserial": distribution_version("pyserial")},
)
