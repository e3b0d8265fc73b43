"""platforms.yml: THE board loader (validation, one-line errors, cache) and what a firmware
build of one board reads."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from kenning_tasks.errors import ScenarioError, StageError
from kenning_tasks.layout import FIRMWARE_DIR
from kenning_tasks.mcu.boards import BoardError, get_board, load_boards
from kenning_tasks.mcu.build import BuildOptions, board_defines, firmware_inputs
from kenning_tasks.mcu.timing import counts_are_exact, icount_shift, ticks_to_instructions

BAREMETAL = ("b:\n  display_name: x\n  flash_size_kb: 1\n  ram_size_kb: 1\n  uart_baudrate: 9600\n"
             "  compilation_flags: []\n  runtime: baremetal\n  board_dir: b\n"
             "  cpu_frequency_hz: 25000000\n  uart_base_address: 0x40004000\n"
             "  uart_rx_irq: 0\n  irq_count: 32\n  drivers: [cmsdk_uart, systick]\n")


def test_platforms_file_has_all_boards():
    boards = load_boards()
    assert {"mps2-an385", "mps2-an386", "mps2-an500", "mps2-an505", "netduinoplus2",
            "stm32vldiscovery", "microbit", "stm32f746g_disco",
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
    (("drivers: [cmsdk_uart, systick]", "drivers: cmsdk_uart"), r"b'\.drivers: must be a "
                                                               r"non-empty list of driver names"),
    (("drivers: [cmsdk_uart, systick]", "drivers: [../x]"), r"b'\.drivers: must be"),
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
    assert folders == {"runtime", "app", "app/baremetal", "boards/common", "boards/drivers",
                       "boards/mps2-an385"}
    assert set(an385) - set(an386) == {FIRMWARE_DIR / "boards/mps2-an385/memory.ld"}
    assert all(p.suffix in (".c", ".h", ".ld") for p in an385)  # no README
    # Only the drivers platforms.yml names: the micro:bit has no SysTick, the MPS2 boards
    # no nRF51 UART.
    drivers = FIRMWARE_DIR / "boards/drivers"
    microbit = firmware_inputs(boards["microbit"])
    assert drivers / "nrf51_timer.c" in microbit and drivers / "systick.c" not in microbit
    assert drivers / "nrf51_uart.c" not in an385 and drivers / "cmsdk_uart.c" in an385
    zephyr = firmware_inputs(boards["stm32f746g_disco"])
    assert FIRMWARE_DIR / "zephyr/boards/stm32f746g_disco.overlay" in zephyr
    assert FIRMWARE_DIR / "zephyr/boards/max32690evkit_max32690_m4.overlay" not in zephyr
    assert {p.parent.relative_to(FIRMWARE_DIR).as_posix() for p in zephyr} == \
        {"runtime", "app", "zephyr", "zephyr/src", "zephyr/boards"}


# The parts' own memories (datasheets; the MPS2 images' application notes), the core each
# QEMU machine emulates, and the timebase each uses.
REAL_BOARDS = {
    "netduinoplus2": (1024, 128, "-mcpu=cortex-m4", 168_000_000, "systick"),
    "stm32vldiscovery": (128, 8, "-mcpu=cortex-m3", 24_000_000, "systick"),
    "mps2-an505": (4096, 4096, "-mcpu=cortex-m33", 20_000_000, "systick"),
    "microbit": (256, 16, "-mcpu=cortex-m0", 16_000_000, "nrf51_timer"),
}


@pytest.mark.parametrize("name", sorted(REAL_BOARDS))
def test_real_mcu_boards_have_their_parts_limits(name):
    flash_kb, ram_kb, cpu, hz, timer = REAL_BOARDS[name]
    board = get_board(name)
    assert (board.flash_size_kb, board.ram_size_kb) == (flash_kb, ram_kb)
    assert cpu in board.compilation_flags and board.cpu_frequency_hz == hz
    assert board.qemu_machine == name and board.runtime == "baremetal"
    assert timer in board.drivers and board.uart_rx_irq < board.irq_count
    # The linker script's regions are the same memories.
    script = (FIRMWARE_DIR / "boards" / board.board_dir / "memory.ld").read_text()
    lengths = re.findall(r"LENGTH = (\d+)([KM])", script)
    assert [int(n) * (1024 if unit == "M" else 1) for n, unit in lengths] == [flash_kb, ram_kb]


def test_every_driver_named_in_platforms_yml_exists():
    for board in load_boards().values():
        if board.runtime == "baremetal":
            assert firmware_inputs(board)  # raises a StageError naming a missing driver


def test_a_missing_driver_is_one_line(tmp_path: Path):
    board = dataclasses.replace(get_board("mps2-an385"), drivers=("cmsdk_uart", "sys_tick"))
    with pytest.raises(StageError, match=r"board mps2-an385: driver 'sys_tick' of platforms\.yml "
                                         r"has no .*sys_tick\.c; drivers: .*systick") as error:
        firmware_inputs(board)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("name, shift", [("mps2-an385", 6), ("mps2-an505", 6),
                                         ("netduinoplus2", 6), ("stm32vldiscovery", 7),
                                         ("microbit", 7)])
def test_icount_shift_gives_exact_counts_for_each_tick(name, shift):
    board = get_board(name)
    assert icount_shift(board) == shift
    assert counts_are_exact(board.cpu_frequency_hz, 1 << shift)
    assert shift == 6 or not counts_are_exact(board.cpu_frequency_hz, 1 << (shift - 1))


@pytest.mark.parametrize("hz, shift", [(25_000_000, 6), (20_000_000, 6), (24_000_000, 7),
                                       (16_000_000, 7), (168_000_000, 6)])
def test_counts_invert_exactly_even_when_qemu_rounds_timer_deadlines(hz, shift):
    """QEMU keeps timer deadlines in whole ns: with a fractional tick a reading can be one
    tick more than floor(M·I/p). Every such reading still inverts to M."""
    ns = 1 << shift
    late = (0,) if 10**9 % hz == 0 else (0, 1)  # whole-ns ticks land exactly
    for m in range(0, 5000):
        exact = (m * ns * hz) // 10**9
        for extra in late:
            assert ticks_to_instructions(exact + extra, hz, ns) == m


def test_build_options_become_flags():
    options = BuildOptions.from_parameters(
        {"defines": {"KT_MAX_PAYLOAD": 256, "FAST": True, "NAME": '"x"', "BARE": None},
         "cflags": ["-O3"], "werror": True})
    assert options.flags() == ["-DBARE", "-DFAST=1", "-DKT_MAX_PAYLOAD=256", '-DNAME="x"',
                               "-O3", "-Werror"]
    assert BuildOptions.from_parameters({"defines": None, "cflags": []}).flags() == []
