"""Apache TVM (Relax) compiler: ONNX or TFLite → a Relax VM executable in a shared library.

TVM 0.27 is Relax only (no Relay, microTVM or AOT), so the output runs on the host in the
Relax virtual machine (``TVMRuntime``). It has no quantization passes of its own: int8 models
reach it already quantized (ONNX Runtime QDQ ONNX or int8 TFLite); QOperator ONNX (QLinearConv,
QGemm) is not supported by its ONNX frontend.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kenning_tasks import artifacts, iospec
from kenning_tasks.errors import ScenarioError
from kenning_tasks.optimizers.base import Optimizer, StepContext
from kenning_tasks.params import Param


class TVMCompiler(Optimizer):
    """Apache TVM Relax: ONNX/TFLite frontend → llvm → exported library for the Relax VM."""

    ACCEPTS = ("onnx", "tflite")
    PHASES = ("compile",)
    REQUIRES = ("apache-tvm", "onnx", "tflite")
    PARAMETERS = (
        Param("target", dict, {"kind": "llvm"}, "TVM target as a dict (TVM 0.27 rejects option "
              "strings), e.g. {kind: llvm, mcpu: skylake}; the library must run on this host",
              phase="compile"),
        Param("opt_level", int, 3, "PassContext optimization level", phase="compile",
              minimum=0, maximum=3),
    )

    @classmethod
    def check(cls, parameters: dict[str, Any], where: str) -> None:
        target = parameters["target"]
        if not isinstance(target.get("kind"), str):
            raise ScenarioError(f"{where}.target: needs a string 'kind' "
                                f"(e.g. {{kind: llvm}}), got {target!r}")
        if target["kind"] != "llvm":
            raise ScenarioError(f"{where}.target.kind: {target['kind']!r} is not "
                                "allowed; allowed: 'llvm' (TVMRuntime loads a host library)")

    def output_format(self, phase: str, input_format: str) -> str:
        return "tvm"

    def compile(self, source: Path, target: Path, ctx: StepContext) -> None:
        import tvm

        spec = iospec.read_spec(source)
        module = _import(source, spec)
        tvm_target = tvm.target.Target(dict(self.parameters["target"]))
        with tvm.transform.PassContext(opt_level=self.parameters["opt_level"]):
            executable = tvm.compile(module, target=tvm_target)
        with artifacts.atomic_path(target) as tmp:
            executable.export_library(str(tmp))
        ctx.log(f"TVM {tvm.__version__} compiled for {tvm_target}")
        iospec.write_spec(target, "tvm", spec["input"], spec["output"], spec["class_names"],
                          {"source_format": spec["format"], "entry_function": "main",
                           # str(Target) is its JSON form, with the defaults TVM filled in.
                           "tvm_target": json.loads(str(tvm_target)),
                           "opt_level": self.parameters["opt_level"]})


def _import(source: Path, spec: dict[str, Any]) -> Any:
    """The model as a Relax IRModule, through the frontend of its format."""
    if spec["format"] == "tflite":
        import tflite
        from tvm.relax.frontend.tflite import from_tflite

        # The TFLite frontend fails on a dynamic batch (convert_reshape); the TFLite
        # converters of this project always write batch-1 models.
        return from_tflite(tflite.Model.GetRootAsModel(source.read_bytes(), 0))
    import onnx
    from tvm.relax.frontend.onnx import from_onnx

    # Fix every input shape from the sidecar (dynamic dims are recorded as 1 there).
    shapes = {t["name"]: tuple(t["shape"]) for t in spec["input"]}
    return from_onnx(onnx.load(str(source)), shape_dict=shapes)
