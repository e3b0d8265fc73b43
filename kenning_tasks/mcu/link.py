"""Host client of the target protocol over pyserial (a QEMU TCP socket or a real serial port).

Deadlines: every request has its own, derived from the bytes it moves at the link's speed
plus a latency allowance (``LinkTiming``); the session's limit only bounds the total. A lost,
damaged or stale reply is a *link fault*: the host waits for the line to go quiet, forgets
what it received, and runs the whole sample again (DATA, PROCESS, OUTPUT), a bounded number
of times. What the firmware refuses for a reason a retry cannot change (another protocol
version, a failed inference, a request it does not understand) stops the session at once.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kenning_tasks import live_progress
from kenning_tasks.errors import StageError
from kenning_tasks.mcu.protocol import (
    CRC_BYTES,
    HEADER_BYTES,
    MAX_PAYLOAD,
    OFFSET,
    OPS_HEADER,
    OPS_READING,
    PING_INFO,
    PROTOCOL_VERSION,
    STATS,
    TICKS,
    ErrorCode,
    Frame,
    FrameDecoder,
    MessageType,
    describe_error,
    encode_frame,
    parse_error,
    parse_ping_info,
    parse_stats,
)
from kenning_tasks.mcu.timing import ticks_to_instructions


class TargetTimeout(StageError):
    """The target did not answer in time (hung, crashed or not running our firmware)."""


class TargetError(StageError):
    """The target refused a request, or the session cannot go on."""


class TargetRefused(TargetError):
    """The target answered a request with ERROR; ``code`` is its ErrorCode value."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


class ProtocolVersionError(StageError):
    """Host and target speak incompatible protocol versions."""


class LinkLost(StageError):
    """The connection itself failed: QEMU exited, the serial port vanished."""


class SessionTimeout(TargetTimeout):
    """The session's overall limit is reached."""


class LinkFault(Exception):
    """A lost, damaged or unexpected reply: the sample is worth retrying (internal)."""


# ERROR codes that a damaged, lost or duplicated frame can cause: the request is retried.
RETRYABLE_ERRORS = frozenset({ErrorCode.GARBAGE, ErrorCode.BAD_CRC, ErrorCode.TIMEOUT,
                              ErrorCode.INPUT_INCOMPLETE, ErrorCode.NO_OUTPUT})


@dataclass(frozen=True)
class LinkTiming:
    """How long one request may take, derived from its frame sizes and the link's speed.

    ``bytes_per_s`` is the line rate (8N1: baud / 10). The allowance is ``latency_s`` (round
    trip and scheduling on a loaded host) + ``margin`` × the transfer time at the line rate
    (+ the inference time for PROCESS). ``quiet_s`` is the silence that ends a resync: longer
    than the firmware's own timeouts (100 ms inside a frame, 20 ms after garbage, each up to
    one 42 ms SysTick period late), so the target has given up on a broken frame before the
    host sends again.
    """

    bytes_per_s: float
    latency_s: float = 2.0
    margin: float = 4.0
    quiet_s: float = 0.5
    retries: int = 3            # extra attempts per sample (and for the handshake and STATS)

    @classmethod
    def for_baudrate(cls, baudrate: int, **overrides: Any) -> LinkTiming:
        return cls(bytes_per_s=baudrate / 10, **overrides)

    def exchange_s(self, sent: int, received: int, compute_s: float = 0.0) -> float:
        return self.latency_s + self.margin * (sent + received) / self.bytes_per_s + compute_s


@dataclass
class TargetRun:
    outputs: list[bytes]          # raw int8 output tensor bytes per sample
    ticks: list[int]              # per inference, in target ticks (PROCESS replies)
    instructions: list[int]       # per inference: instructions (QEMU icount) or core cycles
    uart_bytes_sent: int          # bytes of the session without its faults and retries
    uart_bytes_received: int
    seconds: float
    target_info: dict = field(default_factory=dict)   # facts that follow from the firmware
    # Per kernel call of the last inference (model.c's order): instructions or cycles; empty
    # when the firmware records no per-operator readings (PROTOCOL.md, Per-operator timing).
    op_counts: list[int] = field(default_factory=list)
    log: dict = field(default_factory=dict)           # what varies run to run (run-log.json)


def frame_bytes(payload: int) -> int:
    return HEADER_BYTES + payload + CRC_BYTES


