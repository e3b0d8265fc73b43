"""Run firmware in qemu-system-arm and talk to it over its emulated UART.

QEMU is started directly with subprocess.Popen (so we hold its own PID) and is stopped by that
PID on every way out of ``QemuTarget``: success, errors, timeouts and KeyboardInterrupt.
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
from kenning_tasks.mcu.boards import Board
from kenning_tasks.mcu.link import TargetLink, TargetRun, run_session

QEMU = "qemu-system-arm"
_PTY_RE = re.compile(r"char device redirected to (/dev/pts/\d+)")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class QemuTarget:
    """A QEMU instance running ``elf`` on ``machine``; use as a context manager.

    ``serial="tcp"``: the UART is a TCP server on a free local port (QEMU waits for us to
    connect before it starts the guest); ``connect()`` returns a pyserial ``socket://`` port.
    ``serial="pty"``: the UART is a pseudo-terminal, ``device`` is its /dev/pts path.
    ``-icount shift=0`` makes virtual time count instructions, so timings are reproducible.
    """

    def __init__(self, elf: Path, machine: str, serial: str = "tcp",
                 extra_args: Sequence[str] = (), start_timeout_s: float = 10.0) -> None:
        if serial not in ("tcp", "pty"):
            raise ValueError("serial must be 'tcp' or 'pty'")
        self.elf = Path(elf)
        self.machine = machine
        self.serial = serial
        self.extra_args = tuple(extra_args)
        self.start_timeout_s = start_timeout_s
        self.process: subprocess.Popen | None = None
        self.port: int | None = None
        self.device: str | None = None
        self._log = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def command(self, serial_spec: str) -> list[str]:
        return [QEMU, "-M", self.machine, "-nographic", "-monitor", "none",
                "-kernel", str(self.elf), "-icount", "shift=0",
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
            self.port = _free_port()
            spec = f"tcp:127.0.0.1:{self.port},server=on,wait=on,nodelay=on"
        else:
            spec = "pty"
        # Own session: a terminal's Ctrl-C reaches only us, and we stop QEMU ourselves.
        self.process = subprocess.Popen(
            self.command(spec), stdin=subprocess.DEVNULL, stdout=self._log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
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

    def close(self) -> None:
        self.stop()
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> QemuTarget:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def run_on_qemu(elf: Path, board: Board, inputs: Sequence[bytes],
                timeout_s: float = 60.0) -> TargetRun:
    """Boot ``elf`` on the board's QEMU machine and run every input through it."""
    if not board.qemu_machine:
        raise StageError(f"board {board.name} has no QEMU machine; use run_on_serial")
    with QemuTarget(elf, board.qemu_machine) as qemu:
        pid = qemu.pid
        port = qemu.connect()
        try:
            link = TargetLink(port, label=f"{board.name} in QEMU")
            run = run_session(link, inputs, timeout_s, ns_per_tick_is_instruction=True)
        finally:
            port.close()
    run.target_info["qemu_machine"] = board.qemu_machine
    run.target_info["qemu_pid"] = pid  # lets callers check the process is gone
    return run
