"""No QEMU outlives the run that started it.

Two guards, because no single one covers every way a run ends:

- ``die_with_parent()``: a ``preexec_fn`` that asks the kernel to SIGKILL the child when the
  thread that started it dies (``prctl(PR_SET_PDEATHSIG)``). It covers SIGKILL and SIGTERM of
  the parent or of doit's whole process group (the OOM killer, ``timeout``, a cancelled CI
  job), which no ``finally`` sees. QEMU runs in its own session, so a terminal's Ctrl-C
  reaches only the host process, which stops QEMU itself.
- PID files (``record`` / ``sweep``): every QEMU started is written down in the stage folder
  with its owner; a later run stops and reaps any recorded QEMU whose owner is gone (a kill
  between fork and prctl, a kernel that ignores the request, a PID namespace oddity).

A record holds the start time of both processes (``/proc/PID/stat``), so a recycled PID is
never mistaken for the recorded process.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

PR_SET_PDEATHSIG = 1
PID_GLOB = "qemu-*.pid"


def die_with_parent() -> Callable[[], None]:
    """A ``preexec_fn`` making the child receive SIGKILL when this process dies."""
    libc = ctypes.CDLL(None, use_errno=True)  # loaded here: the child only calls it
    prctl = libc.prctl
    parent = os.getpid()

    def hook() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the request took effect
            os._exit(1)

    return hook


def start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot, None if it does not exist."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    if fields[0] == "Z":  # a zombie has exited; only its parent's wait is missing
        return None
    return int(fields[19])


def record(pid_dir: Path, process: subprocess.Popen) -> Path:
    """Write down ``process`` (a QEMU we just started) and its owner, this process."""
    pid_dir.mkdir(parents=True, exist_ok=True)
    path = pid_dir / f"qemu-{process.pid}.pid"
    entry = {"pid": process.pid, "start": start_time(process.pid),
             "owner": os.getpid(), "owner_start": start_time(os.getpid()),
             "command": " ".join(str(arg) for arg in process.args)[:500]}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(entry) + "\n")
    os.replace(tmp, path)
    return path


def forget(path: Path | None) -> None:
    if path is not None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def sweep(pid_dir: Path) -> list[int]:
    """Stop and reap every recorded QEMU in ``pid_dir`` whose owner is gone.

    Records of processes that no longer exist are removed; a QEMU whose owner still runs
    (a concurrent run of the same stage) is left alone. Returns the PIDs stopped.
    """
    stopped = []
    for path in sorted(Path(pid_dir).glob(PID_GLOB)):
        try:
            entry = json.loads(path.read_text())
            pid, started = int(entry["pid"]), entry["start"]
            owner, owner_started = int(entry["owner"]), entry["owner_start"]
        except (OSError, ValueError, KeyError, TypeError):
            forget(path)  # unreadable: written by a run killed mid-write
            continue
        if start_time(pid) != started or started is None:
            _reap(pid)
            forget(path)
            continue
        if owner_started is not None and start_time(owner) == owner_started:
            continue  # its owner still runs (a concurrent run): not an orphan
        _stop(pid, started)
        forget(path)
        stopped.append(pid)
    return stopped


def _stop(pid: int, started: int) -> None:
    for sig, wait_s in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 5.0)):
        if start_time(pid) != started:
            break
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            _reap(pid)
            if start_time(pid) != started:
                return
            time.sleep(0.02)
    _reap(pid)


def _reap(pid: int) -> None:
    # Only our own children can be reaped here; an orphan's new parent (init) reaps it.
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)