class TargetLink:
    """Request/response session with the firmware over a pyserial port object.

    ``alive(grace_s)`` (optional) is called when the port fails or a reply is missing; it
    raises a ``LinkLost`` saying what happened to the target ("QEMU exited with status -9"),
    waiting up to ``grace_s`` for that to become visible.
    ``phase`` names what the session is doing, for messages ("sample 17").
    """

    def __init__(self, port: Any, label: str = "target", timing: LinkTiming | None = None,
                 alive: Callable[[float], None] | None = None) -> None:
        self.port = port
        self.label = label
        self.timing = timing or LinkTiming.for_baudrate(115200)
        self.alive = alive
        self.phase = "the session"
        self.decoder = FrameDecoder()
        self._frames: deque[Frame] = deque()
        self.bytes_sent = 0  # everything written and read, retries and garbage included
        self.bytes_received = 0
        self.info: dict | None = None
        self.last_reply = "none"
        self.deadline: float | None = None  # the session's end: no request waits past it

    # -- raw I/O ---------------------------------------------------------------------------
    def _port_failed(self, exc: Exception) -> LinkLost:
        if self.alive is not None:
            self.alive(2.0)  # raises when the target process is gone
        detail = str(exc).strip() or type(exc).__name__
        return LinkLost(f"{self.label}: connection lost during {self.phase}: {detail}")

    def write(self, data: bytes) -> None:
        """Send ``data`` in one write: the firmware's inter-byte timeout never sees our pace."""
        try:
            self.port.write(data)
            self.port.flush()
        except _port_errors() as exc:
            raise self._port_failed(exc) from None
        self.bytes_sent += len(data)

    def _read(self, timeout_s: float) -> bytes:
        try:
            self.port.timeout = max(0.0, min(timeout_s, 0.05))
            return self.port.read(max(1, self.port.in_waiting))
        except _port_errors() as exc:
            raise self._port_failed(exc) from None

    def _ingest(self, data: bytes) -> None:
        self.bytes_received += len(data)
        self._frames.extend(self.decoder.feed(data))

    def discard_input(self) -> None:
        """Forget everything received so far (stale replies, banner text)."""
        self._frames.clear()
        while True:
            try:
                waiting = self.port.in_waiting
            except _port_errors() as exc:
                raise self._port_failed(exc) from None
            if not waiting:
                break
            self._ingest(self._read(0.0))
        self._frames.clear()

    def resync(self, max_s: float = 10.0) -> None:
        """Wait until the line has been quiet for ``timing.quiet_s``, then forget it all.

        After a broken exchange the target may still be waiting for the rest of a frame,
        or about to report garbage: once it has been silent that long it is back to looking
        for a header, and nothing left over can be taken for the next reply.
        """
        deadline = time.monotonic() + max_s
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < self.timing.quiet_s:
            if time.monotonic() > deadline:
                raise TargetError(f"{self.label} kept sending for {max_s:.0f} s during "
                                  f"{self.phase} (last reply: {self.last_reply})")
            if self._read(self.timing.quiet_s):
                quiet_since = time.monotonic()
        self._frames.clear()
        self.decoder.reset()

    def receive(self, timeout_s: float, waiting_for: str = "a reply") -> Frame:
        """Next frame from the target; TargetTimeout if none arrives within ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while not self._frames:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                if self.alive is not None:
                    self.alive(0.0)
                raise TargetTimeout(f"{self.label}: no reply to {waiting_for} within "
                                    f"{timeout_s:.1f} s during {self.phase}")
            data = self._read(remaining)
            if data:
                self._ingest(data)
        frame = self._frames.popleft()
        if frame.version != PROTOCOL_VERSION:
            raise ProtocolVersionError(
                f"{self.label} speaks protocol v{frame.version}, this host speaks "
                f"v{PROTOCOL_VERSION}; rebuild the firmware with this version of kenning-tasks"
            )
        self.last_reply = describe_frame(frame)
        return frame

    def request(self, msg_type: MessageType, payload: bytes = b"",
                timeout_s: float | None = None, reply_bytes: int = 16,
                compute_s: float = 0.0) -> Frame:
        """Send one message and return the reply; an ERROR reply raises TargetError.

        The default deadline is the one ``timing`` derives from the frame sizes.
        """
        frame = encode_frame(msg_type, payload)
        if timeout_s is None:
            timeout_s = self.timing.exchange_s(len(frame), frame_bytes(reply_bytes), compute_s)
        if self.deadline is not None:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise SessionTimeout(f"{self.label} did not finish within the session limit "
                                     f"(during {self.phase})")
            timeout_s = min(timeout_s, left)
        self.discard_input()
        self.write(frame)
        reply = self.receive(timeout_s, waiting_for=msg_type.name)
        if reply.type == MessageType.ERROR:
            raise TargetRefused(
                f"{self.label} refused {msg_type.name}: {describe_error(reply.payload)}",
                parse_error(reply.payload)[0],
            )
        return reply

    # -- protocol operations ---------------------------------------------------------------
    def handshake(self, timeout_s: float = 10.0, attempt_s: float = 1.0) -> dict:
        """PING until the target answers OK; returns its info (versions, tensor sizes, ...).

        PING is sent again after ``attempt_s`` without an answer (the first bytes can be lost
        while a port opens), but what arrives is never thrown away between attempts: PING is
        idempotent, so a late OK to an earlier PING is as good, and a reply of another
        protocol version is decisive whenever it comes. (Discarding input before each retry
        used to drop exactly that reply: a firmware of another version answered only once
        the line had been quiet for 20 ms of its virtual time, which under QEMU's -icount was
        ~0.5 s of real time, just as long as the host waited before retrying.)
        """
        deadline = time.monotonic() + timeout_s
        self.phase = "the handshake"
        self.discard_input()
        pings = 0
        last = "no reply"
        while time.monotonic() < deadline:
            self.write(encode_frame(MessageType.PING))
            pings += 1
            attempt_end = min(deadline, time.monotonic() + attempt_s)
            while (left := attempt_end - time.monotonic()) > 0:
                try:
                    reply = self.receive(left, "PING")
                except TargetTimeout:
                    break
                if reply.type == MessageType.OK and len(reply.payload) >= PING_INFO.size:
                    self.info = parse_ping_info(reply.payload)
                    if pings > 1:
                        self.resync()  # more OKs to earlier PINGs may still come
                    return self.info
                last = describe_frame(reply)  # e.g. ERROR(GARBAGE) after the boot banner
        raise TargetTimeout(
            f"{self.label} did not answer PING within {timeout_s:.1f} s (last: {last}; "
            "target hung, crashed or not running the kenning-tasks firmware)"
        )

    def _expect(self, reply: Frame, msg_type: MessageType, size: int | None, what: str) -> bytes:
        if reply.type != msg_type or (size is not None and len(reply.payload) != size):
            raise LinkFault(f"{describe_frame(reply)} of {len(reply.payload)} B in reply "
                            f"to {what}")
        return reply.payload

    def send_input(self, data: bytes, timeout_s: float | None = None) -> None:
        """Transfer one input tensor in DATA chunks that fit the target's payload limit."""
        max_payload = (self.info or {}).get("max_payload", MAX_PAYLOAD)
        chunk = max_payload - OFFSET.size
        for offset in range(0, max(len(data), 1), chunk):
            part = data[offset:offset + chunk]
            reply = self.request(MessageType.DATA, OFFSET.pack(offset) + part, timeout_s,
                                 reply_bytes=OFFSET.size)
            (filled,) = OFFSET.unpack(self._expect(reply, MessageType.OK, OFFSET.size, "DATA"))
            if filled != offset + len(part):
                raise LinkFault(f"target holds {filled} B of input after DATA at offset "
                                f"{offset}")

    def process(self, timeout_s: float | None = None, compute_s: float = 0.0) -> int:
        """Run one inference; returns its duration in target ticks."""
        reply = self.request(MessageType.PROCESS, b"", timeout_s, reply_bytes=TICKS.size,
                             compute_s=compute_s)
        (ticks,) = TICKS.unpack(self._expect(reply, MessageType.OK, TICKS.size, "PROCESS"))
        return ticks

    def read_output(self, size: int, timeout_s: float | None = None) -> bytes:
        max_payload = (self.info or {}).get("max_payload", MAX_PAYLOAD)
        out = bytearray()
        while len(out) < size:
            expected = min(size - len(out), max_payload - OFFSET.size)
            reply = self.request(MessageType.OUTPUT, OFFSET.pack(len(out)), timeout_s,
                                 reply_bytes=OFFSET.size + expected)
            payload = self._expect(reply, MessageType.OUTPUT, OFFSET.size + expected, "OUTPUT")
            (offset,) = OFFSET.unpack_from(payload)
            if offset != len(out):
                raise LinkFault(f"output at offset {offset} in reply to OUTPUT at "
                                f"{len(out)}")
            out += payload[OFFSET.size:]
        return bytes(out)

    def op_readings(self, timeout_s: float | None = None) -> list[int]:
        """The tick readings at each operator boundary of the last inference, in ticks since
        its section started (OPS requests until all have come)."""
        max_payload = (self.info or {}).get("max_payload", MAX_PAYLOAD)
        per_reply = (max_payload - OPS_HEADER.size) // OPS_READING.size
        readings: list[int] = []
        total = None
        while total is None or len(readings) < total:
            expected = per_reply if total is None else min(per_reply, total - len(readings))
            reply = self.request(MessageType.OPS, OFFSET.pack(len(readings)), timeout_s,
                                 reply_bytes=OPS_HEADER.size + OPS_READING.size * expected)
            payload = self._expect(reply, MessageType.OPS, None, "OPS")
            first, count = OPS_HEADER.unpack_from(payload)
            body = payload[OPS_HEADER.size:]
            if (first != len(readings) or len(body) % OPS_READING.size
                    or len(body) != OPS_READING.size * min(per_reply, count - first)):
                raise LinkFault(f"OPS reply of {len(payload)} B from reading {first} of "
                                f"{count} in reply to OPS at {len(readings)}")
            total = count
            readings += [v for (v,) in OPS_READING.iter_unpack(body)]
        return readings

    def stats(self, timeout_s: float | None = None) -> dict:
        reply = self.request(MessageType.STATS, b"", timeout_s, reply_bytes=STATS.size)
        return parse_stats(self._expect(reply, MessageType.STATS, STATS.size, "STATS"))


