/* QUANTIZE: float32 -> int8 (TFLite AffineQuantize) and int8 -> int8 (TFLite Requantize). */
#include "kt_fixedpoint.h"
#include "kt_kernels.h"

/* std::round semantics (half away from zero) without libm; |q| is clamped first so the cast
 * cannot overflow. */
static int32_t round_half_away(double q)
{
    if (q > 1e9) {
        return 1000000000;
    }
    if (q < -1e9) {
        return -1000000000;
    }
    int32_t t = (int32_t)q; /* truncates toward zero */
    double frac = q - (double)t; /* exact for |q| < 2^31 */
    if (frac >= 0.5) {
        ++t;
    } else if (frac <= -0.5) {
        --t;
    }
    return t;
}

void kt_quantize_f32_s8(const kt_quantize_params *p, const float *input, int8_t *output)
{
    for (int32_t i = 0; i < p->count; ++i) {
        /* float32 division, as TFLite's AffineQuantize (val / static_cast<float>(scale)). */
        const float ratio = input[i] / p->scale;
        const int32_t q = round_half_away((double)ratio) + p->zero_point;
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
