"""Host-side protocol: framing, resynchronisation, versions, deadlines, retries (no QEMU)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from target_support.fake_target import FakeTarget, flip_last_byte

from kenning_tasks.errors import StageError
from kenning_tasks.mcu.link import (
    LinkTiming,
    ProtocolVersionError,
    TargetError,
    TargetLink,
    TargetTimeout,
    run_session,
    ticks_to_instructions,
)
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
    with pytest.raises(ProtocolVersionError, match=rf"speaks protocol v{PROTOCOL_VERSION + 1}, "
                                                   rf"this host speaks v{PROTOCOL_VERSION}"):
        link.handshake(timeout_s=1.0)


def test_silent_target_times_out():
    link = TargetLink(LoopbackPort(), label="silent target")
    with pytest.raises(TargetTimeout, match="silent target did not answer PING"):
        link.handshake(timeout_s=0.3, attempt_s=0.1)
    assert isinstance(TargetTimeout("x"), StageError)


def test_target_modules_import_without_heavy_dependencies():
    code = ("import sys, kenning_tasks.mcu as t, kenning_tasks.mcu.build, "
            "kenning_tasks.mcu.qemu, kenning_tasks.mcu.link; t.run_on_qemu; "
            "heavy = {'numpy', 'tensorflow', 'keras'} & set(sys.modules); "
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[1])


# -- sessions: deadlines, retries, counts (the firmware itself is tested in test_qemu.py) ----
FAST = LinkTiming(bytes_per_s=11520, latency_s=0.05, quiet_s=0.02)
SAMPLES = [bytes([i, 1, 2, 3, 4, 5, 6, 7]) for i in range(6)]


def session(target: FakeTarget, board: str | None = "mps2-an385"):
    link = TargetLink(target, label="fake target", timing=FAST)
    return run_session(link, SAMPLES, timeout_s=20, ns_per_instruction=64, board=board,
                       process_s=0.05)


def test_per_request_deadline_follows_frame_size_and_link_speed():
    timing = LinkTiming.for_baudrate(115200)
    assert timing.bytes_per_s == 11520
    small, large = timing.exchange_s(10, 14), timing.exchange_s(1034, 14)
    assert small == pytest.approx(2.0 + 4 * 24 / 11520)
    assert large - small == pytest.approx(4 * 1024 / 11520)
    assert timing.exchange_s(10, 18, compute_s=3.0) == pytest.approx(timing.exchange_s(10, 18)
                                                                     + 3.0)


def test_ticks_convert_to_exact_instruction_counts():
    # SysTick at 25 MHz (40 ns) under -icount shift=6 (64 ns per instruction): a section of
    # M instructions reads floor(M * 1.6) ticks, and every M is recovered exactly.
    for instructions in range(0, 20000, 7):
        ticks = instructions * 64 // 40
        assert ticks_to_instructions(ticks, 25_000_000, 64) == instructions
    with pytest.raises(StageError, match="coarser than one instruction"):
        ticks_to_instructions(10, 25_000_000, 1)  # shift=0: 40 instructions per tick


def test_clean_session():
    run = session(FakeTarget())
    assert run.outputs == [bytes(reversed(s)) for s in SAMPLES]
    assert run.ticks == [100 + s[0] for s in SAMPLES]
    assert run.instructions == [ticks_to_instructions(t, 25_000_000, 64) for t in run.ticks]
    assert run.log["retries"] == 0 and run.log["target_stats"]["stack_peak_bytes"] == 512
    # The session's byte counts follow from the firmware's sizes: they are what was sent.
    assert (run.uart_bytes_sent, run.uart_bytes_received) == \
        (run.log["uart_bytes_sent"], run.log["uart_bytes_received"])
    assert run.target_info["timing_unit"] == "instructions"
    # Readings 8, 40, 48, 90 ticks: positions 5, 25, 30, 57 instructions (40 ns ticks).
    assert run.op_counts == [20, 27]


def test_per_op_readings_come_in_as_many_replies_as_needed():
    readings = tuple(range(0, 1600, 2))  # 800 readings: 254 per reply
    run = session(FakeTarget(op_readings=readings))
    positions = [ticks_to_instructions(t, 25_000_000, 64) for t in readings]
    assert run.op_counts == [b - a for a, b in zip(positions[0::2], positions[1::2],
                                                                  strict=True)]
    assert (run.uart_bytes_sent, run.uart_bytes_received) == \
        (run.log["uart_bytes_sent"], run.log["uart_bytes_received"])
    assert session(FakeTarget(op_readings=())).op_counts == []


@pytest.mark.parametrize("damage, retried", [
    (lambda n, raw: b"" if n == 4 else raw, True),                       # a lost PROCESS reply
    (lambda n, raw: flip_last_byte(raw) if n in (2, 9) else raw, True),  # damaged replies
    (lambda n, raw: raw[:5] if n == 6 else raw, True),                   # a reply cut short
    # Duplicates are stale by the next request, which discards them first.
    (lambda n, raw: raw * 2 if n % 3 == 1 else raw, False),
], ids=["lost", "damaged", "cut short", "duplicated"])
def test_lost_or_damaged_reply_retries_the_sample(damage, retried):
    clean, faulty = session(FakeTarget()), session(FakeTarget(damage=damage))
    assert (faulty.log["retries"] >= 1) == retried
    assert faulty.outputs == clean.outputs and faulty.ticks == clean.ticks
    assert faulty.op_counts == clean.op_counts
    # What the targets hold does not show the retries.
    assert faulty.target_info == clean.target_info
    assert (faulty.uart_bytes_sent, faulty.uart_bytes_received) == \
        (clean.uart_bytes_sent, clean.uart_bytes_received)
    # ... while the run log does: the resent frames.
    assert (faulty.log["uart_bytes_sent"] > clean.log["uart_bytes_sent"]) == retried


def test_a_link_that_stays_broken_fails_in_one_line():
    target = FakeTarget(damage=lambda n, raw: flip_last_byte(raw) if n > 0 else raw)
    with pytest.raises(TargetError) as error:
        session(target)
    message = str(error.value)
    assert message.startswith("fake target: sample 0 failed 4 times; last: ")
    assert "bad frames 4" in message and "\n" not in message


def test_a_refusal_that_a_retry_cannot_change_is_not_retried():
    target = FakeTarget(invoke_error=3)
    with pytest.raises(TargetError, match=r"refused PROCESS: INVOKE \(detail 3\)"):
        session(target)
    assert target.replies == 3  # PING, DATA, PROCESS: no retry


def test_firmware_of_another_board_is_refused():
    with pytest.raises(StageError, match=r"fake target runs firmware built for board "
                                         r"'mps2-an385', but the scenario's board is 'other'"):
        session(FakeTarget(), board="other")


class LatePort(LoopbackPort):
    """Delivers its reply ``delay_s`` after the first write, whatever is written meanwhile."""

    def __init__(self, reply: bytes, delay_s: float) -> None:
        super().__init__()
        self.reply, self.delay_s, self.due = reply, delay_s, None

    def write(self, data: bytes) -> int:
        if self.due is None:
            self.due = time.monotonic() + self.delay_s
        return super().write(data)

    @property
    def in_waiting(self) -> int:
        if self.due is not None and time.monotonic() >= self.due and self.reply:
            self.incoming += self.reply
            self.reply = b""
        return len(self.incoming)


def test_handshake_keeps_a_late_decisive_reply():
    # The reply to the first PING comes after the host has sent PING again: it must not be
    # discarded (that was the race of test_host_refuses_firmware_of_other_version).
    reply = encode_frame(MessageType.ERROR, bytes(8), version=PROTOCOL_VERSION + 1)
    port = LatePort(reply, delay_s=0.25)
    link = TargetLink(port, label="late target")
    with pytest.raises(ProtocolVersionError, match=f"speaks protocol v{PROTOCOL_VERSION + 1}"):
        link.handshake(timeout_s=2.0, attempt_s=0.1)
    assert port.written.count(b"KT") >= 2  # PING was retried in the meantime
