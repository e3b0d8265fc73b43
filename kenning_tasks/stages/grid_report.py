"""Grid-search report: rank every variant by the search metric and name the best one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kenning_tasks import artifacts
from kenning_tasks.grid import best
from kenning_tasks.progress import log
from kenning_tasks.stages.report import comparison_rows, write_comparison

OUTPUTS = ("results.json", "best.json", "comparison.json", "report.md", "report.html")


def variant_metrics(measurements: dict[str, Any]) -> dict[str, float]:
    """Every metric a grid ranks by, under Kenning's names and ours."""
    from kenning_tasks.kenning_measurements import grid_metrics

    return grid_metrics(measurements)


def run_grid_report(grid_name: str, measurement_files: list[str], labels: dict[str, str],
                    search: dict[str, Any], out_dir: str) -> dict[str, Any]:
    """doit action: results.json (every variant), best.json and a comparison report."""
    from kenning_tasks.signature import record_outputs

    all_measurements = [json.loads(Path(f).read_text()) for f in measurement_files]
    results = [{"pipeline": m["scenario"], "label": labels[m["scenario"]],
                "metrics": variant_metrics(m), "measurements": f}
               for m, f in zip(all_measurements, measurement_files, strict=True)]
    winner = best(results, search["metric"], search["policy"])
    target = Path(out_dir)
    artifacts.write_json(target / "results.json", {"search": search, "results": results})
    artifacts.write_json(target / "best.json", {"search": search, **winner})
    rows = comparison_rows(all_measurements)
    for row in rows:
        row["label"] = labels[row["scenario"]]
    written = write_comparison(rows, target, title=f"Grid search: {grid_name}",
                               extra={"search": search, "best": winner})
    log(f"report:{grid_name}: best by {search['metric']} ({search['policy']}): "
        f"{winner['label']} = {winner['metrics'][search['metric']]:.6g}")
    paths = [target / "results.json", target / "best.json", *written]
    return {"outputs": record_outputs(paths)}
