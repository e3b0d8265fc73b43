"""Exports: Kenning's compiled_model_path / save_model_path / report paths get byte-identical,
atomically written copies of the stage outputs, relative to the scenario file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kenning_tasks import exports
from kenning_tasks.errors import StageError
from kenning_tasks.scenario import validate

DATA = {
    "dataset": {"type": "DigitsDataset"},
    "model_wrapper": {"type": "KerasModel"},
    "optimizers": [{"type": "TFLiteCompiler", "parameters": {
        "target": "int8", "inference_input_type": "int8", "inference_output_type": "int8",
        "compiled_model_path": "./out/int8.tflite"}}],
    "runtime": {"type": "TFLiteRuntime", "parameters": {"save_model_path": "out/same.tflite"}},
}


def _scenario(tmp_path: Path, data: dict = DATA):
    return validate(tmp_path / "scenarios" / "s.yml", "s", data)


def _build(tmp_path: Path) -> Path:
    build = tmp_path / "build"
    (build / "quantize").mkdir(parents=True)
    (build / "quantize" / "model.tflite").write_bytes(b"TFL3" + bytes(range(256)) * 4)
    (build / "quantize" / "model.tflite.json").write_text('{"format": "tflite"}')
    return build


def test_publish_copies_stage_outputs_byte_for_byte_next_to_the_scenario(tmp_path):
    scenario = _scenario(tmp_path)
    build = _build(tmp_path)
    artifacts = {e.key: e.artifact for e in scenario.exports}
    assert artifacts == {"optimizers[0].parameters.compiled_model_path": "quantize/model.tflite",
                         "runtime.parameters.save_model_path": "compile/model.tflite"}
    lines: list[str] = []
    assert exports.copy_exports(scenario, "train", lambda rel: build / rel, lines.append) == []
    written = exports.copy_exports(scenario, "quantize", lambda rel: build / rel, lines.append)
    out = tmp_path / "scenarios" / "out"
    assert written == [out / "int8.tflite", out / "int8.tflite.json"]
    assert (out / "int8.tflite").read_bytes() == (build / "quantize/model.tflite").read_bytes()
    assert (out / "int8.tflite.json").read_text() == '{"format": "tflite"}'
    assert sorted(p.name for p in out.iterdir()) == ["int8.tflite", "int8.tflite.json"]  # no temp
    assert lines == [f"exported quantize/model.tflite to {out / 'int8.tflite'} "
                     "(optimizers[0].parameters.compiled_model_path)"]
    # Same bytes again: nothing rewritten (the file keeps its inode).
    inode = os.stat(out / "int8.tflite").st_ino
    assert exports.copy_exports(scenario, "quantize", lambda rel: build / rel, lines.append) == []
    assert os.stat(out / "int8.tflite").st_ino == inode
    # Changed stage output: replaced by a rename (a reader never sees half a file).
    (build / "quantize" / "model.tflite").write_bytes(b"TFL3 new")
    exports.copy_exports(scenario, "quantize", lambda rel: build / rel, lines.append)
    assert (out / "int8.tflite").read_bytes() == b"TFL3 new"
    assert os.stat(out / "int8.tflite").st_ino != inode


def test_absolute_export_path_and_unwritable_target_is_one_line(tmp_path):
    data = {**DATA, "optimizers": [{**DATA["optimizers"][0], "parameters": {
        **DATA["optimizers"][0]["parameters"],
        "compiled_model_path": str(tmp_path / "abs" / "m.tflite")}}]}
    scenario = _scenario(tmp_path, data)
    build = _build(tmp_path)
    exports.copy_exports(scenario, "quantize", lambda rel: build / rel, lambda m: None)
    assert (tmp_path / "abs" / "m.tflite").is_file()
    (tmp_path / "abs" / "m.tflite").unlink()
    (tmp_path / "abs" / "m.tflite").mkdir()  # a folder where the file should go
    with pytest.raises(StageError) as error:
        exports.copy_exports(scenario, "quantize", lambda rel: build / rel, lambda m: None)
    message = str(error.value)
    assert "\n" not in message
    assert "optimizers[0].parameters.compiled_model_path: cannot write" in message
