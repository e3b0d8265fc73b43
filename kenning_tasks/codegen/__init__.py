"""Ahead-of-time C code generation for int8 and float32 .tflite models.

`generate_c_model` reads a .tflite file, does everything TFLite Micro's prepare step would do on
the host, plans a static arena and writes `model.h` + `model.c`, which call the int8 kernels in
firmware/runtime (see `runtime_dir()`), or its float32 kernels for float32 operators
(`float_lowering.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kenning_tasks.artifacts import write_text
from kenning_tasks.codegen import weight_layout
from kenning_tasks.codegen.arena import layout_arena
from kenning_tasks.codegen.emit import constant_bytes, header_text, source_text
from kenning_tasks.codegen.float_lowering import Float32Lowerer, numeric_path
from kenning_tasks.codegen.lowering import DSP_GUARD, DSP_REQUANT_GUARD, FAST_GUARD, Step
from kenning_tasks.codegen.reader import Graph, read_tflite
from kenning_tasks.layout import FIRMWARE_DIR


@dataclass(frozen=True)
class GeneratedModel:
    header: Path  # <out_dir>/model.h
    sources: list[Path]  # generated .c files
    arena_bytes: int
    macs: int  # multiply-accumulates per inference
    input_bytes: int
    output_bytes: int
    input_scale: float
    input_zero_point: int
    output_scale: float
    output_zero_point: int
    ops: list[str]  # op names in execution order
    numeric_path: str = "int8"  # int8, float32 or mixed (float_lowering.numeric_path)
    # Ops with a kernel call, in order: {"index" (in the .tflite), "op", "macs"}; the
    # KT_OP_BEGIN/KT_OP_END hooks in model.c carry the same index.
    kernel_ops: tuple[dict, ...] = ()
    weight_layout: weight_layout.LayoutChoice | None = None


def runtime_dir() -> Path:
    """firmware/runtime: the include directory that also holds every kernel .c to compile."""
    return FIRMWARE_DIR / "runtime"


def _single_io(graph: Graph) -> tuple[int, int]:
    from kenning_tasks.errors import UnsupportedModelError

    if len(graph.inputs) != 1 or len(graph.outputs) != 1:
        raise UnsupportedModelError(
            f"{graph.path}: {len(graph.inputs)} inputs and {len(graph.outputs)} outputs; the "
            "C runtime supports exactly one of each"
        )
    for index in (graph.inputs[0], graph.outputs[0]):
        tensor = graph.tensors[index]
        if tensor.dtype not in ("int8", "float32"):
            graph.unsupported(None, tensor, f"model input/output dtype {tensor.dtype} is not "
                                            "supported (int8 or float32)")
    return graph.inputs[0], graph.outputs[0]


_DSP_BUILD = {FAST_GUARD: 1, DSP_GUARD: 1, DSP_REQUANT_GUARD: 1}


def _choose_weight_layout(graph: Graph, steps: list[Step], requested: str, dsp: bool,
                          flash_limit_bytes: int | None) -> weight_layout.LayoutChoice:
    extra = {}
    for step in steps:
        widened = {a.ctype: a.values.nbytes for a in step.arrays
                   if a.name.endswith("_packed_weights")}
        if "int16_t" in widened:
            extra[step.op.index] = int(widened["int16_t"] - widened.get("int8_t", 0))
    return weight_layout.choose(requested, dsp, extra, constant_bytes(graph, steps, _DSP_BUILD),
                                flash_limit_bytes)


def generate_c_model(tflite_path: Path, out_dir: Path, *, flash_limit_bytes: int | None = None,
                     weight_layout_request: str = "auto", dsp: bool = True) -> GeneratedModel:
    """Generate `model.h` and `model.c` for ``tflite_path`` in ``out_dir``.

    With ``flash_limit_bytes`` (the board's flash) and ``dsp`` (its CPU has the DSP extension,
    ``weight_layout.cpu_has_dsp``), layers whose int16-widened weights would not fit keep int8
    weights, largest first; ``weight_layout_request`` "int16" / "int8" forces one layout.
    """
    graph = read_tflite(Path(tflite_path))
    input_index, output_index = _single_io(graph)
    lowerer = Float32Lowerer(graph)
    steps = lowerer.lower()
    choice = _choose_weight_layout(graph, steps, weight_layout_request, dsp, flash_limit_bytes)
    if choice.int8_ops:
        lowerer = Float32Lowerer(graph, frozenset(choice.int8_ops))
        steps = lowerer.lower()
    layout = layout_arena(graph, steps)
    input_t, output_t = graph.tensors[input_index], graph.tensors[output_index]

    out_dir = Path(out_dir)
    header = write_text(out_dir / "model.h", header_text(
        graph, input_t, output_t, layout.arena_bytes, sum(1 for step in steps if step.kernel)))
    source = write_text(out_dir / "model.c", source_text(graph, steps, layout, input_t, output_t))
    return GeneratedModel(
        header=header,
        sources=[source],
        arena_bytes=layout.arena_bytes,
        macs=sum(step.macs for step in steps),
        input_bytes=input_t.nbytes,
        output_bytes=output_t.nbytes,
        input_scale=input_t.scale,
        input_zero_point=input_t.zero_point,
        output_scale=output_t.scale,
        output_zero_point=output_t.zero_point,
        ops=[step.op.opcode for step in steps],
        numeric_path=numeric_path(steps, lowerer.float_ops),
        weight_layout=choice,
        kernel_ops=tuple({"index": step.op.index, "op": step.op.opcode, "macs": step.macs}
                         for step in steps if step.kernel),
    )


def count_macs(tflite_path: Path) -> int:
    """Multiply-accumulates per inference of CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED.

    Works on any readable model (unsupported ops just contribute nothing).
    """
    graph = read_tflite(Path(tflite_path))
    total = 0
    for op in graph.operators:
        if op.opcode not in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
            continue
        out = graph.tensors[op.outputs[0]]
        weights = graph.tensors[op.inputs[1]].shape
        if op.opcode == "CONV_2D":
            total += out.size * weights[1] * weights[2] * weights[3]
        elif op.opcode == "DEPTHWISE_CONV_2D":
            total += out.size * weights[1] * weights[2]
        else:
            total += out.size * weights[-1]
    return total


__all__ = ["GeneratedModel", "count_macs", "generate_c_model", "runtime_dir"]
