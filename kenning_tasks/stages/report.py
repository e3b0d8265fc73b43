"""report stage: Markdown and self-contained HTML reports from measurements.json."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from kenning_tasks import artifacts, plots
from kenning_tasks.block import distribution_version
from kenning_tasks.layout import TEMPLATES_DIR
from kenning_tasks.progress import log
from kenning_tasks.stages.base import Stage, StageContext
from kenning_tasks.stages.evaluate import MEASUREMENTS

TEMPLATE_DIR = TEMPLATES_DIR
TEMPLATES = ("report.md.j2", "report.html.j2")
PLOTS = {
    "confusion_matrix": "confusion_matrix.png",
    "latency_histogram": "inference_time_histogram.png",
    "latency_over_time": "inference_time.png",
}


def render(template: str, **context: Any) -> str:
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR), undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(["html.j2"]), keep_trailing_newline=True)
    environment.filters["embed_png"] = _embed_png
    return environment.get_template(template).render(**context)


def _embed_png(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode()


def run(ctx: StageContext) -> None:
    measurements = json.loads(ctx.path(MEASUREMENTS).read_text())
    out = ctx.out_dir
    plots.confusion_matrix(measurements["confusion_matrix"], measurements["class_names"],
                           out / PLOTS["confusion_matrix"])
    times = measurements["inference_times_s"]
    plots.latency_histogram(times, out / PLOTS["latency_histogram"])
    plots.latency_over_time(times, out / PLOTS["latency_over_time"])
    context = {"m": measurements, "plots": {k: out / v for k, v in PLOTS.items()},
               "plot_files": PLOTS}
    artifacts.write_text(out / "report.md", render("report.md.j2", **context))
    artifacts.write_text(out / "report.html", render("report.html.j2", **context))
    ctx.log(f"wrote {out / 'report.md'} and {out / 'report.html'}")


STAGE = Stage(
    name="report",
    doc="Write report.md and a self-contained report.html with plots",
    run=run,
    outputs=lambda s: ["report/report.md", "report/report.html",
                       *(f"report/{name}" for name in PLOTS.values())],
    inputs=lambda s: [MEASUREMENTS],
    external_inputs=lambda s: [TEMPLATE_DIR / name for name in TEMPLATES],
    modules=lambda s: ["kenning_tasks.stages.report", "kenning_tasks.plots"],
    tools=lambda s: {n: distribution_version(n) for n in ("jinja2", "matplotlib")},
)


def comparison_rows(all_measurements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Accuracy, mean latency, size, and speedup / size ratio against the first scenario."""
    base = all_measurements[0]
    rows = []
    for m in all_measurements:
        mean = m["inference_time_s"]["mean"]
        rows.append({
            "scenario": m["scenario"], "accuracy": m["accuracy"], "mean_latency_s": mean,
            "model_size_bytes": m["model_size_bytes"],
            "speedup": base["inference_time_s"]["mean"] / mean if mean else float("nan"),
            "size_ratio": m["model_size_bytes"] / base["model_size_bytes"],
            # Target latency is simulated time, host latency wall clock: say which is which.
            "timing": "target" if "on_target" in m else "host",
        })
    return rows


COMPARISON_FILES = ("comparison.json", "report.md", "report.html")


def write_comparison(rows: list[dict[str, Any]], target: Path, title: str = "Comparison",
                     extra: dict[str, Any] | None = None) -> list[Path]:
    """Write the comparison table as JSON, Markdown and HTML; return the files written."""
    context = {"rows": rows, "title": title, **(extra or {})}
    artifacts.write_json(target / "comparison.json", rows)
    artifacts.write_text(target / "report.md", render("comparison.md.j2", **context))
    artifacts.write_text(target / "report.html", render("comparison.html.j2", **context))
    return [target / name for name in COMPARISON_FILES]


def run_comparison(measurement_files: list[str], out_dir: str) -> dict[str, Any]:
    """doit action for the multi-scenario comparison report."""
    from kenning_tasks.signature import record_outputs

    rows = comparison_rows([json.loads(Path(f).read_text()) for f in measurement_files])
    written = write_comparison(rows, Path(out_dir))
    log(f"report:comparison: wrote {written[1]}")
    return {"outputs": record_outputs(written)}


def comparison_templates() -> list[Path]:
    return [TEMPLATE_DIR / "comparison.md.j2", TEMPLATE_DIR / "comparison.html.j2"]


