"""Bare-metal firmware build: all boards, memory limits, reproducibility, Zephyr/OpenOCD errors."""

from __future__ import annotations

import dataclasses
import shutil

import pytest
from target_support import generated_model

from kenning_tasks.errors import StageError
from kenning_tasks.layout import FIRMWARE_DIR
from kenning_tasks.mcu.boards import load_boards
from kenning_tasks.mcu.build import (
    DEBUG_ELF_NAME,
    ELF_NAME,
    MAP_NAME,
    build_firmware,
    build_zephyr,
    flash_openocd,
    toolchain_version,
)
from kenning_tasks.mcu.elf import memory_use, section_names

QEMU_BOARDS = ["mps2-an385", "mps2-an386", "mps2-an500", "mps2-an505", "netduinoplus2",
               "stm32vldiscovery", "microbit"]
pytestmark = pytest.mark.slow  # converts a Keras model


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return generated_model(tmp_path_factory)


@pytest.fixture(scope="module")
def boards():
    return load_boards()


@pytest.mark.parametrize("name", QEMU_BOARDS)
def test_builds_for_every_qemu_board(name, boards, model, tmp_path):
    _, model_dir = model
    image = build_firmware(boards[name], model_dir, tmp_path)
    assert image.elf == tmp_path / ELF_NAME and image.elf.is_file()
    assert image.board == name
    assert {".vectors", ".text", ".bss", ".stack"} <= set(image.sections)
    assert image.flash_bytes == sum(image.sections[s] for s in (".vectors", ".text", ".rodata")
                                    if s in image.sections) + image.sections.get(".data", 0)
    # RAM includes the stack and the model arena (in .bss).
    assert image.ram_bytes == image.sections[".stack"] + image.sections[".bss"] \
        + image.sections.get(".data", 0)
    assert 0 < image.flash_bytes < image.flash_limit_bytes
    assert image.ram_bytes < image.ram_limit_bytes
    # The loadable ELF, the debug ELF and the map, no temporary files or objects left.
    assert sorted(p.name for p in tmp_path.iterdir()) == [DEBUG_ELF_NAME, ELF_NAME, MAP_NAME]
    assert not image.warnings
    assert image.debug_elf == tmp_path / DEBUG_ELF_NAME
    assert not any(name.startswith(".debug") for name in section_names(image.elf))
    assert ".debug_line" in section_names(image.debug_elf)


def test_identical_inputs_give_identical_elf(boards, model, tmp_path):
    _, model_dir = model
    # Same model in another directory, output to different directories: the paths must not
    # leak into the image (debug info included).
    other_model = tmp_path / "elsewhere" / "model"
    shutil.copytree(model_dir, other_model)
    first = build_firmware(boards["mps2-an386"], model_dir, tmp_path / "a")
    second = build_firmware(boards["mps2-an386"], other_model, tmp_path / "b")
    for elf in ("elf", "debug_elf", "map_file"):
        data = getattr(first, elf).read_bytes()
        assert data == getattr(second, elf).read_bytes()
        assert str(tmp_path).encode() not in data and str(model_dir).encode() not in data
        assert str(FIRMWARE_DIR).encode() not in data


def test_comment_only_edit_leaves_the_loadable_elf_identical(boards, model, tmp_path):
    """A comment shifts every line number below it: only the debug ELF may change."""
    _, model_dir = model
    sources = tmp_path / "firmware"
    shutil.copytree(FIRMWARE_DIR, sources)
    board = boards["mps2-an386"]
    before = build_firmware(board, model_dir, tmp_path / "before", source_dir=sources)
    for name in ("app/kt_server.c", "app/kt_protocol.h", "runtime/conv2d.c",
                 "boards/common/startup.c"):
        path = sources / name
        path.write_text("/* A comment\n * over a few lines. */\n\n" + path.read_text())
    after = build_firmware(board, model_dir, tmp_path / "after", source_dir=sources)
    assert before.elf.read_bytes() == after.elf.read_bytes()
    assert before.debug_elf.read_bytes() != after.debug_elf.read_bytes()
    # An edit of what is loaded does change it.
    path = sources / "app/baremetal/main.c"
    path.write_text(path.read_text().replace("kenning-tasks target", "kenning-tasks target!"))
    edited = build_firmware(board, model_dir, tmp_path / "edited", source_dir=sources)
    assert edited.elf.read_bytes() != before.elf.read_bytes()


