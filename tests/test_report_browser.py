"""Reports opened in a real browser (headless Chromium): every page loads with no console
error and no broken image, and holds the sections it should. Screenshots are kept in
``build/screenshots/`` for a person to look at."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kenning_tasks.layout import layout
from kenning_tasks.reporting import comparison, render, single
from tests import report_support as rs
from tests.browser_support import CHROMIUM, Browser, Page
from tests.conftest import Project

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed "
                                 "(scripts/setup.sh installs it)")]
SCREENSHOTS = layout().build / "screenshots"
IMAGES = "Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth])"
SECTIONS = "Array.from(document.querySelectorAll('section')).map(s => s.id)"


def check(browser: Browser, html: Path, sections: list[str], screenshot: str) -> Page:
    page = browser.open(html.resolve().as_uri())
    page.drain()
    assert page.errors == []
    images = page.evaluate(IMAGES)
    assert images and all(complete and width > 0 for _alt, complete, width in images), images
    assert page.evaluate(SECTIONS) == sections
    page.screenshot(SCREENSHOTS / screenshot)
    return page


@pytest.fixture(scope="module")
def browser() -> Browser:
    with Browser() as running:
        yield running
    assert running.process is not None and running.process.poll() is not None


def test_the_harness_sees_broken_images_and_console_errors(browser: Browser,
                                                            tmp_path: Path) -> None:
    page_file = tmp_path / "broken.html"
    page_file.write_text('<!DOCTYPE html><html><body><img src="missing.png" alt="x">'
                         '<script>console.error("boom")</script></body></html>')
    page = browser.open(page_file.as_uri())
    page.drain()
    assert any("boom" in e for e in page.errors)
    assert any("missing.png" in e or "ERR_FILE_NOT_FOUND" in e for e in page.errors)
    assert page.evaluate(IMAGES) == [["x", True, 0]]


CASES = {
    "host": (lambda: single.ReportInputs(rs.host_classification(), "Digits on the host.",
                                         rs.training_history()),
             ("classification", "training", "performance")),
    "anomaly": (lambda: single.ReportInputs(rs.anomaly_detection(), "CSV anomaly detection.",
                                            rs.training_history()),
                ("classification", "training", "performance")),
    "on-target": (lambda: single.ReportInputs(rs.on_target(), "On the M4.",
                                              rs.training_history(),
                                              rs.firmware(per_op=True, symbols=True),
                                              rs.gates(True)), single.SECTIONS),
    "regression": (lambda: single.ReportInputs(
        rs.on_target(agreement=0.1486, flash_bytes=3_900_000), "A kernel regression.",
        rs.training_history(), rs.firmware(flash_bytes=3_900_000), rs.gates(False)),
        single.SECTIONS),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_hand_made_reports_load_cleanly(browser: Browser, tmp_path: Path, case: str) -> None:
    make, sections = CASES[case]
    inputs = make()
    render.write(single.build(inputs, tmp_path, single.ReportOptions(sections=sections)),
                 tmp_path)
    ids = ["overview", *(s.replace("_", "-") for s in sections)]
    page = check(browser, tmp_path / "report.html", ids, f"report-{case}.png")
    banner = page.evaluate("Array.from(document.querySelectorAll('.banner .alert'))"
                           ".map(a => a.className)")
    assert banner == ({"on-target": ["alert pass"], "regression": ["alert fail"]}
                      .get(case, []))
    if case == "regression":
        flagged = page.evaluate("document.querySelectorAll('td.fail, td.warn').length")
        assert flagged >= 4  # agreement twice, the gate's value and verdict, flash twice


def test_comparison_loads_cleanly(browser: Browser, tmp_path: Path) -> None:
    rows = comparison.comparison_rows([
        rs.host_classification("digits-tflite-int8"),
        rs.variant(rs.host_classification(), "digits-onnx-f32", 2.0),
        rs.on_target("digits-int8-qemu-m4"),
        rs.variant(rs.on_target(), "digits-int8-qemu-m3", 1.6)])
    comparison.write_comparison(rows, tmp_path, "Comparison: four pipelines")
    check(browser, tmp_path / "report.html", ["summary", "plots", "on-target"],
          "comparison.png")


@pytest.fixture(scope="module")
def built(module_project: Project) -> Project:
    """A real small host scenario and the reference, and their comparison."""
    run = module_project.doit("scenario=digits-tflite-int8,digits-keras-native", "report")
    assert run.returncode == 0, run.stdout + run.stderr
    return module_project


def test_real_host_scenario_report_loads_cleanly(browser: Browser, built: Project) -> None:
    report = built.build("digits-tflite-int8") / "report"
    check(browser, report / "report.html",
          ["overview", "classification", "training", "performance"], "real-host.png")
    measurements = json.loads((built.build("digits-tflite-int8") /
                               "evaluate/measurements.json").read_text())
    assert measurements["session_utilization_cpus_percent"]  # the CPU panel had data
    assert sorted(p.name for p in report.iterdir()) == [
        "classification.svg", "performance.svg", "report.html", "report.md", "training.svg"]


def test_real_comparison_loads_cleanly(browser: Browser, built: Project) -> None:
    folders = list((built.root / "build" / "comparison").iterdir())
    assert len(folders) == 1
    check(browser, folders[0] / "report.html", ["summary", "plots"], "real-comparison.png")
    rows = json.loads((folders[0] / "comparison.json").read_text())
    assert [r["timing"] for r in rows] == ["host", "host"]
