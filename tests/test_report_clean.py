"""``doit clean`` removes everything a run wrote (stage folders with their run information,
comparison folders, empty parents), and the build timeline page of a run summary."""

from __future__ import annotations

import json
import re
from pathlib import Path

from kenning_tasks.cleaning import remove_folder
from kenning_tasks.reporting import timeline
from tests.conftest import Project

SCENARIOS = ("digits-tflite-int8", "digits-keras-native")
STAGES = ("dataset", "train", "convert", "quantize", "compile", "evaluate", "report")


def test_remove_folder_prunes_empty_parents_and_stays_inside_build(tmp_path: Path) -> None:
    build = tmp_path / "build"
    stage = build / "grid" / "v-1" / "compile"
    (stage / ".work-1").mkdir(parents=True)
    (stage / "model.onnx").write_text("m")
    (stage / "framework-output.log").write_text("noise")
    (build / "grid" / "train").mkdir()
    remove_folder(str(stage), str(build), dryrun=True)
    assert stage.is_dir()  # a dry run removes nothing
    remove_folder(str(stage), str(build), dryrun=False)
    assert not (build / "grid" / "v-1").exists()  # left empty: pruned
    assert (build / "grid" / "train").is_dir()  # not empty: kept
    remove_folder(str(tmp_path / "elsewhere"), str(build), dryrun=False)  # refused quietly
    remove_folder(str(build), str(build), dryrun=False)
    assert build.is_dir()


def test_doit_clean_leaves_an_empty_build_folder(project: Project) -> None:
    selection = "scenario=" + ",".join(SCENARIOS)
    for scenario in SCENARIOS:
        for stage in STAGES:
            folder = project.build(scenario) / stage
            folder.mkdir(parents=True)
            (folder / "output.bin").write_text("x")  # what a run leaves beside its targets
            (folder / "run-log.json").write_text("{}")
            (folder / "framework-output.log").write_text("noise")
    info = project.doit(selection, "info", "report:comparison")  # exits 1: not up to date
    comparison = Path(re.findall(r"- (\S+/comparison/[^/]+)/report\.md", info.stdout)[0])
    comparison.mkdir(parents=True)
    for name in ("report.md", "report.html", "metrics.svg", "comparison.json"):
        (comparison / name).write_text("x")
    run = project.doit(selection, "clean")
    assert run.returncode == 0, run.stdout + run.stderr
    left = sorted(p.relative_to(project.root / "build").as_posix()
                  for p in (project.root / "build").rglob("*"))
    # What stays is the build's own state: doit's database and the graph's caches.
    assert all(name.startswith((".doit-state", ".graph-cache")) for name in left), left


def test_timeline_pages_from_a_run_summary(tmp_path: Path) -> None:
    summary = {
        "format": 1, "result": "failed", "started_at": "2026-12-02T01:00:00+0000",
        "seconds": 52.3, "counts": {"ran": 2, "restored": 1, "up-to-date": 1, "failed": 1},
        "stages": [
            {"task": "dataset:d", "stage": "dataset", "pipeline": "d", "status": "restored",
             "cache": "remote", "seconds": 0.4},
            {"task": "train:d", "stage": "train", "pipeline": "d", "status": "up-to-date",
             "seconds": 0.0},
            {"task": "simulate:d", "stage": "simulate", "pipeline": "d", "status": "ran",
             "seconds": 14.8},
            {"task": "evaluate:d", "stage": "evaluate", "pipeline": "d", "status": "ran",
             "seconds": 0.4},
            {"task": "report:gates", "stage": "report", "pipeline": "gates",
             "status": "failed", "seconds": 0.1, "message": "1 quality gate failed"},
        ],
        "gates_failed": 1, "errors": [],
    }
    (tmp_path / timeline.SUMMARY_FILE).write_text(json.dumps(summary))
    written = timeline.write_after_run(tmp_path, not_before=0.0)
    assert [p.name for p in written] == list(timeline.PAGES)
    markdown = (tmp_path / "run-summary.md").read_text()
    assert "Run failed in 52.3 s" in markdown and "1 quality gate failed" in markdown
    assert "| `dataset:d` | restored (remote cache) | 0.40 |" in markdown
    assert "| `simulate:d` | ran | 14.80 | " + "█" * 30 + " |" in markdown
    assert "| `train:d` | up to date | 0.00 |  |" in markdown
    page = (tmp_path / "run-summary.html").read_text()
    assert '<tr class="failed"><td><code>report:gates</code>' in page
    assert "width:100.00%" in page
    assert timeline.write_after_run(tmp_path, not_before=4e9) == []  # an older run's summary
    assert timeline.write_after_run(tmp_path / "nowhere", not_before=0.0) == []
