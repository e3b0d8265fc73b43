"""The firmware in QEMU: inference, protocol robustness, versions, timeouts, process hygiene."""

from __future__ import annotations

import time

import numpy as np
import pytest
from target_support import (
    generated_model,
    pid_gone,
    qemu_children,
    reference_outputs,
    sample_inputs,
    write_hanging_model,
)

from kenning_tasks.errors import StageError
from kenning_tasks.mcu.boards import load_boards
from kenning_tasks.mcu.build import build_firmware
from kenning_tasks.mcu.link import (
    ProtocolVersionError,
    TargetError,
    TargetLink,
    TargetTimeout,
    run_on_serial,
)
from kenning_tasks.mcu.protocol import (
    HEADER_BYTES,
    PROTOCOL_VERSION,
    ErrorCode,
    MessageType,
    encode_frame,
    parse_error,
)
from kenning_tasks.mcu.qemu import QemuTarget, run_on_qemu

BOARDS = load_boards()
pytestmark = pytest.mark.slow  # boots QEMU


@pytest.fixture(autouse=True)
def no_qemu_left_behind():
    """Every QEMU a test starts must be gone (checked by PID) when the test ends."""
    before = qemu_children()
    yield
    leaked = qemu_children() - before
    assert not leaked, f"QEMU processes left running: {sorted(leaked)}"


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return generated_model(tmp_path_factory)


@pytest.fixture(scope="module")
def firmware(model, tmp_path_factory):
    """Firmware for each QEMU board, built once."""
    out = tmp_path_factory.mktemp("fw")
    return {name: build_firmware(BOARDS[name], model[1], out / name)
            for name in ("mps2-an385", "mps2-an386", "mps2-an500")}


@pytest.fixture()
def session(firmware):
    """A raw protocol session with the an385 firmware."""
    with QemuTarget(firmware["mps2-an385"].elf, "mps2-an385") as qemu:
        port = qemu.connect()
        link = TargetLink(port, label="mps2-an385")
        link.handshake()
        try:
            yield link
        finally:
            port.close()


def error_code(link: TargetLink, timeout_s: float = 10.0) -> int:
    # Generous: the target's own timeouts run on virtual time, slower than real time in QEMU.
    reply = link.receive(timeout_s)
    assert reply.type == MessageType.ERROR, reply
    return parse_error(reply.payload)[0]


@pytest.mark.parametrize("name", ["mps2-an385", "mps2-an386", "mps2-an500"])
def test_board_runs_model_like_tflite(name, firmware, model):
    inputs = sample_inputs(4)
    run = run_on_qemu(firmware[name].elf, BOARDS[name], inputs, timeout_s=30)
    got = [np.frombuffer(out, np.int8) for out in run.outputs]
    for ours, ref in zip(got, reference_outputs(model[0], inputs), strict=True):
        assert np.array_equal(ours, ref), (ours, ref)  # bit-exact
    info = run.target_info
    assert info["board"] == name and info["protocol_version"] == PROTOCOL_VERSION
    assert info["hard_float"] == (name != "mps2-an385")
    assert info["stats"]["inferences"] == 4 and info["stats"]["frames_bad"] == 0
    assert 0 < info["stack_peak_bytes"] < 8192
    # Branches (ReLU, pooling, saturation) make counts depend a little on the data.
    assert all(n > 1000 for n in run.instructions)
    assert max(run.instructions) - min(run.instructions) <= 0.02 * min(run.instructions)
    assert run.uart_bytes_sent > 4 * 64 and run.uart_bytes_received > 4 * 10


def test_timing_is_reproducible_across_runs(firmware):
    inputs = sample_inputs(2, seed=5)
    first = run_on_qemu(firmware["mps2-an385"].elf, BOARDS["mps2-an385"], inputs)
    second = run_on_qemu(firmware["mps2-an385"].elf, BOARDS["mps2-an385"], inputs)
    assert first.outputs == second.outputs
    # icount: the same work costs the same instructions, to one SysTick tick (40 instructions).
    assert all(abs(a - b) <= 40 for a, b in
               zip(first.instructions, second.instructions, strict=True))


def test_garbage_gets_error_and_session_recovers(session):
    session.write(b"\x00\xffnot a frame KT\x01 KTKT" * 3)
    assert error_code(session) == ErrorCode.GARBAGE
    assert session.request(MessageType.PING).type == MessageType.OK


