"""Lower each TFLite operator to one kernel call with fully precomputed parameters.

This is the ahead-of-time equivalent of TFLite Micro's Prepare(): shapes are checked, padding,
requantization multipliers, activation ranges and softmax constants are computed here, and the
kernels in firmware/runtime only loop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import kenning_tasks.codegen.elementwise as elementwise
import kenning_tasks.codegen.quant as quant
from kenning_tasks.codegen.reader import Graph, Operator, Tensor

FAST_GUARD = "KT_FAST_KERNELS"  # C condition under which the fast-path data is compiled
DSP_GUARD = "KT_DSP_WEIGHTS"  # ... and under which its weights are int16 (Armv7E-M)
DSP_REQUANT_GUARD = "KT_DSP_REQUANT"  # ... and its requantization constants in the SMMLAR form

# int8 ops TFLite Micro refuses (its kernel is float32 only): no reference arithmetic to be
# bit-exact with, so the generator refuses them too, saying why. Checked in TFLM's
# elementwise.cc (SQRT: IsNumericSupportedType, float32) and its host interpreter (fails to
# invoke an int8 SQRT).
NO_TFLM_INT8 = {"SQRT": "TFLite Micro's SQRT kernel is float32 only (no int8 SQRT to be "
                        "bit-exact with)"}


@dataclass
class ConstArray:
    """A derived constant (multipliers, shifts, folded biases) emitted as a flash array; 2-D
    values are an array of structs, one row per element."""

    name: str
    ctype: str
    values: np.ndarray
    guard: str = ""  # C preprocessor condition, empty = always compiled


@dataclass(frozen=True)
class FastOrRef:
    """A parameter whose value differs between the fast and the reference kernels."""

    fast: str
    ref: str


def rq_fast_arrays(name: str, rows: np.ndarray) -> list[ConstArray]:
    """A kt_rq_channel array in the form each fast build reads (quant.dsp_requant_rows on
    Armv7E-M, the portable rows elsewhere): one name, the runtime headers pick the layout."""
    return [ConstArray(name, "kt_rq_channel", quant.dsp_requant_rows(rows),
                       guard=f"{FAST_GUARD} && {DSP_REQUANT_GUARD}"),
            ConstArray(name, "kt_rq_channel", rows, guard=f"{FAST_GUARD} && !{DSP_REQUANT_GUARD}")]


# KT_DW_PLANAR_ROWS / KT_DW_PLANAR_COLS (kt_kernels.h)
PLANAR_ROWS, PLANAR_COLS = 1, 2
# Instructions of one 4-output pass and of the per channel and line setup of the planar
# depthwise kernel (measured on Cortex-M4F): they pick the sweep direction with fewer of them.
PLANAR_PASS_INSNS, PLANAR_LINE_INSNS = 75, 10
# Shorter lines pay the per channel and line setup and the transposition on too few outputs:
# the 4-channel band is faster there (MobileNet's 6x6 layers: 4.2 against 4.8 instr/MAC).
PLANAR_MIN_LINE = 8


def planar_orientation(kernel: tuple[int, int], dilation: tuple[int, int],
                       strides: tuple[int, int], out_hw: tuple[int, int]) -> int:
    """Which way the planar depthwise kernel sweeps (0: it does not apply): 3x3 without dilation,
    stride 1 or 2 along the line, lines of at least PLANAR_MIN_LINE outputs; rows or columns,
    whichever wastes fewer pass slots."""
    if kernel != (3, 3) or dilation != (1, 1):
        return 0
    costs = {}
    for orientation in (PLANAR_ROWS, PLANAR_COLS):
        lines, along, stride = planar_lines(orientation, out_hw, strides)
        if stride in (1, 2) and along >= PLANAR_MIN_LINE:
            costs[orientation] = lines * (-(-along // 4) * PLANAR_PASS_INSNS + PLANAR_LINE_INSNS)
    return min(costs, key=lambda o: (costs[o], o)) if costs else 0


def planar_lines(planar: int, out_hw: tuple[int, int],
                 strides: tuple[int, int]) -> tuple[int, int, int]:
    """The output lines of a sweep direction: their count, outputs per line and stride along."""
    if planar == PLANAR_ROWS:
        return out_hw[0], out_hw[1], strides[1]
    return out_hw[1], out_hw[0], strides[0]


def planar_len(along: int, stride: int) -> int:
    """KT_DW_PLANAR_LEN: halfwords per channel plane of a line."""
    return 4 * stride * -(-along // 4) + 2


def planar_scratch_bytes(planar: int, out_hw: tuple[int, int], strides: tuple[int, int],
                         channels: int) -> int:
    """KT_DW_PLANAR_SCRATCH_BYTES (0 without the planar kernel)."""
    if not planar:
        return 0
    _, along, stride = planar_lines(planar, out_hw, strides)
    return 8 * channels * planar_len(along, stride)


def small_c_blocks(kernel: np.ndarray, folded_bias: np.ndarray, rq_rows: np.ndarray,
                   act_range: tuple[int, int]) -> np.ndarray:
    """conv2d_small_c.c's per-channel blocks (int32 words, KT_CONV_C1_WORDS each) from a
    [channels][9] 1-channel 3x3 kernel: the int16 pairs (w0, w2), (w3, w5), (w6, w8), (w1, w4),
    then 2 w7 << 16 | last << 8 | e (last marks the final channel), the bias, the Armv7E-M
    requantization row's offset and multiplier, and the activation bounds. Weights and bias are
    doubled: the kernel requantizes the doubled sum without a shift (see planar_channels)."""
    w = 2 * kernel.astype(np.int64)
    channels = w.shape[0]

    def pairs(lo: int, hi: int) -> np.ndarray:
        return (w[:, lo] & 0xFFFF) | (w[:, hi] & 0xFFFF) << 16

    rows = quant.dsp_requant_rows(rq_rows).astype(np.int64)
    last = (np.arange(channels) == channels - 1).astype(np.int64)
    block = np.stack([pairs(0, 2), pairs(3, 5), pairs(6, 8), pairs(1, 4),
                      (w[:, 7] & 0xFFFF) << 16 | last << 8 | rows[:, 2],
                      2 * folded_bias.astype(np.int64), rows[:, 0], rows[:, 1],
                      np.full(channels, act_range[0]), np.full(channels, act_range[1])], axis=1)
    return quant.wrap_int32(block).reshape(-1).astype(np.int32)


def band_rows(out_h: int, k_h: int, dil_h: int, stride_h: int) -> int:
    """KT_DW_BAND_ROWS: int16 rows of the Armv7E-M band, a ring of span rows and its mirror, or
    every row of the taps' extent for short images (KT_DW_WHOLE_IMAGE)."""
    span = (k_h - 1) * dil_h + 1
    if stride_h == 1 and out_h + span - 1 <= 2 * span + 2:
        return out_h + span - 1
    return 2 * span


