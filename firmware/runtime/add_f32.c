/* ADD float32 with broadcasting (TFLite reference_ops::Add / BroadcastAdd): one float add and
 * the activation per output. */
#include "kt_kernels_f32.h"

void kt_add_f32(const kt_add_f32_params *p, const float *input1, const float *input2,
                float *output)
{
    for (int32_t i0 = 0; i0 < p->out_shape[0]; ++i0) {
        for (int32_t i1 = 0; i1 < p->out_shape[1]; ++i1) {
            for (int32_t i2 = 0; i2 < p->out_shape[2]; ++i2) {
                for (int32_t i3 = 0; i3 < p->out_shape[3]; ++i3) {
                    const float a = input1[i0 * p->in1_strides[0] + i1 * p->in1_strides[1] +
                                           i2 * p->in1_strides[2] + i3 * p->in1_strides[3]];
                    const float b = input2[i0 * p->in2_strides[0] + i1 * p->in2_strides[1] +
                                           i2 * p->in2_strides[2] + i3 * p->in2_strides[3]];
                    *output++ = kt_act_f32(a + b, p->act_min, p->act_max);
                }
            }
        }
    }
}
