"""Host-side copy of TFLite Micro's *prepare* arithmetic (multipliers, padding, ranges).

Everything here must round exactly as TFLite's C++ does, because the generated kernels are
checked bit for bit against TFLite Micro.
"""

from __future__ import annotations

import math

import numpy as np

INT8_MIN, INT8_MAX = -128, 127

# tflite.ActivationFunctionType values
ACT_NONE, ACT_RELU, ACT_RELU_N1_TO_1, ACT_RELU6 = 0, 1, 2, 3

# tflite.Padding values
PADDING_SAME, PADDING_VALID = 0, 1


def tflite_round(x: float) -> int:
    """std::round: halves go away from zero (Python's round() goes to even)."""
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


def quantize_multiplier(real: float) -> tuple[int, int]:
    """TFLite QuantizeMultiplier: real = multiplier * 2^(shift - 31), multiplier in Q31."""
    if real == 0.0:
        return 0, 0
    mantissa, shift = math.frexp(real)
    q = tflite_round(mantissa * (1 << 31))
    if q == 1 << 31:
        q //= 2
        shift += 1
    if shift < -31:
        shift, q = 0, 0
    return q, shift


# Right shifts the fast requantization takes: its 64-bit constant must not overflow.
FAST_REQUANT_MAX_SHIFT = 23
# Largest |accumulator| the fast requantization takes: its Armv7E-M form doubles it (see
# dsp_requant_rows). A layer whose accumulators could reach it keeps the generic path.
FAST_REQUANT_MAX_ACC = 1 << 30


def fast_requant_rows(multipliers: np.ndarray, shifts: np.ndarray, output_offset: int = 0,
                      acc_bound: int = 0) -> np.ndarray | None:
    """kt_rq_channel rows (round_lo, round_hi, multiplier, e - 1) for the fast requantization.

    Only for layers where every channel shifts right by e = -shift in [1, 23] and no
    accumulator reaches 2^30 in magnitude (``acc_bound``: the largest one the layer's weights,
    bias and int8 inputs can produce): MBQM + zp is then
    floor((x * m + 2^30 + 2^(30+e) + zp * 2^(31+e) - 2^31 [x < 0]) / 2^(31+e)) (see
    kt_fixedpoint.h). None otherwise; the kernels then use the generic kt_requant path.
    These rows are the portable form; the DSP builds' form is ``dsp_requant_rows`` of them.
    """
    shifts = np.asarray(shifts, dtype=np.int64)
    if shifts.size == 0 or shifts.max() > -1 or shifts.min() < -FAST_REQUANT_MAX_SHIFT:
        return None
    if acc_bound >= FAST_REQUANT_MAX_ACC:
        return None
    e = -shifts
    one = np.int64(1)
    round_ = (1 << 30) + np.left_shift(one, 30 + e) + output_offset * np.left_shift(one, 31 + e)
    low = wrap_int32(round_ & 0xFFFFFFFF)
    high = (round_ >> 32).astype(np.int32)
    return np.stack([low, high, np.asarray(multipliers, dtype=np.int32),
                     (e - 1).astype(np.int32)], axis=1)


def dsp_requant_rows(rows: np.ndarray) -> np.ndarray:
    """The Armv7E-M form (offset, multiplier, e) of ``fast_requant_rows``' rows.

    round = 2^30 + 2^31 * offset with offset = 2^(e-1) + zp * 2^e, so
    z = floor((2x * m + 2^32 * offset + 2^31) / 2^32 - [x < 0]) >> e: one SMMLAR of the doubled
    accumulator, an add of its sign and a shift (kt_mbqm_channel in kt_fixedpoint.h).
    """
    rows = np.asarray(rows, dtype=np.int64)
    round_ = (rows[:, 1] << 32) | (rows[:, 0] & 0xFFFFFFFF)
    offset = (round_ - (1 << 30)) >> 31
    return np.stack([offset, rows[:, 2], rows[:, 3] + 1], axis=1).astype(np.int32)


def accumulator_bound(weights: np.ndarray, bias: np.ndarray | int = 0) -> int:
    """Largest |bias + sum(w * (x - zp))| over int8 inputs x, per row of ``weights``
    ([channels, taps]): |x - zp| <= 255."""
    w = np.abs(np.asarray(weights, dtype=np.int64)).sum(axis=1)
    b = np.abs(np.asarray(bias, dtype=np.int64)).reshape(-1)
    return int((b + 255 * w).max(initial=0))