def band_groups(grouped: np.ndarray, folded_bias: np.ndarray, rq_rows: np.ndarray,
                act_range: tuple[int, int], channels: int, stride_w: int) -> np.ndarray:
    """The Armv7E-M band kernels' per-group blocks (int32 words, KT_DW_BAND_BLOCK_WORDS each)
    from [groups][taps][4] weights: per tap the int16 pairs (w0, w2), (w1, w3) (SXTB16 lane
    order), the group's 4 biases, the requantization rows' (offset, multiplier) pairs, the 4
    shifts e, the activation bounds as 4 replicated bytes (lo, hi), and the byte steps to the
    next pixel of the int8 band (stride_w channels), of the output (channels) and of the int16
    band (8 stride_w), so the assembly row loops reach everything through one pointer. Weights
    and bias are doubled, as in planar_channels, so the kernel requantizes doubled sums without
    a shift."""
    groups = grouped.shape[0]
    lanes = (2 * grouped[..., [0, 2, 1, 3]].astype(np.int64)) & 0xFFFF
    weights = (lanes[..., 0::2] | lanes[..., 1::2] << 16).reshape(groups, -1)
    bias = (2 * folded_bias.astype(np.int64)).reshape(groups, 4)
    rows = quant.dsp_requant_rows(rq_rows).astype(np.int64).reshape(groups, 4, 3)
    layer = np.array([(v & 0xFF) * 0x01010101 for v in act_range]
                     + [stride_w * channels, channels, 8 * stride_w], dtype=np.int64)
    block = np.concatenate([weights, bias, rows[:, :, :2].reshape(groups, 8), rows[:, :, 2],
                            np.broadcast_to(layer, (groups, layer.size))], axis=1)
    return quant.wrap_int32(block).reshape(-1).astype(np.int32)


def planar_channels(kernel: np.ndarray, planar: int, folded_bias: np.ndarray,
                    rq_rows: np.ndarray) -> np.ndarray:
    """The planar kernel's per-channel blocks (int32 words, KT_DW_PLANAR_BLOCK_WORDS each) from a
    [3][3][c] kernel: per kernel row r (a column of the kernel when sweeping columns) the int16
    pairs (w0, w1), (w1, w2), then the bias and the Armv7E-M requantization row (offset,
    multiplier, e). Weights and bias are doubled: the kernel requantizes doubled sums, saving a
    shift per output (|2w| <= 256 fits int16; the sums stay below 2^31, see
    quant.accumulator_bound)."""
    channels = kernel.shape[2]
    taps = kernel.transpose(2, 0, 1) if planar == PLANAR_ROWS else kernel.transpose(2, 1, 0)
    pairs = (2 * taps[:, :, [0, 1, 1, 2]].astype(np.int64)).reshape(channels, 6, 2) & 0xFFFF
    words = pairs[:, :, 0] | pairs[:, :, 1] << 16
    rows = quant.dsp_requant_rows(rq_rows[:channels]).astype(np.int64)
    bias = quant.wrap_int32(2 * folded_bias[:channels].astype(np.int64)).astype(np.int64)
    block = np.concatenate([words, bias[:, None], rows], axis=1)
    return quant.wrap_int32(block).reshape(-1).astype(np.int32)


