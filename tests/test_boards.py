"""platforms.yml: THE board loader (validation, one-line errors, cache) and what a firmware
build of one board reads."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from kenning_tasks.errors import ScenarioError
from kenning_tasks.layout import FIRMWARE_DIR
from kenning_tasks.mcu.boards import BoardError, get_board, load_boards
from kenning_tasks.mcu.build import board_defines, firmware_inputs

BAREMETAL = ("b:\n  display_name: x\n  flash_size_kb: 1\n  ram_size_kb: 1\n  uart_baudrate: 9600\n"
             "  compilation_flags: []\n  runtime: baremetal\n  board_dir: b\n"
             "  cpu_frequency_hz: 25000000\n  uart_base_address: 0x40004000\n"
             "  uart_rx_irq: 0\n  irq_count: 32\n")


def test_platforms_file_has_all_boards():
    boards = load_boards()
    assert {"mps2-an385", "mps2-an386", "mps2-an500", "stm32f746g_disco",
            "max32690evkit/max32690/m4"} <= set(boards)
    an386 = boards["mps2-an386"]
    assert an386.qemu_machine == "mps2-an386" and "-mfloat-abi=hard" in an386.compilation_flags
    disco = boards["stm32f746g_disco"]
    assert disco.runtime == "zephyr" and not disco.emulated
    assert any("{binary_path}" in cmd for cmd in disco.openocd_flash_cmd)
    assert dataclasses.replace(an386, ram_size_kb=2).ram_limit_bytes == 2048


@pytest.mark.parametrize("text, message", [
    ("b:\n  display_name: x\n", r"board 'b'\.flash_size_kb: missing"),
    ("b:\n  display_name: x\n  flash_size_kb: -1\n  ram_size_kb: 1\n  uart_baudrate: 1\n"
     "  compilation_flags: []\n  runtime: zephyr\n  zephyr_board: b\n",
     r"board 'b'\.flash_size_kb: must be an integer from 1"),
    ("b:\n  display_name: x\n  flash_size_kb: 1\n  ram_size_kb: 1\n  uart_baudrate: 1\n"
     "  compilation_flags: []\n  runtime: baremetal\n  board_dir: b\n  colour: red\n",
     r"board 'b'\.colour: unknown field"),
    ("[1, 2", "not valid YAML at line 2"),
])
def test_platforms_file_validation(tmp_path: Path, text: str, message: str):
    path = tmp_path / "platforms.yml"
    path.write_text(text)
    with pytest.raises(ScenarioError, match=message) as error:
        load_boards(path)
    assert str(path) in str(error.value) and "\n" not in str(error.value)




@pytest.mark.parametrize("change, message", [
    (("uart_rx_irq: 0", "uart_rx_irq: 32"), r"b'\.uart_rx_irq: must be an integer from 0 to 31"),
    (("  irq_count: 32\n", ""), r"b'\.irq_count: missing"),
    (("cpu_frequency_hz: 25000000", "cpu_frequency_hz: .nan"), r"cpu_frequency_hz: must be"),
    (("board_dir: b", "board_dir: ../b"), r"b'\.board_dir: must be one folder name"),
    (("uart_baudrate: 9600", "uart_baudrat: 9600"), r"uart_baudrat: unknown field \(did you "
                                                    r"mean uart_baudrate\?\)"),
    (("b:", '"b\\"x":'), r"a board name is"),
])
def test_baremetal_facts_are_validated(tmp_path: Path, change, message):
    path = tmp_path / "platforms.yml"
    path.write_text(BAREMETAL.replace(*change, 1))
    with pytest.raises(BoardError, match=message) as error:
        load_boards(path)
    assert str(error.value).startswith(str(path)) and "\n" not in str(error.value)
    assert isinstance(error.value, ScenarioError)  # usable at validation


def test_loader_is_cached_per_file_version(tmp_path: Path):
    path = tmp_path / "platforms.yml"
    path.write_text(BAREMETAL)
    first = load_boards(path)
    assert load_boards(path)["b"] is first["b"]  # parsed once
    path.write_text(BAREMETAL.replace("flash_size_kb: 1", "flash_size_kb: 2"))
    assert load_boards(path)["b"].flash_size_kb == 2


def test_unknown_board_names_the_closest(tmp_path: Path):
    with pytest.raises(BoardError, match=r"no board 'mps2-an368'; did you mean mps2-an386\?"):
        get_board("mps2-an368")


def test_kenning_platform_fields_are_accepted(tmp_path: Path):
    path = tmp_path / "platforms.yml"
    path.write_text(BAREMETAL + "  platform_resc_path: gh://x\n  default_optimizer: [A]\n")
    assert load_boards(path)["b"].cpu_frequency_hz == 25_000_000


def test_firmware_constants_come_from_platforms_yml():
    board = get_board("mps2-an386")
    defines = board_defines(board)
    assert '-DKT_BOARD_NAME="mps2-an386"' in defines
    assert "-DKT_BOARD_CPU_HZ=25000000u" in defines
    assert "-DKT_BOARD_UART_BASE=0x40004000u" in defines
    other = dataclasses.replace(board, cpu_frequency_hz=50_000_000, uart_rx_irq=3)
    assert "-DKT_BOARD_CPU_HZ=50000000u" in board_defines(other)
    assert "-DKT_BOARD_UART_RX_IRQ=3u" in board_defines(other)
    # No board folder holds its own constants any more.
    assert not list((FIRMWARE_DIR / "boards").glob("mps2-*/kt_board.h"))


def test_each_board_builds_from_its_own_folder_and_the_common_ones():
    boards = load_boards()
    an385 = firmware_inputs(boards["mps2-an385"])
    an386 = firmware_inputs(boards["mps2-an386"])
    folders = {p.parent.relative_to(FIRMWARE_DIR).as_posix() for p in an385}
    assert folders == {"runtime", "app", "app/baremetal", "boards/common", "boards/mps2-an385"}
    assert set(an385) - set(an386) == {FIRMWARE_DIR / "boards/mps2-an385/memory.ld"}
    assert all(p.suffix in (".c", ".h", ".ld") for p in an385)  # no README
    zephyr = firmware_inputs(boards["stm32f746g_disco"])
    assert FIRMWARE_DIR / "zephyr/boards/stm32f746g_disco.overlay" in zephyr
    assert FIRMWARE_DIR / "zephyr/boards/max32690evkit_max32690_m4.overlay" not in zephyr
    assert {p.parent.relative_to(FIRMWARE_DIR).as_posix() for p in zephyr} == \
        {"runtime", "app", "zephyr", "zephyr/src", "zephyr/boards"}
