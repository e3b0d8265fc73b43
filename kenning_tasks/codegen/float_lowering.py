"""Lower float32 operators to the float32 kernels (firmware/runtime/*_f32.c).

This module: the convolution family, pooling, ADD and SOFTMAX; ``float_tensor_ops`` the
element-wise, reduction and data-movement ops.

A float32 .tflite (TFLiteCompiler ``target: default``) has the same operators as an int8 one,
with float32 weights and activations and no quantization parameters. Its "prepare" is only
geometry (shapes, strides, padding, as for int8) and the fused activation's float bounds;
weights and biases go to flash as they are in the file (hex float literals, bit for bit).
Operators on int8 tensors (and QUANTIZE / DEQUANTIZE) are lowered by ``Lowerer`` as before, so
the same generator handles int8, float32 and the QUANTIZE/DEQUANTIZE seams between them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import kenning_tasks.codegen.quant as quant
from kenning_tasks.codegen.float_tensor_ops import FloatTensorOps
from kenning_tasks.codegen.lowering import Lowerer, Step, const_name
from kenning_tasks.codegen.reader import Operator, Tensor

FLOAT32 = "float32"
FLT_MAX = float(np.finfo(np.float32).max)
# CalculateActivationRange(float): fused activation -> (min, max)
_ACTIVATION_BOUNDS = {
    quant.ACT_NONE: (-FLT_MAX, FLT_MAX),
    quant.ACT_RELU: (0.0, FLT_MAX),
    quant.ACT_RELU_N1_TO_1: (-1.0, 1.0),
    quant.ACT_RELU6: (0.0, 6.0),
}


def float_literal(value: float) -> str:
    """A C float literal with exactly this float32 value (hex, no decimal rounding)."""
    return float(np.float32(value)).hex() + "f"


class Float32Lowerer(FloatTensorOps, Lowerer):
    """Lowerer with float32 rules for the ops whose first input is a float32 tensor (the
    element-wise, reduction and data-movement ones in FloatTensorOps)."""

    def __init__(self, graph: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(graph, *args, **kwargs)  # Lowerer's own options pass through
        self.float_ops: set[int] = set()  # indices of the ops lowered to float32 kernels
        self._float_rules: dict[str, Callable[[Operator], Step]] = {
            "CONV_2D": self._conv2d_f32,
            "DEPTHWISE_CONV_2D": self._depthwise_conv2d_f32,
            "FULLY_CONNECTED": self._fully_connected_f32,
            "MAX_POOL_2D": lambda op: self._pool_f32(op, "kt_max_pool2d_f32"),
            "AVERAGE_POOL_2D": lambda op: self._pool_f32(op, "kt_average_pool2d_f32"),
            "SOFTMAX": self._softmax_f32,
            "ADD": self._add_f32,
            **self.tensor_op_rules(),
        }

    def _rule_for(self, op: Operator) -> Callable[[Operator], Step] | None:
        if op.inputs and op.inputs[0] >= 0 and op.opcode in self._float_rules \
                and self._tensor(op.inputs[0]).dtype == FLOAT32:
            self.float_ops.add(op.index)
            return self._float_rules[op.opcode]
        return super()._rule_for(op)

    # -- helpers -----------------------------------------------------------------------------

    @staticmethod
    def _literal(value: float) -> str:
        return float_literal(value)

    def _float_act(self, op: Operator, activation: int, out: Tensor) -> dict[str, str]:
        bounds = _ACTIVATION_BOUNDS.get(activation)
        if bounds is None:
            self.graph.unsupported(op, out, f"fused activation {activation} is not supported")
        return {"act_min": float_literal(bounds[0]), "act_max": float_literal(bounds[1])}

    def _float_bias(self, op: Operator, index: int, channels: int) -> str:
        """The bias array's name, or 0 when the op has none."""
        if len(op.inputs) <= index or op.inputs[index] < 0:
            return "0"
        bias = self._expect(op, op.inputs[index], FLOAT32, const=True, role="bias")
        if bias.size != channels:
            self.graph.unsupported(op, bias, f"bias has {bias.size} values for {channels} "
                                             "channels")
        return const_name(bias)

    def _io(self, op: Operator) -> tuple[Tensor, Tensor]:
        return (self._expect(op, op.inputs[0], FLOAT32),
                self._expect(op, op.outputs[0], FLOAT32, role="output"))

    # -- operators ---------------------------------------------------------------------------

    def _conv2d_f32(self, op: Operator) -> Step:
        inp, out = self._io(op)
        weights = self._expect(op, op.inputs[1], FLOAT32, const=True, role="filter")
        opts = self._options(op, "Conv2DOptions")
        n, in_h, in_w, in_c = self._rank4(op, inp)
        out_c, k_h, k_w, w_c = self._rank4(op, weights)
        if w_c != in_c:
            self.graph.unsupported(op, weights, "grouped convolution is not supported")
        geometry = self._window_geometry(op, opts, (n, in_h, in_w), (k_h, k_w), out, out_c)
        step = Step(op, "kt_conv2d_f32", "kt_conv2d_f32_params",
                    args=[(inp.index, "const float *"), (out.index, "float *")])
        step.params.update(
            batches=n, in_h=in_h, in_w=in_w, in_c=in_c, out_c=out_c, k_h=k_h, k_w=k_w,
            **geometry, **self._float_act(op, opts.FusedActivationFunction(), out),
            weights=const_name(weights), bias=self._float_bias(op, 2, out_c))
        step.macs = n * geometry["out_h"] * geometry["out_w"] * out_c * k_h * k_w * in_c
        return step

    def _depthwise_conv2d_f32(self, op: Operator) -> Step:
        inp, out = self._io(op)
        weights = self._expect(op, op.inputs[1], FLOAT32, const=True, role="filter")
        opts = self._options(op, "DepthwiseConv2DOptions")
        n, in_h, in_w, in_c = self._rank4(op, inp)
        one, k_h, k_w, out_c = self._rank4(op, weights)
        if one != 1 or out_c % in_c:
            self.graph.unsupported(op, weights, f"unexpected depthwise filter shape "
                                                f"{weights.shape}")
        geometry = self._window_geometry(op, opts, (n, in_h, in_w), (k_h, k_w), out, out_c)
        step = Step(op, "kt_depthwise_conv2d_f32", "kt_depthwise_conv2d_f32_params",
                    args=[(inp.index, "const float *"), (out.index, "float *")])
        step.params.update(
            batches=n, in_h=in_h, in_w=in_w, in_c=in_c, out_c=out_c,
            depth_multiplier=out_c // in_c, k_h=k_h, k_w=k_w, **geometry,
            **self._float_act(op, opts.FusedActivationFunction(), out),
            weights=const_name(weights), bias=self._float_bias(op, 2, out_c))
        step.macs = n * geometry["out_h"] * geometry["out_w"] * out_c * k_h * k_w
        return step

    def _fully_connected_f32(self, op: Operator) -> Step:
        inp, out = self._io(op)
        weights = self._expect(op, op.inputs[1], FLOAT32, const=True, role="weights")
        opts = self._options(op, "FullyConnectedOptions")
        if opts is not None and opts.WeightsFormat() != 0:
            self.graph.unsupported(op, weights, "shuffled weights format is not supported")
        if len(weights.shape) != 2:
            self.graph.unsupported(op, weights, f"expected 2-D weights, got {weights.shape}")
        out_depth, in_depth = weights.shape
        if inp.size % in_depth or out.size != inp.size // in_depth * out_depth:
            self.graph.unsupported(op, out, "input/output sizes do not match the weights")
        activation = opts.FusedActivationFunction() if opts is not None else quant.ACT_NONE
        batches = inp.size // in_depth
        step = Step(op, "kt_fully_connected_f32", "kt_fully_connected_f32_params",
                    args=[(inp.index, "const float *"), (out.index, "float *")])
        step.params.update(batches=batches, in_depth=in_depth, out_depth=out_depth,
                           **self._float_act(op, activation, out),
                           weights=const_name(weights),
                           bias=self._float_bias(op, 2, out_depth))
        step.macs = batches * out_depth * in_depth
        return step

    def _pool_f32(self, op: Operator, kernel: str) -> Step:
        inp, out = self._io(op)
        opts = self._options(op, "Pool2DOptions")
        n, in_h, in_w, c = self._rank4(op, inp)
        k_h, k_w = opts.FilterHeight(), opts.FilterWidth()
        stride_h, stride_w = opts.StrideH(), opts.StrideW()
        out_h = quant.conv_output_size(opts.Padding(), in_h, k_h, stride_h, 1)
        out_w = quant.conv_output_size(opts.Padding(), in_w, k_w, stride_w, 1)
        self._check_shape(op, out, (n, out_h, out_w, c))
        pad_h = quant.conv_padding(in_h, k_h, stride_h, 1, out_h)
        pad_w = quant.conv_padding(in_w, k_w, stride_w, 1, out_w)
        if _empty_window(in_h, k_h, stride_h, pad_h, out_h) \
                or _empty_window(in_w, k_w, stride_w, pad_w, out_w):
            # A window wholly in the padding has no taps (TFLite's AveragePool fails on it).
            self.graph.unsupported(op, out, "a pooling window lies entirely in the padding")
        step = Step(op, kernel, "kt_pool2d_f32_params",
                    args=[(inp.index, "const float *"), (out.index, "float *")])
        step.params.update(
            batches=n, in_h=in_h, in_w=in_w, channels=c, out_h=out_h, out_w=out_w,
            k_h=k_h, k_w=k_w, stride_h=stride_h, stride_w=stride_w, pad_h=pad_h, pad_w=pad_w,
            **self._float_act(op, opts.FusedActivationFunction(), out))
        return step

    def _softmax_f32(self, op: Operator) -> Step:
        inp, out = self._io(op)
        opts = self._options(op, "SoftmaxOptions")
        beta = float(opts.Beta()) if opts is not None else 1.0
        depth = inp.shape[-1] if inp.shape else 1
        step = Step(op, "kt_softmax_f32", "kt_softmax_f32_params",
                    args=[(inp.index, "const float *"), (out.index, "float *")])
        step.params.update(outer=inp.size // depth, depth=depth, beta=float_literal(beta))
        return step

    def _add_f32(self, op: Operator) -> Step:
        in1 = self._expect(op, op.inputs[0], FLOAT32)
        in2 = self._expect(op, op.inputs[1], FLOAT32)
        out = self._expect(op, op.outputs[0], FLOAT32, role="output")
        opts = self._options(op, "AddOptions")
        activation = opts.FusedActivationFunction() if opts is not None else quant.ACT_NONE
        step = Step(op, "kt_add_f32", "kt_add_f32_params", args=[
            (in1.index, "const float *"), (in2.index, "const float *"), (out.index, "float *")])
        step.params.update(
            **self._broadcast_geometry(op, in1, in2, out),
            **self._float_act(op, activation, out))
        return step


def _empty_window(size: int, kernel: int, stride: int, pad: int, out_size: int) -> bool:
    """Whether some output position's window has no tap inside the input (along one axis)."""
    return any(min(kernel, size - (o * stride - pad)) <= max(0, pad - o * stride)
               for o in range(out_size))


def numeric_path(steps: list[Step], float_ops: set[int]) -> str:
    """"float32" when every kernel call is a float32 one (``float_ops``: the ops
    Float32Lowerer lowered to them), "int8" when none is (QUANTIZE/DEQUANTIZE at the edges
    included), "mixed" otherwise. Aliases (reshapes) compute nothing and do not count."""
    computing = [step.op.index for step in steps if step.kernel]
    on_float = sum(index in float_ops for index in computing)
    if computing and on_float == len(computing):
        return "float32"
    return "int8" if on_float == 0 else "mixed"


__all__ = ["Float32Lowerer", "float_literal", "numeric_path"]
