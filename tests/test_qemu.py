"""The firmware in QEMU: inference, exact counts, protocol robustness, versions, boards,
timeouts, a damaged link, QEMU dying, and process hygiene (no orphan QEMU)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import serial
from target_support import (
    generated_model,
    loop_inputs,
    pid_gone,
    qemu_children,
    reference_outputs,
    sample_inputs,
    write_hanging_model,
    write_loop_model,
)
from target_support.faulty_proxy import Faults, FaultyProxy

from kenning_tasks.errors import StageError
from kenning_tasks.mcu import orphans
from kenning_tasks.mcu.boards import load_boards
from kenning_tasks.mcu.build import build_firmware
from kenning_tasks.mcu.link import (
    LinkLost,
    LinkTiming,
    ProtocolVersionError,
    TargetError,
    TargetLink,
    TargetTimeout,
    run_on_serial,
    run_session,
)
from kenning_tasks.mcu.protocol import (
    HEADER_BYTES,
    PROTOCOL_VERSION,
    ErrorCode,
    MessageType,
    encode_frame,
    parse_error,
)
from kenning_tasks.mcu.qemu import NS_PER_INSTRUCTION, QemuTarget, run_on_qemu

BOARDS = load_boards()
REPO = Path(__file__).resolve().parents[1]
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


@pytest.fixture(scope="module")
def loop_firmware(tmp_path_factory):
    """Firmware whose model runs a loop of exactly 2·n instructions (n from the input)."""
    base = tmp_path_factory.mktemp("loop")
    model_dir = write_loop_model(base / "model")
    return {name: build_firmware(BOARDS[name], model_dir, base / name)
            for name in ("mps2-an385", "mps2-an386")}


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
    assert info["timing_unit"] == "instructions" and info["ns_per_instruction"] == 64
    assert run.log["target_stats"]["inferences"] == 4
    assert run.log["target_stats"]["frames_bad"] == 0 and run.log["retries"] == 0
    assert 0 < run.log["target_stats"]["stack_peak_bytes"] < 8192
    # Branches (ReLU, pooling, saturation) make counts depend a little on the data.
    assert all(isinstance(n, int) and n > 1000 for n in run.instructions)
    assert max(run.instructions) - min(run.instructions) <= 0.02 * min(run.instructions)
    assert run.uart_bytes_sent > 4 * 64 and run.uart_bytes_received > 4 * 10


def test_counts_are_identical_across_sessions(firmware):
    """Same ELF, same inputs, two QEMU sessions: every count equal, bit for bit."""
    inputs = sample_inputs(12, seed=5)
    runs = [run_on_qemu(firmware["mps2-an386"].elf, BOARDS["mps2-an386"], inputs)
            for _ in range(2)]
    assert runs[0].outputs == runs[1].outputs
    assert runs[0].ticks == runs[1].ticks and runs[0].instructions == runs[1].instructions
    assert runs[0].target_info == runs[1].target_info
    assert runs[0].op_counts == runs[1].op_counts
    assert (runs[0].uart_bytes_sent, runs[0].uart_bytes_received) == \
        (runs[1].uart_bytes_sent, runs[1].uart_bytes_received)


def test_per_op_counts_cover_every_kernel_call_within_the_total(firmware, model):
    """The real firmware times each kernel call of model.c: one positive count per call,
    whose sum is most of the inference's count and never more."""
    calls = (model[1] / "model.c").read_text().count("    KT_OP_BEGIN(")
    run = run_on_qemu(firmware["mps2-an386"].elf, BOARDS["mps2-an386"], sample_inputs(3))
    assert len(run.op_counts) == calls > 0
    assert all(isinstance(n, int) and n > 0 for n in run.op_counts)
    assert 0.8 * run.instructions[-1] < sum(run.op_counts) < run.instructions[-1]


@pytest.fixture(scope="module")
def timed_loop_firmware(tmp_path_factory):
    """The loop model with its loop between KT_OP_BEGIN/KT_OP_END."""
    base = tmp_path_factory.mktemp("timed-loop")
    return build_firmware(BOARDS["mps2-an386"], write_loop_model(base / "model", timed=True),
                          base / "fw")


def test_per_op_counts_are_exact_instructions(timed_loop_firmware):
    """An operator of 2·n instructions counts exactly 2·n more than n = 0 (last inference)."""
    counts = [0, 1, 7, 65537]
    runs = [run_on_qemu(timed_loop_firmware.elf, BOARDS["mps2-an386"], loop_inputs([n]))
            for n in counts]
    base = runs[0].op_counts[0]
    assert [r.op_counts[0] - base for r in runs] == [2 * n for n in counts]
    # The hooks' share of an operator's count: the end hook's call and its counter read.
    assert 0 < base < 40
    assert all(r.op_counts[0] < r.instructions[-1] for r in runs)


