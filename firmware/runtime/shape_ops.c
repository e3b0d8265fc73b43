/* Ops that only move bytes: PAD / PADV2 (4-D, the pad value is the zero point or the given
 * constant), CONCATENATION (any axis), TRANSPOSE (up to 4-D). int8 in and out with the same
 * quantization, which the generator checks (TFLite Micro copies bytes too). */
#include <stdarg.h>

#include "kt_kernels.h"

void kt_pad_s8(const kt_pad_params *p, const int8_t *input, int8_t *output)
{
    const int32_t *os = p->out_shape, *is = p->in_shape, *b = p->before;
    const int32_t total = os[0] * os[1] * os[2] * os[3];
    for (int32_t i = 0; i < total; ++i) {
        output[i] = (int8_t)p->pad_value;
    }
    const int32_t run = is[3];
    for (int32_t i0 = 0; i0 < is[0]; ++i0) {
        for (int32_t i1 = 0; i1 < is[1]; ++i1) {
            for (int32_t i2 = 0; i2 < is[2]; ++i2) {
                int8_t *dst = output + (((i0 + b[0]) * os[1] + i1 + b[1]) * os[2] + i2 + b[2]) *
                                           os[3] + b[3];
                for (int32_t k = 0; k < run; ++k) {
                    dst[k] = input[k];
                }
                input += run;
            }
        }
    }
}

/* inputs follow `output` as const int8_t * arguments, p->n_inputs of them. */
void kt_concat_s8(const kt_concat_params *p, int8_t *output, ...)
{
    va_list args;
    int32_t offset = 0;
    va_start(args, output);
    for (int32_t n = 0; n < p->n_inputs; ++n) {
        const int8_t *in = va_arg(args, const int8_t *);
        const int32_t chunk = p->chunks[n];
        for (int32_t o = 0; o < p->outer; ++o) {
            int8_t *dst = output + o * p->out_chunk + offset;
            for (int32_t k = 0; k < chunk; ++k) {
                dst[k] = in[k];
            }
            in += chunk;
        }
        offset += chunk;
    }
    va_end(args);
}

void kt_transpose_s8(const kt_transpose_params *p, const int8_t *input, int8_t *output)
{
    /* in_strides: the input stride of each output axis (the permutation applied). */
    const int32_t *s = p->in_strides;
    for (int32_t i0 = 0; i0 < p->out_shape[0]; ++i0) {
        for (int32_t i1 = 0; i1 < p->out_shape[1]; ++i1) {
            for (int32_t i2 = 0; i2 < p->out_shape[2]; ++i2) {
                const int8_t *in = input + i0 * s[0] + i1 * s[1] + i2 * s[2];
                for (int32_t i3 = 0; i3 < p->out_shape[3]; ++i3) {
                    *output++ = in[i3 * s[3]];
                }
            }
        }
    }
}
