"""The embedded scenario end to end: int8 model → C → firmware → QEMU → evaluate on target."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import Project, copy_project

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
    assert m["accuracy"] == on_target["host_accuracy"]
    assert m["accuracy"] >= 0.9
    assert on_target["macs"] > 0 and on_target["instructions_per_mac"] > 0
    assert 0 < on_target["ram_bytes"] <= on_target["ram_limit_bytes"]
    assert on_target["arena_bytes"] > 0
    report = (embedded.build(SCENARIO) / "report/report.md").read_text()
    assert "## On target: mps2-an386" in report


def test_per_op_instruction_counts_come_from_the_firmware(embedded: Project) -> None:
    """Each kernel call of the real firmware, timed on target: the model's ops in order,
    exact positive counts, their sum most of the inference's count and never more."""
    from kenning_tasks.codegen.reader import read_tflite

    on_target = measurements(embedded)["on_target"]
    per_op = on_target["per_op"]
    build = embedded.build(SCENARIO)
    graph = read_tflite(build / "compile/model.tflite")
    opcodes = {op.index: op.opcode for op in graph.operators}
    indices = [op["index"] for op in per_op]
    assert indices == sorted(set(indices)) and len(per_op) >= 5
    assert [op["op"] for op in per_op] == [opcodes[i] for i in indices]
    # Every op of the model is timed but the ones that compute nothing (a reshape aliases).
    assert {opcodes[i] for i in set(opcodes) - set(indices)} <= {"RESHAPE"}
    assert all(isinstance(op["instructions"], int) and op["instructions"] > 0 for op in per_op)
    total = on_target["per_op_inference"]["instructions"]
    assert 0.9 * total < sum(op["instructions"] for op in per_op) <= total
    with np.load(build / "simulate/target_outputs.npz") as data:
        assert data["instructions"][-1] == total
        assert data["op_counts"].tolist() == [op["instructions"] for op in per_op]
    conv = [op for op in per_op if op["op"] == "CONV_2D"]
    assert conv and all(op["macs"] > 0 for op in conv)
    report = (build / "report/report.md").read_text()
    assert "Instructions per operator (per inference)" in report


def test_qemu_is_gone_after_the_stage(embedded: Project) -> None:
    simulate = embedded.build(SCENARIO) / "simulate"
    log = json.loads((simulate / "run-log.json").read_text())
    pid = log["qemu_pid"]
    assert pid > 0 and not pid_alive(pid)
    assert not list(simulate.glob("qemu-*.pid"))  # its record went with it


def test_target_files_hold_no_run_information(embedded: Project) -> None:
    run = json.loads((embedded.build(SCENARIO) / "simulate/target_run.json").read_text())
    text = json.dumps(run)
    assert "seconds" not in text and "pid" not in text and str(embedded.root) not in text
    assert run["target_info"]["timing_unit"] == "instructions"
    log = json.loads((embedded.build(SCENARIO) / "simulate/run-log.json").read_text())
    assert log["seconds"] > 0 and log["retries"] == 0


def test_resimulating_the_same_elf_gives_identical_bytes(embedded: Project) -> None:
    simulate = embedded.build(SCENARIO) / "simulate"
    before = {name: (simulate / name).read_bytes()
              for name in ("target_outputs.npz", "target_run.json")}
    (simulate / "target_outputs.npz").unlink()
    run = embedded.doit(f"scenario={SCENARIO}", "report", cache=False)  # really simulate again
    assert run.returncode == 0, run.stdout + run.stderr
    # Byte-identical targets: evaluate and report stay up to date.
    assert run.executed == [f"simulate:{SCENARIO}"]
    for name, data in before.items():
        assert (simulate / name).read_bytes() == data, name
    with np.load(simulate / "target_outputs.npz") as data:
        assert data["instructions"].dtype == np.int64 and data["instructions"].min() > 1000
        assert data["op_counts"].dtype == np.int64 and data["op_counts"].min() > 0


def test_unchanged_model_does_not_rebuild_firmware(embedded: Project) -> None:
    run = embedded.doit(f"scenario={SCENARIO}", "report")
    assert run.executed == []


def test_comment_edit_rebuilds_firmware_but_not_what_follows(embedded: Project) -> None:
    # The comment moves every line below it: the debug ELF changes, the loadable one does not.
    source = embedded.root / "firmware/app/kt_server.c"
    source.write_text("/* edited:\n * two more lines */\n" + source.read_text())
    elf = embedded.build(SCENARIO) / "firmware/firmware.elf"
    before = elf.read_bytes()
    run = embedded.doit(f"scenario={SCENARIO}", "report")
    assert run.executed == [f"firmware:{SCENARIO}"]
    assert elf.read_bytes() == before


def test_another_boards_file_does_not_rebuild_firmware(embedded: Project) -> None:
    memory = embedded.root / "firmware/boards/mps2-an385/memory.ld"
    memory.write_text(memory.read_text() + "/* edited */\n")
    run = embedded.doit(f"scenario={SCENARIO}", "report")
    assert run.executed == []


def test_changed_model_rebuilds_firmware(embedded: Project) -> None:
    embedded.edit(f"scenarios/{SCENARIO}.yml", "dataset_percentage: 0.25",
                  "dataset_percentage: 0.5")
    run = embedded.doit(f"scenario={SCENARIO}", "report")
    assert run.returncode == 0, run.stderr
    assert {"quantize", "compile", "firmware", "simulate", "evaluate",
            "report"} <= run.executed_stages()
    assert measurements(embedded)["on_target"]["agreement_with_host"] == 1.0


def test_model_over_the_board_limits_fails_in_firmware_stage(embedded: Project,
                                                             tmp_path: Path) -> None:
    # A fresh checkout sharing the module's run cache: the stages before firmware are
    # restored, the firmware stage runs for real against the edited board.
    project = copy_project(tmp_path / "project", cache_root=embedded.root / "cache")
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
    # simulated: false — the real board (Kenning's default, true, runs its QEMU stand-in).
    zephyr = text.replace("type: QEMUPlatform", "type: ZephyrPlatform").replace(
        "board: mps2-an386", "name: stm32f746g_disco\n    simulated: false")
    embedded.scenario_path("zephyr-board").write_text(zephyr)
    env_free = embedded.doit("scenario=zephyr-board", "firmware")
    assert env_free.returncode != 0
    message = env_free.stdout + env_free.stderr
    assert "Zephyr build needs" in message and "Traceback" not in message
    assert not (embedded.build("zephyr-board") / "firmware/firmware.elf").exists()