def pack4_rows(rows: np.ndarray) -> np.ndarray:
    """Weight layout of the fast path (kt_dot_rows_s8): groups of 4 rows interleaved per 4-byte
    chunk (row0[k:k+4], row1[k:k+4], row2[k:k+4], row3[k:k+4], then the next k), followed by the
    group's tails (len % 4 bytes per row); a last group of fewer than 4 rows stays row-major.

    The 4 weight words a column word meets are then adjacent, so one pointer walks them.
    """
    n_rows, length = rows.shape
    len4 = length - length % 4
    parts = []
    for g in range(0, n_rows - n_rows % 4, 4):
        group = rows[g:g + 4]
        chunks = group[:, :len4].reshape(4, len4 // 4, 4).transpose(1, 0, 2)
        parts += [chunks.reshape(-1), group[:, len4:].reshape(-1)]
    parts.append(rows[n_rows - n_rows % 4:].reshape(-1))
    return np.concatenate(parts).astype(rows.dtype)


def pack4_rows_s16(rows: np.ndarray, pad_to_words: bool = False) -> np.ndarray:
    """The pack4 layout widened to int16 for Armv7E-M (KT_DSP_WEIGHTS): every 4-weight chunk
    stored in SXTB16 lane order (w0, w2, w1, w3), so one SMLAD takes a weight word as is and the
    kernel needs no SXTB16 on the weights. Tails and the last incomplete group as in pack4.
    With pad_to_words (CONV_2D) rows get zero weights up to a multiple of 4, so no tails."""
    if pad_to_words:
        rows = np.pad(rows, ((0, 0), (0, -rows.shape[1] % 4)))
    length = rows.shape[1]
    len4 = length - length % 4
    lanes = np.arange(length)
    lanes[:len4] = (lanes[:len4].reshape(-1, 4)[:, [0, 2, 1, 3]]).reshape(-1)
    return pack4_rows(rows[:, lanes]).astype(np.int16)


@dataclass
class Step:
    """One kernel call in the invoke function."""

    op: Operator
    kernel: str  # C function name; empty for pure aliases (reshape-like ops)
    params_type: str = ""
    params: dict[str, Any] = field(default_factory=dict)  # C struct field -> C initializer
    args: list[tuple[int, str]] = field(default_factory=list)  # (tensor index, C pointer type)
    arrays: list[ConstArray] = field(default_factory=list)
    macs: int = 0
    takes_scratch: bool = False  # kernel has a trailing scratch pointer argument
    scratch_bytes: int = 0
    alias: tuple[int, int] | None = None  # (output, input): output reuses the input's bytes


def col16_bytes(length: int) -> int:
    """KT_COL16_BYTES: the fast path's column widened to int16 pairs."""
    return length // 4 * 8


def conv_scratch_bytes(length: int) -> int:
    """KT_CONV_SCRATCH_BYTES: two int16 columns + two int8 im2col columns (two output pixels
    per pass), all for whole words, each int8 column with 4 bytes of slack (KT_CONV_COL_BYTES:
    im2col copies runs as whole words)."""
    words = (length + 3) // 4 * 4
    return 2 * (col16_bytes(words) + words + 4)


def conv_pointwise_scratch_bytes(kernel: tuple[int, int], stride: tuple[int, int],
                                 pad: tuple[int, int], in_c: int, out_c: int) -> int:
    """KT_CONV_POINTWISE_BYTES for the layers KT_CONV_POINTWISE_SHAPE accepts (Armv7E-M's
    pointwise kernel, firmware/runtime/conv2d_pointwise.c: one block of in_c / 2 + 4 words per
    output channel, built at each call), else 0."""
    if kernel != (1, 1) or stride != (1, 1) or pad != (0, 0) or in_c not in (4, 8, 16) or out_c % 4:
        return 0
    return 4 * out_c * (in_c // 2 + 4)


# Largest zero-point-padded input copy a fast CONV_2D gets in the arena (bounds-check-free
# im2col); bigger padded inputs keep the per-tap checks instead of doubling their memory.
MAX_PADDED_COPY_BYTES = 4096


def conv_padded_copy_bytes(in_hwc: tuple[int, int, int], out_hw: tuple[int, int],
                           kernel: tuple[int, int], stride: tuple[int, int],
                           dilation: tuple[int, int], pad: tuple[int, int]) -> int:
    """Bytes of the padded input copy (KT_CONV_PADDED_BYTES) with its 4 bytes of slack for
    im2col's whole-word reads, 0 when the taps never leave the input or the copy would be
    larger than MAX_PADDED_COPY_BYTES."""
    in_h, in_w, in_c = in_hwc
    ph = (out_hw[0] - 1) * stride[0] + (kernel[0] - 1) * dilation[0] + 1
    pw = (out_hw[1] - 1) * stride[1] + (kernel[1] - 1) * dilation[1] + 1
    if pad == (0, 0) and ph <= in_h and pw <= in_w:
        return 0
    size = ph * pw * in_c
    return size + 4 if size <= MAX_PADDED_COPY_BYTES else 0


def const_name(tensor: Tensor) -> str:
    return f"kt_t{tensor.index}"


class Lowerer:
    """Turns a Graph into a list of Steps, raising UnsupportedModelError on anything else."""

    def __init__(self, graph: Graph, int8_weight_ops: frozenset[int] = frozenset()) -> None:
        self.graph = graph
        # CONV_2D / FULLY_CONNECTED ops whose fast-path weights stay int8 on Armv7E-M too
        # (kenning_tasks.codegen.weight_layout: the int16 layout would not fit the flash).
        self.int8_weight_ops = int8_weight_ops
        self._rules: dict[str, Callable[[Operator], Step]] = {
            "CONV_2D": self._conv2d,
            "DEPTHWISE_CONV_2D": self._depthwise_conv2d,
            "FULLY_CONNECTED": self._fully_connected,
            "MAX_POOL_2D": self._max_pool2d,
            "AVERAGE_POOL_2D": self._average_pool2d,
            "RESHAPE": self._reshape,
            "SQUEEZE": self._reshape,
            "EXPAND_DIMS": self._reshape,
            "SOFTMAX": self._softmax,
            "ADD": self._add,
            "QUANTIZE": self._quantize,
            "DEQUANTIZE": self._dequantize,
            "SUB": self._sub,
            "MUL": self._mul,
            "TANH": self._lut,
            "LOGISTIC": self._lut,
            "RELU": self._lut,
            "RELU6": self._lut,
            "LEAKY_RELU": self._lut,
            "HARD_SWISH": self._lut,
            "MEAN": self._mean,
            "SUM": self._sum,
            "SLICE": self._slice,
            "PAD": self._pad,
            "PADV2": self._pad,
            "CONCATENATION": self._concatenation,
            "TRANSPOSE": self._transpose,
        }

    def lower(self) -> list[Step]:
        missing = [op for op in self.graph.operators if self._rule_for(op) is None]
        if missing:
            # One line naming every operator the runtime lacks, not just the first.
            names = ", ".join(
                f"{op.opcode} (#{op.index}"
                + (f", output '{self._tensor(op.outputs[0]).name}'" if op.outputs else "")
                + self._why_missing(op) + ")"
                for op in missing)
            from kenning_tasks.errors import UnsupportedModelError

            raise UnsupportedModelError(
                f"{self.graph.path}: {len(missing)} operator(s) not supported by the "
                f"kenning-tasks C runtime: {names}; supported: {self._supported()}")
        return [self._rule_for(op)(op) for op in self.graph.operators]  # type: ignore[misc]

    def _why_missing(self, op: Operator) -> str:
        """Why an op TFLite Micro has no int8 kernel for is refused (there is no arithmetic to
        be bit-exact with), or "" for the rest."""
        if op.opcode in NO_TFLM_INT8 and op.inputs and op.inputs[0] >= 0 \
                and self._tensor(op.inputs[0]).dtype == "int8":
            return f": {NO_TFLM_INT8[op.opcode]}"
        return ""

    def _rule_for(self, op: Operator) -> Callable[[Operator], Step] | None:
        """The lowering rule of ``op`` (float_lowering.Float32Lowerer adds float32 ones)."""
        return self._rules.get(op.opcode)

    def _supported(self) -> str:
        """The operators named in the "not supported" error."""
        return ", ".join(sorted(self._rules))

    # -- helpers -----------------------------------------------------------------------------

    def _tensor(self, index: int) -> Tensor:
        return self.graph.tensors[index]

    def _expect(self, op: Operator, index: int, dtype: str, *, const: bool = False,
                role: str = "input") -> Tensor:
        if index < 0:
            self.graph.unsupported(op, None, f"missing {role}")
        tensor = self._tensor(index)
        if tensor.dtype != dtype:
            self.graph.unsupported(op, tensor, f"{role} has dtype {tensor.dtype}, expected {dtype}")
        if const and tensor.data is None:
            self.graph.unsupported(op, tensor, f"{role} must be a constant")
        if dtype == "int8" and not tensor.scales:
            self.graph.unsupported(op, tensor, f"{role} is int8 without quantization parameters")
        return tensor

    def _options(self, op: Operator, cls_name: str) -> Any:
        import tflite

        table = op.raw.BuiltinOptions()
        options = getattr(tflite, cls_name)()
        if table is None:
            return None
        options.Init(table.Bytes, table.Pos)
        return options

    def _act_range(self, op: Operator, activation: int, out: Tensor) -> tuple[int, int]:
        result = quant.activation_range(activation, out.scale, out.zero_point)
        if result is None:
            self.graph.unsupported(op, out, f"fused activation {activation} is not supported")
        return result

    def _rank4(self, op: Operator, tensor: Tensor) -> tuple[int, int, int, int]:
        if len(tensor.shape) != 4:
            self.graph.unsupported(op, tensor, f"expected a 4-D NHWC tensor, got {tensor.shape}")
        return tensor.shape  # type: ignore[return-value]

    def _per_channel(self, op: Operator, inp: Tensor, weights: Tensor, out: Tensor,
                     channels: int, axis: int) -> tuple[np.ndarray, np.ndarray]:
        """Per-channel multipliers/shifts as TFLite's PopulateConvolutionQuantizationParams."""
        if any(z != 0 for z in weights.zero_points):
            self.graph.unsupported(op, weights, "int8 weights must have zero point 0")
        scales = weights.scales
        per_channel = len(scales) > 1
        if len(scales) not in (1, channels) or (per_channel and weights.quantized_dimension
                                                != axis):
            self.graph.unsupported(op, weights, "unexpected weight quantization layout")
        if min(scales) <= 0 or inp.scale <= 0 or out.scale <= 0:
            # The kernels' requantization assumes non-negative multipliers.
            self.graph.unsupported(op, weights, "non-positive quantization scale")
        mults, shifts = [], []
        for c in range(channels):
            f_scale = scales[c] if len(scales) > 1 else scales[0]
            m, s = quant.quantize_multiplier(inp.scale * f_scale / out.scale)
            mults.append(m)
            shifts.append(s)
        return np.array(mults, dtype=np.int32), np.array(shifts, dtype=np.int32)

    def _bias(self, op: Operator, index: int | None, channels: int) -> Tensor | None:
        if index is None or index < 0:
            return None
        bias = self._expect(op, index, "int32", const=True, role="bias")
        if bias.size != channels:
            self.graph.unsupported(op, bias, f"bias has {bias.size} values for {channels} "
                                             f"channels")
        return bias

    def _requant_arrays(self, step: Step, mults: np.ndarray, shifts: np.ndarray) -> None:
        i = step.op.index
        step.arrays += [ConstArray(f"kt_op{i}_mult", "int32_t", mults),
                        ConstArray(f"kt_op{i}_shift", "int32_t", shifts)]
        step.params["rq"] = f"{{kt_op{i}_mult, kt_op{i}_shift}}"

    def _fast_requant(self, step: Step, mults: np.ndarray, shifts: np.ndarray,
                      weights: Tensor, bias: Tensor | None) -> np.ndarray | None:
        channels = len(mults)
        acc_bound = quant.accumulator_bound(weights.data.reshape(channels, -1), _bias_data(bias))
        rows = quant.fast_requant_rows(mults, shifts, int(step.params["output_offset"]),
                                       acc_bound)
        if rows is None:
            step.params["rq_fast"] = "0"
            return None
        name = f"kt_op{step.op.index}_rq_fast"
        step.arrays += rq_fast_arrays(name, rows)
        step.params["rq_fast"] = FastOrRef(fast=name, ref="0")
        return rows

    def _packed_weights(self, step: Step, weights: Tensor, channels: int,
                        pad_to_words: bool) -> None:
        name = f"kt_op{step.op.index}_packed_weights"
        rows = weights.data.reshape(channels, -1)
        step.params["weights"] = FastOrRef(fast=f"(const int8_t *){name}", ref=const_name(weights))
        if step.op.index in self.int8_weight_ops:
            # int8 pack4 in every fast build (the DSP kernels widen it on the fly).
            step.arrays.append(ConstArray(name, "int8_t", pack4_rows(rows), guard=FAST_GUARD))
            step.params["weights_s16"] = 0
            return
        # One name, two layouts: the runtime headers pick the one the kernels were built for.
        step.arrays += [
            ConstArray(name, "int16_t", pack4_rows_s16(rows, pad_to_words),
                       guard=f"{FAST_GUARD} && {DSP_GUARD}"),
            ConstArray(name, "int8_t", pack4_rows(rows), guard=f"{FAST_GUARD} && !{DSP_GUARD}")]
        step.params["weights_s16"] = DSP_GUARD

    def _folded_bias(self, step: Step, weights: Tensor, bias: Tensor | None, channels: int,
                     input_offset: int, pad_to_words: bool = False) -> np.ndarray:
        # bias + input_offset * sum(w): lets the fast kernels multiply raw int8 inputs.
        w = weights.data.reshape(channels, -1).astype(np.int64)
        base = bias.data.astype(np.int64).reshape(-1) if bias is not None else 0
        folded = quant.wrap_int32(base + input_offset * w.sum(axis=1))
        name = f"kt_op{step.op.index}_folded_bias"
        step.arrays.append(ConstArray(name, "int32_t", folded, guard=FAST_GUARD))
        step.params["folded_bias"] = FastOrRef(fast=name, ref="0")
        # The fast kernels only read the folded bias, so the plain one stays out of their build.
        step.params["bias"] = FastOrRef(fast="0", ref=step.params["bias"])
        self._packed_weights(step, weights, channels, pad_to_words)
        return folded

    # -- operators ---------------------------------------------------------------------------

    def _window_geometry(self, op: Operator, opts: Any, in_nhw: tuple[int, int, int],
                         kernel: tuple[int, int], out: Any, out_c: int) -> dict[str, int]:
        """Strides, dilations, output size and padding shared by CONV_2D and DEPTHWISE_CONV_2D."""
        n, in_h, in_w = in_nhw
        k_h, k_w = kernel
        stride_h, stride_w = opts.StrideH(), opts.StrideW()
        dil_h, dil_w = opts.DilationHFactor(), opts.DilationWFactor()
        out_h = quant.conv_output_size(opts.Padding(), in_h, k_h, stride_h, dil_h)
        out_w = quant.conv_output_size(opts.Padding(), in_w, k_w, stride_w, dil_w)
        self._check_shape(op, out, (n, out_h, out_w, out_c))
        return {
            "out_h": out_h, "out_w": out_w, "stride_h": stride_h, "stride_w": stride_w,
            "dil_h": dil_h, "dil_w": dil_w,
            "pad_h": quant.conv_padding(in_h, k_h, stride_h, dil_h, out_h),
            "pad_w": quant.conv_padding(in_w, k_w, stride_w, dil_w, out_w),
        }

    def _conv2d(self, op: Operator) -> Step:
        inp = self._expect(op, op.inputs[0], "int8")
        weights = self._expect(op, op.inputs[1], "int8", const=True, role="filter")
        out = self._expect(op, op.outputs[0], "int8", role="output")
        opts = self._options(op, "Conv2DOptions")
        n, in_h, in_w, in_c = self._rank4(op, inp)
        out_c, k_h, k_w, w_c = self._rank4(op, weights)
        if w_c != in_c:
            self.graph.unsupported(op, weights, "grouped convolution is not supported")
        bias = self._bias(op, op.inputs[2] if len(op.inputs) > 2 else None, out_c)
        geometry = self._window_geometry(op, opts, (n, in_h, in_w), (k_h, k_w), out, out_c)
        out_h, out_w = geometry["out_h"], geometry["out_w"]
        act_min, act_max = self._act_range(op, opts.FusedActivationFunction(), out)
        mults, shifts = self._per_channel(op, inp, weights, out, out_c, axis=0)
        step = Step(op, "kt_conv2d_s8", "kt_conv2d_params", args=[
            (inp.index, "const int8_t *"), (out.index, "int8_t *")])
        step.params.update(
            batches=n, in_h=in_h, in_w=in_w, in_c=in_c, out_c=out_c, k_h=k_h, k_w=k_w,
            **geometry, input_offset=-inp.zero_point, output_offset=out.zero_point,
            act_min=act_min, act_max=act_max, weights=const_name(weights),
            bias=const_name(bias) if bias is not None else "0",
        )
        folded = self._folded_bias(step, weights, bias, out_c, -inp.zero_point, pad_to_words=True)
        self._requant_arrays(step, mults, shifts)
        rq_rows = self._fast_requant(step, mults, shifts, weights, bias)
        if rq_rows is not None and in_c == 1 and (k_h, k_w) == (3, 3) and \
                (geometry["dil_h"], geometry["dil_w"]) == (1, 1):
            name = f"kt_op{op.index}_c1_blocks"
            step.arrays.append(ConstArray(
                name, "int32_t",
                small_c_blocks(weights.data.reshape(out_c, 9), folded, rq_rows, (act_min, act_max)),
                guard=f"{FAST_GUARD} && {DSP_REQUANT_GUARD}"))
            step.params["c1_blocks"] = FastOrRef(fast=f"KT_DSP_REQUANT_ONLY({name})", ref="0")
        step.macs = n * out_h * out_w * out_c * k_h * k_w * in_c
        step.takes_scratch = True
        length = k_h * k_w * in_c
        padded = conv_padded_copy_bytes(
            (in_h, in_w, in_c), (out_h, out_w), (k_h, k_w),
            (geometry["stride_h"], geometry["stride_w"]), (geometry["dil_h"], geometry["dil_w"]),
            (geometry["pad_h"], geometry["pad_w"]))
        step.params["padded_copy"] = int(padded > 0)
        pointwise = conv_pointwise_scratch_bytes(
            (k_h, k_w), (geometry["stride_h"], geometry["stride_w"]),
            (geometry["pad_h"], geometry["pad_w"]), in_c, out_c)
        step.scratch_bytes = max(conv_scratch_bytes(length) + padded, pointwise)
        return step

    def _depthwise_conv2d(self, op: Operator) -> Step:
        inp = self._expect(op, op.inputs[0], "int8")
        weights = self._expect(op, op.inputs[1], "int8", const=True, role="filter")
        out = self._expect(op, op.outputs[0], "int8", role="output")
        opts = self._options(op, "DepthwiseConv2DOptions")
        n, in_h, in_w, in_c = self._rank4(op, inp)
        one, k_h, k_w, out_c = self._rank4(op, weights)
        if one != 1 or out_c % in_c:
            self.graph.unsupported(op, weights, f"unexpected depthwise filter shape "
                                                f"{weights.shape}")
        bias = self._bias(op, op.inputs[2] if len(op.inputs) > 2 else None, out_c)
        geometry = self._window_geometry(op, opts, (n, in_h, in_w), (k_h, k_w), out, out_c)
        out_h, out_w = geometry["out_h"], geometry["out_w"]
        act_min, act_max = self._act_range(op, opts.FusedActivationFunction(), out)
        mults, shifts = self._per_channel(op, inp, weights, out, out_c, axis=3)
        step = Step(op, "kt_depthwise_conv2d_s8", "kt_depthwise_conv2d_params", args=[
            (inp.index, "const int8_t *"), (out.index, "int8_t *")])
        step.params.update(
            batches=n, in_h=in_h, in_w=in_w, in_c=in_c, out_c=out_c,
            depth_multiplier=out_c // in_c, k_h=k_h, k_w=k_w, **geometry,
            input_offset=-inp.zero_point, output_offset=out.zero_point,
            act_min=act_min, act_max=act_max, weights=const_name(weights),
            bias=const_name(bias) if bias is not None else "0",
        )
        self._requant_arrays(step, mults, shifts)
        step.macs = n * out_h * out_w * out_c * k_h * k_w
        step.takes_scratch = True
        step.params.update(folded_bias="0", rq_fast="0")
        taps = weights.data.reshape(k_h * k_w, out_c).T
        rq_rows = quant.fast_requant_rows(mults, shifts, out.zero_point,
                                          quant.accumulator_bound(taps, _bias_data(bias)))
        step.params["planar"] = 0
        if out_c == in_c and rq_rows is not None:  # depth multiplier 1: the fast path
            planar = planar_orientation((k_h, k_w), (geometry["dil_h"], geometry["dil_w"]),
                                        (geometry["stride_h"], geometry["stride_w"]),
                                        (out_h, out_w))
            self._depthwise_fast(step, weights, bias, rq_rows, -inp.zero_point, planar)
            pw = (out_w - 1) * geometry["stride_w"] + (k_w - 1) * geometry["dil_w"] + 1
            rows = band_rows(out_h, k_h, geometry["dil_h"], geometry["stride_h"])
            # the largest of the builds' bands: KT_DW_SCRATCH_BYTES (Armv7E-M: int16 rows,
            # channels padded to 4), KT_DW_SCRATCH_BYTES_S8 (k_h int8 rows) and
            # KT_DW_PLANAR_SCRATCH_BYTES (Armv7E-M, planar)
            step.scratch_bytes = max(8 * rows * pw * ((in_c + 3) // 4), k_h * pw * in_c + 4,
                                     planar_scratch_bytes(planar, (out_h, out_w),
                                                          (geometry["stride_h"],
                                                           geometry["stride_w"]), in_c))
        return step

    def _depthwise_fast(self, step: Step, weights: Tensor, bias: Tensor | None,
                        rq_rows: np.ndarray, input_offset: int, planar: int) -> None:
        """Weights per group of 4 channels, tap by tap: int8 for the portable band, on Armv7E-M
        (KT_DSP_WEIGHTS) one block per group with the constants (band_groups), or with
        ``planar`` per channel and kernel row (planar_channels); folded bias and rq_fast padded
        to the groups (see firmware/runtime/depthwise_conv2d.c)."""
        i = step.op.index
        _, k_h, k_w, channels = weights.shape
        padded = -channels % 4
        taps = weights.data.reshape(k_h * k_w, channels).astype(np.int64)
        base = bias.data.astype(np.int64).reshape(-1) if bias is not None else 0
        folded = np.pad(quant.wrap_int32(base + input_offset * taps.sum(axis=0)), (0, padded))
        grouped = np.pad(taps, ((0, 0), (0, padded))).reshape(k_h * k_w, -1, 4).transpose(1, 0, 2)
        rq = np.concatenate([rq_rows, np.repeat(rq_rows[-1:], padded, axis=0)])
        name = f"kt_op{i}_dw_weights"
        if planar:
            dsp_weights = ConstArray(name, "int32_t",
                                     planar_channels(weights.data[0], planar, folded, rq),
                                     guard=f"{FAST_GUARD} && {DSP_GUARD}")
        else:
            dsp_weights = ConstArray(name, "int32_t",
                                     band_groups(grouped, folded, rq,
                                                 (step.params["act_min"], step.params["act_max"]),
                                                 channels, step.params["stride_w"]),
                                     guard=f"{FAST_GUARD} && {DSP_GUARD}")
        step.params["planar"] = planar
        step.arrays += [
            dsp_weights,
            ConstArray(name, "int8_t", grouped.reshape(-1).astype(np.int8),
                       guard=f"{FAST_GUARD} && !{DSP_GUARD}"),
            ConstArray(f"kt_op{i}_folded_bias", "int32_t", folded, guard=FAST_GUARD),
            *rq_fast_arrays(f"kt_op{i}_rq_fast", rq)]
        step.params.update(
            weights=FastOrRef(fast=f"(const int8_t *){name}", ref=step.params["weights"]),
            bias=FastOrRef(fast="0", ref=step.params["bias"]),
            folded_bias=FastOrRef(fast=f"kt_op{i}_folded_bias", ref="0"),
            rq_fast=FastOrRef(fast=f"kt_op{i}_rq_fast", ref="0"))

    def _fully_connected(self, op: Operator) -> Step:
        inp = self._expect(op, op.inputs[0], "int8")
        weights = self._expect(op, op.inputs[1], "int8", const=True, role="weights")
        out = self._expect(op, op.outputs[0], "int8", role="output")
        opts = self._options(op, "FullyConnectedOptions")
        if opts is not None and opts.WeightsFormat() != 0:
            self.graph.unsupported(op, weights, "shuffled weights format is not supported")
        if len(weights.shape) != 2:
            self.graph.unsupported(op, weights, f"expected 2-D weights, got {weights.shape}")
        out_depth, in_depth = weights.shape
        if inp.size % in_depth or out.size != inp.size // in_depth * out_depth:
            self.graph.unsupported(op, out, "input/output sizes do not match the weights")
        bias = self._bias(op, op.inputs[2] if len(op.inputs) > 2 else None, out_depth)
        activation = opts.FusedActivationFunction() if opts is not None else quant.ACT_NONE
        act_min, act_max = self._act_range(op, activation, out)
        mults, shifts = self._per_channel(op, inp, weights, out, out_depth, axis=0)
        batches = inp.size // in_depth
        step = Step(op, "kt_fully_connected_s8", "kt_fully_connected_params", args=[
            (inp.index, "const int8_t *"), (out.index, "int8_t *")])
        step.params.update(
            batches=batches, in_depth=in_depth, out_depth=out_depth,
            input_offset=-inp.zero_point, output_offset=out.zero_point,
            act_min=act_min, act_max=act_max, weights=const_name(weights),
            bias=const_name(bias) if bias is not None else "0",
        )
        self._folded_bias(step, weights, bias, out_depth, -inp.zero_point)
        self._requant_arrays(step, mults, shifts)
        self._fast_requant(step, mults, shifts, weights, bias)
        step.macs = batches * out_depth * in_depth
        step.takes_scratch = True
        step.scratch_bytes = col16_bytes(in_depth)
        return step

    def _pool(self, op: Operator, kernel: str) -> Step:
        inp = self._expect(op, op.inputs[0], "int8")
        out = self._expect(op, op.outputs[0], "int8", role="output")
        opts = self._options(op, "Pool2DOptions")
        n, in_h, in_w, c = self._rank4(op, inp)
        k_h, k_w = opts.FilterHeight(), opts.FilterWidth()
        stride_h, stride_w = opts.StrideH(), opts.StrideW()
        out_h = quant.conv_output_size(opts.Padding(), in_h, k_h, stride_h, 1)
        out_w = quant.conv_output_size(opts.Padding(), in_w, k_w, stride_w, 1)
        self._check_shape(op, out, (n, out_h, out_w, c))
        act_min, act_max = self._act_range(op, opts.FusedActivationFunction(), out)
        step = Step(op, kernel, "kt_pool2d_params", args=[
            (inp.index, "const int8_t *"), (out.index, "int8_t *")])
        step.params.update(
            batches=n, in_h=in_h, in_w=in_w, channels=c, out_h=out_h, out_w=out_w,
            k_h=k_h, k_w=k_w, stride_h=stride_h, stride_w=stride_w,
            pad_h=quant.conv_padding(in_h, k_h, stride_h, 1, out_h),
            pad_w=quant.conv_padding(in_w, k_w, stride_w, 1, out_w),
            act_min=act_min, act_max=act_max,
        )
        return step

    def _max_pool2d(self, op: Operator) -> Step:
        return self._pool(op, "kt_max_pool2d_s8")

    def _average_pool2d(self, op: Operator) -> Step:
        step = self._pool(op, "kt_average_pool2d_s8")
        taps = int(step.params["k_h"]) * int(step.params["k_w"])
        if taps <= 256:  # the reciprocal division is exact up to 256 taps (average_pool2d.c)
            recip = [0] + [-(-(1 << 24) // n) for n in range(1, taps + 1)]
            name = f"kt_op{op.index}_recip"
            step.arrays.append(ConstArray(name, "uint32_t", np.array(recip, dtype=np.uint32)))
            step.params["recip"] = name
        return step

    def _reshape(self, op: Operator) -> Step:
        inp = self._tensor(op.inputs[0])
        out = self._tensor(op.outputs[0])
        if inp.data is not None:
            self.graph.unsupported(op, inp, "reshaping a constant tensor is not supported")
        if inp.nbytes != out.nbytes or inp.dtype != out.dtype:
            self.graph.unsupported(op, out, "reshape changes the byte size or dtype")
        # Same bytes in the same (row-major) order: the output is an alias of the input.
        return Step(op, "", alias=(out.index, inp.index))

    def _softmax(self, op: Operator) -> Step:
        inp = self._expect(op, op.inputs[0], "int8")
        out = self._expect(op, op.outputs[0], "int8", role="output")
        if out.zero_point != -128 or abs(out.scale - 1.0 / 256) > 0.001 / 256:
            self.graph.unsupported(op, out, "int8 softmax output must have scale 1/256 and "
                                            "zero point -128")
        opts = self._options(op, "SoftmaxOptions")
        beta = float(opts.Beta()) if opts is not None else 1.0
        multiplier, left_shift, diff_min = quant.softmax_params(beta, inp.scale)
        depth = inp.shape[-1] if inp.shape else 1
        step = Step(op, "kt_softmax_s8", "kt_softmax_params", args=[
            (inp.index, "const int8_t *"), (out.index, "int8_t *")])
        step.params.update(outer=inp.size // depth, depth=depth, input_multiplier=multiplier,
                           input_left_shift=left_shift, diff_min=diff_min)
        name = f"kt_op{op.index}_exp_table"  # exp of every difference to the row maximum
        step.arrays.append(ConstArray(name, "int32_t", elementwise.softmax_exp_table(
            multiplier, left_shift, diff_min), guard=FAST_GUARD))
        step.params["exp_table"] = FastOrRef(fast=name, ref="0")
        return step

    def _add(self, op: Operator, options: str = "AddOptions", subtract: bool = False) -> Step:
        in1 = self._expect(op, op.inputs[0], "int8")
        in2 = self._expect(op, op.inputs[1], "int8")
        out = self._expect(op, op.outputs[0], "int8", role="output")
        opts = self._options(op, options)
        activation = opts.FusedActivationFunction() if opts is not None else quant.ACT_NONE
        act_min, act_max = self._act_range(op, activation, out)
        step = Step(op, "kt_add_s8", "kt_add_params", args=[
            (in1.index, "const int8_t *"), (in2.index, "const int8_t *"), (out.index, "int8_t *")])
        step.params.update(
            **self._broadcast_geometry(op, in1, in2, out),
            input1_offset=-in1.zero_point, input2_offset=-in2.zero_point,
            output_offset=out.zero_point, act_min=act_min, act_max=act_max,
            **quant.add_params(in1.scale, in2.scale, out.scale),
        )
        if subtract:
            step.params.update(subtract=1, **quant.sub_params(in1.scale, in2.scale, out.scale))
        self._add_tables(step, subtract)
        return step

    def _broadcast_geometry(self, op: Operator, in1: Tensor, in2: Tensor,
                            out: Tensor) -> dict[str, str]:
        """The 4-D output shape and each input's strides into it (0 where it broadcasts) of an
        elementwise binary op: the params every such kernel (int8 and float32) takes."""
        out_shape = self._shape4(op, out)
        return {"out_shape": _c_list(out_shape),
                "in1_strides": _c_list(self._broadcast_strides(op, in1, out_shape)),
                "in2_strides": _c_list(self._broadcast_strides(op, in2, out_shape))}

    def _broadcast_strides(self, op: Operator, tensor: Tensor,
                           out_shape: tuple[int, ...]) -> list[int]:
        if len(tensor.shape) > 4:
            self.graph.unsupported(op, tensor, f"{op.opcode} supports at most 4 dimensions")
        shape = (1,) * (4 - len(tensor.shape)) + tuple(tensor.shape)
        strides, step = [0] * 4, 1
        for axis in range(3, -1, -1):
            if shape[axis] == out_shape[axis]:
                strides[axis] = step if shape[axis] > 1 else 0
            elif shape[axis] == 1:
                strides[axis] = 0  # broadcast along this axis
            else:
                self.graph.unsupported(op, tensor, f"shape {tensor.shape} does not broadcast to "
                                                   f"{out_shape}")
            step *= shape[axis]
        return strides

    def _quantize(self, op: Operator) -> Step:
        inp = self._tensor(op.inputs[0])
        out = self._expect(op, op.outputs[0], "int8", role="output")
        if len(out.scales) > 1:
            self.graph.unsupported(op, out, "per-channel QUANTIZE is not supported")
        if inp.dtype == "float32":
            step = Step(op, "kt_quantize_f32_s8", "kt_quantize_params", args=[
                (inp.index, "const float *"), (out.index, "int8_t *")])
            step.params.update(count=out.size, scale=float(out.scale).hex() + "f",
                               zero_point=out.zero_point)
            return step
        inp = self._expect(op, op.inputs[0], "int8")
        multiplier, shift = quant.quantize_multiplier(inp.scale / out.scale)
        step = Step(op, "kt_requantize_s8", "kt_requantize_params", args=[
            (inp.index, "const int8_t *"), (out.index, "int8_t *")])
        step.params.update(count=out.size, input_zero_point=inp.zero_point,
                           output_zero_point=out.zero_point, multiplier=multiplier, shift=shift)
        return step

    def _dequantize(self, op: Operator) -> Step:
        inp = self._expect(op, op.inputs[0], "int8")
        out = self._expect(op, op.outputs[0], "float32", role="output")
        if len(inp.scales) > 1:
            self.graph.unsupported(op, inp, "per-channel DEQUANTIZE is not supported")
        step = Step(op, "kt_dequantize_s8_f32", "kt_dequantize_params", args=[
            (inp.index, "const int8_t *"), (out.index, "float *")])
        step.params.update(count=inp.size, scale=repr(inp.scale), zero_point=inp.zero_point)
        return step

    # -- element-wise and data-movement ops (TFLite Micro's int8 arithmetic) ----------------

    def _sub(self, op: Operator) -> Step:
        return self._add(op, options="SubOptions", subtract=True)

    def _add_tables(self, step: Step, subtract: bool) -> None:
        """ADD/SUB fast path: each input's shifted, rescaled value tabulated over its 256 byte
        values (TFLite's MBQM, exact integers), the output requantized with kt_mbqm_fast."""
        p = step.params
        tables = []
        for k, sign in ((1, 1), (2, -1 if subtract else 1)):
            values = [sign * elementwise.mbqm((q + p[f"input{k}_offset"]) << p["left_shift"],
                                              p[f"input{k}_multiplier"], p[f"input{k}_shift"])
                      for q in [*range(128), *range(-128, 0)]]  # by the byte as unsigned
            tables.append(np.array(values, dtype=np.int64))
        acc_bound = int(sum(np.abs(t).max() for t in tables))
        rows = quant.fast_requant_rows(np.array([p["output_multiplier"]]),
                                       np.array([p["output_shift"]]), int(p["output_offset"]),
                                       acc_bound)
        if rows is None:
            return  # the reference loop runs
        i = step.op.index
        tables = [quant.wrap_int32(t) for t in tables]
        step.arrays += [ConstArray(f"kt_op{i}_in1_table", "int32_t", tables[0], FAST_GUARD),
                        ConstArray(f"kt_op{i}_in2_table", "int32_t", tables[1], FAST_GUARD),
                        *rq_fast_arrays(f"kt_op{i}_out_rq", rows)]
        step.params.update(in1_table=FastOrRef(f"kt_op{i}_in1_table", "0"),
                           in2_table=FastOrRef(f"kt_op{i}_in2_table", "0"),
                           out_rq=FastOrRef(f"kt_op{i}_out_rq", "0"))

    def _mul(self, op: Operator) -> Step:
        in1 = self._expect(op, op.inputs[0], "int8")
        in2 = self._expect(op, op.inputs[1], "int8")
        out = self._expect(op, op.outputs[0], "int8", role="output")
        opts = self._options(op, "MulOptions")
        activation = opts.FusedActivationFunction() if opts is not None else quant.ACT_NONE
        act_min, act_max = self._act_range(op, activation, out)
        multiplier, shift = quant.quantize_multiplier(in1.scale * in2.scale / out.scale)
        step = Step(op, "kt_mul_s8", "kt_mul_params", args=[
            (in1.index, "const int8_t *"), (in2.index, "const int8_t *"), (out.index, "int8_t *")])
        step.params.update(
            **self._broadcast_geometry(op, in1, in2, out),
            input1_offset=-in1.zero_point, input2_offset=-in2.zero_point,
            output_offset=out.zero_point, output_multiplier=multiplier, output_shift=shift,
            act_min=act_min, act_max=act_max)
        return step

    def _lut(self, op: Operator) -> Step:
        """A 256-entry table of TFLite's arithmetic (kenning_tasks.codegen.elementwise)."""
        inp = self._expect(op, op.inputs[0], "int8")
        out = self._expect(op, op.outputs[0], "int8", role="output")
        if len(inp.scales) > 1 or len(out.scales) > 1:
            self.graph.unsupported(op, out, "per-channel quantization is not supported")
        s_in, z_in, s_out, z_out = inp.scale, inp.zero_point, out.scale, out.zero_point
        if op.opcode == "LOGISTIC":
            if z_out != -128:
                self.graph.unsupported(op, out, "int8 LOGISTIC output zero point must be -128")
            table = elementwise.logistic_table(s_in, z_in)
        elif op.opcode == "TANH":
            table = elementwise.tanh_table(s_in, z_in)
        elif op.opcode == "RELU":
            table = elementwise.relu_table(s_in, z_in, s_out, z_out)
        elif op.opcode == "RELU6":
            table = elementwise.relu6_table(s_in, z_in)
        elif op.opcode == "LEAKY_RELU":
            opts = self._options(op, "LeakyReluOptions")
            alpha = float(opts.Alpha()) if opts is not None else 0.0
            table = elementwise.leaky_relu_table(alpha, s_in, z_in, s_out, z_out)
        else:  # HARD_SWISH
            if elementwise.hard_swish_params(s_in, s_out)[1] > 0:
                self.graph.unsupported(op, out, "HARD_SWISH output multiplier above 1 is not "
                                                "supported (as in TFLite Micro)")
            table = elementwise.hard_swish_table(s_in, z_in, s_out, z_out)
        name = f"kt_op{op.index}_table"
        step = Step(op, "kt_lut_s8", "kt_lut_params", args=[
            (inp.index, "const int8_t *"), (out.index, "int8_t *")],
            arrays=[ConstArray(name, "int8_t", table)])
        step.params.update(count=out.size, table=name)
        return step

    def _shape4(self, op: Operator, tensor: Tensor) -> tuple[int, int, int, int]:
        if len(tensor.shape) > 4:
            self.graph.unsupported(op, tensor, f"{op.opcode} supports at most 4 dimensions")
        return (1,) * (4 - len(tensor.shape)) + tuple(tensor.shape)  # type: ignore[return-value]

    def _const_ints(self, op: Operator, index: int, role: str) -> list[int]:
        tensor = self._tensor(index)
        if tensor.data is None or tensor.dtype not in ("int32", "int64"):
            self.graph.unsupported(op, tensor, f"{role} must be a constant int32 tensor")
        return [int(v) for v in np.asarray(tensor.data).reshape(-1)]

    def _same_quantization(self, op: Operator, a: Tensor, out: Tensor) -> None:
        if a.scales != out.scales or a.zero_points != out.zero_points:
            self.graph.unsupported(op, a, f"{op.opcode} needs the input and output "
                                          "quantization to be equal (as TFLite Micro)")

    def _mean(self, op: Operator) -> Step:
        return self._reduce_sum_s8(op, mean=True)

    def _sum(self, op: Operator) -> Step:
        return self._reduce_sum_s8(op, mean=False)

    def _reduce_sum_s8(self, op: Operator, mean: bool) -> Step:
        """MEAN and SUM int8: TFLite Micro's QuantizedMeanOrSum, i.e. int32 sums of the raw
        inputs, then MBQM(sum - zp_in * n, M, s) + zp_out saturated, with M, s from
        QuantizeMultiplier(s_in / s_out); MEAN folds the division by the n reduced elements
        into M, s (quant.mean_multiplier), SUM does not. Both run kt_mean_s8; keep_dims only
        changes the output's shape, not its bytes."""
        inp = self._expect(op, op.inputs[0], "int8")
        out = self._expect(op, op.outputs[0], "int8", role="output")
        shape = self._shape4(op, inp)
        pad = 4 - len(inp.shape)
        axes = sorted({(a % max(len(inp.shape), 1)) + pad
                       for a in self._const_ints(op, op.inputs[1], "axis")})
        count = int(np.prod([shape[a] for a in axes])) if axes else 1
        strides, step_size = [0] * 4, 1
        for axis in range(3, -1, -1):
            if axis not in axes:
                strides[axis] = step_size
                step_size *= shape[axis]
        if step_size != out.size:
            self.graph.unsupported(op, out, f"output size {out.size} differs from the "
                                            f"computed {step_size}")
        if mean:
            multiplier, shift = quant.mean_multiplier(inp.scale, out.scale, count)
        else:
            multiplier, shift = quant.quantize_multiplier(inp.scale / out.scale)
        step = Step(op, "kt_mean_s8", "kt_mean_params", args=[
            (inp.index, "const int8_t *"), (out.index, "int8_t *")])
        step.params.update(
            in_shape=_c_list(shape), out_strides=_c_list(strides), out_count=out.size,
            input_zero_point_times_n=int(quant.wrap_int32(np.array([inp.zero_point * count]))[0]),
            multiplier=multiplier, shift=shift, output_zero_point=out.zero_point)
        step.takes_scratch = True
        step.scratch_bytes = 4 * out.size
        return step

    def _slice(self, op: Operator) -> Step:
        """SLICE int8 (up to 4-D): the input's row-major strides over the slice's sizes, from
        its begin (kt_slice_s8, TRANSPOSE's gather). Bytes are copied as TFLite Micro does."""
        inp = self._expect(op, op.inputs[0], "int8")
        out = self._expect(op, op.outputs[0], "int8", role="output")
        rank = len(inp.shape)
        if rank > 4:
            self.graph.unsupported(op, inp, "SLICE supports at most 4 dimensions")
        begin = self._const_ints(op, op.inputs[1], "begin")
        size = self._const_ints(op, op.inputs[2], "size")
        if len(begin) != rank or len(size) != rank:
            self.graph.unsupported(op, inp, "begin/size do not match the input's rank")
        sizes = [d - b if s == -1 else s for d, b, s in zip(inp.shape, begin, size, strict=True)]
        if any(b < 0 or s < 0 or b + s > d for b, s, d in zip(begin, sizes, inp.shape,
                                                                strict=True)):
            self.graph.unsupported(op, inp, f"slice begin {begin} size {size} lies outside "
                                            f"{inp.shape}")
        if int(np.prod(sizes)) != out.size:
            self.graph.unsupported(op, out, f"output shape {out.shape} differs from the "
                                            f"computed {tuple(sizes)}")
        strides = [int(np.prod(inp.shape[a + 1:])) for a in range(rank)]
        step = Step(op, "kt_slice_s8", "kt_slice_params", args=[
            (inp.index, "const int8_t *"), (out.index, "int8_t *")])
        step.params.update(
            gather=f"{{{_c_list([1] * (4 - rank) + sizes)}, "
                   f"{_c_list([0] * (4 - rank) + strides)}}}",
            offset=sum(b * st for b, st in zip(begin, strides, strict=True)))
        return step

    def _pad(self, op: Operator) -> Step:
        inp = self._expect(op, op.inputs[0], "int8")
        out = self._expect(op, op.outputs[0], "int8", role="output")
        self._same_quantization(op, inp, out)
        shape = self._shape4(op, inp)
        pads = self._const_ints(op, op.inputs[1], "paddings")
        rank = len(inp.shape)
        before = [0] * (4 - rank) + pads[0::2][:rank]
        after = [0] * (4 - rank) + pads[1::2][:rank]
        if min(before + after) < 0:
            self.graph.unsupported(op, out, "negative padding is not supported")
        out_shape = [s + b + a for s, b, a in zip(shape, before, after, strict=True)]
        self._check_shape(op, out, tuple(out_shape[4 - len(out.shape):]))
        pad_value = out.zero_point
        if op.opcode == "PADV2" and len(op.inputs) > 2 and op.inputs[2] >= 0:
            value = self._tensor(op.inputs[2])
            if value.data is None or value.dtype != "int8":
                self.graph.unsupported(op, value, "PADV2 constant_values must be a constant int8")
            pad_value = int(np.asarray(value.data).reshape(-1)[0])
        step = Step(op, "kt_pad_s8", "kt_pad_params", args=[
            (inp.index, "const int8_t *"), (out.index, "int8_t *")])
        step.params.update(in_shape=_c_list(shape), out_shape=_c_list(out_shape),
                           before=_c_list(before), pad_value=pad_value)
        return step

    def _concatenation(self, op: Operator) -> Step:
        out = self._expect(op, op.outputs[0], "int8", role="output")
        inputs = [self._expect(op, i, "int8") for i in op.inputs]
        if len(inputs) > 16:  # KT_MAX_CONCAT_INPUTS
            self.graph.unsupported(op, out, "CONCATENATION of more than 16 inputs")
        opts = self._options(op, "ConcatenationOptions")
        if opts is not None and opts.FusedActivationFunction() != quant.ACT_NONE:
            self.graph.unsupported(op, out, "fused activation on CONCATENATION")
        axis = (opts.Axis() if opts is not None else 0) % len(out.shape)
        for tensor in inputs:
            self._same_quantization(op, tensor, out)
        outer = int(np.prod(out.shape[:axis]))
        chunks = [int(np.prod(t.shape[axis:])) for t in inputs]
        step = Step(op, "kt_concat_s8", "kt_concat_params",
                    args=[(out.index, "int8_t *"), *[(t.index, "const int8_t *") for t in inputs]])
        step.params.update(n_inputs=len(inputs), outer=outer, out_chunk=sum(chunks),
                           chunks=_c_list(chunks))
        return step

    def _transpose(self, op: Operator) -> Step:
        inp = self._expect(op, op.inputs[0], "int8")
        out = self._expect(op, op.outputs[0], "int8", role="output")
        self._same_quantization(op, inp, out)
        perm = self._const_ints(op, op.inputs[1], "perm")
        rank = len(inp.shape)
        if rank > 4 or sorted(perm) != list(range(rank)):
            self.graph.unsupported(op, out, f"TRANSPOSE permutation {perm} of a {rank}-D tensor")
        in_strides = [int(np.prod(inp.shape[a + 1:])) for a in range(rank)]
        out_shape = [1] * (4 - rank) + [inp.shape[a] for a in perm]
        strides = [0] * (4 - rank) + [in_strides[a] for a in perm]
        step = Step(op, "kt_transpose_s8", "kt_transpose_params", args=[
            (inp.index, "const int8_t *"), (out.index, "int8_t *")])
        step.params.update(out_shape=_c_list(out_shape), in_strides=_c_list(strides))
        return step

    def _check_shape(self, op: Operator, out: Tensor, expected: tuple[int, ...]) -> None:
        if tuple(out.shape) != tuple(expected):
            self.graph.unsupported(op, out, f"output shape {out.shape} differs from the "
                                            f"computed {expected}")


def _bias_data(bias: Tensor | None) -> np.ndarray | int:
    return bias.data if bias is not None else 0


def _c_list(values: Any) -> str:
    return "{" + ", ".join(str(int(v)) for v in values) + "}"
