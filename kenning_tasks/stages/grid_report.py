"""Grid-search report: rank every variant by the search metric and name the best one.

``results.json`` (every variant with its metrics), ``best.json`` and a comparison report
(``reporting/comparison.py``) whose table highlights the best pipeline and states its metric
in the table's units. All JSON is strict: a metric a variant cannot give is null, never NaN.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from kenning_tasks import artifacts
from kenning_tasks.block import distribution_version
from kenning_tasks.grid import best
from kenning_tasks.reporting import comparison, render
from kenning_tasks.reporting.units import strict
from kenning_tasks.stages.base import Group, Phase, Stage, StageContext

OUTPUTS = ("results.json", "best.json", *comparison.FILES)


def variant_metrics(measurements: dict[str, Any]) -> dict[str, float]:
    """Every metric a grid ranks by, under Kenning's names and ours."""
    from kenning_tasks.kenning_measurements import grid_metrics

    return grid_metrics(measurements)


def run_grid_report(grid_name: str, measurement_files: list[str], labels: dict[str, str],
                    search: dict[str, Any], out_dir: str,
                    log: Any = None) -> list[Path]:
    """results.json (every variant), best.json and a comparison report, written into
    ``out_dir``; returns the files written."""
    from kenning_tasks.progress import log as default_log

    log = log or default_log
    all_measurements = [json.loads(Path(f).read_text()) for f in measurement_files]
    # Relative to the grid report's folder: a target holds no host path.
    results = strict([{"pipeline": m["scenario"], "label": labels[m["scenario"]],
                       "metrics": variant_metrics(m),
                       "measurements": os.path.relpath(f, out_dir)}
                      for m, f in zip(all_measurements, measurement_files, strict=True)])
    # A null metric (NaN before strict JSON) is not measured: it is not ranked.
    ranked = [{**r, "metrics": {k: v for k, v in r["metrics"].items() if v is not None}}
              for r in results]
    winner = best(ranked, search["metric"], search["policy"])
    winner = next(r for r in results if r["pipeline"] == winner["pipeline"])
    target = Path(out_dir)
    artifacts.write_json(target / "results.json", {"search": search, "results": results})
    artifacts.write_json(target / "best.json", strict({"search": search, **winner}))
    rows = comparison.comparison_rows(all_measurements, labels)
    written = comparison.write_comparison(rows, target, title=f"Grid search: {grid_name}",
                                          search=search, best=winner)
    shown = comparison.metric_text(search["metric"], winner["metrics"].get(search["metric"]),
                                   rows)
    log(f"best by {search['metric']} ({search['policy']}): {winner['label']} = {shown}")
    return [target / "results.json", target / "best.json", *written]


def run(ctx: StageContext) -> None:
    group = ctx.group
    assert group is not None and group.search is not None
    labels = {name: label for name, label, _ in group.members}
    files = [measurements for _, _, measurements in group.members]
    run_grid_report(group.name, files, labels, dict(group.search), str(ctx.out_dir), ctx.log)


def parameters(group: Group) -> dict[str, Any]:
    return {"search": dict(group.search or {}),
            "labels": {name: label for name, label, _ in group.members}}


STAGE = Stage(
    name="grid_report",
    phase=Phase.COMPARE,
    group="report",
    doc="Rank the grid-search pipelines; write the best one and all results",
    run=run,
    outputs=lambda group: list(OUTPUTS),
    inputs=lambda group: [measurements for _, _, measurements in group.members],
    external_inputs=lambda group: render.template_files(),
    parameters=parameters,
    tools=lambda group: {n: distribution_version(n) for n in ("jinja2", "matplotlib")},
    applies=lambda group: group.search is not None,
)
