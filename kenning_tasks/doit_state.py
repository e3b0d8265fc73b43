"""doit's state database (``build/.doit-state.sqlite3``): read it, forget tasks, keep it usable.

Losing the database loses nothing: every stage's result is in the run cache, so a run without
it restores each stage in a fraction of a second. So a damaged database (a bit flip, a file
truncated by a full disk or a crash) is set aside — renamed next to itself, said in one line —
and doit starts a new one; a database another process holds locked is waited for, with a
message, and then refused in one line. ``prepare`` does both before doit opens the file.

doit's sqlite3 backend stores one row per task: ``task_id`` and ``task_data`` (JSON: the
recorded state of each file_dep, ``_values_:`` with what the action returned, ...).

doit writes the database when a run ends (and deletes a failed task's row) and shows any sqlite
error there as a traceback — also for a no-op run on a full disk. doit has no hook for its
backend, so ``guard_writes`` wraps those two writes of its sqlite3 backend once: a write that
fails (disk full, still locked after ``LOCK_WAIT_S``) is rolled back and said in one line; the
run's outcome stands, and the next run restores the unrecorded stages from the run cache.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

from kenning_tasks.errors import KenningTasksError
from kenning_tasks.layout import layout

# How long a run waits for another process to release the database (seconds).
LOCK_WAIT_ENV = "KENNING_TASKS_LOCK_WAIT_S"
LOCK_WAIT_S = 30.0
_LOCKED = "locked"
# Files sqlite keeps beside the database; a hot journal belongs to the file it was made for.
_COMPANIONS = ("-journal", "-wal", "-shm")


def lock_wait_s() -> float:
    """``$KENNING_TASKS_LOCK_WAIT_S`` or 30 s."""
    try:
        return max(0.0, float(os.environ.get(LOCK_WAIT_ENV) or LOCK_WAIT_S))
    except ValueError:
        return LOCK_WAIT_S


def prepare(state_file: Path, wait_s: float | None = None) -> None:
    """Make ``state_file`` safe for doit to open: set a damaged one aside, wait for a lock."""
    if not state_file.exists():
        return
    wait_s = lock_wait_s() if wait_s is None else wait_s
    deadline = time.monotonic() + wait_s
    said_waiting = False
    while (problem := _probe(state_file)) == _LOCKED:
        if time.monotonic() >= deadline:
            raise KenningTasksError(
                f"doit's state database {layout().relative(state_file)} is locked by another "
                f"process (waited {wait_s:.0f} s): another run on this project, or a tool "
                "holding it open; let it finish or stop it, then run again")
        if not said_waiting:
            print(f"waiting for doit's state database {layout().relative(state_file)}: "
                  f"locked by another process (up to {wait_s:.0f} s)", file=sys.stderr,
                  flush=True)
            said_waiting = True
        time.sleep(0.25)
    if problem is not None:
        try:
            aside = set_aside(state_file)
        except OSError as error:
            raise KenningTasksError(
                f"doit's state database {layout().relative(state_file)} is unreadable "
                f"({problem}) and cannot be set aside ({error.strerror}); remove it") from None
        print(f"warning: doit's state database {layout().relative(state_file)} is unreadable "
              f"({problem}); set aside as {aside.name} and started anew (stages are restored "
              "from the run cache)", file=sys.stderr, flush=True)


def _probe(state_file: Path) -> str | None:
    """None if doit can use the file, ``_LOCKED``, or what is wrong with it."""
    try:
        connection = sqlite3.connect(f"file:{state_file}?mode=rw", uri=True, timeout=0.2)
    except sqlite3.Error as error:
        return str(error)
    try:
        connection.execute("BEGIN IMMEDIATE")  # fails at once if another process writes
        connection.rollback()
        checked = connection.execute("PRAGMA quick_check").fetchall()
        if checked != [("ok",)]:
            return "integrity check: " + "; ".join(str(row[0]) for row in checked[:3])
        for (data,) in connection.execute("SELECT task_data FROM doit"):
            json.loads(data)
    except sqlite3.OperationalError as error:
        if "locked" in str(error) or "busy" in str(error):
            return _LOCKED
        if "no such table" in str(error) or "readonly" in str(error):
            return None  # an empty database (doit creates its table), or not ours to heal
        return str(error)
    except (sqlite3.DatabaseError, ValueError, UnicodeDecodeError) as error:
        return str(error).splitlines()[0] if str(error) else type(error).__name__
    finally:
        connection.close()
    return None


def set_aside(state_file: Path) -> Path:
    """Rename ``state_file`` (and its journal) to ``<name>.damaged-<UTC time>``."""
    suffix = time.strftime(".damaged-%Y%m%dT%H%M%SZ", time.gmtime())
    aside = state_file.with_name(state_file.name + suffix)
    state_file.rename(aside)
    for companion in _COMPANIONS:
        with contextlib.suppress(FileNotFoundError):
            state_file.with_name(state_file.name + companion).rename(
                aside.with_name(aside.name + companion))
    return aside


def guard_writes() -> None:
    """Make doit's sqlite3 backend wait longer for a lock and fail its writes in one line."""
    from doit.dependency import SqliteDB

    if getattr(SqliteDB, "_kenning_tasks_guarded", False):
        return
    open_database, dump, remove = SqliteDB._sqlite3, SqliteDB.dump, SqliteDB.remove

    def patient_open(self: Any, name: str) -> Any:
        connection = open_database(self, name)
        connection.execute(f"PRAGMA busy_timeout = {int(lock_wait_s() * 1000)}")
        return connection

    def guarded_dump(self: Any) -> None:
        try:
            dump(self)
        except sqlite3.Error as error:
            _abandon(self._conn, error)

    def guarded_remove(self: Any, task_id: str) -> None:
        try:
            remove(self, task_id)
        except sqlite3.Error as error:
            # The row stays; whatever made this task run still differs from it: it reruns.
            print(f"warning: doit's state database: cannot forget {task_id} ({error})",
                  file=sys.stderr, flush=True)

    SqliteDB._sqlite3, SqliteDB.dump, SqliteDB.remove = patient_open, guarded_dump, guarded_remove
    SqliteDB._kenning_tasks_guarded = True


