"""An in-memory pyserial-like port with the firmware's protocol behind it, for fast host tests.

It answers PING/DATA/PROCESS/OUTPUT/STATS/OPS like firmware/app/kt_server.c (output = input
reversed, ticks = 100 + the input's first byte, OPS = the ``op_readings`` given), and can
lose or damage chosen replies so the host's deadlines and retries can be tested without QEMU.
The real firmware is tested in QEMU (tests/test_qemu.py); this only stands in for it where
timing must be fast and exact.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from kenning_tasks.mcu.protocol import (
    OFFSET,
    OPS_HEADER,
    OPS_READING,
    PING_INFO,
    PROTOCOL_VERSION,
    STATS,
    TICKS,
    ErrorCode,
    FrameDecoder,
    MessageType,
    encode_frame,
)


class FakeTarget:
    """``damage(n, reply_bytes)`` sees the n-th reply (from 0) and returns what to send."""

    def __init__(self, input_bytes: int = 8, board: str = "mps2-an385",
                 damage: Callable[[int, bytes], bytes] | None = None,
                 invoke_error: int = 0, op_readings: tuple[int, ...] = (8, 40, 48, 90)
                 ) -> None:
        self.op_readings = op_readings
        self.input_bytes = input_bytes
        self.board = board
        self.damage = damage or (lambda n, raw: raw)
        self.invoke_error = invoke_error
        self.decoder = FrameDecoder()
        self.incoming = bytearray()
        self.replies = 0
        self.timeout = 0.0
        self.is_open = True
        self.input = bytearray(input_bytes)
        self.filled = 0
        self.output: bytes | None = None
        self.inferences = 0

    # -- pyserial's side ---------------------------------------------------------------------
    @property
    def in_waiting(self) -> int:
        return len(self.incoming)

    def read(self, size: int = 1) -> bytes:
        data = bytes(self.incoming[:size])
        del self.incoming[:size]
        return data

    def write(self, data: bytes) -> int:
        for frame in self.decoder.feed(bytes(data)):
            self._reply(self._answer(frame.type, frame.payload))
        return len(data)

    def flush(self) -> None:
        pass

    # -- the target's side -------------------------------------------------------------------
    def _reply(self, raw: bytes) -> None:
        self.incoming += self.damage(self.replies, raw)
        self.replies += 1

    def _error(self, code: int, detail: int = 0) -> bytes:
        return encode_frame(MessageType.ERROR, struct.pack("<B3xI", code, detail))

    def _answer(self, msg_type: int, payload: bytes) -> bytes:
        if msg_type == MessageType.PING:
            info = PING_INFO.pack(PROTOCOL_VERSION, 0, 1024, self.input_bytes, self.input_bytes,
                                  0, 25_000_000, 512, self.inferences)
            return encode_frame(MessageType.OK, info + self.board.encode())
        if msg_type == MessageType.DATA:
            (offset,) = OFFSET.unpack_from(payload)
            chunk = payload[OFFSET.size:]
            self.input[offset:offset + len(chunk)] = chunk
            self.filled = len(chunk) if offset == 0 else max(self.filled, offset + len(chunk))
            return encode_frame(MessageType.OK, OFFSET.pack(self.filled))
        if msg_type == MessageType.PROCESS:
            if self.filled != self.input_bytes:
                return self._error(ErrorCode.INPUT_INCOMPLETE, self.filled)
            self.filled = 0
            if self.invoke_error:
                return self._error(ErrorCode.INVOKE, self.invoke_error)
            self.output = bytes(reversed(self.input))
            self.inferences += 1
            return encode_frame(MessageType.OK, TICKS.pack(100 + self.input[0]))
        if msg_type == MessageType.OUTPUT:
            if self.output is None:
                return self._error(ErrorCode.NO_OUTPUT)
            (offset,) = OFFSET.unpack_from(payload)
            return encode_frame(MessageType.OUTPUT, OFFSET.pack(offset) + self.output[offset:])
        if msg_type == MessageType.STATS:
            return encode_frame(MessageType.STATS, STATS.pack(0, 0, self.inferences, 25_000_000,
                                                              0, 0, 0, 0, 0, 512, 0,
                                                              PROTOCOL_VERSION))
        if msg_type == MessageType.OPS:
            (first,) = OFFSET.unpack_from(payload)
            if first > len(self.op_readings):
                return self._error(ErrorCode.BAD_OFFSET, len(self.op_readings))
            fit = (1024 - OPS_HEADER.size) // OPS_READING.size
            part = self.op_readings[first:first + fit]
            return encode_frame(MessageType.OPS, OPS_HEADER.pack(first, len(self.op_readings))
                                + b"".join(OPS_READING.pack(v) for v in part))
        return self._error(ErrorCode.UNKNOWN_TYPE, msg_type)


def flip_last_byte(raw: bytes) -> bytes:
    return raw[:-1] + bytes([raw[-1] ^ 0x01])
