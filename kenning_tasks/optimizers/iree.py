"""IREE compiler: ONNX → MLIR (iree-import-onnx) → VM FlatBuffer (iree-compile, vmvx or llvm-cpu).

The host module (``model.vmfb``) runs in ``IREERuntime``. Optionally the same model is also
cross-compiled for a board CPU (e.g. Cortex-M4) as a static library: an ARM object file, its C
header and the matching VM module. That build is a real iree-compile output whose sizes are
recorded in the sidecar, but nothing here can run it: a board needs IREE's C runtime (HAL, VM,
static library loader), which is in no package registry (the iree-base-* wheels carry only
the compiler and the Python runtime). The sidecar says so (``runnable_on_target: false``).
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from kenning_tasks import artifacts, iospec
from kenning_tasks.errors import StageError
from kenning_tasks.optimizers.base import (
    KENNING_OPTIMIZER_PARAMETERS,
    Optimizer,
    StepContext,
    model_framework_param,
)
from kenning_tasks.params import Param

NOT_RUNNABLE_REASON = (
    "needs IREE's C runtime (HAL, VM and static library loader) linked into the firmware; "
    "no package registry carries its sources, so this project only builds the object file")

BOARD_SUFFIXES = ("o", "h", "vmfb")  # static library object, its header, the VM module

# iree-compile may print diagnostics like "error: ... calling convention is hard-float, but
# floating-point registers are unavailable" and still exit 0; any such line is a failure.
_ERROR_LINE = re.compile(r"(^|:\s)error:", re.MULTILINE)


class IREECompiler(Optimizer):
    """IREE: ONNX → vmvx/llvm-cpu .vmfb for the host, optionally a static ARM object for a board."""

    ACCEPTS = ("onnx",)
    PHASES = ("compile",)
    REQUIRES = ("iree-base-compiler", "onnx")
    PARAMETERS = (
        # Kenning's parameters and defaults (kenning.optimizers.iree.IREECompiler). Kenning
        # imports Keras/TFLite models with IREE's TF tools, which fail with TF 2.21 here
        # (toolchain notes), so those models reach IREE as ONNX.
        model_framework_param(("keras", "tflite", "onnx", "torch")),
        Param("backend", str, "vmvx", "Kenning: IREE HAL backend of the host module: vmvx "
              "(Kenning's default, portable interpreter), llvm-cpu (native code; 'dylib' is its "
              "former name)", phase="compile",
              enum=("dylib", "vmvx", "vulkan", "cuda", "llvm-cpu"),
              only=("dylib", "vmvx", "llvm-cpu"),
              only_reason="GPU backends are out of scope (no GPU here); nearest: 'llvm-cpu'"),
        Param("compiler_args", list, None, "Kenning: extra iree-compile options without the "
              "leading '--' (e.g. iree-llvmcpu-target-cpu=host)", phase="compile",
              item_type=str, nullable=True),
        *KENNING_OPTIMIZER_PARAMETERS,
        # This project's extras.
        # 'generic' by default: 'host' makes the module depend on a CPU the stage signature
        # cannot see (and measured no faster on the digits model).
        Param("target_cpu", str, "generic", "--iree-llvmcpu-target-cpu for the host module "
              "('generic' is portable, 'host' tunes for this machine)", phase="compile"),
        Param("opt_level", str, "O2", "--iree-opt-level", phase="compile",
              enum=("O0", "O1", "O2", "O3")),
        Param("extra_args", list, [], "extra iree-compile arguments for the host module",
              phase="compile", item_type=str),
        Param("board_triple", str, None, "also cross-compile a static library for this LLVM "
              "triple (e.g. thumbv7em-none-eabihf); null = host only", phase="compile",
              nullable=True),
        Param("board_cpu", str, "cortex-m4", "board CPU (always pass it with the triple)",
              phase="compile"),
        Param("board_cpu_features", str, "+vfp4d16sp,+thumb-mode", "board CPU features "
              "(always pass them with the triple)", phase="compile"),
        Param("board_float_abi", str, "hard", "board float ABI; must match the triple "
              "(eabihf = hard)", phase="compile", enum=("hard", "soft")),
        Param("board_extra_args", list, [], "extra iree-compile arguments for the board build",
              phase="compile", item_type=str),
    )

    def output_format(self, phase: str, input_format: str) -> str:
        return "iree"

    def compile(self, source: Path, target: Path, ctx: StepContext) -> None:
        p = self.parameters
        spec = iospec.read_spec(source)
        with tempfile.TemporaryDirectory(prefix="iree-") as work:
            # The MLIR file's stem names the static library's symbols (model_linked_...).
            mlir = Path(work) / "model.mlir"
            _run([sys.executable, "-m", "iree.compiler.tools.import_onnx", str(source),
                  "-o", str(mlir)], "iree-import-onnx")
            entry = _entry_function(mlir)
            backend = "llvm-cpu" if p["backend"] == "dylib" else p["backend"]
            host_args = [f"--iree-opt-level={p['opt_level']}",
                         *(f"--{option}" for option in p["compiler_args"] or ()),
                         *p["extra_args"]]
            if backend == "llvm-cpu":
                host_args.insert(0, f"--iree-llvmcpu-target-cpu={p['target_cpu']}")
            with artifacts.atomic_path(target) as tmp:
                _iree_compile(mlir, tmp, host_args, backend)
            extra: dict[str, Any] = {"source_format": spec["format"], "entry_function": entry,
                                     "iree_backend": backend, "iree_compile_args": host_args}
            if p["board_triple"]:
                extra["board"] = self._board_build(mlir, target, Path(work))
                extra["runnable_on_target"] = False
                extra["runnable_on_target_reason"] = NOT_RUNNABLE_REASON
                ctx.log(f"board build for {p['board_triple']}: object "
                        f"{extra['board']['object_bytes']} bytes (not runnable here: needs "
                        "IREE's C runtime)")
        iospec.write_spec(target, "iree", spec["input"], spec["output"], spec["class_names"],
                          extra)

    def extra_outputs(self, target: Path) -> list[Path]:
        """Files the compile phase writes next to ``target`` besides the model and sidecar."""
        if not self.parameters["board_triple"]:
            return []
        return [target.with_name(f"{target.name}.board.{suffix}") for suffix in BOARD_SUFFIXES]

    def _board_build(self, mlir: Path, target: Path, work: Path) -> dict[str, Any]:
        """Cross-compile a static library; publish ``<target>.board.{o,h,vmfb}``."""
        p = self.parameters
        args = [f"--iree-llvmcpu-target-triple={p['board_triple']}",
                f"--iree-llvmcpu-target-cpu={p['board_cpu']}",
                f"--iree-llvmcpu-target-cpu-features={p['board_cpu_features']}",
                f"--iree-llvmcpu-target-float-abi={p['board_float_abi']}",
                f"--iree-opt-level={p['opt_level']}",
                "--iree-llvmcpu-link-embedded=false", "--iree-llvmcpu-link-static",
                # 32-bit index types: the board's VM has 32-bit pointers.
                "--iree-vm-target-index-bits=32", *p["board_extra_args"]]
        out_dir = work / "board"
        out_dir.mkdir()
        _iree_compile(mlir, out_dir / "model.vmfb",
                      [*args, f"--iree-llvmcpu-static-library-output-path={out_dir / 'model.o'}"])
        files = {}
        for suffix, published in zip(BOARD_SUFFIXES, self.extra_outputs(target), strict=True):
            artifacts.write_bytes(published, (out_dir / f"model.{suffix}").read_bytes())
            files[suffix] = published
        result: dict[str, Any] = {
            "triple": p["board_triple"], "cpu": p["board_cpu"],
            "cpu_features": p["board_cpu_features"], "float_abi": p["board_float_abi"],
            "iree_compile_args": args,
            "object_file": files["o"].name, "object_bytes": files["o"].stat().st_size,
            "header_file": files["h"].name,
            "module_file": files["vmfb"].name, "module_bytes": files["vmfb"].stat().st_size,
            "library_query_function": "model_linked_library_query",
        }
        result.update(_section_sizes(files["o"]))
        return result


def _iree_compile(mlir: Path, output: Path, args: list[str], backend: str = "llvm-cpu") -> None:
    from iree.compiler.tools.binaries import find_tool

    _run([find_tool("iree-compile"), str(mlir), "--iree-hal-target-device=local",
          f"--iree-hal-local-target-device-backends={backend}", *args, "-o", str(output)],
         "iree-compile")


def _run(command: list[str], tool: str) -> str:
    """Run a tool; fail on a non-zero exit *or* an error diagnostic on stderr."""
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    errors = [line for line in done.stderr.splitlines() if _ERROR_LINE.search(line)]
    if done.returncode != 0 or errors:
        detail = " | ".join(errors[:3] or done.stderr.strip().splitlines()[-3:])
        raise StageError(f"{tool} failed (exit {done.returncode}): {detail}")
    return done.stderr


def _entry_function(mlir: Path) -> str:
    """Name of the imported model's public function (the ONNX graph name, e.g. main_graph)."""
    with mlir.open() as handle:
        for line in handle:
            match = re.search(r"func\.func @([\w$.-]+)\(", line)
            if match:
                return match.group(1)
    raise StageError(f"iree-import-onnx wrote no function to {mlir}")


def _section_sizes(object_file: Path) -> dict[str, int]:
    """text/data/bss of the ARM object from arm-none-eabi-size, when that tool is installed."""
    try:
        done = subprocess.run(["arm-none-eabi-size", str(object_file)], capture_output=True,
                              text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return {}
    text, data, bss = (int(v) for v in done.stdout.splitlines()[1].split()[:3])
    return {"object_text_bytes": text, "object_data_bytes": data, "object_bss_bytes": bss}