def describe_frame(frame: Frame) -> str:
    if frame.type == MessageType.ERROR:
        return f"ERROR {describe_error(frame.payload)}"
    return frame.kind


def _port_errors() -> tuple[type[Exception], ...]:
    """What a port raises when its line goes away. termios.error is not an OSError: pyserial's
    flush() (tcdrain) raises it when the other end of a pty has closed."""
    import termios

    try:
        from serial import SerialException
    except ImportError:  # pragma: no cover - pyserial is a requirement of every target block
        return (OSError, termios.error)
    return (OSError, SerialException, termios.error)


class _Session:
    """One run of the test samples through a ``TargetLink``: retries, counts and the summary."""

    def __init__(self, link: TargetLink, timeout_s: float, process_s: float) -> None:
        self.link = link
        self.timeout_s = timeout_s
        self.deadline = link.deadline = time.monotonic() + timeout_s
        self.process_s = process_s       # allowance for one inference, until one was timed
        self.slowest_process_s = 0.0
        self.retries = 0
        self.faults: list[str] = []
        self.received_at_first_fault = 0

    def left(self) -> float:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            last = f"; last: {self.faults[-1]}" if self.faults else ""
            raise SessionTimeout(f"{self.link.label} did not finish within the session limit "
                                 f"of {self.timeout_s:.1f} s (during {self.link.phase}{last})")
        return remaining

    def attempt(self, what: str, operation: Callable[[], Any]) -> Any:
        """``operation`` with bounded retries on link faults; resyncs before each retry."""
        self.link.phase = what
        failures = 0
        while True:
            try:
                return operation()
            except (LinkFault, TargetTimeout, TargetRefused) as fault:
                failures = self._recover(what, fault, failures)

    def _recover(self, what: str, fault: Exception, failures: int) -> int:
        """Count a fault; re-raise it if no retry can help, else resync for the next try."""
        link = self.link
        if isinstance(fault, SessionTimeout) or (
                isinstance(fault, TargetRefused) and fault.code not in RETRYABLE_ERRORS):
            raise fault
        self.faults.append(f"{what}: {fault}")
        failures += 1
        if failures == 1:
            self.received_at_first_fault = link.bytes_received
        if failures > link.timing.retries:
            decoder = link.decoder
            silent = link.bytes_received == self.received_at_first_fault
            hint = ("; the target has sent nothing since the first: hung or crashed"
                    if silent else "")
            raise TargetError(
                f"{link.label}: {what} failed {failures} times{hint}; last: "
                f"{str(fault).removeprefix(link.label + ': ')} (bad frames "
                f"{decoder.bad_frames}, garbage bytes {decoder.garbage_bytes}, last reply: "
                f"{link.last_reply})"
            ) from None
        self.retries += 1
        link.resync(max_s=min(10.0, self.left()))
        return failures

    def run_sample(self, what: str, sample: bytes, output_bytes: int) -> tuple[bytes, int]:
        """DATA, PROCESS, OUTPUT for one sample; after a fault, resume where it is safe.

        DATA and OUTPUT are idempotent (the target keeps its input until PROCESS and its
        output until the next one), so they are simply sent again; after a fault in PROCESS
        the input may already be consumed, so the sample starts over from DATA.
        """
        link = self.link
        link.phase = what
        failures, step, ticks = 0, "DATA", 0
        while True:
            try:
                if step == "DATA":
                    link.send_input(sample)
                    step = "PROCESS"
                if step == "PROCESS":
                    # Up to ten times the slowest inference so far (none yet: the estimate).
                    compute = 10 * self.slowest_process_s or self.process_s
                    start = time.monotonic()
                    ticks = link.process(compute_s=compute)
                    self.slowest_process_s = max(self.slowest_process_s,
                                                 time.monotonic() - start)
                    step = "OUTPUT"
                return link.read_output(output_bytes), ticks
            except (LinkFault, TargetTimeout, TargetRefused) as fault:
                failures = self._recover(what, fault, failures)
                if step == "PROCESS":
                    step = "DATA"


