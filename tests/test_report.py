"""The single-pipeline report from hand-made measurements: what each kind of pipeline shows,
what is flagged, and that figures and pages are functions of their inputs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kenning_tasks.reporting import render, single, target
from kenning_tasks.reporting.document import Document, Figure, Table
from tests import report_support as rs

ALL = single.SECTIONS


def document(inputs: single.ReportInputs, sections: tuple[str, ...] = ALL) -> Document:
    return single.document(inputs, single.ReportOptions(sections=sections))


def section(doc: Document, identifier: str):
    return next(s for s in doc.sections if s.id == identifier)


def table(doc: Document, identifier: str, caption: str) -> Table:
    return next(b for b in section(doc, identifier).blocks
                if isinstance(b, Table) and b.caption == caption)


def cells(t: Table) -> dict[str, object]:
    return {row[0].text: row[1] for row in t.rows}


# -- content per kind of pipeline ----------------------------------------------------------


def test_host_report_has_classification_training_and_performance_but_no_target() -> None:
    doc = document(single.ReportInputs(rs.host_classification(), "Digits on the host.",
                                       rs.training_history()), ("classification", "training",
                                                                "performance"))
    assert [s.id for s in doc.sections] == ["overview", "classification", "training",
                                            "performance"]
    assert doc.subtitle == "Digits on the host."
    quality = cells(table(doc, "classification", "Quality on the test split"))
    assert {"accuracy", "top-2 accuracy", "top-5 accuracy", "mean precision",
            "mean sensitivity (recall)", "G-mean"} <= set(quality)
    per_class = table(doc, "classification", "Per class")
    assert [row[0].text for row in per_class.rows] == rs.DIGITS
    assert per_class.columns == ["class", "precision", "recall", "F1", "support"]
    timing = cells(table(doc, "performance", "Inference time"))
    # One unit per table, chosen from the typical values: the slow first one reads 3 300 µs.
    assert timing["first inference"].text == "3 300 µs"
    assert timing["median"].text.endswith(" µs")
    assert {"95th percentile", "99th percentile", "median"} <= set(timing)
    host = table(doc, "performance", "Host CPU and memory use (12 samples)")
    assert [row[0].text for row in host.rows] == ["CPU use, average of the cores",
                                                  "memory in use"]
    assert not doc.attention() and not doc.banner  # nothing outside expectations


def test_figures_follow_the_sections_and_are_referenced_by_file() -> None:
    doc = document(single.ReportInputs(rs.on_target(), "", rs.training_history(),
                                       rs.firmware()))
    assert [f.file for f in doc.figures] == ["classification.svg", "training.svg",
                                             "performance.svg", "on_target.svg"]
    png = single.document(single.ReportInputs(rs.on_target(), firmware=rs.firmware()),
                          single.ReportOptions(image_format="png"))
    assert all(f.file.endswith(".png") for f in png.figures)


def test_anomaly_report_shows_detection_metrics_and_curves() -> None:
    doc = document(single.ReportInputs(rs.anomaly_detection()), ("classification",))
    quality = cells(table(doc, "classification", "Quality on the test split"))
    assert quality["ROC AUC"].text == "0.9300"
    assert quality["PR AUC (average precision)"].text == "0.9000"
    assert quality["anomalies in the test split"].text == "40 of 80"
    assert "decision threshold (distance)" in quality
    figure = next(b for b in section(doc, "classification").blocks if isinstance(b, Figure))
    assert "ROC" in figure.alt and "FDR" in figure.caption


def test_binary_task_without_scores_says_why_there_is_no_curve() -> None:
    m = rs.anomaly_detection()
    del m["anomaly_metrics"], m["metrics_per_threshold"], m["score_curves"]
    text = render.to_markdown(document(single.ReportInputs(m), ("classification",)))
    assert "ROC and precision-recall curves need the per-sample scores" in text


def test_on_target_report_without_per_op_counts_or_symbols() -> None:
    doc = document(single.ReportInputs(rs.on_target(), firmware=rs.firmware()))
    target = section(doc, "on-target")
    assert target.title == "On target: mps2-an386 — Arm MPS2 AN386 (Cortex-M4F, QEMU)"
    captions = [b.caption for b in target.blocks if isinstance(b, Table)]
    assert captions == ["On-target measurements", "Sections of the firmware image"]
    assert [a.level for a in target.alerts] == ["pass"]
    sections = table(doc, "on-target", "Sections of the firmware image")
    assert [(r[0].text, r[1].text) for r in sections.rows] == [
        ("`.rodata`", "flash"), ("`.text`", "flash"), ("`.vectors`", "flash"),
        ("`.stack`", "RAM"), ("`.bss`", "RAM")]
    assert "per-operator breakdown appears here" in render.to_markdown(doc)


def test_on_target_report_with_per_op_counts_and_symbols() -> None:
    doc = document(single.ReportInputs(rs.on_target(), firmware=rs.firmware(True, True)))
    per_op = table(doc, "on-target", "Instructions per operator (per inference)")
    assert [r[1].text for r in per_op.rows][:3] == ["CONV_2D", "MAX_POOL_2D", "CONV_2D"]
    assert per_op.rows[2][2].text == "41 000" and per_op.rows[2][5].text == "3.95"
    symbols = table(doc, "on-target", "Largest symbols (5 of 5)")
    assert symbols.rows[0][0].text == "`_stack`"  # largest first


def test_the_firmware_stages_memory_breakdown_is_read() -> None:
    firmware = rs.firmware(memory=True)
    assert target.section_rows(firmware) == [
        (".rodata", "flash", 9561), (".text", "flash", 8604), (".vectors", "flash", 192),
        (".data", "flash + RAM", 64), (".stack", "RAM", 8192), (".bss", "RAM", 3008)]
    memory = target.memory_regions(rs.on_target()["on_target"], firmware)
    assert memory["flash"]["sections"][".data"] == 64 and memory["ram"]["sections"][".data"]
    assert [(s["name"], s["region"]) for s in target.symbol_sizes(firmware)] == [
        ("model_weights", "flash"), ("kt_arena", "ram"), ("kt_state", "flash + ram")]
    doc = document(single.ReportInputs(rs.on_target(), firmware=firmware))
    assert table(doc, "on-target", "Largest symbols (3 of 3)").rows[0][0].text == \
        "`model_weights`"


def test_memory_regions_split_the_arena_out_of_bss() -> None:
    memory = target.memory_regions(rs.on_target()["on_target"], rs.firmware())
    assert memory["ram"]["sections"] == {".stack": 8192, ".bss": 3072 - 888,
                                         "tensor arena": 888}
    assert sum(memory["flash"]["sections"].values()) == 18421 == memory["flash"]["used"]


# -- values outside expectations -----------------------------------------------------------


def test_agreement_below_one_and_flash_near_the_limit_are_flagged() -> None:
    m = rs.on_target(agreement=0.1486, flash_bytes=3_900_000)
    doc = document(single.ReportInputs(m, firmware=rs.firmware(flash_bytes=3_900_000)))
    levels = [(a.level, a.text) for _section, a in doc.attention()]
    assert levels[0][0] == "fail" and "51 of 60 samples" in levels[0][1]
    assert "agreement 0.1486, expected 1.0000" in levels[0][1]
    assert levels[1][0] == "warn" and "93.0 %" in levels[1][1]
    glance = cells(table(doc, "overview", "At a glance"))
    assert glance["agreement with the host reference"].flag == "fail"
    assert glance["flash"].flag == "warn" and glance["RAM"].flag is None
    text = render.to_markdown(doc)
    assert "**0.1486 ✗ FAILED**" in text  # in words, not only in colour
    assert "**3 900 000 B of 4.0 MiB (93.0 %) ⚠ WARNING**" in text
    assert "**Outside expectations** (2):" in text


def test_failed_gate_is_a_banner_at_the_top_and_a_flagged_row() -> None:
    doc = document(single.ReportInputs(rs.on_target(agreement=0.1486), firmware=rs.firmware(),
                                       gates=rs.gates(passed=False)))
    assert [a.level for a in doc.banner] == ["fail"]
    assert "1 of 2 quality gates failed" in doc.banner[0].text
    assert "`on_target.agreement_with_host` = 0.1486 (required == 1.0)" in doc.banner[0].text
    gates = table(doc, "overview", "Quality gates")
    assert [(r[0].text, r[3].text, r[3].flag) for r in gates.rows] == [
        ("`accuracy`", "passed", "pass"),
        ("`on_target.agreement_with_host`", "failed", "fail")]
    text = render.to_markdown(doc)
    first_section = text.index("## Overview")
    assert text.index("> **✗ FAILED:** 1 of 2 quality gates failed") < first_section


def test_passed_gates_and_no_gates() -> None:
    passed = document(single.ReportInputs(rs.on_target(), firmware=rs.firmware(),
                                          gates=rs.gates(passed=True)))
    assert [(a.level, a.text) for a in passed.banner] == [("pass", "All 2 quality gates "
                                                                   "passed.")]
    ungated = document(single.ReportInputs(rs.on_target(), firmware=rs.firmware()))
    assert ungated.banner == []
    assert "Quality gates" not in render.to_markdown(ungated)


# -- Kenning's report options --------------------------------------------------------------


def test_report_block_options_shape_the_report() -> None:
    options = single.ReportOptions(title="My model", sections=("performance",),
                                   smaller_header=True, general_information=False)
    doc = single.document(single.ReportInputs(rs.host_classification()), options)
    text = render.to_markdown(doc)
    assert text.startswith("## My model\n")
    assert [s.id for s in doc.sections] == ["overview", "performance"]
    assert "Resolved scenario" not in text and "Versions:" not in text


def test_general_information_holds_versions_resolved_scenario_and_command() -> None:
    text = render.to_markdown(document(single.ReportInputs(rs.host_classification())))
    assert "Versions: numpy 2.4.6, tensorflow-cpu 2.21.0." in text
    assert "```yaml\ndataset:\n  type: DigitsDataset" in text
    assert "```sh\nkenning-tasks run \\\n    scenario=digits-host \\\n    report\n```" in text


# -- Markdown and HTML say the same ----------------------------------------------------------


def test_markdown_tables_are_well_formed() -> None:
    text = render.to_markdown(document(single.ReportInputs(
        rs.on_target(), firmware=rs.firmware(True, True), gates=rs.gates(False))))
    for block in re.findall(r"((?:^\|.*\|\n)+)", text, flags=re.M):
        rows = block.strip().split("\n")
        widths = {row.count("|") - row.count("\\|") for row in rows}
        assert len(widths) == 1, block
        assert re.fullmatch(r"\|(-{3}:?\|)+", rows[1]), rows[1]
    assert "\n\n\n" not in text


@pytest.fixture(scope="module")
def training_only(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Document]:
    """A report whose one figure is drawn (the cheapest one), rendered to both formats."""
    folder = tmp_path_factory.mktemp("report")
    inputs = single.ReportInputs(rs.on_target(agreement=0.5), "A <b>tagged</b> description.",
                                 rs.training_history(), rs.firmware(), rs.gates(False))
    doc = single.build(inputs, folder, single.ReportOptions(sections=("training",)))
    render.write(doc, folder)
    return folder, doc


def test_html_is_self_contained_and_says_what_the_markdown_says(
        training_only: tuple[Path, Document]) -> None:
    folder, _doc = training_only
    page = (folder / "report.html").read_text()
    markdown = (folder / "report.md").read_text()
    assert 'src="data:image/svg+xml;base64,' in page
    assert "training.svg" not in page.split("<body>")[1]  # embedded, not linked
    assert "![training curves](training.svg)" in markdown
    assert "A &lt;b&gt;tagged&lt;/b&gt; description." in page  # escaped
    assert '<div class="alert fail" role="status">' in page  # the failed gate, on top
    assert '<td class="num fail">0.148600' not in page
    assert 'class="num fail">0.1486' in page and "✗ FAILED" in markdown
    for words in ("At a glance", "Quality gates", "Training history", "Resolved scenario"):
        assert words in page and words in markdown
    assert "<details><summary>Resolved scenario" in page  # collapsible
    assert not re.search(r"/tmp/|/home/|\d{4}-\d\d-\d\dT", page)  # no paths, no dates


def test_figures_are_deterministic_svg(training_only: tuple[Path, Document],
                                       tmp_path: Path) -> None:
    folder = training_only[0]
    again = single.draw(single.ReportInputs(rs.on_target(agreement=0.5),
                                            training=rs.training_history()),
                        tmp_path, single.ReportOptions(sections=("training",)))
    first = (folder / "training.svg").read_bytes()
    assert again[0].read_bytes() == first
    _folder, doc = training_only
    render.write(doc, tmp_path)  # the same document and figures: the same page, byte for byte
    assert (tmp_path / "report.html").read_bytes() == (folder / "report.html").read_bytes()
    text = first.decode()
    assert "<dc:date>" not in text and "Matplotlib v" not in text
    assert text.startswith("<?xml") and 'viewBox="0 0 ' in text  # vector: crisp at any zoom


def test_png_figures_are_drawn_at_twice_the_layout_resolution(tmp_path: Path) -> None:
    import struct

    written = single.draw(single.ReportInputs(rs.on_target(), training=rs.training_history()),
                          tmp_path, single.ReportOptions(sections=("training",),
                                                         image_format="png"))
    data = written[0].read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, _height = struct.unpack(">II", data[16:24])
    assert width == 10 * 200  # a 10-inch figure at 200 dpi (2× a 100-dpi layout)
    assert b"tIME" not in data and b"Software" not in data


def test_score_curves_for_binary_and_anomaly_tasks() -> None:
    import numpy as np

    from kenning_tasks.score_curves import MAX_POINTS, score_curves

    rng = np.random.default_rng(0)
    truth = np.r_[np.zeros(500, int), np.ones(500, int)]
    logits = np.stack([-truth + rng.normal(0, 0.8, 1000), truth + rng.normal(0, 0.8, 1000)], 1)
    curves = score_curves(truth, logits, {}, ["normal", "anomaly"])["score_curves"]
    assert 0.8 < curves["roc_auc"] < 1.0 and curves["positive"] == "anomaly"
    assert len(curves["roc"]["fpr"]) <= MAX_POINTS and curves["roc"]["fpr"][0] == 0.0
    assert curves["pr"]["recall"] == sorted(curves["pr"]["recall"])
    assert score_curves(truth, logits, {}, ["a", "b", "c"]) == {}  # not binary
    assert score_curves(np.zeros(10, int), logits[:10], {}, ["a", "b"]) == {}  # one class
    # The textbook example (scikit-learn's docs): ROC AUC 0.75, average precision 0.8333.
    small = score_curves(np.array([0, 0, 1, 1]), np.array([[0, .1], [0, .4], [0, .35], [0, .8]]),
                         {}, ["n", "p"])["score_curves"]
    assert small["roc_auc"] == 0.75 and round(small["pr_auc"], 4) == 0.8333
    distance = {"anomaly": {"score": "distance", "threshold": 0.5}}
    scores = (truth + rng.normal(0, 0.5, 1000))[:, None]
    assert score_curves(truth, scores, distance, ["normal", "anomaly"])["score_curves"][
        "score"] == "anomaly score (distance)"


# -- what the report stage reads and writes --------------------------------------------------


def test_stage_files_follow_the_scenario(tmp_path: Path) -> None:
    from kenning_tasks.scenario_files import load_scenario
    from kenning_tasks.stages import report
    from tests.conftest import REPO

    host = load_scenario(REPO / "scenarios/digits-tflite-int8.yml")
    assert report.inputs(host) == ["evaluate/measurements.json", "train/training.json"]
    assert report.outputs(host) == ["report/report.md", "report/report.html",
                                    "report/classification.svg", "report/training.svg",
                                    "report/performance.svg"]
    target = load_scenario(REPO / "scenarios/digits-int8-qemu-m4.yml")
    assert "firmware/firmware.json" in report.inputs(target)
    assert report.outputs(target)[-1] == "report/on_target.svg"
    scenario = tmp_path / "kenning-report.yml"
    scenario.write_text((REPO / "tests/kenning_scenarios/report-markdown.yml").read_text()
                        .replace("main_quality_metric: g_mean", "main_quality_metric: g_mean\n"
                                 "    only_png_images: true\n    save_summary: true\n"
                                 "    report_types: [performance]"
                                 ).replace("    report_types: [performance, classification]\n",
                                           ""))
    kenning = load_scenario(scenario)
    chosen = report.options(kenning)
    assert chosen.title == "Classification on digits using TFLite"
    assert chosen.sections == ("performance",) and chosen.image_format == "png"
    assert report.outputs(kenning) == ["report/report.md", "report/report.html",
                                       "report/performance.png", "report/report.summary.json"]
    assert report.parameters(kenning)["report"]["report_name"] == chosen.title


def test_kenning_summary_lists_the_reports_metrics() -> None:
    from kenning_tasks.stages.report import kenning_summary

    summary = kenning_summary(rs.host_classification())
    assert summary[0]["modelName"] == "digits-host"
    names = {(m["type"], m["name"]) for m in summary[0]["metrics"]}
    assert {("performance", "inferencetime_mean"), ("classification", "Accuracy"),
            ("performance", "session_utilization_mem_percent_mean")} <= names
