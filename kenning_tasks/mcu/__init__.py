"""Everything that touches the microcontroller: boards, firmware build, protocol, QEMU, serial.

The high-level API is re-exported lazily (``from kenning_tasks.mcu import build_firmware``)
so that importing this package stays cheap: submodules load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Board": "boards", "BoardError": "boards", "load_boards": "boards", "get_board": "boards",
    "board_names": "boards",
    "FirmwareImage": "build", "build_firmware": "build", "build_zephyr": "build",
    "firmware_inputs": "build", "flash_openocd": "build", "toolchain_version": "build",
    "TargetRun": "link", "run_on_serial": "link",
    "run_on_qemu": "qemu", "QemuTarget": "qemu",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
