/* SOFTMAX int8 -> int8 (output scale 1/256, zero point -128), bit-exact with TFLite's
 * reference_ops::Softmax for quantized types, which evaluates exp() on non-positive fixed-point
 * inputs with gemmlowp's polynomial + barrel shifter and divides with a Newton-Raphson
 * reciprocal. Fixed-point formats are written Qm (m integer bits, 31 - m fraction bits). */
#include "kt_fixedpoint.h"
#include "kt_kernels.h"

#define KT_SCALED_DIFF_INT_BITS 5  /* Q5 input of exp */
#define KT_ACCUM_INT_BITS 12       /* Q12 sum of exps */
#define KT_SOFTMAX_CACHE 32        /* exps kept between the two passes (bounded stack use) */

static inline int32_t fx_mul(int32_t a, int32_t b) { return kt_srdhm(a, b); }

/* exp(x) for x in [-1/4, 0), Q0 in and out: Taylor series around -1/8. */
static int32_t exp_on_interval_neg_quarter_to_0(int32_t a)
{
    const int32_t constant_term = 1895147668;    /* exp(-1/8) */
    const int32_t constant_1_over_3 = 715827883; /* 1/3 */
    const int32_t x = kt_wrap_add(a, 1 << 28);   /* + 1/8 */
    const int32_t x2 = fx_mul(x, x);
    const int32_t x3 = fx_mul(x2, x);
    const int32_t x4 = fx_mul(x2, x2);
    const int32_t x4_over_4 = kt_rdbypot(x4, 2);
    const int32_t poly = kt_rdbypot(
        kt_wrap_add(fx_mul(kt_wrap_add(x4_over_4, x3), constant_1_over_3), x2), 1);
    return kt_wrap_add(constant_term, fx_mul(constant_term, kt_wrap_add(x, poly)));
}

/* exp(a) for a <= 0 given in Q5; result in Q0. */
static int32_t exp_on_negative_values_q5(int32_t a)
{
    const int frac_bits = 31 - KT_SCALED_DIFF_INT_BITS;
    const int32_t one_quarter = 1 << (frac_bits - 2);
    const int32_t mask = one_quarter - 1;
    const int32_t a_mod_quarter_minus_quarter = kt_wrap_sub(a & mask, one_quarter);
    /* Rescale Q5 -> Q0 (saturating left shift by 5). */
    int32_t result = exp_on_interval_neg_quarter_to_0(
        kt_sat_shl(a_mod_quarter_minus_quarter, KT_SCALED_DIFF_INT_BITS));
    const int32_t remainder = kt_wrap_sub(a_mod_quarter_minus_quarter, a);
    /* exp(-2^k) for k = -2 .. 4, Q0. */
    static const int32_t multipliers[7] = {1672461947, 1302514674, 790015084, 290630308,
                                           39332535,   720401,     242};
    for (int k = 0; k < 7; ++k) {
        const int exponent = k - 2;
        if (KT_SCALED_DIFF_INT_BITS > exponent &&
            (remainder & (int32_t)((uint32_t)1 << (frac_bits + exponent))) != 0) {
            result = fx_mul(result, multipliers[k]);
        }
    }
    /* The clamp to zero below -32 only applies for more than 5 integer bits. */
    if (a == 0) {
        result = INT32_MAX; /* One() in Q0 */
    }
    return result;
}

/* 1 / (1 + x) for x in [0, 1), Q0 in and out. */
static int32_t one_over_one_plus_x_for_x_in_0_1(int32_t a)
{
    /* RoundingHalfSum(a, One) */
    const int64_t sum = (int64_t)a + (int64_t)INT32_MAX;
    const int32_t half_denominator = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
    const int32_t constant_48_over_17 = 1515870810;   /* Q2 */
    const int32_t constant_neg_32_over_17 = -1010580540; /* Q2 */
    int32_t x = kt_wrap_add(constant_48_over_17, fx_mul(half_denominator, constant_neg_32_over_17));
    const int32_t one_q2 = 1 << 29;
    for (int i = 0; i < 3; ++i) {
        const int32_t half_denominator_times_x = fx_mul(half_denominator, x);     /* Q2 */
        const int32_t one_minus = kt_wrap_sub(one_q2, half_denominator_times_x); /* Q2 */
        /* x * one_minus is Q4; Rescale to Q2 = saturating left shift by 2. */
        x = kt_wrap_add(x, kt_sat_shl(fx_mul(x, one_minus), 2));
    }
    /* ExactMulByPot<-1>: Q2 -> Q1 (same raw), then Rescale Q1 -> Q0. */
    return kt_sat_shl(x, 1);
}

static int count_leading_zeros(uint32_t x)
{
    int n = 0;
    if (x == 0) {
        return 32;
    }
#if defined(__GNUC__)
    return __builtin_clz(x); /* CLZ on Armv7-M; the loop below otherwise */
#endif
    while ((x & 0x80000000u) == 0) {
        x <<= 1;
        ++n;
    }
    return n;
}

/* GetReciprocal: the sum of exps (Q12) normalised to [1, 2) and inverted; the output of an
 * exp e is then RoundingDivideByPOT(e * scale, *exponent) - 128. */
static int32_t reciprocal(int32_t sum_of_exps, int *exponent)
{
    const int headroom_plus_one = count_leading_zeros((uint32_t)sum_of_exps);
    *exponent = KT_ACCUM_INT_BITS - headroom_plus_one + 31 - 8;
    const int32_t shifted_sum_minus_one =
        (int32_t)(((uint32_t)sum_of_exps << headroom_plus_one) - ((uint32_t)1 << 31));
    return one_over_one_plus_x_for_x_in_0_1(shifted_sum_minus_one);
}

