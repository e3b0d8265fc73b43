"""The framed UART protocol of firmware/app (see firmware/app/PROTOCOL.md)."""

from __future__ import annotations

from kenning_tasks.params import Param
from kenning_tasks.protocols.base import Protocol


class UARTProtocol(Protocol):
    """Framed DATA/PROCESS/OUTPUT/STATS messages over a serial port (pyserial)."""

    REQUIRES = ("pyserial",)
    PARAMETERS = (
        Param("port", str, None, "serial device of a real board (e.g. /dev/ttyACM0); under "
              "QEMU the simulator's socket is used and this must stay null", nullable=True),
        Param("baudrate", int, None, "baud rate; null takes the board's uart_baudrate from "
              "platforms.yml", nullable=True, minimum=300, maximum=12_000_000),
        Param("timeout_s", float, 600.0, "limit for the whole test-set session",
              minimum=1.0, maximum=86_400.0),
    )
