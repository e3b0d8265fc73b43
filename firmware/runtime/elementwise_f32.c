/* Element-wise float32 ops, as TFLite's float reference kernels compute them: SUB and MUL
 * (reference_ops::Sub / Mul with broadcasting, then the fused activation), LOGISTIC
 * (reference_ops::Logistic: 1 above 16.619047, exp(x) below -9, 1 / (1 + exp(-x)) between),
 * TANH (std::tanh), RELU / RELU6 (TFLite Micro's ReluFloat / Relu6Float), LEAKY_RELU
 * (x > 0 ? x : x * alpha), HARD_SWISH (x * min(6, max(0, x + 3)) / 6), SQRT (std::sqrt) and
 * ABS (std::abs).
 * expf / tanhf / sqrtf are the C library's (libm). */
#include <math.h>

#include "kt_kernels_f32.h"

#define KT_BINARY_F32(name, expr)                                                           \
    void name(const kt_binary_f32_params *p, const float *input1, const float *input2,      \
              float *output)                                                                \
    {                                                                                       \
        for (int32_t i0 = 0; i0 < p->out_shape[0]; ++i0) {                                  \
            for (int32_t i1 = 0; i1 < p->out_shape[1]; ++i1) {                              \
                for (int32_t i2 = 0; i2 < p->out_shape[2]; ++i2) {                          \
                    for (int32_t i3 = 0; i3 < p->out_shape[3]; ++i3) {                      \
                        const float a = input1[i0 * p->in1_strides[0] +                     \
                                               i1 * p->in1_strides[1] +                     \
                                               i2 * p->in1_strides[2] +                     \
                                               i3 * p->in1_strides[3]];                     \
                        const float b = input2[i0 * p->in2_strides[0] +                     \
                                               i1 * p->in2_strides[1] +                     \
                                               i2 * p->in2_strides[2] +                     \
                                               i3 * p->in2_strides[3]];                     \
                        *output++ = kt_act_f32(expr, p->act_min, p->act_max);               \
                    }                                                                       \
                }                                                                           \
            }                                                                               \
        }                                                                                   \
    }

KT_BINARY_F32(kt_sub_f32, a - b)
KT_BINARY_F32(kt_mul_f32, a * b)

void kt_logistic_f32(const kt_unary_f32_params *p, const float *input, float *output)
{
    for (int32_t i = 0; i < p->count; ++i) {
        const float x = input[i];
        float y;
        if (x > 16.619047164916992188f) {
            y = 1.0f;
        } else if (x < -9.0f) {
            y = expf(x);
        } else {
            y = 1.0f / (1.0f + expf(-x));
        }
        output[i] = y;
    }
}

void kt_tanh_f32(const kt_unary_f32_params *p, const float *input, float *output)
{
    for (int32_t i = 0; i < p->count; ++i) {
        output[i] = tanhf(input[i]);
    }
}

void kt_relu_f32(const kt_unary_f32_params *p, const float *input, float *output)
{
    for (int32_t i = 0; i < p->count; ++i) {
        const float x = input[i];
        output[i] = x < 0.0f ? 0.0f : x;
    }
}

void kt_relu6_f32(const kt_unary_f32_params *p, const float *input, float *output)
{
    for (int32_t i = 0; i < p->count; ++i) {
        const float x = input[i];
        output[i] = x > 6.0f ? 6.0f : x < 0.0f ? 0.0f : x;
    }
}

void kt_leaky_relu_f32(const kt_unary_f32_params *p, const float *input, float *output)
{
    for (int32_t i = 0; i < p->count; ++i) {
        const float x = input[i];
        output[i] = x > 0.0f ? x : x * p->alpha;
    }
}

void kt_hard_swish_f32(const kt_unary_f32_params *p, const float *input, float *output)
{
    for (int32_t i = 0; i < p->count; ++i) {
        const float x = input[i];
        const float lifted = x + 3.0f;
        const float relu = (lifted < 0.0f) ? 0.0f : lifted;  /* std::max(0.0f, x + 3) */
        const float relu6 = (relu < 6.0f) ? relu : 6.0f;     /* std::min(6.0f, .) */
        output[i] = x * relu6 / 6.0f;
    }
}

void kt_sqrt_f32(const kt_unary_f32_params *p, const float *input, float *output)
{
    for (int32_t i = 0; i < p->count; ++i) {
        output[i] = sqrtf(input[i]);
    }
}

void kt_abs_f32(const kt_unary_f32_params *p, const float *input, float *output)
{
    for (int32_t i = 0; i < p->count; ++i) {
        output[i] = fabsf(input[i]);
    }
}
