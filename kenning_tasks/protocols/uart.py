"""The framed UART protocol of firmware/app (see firmware/app/PROTOCOL.md), Kenning's name."""

from __future__ import annotations

from kenning_tasks.params import Param
from kenning_tasks.protocols.base import Protocol


class UARTProtocol(Protocol):
    """Framed DATA/PROCESS/OUTPUT/STATS messages over a serial port (pyserial)."""

    REQUIRES = ("pyserial",)
    # Kenning's parameters and defaults (kenning.protocols.uart.UARTProtocol). Kenning requires
    # ``port``; here it may be left out: QEMU boards are reached through the simulator's
    # socket and real boards through the port matching their platforms.yml wildcard.
    PARAMETERS = (
        Param("port", str, None, "serial device of a real board (e.g. /dev/ttyACM0); null = "
              "the simulator's socket (QEMU) or the board's uart_port_wildcard", nullable=True),
        Param("baudrate", int, 9600, "baud rate (Kenning's default 9600); null takes the "
              "board's uart_baudrate from platforms.yml", nullable=True, minimum=300,
              maximum=12_000_000),
        Param("timeout", int, -1, "Kenning: seconds to wait for each response; -1 waits as "
              "long as timeout_s allows", only=(-1,),
              only_reason="per-response timeouts are not supported; nearest: timeout_s (the "
              "limit for the whole session)"),
        Param("error_recovery", bool, False, "Kenning: retransmit corrupted messages",
              only=(False,), only_reason="the framed protocol reports a corrupted message as an "
              "error instead; nearest: false"),
        # This project's extra.
        Param("timeout_s", float, 600.0, "limit for the whole test-set session",
              minimum=1.0, maximum=86_400.0),
    )