def clean_session_bytes(info: dict, samples: int, op_readings: int = 0) -> tuple[int, int]:
    """Bytes (sent, received) of a session without faults: PING, per sample DATA chunks,
    PROCESS and OUTPUT chunks, then OPS and STATS. A function of the firmware and the inputs."""
    chunk = info["max_payload"] - OFFSET.size
    per_ops = (info["max_payload"] - OPS_HEADER.size) // OPS_READING.size
    ops_replies = [min(per_ops, op_readings - first)
                   for first in range(0, max(op_readings, 1), per_ops)]
    sent = frame_bytes(0) * 2 + len(ops_replies) * frame_bytes(OFFSET.size)  # PING, STATS, OPS
    received = (frame_bytes(PING_INFO.size + len(info["board"])) + frame_bytes(STATS.size)
                + sum(frame_bytes(OPS_HEADER.size + OPS_READING.size * n) for n in ops_replies))
    data_chunks = [min(chunk, info["input_bytes"] - offset)
                   for offset in range(0, max(info["input_bytes"], 1), chunk)]
    out_chunks = [min(chunk, info["output_bytes"] - offset)
                  for offset in range(0, info["output_bytes"], chunk)]
    per_sample_sent = (sum(frame_bytes(OFFSET.size + n) for n in data_chunks) + frame_bytes(0)
                       + len(out_chunks) * frame_bytes(OFFSET.size))
    per_sample_received = (len(data_chunks) * frame_bytes(OFFSET.size) + frame_bytes(TICKS.size)
                           + sum(frame_bytes(OFFSET.size + n) for n in out_chunks))
    return sent + samples * per_sample_sent, received + samples * per_sample_received


