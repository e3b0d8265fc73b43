"""The console while stages run: live progress (bars on a terminal, plain lines in a log) and
framework output captured unless asked for."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kenning_tasks import framework_noise, live_progress
from tests.conftest import REPO


class Lines(list):
    task_name = "simulate:digits"

    def __call__(self, message: str) -> None:
        self.append(message)


# -- live progress -------------------------------------------------------------------------


def test_plain_lines_report_progress_now_and_then(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(live_progress.PROGRESS_ENV, "plain")
    monkeypatch.setattr(live_progress, "PLAIN_PERIOD_S", 0.0)
    log = Lines()
    with live_progress.stage(log):
        assert list(live_progress.each(range(4), "samples on the target")) == [0, 1, 2, 3]
    assert log[0].startswith("samples on the target: 1 of 4 (25 %), ")
    assert log[-1].startswith("samples on the target: 4 of 4 (100 %), ")
    assert "s left" in log[0]


def test_short_work_prints_nothing_in_a_log(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(live_progress.PROGRESS_ENV, "plain")
    log = Lines()
    with live_progress.stage(log):
        list(live_progress.each(range(100), "host inferences"))
        with live_progress.working("convert keras→tflite"):
            pass
    assert log == []  # under PLAIN_PERIOD_S: a CI log stays short


def test_a_long_call_says_it_is_still_working(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(live_progress.PROGRESS_ENV, "plain")
    monkeypatch.setattr(live_progress, "PLAIN_PERIOD_S", 0.05)
    log = Lines()
    with live_progress.stage(log), live_progress.working("TFLiteCompiler.quantize"):
        time.sleep(0.3)
    assert log and log[0].startswith("TFLiteCompiler.quantize: still working, ")


def test_bytes_are_counted_by_weight(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(live_progress.PROGRESS_ENV, "plain")
    monkeypatch.setattr(live_progress, "PLAIN_PERIOD_S", 0.0)
    log = Lines()
    chunks = [b"x" * 2048] * 3
    with live_progress.stage(log):
        list(live_progress.each(chunks, "downloading a.zip", total=6144, weight=len, unit="B"))
    assert log[-1].startswith("downloading a.zip: 6.0 KiB of 6.0 KiB (100 %)")


@pytest.mark.parametrize("columns", [120, 0])  # 0: a pty nobody sized (script, some CI)
def test_a_terminal_gets_a_bar_that_goes_away(monkeypatch: pytest.MonkeyPatch,
                                               columns: int) -> None:
    import fcntl
    import struct
    import termios

    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    terminal = os.fdopen(slave, "w", buffering=1)
    monkeypatch.delenv(live_progress.PROGRESS_ENV, raising=False)
    monkeypatch.setattr(live_progress, "terminal", lambda: terminal)
    log = Lines()
    try:
        assert live_progress.mode() == "bar"
        with live_progress.stage(log):
            for _ in live_progress.each(range(50), "samples on the target"):
                time.sleep(0.01)
            live_progress.write_line("a line of ours")
        terminal.flush()
        os.set_blocking(master, False)
        drawn = ""
        while True:
            try:
                drawn += os.read(master, 1 << 16).decode(errors="replace")
            except BlockingIOError:
                break
    finally:
        terminal.close()
        os.close(master)
    assert "simulate:digits: samples on the target:" in drawn and "/50 [" in drawn
    assert "\r" in drawn and "a line of ours" in drawn
    assert log == []  # the bar replaces plain lines


def test_progress_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(live_progress.PROGRESS_ENV, "off")
    monkeypatch.setattr(live_progress, "PLAIN_PERIOD_S", 0.0)
    log = Lines()
    with live_progress.stage(log):
        list(live_progress.each(range(3), "samples"))
    assert log == []


# -- quiet by default ----------------------------------------------------------------------

NOISY_STAGE = r"""
import ctypes, logging, os, sys, warnings
from pathlib import Path
from kenning_tasks import framework_noise

def log(message):
    print("[ours] " + message, file=framework_noise.terminal(), flush=True)

