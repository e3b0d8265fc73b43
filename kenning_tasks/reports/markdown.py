"""Kenning's MarkdownReport block: what the report stage writes and where the user wants it.

The block is validated and carried on the scenario (``Scenario.report``); its paths are export
requests (``Scenario.exports``). What the report stage must honour is listed in
``STAGE_NEEDS`` (the report stage renders sections by ``report_types``, titles the report with
``report_name``, ranks with ``main_quality_metric`` and writes HTML when ``to_html`` is set).
"""

from __future__ import annotations

from typing import Any

from kenning_tasks.params import Param
from kenning_tasks.problems import Problems
from kenning_tasks.reports.base import Report

REPORT_TYPES = ("performance", "classification", "detection", "text_summarization",
                "renode_stats", "llm_performance", "anomaly")
SUPPORTED_REPORT_TYPES = ("performance", "classification", "anomaly")
UNSUPPORTED_REPORT_TYPES = {
    "detection": "object detection is out of scope",
    "text_summarization": "LLMs are out of scope",
    "llm_performance": "LLMs are out of scope",
    "renode_stats": "Renode is not available here (QEMU instruction counts are in the "
                    "performance section)",
}
# Kenning's Metric enum names (kenning.core.metrics.Metric, lower case).
QUALITY_METRICS = ("acc", "top_5", "mean_prec", "mean_sens", "g_mean", "roc_auc",
                   "roc_auc_weighted", "f1", "f1_weighted", "map", "max_map", "max_map_id")
# The parameters the report stage reads (the rest are accepted with Kenning's meaning).
STAGE_NEEDS = ("report_name", "report_types", "main_quality_metric", "to_html",
               "smaller_header", "skip_general_information", "only_png_images", "save_summary")


class MarkdownReport(Report):
    """Kenning's Markdown report: the sections, title and paths of the pipeline's report."""

    # Kenning's parameters and defaults (kenning.report.markdown_report.MarkdownReport and
    # kenning.core.report.Report).
    PARAMETERS = (
        Param("report_path", str, description="Kenning: where the Markdown report goes "
              "(exported from build/<scenario>/report/ after a successful run)"),
        Param("measurements", (str, list), None, "Kenning: where this run's measurements JSON "
              "goes (exported from evaluate/measurements.json); null keeps it in build/ only",
              nullable=True),
        Param("report_name", str, None, "Kenning: the report's title; null derives one",
              nullable=True),
        Param("report_types", list, None, "Kenning: sections; null derives them from the "
              "measurements", item_type=str, nullable=True),
        Param("to_html", (bool, str), False, "Kenning: also write HTML (true: next to "
              "report_path; a folder: there)"),
        Param("root_dir", str, None, "Kenning: documentation root the report's paths are "
              "relative to", nullable=True),
        Param("img_dir", str, None, "Kenning: folder for the plots", nullable=True),
        Param("only_png_images", bool, False, "Kenning: PNG figures only (SVG otherwise)"),
        Param("model_names", str, None, "Kenning: model names in the report", nullable=True),
        Param("comparison_only", bool, False, "Kenning: only comparison sections (several "
              "measurements)"),
        Param("skip_unoptimized_model", bool, False, "Kenning: leave out the unoptimized "
              "model's measurements"),
        Param("smaller_header", bool, False, "Kenning: a smaller title"),
        Param("save_summary", bool, False, "Kenning: also write <report_path>.summary.json"),
        Param("skip_general_information", bool, False, "Kenning: leave out the configuration "
              "and command sections"),
        Param("main_quality_metric", str, "acc", "Kenning: metric the models are compared by",
              enum=QUALITY_METRICS),
        Param("automl_stats", str, None, "Kenning: AutoML statistics", nullable=True,
              only=(None,), only_reason="AutoML is out of scope; nearest: null"),
    )

    @classmethod
    def check(cls, parameters: dict[str, Any], where: str) -> None:
        problems = Problems()
        for index, kind in enumerate(parameters["report_types"] or ()):
            if kind not in REPORT_TYPES:
                problems.add(f"{where}.report_types[{index}]: {kind!r} is not allowed; "
                             f"allowed: {', '.join(REPORT_TYPES)}")
            elif kind not in SUPPORTED_REPORT_TYPES:
                problems.add(f"{where}.report_types[{index}]: {kind!r} is not supported here "
                             f"({UNSUPPORTED_REPORT_TYPES[kind]}); nearest: "
                             f"{', '.join(SUPPORTED_REPORT_TYPES)}")
        measurements = parameters["measurements"]
        if isinstance(measurements, list):
            if not all(isinstance(m, str) for m in measurements):
                problems.add(f"{where}.measurements: expected a path or a list of paths")
            elif len(measurements) > 1:
                problems.add(f"{where}.measurements: {len(measurements)} files; a pipeline's "
                             "report covers its own run (one path: where its measurements "
                             "go); nearest: compare pipelines with `doit scenario=a,b report`")
        problems.raise_if_any()

    @classmethod
    def complete(cls, parameters: dict[str, Any]) -> dict[str, Any]:
        measurements = parameters["measurements"]
        if isinstance(measurements, list):
            measurements = measurements[0] if measurements and measurements[0] else None
        return {**parameters, "measurements": measurements}

