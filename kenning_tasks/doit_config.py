"""doit's configuration for this project (``DOIT_CONFIG`` in dodo.py); light to import."""

from __future__ import annotations

from typing import Any

from kenning_tasks.change_detection import StampChecker
from kenning_tasks.layout import layout
from kenning_tasks.reporter import StageReporter

DOIT_CONFIG: dict[str, Any] = {
    # sqlite3 tolerates several processes (doit -n N); the default dbm backend does not.
    "backend": "sqlite3",
    "check_file_uptodate": StampChecker,  # size, mtime, ctime and inode, not mtime alone
    "dep_file": str(layout().state_file),
    "default_tasks": ["report"],
    "reporter": StageReporter,
    "verbosity": 1,
}
