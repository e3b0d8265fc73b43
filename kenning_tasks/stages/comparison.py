"""comparison stage: several selected pipelines side by side (``doit scenario=a,b report``).

Its folder is ``build/comparison/<a>+<b>/``, the pipelines' names in the order given
(``graph.comparison_folder_name``), so the same selection always finds its earlier result.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kenning_tasks.block import distribution_version
from kenning_tasks.reporting import comparison, render
from kenning_tasks.stages.base import Group, Phase, Stage, StageContext


def run(ctx: StageContext) -> None:
    group = ctx.group
    assert group is not None
    all_measurements = [json.loads(Path(f).read_text()) for _, _, f in group.members]
    names = ", ".join(m["scenario"] for m in all_measurements)
    written = comparison.write_comparison(comparison.comparison_rows(all_measurements),
                                          ctx.out_dir, title=f"Comparison: {names}")
    ctx.log(f"wrote {written[1]} and {written[2]}")


def parameters(group: Group) -> dict[str, Any]:
    return {"pipelines": group.names}


STAGE = Stage(
    name="comparison",
    phase=Phase.COMPARE,
    group="report",
    doc="Compare the selected pipelines (accuracy, latency, size, ratios)",
    run=run,
    outputs=lambda group: list(comparison.FILES),
    inputs=lambda group: [measurements for _, _, measurements in group.members],
    external_inputs=lambda group: render.template_files(),
    parameters=parameters,
    tools=lambda group: {n: distribution_version(n) for n in ("jinja2", "matplotlib")},
    applies=lambda group: group.search is None,
)
