/* SOFTMAX float32 (TFLite reference_ops::Softmax): subtract the row's maximum, exp((x - max) *
 * beta), then divide by the float sum. expf is the C library's (newlib on the target, so it
 * may differ from the host's glibc by an ulp: README.md, "Float32 path"). */
#include <math.h>

#include "kt_kernels_f32.h"

void kt_softmax_f32(const kt_softmax_f32_params *p, const float *input, float *output)
{
    for (int32_t i = 0; i < p->outer; ++i) {
        const float *in = input + i * p->depth;
        float *out = output + i * p->depth;
        float max = -3.40282347e+38f;
        for (int32_t c = 0; c < p->depth; ++c) {
            max = (max < in[c]) ? in[c] : max;
        }
        float sum = 0.0f;
        for (int32_t c = 0; c < p->depth; ++c) {
            const float e = expf((in[c] - max) * p->beta);
            out[c] = e;
            sum += e;
        }
        for (int32_t c = 0; c < p->depth; ++c) {
            out[c] = out[c] / sum;
        }
    }
}
