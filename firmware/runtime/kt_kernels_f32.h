/* Prototypes and parameter structs of the kenning-tasks float32 kernels.
 *
 * The float path of the runtime: the same ops as the int8 kernels, for models whose weights
 * and activations are float32. Each kernel is a direct translation of TFLite's float reference
 * kernel (tensorflow/lite/kernels/internal/reference/), which is what TFLite Micro runs, with the
 * same loop and summation order, so results differ from TFLite Micro's only by what the
 * compiler and the C library do with float32 (see README.md, "Float32 path"). Shapes, padding
 * and activation bounds come from kenning_tasks.codegen (float_lowering.py). On a core with an
 * FPU (M4F, M7, M33; -mfloat-abi=hard) the arithmetic is hardware single precision; elsewhere
 * (M0, M3; -mfloat-abi=soft) it is libgcc's software float.
 */
#ifndef KT_KERNELS_F32_H
#define KT_KERNELS_F32_H

#include <stdint.h>

/* Fused activation: min(max(x, act_min), act_max) with std::max/std::min's argument order
 * (a NaN input stays NaN, as in TFLite's ActivationFunctionWithMinMax). No activation is the
 * range [-FLT_MAX, FLT_MAX]. */
static inline float kt_act_f32(float x, float act_min, float act_max)
{
    const float lower = (x < act_min) ? act_min : x;
    return (act_max < lower) ? act_max : lower;
}

/* total + a[0]*b[0] + a[1]*b[1] + ... in exactly this order (each product rounded, then each
 * sum: the reference loops' arithmetic), unrolled by 4 to save loop overhead. */
static inline float kt_dot_f32(const float *a, const float *b, int32_t n, float total)
{
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        total += a[i] * b[i];
        total += a[i + 1] * b[i + 1];
        total += a[i + 2] * b[i + 2];
        total += a[i + 3] * b[i + 3];
    }
    for (; i < n; ++i) {
        total += a[i] * b[i];
    }
    return total;
}

/* Four dot products sharing one input run: t[j] += x[i] * w[j * stride + i], i in order. Each
 * t[j] sees exactly the additions kt_dot_f32 would make (x * w == w * x in IEEE float); the
 * input is loaded once for four outputs. */
static inline void kt_dot4_f32(const float *x, const float *w, int32_t stride, int32_t n,
                               float t[4])
{
    const float *w0 = w, *w1 = w + stride, *w2 = w + 2 * stride, *w3 = w + 3 * stride;
    float t0 = t[0], t1 = t[1], t2 = t[2], t3 = t[3];
    for (int32_t i = 0; i < n; ++i) {
        const float v = x[i];
        t0 += v * w0[i];
        t1 += v * w1[i];
        t2 += v * w2[i];
        t3 += v * w3[i];
    }
    t[0] = t0;
    t[1] = t1;
    t[2] = t2;
    t[3] = t3;
}

typedef struct {
    int32_t batches, in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t k_h, k_w, stride_h, stride_w, dil_h, dil_w, pad_h, pad_w;
    float act_min, act_max;
    const float *weights; /* [out_c][k_h][k_w][in_c] (OHWI) */
    const float *bias;    /* [out_c], may be NULL */
} kt_conv2d_f32_params;

void kt_conv2d_f32(const kt_conv2d_f32_params *p, const float *input, float *output);

typedef struct {
    int32_t batches, in_h, in_w, in_c;
    int32_t out_h, out_w, out_c, depth_multiplier;
    int32_t k_h, k_w, stride_h, stride_w, dil_h, dil_w, pad_h, pad_w;
    float act_min, act_max;
    const float *weights; /* [1][k_h][k_w][out_c] */
    const float *bias;    /* [out_c], may be NULL */
} kt_depthwise_conv2d_f32_params;

void kt_depthwise_conv2d_f32(const kt_depthwise_conv2d_f32_params *p, const float *input,
                             float *output);

typedef struct {
    int32_t batches, in_depth, out_depth;
    float act_min, act_max;
    const float *weights; /* [out_depth][in_depth] */
    const float *bias;    /* [out_depth], may be NULL */
} kt_fully_connected_f32_params;

