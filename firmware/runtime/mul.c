/* MUL int8 with broadcasting (TFLite reference_integer_ops::Mul / BroadcastMul6DSlow):
 * out = MBQM((a - zp_a) * (b - zp_b), M, s) + zp_out with M, s from s_a * s_b / s_out. */
#include "kt_fixedpoint.h"
#include "kt_kernels.h"

void kt_mul_s8(const kt_mul_params *p, const int8_t *input1, const int8_t *input2,
               int8_t *output)
{
    for (int32_t i0 = 0; i0 < p->out_shape[0]; ++i0) {
        for (int32_t i1 = 0; i1 < p->out_shape[1]; ++i1) {
            for (int32_t i2 = 0; i2 < p->out_shape[2]; ++i2) {
                const int8_t *a = input1 + i0 * p->in1_strides[0] + i1 * p->in1_strides[1] +
                                  i2 * p->in1_strides[2];
                const int8_t *b = input2 + i0 * p->in2_strides[0] + i1 * p->in2_strides[1] +
                                  i2 * p->in2_strides[2];
                for (int32_t i3 = 0; i3 < p->out_shape[3]; ++i3) {
                    const int32_t x = a[i3 * p->in1_strides[3]] + p->input1_offset;
                    const int32_t y = b[i3 * p->in2_strides[3]] + p->input2_offset;
                    const int32_t out = kt_mbqm(x * y, p->output_multiplier,
                                                (int)p->output_shift) + p->output_offset;
                    *output++ = (int8_t)kt_clamp_i32(out, p->act_min, p->act_max);
                }
            }
        }
    }
}
