"""Live progress of long work: a bar on a terminal, a plain line now and then in a CI log.

Two ways in, each one line where the work happens:

- ``for sample in each(samples, "samples"):`` counts items (samples sent to the target,
  host inferences, calibration samples, downloaded bytes with ``weight=len``);
- ``with working("TFLiteCompiler.quantize keras→tflite"):`` for one opaque call (a
  conversion, a firmware link): the elapsed time.

The stage's logger is set once per stage by the action (``with stage(log):``), so hooks need
no arguments. On a terminal (the real stderr, ``framework_noise.terminal()``) tqdm draws a bar
that disappears when the work ends (the stage's own summary line follows). Elsewhere a line
goes through the stage's logger at most every ``PLAIN_PERIOD_S`` seconds, so a short loop
prints nothing and a long one tells a CI log it is alive. ``KENNING_TASKS_PROGRESS`` =
``bar`` / ``plain`` / ``off`` overrides the choice; worker processes (``doit -n N``) use
plain lines, since bars from several processes would overwrite each other.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from kenning_tasks.framework_noise import terminal

PROGRESS_ENV = "KENNING_TASKS_PROGRESS"
PLAIN_PERIOD_S = 5.0
MODES = ("bar", "plain", "off")
T = TypeVar("T")

_log: contextvars.ContextVar[Callable[[str], None] | None] = contextvars.ContextVar(
    "stage_log", default=None)
_bars = 0  # bars (or meters) currently drawn, so log lines can step around them
_lock = threading.Lock()


@contextlib.contextmanager
def stage(log: Callable[[str], None]) -> Iterator[None]:
    """Progress inside the block is reported through ``log`` (a ``StageLogger``)."""
    token = _log.set(log)
    try:
        yield
    finally:
        _log.reset(token)


def mode() -> str:
    chosen = os.environ.get(PROGRESS_ENV, "").strip().lower()
    if chosen in MODES:
        return chosen
    import multiprocessing  # here, not at import: stage modules load with the graph

    if multiprocessing.current_process().name != "MainProcess":
        return "plain"
    try:
        return "bar" if terminal().isatty() else "plain"
    except (AttributeError, ValueError, OSError):
        return "plain"


def write_line(text: str) -> None:
    """Print one of our lines on the terminal without breaking a bar being drawn."""
    stream = terminal()
    if _bars:
        from tqdm import tqdm

        with tqdm.external_write_mode(file=stream):
            print(text, file=stream, flush=True)
    else:
        print(text, file=stream, flush=True)


def each(items: Iterable[T], what: str = "items", total: int | None = None,
         weight: Callable[[T], int] | None = None, unit: str = "") -> Iterator[T]:
    """Yield ``items`` while showing how far along they are (see the module's docstring)."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with Meter(what, total, unit) as meter:
        for item in items:
            yield item
            meter.advance(weight(item) if weight else 1)


class Meter:
    """Counts work done out of ``total`` (None: unknown) and shows it."""

    def __init__(self, what: str, total: int | None, unit: str = "") -> None:
        self.what, self.total, self.unit = what, total, unit
        self.done = 0
        self.started = time.monotonic()
        self._last_line = self.started
        self._mode = mode()
        self._log = _log.get()
        self._bar: Any = None

    def __enter__(self) -> Meter:
        global _bars
        if self._mode == "bar":
            from tqdm import tqdm

            self._bar = tqdm(total=self.total, desc=_desc(self._log, self.what),
                             file=terminal(), leave=False, mininterval=0.25,
                             unit=self.unit or "it", unit_scale=self.unit == "B",
                             unit_divisor=1024, **_width())
            with _lock:
                _bars += 1
        _Heartbeat.meters += 1
        return self

    def advance(self, amount: int = 1) -> None:
        self.done += amount
        if self._bar is not None:
            self._bar.update(amount)
        elif self._mode == "plain":
            now = time.monotonic()
            if now - self._last_line >= PLAIN_PERIOD_S:
                self._last_line = now
                _say(self._log, self._line(now))

    def __exit__(self, *exc: object) -> None:
        global _bars
        _Heartbeat.meters -= 1
        if self._bar is not None:
            self._bar.close()
            with _lock:
                _bars -= 1

    def _line(self, now: float) -> str:
        elapsed = now - self.started
        done = _amount(self.done, self.unit)
        if not self.total:
            return f"{self.what}: {done} in {elapsed:.0f} s"
        share = self.done / self.total
        left = elapsed / share - elapsed if share else 0.0
        return (f"{self.what}: {done} of {_amount(self.total, self.unit)} ({100 * share:.0f} %)"
                f", {elapsed:.0f} s, about {left:.0f} s left")


@contextlib.contextmanager
def working(what: str) -> Iterator[None]:
    """Show that one long call (``what``) is still running, with its elapsed time."""
    heartbeat = _Heartbeat(what, _log.get(), mode())
    heartbeat.start()
    try:
        yield
    finally:
        heartbeat.stop()


class _Heartbeat:
    """A thread that redraws an elapsed-time bar, or writes a plain line now and then."""

    meters = 0  # while a Meter reports, plain heartbeats keep quiet

    def __init__(self, what: str, log: Callable[[str], None] | None, chosen: str) -> None:
        self.what, self.log, self.mode = what, log, chosen
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="progress", daemon=True)
        self._bar: Any = None

    def start(self) -> None:
        global _bars
        if self.mode == "off":
            return
        if self.mode == "bar":
            from tqdm import tqdm

            self._bar = tqdm(total=None, desc=_desc(self.log, self.what), file=terminal(),
                             leave=False, bar_format="{desc}: {elapsed}", **_width())
            with _lock:
                _bars += 1
        self._thread.start()

    def stop(self) -> None:
        global _bars
        if self.mode == "off":
            return
        self._stop.set()
        self._thread.join()
        if self._bar is not None:
            self._bar.close()
            with _lock:
                _bars -= 1

    def _run(self) -> None:
        period = 0.5 if self._bar is not None else PLAIN_PERIOD_S
        while not self._stop.wait(period):
            if self._bar is not None:
                self._bar.refresh()
            elif not _Heartbeat.meters:
                _say(self.log, f"{self.what}: still working, "
                               f"{time.monotonic() - self.started:.0f} s")


def _width() -> dict[str, Any]:
    """Follow the terminal's width; a terminal that reports none (0 columns: a pty nobody
    sized, as in ``script`` or some CI runners) gets 100, since tqdm draws nothing at 0."""
    try:
        columns = os.get_terminal_size(terminal().fileno()).columns
    except (AttributeError, ValueError, OSError):
        columns = 0
    return {"dynamic_ncols": True} if columns else {"ncols": 100}


def _desc(log: Callable[[str], None] | None, what: str) -> str:
    task = getattr(log, "task_name", "")
    return f"{task}: {what}" if task else what


def _say(log: Callable[[str], None] | None, message: str) -> None:
    if log is not None:
        log(message)
    else:
        write_line(message)


def _amount(count: int, unit: str) -> str:
    if unit == "B":
        for name, size in (("MiB", 1 << 20), ("KiB", 1 << 10)):
            if count >= size:
                return f"{count / size:.1f} {name}"
        return f"{count} B"
    return f"{count}"