def test_another_boards_folder_is_not_read(boards, model, tmp_path):
    _, model_dir = model
    sources = tmp_path / "firmware"
    shutil.copytree(FIRMWARE_DIR, sources)
    shutil.rmtree(sources / "boards" / "mps2-an500")
    image = build_firmware(boards["mps2-an385"], model_dir, tmp_path / "out", source_dir=sources)
    assert image.elf.is_file()


def test_model_over_flash_limit_is_refused(boards, model, tmp_path):
    _, model_dir = model
    small = dataclasses.replace(boards["mps2-an385"], flash_size_kb=2)
    with pytest.raises(StageError, match=r"firmware for mps2-an385 does not fit: flash \d+ B "
                                         r"of 2048 B, RAM \d+ B of 4194304 B"):
        build_firmware(small, model_dir, tmp_path)
    assert not list(tmp_path.iterdir())  # neither ELF, no temporary file


def test_model_over_ram_limit_is_refused(boards, model, tmp_path):
    _, model_dir = model
    small = dataclasses.replace(boards["mps2-an500"], ram_size_kb=8)
    with pytest.raises(StageError, match=r"mps2-an500 does not fit: .*RAM \d+ B of 8192 B"):
        build_firmware(small, model_dir, tmp_path)
    assert not list(tmp_path.iterdir())


def test_physical_overflow_is_reported_like_a_limit(boards, model, tmp_path):
    _, model_dir = model
    # A stack larger than the board's physical RAM fails in the linker, not in the check.
    # It is linked once more to measure it: the line names what it would take.
    with pytest.raises(StageError, match=r"mps2-an385 does not fit: flash \d+ B of 4194304 B, "
                                         r"RAM \d{7} B of 4194304 B$"):
        build_firmware(boards["mps2-an385"], model_dir, tmp_path,
                       extra_cflags=["-Wl,--defsym=KT_STACK_SIZE=0x400000"])


def test_stack_size_is_counted_in_ram(boards, model, tmp_path):
    _, model_dir = model
    base = build_firmware(boards["mps2-an385"], model_dir, tmp_path / "a")
    bigger = build_firmware(boards["mps2-an385"], model_dir, tmp_path / "b",
                            extra_cflags=["-Wl,--defsym=KT_STACK_SIZE=0x4000"])
    assert bigger.ram_bytes - base.ram_bytes == 0x4000 - 8192
    assert memory_use(bigger.elf).sections[".stack"] == 0x4000


def test_missing_model_and_compile_errors_are_stage_errors(boards, model, tmp_path):
    with pytest.raises(StageError, match=r"model\.h is missing"):
        build_firmware(boards["mps2-an385"], tmp_path, tmp_path / "out")
    broken = tmp_path / "broken"
    shutil.copytree(model[1], broken)
    (broken / "oops.c").write_text("int f(void) { return undefined_symbol; }\n")
    with pytest.raises(StageError,
                       match=r"firmware build for mps2-an385 failed: .*undefined_symbol"):
        build_firmware(boards["mps2-an385"], broken, tmp_path / "out")


def test_toolchain_version():
    assert toolchain_version().startswith("arm-none-eabi-gcc")


def test_zephyr_board_is_not_built_with_gcc(boards, model, tmp_path):
    with pytest.raises(StageError, match="built with zephyr"):
        build_firmware(boards["stm32f746g_disco"], model[1], tmp_path)


def test_zephyr_build_names_what_is_missing(boards, model, tmp_path, monkeypatch):
    monkeypatch.delenv("ZEPHYR_BASE", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # neither west nor a workspace
    with pytest.raises(StageError, match=r"west.*ZEPHYR_BASE"):
        build_zephyr(boards["max32690evkit/max32690/m4"], model[1], tmp_path)
    with pytest.raises(StageError, match="not a Zephyr platform"):
        build_zephyr(boards["mps2-an385"], model[1], tmp_path)


def test_openocd_flash_needs_commands_and_tool(boards, tmp_path, monkeypatch):
    with pytest.raises(StageError, match="no openocd_flash_cmd"):
        flash_openocd(boards["mps2-an385"], tmp_path / "fw.elf")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(StageError, match="needs `openocd`"):
        flash_openocd(boards["stm32f746g_disco"], tmp_path / "fw.elf")
