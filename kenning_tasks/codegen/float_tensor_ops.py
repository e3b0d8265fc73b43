"""Lowering of the float32 element-wise, reduction and data-movement operators.

SUB, MUL (broadcasting as ADD), LOGISTIC, TANH, RELU, RELU6, LEAKY_RELU, HARD_SWISH, SQRT, ABS, SUM,
MEAN, SLICE, TRANSPOSE, PAD / PADV2 and CONCATENATION: the ops a float32 model from PyTorch or
Keras needs beyond the convolution family (e.g. Kenning's anomaly-detection VAE: FULLY_CONNECTED,
LOGISTIC, SLICE, SUB, MUL, SUM, SQRT). Their axes, begins, sizes, permutations and paddings are
constant tensors read here; the kernels (firmware/runtime/elementwise_f32.c, reduce_f32.c,
shape_f32.c) only loop.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import kenning_tasks.codegen.quant as quant
from kenning_tasks.codegen.lowering import Step, _c_list
from kenning_tasks.codegen.reader import Operator, Tensor

FLOAT32 = "float32"
MAX_RANK = 5
UNARY_KERNELS = {"LOGISTIC": "kt_logistic_f32", "TANH": "kt_tanh_f32", "RELU": "kt_relu_f32",
                 "RELU6": "kt_relu6_f32", "LEAKY_RELU": "kt_leaky_relu_f32",
                 "HARD_SWISH": "kt_hard_swish_f32", "SQRT": "kt_sqrt_f32", "ABS": "kt_abs_f32"}
CONCAT_MAX_INPUTS = 8  # KT_CONCAT_MAX_INPUTS


def _padded(values: Any, rank: int, fill: int) -> list[int]:
    values = [int(v) for v in values]
    return [fill] * (rank - len(values)) + values


def row_major_strides(shape: list[int]) -> list[int]:
    strides, step = [0] * len(shape), 1
    for axis in range(len(shape) - 1, -1, -1):
        strides[axis] = step
        step *= shape[axis]
    return strides


class FloatTensorOps:
    """Mixin of Float32Lowerer (it provides _expect, _tensor, _options, _float_act, ...)."""

    graph: Any

    def tensor_op_rules(self) -> dict[str, Any]:
        rules: dict[str, Any] = {"SUB": self._binary_f32, "MUL": self._binary_f32,
                                 "SUM": self._reduce_f32, "MEAN": self._reduce_f32,
                                 "SLICE": self._slice_f32, "TRANSPOSE": self._transpose_f32,
                                 "PAD": self._pad_f32, "PADV2": self._pad_f32,
                                 "CONCATENATION": self._concat_f32}
        rules.update(dict.fromkeys(UNARY_KERNELS, self._unary_f32))
        return rules

    def _constant_ints(self, op: Operator, position: int, role: str) -> np.ndarray:
        if len(op.inputs) <= position or op.inputs[position] < 0:
            self.graph.unsupported(op, None, f"missing {role}")
        tensor = self._tensor(op.inputs[position])
        if tensor.data is None or tensor.dtype not in ("int32", "int64"):
            self.graph.unsupported(op, tensor, f"{role} must be a constant int32/int64 tensor")
        return tensor.data.astype(np.int64).reshape(-1)

    def _rank_at_most(self, op: Operator, tensor: Tensor, rank: int) -> None:
        if len(tensor.shape) > rank:
            self.graph.unsupported(op, tensor, f"{op.opcode} supports at most {rank} dimensions")

    def _binary_f32(self, op: Operator) -> Step:
        in1 = self._expect(op, op.inputs[0], FLOAT32)
        in2 = self._expect(op, op.inputs[1], FLOAT32)
        out = self._expect(op, op.outputs[0], FLOAT32, role="output")
        opts = self._options(op, {"SUB": "SubOptions", "MUL": "MulOptions"}[op.opcode])
        activation = opts.FusedActivationFunction() if opts is not None else quant.ACT_NONE
        kernel = {"SUB": "kt_sub_f32", "MUL": "kt_mul_f32"}[op.opcode]
        step = Step(op, kernel, "kt_binary_f32_params", args=[
            (in1.index, "const float *"), (in2.index, "const float *"), (out.index, "float *")])
        step.params.update(
            **self._broadcast_geometry(op, in1, in2, out),
            **self._float_act(op, activation, out))
        return step

    def _unary_f32(self, op: Operator) -> Step:
        inp, out = self._io(op)
        if inp.size != out.size:
            self.graph.unsupported(op, out, "input and output sizes differ")
        alpha = 0.0
        if op.opcode == "LEAKY_RELU":
            opts = self._options(op, "LeakyReluOptions")
            alpha = float(opts.Alpha()) if opts is not None else 0.0
        step = Step(op, UNARY_KERNELS[op.opcode], "kt_unary_f32_params",
                    args=[(inp.index, "const float *"), (out.index, "float *")])
        step.params.update(count=out.size, alpha=self._literal(alpha))
        return step

    def _reduce_f32(self, op: Operator) -> Step:
        inp, out = self._io(op)
        self._rank_at_most(op, inp, MAX_RANK)
        rank = len(inp.shape)
        axes = {int(a) + rank if a < 0 else int(a) for a in self._constant_ints(op, 1, "axis")}
        if any(a < 0 or a >= rank for a in axes):
            self.graph.unsupported(op, inp, f"axis out of range for shape {inp.shape}")
        kept = [d for axis, d in enumerate(inp.shape) if axis not in axes]
        out_count = int(np.prod(kept)) if kept else 1
        if out.size != out_count:
            self.graph.unsupported(op, out, f"output size {out.size} differs from {out_count}")
        kept_strides = iter(row_major_strides(kept))
        out_strides = [0 if axis in axes else next(kept_strides) for axis in range(rank)]
        reduced = int(np.prod([inp.shape[a] for a in axes])) if axes else 1
        step = Step(op, "kt_reduce_f32", "kt_reduce_f32_params",
                    args=[(inp.index, "const float *"), (out.index, "float *")])
        step.params.update(
            in_shape=_c_list(_padded(inp.shape, MAX_RANK, 1)),
            out_strides=_c_list(_padded(out_strides, MAX_RANK, 0)), out_count=out_count,
            divisor=self._literal(float(reduced) if op.opcode == "MEAN" else 1.0))
        return step

    def _gather(self, op: Operator, inp: Tensor, out: Tensor, out_shape: list[int],
                in_strides: list[int], offset: int) -> Step:
        if int(np.prod(out_shape)) != out.size:
            self.graph.unsupported(op, out, f"output shape {out.shape} differs from the "
                                            f"computed {tuple(out_shape)}")
        step = Step(op, "kt_gather_f32", "kt_gather_f32_params",
                    args=[(inp.index, "const float *"), (out.index, "float *")])
        step.params.update(out_shape=_c_list(_padded(out_shape, MAX_RANK, 1)),
                           in_strides=_c_list(_padded(in_strides, MAX_RANK, 0)), offset=offset)
        return step

    def _slice_f32(self, op: Operator) -> Step:
        inp, out = self._io(op)
        self._rank_at_most(op, inp, MAX_RANK)
        begin = self._constant_ints(op, 1, "begin")
        size = self._constant_ints(op, 2, "size")
        shape = list(inp.shape)
        if len(begin) != len(shape) or len(size) != len(shape):
            self.graph.unsupported(op, inp, "begin/size do not match the input's rank")
        sizes = [d - b if s == -1 else int(s) for d, b, s in zip(shape, begin, size, strict=True)]
        if any(b < 0 or s < 0 or b + s > d for b, s, d in zip(begin, sizes, shape, strict=True)):
            self.graph.unsupported(op, inp, "slice lies outside the input")
        strides = row_major_strides(shape)
        offset = int(sum(int(b) * st for b, st in zip(begin, strides, strict=True)))
        return self._gather(op, inp, out, sizes, strides, offset)

    def _transpose_f32(self, op: Operator) -> Step:
        inp, out = self._io(op)
        self._rank_at_most(op, inp, MAX_RANK)
        perm = [int(p) for p in self._constant_ints(op, 1, "permutation")]
        shape = list(inp.shape)
        if sorted(perm) != list(range(len(shape))):
            self.graph.unsupported(op, inp, f"permutation {perm} does not match {shape}")
        strides = row_major_strides(shape)
        return self._gather(op, inp, out, [shape[p] for p in perm], [strides[p] for p in perm], 0)

    def _pad_f32(self, op: Operator) -> Step:
        inp, out = self._io(op)
        self._rank_at_most(op, inp, 4)
        paddings = self._constant_ints(op, 1, "paddings").reshape(-1, 2)
        if len(paddings) != len(inp.shape) or (paddings < 0).any():
            self.graph.unsupported(op, inp, "paddings must be non-negative, one pair per axis")
        value = 0.0
        if op.opcode == "PADV2" and len(op.inputs) > 2 and op.inputs[2] >= 0:
            constant = self._expect(op, op.inputs[2], FLOAT32, const=True, role="pad value")
            value = float(constant.data.reshape(-1)[0])
        out_shape = [d + int(a) + int(b) for d, (a, b) in zip(inp.shape, paddings, strict=True)]
        if tuple(out_shape) != tuple(out.shape):
            self.graph.unsupported(op, out, f"output shape {out.shape} differs from the "
                                            f"computed {tuple(out_shape)}")
        step = Step(op, "kt_pad_f32", "kt_pad_f32_params",
                    args=[(inp.index, "const float *"), (out.index, "float *")])
        step.params.update(in_shape=_c_list(_padded(inp.shape, 4, 1)),
                           out_shape=_c_list(_padded(out_shape, 4, 1)),
                           before=_c_list(_padded(paddings[:, 0], 4, 0)),
                           pad_value=self._literal(value))
        return step

    def _concat_f32(self, op: Operator) -> Step:
        out = self._expect(op, op.outputs[0], FLOAT32, role="output")
        inputs = [self._expect(op, index, FLOAT32) for index in op.inputs]
        opts = self._options(op, "ConcatenationOptions")
        if opts is not None and opts.FusedActivationFunction() != quant.ACT_NONE:
            self.graph.unsupported(op, out, "CONCATENATION with a fused activation")
        if not 1 <= len(inputs) <= CONCAT_MAX_INPUTS:
            self.graph.unsupported(op, out, f"CONCATENATION of {len(inputs)} inputs (at most "
                                            f"{CONCAT_MAX_INPUTS})")
        rank = len(out.shape)
        axis = (opts.Axis() if opts is not None else 0) % max(rank, 1)
        outer = int(np.prod(out.shape[:axis])) if axis else 1
        chunks = [int(np.prod(t.shape[axis:])) for t in inputs]
        if sum(chunks) * outer != out.size:
            self.graph.unsupported(op, out, "input shapes do not add up to the output")
        step = Step(op, "kt_concat_f32", "kt_concat_f32_params",
                    args=[(out.index, "float *"),
                          *[(t.index, "const float *") for t in inputs]])
        step.params.update(n_inputs=len(inputs), outer=outer,
                           out_chunk=int(np.prod(out.shape[axis:])),
                           chunks=_c_list(chunks + [0] * (CONCAT_MAX_INPUTS - len(chunks))))
        return step