def run_session(link: TargetLink, inputs: Sequence[bytes], timeout_s: float,
                ns_per_instruction: int | None, board: str | None = None,
                process_s: float = 30.0) -> TargetRun:
    """Handshake, check the board, run DATA/PROCESS/OUTPUT per sample, then STATS.

    ``ns_per_instruction``: QEMU's virtual time per instruction (2^shift of -icount); ticks are
    then converted to instructions. None (hardware): counts stay core clock cycles.
    ``board``: the name the firmware must report (the scenario's board), checked after PING.
    ``process_s``: real time allowed for the first inference; later ones may take ten times
    the slowest seen. ``timeout_s`` bounds the whole session; each request has its own,
    shorter deadline (``link.timing``).
    """
    started = time.monotonic()
    session = _Session(link, timeout_s, process_s)
    # The handshake has its own retries (PING is idempotent) and its own limit.
    info = link.handshake(timeout_s=min(10.0, session.left()))
    if board is not None and info["board"] != board:
        raise StageError(f"{link.label} runs firmware built for board {info['board']!r}, "
                         f"but the scenario's board is {board!r}; flash or build the "
                         "firmware for this board")
    outputs: list[bytes] = []
    ticks: list[int] = []
    for index, sample in enumerate(live_progress.each(inputs, "samples on the target")):
        if len(sample) != info["input_bytes"]:
            raise StageError(f"sample {index} has {len(sample)} B but the firmware's model "
                             f"takes {info['input_bytes']} B")
        output, count = session.run_sample(f"sample {index}", bytes(sample),
                                           info["output_bytes"])
        outputs.append(output)
        ticks.append(count)
    # The per-operator readings are part of what the session measures: retried like a sample.
    readings = session.attempt("OPS", link.op_readings)
    link.phase = "STATS"
    # STATS only feeds the run log: a link too damaged to deliver it does not fail the run.
    try:
        stats = session.attempt("STATS", link.stats)
    except TargetError as error:
        stats = {"unavailable": str(error)}
    if ns_per_instruction:
        instructions = [ticks_to_instructions(count, info["tick_hz"], ns_per_instruction)
                        for count in ticks]
        timing = {"timing_unit": "instructions", "ns_per_instruction": ns_per_instruction}
        # Each reading is taken in the inference's section, which starts on a tick edge like
        # the whole count: it inverts exactly to the instruction position of its hook.
        positions = [ticks_to_instructions(t, info["tick_hz"], ns_per_instruction)
                     for t in readings]
    else:
        instructions = list(ticks)
        timing = {"timing_unit": "cycles"}
        positions = list(readings)
    if len(positions) % 2:
        raise TargetError(f"{link.label} recorded {len(positions)} operator boundaries, not "
                          "a begin and an end per operator; rebuild the firmware")
    op_counts = [end - begin for begin, end in zip(positions[0::2], positions[1::2],
                                                   strict=True)]
    keep = ("protocol_version", "max_payload", "input_bytes", "output_bytes", "arena_bytes",
            "tick_hz", "hard_float", "board")
    target_info = {**{key: info[key] for key in keep}, **timing}
    sent, received = clean_session_bytes(info, len(inputs), len(readings))
    seconds = time.monotonic() - started
    log = {
        "seconds": seconds, "retries": session.retries, "faults": session.faults[-20:],
        "uart_bytes_sent": link.bytes_sent, "uart_bytes_received": link.bytes_received,
        "host_bad_frames": link.decoder.bad_frames,
        "host_garbage_bytes": link.decoder.garbage_bytes,
        "target_stats": stats,
    }
    return TargetRun(
        outputs=outputs, ticks=ticks, instructions=instructions,
        uart_bytes_sent=sent, uart_bytes_received=received,
        seconds=seconds, target_info=target_info, log=log, op_counts=op_counts,
    )


