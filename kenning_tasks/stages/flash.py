"""flash stage: program a real board with OpenOCD, then stream the test split over its UART.

Untested here (no board is attached to the machines this project is developed on).
"""

from __future__ import annotations

import glob
from pathlib import Path
from typing import Any

from kenning_tasks.errors import StageError
from kenning_tasks.scenario import Scenario
from kenning_tasks.stages import target_session
from kenning_tasks.stages.base import Phase, Stage, StageContext


def serial_port(scenario: Scenario, board: Any) -> str:
    """The protocol block's port, or the single device matching the board's wildcard."""
    if scenario.protocol is not None and scenario.protocol.parameters["port"]:
        return scenario.protocol.parameters["port"]
    matches = sorted(glob.glob(board.uart_port_wildcard or ""))
    if len(matches) != 1:
        raise StageError(f"{scenario.path}: protocol.parameters.port: not set and "
                         f"{len(matches)} devices match {board.uart_port_wildcard!r}; "
                         "set the board's serial port")
    return matches[0]


def baudrate(scenario: Scenario, board: Any) -> int:
    """The protocol block's baud rate, else the board's ``uart_baudrate``."""
    if scenario.protocol is not None and scenario.protocol.parameters["baudrate"]:
        return scenario.protocol.parameters["baudrate"]
    return board.uart_baudrate


def run(ctx: StageContext) -> None:
    from kenning_tasks.mcu import flash_openocd, run_on_serial

    def session(elf: Path, board: Any, inputs: list[bytes], timeout_s: float,
                process_s: float) -> Any:
        if ctx.scenario.platform.parameters.get("auto_flash", True):
            flash_openocd(board, elf)
        else:  # Kenning's auto_flash: false means the board is already flashed
            ctx.log(f"auto_flash is false: assuming {board.name} already runs {elf.name}")
        return run_on_serial(serial_port(ctx.scenario, board), baudrate(ctx.scenario, board),
                             inputs, timeout_s=timeout_s, board=board.firmware_name,
                             process_s=process_s)

    target_session.stream_test_split(ctx, session)


def parameters(scenario: Scenario) -> dict[str, Any]:
    """What the session uses besides the input files: the board, its port and baud rate.

    As for simulate, the session limit (``timeout_s``) only decides success, so it is not here.
    """
    board = scenario.board
    port = scenario.protocol.parameters["port"] if scenario.protocol is not None else None
    return {"board": board.name, "port": port or board.uart_port_wildcard,
            "baudrate": baudrate(scenario, board),
            "openocd_flash_cmd": list(board.openocd_flash_cmd)}


STAGE = Stage(
    name="flash",
    phase=Phase.TARGET,
    applies=lambda s: "flash" in s.target_stages(),
    doc="Flash a real board (OpenOCD) and stream the test split over its UART",
    run=run,
    outputs=lambda s: target_session.outputs("flash"),
    inputs=target_session.inputs,
    parameters=parameters,
    # The board's state is not an input doit can see: never restore a flash from the cache.
    cacheable=False,
)
