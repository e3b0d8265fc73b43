/* SUM and MEAN float32 (TFLite's ReduceGeneric with +, and Mean): every output starts at 0.0f
 * and adds its inputs in the input's row-major order; MEAN divides by the reduced count. */
#include "kt_kernels_f32.h"

void kt_reduce_f32(const kt_reduce_f32_params *p, const float *input, float *output)
{
    const int32_t *s = p->in_shape, *o = p->out_strides;
    for (int32_t i = 0; i < p->out_count; ++i) {
        output[i] = 0.0f;
    }
    for (int32_t i0 = 0; i0 < s[0]; ++i0) {
        for (int32_t i1 = 0; i1 < s[1]; ++i1) {
            for (int32_t i2 = 0; i2 < s[2]; ++i2) {
                for (int32_t i3 = 0; i3 < s[3]; ++i3) {
                    float *out = output + i0 * o[0] + i1 * o[1] + i2 * o[2] + i3 * o[3];
                    for (int32_t i4 = 0; i4 < s[4]; ++i4) {
                        out[i4 * o[4]] += *input++;
                    }
                }
            }
        }
    }
    if (p->divisor != 1.0f) {
        for (int32_t i = 0; i < p->out_count; ++i) {
            output[i] = output[i] / p->divisor;
        }
    }
}