def open_serial(port: str, baudrate: int) -> Any:
    """Open a serial device (or any pyserial URL) with an 8N1 setting and no flow control."""
    import serial

    try:
        return serial.serial_for_url(port, baudrate=baudrate, timeout=0.05)
    except (serial.SerialException, OSError) as exc:
        raise StageError(f"cannot open serial port {port}: {exc}") from exc


def run_on_serial(port: str, baudrate: int, inputs: Sequence[bytes],
                  timeout_s: float = 60.0, board: str | None = None,
                  process_s: float = 30.0) -> TargetRun:
    """Run ``inputs`` on a board that runs the firmware, connected at ``port``."""
    import os

    ser = open_serial(port, baudrate)

    def alive(grace_s: float) -> None:
        if port.startswith("/") and not os.path.exists(port):
            raise LinkLost(f"serial port {port} vanished during {link.phase}")
        if not ser.is_open:
            raise LinkLost(f"serial port {port} was closed during {link.phase}")

    link = TargetLink(ser, label=f"target at {port}", timing=LinkTiming.for_baudrate(baudrate),
                      alive=alive)
    try:
        run = run_session(link, inputs, timeout_s, ns_per_instruction=None, board=board,
                          process_s=process_s)
    finally:
        ser.close()
    run.log["port"] = port
    return run