def test_per_op_hooks_can_be_left_out(tmp_path):
    """-DKT_NO_OP_TIMING (a platform block's ``defines``): no readings, a smaller count."""
    model_dir = write_loop_model(tmp_path / "model", timed=True)
    board = BOARDS["mps2-an386"]
    runs = [run_on_qemu(build_firmware(board, model_dir, tmp_path / name, extra_cflags=flags).elf,
                        board, loop_inputs([100]))
            for name, flags in (("on", []), ("off", ["-DKT_NO_OP_TIMING"]))]
    assert len(runs[0].op_counts) == 1 and runs[1].op_counts == []
    assert 40 < runs[0].instructions[0] - runs[1].instructions[0] < 80  # two hooks


@pytest.mark.parametrize("name", ["mps2-an385", "mps2-an386"])
def test_counts_are_exact_instructions(name, loop_firmware):
    """A loop of 2·n instructions counts exactly 2·n more than n = 0, for every n."""
    counts = [0, 1, 2, 3, 4, 5, 6, 7, 8, 13, 100, 1001, 65537]
    run = run_on_qemu(loop_firmware[name].elf, BOARDS[name], loop_inputs(counts))
    base = run.instructions[0]
    assert [m - base for m in run.instructions] == [2 * n for n in counts]
    # The fixed part is the restart of SysTick, the call and the loop model's own code.
    assert 20 < base < 80
    again = run_on_qemu(loop_firmware[name].elf, BOARDS[name], loop_inputs(counts))
    assert again.instructions == run.instructions and again.ticks == run.ticks


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
    # The oversized payload is drained, not interpreted: exactly one reply, then service.
    session.resync()
    assert session.request(MessageType.PING).type == MessageType.OK


def test_target_refuses_other_protocol_version(session):
    session.write(encode_frame(MessageType.PING, version=PROTOCOL_VERSION + 1))
    reply = session.receive(3.0)
    assert reply.type == MessageType.ERROR and reply.version == PROTOCOL_VERSION
    assert parse_error(reply.payload) == (ErrorCode.VERSION, PROTOCOL_VERSION)
    session.resync()  # the target drains until the line is quiet
    assert session.request(MessageType.PING).type == MessageType.OK


def test_host_refuses_firmware_of_other_version(model, tmp_path):
    # Used to fail on a loaded machine (the host discarded the decisive reply); run it with
    # both cores busy to check: see README, "On the microcontroller".
    image = build_firmware(BOARDS["mps2-an385"], model[1], tmp_path,
                           extra_cflags=[f"-DKT_PROTOCOL_VERSION={PROTOCOL_VERSION + 1}u"])
    start = time.monotonic()
    with pytest.raises(ProtocolVersionError, match="rebuild the firmware"):
        run_on_qemu(image.elf, BOARDS["mps2-an385"], sample_inputs(1), timeout_s=10)
    assert time.monotonic() - start < 8


def test_firmware_of_another_board_is_refused(firmware):
    # The Cortex-M3 image runs on the an386 machine too, and says it is an mps2-an385.
    with pytest.raises(StageError, match=r"built for board 'mps2-an385', but the scenario's "
                                         r"board is 'mps2-an386'"):
        run_on_qemu(firmware["mps2-an385"].elf, BOARDS["mps2-an386"], sample_inputs(1))


def test_large_input_goes_in_chunks(model, tmp_path):
    # A 48-byte payload limit splits the 64-byte input into two DATA frames.
    image = build_firmware(BOARDS["mps2-an385"], model[1], tmp_path,
                           extra_cflags=["-DKT_MAX_PAYLOAD=64u"])
    inputs = sample_inputs(2, seed=9)
    run = run_on_qemu(image.elf, BOARDS["mps2-an385"], inputs, timeout_s=20)
    assert run.target_info["max_payload"] == 64
    expected = [r.astype(np.int8).tobytes() for r in reference_outputs(model[0], inputs)]
    assert run.outputs == expected


@pytest.fixture(scope="module")
def hanging_firmware(tmp_path_factory):
    base = tmp_path_factory.mktemp("hang")
    return build_firmware(BOARDS["mps2-an385"], write_hanging_model(base / "model"),
                          base / "out")


