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
from kenning_tasks.optimizers.base import (
    KENNING_OPTIMIZER_PARAMETERS,
    Optimizer,
    StepContext,
    model_framework_param,
)
from kenning_tasks.optimizers.tvm_target import target_dict
from kenning_tasks.params import Param

_NO_MICRO_TVM = ("microTVM is not part of TVM 0.27 (Relax only); nearest: null (a host "
                 "library), or TFLiteCompiler with an embedded platform for a microcontroller")
_NO_TVM_QUANTIZATION = ("TVM 0.27 has no quantization passes; nearest: false, with "
                        "TFLiteCompiler target int8 (or ONNXCompiler quantization static) "
                        "before TVMCompiler")
_DEFAULT_KERNEL_LAYOUT = {"NCHW": "OIHW", "NHWC": "HWIO"}


class TVMCompiler(Optimizer):
    """Apache TVM Relax: ONNX/TFLite frontend → llvm → exported library for the Relax VM."""

    ACCEPTS = ("onnx", "tflite")
    PHASES = ("compile",)
    REQUIRES = ("apache-tvm", "onnx", "tflite")
    MODULES = ("kenning_tasks.optimizers.tvm_target",)
    # Kenning's parameters, names and defaults (kenning.optimizers.tvm.TVMCompiler).
    PARAMETERS = (
        model_framework_param(("keras", "onnx", "darknet", "torch", "tflite")),
        Param("target", (str, dict), "llvm", "TVM target: Kenning's string ('llvm', "
              "'llvm -mcpu=core-avx2') or TVM 0.27's dict form ({kind: llvm, mcpu: skylake}); "
              "the library must run on this host", phase="compile"),
        Param("target_attrs", str, "", "target options appended to a string target, e.g. "
              "'-mcpu=core-avx2'", phase="compile"),
        Param("target_microtvm_board", str, None, "microTVM board", nullable=True,
              only=(None,), only_reason=_NO_MICRO_TVM),
        Param("target_host", str, None, "host target", nullable=True, only=(None,),
              only_reason="the library runs on this host, so the target is its own host; "
              "nearest: null"),
        Param("zephyr_header_template", str, None, "microTVM Zephyr header template",
              nullable=True, only=(None,), only_reason=_NO_MICRO_TVM),
        Param("zephyr_llext_source_template", str, None, "Zephyr LLEXT source template",
              nullable=True, only=(None,), only_reason=_NO_MICRO_TVM),
        Param("opt_level", int, 3, "PassContext optimization level", phase="compile",
              minimum=0, maximum=3),
        Param("libdarknet_path", str, "/usr/local/lib/libdarknet.so", "libdarknet for Darknet "
              "models (Darknet models are not supported here)"),
        Param("compile_use_vm", bool, False, "Kenning: build for the Relay VM instead of the "
              "graph executor; TVM 0.27 always builds a Relax VM executable (same results)"),
        Param("output_conversion_function", str, "default", "PyTorch output conversion",
              enum=("default", "dict_to_tuple"), only=("default",),
              only_reason="PyTorch models reach TVM through ONNX here; nearest: 'default'"),
        Param("conv2d_data_layout", str, "", "convert conv2d to this data layout (Relax "
              "ConvertLayout); '' keeps the frontend's", phase="compile",
              enum=("", "NCHW", "NHWC")),
        Param("conv2d_kernel_layout", str, "", "conv2d kernel layout with conv2d_data_layout; "
              "'' = OIHW for NCHW, HWIO for NHWC", phase="compile",
              enum=("", "OIHW", "OHWI", "HWIO")),
        Param("use_fp16_precision", bool, False, "convert weights to float16", only=(False,),
              only_reason=_NO_TVM_QUANTIZATION),
        Param("use_int8_precision", bool, False, "quantize weights to int8", only=(False,),
              only_reason=_NO_TVM_QUANTIZATION),
        Param("use_tensorrt", bool, False, "offload to TensorRT", only=(False,),
              only_reason="TensorRT runs on GPUs, which are out of scope; nearest: false"),
        Param("dataset_percentage", float, 0.25, "calibration share for use_int8_precision "
              "(which is not supported)", minimum=0.0, maximum=1.0),
        Param("module_name", str, None, "prefix of generated C functions (microTVM)",
              nullable=True, only=(None,), only_reason=_NO_MICRO_TVM),
        *KENNING_OPTIMIZER_PARAMETERS,
    )

    @classmethod
    def check(cls, parameters: dict[str, Any], where: str) -> None:
        target_dict(parameters["target"], parameters["target_attrs"], where)
        if parameters["conv2d_kernel_layout"] and not parameters["conv2d_data_layout"]:
            raise ScenarioError(f"{where}.conv2d_kernel_layout: needs conv2d_data_layout "
                                "(NCHW or NHWC)")

    def output_format(self, phase: str, input_format: str) -> str:
        return "tvm"

    def compile(self, source: Path, target: Path, ctx: StepContext) -> None:
        import tvm

        p = self.parameters
        spec = iospec.read_spec(source)
        module = _import(source, spec)
        if p["conv2d_data_layout"]:
            from tvm import relax

            data = p["conv2d_data_layout"]
            kernel = p["conv2d_kernel_layout"] or _DEFAULT_KERNEL_LAYOUT[data]
            module = relax.transform.ConvertLayout({"relax.nn.conv2d": [data, kernel]})(module)
        tvm_target = tvm.target.Target(target_dict(p["target"], p["target_attrs"], "target"))
        with tvm.transform.PassContext(opt_level=p["opt_level"]):
            executable = tvm.compile(module, target=tvm_target)
        with artifacts.atomic_path(target) as tmp:
            executable.export_library(str(tmp))
        ctx.log(f"TVM {tvm.__version__} compiled for {tvm_target}")
        iospec.write_spec(target, "tvm", spec["input"], spec["output"], spec["class_names"],
                          {"source_format": spec["format"], "entry_function": "main",
                           # str(Target) is its JSON form, with the defaults TVM filled in.
                           "tvm_target": json.loads(str(tvm_target)),
                           "opt_level": p["opt_level"],
                           "conv2d_layout": p["conv2d_data_layout"] or None})


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