def _abandon(connection: sqlite3.Connection, error: sqlite3.Error) -> None:
    with contextlib.suppress(sqlite3.Error):
        connection.rollback()
        connection.close()
    print(f"warning: doit's state database was not updated ({error}); the stages that "
          "finished are kept and the next run restores them from the run cache",
          file=sys.stderr, flush=True)


def recorded_state(state_file: Path) -> dict[str, dict[str, Any]]:
    """Everything doit saved, per task id (``stage:scenario``)."""
    if not state_file.is_file():
        return {}
    try:
        with contextlib.closing(sqlite3.connect(state_file, timeout=lock_wait_s())) as connection:
            rows = connection.execute("SELECT task_id, task_data FROM doit").fetchall()
    except sqlite3.Error as error:
        raise KenningTasksError(f"cannot read doit's state database "
                                f"{layout().relative(state_file)}: {error}") from None
    return {task_id: json.loads(data) for task_id, data in rows}


def forget(state_file: Path, task_ids: list[str]) -> None:
    """Drop what doit recorded for ``task_ids``, so the next run reruns them."""
    if not task_ids or not state_file.is_file():
        return
    try:
        with contextlib.closing(sqlite3.connect(state_file, timeout=lock_wait_s())) as connection:
            connection.executemany("DELETE FROM doit WHERE task_id = ?",
                                   [(task_id,) for task_id in task_ids])
            connection.commit()
    except sqlite3.Error as error:
        raise KenningTasksError(f"cannot update doit's state database "
                                f"{layout().relative(state_file)}: {error}") from None