def test_hung_target_hits_the_session_limit(hanging_firmware):
    start = time.monotonic()
    with pytest.raises(TargetTimeout, match=r"session limit of 2\.0 s \(during sample 0; "
                                            r"last: .*no reply to PROCESS"):
        run_on_qemu(hanging_firmware.elf, BOARDS["mps2-an385"], [bytes(64)], timeout_s=2.0)
    assert time.monotonic() - start < 10
    # (the autouse fixture checks that this QEMU is gone)


def test_hung_target_fails_long_before_the_session_limit(hanging_firmware):
    # Each request has its own deadline: a hang costs a few retries, not the 600 s session.
    start = time.monotonic()
    with pytest.raises(TargetError, match=r"sample 0 failed 4 times; the target has sent "
                                          r"nothing since the first: hung or crashed; last: "
                                          r"no reply to DATA") as error:
        run_on_qemu(hanging_firmware.elf, BOARDS["mps2-an385"], [bytes(64)], timeout_s=600,
                    process_s=1.0)
    assert "\n" not in str(error.value)
    assert time.monotonic() - start < 40


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
        run = run_on_serial(qemu.device, 115200, inputs, timeout_s=20, board="mps2-an386")
    assert run.outputs == via_tcp.outputs
    assert run.target_info["timing_unit"] == "cycles"


def _kill_when_recorded(pid_dir: Path, after_s: float) -> threading.Thread:
    """Kill (SIGKILL) the QEMU recorded in ``pid_dir`` ``after_s`` seconds after it appears."""
    def killer() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            records = list(pid_dir.glob(orphans.PID_GLOB))
            if records:
                time.sleep(after_s)
                os.kill(json.loads(records[0].read_text())["pid"], signal.SIGKILL)
                return
            time.sleep(0.01)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    return thread


def test_qemu_dying_mid_session_is_one_line(loop_firmware, tmp_path):
    killer = _kill_when_recorded(tmp_path, after_s=1.0)
    with pytest.raises(LinkLost, match=r"^QEMU \(mps2-an385\) exited with status -9 "
                                       r"\(SIGKILL\) during sample \d+$"):
        run_on_qemu(loop_firmware["mps2-an385"].elf, BOARDS["mps2-an385"],
                    loop_inputs([1000] * 20000), pid_dir=tmp_path)
    killer.join()
    assert not list(tmp_path.glob(orphans.PID_GLOB))  # the record went with QEMU


def test_serial_port_vanishing_mid_session_is_one_line(loop_firmware, tmp_path):
    with QemuTarget(loop_firmware["mps2-an385"].elf, "mps2-an385", serial="pty",
                    pid_dir=tmp_path) as qemu:
        # QEMU notices a client on its pty only once a second: the handshake takes ~1 s.
        killer = _kill_when_recorded(tmp_path, after_s=3.0)
        with pytest.raises(StageError, match=r"(vanished|connection lost) during sample \d+"
                                             r"[^\n]*$"):
            run_on_serial(qemu.device, 115200, loop_inputs([1000] * 20000))
        killer.join()


# A session run by a separate Python process, which the tests below kill.
_CHILD = """
import sys
from pathlib import Path
from kenning_tasks.mcu.boards import get_board
from kenning_tasks.mcu.qemu import run_on_qemu
elf, pid_dir = Path(sys.argv[1]), Path(sys.argv[2])
run_on_qemu(elf, get_board("mps2-an385"), [bytes([232, 3, 0, 0])] * 100000, timeout_s=600,
            pid_dir=pid_dir)
"""


def _qemu_of_child(pid_dir: Path, child: subprocess.Popen) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        records = list(pid_dir.glob(orphans.PID_GLOB))
        if records:
            time.sleep(0.5)  # mid-session
            return json.loads(records[0].read_text())["pid"]
        assert child.poll() is None, child.stderr.read() if child.stderr else ""
        time.sleep(0.02)
    raise AssertionError("the child never started QEMU")


def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if orphans.start_time(pid) is None:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("how", ["SIGKILL of the parent", "SIGTERM of its process group"])
def test_killed_parent_leaves_no_qemu(loop_firmware, tmp_path, how):
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(loop_firmware["mps2-an385"].elf), str(tmp_path)],
        env={**os.environ, "PYTHONPATH": str(REPO)}, stderr=subprocess.PIPE,
        start_new_session=True)
    try:
        qemu_pid = _qemu_of_child(tmp_path, child)
        if how.startswith("SIGKILL"):
            child.kill()
        else:
            os.killpg(child.pid, signal.SIGTERM)
        child.wait(timeout=10)
        assert _gone_within(qemu_pid, 5), f"QEMU {qemu_pid} survived {how}"
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    # Its record is left behind; the next run's sweep finds nothing alive to stop.
    assert orphans.sweep(tmp_path) == [] and not list(tmp_path.glob(orphans.PID_GLOB))


