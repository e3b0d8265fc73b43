"""Discovery: `python -m kenning_tasks list|info` derive from the blocks' declarations."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kenning_tasks import registry
from kenning_tasks.__main__ import block_info, main

REPO = Path(__file__).resolve().parent.parent


def test_list_shows_every_registered_block(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for family, blocks in registry.BLOCKS.items():
        assert f"{family}:" in out
        for name in blocks:
            cls = registry.find_block(family, name)
            assert f"  {name:<22} {cls.summary()}" in out


@pytest.mark.parametrize("family,name", [(f, n) for f, blocks in registry.BLOCKS.items()
                                         for n in blocks])
def test_info_matches_the_parameter_schema(family: str, name: str) -> None:
    cls = registry.find_block(family, name)
    lines = block_info(name)
    assert lines[0].startswith(f"{name} ({family}): ")
    for param in cls.PARAMETERS:
        schema = param.to_schema()
        matching = [line for line in lines if line.strip().startswith(f"{param.name} (")]
        assert len(matching) == 1, (param.name, lines)
        line = matching[0]
        assert f"({schema['type']}, " in line
        assert ("required" in line) if param.required else (f"default {param.default!r}" in line)
        for value in param.enum or ():
            assert repr(value) in line
        assert param.description in line
    if hasattr(cls, "ACCEPTS") and cls.ACCEPTS:
        assert f"  accepts formats: {', '.join(cls.ACCEPTS)}" in lines


def test_info_for_an_unknown_block_is_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", "NoSuchCompiler"]) == 2
    assert "unknown block 'NoSuchCompiler'" in capsys.readouterr().err


def test_listing_imports_no_framework() -> None:
    code = ("import sys, io, contextlib; from kenning_tasks.__main__ import main; "
            "buf = io.StringIO()\nwith contextlib.redirect_stdout(buf): main(['list']); "
            "main(['info', 'TVMCompiler'])\n"
            "print([m for m in ('tensorflow', 'torch', 'tvm', 'iree', 'onnxruntime', 'keras') "
            "if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
