"""Run firmware in qemu-system-arm and talk to it over its emulated UART.

QEMU is started directly with subprocess.Popen (so we hold its own PID) and is stopped by that
PID on every way out of ``QemuTarget``: success, errors, timeouts and KeyboardInterrupt. If
this process is killed instead, the kernel kills QEMU (``orphans.die_with_parent``), and the
PID file left in the stage folder lets the next run stop any QEMU that still survived.

Instruction counts: ``-icount shift=6`` makes every instruction take 2^6 = 64 ns of virtual
time, so the SysTick clock (40 ns per tick on the MPS2 boards) resolves 0.625 instruction; the
firmware restarts its timer at the start of each inference, so the counts do not depend on when
the host's requests arrived (firmware/app/PROTOCOL.md, "Timing"). A board whose tick is not a
whole number of ns gets the smallest shift for which its counts are still exact
(``icount_shift``: 7 for the 24 MHz STM32F100 and the 16 MHz nRF51). ``sleep=on`` lets virtual
time follow real time while the core sleeps waiting for the UART, so the firmware's timeouts
last about as long as they say.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kenning_tasks.errors import StageError
from kenning_tasks.mcu import orphans
from kenning_tasks.mcu.boards import Board
from kenning_tasks.mcu.link import (
    LinkLost,
    LinkTiming,
    TargetLink,
    TargetRun,
    run_session,
)

# Re-exported: callers and tests take the default shift from here.
from kenning_tasks.mcu.timing import ICOUNT_SHIFT, NS_PER_INSTRUCTION, icount_shift  # noqa: F401

QEMU = "qemu-system-arm"
_PTY_RE = re.compile(r"char device redirected to (/dev/pts/\d+)")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def describe_status(code: int) -> str:
    """"status 1", or "status -9 (SIGKILL)" for a signal."""
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"status {code} ({signal.Signals(-code).name})"
    return f"status {code}"


class QemuTarget:
    """A QEMU instance running ``elf`` on ``machine``; use as a context manager.

    ``serial="tcp"``: the UART is a TCP server on a free local port (QEMU waits for us to
    connect before it starts the guest); ``connect()`` returns a pyserial ``socket://`` port.
    ``serial="pty"``: the UART is a pseudo-terminal, ``device`` is its /dev/pts path.
    ``pid_dir``: where the PID file goes (the stage folder); orphans found there are stopped
    before this QEMU starts.
    """

    def __init__(self, elf: Path, machine: str, serial: str = "tcp",
                 extra_args: Sequence[str] = (), start_timeout_s: float = 10.0,
                 pid_dir: Path | None = None, shift: int = ICOUNT_SHIFT,
                 wait_for_client: bool = True) -> None:
        if serial not in ("tcp", "pty"):
            raise ValueError("serial must be 'tcp' or 'pty'")
        self.elf = Path(elf)
        self.machine = machine
        self.serial = serial
        self.extra_args = tuple(extra_args)
        self.start_timeout_s = start_timeout_s
        self.pid_dir = Path(pid_dir) if pid_dir is not None else None
        self.shift = shift
        self.wait_for_client = wait_for_client
        self.process: subprocess.Popen | None = None
        self.port: int | None = None
        self.device: str | None = None
        self.swept: list[int] = []
        self._log = None
        self._pid_file: Path | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def command(self, serial_spec: str) -> list[str]:
        return [QEMU, "-M", self.machine, "-nographic", "-monitor", "none",
                "-kernel", str(self.elf), "-icount", f"shift={self.shift},sleep=on",
                "-serial", serial_spec, *self.extra_args]

    def log_text(self) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")

    def start(self) -> QemuTarget:
        if shutil.which(QEMU) is None:
            raise StageError(f"{QEMU} not found; install the Debian package qemu-system-arm")
        if not self.elf.is_file():
            raise StageError(f"firmware {self.elf} does not exist")
        if self.pid_dir is not None:
            self.swept = orphans.sweep(self.pid_dir)
        try:
            for _attempt in range(3):
                if self._launch():
                    return self
            raise StageError(f"QEMU could not open a TCP port for {self.machine}: "
                             f"{self.log_text().strip()}")
        except BaseException:  # includes KeyboardInterrupt while QEMU boots
            self.close()
            raise

    def _launch(self) -> bool:
        """Start QEMU once; False if it lost a race for the TCP port (caller retries)."""
        self.stop()
        # QEMU's console output; lives as long as the instance and is closed in close().
        self._log = tempfile.TemporaryFile()  # noqa: SIM115
        if self.serial == "tcp":
            self.port = free_port()
            wait = "on" if self.wait_for_client else "off"
            spec = f"tcp:127.0.0.1:{self.port},server=on,wait={wait},nodelay=on"
        else:
            spec = "pty"
        # Own session: a terminal's Ctrl-C reaches only us, and we stop QEMU ourselves;
        # die_with_parent covers the case where we are killed and cannot.
        self.process = subprocess.Popen(
            self.command(spec), stdin=subprocess.DEVNULL, stdout=self._log,
            stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=orphans.die_with_parent(),
        )
        if self.pid_dir is not None:
            self._pid_file = orphans.record(self.pid_dir, self.process)
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = self.log_text()
                if "Address already in use" in log:
                    return False
                raise StageError(f"QEMU ({self.machine}) exited with code "
                                 f"{self.process.returncode}: {log.strip()[-300:]}")
            if self.serial == "pty":
                found = _PTY_RE.search(self.log_text())
                if found:
                    self.device = found.group(1)
                    return True
            elif self._listening():
                return True
            time.sleep(0.01)
        raise StageError(f"QEMU ({self.machine}) did not open its serial port within "
                         f"{self.start_timeout_s:.0f} s")

    def _listening(self) -> bool:
        # QEMU accepts exactly one client for its UART, so only look for the listening socket.
        with contextlib.suppress(OSError), open("/proc/net/tcp") as table:
            wanted = f":{self.port:04X}"
            return any(fields[1].endswith(wanted) and fields[3] == "0A"
                       for fields in (line.split() for line in table.readlines()[1:]))
        return False

    def connect(self) -> Any:
        """A pyserial port object connected to the guest's UART."""
        import serial

        if self.process is None:
            raise StageError("QEMU is not running")
        url = (f"socket://127.0.0.1:{self.port}" if self.serial == "tcp" else self.device)
        try:
            if self.serial == "tcp":
                return serial.serial_for_url(url, timeout=0.05)
            return serial.Serial(url, baudrate=115200, timeout=0.05)
        except (serial.SerialException, OSError) as exc:
            raise StageError(f"cannot connect to QEMU's UART at {url}: {exc}") from exc

    def check_alive(self, what: str = "the session", grace_s: float = 1.0) -> None:
        """Raise LinkLost("QEMU exited with status -9 during sample 17") if QEMU is gone.

        Called when the link fails: a reset connection shows before QEMU's exit is visible,
        so wait up to ``grace_s`` for it.
        """
        process = self.process
        if process is None:
            raise LinkLost(f"QEMU ({self.machine}) is not running during {what}")
        try:
            code = process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            return
        raise LinkLost(f"QEMU ({self.machine}) exited with {describe_status(code)} "
                       f"during {what}")

    def stop(self) -> None:
        """Stop QEMU by its PID (SIGTERM, then SIGKILL) and reap it. Safe to call twice."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                process.wait()
        elif process is not None:
            process.wait()
        orphans.forget(self._pid_file)
        self._pid_file = None

    def close(self) -> None:
        self.stop()
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> QemuTarget:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def run_on_qemu(elf: Path, board: Board, inputs: Sequence[bytes], timeout_s: float = 60.0,
                pid_dir: Path | None = None, process_s: float = 30.0) -> TargetRun:
    """Boot ``elf`` on the board's QEMU machine and run every input through it.

    The firmware must report ``board``'s name. ``pid_dir``: see ``QemuTarget``.
    """
    if not board.qemu_machine:
        raise StageError(f"board {board.name} has no QEMU machine; use run_on_serial")
    shift = icount_shift(board)
    with QemuTarget(elf, board.qemu_machine, pid_dir=pid_dir, shift=shift) as qemu:
        pid = qemu.pid
        port = qemu.connect()
        link: TargetLink | None = None

        def alive(grace_s: float) -> None:
            qemu.check_alive(link.phase if link else "the session", grace_s)

        try:
            # The emulated UART is not paced by its baud rate, but the board's rate is a
            # safe lower bound for the per-request deadlines.
            link = TargetLink(port, label=f"{board.name} in QEMU",
                              timing=LinkTiming.for_baudrate(board.uart_baudrate), alive=alive)
            run = run_session(link, inputs, timeout_s, ns_per_instruction=1 << shift,
                              board=board.firmware_name, process_s=process_s)
        finally:
            port.close()
    run.target_info["qemu_machine"] = board.qemu_machine
    run.target_info["icount_shift"] = shift
    run.log["qemu_pid"] = pid  # lets callers check the process is gone
    run.log["qemu_orphans_stopped"] = qemu.swept
    return run
