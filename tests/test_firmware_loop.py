"""The firmware engineer's loop: build options on the platform block, the fit check before
anything but gcc is needed, a failed firmware stage leaving nothing behind, warnings, the map
file, compile_commands.json, the memory breakdown, and gdb attached to a halted QEMU.

The tests without the ``slow`` mark compile a few lines with the real arm-none-eabi-gcc
(~0.1 s) and never boot QEMU.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from kenning_tasks.errors import ScenarioError, StageError
from kenning_tasks.layout import FIRMWARE_DIR
from kenning_tasks.mcu.boards import get_board
from kenning_tasks.mcu.build import BuildOptions, build_firmware, estimate_model_fit
from kenning_tasks.scenario_files import load_scenario
from kenning_tasks.stages import firmware as firmware_stage
from kenning_tasks.stages.base import StageContext

SCENARIO = """\
dataset: {type: DigitsDataset}
model_wrapper: {type: KerasModel}
optimizers:
  - {type: TFLiteCompiler, parameters: {target: int8, inference_input_type: int8,
                                        inference_output_type: int8}}
platform: {type: PLATFORM, parameters: PARAMETERS}
"""


def scenario_file(tmp_path: Path, platform: str, parameters: str, name: str = "s") -> Path:
    path = tmp_path / f"{name}.yml"
    path.write_text(SCENARIO.replace("PLATFORM", platform).replace("PARAMETERS", parameters))
    return path


def write_big_model(model_dir: Path, weight_bytes: int) -> Path:
    """A generated-model stand-in: model.h and a model.c whose weights take weight_bytes of
    flash (compiles in a blink: the initializer is one value)."""
    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / "model.h").write_text(
        "#include <stdint.h>\n#define KT_MODEL_INPUT_BYTES 4\n#define KT_MODEL_OUTPUT_BYTES 4\n"
        "#define KT_MODEL_ARENA_BYTES 0\n"
        "int kt_model_invoke(const int8_t *input, int8_t *output);\n")
    (model_dir / "model.c").write_text(textwrap.dedent(f"""\
        #include "model.h"
        static const int8_t weights[{weight_bytes}] = {{1}};
        int kt_model_invoke(const int8_t *input, int8_t *output)
        {{
            for (int i = 0; i < 4; i++) {{
                output[i] = (int8_t)(input[i] + weights[(uint8_t)input[i]]);
            }}
            return 0;
        }}
        """))
    return model_dir


@pytest.mark.parametrize("parameters, message", [
    ("{board: mps2-an385, defines: [KT_X]}", r"platform\.parameters\.defines: expected dict"),
    ("{board: mps2-an385, defines: {1X: 2}}", r"defines: '1X' is not a C identifier"),
    ("{board: mps2-an385, defines: {KT_X: [1, 2]}}",
     r"defines\.KT_X: expected a string, number, bool or null, got list"),
    ("{board: mps2-an385, defines: {KT_X: .inf}}", r"defines\.KT_X: inf is not a finite number"),
    ("{board: mps2-an385, cflags: -O3}", r"cflags: expected list\[str\], got str"),
    ("{board: mps2-an385, cflags: [3]}", r"cflags\[0\]: expected str, got 3"),
    ("{board: mps2-an385, cflags: [-O3 -g]}", r"cflags\[0\]: '-O3 -g' is not one compiler flag"),
    ("{board: mps2-an385, cflags: [O3]}", r"cflags\[0\]: 'O3' is not one compiler flag"),
    ("{board: mps2-an385, cflags: [-o, x.elf]}", r"cflags\[0\]: '-o' changes what the build"),
    ("{board: mps2-an385, werror: yes please}", r"werror: expected bool, got str"),
    ("{board: mps2-an385, weight_layout: int4}", r"weight_layout: .*int4.*auto"),
])
def test_bad_build_options_are_one_line(tmp_path, parameters, message):
    path = scenario_file(tmp_path, "QEMUPlatform", parameters)
    with pytest.raises(ScenarioError, match=message) as error:
        load_scenario(path)
    assert str(path) in str(error.value) and len(str(error.value).splitlines()) == 1


@pytest.mark.parametrize("platform, parameters", [
    ("QEMUPlatform", "{board: microbit, defines: {KT_MAX_PAYLOAD: 256}, werror: true}"),
    ("BareMetalPlatform", "{name: stm32vldiscovery, cflags: [-O3]}"),
    ("QEMUPlatform", "{board: netduinoplus2, weight_layout: int8}"),
    ("ZephyrPlatform", "{name: stm32f746g_disco, simulated: false, defines: {X: null}}"),
])
def test_build_options_are_parameters_of_the_firmware_stage(tmp_path, platform, parameters):
    scenario = load_scenario(scenario_file(tmp_path, platform, parameters))
    signature = firmware_stage.parameters(scenario)
    plain = load_scenario(scenario_file(tmp_path, platform,
                                        re.sub(r", (defines|cflags|werror|weight_layout).*}$", "}",
                                               parameters), "plain"))
    assert signature["build"] != firmware_stage.parameters(plain)["build"]
    assert signature["board"] == firmware_stage.parameters(plain)["board"]


def test_a_model_too_large_stops_before_west(tmp_path, monkeypatch):
    """A 2 MiB model for a 1 MiB Zephyr board: "does not fit", not "needs west"."""
    monkeypatch.delenv("ZEPHYR_BASE", raising=False)
    model_dir = write_big_model(tmp_path / "model", 2 * 1024 * 1024)
    with pytest.raises(StageError, match=r"firmware for stm32f746g_disco does not fit: flash "
                                         r"2097\d{3} B of 1048576 B, RAM \d+ B of 327680 B for "
                                         r"the generated model alone") as error:
        estimate_model_fit(get_board("stm32f746g_disco"), model_dir)
    assert "\n" not in str(error.value)
    small = write_big_model(tmp_path / "small", 1024)
    assert estimate_model_fit(get_board("stm32f746g_disco"), small).flash_bytes > 1024


def stage_context(tmp_path: Path, scenario_path: Path) -> StageContext:
    scenario = load_scenario(scenario_path)
    owners = {stage: str(tmp_path / "build") for stage in
              ("dataset", "train", "convert", "quantize", "compile", "firmware")}
    return StageContext(scenario, "firmware", owners, log=lambda line: None)


def test_a_failed_firmware_stage_leaves_nothing_behind(tmp_path, monkeypatch):
    """The stage generates the model, finds it too large for the board and stops: neither
    the generated sources nor any older output of the stage stay."""
    import kenning_tasks.codegen as codegen

    ctx = stage_context(tmp_path, scenario_file(tmp_path, "QEMUPlatform",
                                                "{board: stm32vldiscovery}"))
    out = ctx.out_dir
    out.mkdir(parents=True)
    (out / "firmware.elf").write_bytes(b"an older build")
    (out / "compile_commands.json").write_text("[]")

    def oversized_generate(tflite, model_dir, **layout_options):
        # Writes real C sources too large for the board, described as the generator would.
        from kenning_tasks.codegen.weight_layout import LayoutChoice

        model_dir = Path(model_dir)
        write_big_model(model_dir, 200 * 1024)  # 200 KiB of weights for 128 KiB flash
        return codegen.GeneratedModel(
            header=model_dir / "model.h", sources=sorted(model_dir.glob("*.c")),
            arena_bytes=0, macs=4, input_bytes=1, output_bytes=1, input_scale=1.0,
            input_zero_point=0, output_scale=1.0, output_zero_point=0,
            ops=["FULLY_CONNECTED"], weight_layout=LayoutChoice("auto", False))

    monkeypatch.setattr(codegen, "generate_c_model", oversized_generate)
    with pytest.raises(StageError, match=r"stm32vldiscovery does not fit: flash 2\d{5} B of "
                                         r"131072 B, RAM \d+ B of 8192 B for the generated "
                                         r"model alone"):
        firmware_stage.run(ctx)
    assert not out.exists() or sorted(p.name for p in out.rglob("*")) == []


# --- slow: full builds and QEMU ----------------------------------------------------------

@pytest.fixture(scope="module")
def model(tmp_path_factory):
    from target_support import generated_model

    return generated_model(tmp_path_factory)


@pytest.mark.slow
def test_warnings_are_shown_and_werror_turns_them_into_errors(model, tmp_path):
    model_dir = tmp_path / "model"
    shutil.copytree(model[1], model_dir)
    (model_dir / "extra.c").write_text("int kt_extra(int x)\n{\n    int unused = x;\n"
                                       "    return 0;\n}\n")
    board = get_board("microbit")
    lines: list[str] = []
    image = build_firmware(board, model_dir, tmp_path / "out", log=lines.append)
    assert any(re.match(r"model/extra\.c:3:\d+: warning: unused variable 'unused'", w)
               for w in image.warnings)
    assert lines == list(image.warnings)  # shown as they come
    assert not any(str(tmp_path) in w for w in image.warnings)
    with pytest.raises(StageError, match=r"firmware build for microbit failed: model/extra\.c:3"
                                         r":\d+: error: unused variable 'unused' "
                                         r"\[-Werror=unused-variable\]"):
        build_firmware(board, model_dir, tmp_path / "strict", options=BuildOptions(werror=True))
    assert not list((tmp_path / "strict").glob("firmware*"))


@pytest.mark.slow
def test_defines_reach_the_build_and_the_map_has_no_host_path(model, tmp_path):
    board = get_board("stm32vldiscovery")
    base = build_firmware(board, model[1], tmp_path / "a")
    small = build_firmware(board, model[1], tmp_path / "b",
                           options=BuildOptions(defines=(("KT_MAX_PAYLOAD", "256"),)))
    # Two payload buffers of 1024 B become 256 B each.
    assert base.sections[".bss"] - small.sections[".bss"] == 2 * (1024 - 256)
    text = base.map_file.read_text()
    assert "Memory Configuration" in text and "runtime/conv2d.o" in text
    assert re.search(r"^LOAD model/model\.o$", text, flags=re.M)
    assert "<toolchain>/thumb/v7-m/nofp/libgcc.a" in text
    for host in (str(tmp_path), str(FIRMWARE_DIR), "/usr/lib"):
        assert host not in text
    # The exact commands (for compile_commands.json) keep their host paths.
    compiles = [c for c in base.commands if c["file"] != "(link)"]
    assert {Path(c["file"]).name for c in compiles} >= {"model.c", "startup.c", "systick.c"}
    assert all(Path(c["directory"]).is_absolute() and "-c" in c["arguments"] for c in compiles)
    assert base.recorded["sources"][0] == "model/model.c"
    assert "-Tfirmware/boards/stm32vldiscovery/memory.ld" in base.recorded["link_flags"]


@pytest.mark.slow
def test_memory_breakdown_by_section_and_symbol(model, tmp_path):
    image = build_firmware(get_board("netduinoplus2"), model[1], tmp_path)
    breakdown = image.memory.breakdown()
    assert breakdown["flash"]["bytes"] == image.flash_bytes
    assert breakdown["ram"]["bytes"] == image.ram_bytes
    assert breakdown["ram"]["sections"][".stack"] == 8192
    sizes = [s["bytes"] for s in breakdown["symbols"]]
    assert sizes == sorted(sizes, reverse=True) and len(sizes) > 20
    names = {s["name"]: s for s in breakdown["symbols"]}
    assert names["rx_payload"]["regions"] == ["ram"] and names["rx_payload"]["bytes"] == 1024
    assert names["Reset_Handler"]["regions"] == ["flash"]
    weights = [s for s in breakdown["symbols"] if "weights" in s["name"]]
    assert weights and all(s["section"] == ".rodata" for s in weights)
    json.dumps(breakdown)  # what firmware.json holds


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("gdb-multiarch") is None, reason="needs gdb-multiarch")
@pytest.mark.parametrize("name", ["microbit", "mps2-an505"])
def test_gdb_attaches_to_the_halted_firmware(name, model, tmp_path):
    from elftools.elf.elffile import ELFFile
    from target_support import qemu_children

    from kenning_tasks.mcu.debug import gdb_command, halted_qemu

    board = get_board(name)
    image = build_firmware(board, model[1], tmp_path / "fw")
    with open(image.elf, "rb") as stream:
        entry = ELFFile(stream)["e_entry"] & ~1
    with halted_qemu(image.elf, board, pid_dir=tmp_path) as (qemu, port):
        command = gdb_command(image.debug_elf, port, gdb="gdb-multiarch")
        assert command[:3] == ["gdb-multiarch", "-q", str(image.debug_elf)]
        result = subprocess.run(
            [*command, "-batch", "-ex", "info registers pc", "-ex", "info symbol $pc"],
            capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        # Halted at the reset vector: the PC is the ELF's entry, Reset_Handler.
        assert re.search(rf"pc\s+0x0*{entry:x}\b", result.stdout), result.stdout
        assert "Reset_Handler" in result.stdout
        pid = qemu.pid
    assert pid not in qemu_children()
