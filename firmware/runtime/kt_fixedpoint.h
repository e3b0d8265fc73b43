/* Fixed-point helpers shared by every kernel.
 *
 * These follow TFLite's reference integer arithmetic (gemmlowp's fixedpoint.h and
 * tensorflow/lite/kernels/internal/common.h, double-rounding variant) bit for bit, because the
 * generated models are checked against TFLite Micro with exact int8 equality.
 * Signed overflow is avoided by doing wrapping steps on uint32_t.
 */
#ifndef KT_FIXEDPOINT_H
#define KT_FIXEDPOINT_H

#include <stdint.h>
#include <string.h>

#include "kt_kernels.h"

static inline int32_t kt_min_i32(int32_t a, int32_t b) { return a < b ? a : b; }
static inline int32_t kt_max_i32(int32_t a, int32_t b) { return a > b ? a : b; }

static inline int32_t kt_clamp_i32(int32_t x, int32_t lo, int32_t hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

/* Wrapping int32 arithmetic (gemmlowp adds raw values without saturation). */
static inline int32_t kt_wrap_add(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
static inline int32_t kt_wrap_sub(int32_t a, int32_t b) { return (int32_t)((uint32_t)a - (uint32_t)b); }
static inline int32_t kt_wrap_shl(int32_t a, int s) { return (int32_t)((uint32_t)a << s); }

/* gemmlowp SaturatingRoundingDoublingHighMul: round(a * b / 2^31), saturating the one
 * overflowing case INT32_MIN * INT32_MIN.
 * gemmlowp writes it as (ab + nudge) / 2^31 with nudge = 2^30 or 1 - 2^30 by sign and a
 * truncating division; for ab < 0 that truncation equals floor((ab + 2^30) / 2^31), and for
 * ab >= 0 it is the same floor, so one add and an arithmetic shift give identical bits (and
 * compile to SMULL/ADDS/ADC/shift instead of a sign-dependent 64-bit division). */
static inline int32_t kt_srdhm(int32_t a, int32_t b)
{
    if (a == b && a == INT32_MIN) {
        return INT32_MAX;
    }
    const int64_t ab = (int64_t)a * (int64_t)b;
    return (int32_t)((ab + ((int64_t)1 << 30)) >> 31);
}

/* kt_srdhm for b >= 0 (requantization multipliers are in [0, 2^31)): the saturating case needs
 * b == INT32_MIN, so it cannot occur and the check is dropped. */
static inline int32_t kt_srdhm_pos(int32_t a, int32_t b)
{
    return (int32_t)(((int64_t)a * (int64_t)b + ((int64_t)1 << 30)) >> 31);
}

/* gemmlowp RoundingDivideByPOT: x / 2^exponent rounded half away from zero. */
static inline int32_t kt_rdbypot(int32_t x, int exponent)
{
    int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
    int32_t remainder = x & mask;
    int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* TFLite MultiplyByQuantizedMultiplier: x * multiplier * 2^shift, shift < 0 = right shift. */
static inline int32_t kt_mbqm(int32_t x, int32_t multiplier, int shift)
{
    int left = shift > 0 ? shift : 0;
    int right = shift > 0 ? 0 : -shift;
    return kt_rdbypot(kt_srdhm(kt_wrap_shl(x, left), multiplier), right);
}

/* kt_mbqm(x, m, -e) + zp for e >= 1 in one pass: the fast paths' requantization, with constants
 * from kenning_tasks.codegen.quant.fast_requant_rows (round as two words, below).
 * TFLite computes y = floor((x*m + 2^30) / 2^31) (SaturatingRoundingDoublingHighMul, which
 * cannot saturate as m >= 0), then RoundingDivideByPOT:
 * z = floor((y + 2^(e-1) - [y < 0]) / 2^e). Nested floors of divisions by positive integers
 * compose, so z = floor((x*m + 2^30 + 2^(30+e) - 2^31 [y < 0]) / 2^(31+e)): a 64-bit
 * multiply-accumulate onto the precomputed constant, and the high word shifted by e - 1.
 * [y < 0] is taken as [x < 0]: they differ only when x*m = -2^30 (m is normalised to
 * [2^30, 2^31)), where y = 0 and both forms give z = 0. Adding the output zero point inside the
 * floor as zp * 2^(31+e) is exact too, so round = 2^30 + 2^(30+e) + zp * 2^(31+e). Nothing
 * overflows for e <= 23 and |zp| <= 128: |x*m| < 2^62, |round| < 2^62. */
static inline int32_t kt_mbqm_fast(int32_t x, int32_t round_lo, int32_t round_hi,
                                   int32_t multiplier, int32_t shift_minus_1)
{
    const int64_t round = (int64_t)(((uint64_t)(uint32_t)round_hi << 32) | (uint32_t)round_lo);
    int64_t q = (int64_t)x * multiplier + round;
    q -= (int64_t)((uint32_t)x >> 31) << 31;
    return (int32_t)(q >> 32) >> shift_minus_1;
}

/* Signed most-significant-word multiply-accumulate with rounding:
 * floor((acc * 2^32 + a * b + 2^31) / 2^32), the Armv7E-M instruction SMMLAR. */
static inline int32_t kt_smmlar(int32_t a, int32_t b, int32_t acc)
{
#if defined(__ARM_FEATURE_DSP)
    int32_t r;
    __asm__("smmlar %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
    return r;
#else
    const int64_t sum = (int64_t)((uint64_t)(int64_t)acc << 32) + (int64_t)a * b +
                        ((int64_t)1 << 31);
    return (int32_t)(sum >> 32);
#endif
}

/* kt_mbqm(x, m, -e) + zp for |x| < 2^30 and e in [1, 23] in four instructions (LSL, SMMLAR,
 * ADD, ASR): the Armv7E-M form of kt_mbqm_fast. With offset = 2^(e-1) + zp * 2^e,
 * kt_mbqm_fast's round is 2^30 + 2^31 * offset, so its floor((x*m + round - 2^31 [x < 0]) /
 * 2^(31+e)) equals floor((floor((2x * m + 2^32 * offset + 2^31) / 2^32) - [x < 0]) / 2^e):
 * SMMLAR of the doubled accumulator (exact: |x| < 2^30), its sign bit subtracted, a shift.
 * Nothing overflows: |2x * m / 2^32| < 2^30 and |offset| <= 2^22 + 2^30 - 2^23. */
static inline int32_t kt_mbqm_dsp(int32_t x, int32_t offset, int32_t multiplier, int32_t shift)
{
    const int32_t t = kt_smmlar(kt_wrap_shl(x, 1), multiplier, offset);
    return (t + (x >> 31)) >> shift;
}

/* The fast paths' requantization with a layer's per-channel constants (kt_rq_channel). */
static inline int32_t kt_mbqm_channel(int32_t x, const kt_rq_channel *c)
{
#if KT_DSP_REQUANT
    return kt_mbqm_dsp(x, c->offset, c->multiplier, c->shift);
#else
    /* the 64-bit rounding constant is read in one 8-byte load (LDRD) */
    int64_t round;
    KT_MEMCPY(&round, &c->round_lo, sizeof round); /* low word first (little-endian) */
    int64_t q = (int64_t)x * c->multiplier + round;
    q -= (int64_t)((uint32_t)x >> 31) << 31;
    return (int32_t)(q >> 32) >> c->shift;
#endif
}

/* gemmlowp SaturatingRoundingMultiplyByPOT for a positive exponent (left shift). */
static inline int32_t kt_sat_shl(int32_t x, int exponent)
{
    int32_t threshold = (int32_t)(((int64_t)1 << (31 - exponent)) - 1);
    if (x > threshold) {
        return INT32_MAX;
    }
    if (x < -threshold) {
        return INT32_MIN;
    }
    return kt_wrap_shl(x, exponent);
}

static inline int8_t kt_sat_s8(int32_t x) { return (int8_t)kt_clamp_i32(x, -128, 127); }

#endif /* KT_FIXEDPOINT_H */