#if KT_FAST_KERNELS
/* Fast path: exp of every possible difference to the row's maximum (0 .. -255) precomputed by
 * the generator with the arithmetic above (kenning_tasks.codegen.elementwise.softmax_exp_table;
 * 0 below diff_min, which then adds nothing and outputs -128 as the reference's branch does),
 * so a row is three passes of table lookups. */
static void softmax_table(const kt_softmax_params *p, const int8_t *input, int8_t *output)
{
    const int32_t *table = p->exp_table; /* indexed by max - x */
    /* Parameters in locals: the int8 stores may alias *p, so GCC would reload them. */
    const int32_t depth = p->depth, outer = p->outer;
    for (int32_t i = 0; i < outer; ++i) {
        const int8_t *in = input + i * depth;
        int8_t *out = output + i * depth;
        int32_t max_in_row = -128;
        for (int32_t c = 0; c < depth; ++c) {
            max_in_row = kt_max_i32(max_in_row, in[c]);
        }
        /* The exps are >= 0, so RoundingDivideByPOT(e, 12) is (e + 2^11) >> 12 (in uint32:
         * e < 2^31 leaves no overflow). */
        int32_t sum_of_exps = 0;
        for (int32_t c = 0; c < depth; ++c) {
            const uint32_t e = (uint32_t)table[max_in_row - in[c]];
            sum_of_exps = kt_wrap_add(sum_of_exps, (int32_t)((e + (1u << (KT_ACCUM_INT_BITS - 1)))
                                                             >> KT_ACCUM_INT_BITS));
        }
        int exponent;
        const int32_t scale = reciprocal(sum_of_exps, &exponent);
        if (exponent >= 1 && exponent <= 31) {
            /* scale > 0 and e >= 0: SaturatingRoundingDoublingHighMul is floor((s*e + 2^30) /
             * 2^31) (no saturation: that needs both INT32_MIN), RoundingDivideByPOT of that
             * non-negative y is floor((y + 2^(x-1)) / 2^x), and the nested floors compose:
             * floor((s*e + 2^30 + 2^(30+x)) / 2^(31+x)), the high word of one 64-bit
             * multiply-accumulate shifted by x - 1 (31 + x >= 32). The result is >= 0, so only
             * the upper bound of the int8 saturation can apply. */
            const uint64_t round = ((uint64_t)1 << 30) + ((uint64_t)1 << (30 + exponent));
            const int shift = exponent - 1;
            for (int32_t c = 0; c < depth; ++c) {
                const uint32_t e = (uint32_t)table[max_in_row - in[c]];
                const uint32_t hi = (uint32_t)(((uint64_t)(uint32_t)scale * e + round) >> 32);
                const uint32_t v = hi >> shift;
                out[c] = (int8_t)((v < 255u ? (int32_t)v : 255) - 128);
            }
            continue;
        }
        for (int32_t c = 0; c < depth; ++c) {
            const int32_t e = table[max_in_row - in[c]];
            out[c] = kt_sat_s8(kt_rdbypot(fx_mul(scale, e), exponent) - 128);
        }
    }
}
#endif

void kt_softmax_s8(const kt_softmax_params *p, const int8_t *input, int8_t *output)
{
#if KT_FAST_KERNELS
    if (p->exp_table) {
        softmax_table(p, input, output);
        return;
    }
#endif
    for (int32_t i = 0; i < p->outer; ++i) {
        const int8_t *in = input + i * p->depth;
        int8_t *out = output + i * p->depth;
        int32_t max_in_row = -128;
        for (int32_t c = 0; c < p->depth; ++c) {
            max_in_row = kt_max_i32(max_in_row, in[c]);
        }

        int32_t sum_of_exps = 0; /* Q12 */
        int32_t exps[KT_SOFTMAX_CACHE]; /* the first exps, reused by the second pass */
        for (int32_t c = 0; c < p->depth; ++c) {
            const int32_t diff = (int32_t)in[c] - max_in_row;
            if (diff >= p->diff_min) {
                const int32_t scaled = kt_srdhm(kt_wrap_shl(diff, (int)p->input_left_shift),
                                                p->input_multiplier);
                const int32_t e = exp_on_negative_values_q5(scaled);
                if (c < KT_SOFTMAX_CACHE) {
                    exps[c] = e;
                }
                sum_of_exps = kt_wrap_add(sum_of_exps, kt_rdbypot(e, KT_ACCUM_INT_BITS));
            }
        }

        int exponent;
        const int32_t shifted_scale = reciprocal(sum_of_exps, &exponent);

        for (int32_t c = 0; c < p->depth; ++c) {
            const int32_t diff = (int32_t)in[c] - max_in_row;
            if (diff >= p->diff_min) {
                int32_t e;
                if (c < KT_SOFTMAX_CACHE) {
                    e = exps[c];
                } else {
                    const int32_t scaled = kt_srdhm(
                        kt_wrap_shl(diff, (int)p->input_left_shift), p->input_multiplier);
                    e = exp_on_negative_values_q5(scaled);
                }
                const int32_t unsat = kt_rdbypot(fx_mul(shifted_scale, e), exponent);
                out[c] = kt_sat_s8(unsat - 128);
            } else {
                out[c] = -128;
            }
        }
    }
}