void kt_fully_connected_f32(const kt_fully_connected_f32_params *p, const float *input,
                            float *output);

typedef struct {
    int32_t batches, in_h, in_w, channels, out_h, out_w;
    int32_t k_h, k_w, stride_h, stride_w, pad_h, pad_w;
    float act_min, act_max;
} kt_pool2d_f32_params;

void kt_max_pool2d_f32(const kt_pool2d_f32_params *p, const float *input, float *output);
void kt_average_pool2d_f32(const kt_pool2d_f32_params *p, const float *input, float *output);

/* Element-wise add with broadcasting over a 4-D output shape; a stride of 0 broadcasts. */
typedef struct {
    int32_t out_shape[4];
    int32_t in1_strides[4], in2_strides[4];
    float act_min, act_max;
} kt_add_f32_params;

void kt_add_f32(const kt_add_f32_params *p, const float *input1, const float *input2,
                float *output);

typedef struct {
    int32_t outer, depth;
    float beta;
} kt_softmax_f32_params;

/* Needs expf from the C library's libm (the firmware links -lm). */
void kt_softmax_f32(const kt_softmax_f32_params *p, const float *input, float *output);

/* SUB and MUL: the same broadcasting layout as ADD. */
typedef kt_add_f32_params kt_binary_f32_params;

void kt_sub_f32(const kt_binary_f32_params *p, const float *input1, const float *input2,
                float *output);
void kt_mul_f32(const kt_binary_f32_params *p, const float *input1, const float *input2,
                float *output);

/* Element-wise unary ops over `count` values (elementwise_f32.c). */
typedef struct {
    int32_t count;
    float alpha; /* LEAKY_RELU only */
} kt_unary_f32_params;

void kt_logistic_f32(const kt_unary_f32_params *p, const float *input, float *output);
void kt_tanh_f32(const kt_unary_f32_params *p, const float *input, float *output);
void kt_relu_f32(const kt_unary_f32_params *p, const float *input, float *output);
void kt_relu6_f32(const kt_unary_f32_params *p, const float *input, float *output);
void kt_leaky_relu_f32(const kt_unary_f32_params *p, const float *input, float *output);
void kt_hard_swish_f32(const kt_unary_f32_params *p, const float *input, float *output);
void kt_sqrt_f32(const kt_unary_f32_params *p, const float *input, float *output);
void kt_abs_f32(const kt_unary_f32_params *p, const float *input, float *output);

/* SUM / MEAN over some axes of a tensor of up to 5 dimensions (reduce_f32.c): each output sums
 * its inputs in the input's row-major order from 0.0f (TFLite's ReduceGeneric / Mean), MEAN
 * then divides by the number of reduced elements. */
typedef struct {
    int32_t in_shape[5];
    int32_t out_strides[5]; /* output stride of each input axis, 0 on a reduced axis */
    int32_t out_count;
    float divisor;          /* 1 for SUM */
} kt_reduce_f32_params;

void kt_reduce_f32(const kt_reduce_f32_params *p, const float *input, float *output);

/* SLICE / TRANSPOSE (shape_f32.c): out[i0..i4] = in[offset + sum_k i_k * in_strides[k]]. */
typedef struct {
    int32_t out_shape[5];
    int32_t in_strides[5];
    int32_t offset;
} kt_gather_f32_params;

void kt_gather_f32(const kt_gather_f32_params *p, const float *input, float *output);

/* PAD / PADV2: the output filled with pad_value, the input copied at `before` (4-D). */
typedef struct {
    int32_t in_shape[4], out_shape[4], before[4];
    float pad_value;
} kt_pad_f32_params;

void kt_pad_f32(const kt_pad_f32_params *p, const float *input, float *output);

/* CONCATENATION: out = [outer][chunks[0] | chunks[1] | ...]; the n_inputs inputs follow
 * `output` as const float * arguments. */
#define KT_CONCAT_MAX_INPUTS 8
typedef struct {
    int32_t n_inputs, outer, out_chunk;
    int32_t chunks[KT_CONCAT_MAX_INPUTS];
} kt_concat_f32_params;

void kt_concat_f32(const kt_concat_f32_params *p, float *output, ...);

#endif /* KT_KERNELS_F32_H */
