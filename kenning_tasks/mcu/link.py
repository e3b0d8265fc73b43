"""Host client of the target protocol over pyserial (a QEMU TCP socket or a real serial port)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kenning_tasks.errors import StageError
from kenning_tasks.mcu.protocol import (
    MAX_PAYLOAD,
    OFFSET,
    PING_INFO,
    PROTOCOL_VERSION,
    TICKS,
    Frame,
    FrameDecoder,
    MessageType,
    describe_error,
    encode_frame,
    parse_ping_info,
    parse_stats,
)


class TargetTimeout(StageError):
    """The target did not answer in time (hung, crashed or not running our firmware)."""


class TargetError(StageError):
    """The target answered with ERROR, or with a reply that makes no sense for the request."""


class ProtocolVersionError(StageError):
    """Host and target speak incompatible protocol versions."""


@dataclass
class TargetRun:
    outputs: list[bytes]          # raw int8 output tensor bytes per sample
    instructions: list[int]       # per inference: instructions (QEMU icount) or core cycles
    uart_bytes_sent: int
    uart_bytes_received: int
    seconds: float
    target_info: dict = field(default_factory=dict)


class TargetLink:
    """Request/response session with the firmware over a pyserial port object."""

    def __init__(self, port: Any, label: str = "target") -> None:
        self.port = port
        self.label = label
        self.decoder = FrameDecoder()
        self._frames: deque[Frame] = deque()
        self.bytes_sent = 0
        self.bytes_received = 0
        self.info: dict | None = None

    # -- raw I/O ---------------------------------------------------------------------------
    def write(self, data: bytes) -> None:
        self.port.write(data)
        self.port.flush()
        self.bytes_sent += len(data)

    def discard_input(self) -> None:
        """Forget everything received so far (stale replies, banner text)."""
        self._frames.clear()
        while True:
            waiting = self.port.in_waiting
            if not waiting:
                break
            self._ingest(self.port.read(waiting))
        self._frames.clear()

    def _ingest(self, data: bytes) -> None:
        self.bytes_received += len(data)
        self._frames.extend(self.decoder.feed(data))

    def receive(self, timeout_s: float, waiting_for: str = "a reply") -> Frame:
        """Next frame from the target; TargetTimeout if none arrives within ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while not self._frames:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TargetTimeout(
                    f"{self.label} did not answer {waiting_for} within {timeout_s:.1f} s "
                    "(target hung, crashed or not running the kenning-tasks firmware)"
                )
            self.port.timeout = min(remaining, 0.05)
            data = self.port.read(max(1, self.port.in_waiting))
            if data:
                self._ingest(data)
        frame = self._frames.popleft()
        if frame.version != PROTOCOL_VERSION:
            raise ProtocolVersionError(
                f"{self.label} speaks protocol v{frame.version}, this host speaks "
                f"v{PROTOCOL_VERSION}; rebuild the firmware with this version of kenning-tasks"
            )
        return frame

    def request(self, msg_type: MessageType, payload: bytes = b"",
                timeout_s: float = 5.0) -> Frame:
        """Send one message and return the reply; ERROR replies raise TargetError."""
        self.discard_input()
        self.write(encode_frame(msg_type, payload))
        reply = self.receive(timeout_s, waiting_for=msg_type.name)
        if reply.type == MessageType.ERROR:
            raise TargetError(
                f"{self.label} refused {msg_type.name}: {describe_error(reply.payload)}"
            )
        return reply

    # -- protocol operations ---------------------------------------------------------------
    def handshake(self, timeout_s: float = 10.0, attempt_s: float = 0.5) -> dict:
        """PING until the target answers OK; returns its info (versions, tensor sizes, ...).

        Retries because the first bytes can be lost while a port opens, and the target may be
        busy reporting garbage (e.g. the end of its boot banner echoing a half-open link).
        """
        deadline = time.monotonic() + timeout_s
        last_error = "no reply"
        while time.monotonic() < deadline:
            self.discard_input()
            self.write(encode_frame(MessageType.PING))
            try:
                reply = self.receive(min(attempt_s, max(0.01, deadline - time.monotonic())), "PING")
            except TargetTimeout:
                continue
            if reply.type == MessageType.OK and len(reply.payload) >= PING_INFO.size:
                self.info = parse_ping_info(reply.payload)
                # A late answer to an earlier PING may still be on its way.
                time.sleep(0.02)
                self.discard_input()
                return self.info
            last_error = f"{reply.kind} {describe_error(reply.payload)}"
        raise TargetTimeout(
            f"{self.label} did not answer PING within {timeout_s:.1f} s (last: {last_error})"
        )

    def _expect(self, reply: Frame, msg_type: MessageType, size: int | None, what: str) -> bytes:
        if reply.type != msg_type or (size is not None and len(reply.payload) != size):
            raise TargetError(f"{self.label} sent {reply.kind} of {len(reply.payload)} B "
                              f"in reply to {what}")
        return reply.payload

    def send_input(self, data: bytes, timeout_s: float = 5.0) -> None:
        """Transfer one input tensor in DATA chunks that fit the target's payload limit."""
        max_payload = (self.info or {}).get("max_payload", MAX_PAYLOAD)
        chunk = max_payload - OFFSET.size
        for offset in range(0, max(len(data), 1), chunk):
            part = data[offset:offset + chunk]
            reply = self.request(MessageType.DATA, OFFSET.pack(offset) + part, timeout_s)
            (filled,) = OFFSET.unpack(self._expect(reply, MessageType.OK, OFFSET.size, "DATA"))
            if filled != offset + len(part):
                raise TargetError(f"{self.label} holds {filled} B of input after DATA "
                                  f"at offset {offset}")

    def process(self, timeout_s: float = 30.0) -> int:
        """Run one inference; returns its duration in target ticks."""
        reply = self.request(MessageType.PROCESS, b"", timeout_s)
        (ticks,) = TICKS.unpack(self._expect(reply, MessageType.OK, TICKS.size, "PROCESS"))
        return ticks

    def read_output(self, size: int, timeout_s: float = 5.0) -> bytes:
        out = bytearray()
        while len(out) < size:
            reply = self.request(MessageType.OUTPUT, OFFSET.pack(len(out)), timeout_s)
            payload = self._expect(reply, MessageType.OUTPUT, None, "OUTPUT")
            (offset,) = OFFSET.unpack_from(payload)
            if offset != len(out) or len(payload) == OFFSET.size:
                raise TargetError(f"{self.label} returned output at offset {offset}, "
                                  f"expected {len(out)}")
            out += payload[OFFSET.size:]
        return bytes(out[:size])

    def stats(self, timeout_s: float = 5.0) -> dict:
        reply = self.request(MessageType.STATS, b"", timeout_s)
        return parse_stats(self._expect(reply, MessageType.STATS, None, "STATS"))


