"""The embedded scenario end to end: int8 model → C → firmware → QEMU → evaluate on target."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import Project

SCENARIO = "digits-int8-qemu-m4"
pytestmark = pytest.mark.slow


def pid_alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() == "qemu-system-arm"
    except OSError:
        return False


@pytest.fixture(scope="module")
def embedded(module_project: Project) -> Project:
    run = module_project.doit(f"scenario={SCENARIO}", "report")
    assert run.returncode == 0, run.stdout + run.stderr
    return module_project


def measurements(project: Project) -> dict:
    return json.loads((project.build(SCENARIO) / "evaluate/measurements.json").read_text())


def test_on_target_accuracy_matches_host_int8(embedded: Project) -> None:
    m = measurements(embedded)
    on_target = m["on_target"]
    assert on_target["agreement_with_host"] == 1.0
    assert m["accuracy"] == on_target["host_int8_accuracy"]
    assert m["accuracy"] >= 0.9
    assert on_target["macs"] > 0 and on_target["instructions_per_mac"] > 0
    assert 0 < on_target["ram_bytes"] <= on_target["ram_limit_bytes"]
    assert on_target["arena_bytes"] > 0
    report = (embedded.build(SCENARIO) / "report/report.md").read_text()
    assert "## On target: mps2-an386" in report


def test_qemu_is_gone_after_the_stage(embedded: Project) -> None:
    run = json.loads((embedded.build(SCENARIO) / "simulate/target_run.json").read_text())
    pid = run["target_info"]["qemu_pid"]
    assert pid > 0 and not pid_alive(pid)


def test_instruction_counts_are_identical_across_runs(embedded: Project) -> None:
    outputs = embedded.build(SCENARIO) / "simulate/target_outputs.npz"
    with np.load(outputs) as data:
        first = data["instructions"].copy()
    outputs.unlink()
    run = embedded.doit(f"scenario={SCENARIO}", "report", cache=False)  # really simulate again
    assert f"simulate:{SCENARIO}" in run.executed
    with np.load(outputs) as data:
        second = data["instructions"]
    # SysTick ticks at 25 MHz in QEMU: one tick is 40 instructions, the resolution of a count.
    assert np.max(np.abs(second - first)) <= 40


def test_unchanged_model_does_not_rebuild_firmware(embedded: Project) -> None:
    run = embedded.doit(f"scenario={SCENARIO}", "report")
    assert run.executed == []


def test_firmware_source_edit_rebuilds_firmware(embedded: Project) -> None:
    source = embedded.root / "firmware/app/kt_server.c"
    source.write_text(source.read_text() + "\n/* edited */\n")
    run = embedded.doit(f"scenario={SCENARIO}", "report")
    assert run.executed[0] == f"firmware:{SCENARIO}"


def test_changed_model_rebuilds_firmware(embedded: Project) -> None:
    embedded.edit(f"scenarios/{SCENARIO}.yml", "dataset_percentage: 0.25",
                  "dataset_percentage: 0.5")
    run = embedded.doit(f"scenario={SCENARIO}", "report")
    assert run.returncode == 0, run.stderr
    assert {"quantize", "compile", "firmware", "simulate", "evaluate",
            "report"} <= run.executed_stages()
    assert measurements(embedded)["on_target"]["agreement_with_host"] == 1.0


def test_model_over_the_board_limits_fails_in_firmware_stage(project: Project) -> None:
    platforms = project.root / "platforms.yml"
    text = platforms.read_text()
    start = text.index("mps2-an386:")
    end = text.index("\n\n", start)
    block = text[start:end].replace("ram_size_kb: 4096", "ram_size_kb: 4")
    platforms.write_text(text[:start] + block + text[end:])
    run = project.doit(f"scenario={SCENARIO}", "firmware")
    assert run.returncode != 0
    assert "does not fit" in run.stdout + run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    assert not (project.build(SCENARIO) / "firmware/firmware.elf").exists()


def test_zephyr_platform_without_a_workspace_names_what_is_missing(embedded: Project) -> None:
    text = embedded.scenario_path(SCENARIO).read_text()
    # simulated: false — Kenning's default (true) means Renode, which is refused.
    zephyr = text.replace("type: QEMUPlatform", "type: ZephyrPlatform").replace(
        "board: mps2-an386", "name: stm32f746g_disco\n    simulated: false")
    embedded.scenario_path("zephyr-board").write_text(zephyr)
    env_free = embedded.doit("scenario=zephyr-board", "firmware")
    assert env_free.returncode != 0
    message = env_free.stdout + env_free.stderr
    assert "Zephyr build needs" in message and "Traceback" not in message
    assert not (embedded.build("zephyr-board") / "firmware/firmware.elf").exists()