def test_bad_crc_and_malformed_frames_get_errors(session):
    bad = bytearray(encode_frame(MessageType.DATA, b"\x00\x00\x00\x00" + bytes(8)))
    bad[-1] ^= 0x55
    session.write(bytes(bad))
    assert error_code(session) == ErrorCode.BAD_CRC
    # A header announcing more bytes than ever come: the target times out on the frame.
    session.write(encode_frame(MessageType.DATA, bytes(20))[:HEADER_BYTES + 5])
    assert error_code(session) == ErrorCode.TIMEOUT
    session.write(encode_frame(0x42))
    assert error_code(session) == ErrorCode.UNKNOWN_TYPE
    for msg_type, payload, code in [
        (MessageType.PROCESS, b"", ErrorCode.INPUT_INCOMPLETE),
        (MessageType.OUTPUT, b"\x00\x00\x00\x00", ErrorCode.NO_OUTPUT),
        (MessageType.DATA, b"\x01", ErrorCode.BAD_LENGTH),
        (MessageType.DATA, (60).to_bytes(4, "little") + bytes(8), ErrorCode.BAD_OFFSET),
    ]:
        with pytest.raises(TargetError, match=ErrorCode(code).name):
            session.request(msg_type, payload)
    stats = session.stats()
    assert stats["frames_bad"] == 2  # BAD_CRC and TIMEOUT; the others were well-formed
    assert session.request(MessageType.PING).type == MessageType.OK


def test_oversized_frame_is_refused(session):
    max_payload = session.info["max_payload"]
    session.write(encode_frame(MessageType.DATA, bytes(max_payload + 100), max_payload=None))
    assert error_code(session) == ErrorCode.TOO_LARGE
    # The oversized payload was drained, not interpreted: exactly one reply, then normal service.
    time.sleep(0.1)
    session.discard_input()
    assert session.request(MessageType.PING).type == MessageType.OK


def test_target_refuses_other_protocol_version(session):
    session.write(encode_frame(MessageType.PING, version=PROTOCOL_VERSION + 1))
    reply = session.receive(3.0)
    assert reply.type == MessageType.ERROR and reply.version == PROTOCOL_VERSION
    assert parse_error(reply.payload) == (ErrorCode.VERSION, PROTOCOL_VERSION)
    assert session.request(MessageType.PING).type == MessageType.OK


def test_host_refuses_firmware_of_other_version(model, tmp_path):
    image = build_firmware(BOARDS["mps2-an385"], model[1], tmp_path,
                           extra_cflags=[f"-DKT_PROTOCOL_VERSION={PROTOCOL_VERSION + 1}u"])
    with pytest.raises(ProtocolVersionError, match="rebuild the firmware"):
        run_on_qemu(image.elf, BOARDS["mps2-an385"], sample_inputs(1), timeout_s=10)


def test_large_input_goes_in_chunks(model, tmp_path):
    # A 48-byte payload limit splits the 64-byte input into two DATA frames.
    image = build_firmware(BOARDS["mps2-an385"], model[1], tmp_path,
                           extra_cflags=["-DKT_MAX_PAYLOAD=64u"])
    inputs = sample_inputs(2, seed=9)
    run = run_on_qemu(image.elf, BOARDS["mps2-an385"], inputs, timeout_s=20)
    assert run.target_info["max_payload"] == 64
    expected = [r.astype(np.int8).tobytes() for r in reference_outputs(model[0], inputs)]
    assert run.outputs == expected


def test_hung_target_times_out_and_qemu_is_stopped(tmp_path):
    hang = write_hanging_model(tmp_path / "hang")
    image = build_firmware(BOARDS["mps2-an385"], hang, tmp_path / "out")
    start = time.monotonic()
    with pytest.raises(TargetTimeout, match=r"did not answer PROCESS within .* hung"):
        run_on_qemu(image.elf, BOARDS["mps2-an385"], [bytes(64)], timeout_s=2.0)
    assert time.monotonic() - start < 10
    # (the autouse fixture checks that this QEMU is gone)


def test_keyboard_interrupt_stops_qemu(firmware):
    with pytest.raises(KeyboardInterrupt), \
            QemuTarget(firmware["mps2-an385"].elf, "mps2-an385") as qemu:
        pid = qemu.pid
        assert pid in qemu_children()
        raise KeyboardInterrupt
    assert pid_gone(pid)


def test_error_inside_session_stops_qemu(firmware):
    with pytest.raises(StageError), QemuTarget(firmware["mps2-an385"].elf, "mps2-an385") as qemu:
        pid = qemu.pid
        raise StageError("boom")
    assert pid_gone(pid)


def test_qemu_start_failure_is_a_stage_error(firmware):
    with pytest.raises(StageError, match=r"QEMU \(no-such-board\) exited with code"), \
            QemuTarget(firmware["mps2-an385"].elf, "no-such-board"):
        pass


def test_serial_port_path_through_pty(firmware):
    inputs = sample_inputs(2, seed=3)
    via_tcp = run_on_qemu(firmware["mps2-an386"].elf, BOARDS["mps2-an386"], inputs)
    with QemuTarget(firmware["mps2-an386"].elf, "mps2-an386", serial="pty") as qemu:
        assert qemu.device and qemu.device.startswith("/dev/pts/")
        run = run_on_serial(qemu.device, 115200, inputs, timeout_s=20)
    assert run.outputs == via_tcp.outputs
    assert run.target_info["timing_unit"] == "cycles"
