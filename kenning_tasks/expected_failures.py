"""Expected failures of a run, each said in one line instead of a traceback.

- **Ctrl-C**: doit lets ``KeyboardInterrupt`` escape and Python prints 20-40 lines of
  traceback. ``install`` (called when ``dodo.py`` loads) replaces that with one line. It is
  true: every artifact is written through ``artifacts.atomic_path`` (a temporary renamed into
  place, removed when interrupted), doit records only the stages that completed, and QEMU is
  stopped by its owner. The exit status stays Python's for an interrupt (killed by SIGINT).
- **Operating-system limits** a stage cannot help: a full disk or quota (``ENOSPC``,
  ``EDQUOT``), a read-only file system, too many open files, no memory. ``stage_failure``
  turns them into the stage's one-line failure.
"""

from __future__ import annotations

import errno
import signal
import sys
from pathlib import Path
from types import TracebackType
from typing import Any

INTERRUPTED = "interrupted; nothing partial was kept (completed stages are kept and reused)"
# errno -> what the user reads; the file name is added when the error carries one.
_LIMITS = {
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.EMFILE: "too many open files",
    errno.ENOMEM: "out of memory",
}
_WRITING = (errno.ENOSPC, errno.EDQUOT, errno.EROFS)

_interrupted = False


def install() -> None:
    """One line for an interrupt (SIGINT or a ``KeyboardInterrupt`` reaching the top)."""
    if sys.excepthook is not _excepthook:
        sys.excepthook = _excepthook
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _on_sigint)


def interrupted() -> bool:
    """Whether this run was interrupted (a reporter prints no "finished" line then)."""
    return _interrupted


def _on_sigint(signum: int, frame: Any) -> None:
    global _interrupted
    _interrupted = True
    raise KeyboardInterrupt


def _excepthook(kind: type[BaseException], error: BaseException,
                traceback: TracebackType | None) -> None:
    if issubclass(kind, KeyboardInterrupt):
        print(f"error: {INTERRUPTED}", file=sys.stderr, flush=True)
        _quiet_absl_at_exit()
        return
    sys.__excepthook__(kind, error, traceback)


def _quiet_absl_at_exit() -> None:
    """An interrupt during TensorFlow's import leaves absl's log handler on doit's captured
    stream, which has no ``close``: logging's exit hook would print a traceback for it."""
    absl_logging = sys.modules.get("absl.logging")
    handler = getattr(getattr(absl_logging, "get_absl_handler", lambda: None)(),
                      "python_handler", None)
    if handler is not None and not hasattr(getattr(handler, "stream", None), "close"):
        handler.stream = sys.stderr


def is_os_limit(error: BaseException) -> bool:
    """Whether ``error`` is a full disk, a quota, a read-only file system or a similar limit."""
    return isinstance(error, OSError) and error.errno in _LIMITS


def stage_failure(error: BaseException, folder: Path | str) -> str | None:
    """One line for an operating-system limit (``OSError``), else None (a real bug).

    ``folder`` is the stage's output folder, named when the error carries no file name.
    """
    if not is_os_limit(error):
        return None
    from kenning_tasks.layout import layout

    where = layout().relative(error.filename or folder)
    verb = "writing" if error.errno in _WRITING else "in"
    return f"{_LIMITS[error.errno]} {verb} {where}; free space or raise the limit, then run again"
