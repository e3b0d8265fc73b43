"""The report contract: how the report stage renders a pipeline's measurements."""

from __future__ import annotations

from kenning_tasks.block import Block


class Report(Block):
    """Base of report blocks."""

    family = "report"
