"""Grid-search report: rank every variant by the search metric and name the best one.

``results.json`` (every variant with its metrics), ``best.json`` and a comparison report
(``reporting/comparison.py``) whose table highlights the best pipeline and states its metric
in the table's units. All JSON is strict: a metric a variant cannot give is null, never NaN.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kenning_tasks import artifacts
from kenning_tasks.grid import best
from kenning_tasks.progress import log
from kenning_tasks.reporting import comparison
from kenning_tasks.reporting.units import strict

OUTPUTS = ("results.json", "best.json", *comparison.FILES)


def variant_metrics(measurements: dict[str, Any]) -> dict[str, float]:
    """Every metric a grid ranks by, under Kenning's names and ours."""
    from kenning_tasks.kenning_measurements import grid_metrics

    return grid_metrics(measurements)


def run_grid_report(grid_name: str, measurement_files: list[str], labels: dict[str, str],
                    search: dict[str, Any], out_dir: str) -> dict[str, Any]:
    """doit action: results.json (every variant), best.json and a comparison report,
    written into ``out_dir``."""
    from kenning_tasks.signature import record_outputs

    all_measurements = [json.loads(Path(f).read_text()) for f in measurement_files]
    results = strict([{"pipeline": m["scenario"], "label": labels[m["scenario"]],
                       "metrics": variant_metrics(m), "measurements": f}
                      for m, f in zip(all_measurements, measurement_files, strict=True)])
    # A null metric (NaN before strict JSON) is not measured: it is not ranked.
    ranked = [{**r, "metrics": {k: v for k, v in r["metrics"].items() if v is not None}}
              for r in results]
    winner = best(ranked, search["metric"], search["policy"])
    winner = next(r for r in results if r["pipeline"] == winner["pipeline"])
    target = Path(out_dir)
    artifacts.write_json(target / "results.json", {"search": search, "results": results})
    artifacts.write_json(target / "best.json", strict({"search": search, **winner}))
    from kenning_tasks.framework_noise import quiet

    rows = comparison.comparison_rows(all_measurements, labels)
    with quiet(target):
        written = comparison.write_comparison(rows, target, title=f"Grid search: {grid_name}",
                                              search=search, best=winner)
    shown = comparison.metric_text(search["metric"], winner["metrics"].get(search["metric"]),
                                   rows)
    log(f"report:{grid_name}: best by {search['metric']} ({search['policy']}): "
        f"{winner['label']} = {shown}")
    paths = [target / "results.json", target / "best.json", *written]
    return {"outputs": record_outputs(paths)}