def activation_range(activation: int, scale: float, zero_point: int) -> tuple[int, int] | None:
    """CalculateActivationRangeQuantized for int8; None for activations it cannot fuse."""
    f_scale = np.float32(scale)

    def quantize(value: float) -> int:
        # float / float in C++, then std::round
        return zero_point + tflite_round(float(np.float32(value) / f_scale))

    if activation == ACT_NONE:
        return INT8_MIN, INT8_MAX
    if activation == ACT_RELU:
        return max(INT8_MIN, quantize(0.0)), INT8_MAX
    if activation == ACT_RELU6:
        return max(INT8_MIN, quantize(0.0)), min(INT8_MAX, quantize(6.0))
    if activation == ACT_RELU_N1_TO_1:
        return max(INT8_MIN, quantize(-1.0)), min(INT8_MAX, quantize(1.0))
    return None


def conv_output_size(padding: int, size: int, kernel: int, stride: int, dilation: int) -> int:
    effective = (kernel - 1) * dilation + 1
    if padding == PADDING_SAME:
        return (size + stride - 1) // stride
    return (size + stride - effective) // stride


def conv_padding(size: int, kernel: int, stride: int, dilation: int, out_size: int) -> int:
    """ComputePaddingWithOffset: the leading pad (the odd extra pixel goes at the end)."""
    effective = (kernel - 1) * dilation + 1
    total = max((out_size - 1) * stride + effective - size, 0)
    return total // 2


def softmax_params(beta: float, input_scale: float) -> tuple[int, int, int]:
    """PreprocessSoftmaxScaling + CalculateInputRadius with 5 integer bits (int8 softmax).

    Returns (input_multiplier, input_left_shift, diff_min).
    """
    integer_bits = 5
    real = min(beta * input_scale * (1 << (31 - integer_bits)), (1 << 31) - 1.0)
    multiplier, shift = quantize_multiplier(real)
    radius = math.floor(
        1.0 * ((1 << integer_bits) - 1) * (1 << (31 - integer_bits)) / (1 << shift)
    )
    return multiplier, shift, -radius


def add_params(scale1: float, scale2: float, out_scale: float) -> dict[str, int]:
    """TFLite int8 ADD prepare: both inputs to a common scale after a left shift of 20."""
    left_shift = 20
    twice_max = 2.0 * max(scale1, scale2)
    m1, s1 = quantize_multiplier(scale1 / twice_max)
    m2, s2 = quantize_multiplier(scale2 / twice_max)
    mo, so = quantize_multiplier(twice_max / ((1 << left_shift) * out_scale))
    return {
        "left_shift": left_shift,
        "input1_multiplier": m1, "input1_shift": s1,
        "input2_multiplier": m2, "input2_shift": s2,
        "output_multiplier": mo, "output_shift": so,
    }


def sub_params(scale1: float, scale2: float, out_scale: float) -> dict[str, int]:
    """TFLite Micro's int8 SUB prepare: as ADD, but computed in float32 (sub_common.cc)."""
    f = np.float32
    twice_max = f(2) * max(f(scale1), f(scale2))
    m1, s1 = quantize_multiplier(float(f(scale1) / twice_max))
    m2, s2 = quantize_multiplier(float(f(scale2) / twice_max))
    mo, so = quantize_multiplier(float(twice_max / (f(1 << 20) * f(out_scale))))
    return {"input1_multiplier": m1, "input1_shift": s1, "input2_multiplier": m2,
            "input2_shift": s2, "output_multiplier": mo, "output_shift": so}


def mean_multiplier(in_scale: float, out_scale: float, count: int) -> tuple[int, int]:
    """QuantizedMeanOrSum: the in/out rescale with the division by ``count`` folded in."""
    multiplier, shift = quantize_multiplier(in_scale / out_scale)
    k = min(count.bit_length() - 1, 32, 31 + shift)
    return int((multiplier << k) // count) if k >= 0 else int((multiplier >> -k) // count), \
        shift - k


def wrap_int32(values: np.ndarray) -> np.ndarray:
    """Two's-complement wrap to int32 (the kernels accumulate with wrapping)."""
    return ((values.astype(np.int64) + (1 << 31)) % (1 << 32) - (1 << 31)).astype(np.int32)