with framework_noise.quiet(Path(sys.argv[1]), log):
    os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written "
                b"to STDERR\nE0000 00:00:1796173368.311163 18179 node_def_util.cc:682] NodeDef "
                b"mentions attribute use_unbounded_threadpool which is not in the op "
                b"definition\n")
    ctypes.CDLL(None).printf(b"fully_quantize: 0, inference_type: 6, "
                             b"input_inference_type: INT8, output_inference_type: INT8\n")
    os.write(1, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n")
    logging.warning("Please consider to run pre-processing before quantization.")
    warnings.warn("Statistics for quantized inputs were expected, but not specified; "
                  "continuing anyway.")
    warnings.warn("`isinstance(treespec, LeafSpec)` is deprecated", FutureWarning)
    print("a print of a framework")
    log("epoch 1/2 loss=0.5")
    if sys.argv[2] == "notable":
        os.write(2, b"E0000 12:00:00 kernel.cc:12] Error: op FOO is not supported\n")
        warnings.warn("overflow encountered in exp", RuntimeWarning)
    if sys.argv[2] == "crash":
        raise RuntimeError("the converter crashed")
print("[ours] after", file=sys.stderr)
"""


def run_noisy(tmp_path: Path, case: str, verbose: bool = False) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop(framework_noise.VERBOSE_ENV, None)
    if verbose:
        env[framework_noise.VERBOSE_ENV] = "1"
    return subprocess.run([sys.executable, "-c", NOISY_STAGE, str(tmp_path), case],
                          capture_output=True, text=True, timeout=60, env=env)


def test_framework_noise_is_hidden_and_kept_in_a_file(tmp_path: Path) -> None:
    run = run_noisy(tmp_path, "quiet")
    assert run.returncode == 0, run.stderr
    assert run.stdout == ""
    assert run.stderr.splitlines() == ["[ours] epoch 1/2 loss=0.5", "[ours] after"]
    kept = (tmp_path / framework_noise.OUTPUT_FILE).read_text()
    for text in ("use_unbounded_threadpool", "fully_quantize: 0", "XNNPACK delegate",
                 "Please consider to run pre-processing", "Statistics for quantized inputs",
                 "a print of a framework"):
        assert text in kept


def test_what_may_matter_is_restated_in_one_line_each(tmp_path: Path) -> None:
    run = run_noisy(tmp_path, "notable")
    lines = run.stderr.splitlines()
    assert lines[1:3] == [
        "[ours] framework said: E0000 12:00:00 kernel.cc:12] Error: op FOO is not supported",
        "[ours] framework said: RuntimeWarning from <string>: overflow encountered in exp"]
    assert lines[3].startswith("[ours] full framework output in ")
    assert lines[3].endswith(f"(or run with {framework_noise.VERBOSE_ENV}=1)")
    assert not any("use_unbounded_threadpool" in line for line in lines)


def test_an_unexpected_failure_shows_what_the_frameworks_said(tmp_path: Path) -> None:
    run = run_noisy(tmp_path, "crash")
    assert run.returncode != 0
    assert "--- framework output before the failure ---" in run.stderr
    assert "use_unbounded_threadpool" in run.stderr and "the converter crashed" in run.stderr


def test_verbose_shows_everything_as_printed(tmp_path: Path) -> None:
    run = run_noisy(tmp_path, "quiet", verbose=True)
    assert "use_unbounded_threadpool" in run.stderr and "fully_quantize: 0" in run.stdout
    assert "Please consider to run pre-processing" in run.stderr
    assert not (tmp_path / framework_noise.OUTPUT_FILE).exists()


def test_summarise_sorts_noise_from_what_matters() -> None:
    text = ("E0000 00:00:1 node_def_util.cc:682] NodeDef mentions attribute "
            "use_unbounded_threadpool\nI0000 some info\nF0000 check failed: x\n")
    notable, hidden = framework_noise.summarise(text, [])
    assert notable == ["F0000 check failed: x"] and hidden == 2


@pytest.mark.slow
def test_real_tflite_conversion_prints_nothing(tmp_path: Path) -> None:
    """TensorFlow's import and an int8 conversion, as the quantize stage runs them."""
    script = r"""
import sys
from pathlib import Path
from kenning_tasks import framework_noise
with framework_noise.quiet(Path(sys.argv[1])):
    import numpy as np
    from kenning_tasks.frameworks import import_keras, import_tensorflow
    keras, tf = import_keras(), import_tensorflow()
    inputs = keras.Input((8,), batch_size=1)
    model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([np.ones((1, 8), np.float32)] for _ in range(4))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = converter.inference_output_type = tf.int8
    model_bytes = converter.convert()
    from ai_edge_litert.interpreter import Interpreter
    Interpreter(model_content=model_bytes).allocate_tensors()
print("done", file=sys.stderr)
"""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop(framework_noise.VERBOSE_ENV, None)
    run = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True,
                         text=True, timeout=300, env=env)
    assert run.returncode == 0, run.stderr
    assert run.stdout == "" and run.stderr == "done\n"
    kept = (tmp_path / framework_noise.OUTPUT_FILE).read_text()
    assert "fully_quantize" in kept  # the converter did print; it was captured


def test_terminal_is_stderr_outside_a_capture() -> None:
    assert framework_noise.terminal() is sys.stderr
    buffer = io.StringIO()
    assert framework_noise._print_to(buffer)("x") is None and buffer.getvalue() == "x\n"
