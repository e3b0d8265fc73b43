"""Progress lines on stderr (doit captures stdout of actions but lets stderr through)."""

from __future__ import annotations

import time


def log(message: str) -> None:
    from kenning_tasks.live_progress import write_line  # the real stderr, beside any bar

    write_line(f"[{time.strftime('%H:%M:%S')}] {message}")


class StageLogger:
    """Prefixes messages with the task name, e.g. ``train:digits-tflite-int8 epoch 3/15``."""

    def __init__(self, task_name: str) -> None:
        self.task_name = task_name

    def __call__(self, message: str) -> None:
        log(f"{self.task_name}: {message}")
