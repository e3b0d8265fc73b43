/* float32 ops that only move values: SLICE and TRANSPOSE (one strided gather), PAD / PADV2 and
 * CONCATENATION, as TFLite Micro copies them. */
#include <stdarg.h>

#include "kt_kernels_f32.h"

void kt_gather_f32(const kt_gather_f32_params *p, const float *input, float *output)
{
    const int32_t *n = p->out_shape, *s = p->in_strides;
    const float *base = input + p->offset;
    for (int32_t i0 = 0; i0 < n[0]; ++i0) {
        for (int32_t i1 = 0; i1 < n[1]; ++i1) {
            for (int32_t i2 = 0; i2 < n[2]; ++i2) {
                for (int32_t i3 = 0; i3 < n[3]; ++i3) {
                    const float *in = base + i0 * s[0] + i1 * s[1] + i2 * s[2] + i3 * s[3];
                    for (int32_t i4 = 0; i4 < n[4]; ++i4) {
                        *output++ = in[i4 * s[4]];
                    }
                }
            }
        }
    }
}

void kt_pad_f32(const kt_pad_f32_params *p, const float *input, float *output)
{
    const int32_t *os = p->out_shape, *is = p->in_shape, *b = p->before;
    const int32_t total = os[0] * os[1] * os[2] * os[3];
    for (int32_t i = 0; i < total; ++i) {
        output[i] = p->pad_value;
    }
    for (int32_t i0 = 0; i0 < is[0]; ++i0) {
        for (int32_t i1 = 0; i1 < is[1]; ++i1) {
            for (int32_t i2 = 0; i2 < is[2]; ++i2) {
                float *dst = output + (((i0 + b[0]) * os[1] + i1 + b[1]) * os[2] + i2 + b[2]) *
                                          os[3] + b[3];
                for (int32_t k = 0; k < is[3]; ++k) {
                    dst[k] = *input++;
                }
            }
        }
    }
}

void kt_concat_f32(const kt_concat_f32_params *p, float *output, ...)
{
    va_list args;
    int32_t offset = 0;
    va_start(args, output);
    for (int32_t n = 0; n < p->n_inputs; ++n) {
        const float *in = va_arg(args, const float *);
        const int32_t chunk = p->chunks[n];
        for (int32_t o = 0; o < p->outer; ++o) {
            float *dst = output + o * p->out_chunk + offset;
            for (int32_t k = 0; k < chunk; ++k) {
                dst[k] = *in++;
            }
        }
        offset += chunk;
    }
    va_end(args);
}
