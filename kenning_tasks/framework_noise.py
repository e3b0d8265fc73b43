"""Quiet by default: what TensorFlow, LiteRT, ONNX Runtime, PyTorch and friends print while a
stage runs is captured, not shown.

Frameworks write from C++ straight to file descriptors 1 and 2 (TensorFlow's ``E0000 …
node_def_util.cc … use_unbounded_threadpool`` line is logged at ERROR level, so
``TF_CPP_MIN_LOG_LEVEL`` cannot hide it; the TFLite converter's ``fully_quantize: 0, …``
print; ``INFO: Created TensorFlow Lite XNNPACK delegate``), from Python through ``warnings``
and ``logging`` (ONNX Runtime's "Please consider to run pre-processing"). ``quiet()`` points
both descriptors at a temporary file and records Python warnings around a stage's work, then:

- drops what is known to be harmless (``KNOWN_NOISE``, deprecation warnings);
- restates what may matter (an unknown ERROR line, a RuntimeWarning, an unknown UserWarning)
  in one line of ours through the stage's logger;
- keeps the whole text in ``<stage folder>/framework-output.log`` (run information: not an
  output, never hashed or cached) and names it when something was restated;
- replays everything on the real stderr when the stage fails unexpectedly, so a crash is never
  hidden.

Our own lines (the stage logger, progress bars) go to ``terminal()``, the real stderr.
``KENNING_TASKS_VERBOSE=1`` turns all of this off: every framework line is shown as printed.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

VERBOSE_ENV = "KENNING_TASKS_VERBOSE"
OUTPUT_FILE = "framework-output.log"
MAX_RESTATED = 3  # lines of ours per stage; the rest is in the output file

# Lines frameworks print that say nothing a user can act on (regular expressions).
KNOWN_NOISE = (
    r"node_def_util\.cc.*use_unbounded_threadpool",
    r"All log messages before absl::InitializeLog\(\) is called are written to STDERR",
    r"^fully_quantize: \d+, inference_type: \d+",
    r"INFO: Created TensorFlow Lite XNNPACK delegate",
    r"Please consider (to run )?pre-processing before quantization",
    r"torchvision is not installed\. Skipping torchvision::",
    r"Statistics for quantized inputs were expected, but not specified",
    r"oneDNN custom operations are on",
    r"This TensorFlow binary is optimized to use available CPU instructions",
    r"To enable the following instructions: .* in other operations, rebuild TensorFlow",
    r"Unable to register cu(DNN|FFT|BLAS) factory",
    r"computation placer already registered",
    r"Could not find cuda drivers",
    r"TF-TRT Warning",
    r"tf\.lite\.Interpreter is deprecated",
    r"^\s*warnings\.warn\(",
)
NOISY_CATEGORIES = (DeprecationWarning, PendingDeprecationWarning, FutureWarning, ImportWarning,
                    ResourceWarning)
_ERROR_LINE = r"^(E\d{4} |F\d{4} )|\b(ERROR|FATAL)\b|\bError:|\berror:"

_terminal: IO[str] | None = None  # the real stderr while output is captured


def verbose() -> bool:
    return os.environ.get(VERBOSE_ENV, "").strip().lower() not in ("", "0", "false", "no")


def terminal() -> IO[str]:
    """Where our own lines go: the real stderr, also while framework output is captured."""
    return _terminal or sys.stderr


@contextlib.contextmanager
def quiet(folder: Path | None = None, log: Callable[[str], None] | None = None
          ) -> Iterator[None]:
    """Capture framework output around the block (see the module's docstring).

    ``folder``: where ``framework-output.log`` goes; ``log``: the stage's logger, for the
    lines restated. Nested uses and verbose runs pass everything through.
    """
    import tempfile

    global _terminal
    if verbose() or _terminal is not None:
        yield
        return
    _flush()
    failure: BaseException | None = None
    recorded: list[warnings.WarningMessage] = []
    with tempfile.TemporaryFile() as capture, os.fdopen(
            os.dup(2), "w", buffering=1, encoding="utf-8", errors="replace") as real:
        saved = {fd: os.dup(fd) for fd in (1, 2)}
        try:
            _terminal = real
            for fd in (1, 2):
                os.dup2(capture.fileno(), fd)
            with warnings.catch_warnings(record=True) as recorded:
                warnings.simplefilter("default")  # each distinct warning once
                try:
                    yield
                except BaseException as error:
                    failure = error
                    raise
        finally:
            _flush()
            for fd, copy in saved.items():
                os.dup2(copy, fd)
                os.close(copy)
            _terminal = None
            capture.seek(0)
            text = capture.read().decode("utf-8", "replace")
            _report(text, recorded, folder, log or _print_to(real), failure, real)


def summarise(text: str, recorded: list[Any]) -> tuple[list[str], int]:
    """(lines worth restating, lines hidden) for captured ``text`` and warnings."""
    noise, error_line = _patterns()
    notable: list[str] = []
    hidden = 0
    for line in text.splitlines():
        if not line.strip():
            continue
        if noise.search(line) or not error_line.search(line):
            hidden += 1
            continue
        notable.append(_shorten(line))
    for item in recorded:
        message = str(item.message)
        if issubclass(item.category, NOISY_CATEGORIES) or noise.search(message):
            hidden += 1
            continue
        where = Path(item.filename).name
        notable.append(_shorten(f"{item.category.__name__} from {where}: {message}"))
    unique = list(dict.fromkeys(notable))
    return unique, hidden


@functools.cache
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    return re.compile("|".join(f"(?:{p})" for p in KNOWN_NOISE)), re.compile(_ERROR_LINE)


def _report(text: str, recorded: list[Any], folder: Path | None,
            log: Callable[[str], None], failure: BaseException | None, real: IO[str]) -> None:
    from kenning_tasks.errors import KenningTasksError

    warnings_text = "".join(warnings.formatwarning(w.message, w.category, w.filename,
                                                   w.lineno, None) for w in recorded)
    everything = text + warnings_text
    if failure is not None and not isinstance(failure, KenningTasksError | KeyboardInterrupt):
        if everything.strip():  # an unexpected failure: show what the frameworks said
            real.write("--- framework output before the failure ---\n" + everything)
            real.write("--- end of framework output ---\n")
            real.flush()
        return
    notable, _hidden = summarise(text, recorded)
    saved = _save(folder, everything)
    for line in notable[:MAX_RESTATED]:
        log(f"framework said: {line}")
    if notable:
        more = len(notable) - MAX_RESTATED
        log(("" if more <= 0 else f"{more} more; ")
            + (f"full framework output in {saved}" if saved else "")
            + f" (or run with {VERBOSE_ENV}=1)")


def _save(folder: Path | None, text: str) -> Path | None:
    if folder is None or not text.strip():
        return None
    from kenning_tasks import artifacts
    from kenning_tasks.layout import layout

    target = Path(folder) / OUTPUT_FILE
    try:
        artifacts.write_text(target, text)
    except OSError:
        return None
    return Path(layout().relative(target))


def _print_to(stream: IO[str]) -> Callable[[str], None]:
    def write(message: str) -> None:
        print(message, file=stream, flush=True)

    return write


def _shorten(line: str, width: int = 200) -> str:
    line = " ".join(line.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def _flush() -> None:
    import ctypes

    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    with contextlib.suppress(Exception):
        ctypes.CDLL(None).fflush(None)  # C stdio buffers (a converter's printf)
