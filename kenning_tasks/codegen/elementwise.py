"""Lookup tables for element-wise int8 ops, from TFLite's reference integer arithmetic.

TANH, LOGISTIC, RELU, RELU6, LEAKY_RELU and HARD_SWISH map each int8 input to one int8 output,
so the generator evaluates TFLite Micro's eval arithmetic (its Prepare values computed as its
C++ does, float32 where it uses float) on all 256 inputs and the firmware only indexes a
table (firmware/runtime/lut.c). These are exact integer ports of gemmlowp's fixedpoint.h and
tensorflow/lite/kernels/internal/reference/{integer_ops/logistic.h, integer_ops/tanh.h,
hard_swish.h, leaky_relu.h} and micro/kernels/activations.h; tests compare every input value
with TFLite Micro's host interpreter.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from kenning_tasks.codegen.quant import quantize_multiplier, tflite_round

INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1


def _f32(x: float) -> float:
    return float(np.float32(x))


def _wrap32(x: int) -> int:
    return (x + (1 << 31)) % (1 << 32) - (1 << 31)


def srdhm(a: int, b: int) -> int:
    """gemmlowp SaturatingRoundingDoublingHighMul (int32)."""
    if a == b == INT32_MIN:
        return INT32_MAX
    return (a * b + (1 << 30)) >> 31  # == the nudged truncating division, see kt_fixedpoint.h


def rdbypot(x: int, exponent: int) -> int:
    """gemmlowp RoundingDivideByPOT (same formula for int16 and int32)."""
    mask = (1 << exponent) - 1
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if (x & mask) > threshold else 0)


def mbqm(x: int, multiplier: int, shift: int) -> int:
    """TFLite MultiplyByQuantizedMultiplier (double rounding)."""
    left, right = max(shift, 0), max(-shift, 0)
    return rdbypot(srdhm(_wrap32(x * (1 << left)), multiplier), right)


def _sat_shl(x: int, exponent: int) -> int:
    """SaturatingRoundingMultiplyByPOT for a positive exponent (Rescale to fewer int bits)."""
    threshold = (1 << (31 - exponent)) - 1
    return INT32_MAX if x > threshold else INT32_MIN if x < -threshold else _wrap32(x << exponent)


def _exp_on_interval_neg_quarter_to_0(a: int) -> int:
    constant_term, one_third = 1895147668, 715827883
    x = _wrap32(a + (1 << 28))
    x2 = srdhm(x, x)
    x3 = srdhm(x2, x)
    x4 = srdhm(x2, x2)
    poly = rdbypot(_wrap32(srdhm(_wrap32(rdbypot(x4, 2) + x3), one_third) + x2), 1)
    return _wrap32(constant_term + srdhm(constant_term, _wrap32(x + poly)))


_EXP_BARREL = ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308),
               (2, 39332535), (3, 720401), (4, 242))


def exp_on_negative_values(a: int, integer_bits: int) -> int:
    """gemmlowp exp_on_negative_values: a <= 0 in Q(integer_bits), result in Q0."""
    frac = 31 - integer_bits
    one_quarter = 1 << (frac - 2)
    a_mod = _wrap32((a & (one_quarter - 1)) - one_quarter)
    result = _exp_on_interval_neg_quarter_to_0(_sat_shl(a_mod, integer_bits))
    remainder = _wrap32(a_mod - a)
    for exponent, multiplier in _EXP_BARREL:
        if integer_bits > exponent and remainder & (1 << (frac + exponent)):
            result = srdhm(result, multiplier)
    if integer_bits > 5 and a < -(1 << (36 - integer_bits)):
        result = 0
    return INT32_MAX if a == 0 else result


def _newton_reciprocal_half(half_denominator: int) -> int:
    """The Newton-Raphson iterate x ~ 1 / half_denominator in Q2, as gemmlowp runs it."""
    x = _wrap32(1515870810 + srdhm(half_denominator, -1010580540))
    for _ in range(3):
        one_minus = _wrap32((1 << 29) - srdhm(half_denominator, x))
        x = _wrap32(x + _sat_shl(srdhm(x, one_minus), 2))
    return x


def _rounding_half_sum(a: int, b: int) -> int:
    total = a + b
    q = total + (1 if total >= 0 else -1)
    return q // 2 if q >= 0 else -((-q) // 2)  # C++ truncating division


def one_over_one_plus_x_for_x_in_0_1(a: int) -> int:
    return _sat_shl(_newton_reciprocal_half(_rounding_half_sum(a, INT32_MAX)), 1)


def one_minus_x_over_one_plus_x_for_x_in_0_1(a: int) -> int:
    x = _newton_reciprocal_half(_rounding_half_sum(a, INT32_MAX))
    return _sat_shl(_wrap32(x - (1 << 29)), 2)


def fixed_logistic_q4(a: int) -> int:
    """gemmlowp logistic of a Q4 value, Q0 result."""
    if a == 0:
        return 1 << 30
    positive = one_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(-abs(a), 4))
    return positive if a > 0 else _wrap32(INT32_MAX - positive)


def fixed_tanh_q4(a: int) -> int:
    """gemmlowp tanh of a Q4 value, Q0 result (exp of 2n: the same raw value read as Q5)."""
    if a == 0:
        return 0
    n = a if a < 0 else -a
    t = one_minus_x_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(n, 5))
    return -t if a < 0 else t


def _q4_input_params(input_scale: float) -> tuple[int, int, int]:
    """Logistic/Tanh Prepare (int8): multiplier, left shift and radius for Q4 inputs."""
    mantissa, left_shift = math.frexp(input_scale * (1 << 27))
    multiplier = _wrap32(tflite_round(mantissa * (1 << 31)))
    radius = math.floor(15 * (1 << 27) / (1 << left_shift)) if left_shift >= 0 else \
        math.floor(15 * (1 << 27) * (1 << -left_shift))
    return multiplier, left_shift, radius


def _inputs() -> range:
    return range(-128, 128)


def _table(values: list[int]) -> np.ndarray:
    """int8 table indexed by the input byte read as unsigned: 0..127, then -128..-1."""
    by_value = np.clip(np.array(values, dtype=np.int64), -128, 127).astype(np.int8)
    return np.concatenate([by_value[128:], by_value[:128]])


def _saturating_q4_table(input_scale: float, input_zero_point: int,
                         inner: Callable[[int], int]) -> np.ndarray:
    """TFLite's int8 LOGISTIC/TANH shape: -128/127 outside the input radius, else ``inner`` of
    the input rescaled to Q4 (``_q4_input_params``)."""
    multiplier, left_shift, radius = _q4_input_params(input_scale)
    out = []
    for q in _inputs():
        x = q - input_zero_point
        if x <= -radius:
            out.append(-128)
        elif x >= radius:
            out.append(127)
        else:
            out.append(inner(mbqm(x, multiplier, left_shift)))
    return _table(out)


def logistic_table(input_scale: float, input_zero_point: int) -> np.ndarray:
    return _saturating_q4_table(input_scale, input_zero_point,
                                lambda q4: rdbypot(fixed_logistic_q4(q4), 23) - 128)


def tanh_table(input_scale: float, input_zero_point: int) -> np.ndarray:
    return _saturating_q4_table(input_scale, input_zero_point,
                                lambda q4: rdbypot(fixed_tanh_q4(q4), 24))


def relu_table(input_scale: float, input_zero_point: int, output_scale: float,
               output_zero_point: int) -> np.ndarray:
    """RELU: rescaled to the output scale, clamped below at the output zero point."""
    multiplier, shift = quantize_multiplier(_f32(_f32(input_scale) / _f32(output_scale)))
    low = max(-128, output_zero_point)
    return _table([min(127, max(low, output_zero_point + mbqm(q - input_zero_point, multiplier,
                                                               shift)))
                   for q in _inputs()])


def relu6_table(input_scale: float, input_zero_point: int) -> np.ndarray:
    """RELU6 as TFLite Micro runs it: the input clamped to [zp, q(6)] on the input scale."""
    six = max(-128, min(127, tflite_round(_f32(_f32(6.0) / _f32(input_scale)))
                        + input_zero_point))
    return _table([min(six, max(input_zero_point, q)) for q in _inputs()])


def leaky_relu_table(alpha: float, input_scale: float, input_zero_point: int,
                     output_scale: float, output_zero_point: int) -> np.ndarray:
    s_in, s_out = _f32(input_scale), _f32(output_scale)
    m_alpha, s_alpha = quantize_multiplier(_f32(_f32(s_in * _f32(alpha)) / s_out))
    m_id, s_id = quantize_multiplier(_f32(s_in / s_out))
    negative = m_alpha < 0
    m_alpha = abs(m_alpha)
    out = []
    for q in _inputs():
        x = q - input_zero_point
        if x >= 0:
            out.append(output_zero_point + mbqm(x, m_id, s_id))
        else:
            scaled = mbqm(x, m_alpha, s_alpha)
            out.append(output_zero_point + (-scaled if negative else scaled))
    return _table(out)


def _srdhm16(a: int, b: int) -> int:
    if a == b == -32768:
        return 32767
    ab = a * b
    q = ab + ((1 << 14) if ab >= 0 else 1 - (1 << 14))
    return q // (1 << 15) if q >= 0 else -((-q) // (1 << 15))


def _sdhm16(a: int, b: int) -> int:
    """SaturatingDoublingHighMul: truncating, no rounding."""
    if a == b == -32768:
        return 32767
    ab = a * b
    return ab // (1 << 15) if ab >= 0 else -((-ab) // (1 << 15))


def _sat_shl16(value: int, amount: int) -> int:
    return max(-32768, min(32767, value * (1 << amount)))


def _downscale_to_int16(multiplier: int) -> int:
    if multiplier >= INT32_MAX - (1 << 15):
        return 32767
    return (multiplier + (1 << 15)) >> 16


def hard_swish_params(input_scale: float, output_scale: float) -> tuple[int, int, int, int]:
    """HardSwishPrepare: (output multiplier int16, its exponent, reluish int16, exponent)."""
    hires = _f32(_f32(1.0 / 128.0) * _f32(input_scale))
    out_m, out_e = quantize_multiplier(_f32(hires / _f32(output_scale)))
    rel_m, rel_e = quantize_multiplier(_f32(hires / _f32(3.0 / 32768.0)))
    return _downscale_to_int16(out_m), out_e, _downscale_to_int16(rel_m), rel_e


def hard_swish_table(input_scale: float, input_zero_point: int, output_scale: float,
                     output_zero_point: int) -> np.ndarray:
    out_m, out_e, rel_m, rel_e = hard_swish_params(input_scale, output_scale)
    out = []
    for q in _inputs():
        hires = (q - input_zero_point) * 128
        preshift = _srdhm16(hires, out_m)
        reluish = hires
        if rel_e > 0:
            reluish = _sat_shl16(reluish, rel_e - 1)
        reluish = _srdhm16(reluish, rel_m)
        if rel_e > 0:
            reluish = _sat_shl16(reluish, 1)
        if rel_e < 0:
            reluish = rdbypot(reluish, -rel_e)
        reluish = (reluish + (1 << 15)) >> 1
        value = rdbypot(_sdhm16(reluish, preshift), -out_e) + output_zero_point
        out.append(value)
    return _table(out)


def softmax_exp_table(input_multiplier: int, input_left_shift: int, diff_min: int) -> np.ndarray:
    """SOFTMAX's exp of each difference to the row maximum, 0 .. -255 (index = max - x), in
    Q0 as reference_ops::Softmax computes it (5 integer bits); 0 below diff_min."""
    values = []
    for d in range(256):
        diff = -d
        if diff < diff_min:
            values.append(0)
            continue
        scaled = srdhm(_wrap32(diff * (1 << input_left_shift)), input_multiplier)
        values.append(exp_on_negative_values(scaled, 5))
    return np.array(values, dtype=np.int32)
