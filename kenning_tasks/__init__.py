"""kenning-tasks: an incremental, doit-based pipeline from dataset to microcontroller to report."""

__version__ = "0.1.0"
