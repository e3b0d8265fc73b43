/* MEAN int8 over any set of axes of a tensor of up to 4 dimensions (TFLite Micro runs
 * reference_ops::QuantizedMeanOrSum for int8): int32 sums of the raw inputs per output element,
 * then MBQM(sum - zp_in * n, M', s') + zp_out, where the generator folded the division by the
 * n reduced elements into M', s' exactly as TFLite does ((M << k) / n, s - k). */
#include "kt_fixedpoint.h"
#include "kt_kernels.h"

void kt_mean_s8(const kt_mean_params *p, const int8_t *input, int8_t *output, void *scratch)
{
    int32_t *sums = (int32_t *)scratch; /* [out_count] */
    for (int32_t i = 0; i < p->out_count; ++i) {
        sums[i] = 0;
    }
    /* out_strides: 0 along reduced axes, so every input element lands on its output. */
    for (int32_t i0 = 0; i0 < p->in_shape[0]; ++i0) {
        for (int32_t i1 = 0; i1 < p->in_shape[1]; ++i1) {
            for (int32_t i2 = 0; i2 < p->in_shape[2]; ++i2) {
                int32_t *row = sums + i0 * p->out_strides[0] + i1 * p->out_strides[1] +
                               i2 * p->out_strides[2];
                const int32_t stride = p->out_strides[3];
                for (int32_t i3 = 0; i3 < p->in_shape[3]; ++i3) {
                    row[i3 * stride] += *input++;
                }
            }
        }
    }
    for (int32_t i = 0; i < p->out_count; ++i) {
        const int32_t shifted = kt_wrap_sub(sums[i], p->input_zero_point_times_n);
        const int32_t out = kt_mbqm(shifted, p->multiplier, (int)p->shift) + p->output_zero_point;
        output[i] = kt_sat_s8(out);
    }
}