def test_orphan_from_a_stale_pid_file_is_stopped(loop_firmware, tmp_path):
    elf = loop_firmware["mps2-an385"].elf
    # An orphan: a QEMU recorded by an owner that is gone (a finished process).
    gone = subprocess.Popen(["true"])
    gone.wait()
    orphan = subprocess.Popen(
        ["qemu-system-arm", "-M", "mps2-an385", "-nographic", "-monitor", "none", "-kernel",
         str(elf), "-serial", "tcp:127.0.0.1:0,server=on,wait=on"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        time.sleep(0.3)
        stale = tmp_path / f"qemu-{orphan.pid}.pid"
        stale.write_text(json.dumps({"pid": orphan.pid, "start": orphans.start_time(orphan.pid),
                                     "owner": gone.pid, "owner_start": 1}))
        with QemuTarget(elf, "mps2-an385", pid_dir=tmp_path) as qemu:
            assert qemu.swept == [orphan.pid]
            assert orphan.poll() is not None and not stale.exists()
            assert [p.name for p in tmp_path.glob(orphans.PID_GLOB)] == [f"qemu-{qemu.pid}.pid"]
            # A QEMU whose owner still runs (this process: a concurrent run) is left alone.
            assert orphans.sweep(tmp_path) == [] and qemu.process.poll() is None
        assert not list(tmp_path.glob(orphans.PID_GLOB))
    finally:
        if orphan.poll() is None:
            orphan.kill()
        orphan.wait()


# -- a damaged link -------------------------------------------------------------------------
FAULTS = [
    Faults(flip=0.01), Faults(flip=0.05), Faults(drop=0.01), Faults(drop=0.05),
    Faults(duplicate=0.05), Faults(duplicate=0.3), Faults(stall=0.03, stall_s=0.3),
    Faults(stall=0.01, stall_s=3.0), Faults(flip=0.02, drop=0.02, duplicate=0.02, stall=0.02),
]
LOW_RATE = {"flip 0.01", "drop 0.01", "duplicate 0.05", "stall 0.03 (0.3 s)"}
SESSION_LIMIT_S = 120.0


def session_through(proxy_faults: Faults | None, elf: Path, inputs: list[bytes], seed: int = 0):
    """run_on_qemu's session, with the fault-injecting proxy between host and QEMU."""
    with QemuTarget(elf, "mps2-an385") as qemu:
        proxy = FaultyProxy(qemu.port, proxy_faults or Faults(), seed=seed)
        port = serial.serial_for_url(f"socket://127.0.0.1:{proxy.port}", timeout=0.05)
        link = TargetLink(port, label="mps2-an385 behind a faulty link",
                          timing=LinkTiming.for_baudrate(115200),
                          alive=lambda grace: qemu.check_alive(link.phase, grace))
        try:
            return run_session(link, inputs, SESSION_LIMIT_S, NS_PER_INSTRUCTION,
                               board="mps2-an385", process_s=5.0), proxy.tally
        finally:
            port.close()
            proxy.close()


@pytest.fixture(scope="module")
def clean_run(firmware):
    run, _ = session_through(None, firmware["mps2-an385"].elf, sample_inputs(10, seed=11))
    return run


@pytest.mark.parametrize("faults", FAULTS, ids=Faults.label)
def test_damaged_link_gives_clean_results_or_one_line(faults, firmware, clean_run):
    start = time.monotonic()
    try:
        run, tally = session_through(faults, firmware["mps2-an385"].elf,
                                     sample_inputs(10, seed=11), seed=7)
    except StageError as error:
        message = str(error)
        assert "\n" not in message and "Traceback" not in message
        assert time.monotonic() - start < SESSION_LIMIT_S + 15
        assert faults.label() not in LOW_RATE, f"{faults.label()}: {message}"
        return
    assert run.outputs == clean_run.outputs
    assert run.ticks == clean_run.ticks and run.instructions == clean_run.instructions
    assert run.target_info == clean_run.target_info
    assert (run.uart_bytes_sent, run.uart_bytes_received) == \
        (clean_run.uart_bytes_sent, clean_run.uart_bytes_received)
    assert tally.chunks > 0
