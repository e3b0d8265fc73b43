/* FULLY_CONNECTED float32 (TFLite reference_ops::FullyConnected): per output, the dot product
 * in input order from 0.0f, then the bias and the activation. */
#include "kt_kernels_f32.h"

void kt_fully_connected_f32(const kt_fully_connected_f32_params *p, const float *input,
                            float *output)
{
    for (int32_t b = 0; b < p->batches; ++b) {
        const float *in = input + b * p->in_depth;
        int32_t o = 0;
        for (; o + 4 <= p->out_depth; o += 4) { /* four rows per pass over the input */
            float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
            kt_dot4_f32(in, p->weights + o * p->in_depth, p->in_depth, p->in_depth, t);
            for (int32_t j = 0; j < 4; ++j) {
                const float bias = p->bias ? p->bias[o + j] : 0.0f;
                output[b * p->out_depth + o + j] =
                    kt_act_f32(t[j] + bias, p->act_min, p->act_max);
            }
        }
        for (; o < p->out_depth; ++o) {
            const float total = kt_dot_f32(in, p->weights + o * p->in_depth, p->in_depth, 0.0f);
            const float bias = p->bias ? p->bias[o] : 0.0f;
            output[b * p->out_depth + o] = kt_act_f32(total + bias, p->act_min, p->act_max);
        }
    }
}
