"""Import heavy frameworks on demand, configured for reproducible, quiet CPU runs.

Stage actions call these instead of importing TensorFlow directly, so every stage gets the
same determinism settings and dodo.py never pays for the import.
"""

from __future__ import annotations

import os
import sys
from typing import Any


def import_tensorflow() -> Any:
    """TensorFlow with deterministic ops, oneDNN off (same floats on every CPU), less noise."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_DETERMINISTIC_OPS", "1")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()
    detach_absl_from_captured_streams()
    return tf


def import_keras() -> Any:
    import_tensorflow()
    import keras

    return keras


def detach_absl_from_captured_streams() -> None:
    # absl's log handler keeps the sys.stderr it saw at import; under doit that is a capture
    # object without close(), which makes interpreter shutdown print a traceback.
    try:
        import absl.logging
    except ImportError:
        return
    handler = absl.logging.get_absl_handler().python_handler
    handler.stream = sys.__stderr__
