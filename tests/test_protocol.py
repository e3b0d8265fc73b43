"""Host-side protocol: framing, resynchronisation, version checks (no QEMU needed)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from kenning_tasks.errors import StageError
from kenning_tasks.mcu.boards import load_boards
from kenning_tasks.mcu.link import ProtocolVersionError, TargetLink, TargetTimeout
from kenning_tasks.mcu.protocol import (
    HEADER_BYTES,
    MAX_PAYLOAD,
    PROTOCOL_VERSION,
    Frame,
    FrameDecoder,
    MessageType,
    crc16,
    encode_frame,
)


class LoopbackPort:
    """In-memory stand-in for a pyserial port: replies are queued by the test."""

    def __init__(self, incoming: bytes = b"") -> None:
        self.incoming = bytearray(incoming)
        self.written = bytearray()
        self.timeout = 0.0

    @property
    def in_waiting(self) -> int:
        return len(self.incoming)

    def read(self, size: int = 1) -> bytes:
        data = bytes(self.incoming[:size])
        del self.incoming[:size]
        return data

    def write(self, data: bytes) -> int:
        self.written += data
        return len(data)

    def flush(self) -> None:
        pass


def test_crc_is_ccitt_false():
    assert crc16(b"123456789") == 0x29B1  # the catalogue check value of CRC-16/CCITT-FALSE
    assert crc16(b"") == 0xFFFF


@pytest.mark.parametrize("msg_type", list(MessageType))
@pytest.mark.parametrize("size", [0, 1, 300, MAX_PAYLOAD])
def test_round_trip(msg_type, size):
    payload = bytes((i * 7 + size) & 0xFF for i in range(size))
    raw = encode_frame(msg_type, payload)
    assert len(raw) == HEADER_BYTES + size + 2
    assert raw[:2] == b"KT" and raw[2] == PROTOCOL_VERSION and raw[3] == msg_type
    assert FrameDecoder().feed(raw) == [Frame(msg_type, payload)]


def test_decoder_byte_by_byte_and_back_to_back():
    frames = [Frame(MessageType.DATA, bytes(range(50))), Frame(MessageType.OK, b""),
              Frame(MessageType.STATS, b"x" * 56)]
    stream = b"".join(encode_frame(f.type, f.payload) for f in frames)
    decoder = FrameDecoder()
    got = [frame for i in range(len(stream)) for frame in decoder.feed(stream[i:i + 1])]
    assert got == frames and decoder.garbage_bytes == 0 and decoder.pending == 0


def test_decoder_resyncs_after_garbage():
    # Garbage containing fake magic bytes and a header with a broken CRC.
    fake_header = bytearray(encode_frame(MessageType.OK, b"abc"))[:HEADER_BYTES]
    fake_header[6] ^= 0xFF
    garbage = b"\r\nboot banner KT\x00 KKTT" + bytes(fake_header) + b"\xff" * 5
    good = encode_frame(MessageType.OUTPUT, b"\x00\x00\x00\x00" + b"\x05" * 10)
    decoder = FrameDecoder()
    assert decoder.feed(garbage + good) == [Frame(MessageType.OUTPUT, good[8:-2])]
    assert decoder.garbage_bytes == len(garbage)


def test_decoder_drops_bad_crc_frame_and_continues():
    bad = bytearray(encode_frame(MessageType.DATA, b"hello"))
    bad[HEADER_BYTES] ^= 0x01
    good = encode_frame(MessageType.PING)
    decoder = FrameDecoder()
    assert decoder.feed(bytes(bad) + good) == [Frame(MessageType.PING, b"")]
    assert decoder.bad_frames == 1


def test_decoder_rejects_oversized_length_as_garbage():
    raw = encode_frame(MessageType.DATA, b"z" * 40, max_payload=None)
    decoder = FrameDecoder(max_payload=32)
    assert decoder.feed(raw + encode_frame(MessageType.PING)) == [Frame(MessageType.PING, b"")]
    assert decoder.garbage_bytes >= HEADER_BYTES


def test_encoder_refuses_oversized_payload():
    with pytest.raises(ValueError, match="exceeds the maximum"):
        encode_frame(MessageType.DATA, bytes(MAX_PAYLOAD + 1))


def test_host_refuses_other_protocol_version():
    reply = encode_frame(MessageType.OK, bytes(40), version=PROTOCOL_VERSION + 1)
    port = LoopbackPort()
    link = TargetLink(port, label="fake target")
    port.write = lambda data: port.incoming.extend(reply) or len(data)  # reply to any request
    with pytest.raises(ProtocolVersionError, match=r"speaks protocol v2, this host speaks v1"):
        link.handshake(timeout_s=1.0)


def test_silent_target_times_out():
    link = TargetLink(LoopbackPort(), label="silent target")
    with pytest.raises(TargetTimeout, match="silent target did not answer PING"):
        link.handshake(timeout_s=0.3, attempt_s=0.1)
    assert isinstance(TargetTimeout("x"), StageError)


def test_platforms_file_has_all_boards():
    boards = load_boards()
    assert {"mps2-an385", "mps2-an386", "mps2-an500", "stm32f746g_disco",
            "max32690evkit/max32690/m4"} <= set(boards)
    an386 = boards["mps2-an386"]
    assert an386.qemu_machine == "mps2-an386" and "-mfloat-abi=hard" in an386.compilation_flags
    disco = boards["stm32f746g_disco"]
    assert disco.runtime == "zephyr" and not disco.emulated
    assert any("{binary_path}" in cmd for cmd in disco.openocd_flash_cmd)
    assert dataclasses.replace(an386, ram_size_kb=2).ram_limit_bytes == 2048


@pytest.mark.parametrize("text, message", [
    ("b:\n  display_name: x\n", "lacks field"),
    ("b:\n  display_name: x\n  flash_size_kb: -1\n  ram_size_kb: 1\n  uart_baudrate: 1\n"
     "  compilation_flags: []\n  runtime: baremetal\n  board_dir: b\n", "positive integer"),
    ("b:\n  display_name: x\n  flash_size_kb: 1\n  ram_size_kb: 1\n  uart_baudrate: 1\n"
     "  compilation_flags: []\n  runtime: baremetal\n  board_dir: b\n  colour: red\n",
     "unknown field"),
    ("[1, 2", "not valid YAML"),
])
def test_platforms_file_validation(tmp_path: Path, text: str, message: str):
    path = tmp_path / "platforms.yml"
    path.write_text(text)
    with pytest.raises(StageError, match=message):
        load_boards(path)


def test_target_modules_import_without_heavy_dependencies():
    code = ("import sys, kenning_tasks.mcu as t, kenning_tasks.mcu.build, "
            "kenning_tasks.mcu.qemu, kenning_tasks.mcu.link; t.run_on_qemu; "
            "heavy = {'numpy', 'tensorflow', 'keras'} & set(sys.modules); "
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[1])
