"""Host side of the framed UART protocol (the layout is documented in firmware/app/PROTOCOL.md).

Frame: magic "KT", version, type, payload length (u16 LE), CRC-16 of those six bytes, payload,
CRC-16 of the payload. CRC-16/CCITT-FALSE, which is ``binascii.crc_hqx(data, 0xFFFF)``.
"""

from __future__ import annotations

import binascii
import enum
import struct
from dataclasses import dataclass

PROTOCOL_VERSION = 2  # 2: OPS (per-operator timing)
MAGIC = b"KT"
HEADER_BYTES = 8
CRC_BYTES = 2
MAX_PAYLOAD = 1024  # the target's KT_MAX_PAYLOAD; the PING reply reports the real value
_HEADER = struct.Struct("<2sBBH")


class MessageType(enum.IntEnum):
    PING = 1
    OK = 2
    ERROR = 3
    DATA = 4
    PROCESS = 5
    OUTPUT = 6
    STATS = 7
    OPS = 8


class ErrorCode(enum.IntEnum):
    GARBAGE = 1
    BAD_CRC = 2
    VERSION = 3
    TOO_LARGE = 4
    TIMEOUT = 5
    UNKNOWN_TYPE = 6
    BAD_LENGTH = 7
    BAD_OFFSET = 8
    INPUT_INCOMPLETE = 9
    INVOKE = 10
    NO_OUTPUT = 11


@dataclass(frozen=True)
class Frame:
    type: int
    payload: bytes
    version: int = PROTOCOL_VERSION

    @property
    def kind(self) -> str:
        try:
            return MessageType(self.type).name
        except ValueError:
            return f"type {self.type}"


def crc16(data: bytes) -> int:
    return binascii.crc_hqx(data, 0xFFFF)


def encode_frame(msg_type: int, payload: bytes = b"", version: int = PROTOCOL_VERSION,
                 max_payload: int | None = MAX_PAYLOAD) -> bytes:
    """Bytes of one frame. ``max_payload=None`` allows oversized frames (for tests)."""
    if max_payload is not None and len(payload) > max_payload:
        raise ValueError(f"payload of {len(payload)} B exceeds the maximum of {max_payload} B")
    if len(payload) > 0xFFFF:
        raise ValueError("payload length does not fit the 16-bit length field")
    head = _HEADER.pack(MAGIC, version, msg_type, len(payload))
    return (head + struct.pack("<H", crc16(head)) + payload
            + struct.pack("<H", crc16(payload)))


class FrameDecoder:
    """Incremental decoder: feed bytes, collect frames. Resynchronises after garbage.

    Bytes that cannot start a valid header are dropped and counted in ``garbage_bytes``;
    a frame whose payload CRC fails is dropped and counted in ``bad_frames``. Frames of any
    version are returned: refusing a version is the caller's decision.
    """

    def __init__(self, max_payload: int = 0xFFFF) -> None:
        self.max_payload = max_payload
        self._buf = bytearray()
        self.garbage_bytes = 0
        self.bad_frames = 0

    @property
    def pending(self) -> int:
        return len(self._buf)

    def reset(self) -> None:
        """Forget a partly received frame (the counters stay)."""
        self._buf.clear()

    def feed(self, data: bytes) -> list[Frame]:
        self._buf += data
        frames: list[Frame] = []
        while True:
            frame = self._next()
            if frame is None:
                return frames
            frames.append(frame)

    def _drop(self, count: int) -> None:
        del self._buf[:count]
        self.garbage_bytes += count

    def _next(self) -> Frame | None:
        buf = self._buf
        while True:
            start = buf.find(MAGIC[:1])
            if start < 0:
                self._drop(len(buf))
                return None
            if start:
                self._drop(start)
            if len(buf) < HEADER_BYTES:
                # Might still be the beginning of a header; unless the second byte is wrong.
                if len(buf) >= 2 and buf[1] != MAGIC[1]:
                    self._drop(1)
                    continue
                return None
            magic, version, msg_type, length = _HEADER.unpack_from(buf)
            (head_crc,) = struct.unpack_from("<H", buf, 6)
            if magic != MAGIC or crc16(bytes(buf[:6])) != head_crc or length > self.max_payload:
                self._drop(1)
                continue
            total = HEADER_BYTES + length + CRC_BYTES
            if len(buf) < total:
                return None
            payload = bytes(buf[HEADER_BYTES:HEADER_BYTES + length])
            (payload_crc,) = struct.unpack_from("<H", buf, HEADER_BYTES + length)
            del buf[:total]
            if crc16(payload) != payload_crc:
                self.bad_frames += 1
                continue
            return Frame(msg_type, payload, version)


# Payload layouts (little endian), shared with firmware/app/kt_server.c.
PING_INFO = struct.Struct("<BBHIIIIII")    # version, flags, max payload, in, out, arena, hz,
                                            # stack peak, inferences; then the board name
STATS = struct.Struct("<QQIIIIIIIIII")      # see parse_stats
ERROR = struct.Struct("<B3xI")              # code, detail
OFFSET = struct.Struct("<I")
TICKS = struct.Struct("<Q")
OPS_HEADER = struct.Struct("<II")           # first reading, readings in all; then u32 each
OPS_READING = struct.Struct("<I")


def parse_ping_info(payload: bytes) -> dict:
    fields = PING_INFO.unpack_from(payload)
    keys = ("protocol_version", "flags", "max_payload", "input_bytes", "output_bytes",
            "arena_bytes", "tick_hz", "stack_peak_bytes", "inferences")
    info = dict(zip(keys, fields, strict=True))
    info["hard_float"] = bool(info.pop("flags") & 1)
    info["board"] = payload[PING_INFO.size:].decode("ascii", "replace")
    return info


def parse_stats(payload: bytes) -> dict:
    keys = ("last_ticks", "total_ticks", "inferences", "tick_hz", "rx_bytes", "tx_bytes",
            "frames_ok", "frames_bad", "garbage_bytes", "stack_peak_bytes", "arena_bytes",
            "protocol_version")
    return dict(zip(keys, STATS.unpack_from(payload), strict=True))


def parse_error(payload: bytes) -> tuple[int, int]:
    if len(payload) < ERROR.size:
        return 0, 0
    return ERROR.unpack_from(payload)


def describe_error(payload: bytes) -> str:
    code, detail = parse_error(payload)
    try:
        name = ErrorCode(code).name
    except ValueError:
        name = f"code {code}"
    return f"{name} (detail {detail})"