def run_session(link: TargetLink, inputs: Sequence[bytes], timeout_s: float,
                ns_per_tick_is_instruction: bool) -> TargetRun:
    """Handshake, then DATA/PROCESS/OUTPUT per sample, then STATS; all within ``timeout_s``.

    With ``ns_per_tick_is_instruction`` (QEMU with -icount shift=0, 1 instruction = 1 ns of
    virtual time) ticks are converted to instructions; otherwise they are core clock cycles.
    """
    start = time.monotonic()
    deadline = start + timeout_s

    def left() -> float:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TargetTimeout(f"{link.label} did not finish {len(inputs)} inference(s) "
                                f"within {timeout_s:.1f} s")
        return remaining

    info = link.handshake(timeout_s=min(10.0, left()))
    outputs: list[bytes] = []
    instructions: list[int] = []
    for index, sample in enumerate(inputs):
        if len(sample) != info["input_bytes"]:
            raise StageError(f"sample {index} has {len(sample)} B but the firmware's model "
                             f"takes {info['input_bytes']} B")
        link.send_input(bytes(sample), timeout_s=left())
        ticks = link.process(timeout_s=left())
        outputs.append(link.read_output(info["output_bytes"], timeout_s=left()))
        if ns_per_tick_is_instruction:
            instructions.append(round(ticks * 1e9 / info["tick_hz"]))
        else:
            instructions.append(ticks)
    stats = link.stats(timeout_s=left())
    target_info = {**info, "stats": stats,
                   "timing_unit": "instructions" if ns_per_tick_is_instruction else "cycles"}
    return TargetRun(
        outputs=outputs, instructions=instructions, uart_bytes_sent=link.bytes_sent,
        uart_bytes_received=link.bytes_received, seconds=time.monotonic() - start,
        target_info=target_info,
    )


def open_serial(port: str, baudrate: int) -> Any:
    """Open a serial device (or any pyserial URL) with an 8N1 setting and no flow control."""
    import serial

    try:
        return serial.serial_for_url(port, baudrate=baudrate, timeout=0.05)
    except (serial.SerialException, OSError) as exc:
        raise StageError(f"cannot open serial port {port}: {exc}") from exc


def run_on_serial(port: str, baudrate: int, inputs: Sequence[bytes],
                  timeout_s: float = 60.0) -> TargetRun:
    """Run ``inputs`` on a board that runs the firmware, connected at ``port``."""
    ser = open_serial(port, baudrate)
    try:
        return run_session(TargetLink(ser, label=f"target at {port}"), inputs, timeout_s,
                           ns_per_tick_is_instruction=False)
    finally:
        ser.close()
