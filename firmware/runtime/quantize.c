/* QUANTIZE: float32 -> int8 (TFLite AffineQuantize) and int8 -> int8 (TFLite Requantize). */
#include "kt_fixedpoint.h"
#include "kt_kernels.h"

/* std::round semantics (half away from zero) without libm, in float32 only (no soft-float
 * double on single-precision FPUs). |q| is clamped first so the cast cannot overflow; below
 * 2^23 in magnitude q - trunc(q) is exact in float32, and from 2^23 on q is already an integer
 * (the fraction is 0), so this equals rounding the exact value. */
static int32_t round_half_away(float q)
{
    if (q > 1e9f) {
        return 1000000000;
    }
    if (q < -1e9f) {
        return -1000000000;
    }
    int32_t t = (int32_t)q;      /* truncates toward zero */
    const float frac = q - (float)t;
    if (frac >= 0.5f) {
        ++t;
    } else if (frac <= -0.5f) {
        --t;
    }
    return t;
}

void kt_quantize_f32_s8(const kt_quantize_params *p, const float *input, int8_t *output)
{
    for (int32_t i = 0; i < p->count; ++i) {
        /* float32 division, as TFLite's AffineQuantize (val / static_cast<float>(scale)). */
        const float ratio = input[i] / p->scale;
        const int32_t q = round_half_away(ratio) + p->zero_point;
        output[i] = kt_sat_s8(q);
    }
}

void kt_requantize_s8(const kt_requantize_params *p, const int8_t *input, int8_t *output)
{
    for (int32_t i = 0; i < p->count; ++i) {
        const int32_t x = (int32_t)input[i] - p->input_zero_point;
        output[i] = kt_sat_s8(kt_mbqm(x, p->multiplier, (int)p->shift) + p->output_zero_point);
    }
}
