"""Comparison and grid reports from hand-made measurements: like-for-like latency, strict
JSON, the best row in the table's units, the files written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kenning_tasks.reporting import comparison, render
from kenning_tasks.stages import grid_report
from tests import report_support as rs


def mixed() -> list[dict]:
    """Two host pipelines and two on-target ones."""
    return [rs.host_classification("host-a"), rs.variant(rs.host_classification(), "host-b", 2),
            rs.on_target("target-a"), rs.variant(rs.on_target(), "target-b", 1.5)]


def test_speedup_compares_host_with_host_and_target_with_target() -> None:
    rows = {r["scenario"]: r for r in comparison.comparison_rows(mixed())}
    assert rows["host-b"]["speedup"] == pytest.approx(0.5)
    assert rows["host-b"]["speedup_relative_to"] == "host-a"
    assert rows["target-a"]["speedup"] == 1.0  # the first target pipeline is its baseline
    assert rows["target-a"]["speedup_relative_to"] == "target-a"
    assert rows["target-b"]["speedup"] == pytest.approx(1 / 1.5)
    assert rows["target-b"]["speedup_relative_to"] == "target-a"
    assert rows["target-a"]["timing"] == "target" and rows["host-a"]["timing"] == "host"
    assert rows["target-b"]["flash_bytes"] == 18421 and "flash_bytes" not in rows["host-a"]


def test_rows_are_strict_json_without_nan() -> None:
    broken = rs.host_classification("zero")
    broken["inference_time_s"]["mean"] = 0.0  # no speedup can be computed
    broken["accuracy"] = float("nan")
    rows = comparison.comparison_rows([rs.host_classification("a"), broken])
    text = json.dumps(rows, allow_nan=False)  # raises on NaN or infinity
    assert rows[1]["speedup"] is None and rows[1]["accuracy"] is None
    assert "NaN" not in text


def test_summary_table_and_target_section() -> None:
    rows = comparison.comparison_rows(mixed())
    doc = comparison.comparison_document(rows, "Comparison", ("accuracy", "accuracy"))
    text = render.to_markdown(doc)
    assert "| host-b | host |" in text and "0.50× vs host-a" in text
    assert "0.67× vs target-a" in text
    assert "vs host-a" not in text.split("| target-b |")[1].split("\n")[0]
    assert [s.id for s in doc.sections] == ["summary", "plots", "on-target"]
    host_only = comparison.comparison_document(rows[:2], "Comparison", ("accuracy", "a"))
    assert [s.id for s in host_only.sections] == ["summary", "plots"]


def test_a_target_pipeline_that_disagrees_with_its_host_is_flagged() -> None:
    rows = comparison.comparison_rows([rs.on_target("good"),
                                       rs.on_target("bad", agreement=0.1486)])
    doc = comparison.comparison_document(rows, "Comparison", ("accuracy", "accuracy"))
    assert [a.text for _s, a in doc.attention()] == [
        "bad: the target's outputs differ from the host reference (agreement 0.1486)."]
    assert "**0.1486 ✗ FAILED**" in render.to_markdown(doc)


def test_metric_text_uses_the_tables_units() -> None:
    rows = comparison.comparison_rows([rs.host_classification()])  # ~7.5 µs per inference
    assert comparison.metric_text("inferencetime_mean", 5.00012e-06, rows) == "5.000 µs"
    assert comparison.metric_text("model_size_bytes", 9384, rows) == "9.2 KiB (9 384 B)"
    assert comparison.metric_text("accuracy", 0.95, rows) == "0.9500"
    assert comparison.metric_text("session_utilization_mem_percent_mean", 41.2, rows) == \
        "41.20 %"


@pytest.fixture(scope="module")
def grid(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A grid report of four host variants; the fastest one's steps were not measured (NaN),
    so it cannot be ranked by inference time."""
    folder = tmp_path_factory.mktemp("grid")
    measurements = [rs.variant(rs.host_classification(), f"grid/v-{i}", scale)
                    for i, scale in enumerate((1.0, 2.0, 0.7, 0.5))]
    measurements[3]["target_inference_step"] = [float("nan")] * 120
    files = []
    for m in measurements:
        path = folder / m["scenario"].replace("/", "_") / "measurements.json"
        path.parent.mkdir()
        path.write_text(json.dumps(m))
        files.append(str(path))
    labels = {"grid/v-0": "tflite int8", "grid/v-1": "onnx f32", "grid/v-2": "tvm",
              "grid/v-3": "iree"}
    search = {"strategy": "grid_search", "metric": "inferencetime_mean", "policy": "min"}
    grid_report.run_grid_report("digits-grid", files, labels, search, str(folder / "report"))
    return folder / "report"


def test_grid_files_are_written_and_strict(grid: Path) -> None:
    assert sorted(p.name for p in grid.iterdir()) == sorted(grid_report.OUTPUTS)
    for name in ("results.json", "best.json", "comparison.json"):
        json.loads((grid / name).read_text(), parse_constant=_refuse)
    best = json.loads((grid / "best.json").read_text())
    assert best["pipeline"] == "grid/v-2" and best["label"] == "tvm"
    results = json.loads((grid / "results.json").read_text())["results"]
    assert results[3]["metrics"]["inferencetime_mean"] is None  # NaN → null, not ranked


def test_grid_best_line_is_in_the_tables_units(grid: Path) -> None:
    text = (grid / "report.md").read_text()
    best = json.loads((grid / "best.json").read_text())["metrics"]["inferencetime_mean"]
    line = next(line for line in text.splitlines() if "**Best:**" in line)
    assert f"inferencetime_mean = {best * 1e6:.2f} µs" in line
    assert "e-0" not in line
    assert "| tvm ★ best | host |" in text
    assert "vs tflite int8" in text  # labels, not variant ids


def test_grid_figures_are_embedded_in_the_html(grid: Path) -> None:
    page = (grid / "report.html").read_text()
    assert page.count('src="data:image/svg+xml;base64,') == len(comparison.FIGURES)
    assert '<tr class="highlight">' in page


def _refuse(constant: str) -> float:
    raise ValueError(f"non-strict JSON constant {constant}")
