"""doit entry point: ``doit scenario=NAME report`` (see README.md).

Thin on purpose: it validates the selected scenarios and hands doit one task per
(stage, scenario). No machine-learning framework is imported here.
"""

import sys
from pathlib import Path

from doit import get_var

from kenning_tasks import doit_state, expected_failures
from kenning_tasks.errors import KenningTasksError, format_error
from kenning_tasks.graph import DOIT_CONFIG, Graph

expected_failures.install()  # Ctrl-C: one line, not a traceback
try:
    GRAPH = Graph(get_var("scenario"))
    doit_state.prepare(Path(DOIT_CONFIG["dep_file"]))  # damaged: set aside; locked: wait
    doit_state.guard_writes()  # a full disk or a lock at the end of a run: one line
except KenningTasksError as error:
    sys.exit(format_error(error))

__all__ = ["DOIT_CONFIG"]


def task_dataset():
    """Prepare the dataset: deterministic train/validation/test splits (.npz)."""
    yield from GRAPH.tasks("dataset")


def task_train():
    """Train the model (seeded, deterministic) in its native framework."""
    yield from GRAPH.tasks("train")


def task_convert():
    """Convert the trained model to the format the optimizer chain starts with."""
    yield from GRAPH.tasks("convert")


def task_quantize():
    """Quantize the model (the optimizers' quantize phases)."""
    yield from GRAPH.tasks("quantize")


def task_compile():
    """Compile the model for its runtime (the optimizers' compile phases)."""
    yield from GRAPH.tasks("compile")


def task_firmware():
    """Generate C for the model and build the firmware ELF (embedded platforms)."""
    yield from GRAPH.tasks("firmware")


def task_simulate():
    """Run the firmware in QEMU and stream the test split over UART (QEMU platforms)."""
    yield from GRAPH.tasks("simulate")


def task_flash():
    """Flash the firmware to a board and stream the test split over UART (hardware)."""
    yield from GRAPH.tasks("flash")


def task_evaluate():
    """Measure quality, latency and size over the test split (measurements.json)."""
    yield from GRAPH.tasks("evaluate")


def task_report():
    """Write report.md / report.html (and a comparison for several scenarios)."""
    yield from GRAPH.tasks("report")
