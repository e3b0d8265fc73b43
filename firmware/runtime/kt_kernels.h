/* Prototypes and parameter structs of the kenning-tasks int8 kernels.
 *
 * All "prepare" work (requantization multipliers, padding, activation ranges, softmax
 * constants, folded biases) is done ahead of time by kenning_tasks.codegen, so a kernel only
 * loops. Layouts are TFLite's: activations NHWC, conv weights OHWI, depthwise weights 1HW(C*M),
 * fully-connected weights [out][in]. No kernel allocates memory.
 */
#ifndef KT_KERNELS_H
#define KT_KERNELS_H

#include <stdint.h>
#include <string.h>

/* Small fixed-size copies (4-byte loads of packed int8, the model's input/output copies) must
 * be expanded inline. GCC does that only for the builtin, and the firmware is built with
 * -ffreestanding (implies -fno-builtin): plain memcpy became a call to newlib-nano's byte loop
 * and made the M4/M7 firmware twice as slow. __builtin_memcpy is expanded regardless. */
#if defined(__GNUC__)
#define KT_MEMCPY __builtin_memcpy
#else
#define KT_MEMCPY memcpy
#endif

/* n bytes of value, whole words first: the firmware's -ffreestanding build keeps a byte loop as
 * it is (~3 instructions per byte), and padded images and bands are hundreds of bytes. */
static inline void kt_fill_s8(int8_t *dst, int8_t value, int32_t n)
{
    const uint32_t word = (uint32_t)(uint8_t)value * 0x01010101u;
    for (; n >= 8; n -= 8, dst += 8) {
        KT_MEMCPY(dst, &word, 4);
        KT_MEMCPY(dst + 4, &word, 4);
    }
    for (int32_t i = 0; i < n; ++i) {
        dst[i] = value;
    }
}

/* The fast CONV_2D / FULLY_CONNECTED paths (im2col + kt_dot_rows_s8, bias pre-folded) are used
 * on Arm by default; the plain reference loops elsewhere. Either can be forced with
 * -DKT_FAST_KERNELS=0/1 (the host tests build both). */
#ifndef KT_FAST_KERNELS
#if defined(__arm__) || defined(__ARM_ARCH)
#define KT_FAST_KERNELS 1
#else
#define KT_FAST_KERNELS 0
#endif
#endif

/* On Armv7E-M (and the host's emulation of it) the fast path's weights are stored widened to
 * int16 (see dot_s8.c), elsewhere as int8. */
#if KT_FAST_KERNELS && (defined(__ARM_FEATURE_DSP) || defined(KT_EMULATE_DSP))
#define KT_DSP_WEIGHTS 1
#else
#define KT_DSP_WEIGHTS 0
#endif
/* Bytes per packed weight of a layer: a block of rows starting at row r0 is at
 * weights + r0 * len * this. weights_s16 is the layer's layout flag (KT_DSP_WEIGHTS, or 0 for a
 * layer the generator kept at int8 so that the model fits the board's flash). */
#define KT_PACKED_WEIGHT_BYTES(weights_s16) ((weights_s16) ? 2 : 1)

/* The generated model.c stores CONV_2D / FULLY_CONNECTED weights in the layout of the
 * KT_FAST_KERNELS / KT_DSP_WEIGHTS setting it is compiled with; it references this symbol so
 * that linking it with a runtime built with another setting fails instead of computing garbage. */
#if KT_DSP_WEIGHTS
#define KT_RUNTIME_ABI kt_runtime_abi_fast_s16_v1
#elif KT_FAST_KERNELS
#define KT_RUNTIME_ABI kt_runtime_abi_fast_v1
#else
#define KT_RUNTIME_ABI kt_runtime_abi_ref_v1
#endif
extern const uint8_t KT_RUNTIME_ABI;

/* Per-output-channel requantization: acc * mult[c] * 2^shift[c]. */
typedef struct {
    const int32_t *multiplier;
    const int32_t *shift;
} kt_requant;

/* Per-output-channel constants of the fast paths' requantization (kt_mbqm_channel), for layers
 * whose every shift is a right shift by e in [1, 23] and whose accumulators stay below 2^30 in
 * magnitude; the generator emits them (kenning_tasks.codegen.quant.fast_requant_rows) and leaves
 * rq_fast NULL otherwise. Two forms of the same arithmetic (see kt_fixedpoint.h): SMMLAR on
 * Armv7E-M (KT_DSP_REQUANT, with the DSP weights), a 64-bit multiply-accumulate elsewhere. */
#define KT_DSP_REQUANT KT_DSP_WEIGHTS
typedef struct {
#if KT_DSP_REQUANT
    int32_t offset;     /* 2^(e-1) + output_offset * 2^e */
    int32_t multiplier; /* as in kt_requant */
    int32_t shift;      /* e */
#else
    /* the 64-bit constant 2^30 + 2^(30+e) + output_offset * 2^(31+e), low word first */
    int32_t round_lo, round_hi;
    int32_t multiplier;         /* as in kt_requant */
    int32_t shift;              /* e - 1 */
#endif
} kt_rq_channel;

typedef struct {
    int32_t batches, in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t k_h, k_w, stride_h, stride_w, dil_h, dil_w, pad_h, pad_w;
    int32_t input_offset;  /* -input zero point */
    int32_t output_offset; /* output zero point */
    int32_t act_min, act_max;
    /* Reference build: [out_c][k_h][k_w][in_c]. Fast build: the same rows in the generator's
     * pack4 layout (see dot_s8.c). */
    const int8_t *weights;
    const int32_t *bias;         /* [out_c], may be NULL; reference build only */
    const int32_t *folded_bias;  /* bias + input_offset * sum(weights[c]); fast build only */
    kt_requant rq;
    const kt_rq_channel *rq_fast; /* fast build only; NULL: requantize with rq */
    /* Fast build: 1 = first copy the input into a zero-point-padded image in the scratch
     * (KT_CONV_PADDED_BYTES), so im2col needs no per-tap bounds checks. */
    int32_t padded_copy;
    /* Fast build: 1 = weights widened to int16 (only with KT_DSP_WEIGHTS), 0 = int8 pack4. */
    int32_t weights_s16;
    /* KT_DSP_REQUANT builds, 1-channel 3x3 layers: KT_CONV_C1_WORDS words of constants per
     * output channel for conv2d_small_c.c (the generator's small_c_blocks); else NULL. */
    const int32_t *c1_blocks;
} kt_conv2d_params;
#define KT_CONV_C1_WORDS 10
/* A constant only the KT_DSP_REQUANT builds have (the generator guards its array so). */
#if KT_DSP_REQUANT
#define KT_DSP_REQUANT_ONLY(x) (x)
#else
#define KT_DSP_REQUANT_ONLY(x) 0
#endif

/* scratch: KT_CONV_SCRATCH_BYTES(k_h * k_w * in_c) bytes (+ the padded copy with padded_copy),
 * word aligned (fast path only). */
void kt_conv2d_s8(const kt_conv2d_params *p, const int8_t *input, int8_t *output,
                  void *scratch);
void kt_conv2d_s8_ref(const kt_conv2d_params *p, const int8_t *input, int8_t *output);
/* Fast path for 1-channel 3x3 layers with rq_fast (conv2d_small_c.c): returns 0 without
 * touching anything when the layer does not qualify, 1 when it computed the output. */
int32_t kt_conv2d_s8_small_c(const kt_conv2d_params *p, const int8_t *input, int8_t *output,
                             void *scratch);
/* Fast path for pointwise layers with 4, 8 or 16 input channels on Armv7E-M (conv2d_pointwise.c):
 * 1x1 kernel, stride 1, no padding, out_c a multiple of 4, int16 weights and rq_fast (in_c 16:
 * activation range [-128, 127] only); returns 0
 * without touching anything otherwise. Its scratch: KT_CONV_POINTWISE_BYTES, reserved by the
 * generator (lowering.conv_pointwise_scratch_bytes) for the shapes KT_CONV_POINTWISE_SHAPE
 * accepts: one block of in_c / 2 + 4 words per output channel. */
#define KT_CONV_POINTWISE_SHAPE(k_h, k_w, stride_h, stride_w, pad_h, pad_w, in_c, out_c)       \
    ((k_h) == 1 && (k_w) == 1 && (stride_h) == 1 && (stride_w) == 1 && (pad_h) == 0 &&         \
     (pad_w) == 0 && ((in_c) == 4 || (in_c) == 8 || (in_c) == 16) && (out_c) % 4 == 0)
#define KT_CONV_POINTWISE_BYTES(in_c, out_c) (4 * (out_c) * ((in_c) / 2 + 4))
int32_t kt_conv2d_s8_pointwise(const kt_conv2d_params *p, const int8_t *input, int8_t *output,
                               void *scratch);

typedef struct {
    int32_t batches, in_h, in_w, in_c;
    int32_t out_h, out_w, out_c, depth_multiplier;
    int32_t k_h, k_w, stride_h, stride_w, dil_h, dil_w, pad_h, pad_w;
    int32_t input_offset, output_offset, act_min, act_max;
    /* Reference: [1][k_h][k_w][out_c]. Fast path (rq_fast set): [ceil(c/4)][k_h * k_w][4],
     * int16 in SXTB16 lane order with KT_DSP_WEIGHTS, int8 otherwise (depthwise_conv2d.c). */
    const int8_t *weights;
    const int32_t *bias;   /* [out_c], may be NULL */
    kt_requant rq;
    /* Fast path only (depth multiplier 1), both padded to a multiple of 4 channels:
     * bias + input_offset * sum of the channel's taps, and the kt_mbqm_fast constants.
     * rq_fast NULL: the reference loop runs. */
    const int32_t *folded_bias;
    const kt_rq_channel *rq_fast;
    /* Armv7E-M fast path: 0, or the channel-planar 3x3 kernel sweeping rows
     * (KT_DW_PLANAR_ROWS) or columns (KT_DW_PLANAR_COLS), whose weights are then per channel
     * a block of KT_DW_PLANAR_BLOCK_WORDS words (depthwise_planar.c). */
    int32_t planar;
} kt_depthwise_conv2d_params;

#define KT_DW_PLANAR_ROWS 1
#define KT_DW_PLANAR_COLS 2
#define KT_DW_PLANAR_BLOCK_WORDS 10
/* Halfwords per channel plane of a line with n outputs at stride s along it: the 4-output
 * passes read 4 * s + 2 positions from the pass's first. */
#define KT_DW_PLANAR_LEN(n, s) (4 * (s) * (((n) + 3) / 4) + 2)
/* Its scratch: a ring of 3 lines of c planes and a line of zero points. */
#define KT_DW_PLANAR_SCRATCH_BYTES(n, s, c) (8 * (c) * KT_DW_PLANAR_LEN(n, s))
void kt_depthwise_planar_s8(const kt_depthwise_conv2d_params *p, const int8_t *input,
                            int8_t *output, void *scratch);

/* Armv7E-M band kernels (not planar): per group of 4 channels a block of words, the taps' int16
 * weight pairs (2 per tap) followed by kt_dw_band_consts (depthwise_conv2d.c). */
#define KT_DW_BAND_BLOCK_WORDS(taps) (2 * (taps) + 21)
/* scratch (fast path), word aligned: the zero-point-padded band, KT_DW_SCRATCH_BYTES bytes with
 * KT_DSP_WEIGHTS, else KT_DW_SCRATCH_BYTES_S8 (the generator reserves the larger). */
void kt_depthwise_conv2d_s8(const kt_depthwise_conv2d_params *p, const int8_t *input,
                            int8_t *output, void *scratch);
void kt_depthwise_conv2d_s8_ref(const kt_depthwise_conv2d_params *p, const int8_t *input,
                                int8_t *output);
/* Armv7E-M: KT_DW_BAND_ROWS rows of pw = (out_w - 1) * stride_w + (k_w - 1) * dil_w + 1
 * pixels, int16, channels padded to 4: a ring of span = (k_h - 1) * dil_h + 1 rows and its
 * mirror (2 * span rows), or for short images (stride_h 1, out_h + span - 1 <= 2 * span + 2
 * rows: MobileNet's 6x6 and 3x3 layers) every row of the taps' extent, each widened once. */
#define KT_DW_SPAN(k_h, dil_h) (((k_h) - 1) * (dil_h) + 1)
#define KT_DW_WHOLE_IMAGE(out_h, k_h, dil_h, stride_h)                                         \
    ((stride_h) == 1 && (out_h) + KT_DW_SPAN(k_h, dil_h) - 1 <= 2 * KT_DW_SPAN(k_h, dil_h) + 2)
#define KT_DW_BAND_ROWS(out_h, k_h, dil_h, stride_h)                                           \
    (KT_DW_WHOLE_IMAGE(out_h, k_h, dil_h, stride_h) ? (out_h) + KT_DW_SPAN(k_h, dil_h) - 1     \
                                                    : 2 * KT_DW_SPAN(k_h, dil_h))
#define KT_DW_SCRATCH_BYTES(out_h, k_h, dil_h, stride_h, pw, c)                                 \
    (8 * KT_DW_BAND_ROWS(out_h, k_h, dil_h, stride_h) * (pw) * (((c) + 3) / 4))
/* Armv7E-M layers with stride_h > 1 use the int8 band (KT_DW_SCRATCH_BYTES_S8) too. */
/* Elsewhere: k_h int8 NHWC rows of pw pixels, plus one word for the last group's loads. */
#define KT_DW_SCRATCH_BYTES_S8(k_h, pw, c) ((k_h) * (pw) * (c) + 4)

typedef struct {
    int32_t batches, in_depth, out_depth;
    int32_t input_offset, output_offset, act_min, act_max;
    const int8_t *weights;      /* [out_depth][in_depth]; pack4 layout in the fast build */
    const int32_t *bias;        /* [out_depth], may be NULL; reference build only */
    const int32_t *folded_bias; /* bias + input_offset * sum(weights[o]); fast build only */
    kt_requant rq;
    const kt_rq_channel *rq_fast; /* fast build only; NULL: requantize with rq */
    int32_t weights_s16;          /* fast build: as in kt_conv2d_params */
} kt_fully_connected_params;

/* scratch: KT_FC_SCRATCH_BYTES(in_depth) bytes, word aligned (fast path only). */
void kt_fully_connected_s8(const kt_fully_connected_params *p, const int8_t *input,
                           int8_t *output, void *scratch);
void kt_fully_connected_s8_ref(const kt_fully_connected_params *p, const int8_t *input,
                               int8_t *output);

/* Dot products of one int8 column with rows of int8 weights: the inner loop shared by the fast
 * CONV_2D and FULLY_CONNECTED paths. out[r] = acc_init[r] + sum_k rows[r][k] * col[k].
 * col16 must first be filled by kt_widen_col_s8 (on Armv7E-M it holds the column widened to
 * int16 pairs; elsewhere it is unused). */
void kt_widen_col_s8(const int8_t *col, int32_t len, uint32_t *col16);
void kt_dot_rows_s8(const int8_t *col, const uint32_t *col16, const int8_t *rows,
                    int32_t n_rows, int32_t len, int32_t weights_s16, const int32_t *acc_init,
                    int32_t *out);

/* out[i] = clamp(MBQM(acc[i], multiplier[i], shift[i]) + output_offset, act_min, act_max) for a
 * block of output channels (the fast paths' requantization, parameters held in registers). */
void kt_requant_block_s8(const int32_t *acc, int32_t n, const int32_t *multiplier,
                         const int32_t *shift, int32_t output_offset, int32_t act_min,
                         int32_t act_max, int8_t *out);

/* kt_dot_rows_s8 fused with the kt_rq_channel requantization over all rows of a layer (no
 * accumulator array, one call per output pixel):
 * out[r] = clamp(kt_mbqm_fast(bias[r] + sum_k rows[r][k] * col[k], rq[r]), act_min, act_max). */
typedef struct {
    const int8_t *rows;       /* packed weights of all n_rows rows */
    const int32_t *bias;      /* folded bias */
    const kt_rq_channel *rq;
    int32_t n_rows, len;
    int32_t act_min, act_max;
    int32_t weights_s16;      /* 1: rows are int16 (KT_DSP_WEIGHTS layout), 0: int8 pack4 */
} kt_dot_job;

void kt_dot_requant_s8(const kt_dot_job *job, const int8_t *col, const uint32_t *col16,
                       int8_t *out);

/* kt_dot_requant_s8 for two columns at once (two output pixels of a CONV_2D), each weight load
 * feeding both: out_a from col_a, out_b from col_b. col16 (2 * KT_COL16_BYTES(len) bytes) must
 * first be filled by kt_widen_cols2_s8: on Armv7E-M both columns widened to int16 pairs and
 * interleaved per 4 taps, elsewhere their bytes interleaved (a0, b0, a1, b1, ...). */
void kt_widen_cols2_s8(const int8_t *col_a, const int8_t *col_b, int32_t len, uint32_t *col16);
void kt_dot_requant2_s8(const kt_dot_job *job, const int8_t *col_a, const int8_t *col_b,
                        const uint32_t *col16, int8_t *out_a, int8_t *out_b);

/* Scratch bytes the fast paths need: the int16 column (word aligned) then the int8 im2col
 * column. The generator allocates this in the arena for every CONV_2D / FULLY_CONNECTED. */
#define KT_COL16_BYTES(len) ((((len) / 4) * 8))
/* CONV_2D's column is rounded up to whole words (with KT_DSP_WEIGHTS its rows are zero-padded
 * to that length, so the dot product has no tail). It computes two output pixels per pass, so
 * it has two widened columns (interleaved, KT_CONV_COL16_BYTES) and two int8 columns. */
#define KT_ROUND4(len) ((((len) + 3) / 4) * 4)
#define KT_CONV_COL16_BYTES(len) (2 * KT_COL16_BYTES(KT_ROUND4(len)))
/* An int8 column, with 4 bytes of slack for im2col's whole-word run copies. */
#define KT_CONV_COL_BYTES(len) (KT_ROUND4(len) + 4)
#define KT_CONV_SCRATCH_BYTES(len) (KT_CONV_COL16_BYTES(len) + 2 * KT_CONV_COL_BYTES(len))
/* With padded_copy, the padded image follows at KT_CONV_PADDED_OFFSET: ph x pw x in_c bytes,
 * ph = (out_h - 1) * stride_h + (k_h - 1) * dil_h + 1 and pw likewise, plus 4 bytes of slack
 * (im2col's whole-word reads). */
#define KT_CONV_PADDED_OFFSET(len) KT_CONV_SCRATCH_BYTES(len)
#define KT_FC_SCRATCH_BYTES(in_depth) (KT_COL16_BYTES(in_depth))

typedef struct {
    int32_t batches, in_h, in_w, channels, out_h, out_w;
    int32_t k_h, k_w, stride_h, stride_w, pad_h, pad_w;
    int32_t act_min, act_max;
    /* AVERAGE_POOL_2D: recip[n] = ceil(2^24 / n) for window counts n = 1 .. k_h * k_w (emitted
     * when k_h * k_w <= 256), so the rounded division is a multiply (no __aeabi_idiv on
     * Armv6-M); NULL: divide. */
    const uint32_t *recip;
} kt_pool2d_params;

void kt_max_pool2d_s8(const kt_pool2d_params *p, const int8_t *input, int8_t *output);
void kt_average_pool2d_s8(const kt_pool2d_params *p, const int8_t *input, int8_t *output);

/* Element-wise add with broadcasting over a 4-D output shape; a stride of 0 broadcasts. */
typedef struct {
    int32_t out_shape[4];
    int32_t in1_strides[4], in2_strides[4];
    int32_t input1_offset, input2_offset, output_offset;
    int32_t left_shift;
    int32_t input1_multiplier, input1_shift;
    int32_t input2_multiplier, input2_shift;
    int32_t output_multiplier, output_shift;
    int32_t act_min, act_max;
    int32_t subtract; /* 1: SUB (the rescaled second input is subtracted) */
    /* Fast path (KT_FAST_KERNELS; the generator sets out_rq only when the output shift is a
     * right shift by 1..23): each input's rescaled value as a table over its 256 byte values
     * (in2_table already negated for SUB), and the output's kt_mbqm_fast constants. */
    const int32_t *in1_table, *in2_table;
    const kt_rq_channel *out_rq;
} kt_add_params;

void kt_add_s8(const kt_add_params *p, const int8_t *input1, const int8_t *input2,
               int8_t *output);

/* out[i] = table[(uint8_t)in[i]]: TANH, LOGISTIC, RELU, RELU6, LEAKY_RELU, HARD_SWISH. */
typedef struct {
    int32_t count;
    const int8_t *table; /* 256 entries, indexed by the input byte as unsigned */
} kt_lut_params;

void kt_lut_s8(const kt_lut_params *p, const int8_t *input, int8_t *output);

/* Element-wise multiply with broadcasting over a 4-D output shape (strides as kt_add_params). */
typedef struct {
    int32_t out_shape[4];
    int32_t in1_strides[4], in2_strides[4];
    int32_t input1_offset, input2_offset, output_offset;
    int32_t output_multiplier, output_shift;
    int32_t act_min, act_max;
} kt_mul_params;

void kt_mul_s8(const kt_mul_params *p, const int8_t *input1, const int8_t *input2,
               int8_t *output);

/* MEAN over axes of a (padded to) 4-D input; out_strides are 0 along the reduced axes. */
typedef struct {
    int32_t in_shape[4];
    int32_t out_strides[4];
    int32_t out_count;
    int32_t input_zero_point_times_n; /* zp_in * reduced element count (wrapping) */
    int32_t multiplier, shift;        /* the division by the count folded in */
    int32_t output_zero_point;
} kt_mean_params;

/* scratch: 4 * out_count bytes (the int32 sums), word aligned. */
void kt_mean_s8(const kt_mean_params *p, const int8_t *input, int8_t *output, void *scratch);

typedef struct {
    int32_t in_shape[4], out_shape[4], before[4];
    int32_t pad_value;
} kt_pad_params;

void kt_pad_s8(const kt_pad_params *p, const int8_t *input, int8_t *output);

#define KT_MAX_CONCAT_INPUTS 16
typedef struct {
    int32_t n_inputs, outer, out_chunk;
    int32_t chunks[KT_MAX_CONCAT_INPUTS]; /* bytes per outer index of each input */
} kt_concat_params;

/* The inputs follow `output`: p->n_inputs arguments of type const int8_t *. */
void kt_concat_s8(const kt_concat_params *p, int8_t *output, ...);

typedef struct {
    int32_t out_shape[4];
    int32_t in_strides[4]; /* input stride of each output axis */
} kt_transpose_params;

void kt_transpose_s8(const kt_transpose_params *p, const int8_t *input, int8_t *output);

typedef struct {
    int32_t outer, depth;
    int32_t input_multiplier, input_left_shift, diff_min;
    const int32_t *exp_table; /* fast build: exp (Q0) of differences 0 .. -255, NULL: compute */
} kt_softmax_params;

void kt_softmax_s8(const kt_softmax_params *p, const int8_t *input, int8_t *output);

typedef struct {
    int32_t count;
    float scale; /* float -> int8: round(real value / scale) + zero_point, in float32 */
    int32_t zero_point;
} kt_quantize_params;

void kt_quantize_f32_s8(const kt_quantize_params *p, const float *input, int8_t *output);

typedef struct {
    int32_t count;
    int32_t input_zero_point, output_zero_point;
    int32_t multiplier, shift;
} kt_requantize_params;

void kt_requantize_s8(const kt_requantize_params *p, const int8_t *input, int8_t *output);

typedef struct {
    int32_t count;
    double scale;
    int32_t zero_point;
} kt_dequantize_params;

void kt_dequantize_s8_f32(const kt_dequantize_params *p, const int8_t *input, float *output);

/* -- SLICE and SUM int8 (SUM runs kt_mean_s8 with kt_mean_params: the sums requantized by
 * input scale / output scale, nothing divided) ----------------------------------------- */
typedef struct {
    kt_transpose_params gather; /* out_shape = the slice's sizes, in_strides = the input's */
    int32_t offset;             /* element offset of the slice's first element (its begin) */
} kt_slice_params;

void kt_slice_s8(const kt_slice_params *p, const int8_t *input, int8_t *output);

#endif /* KT_KERNELS_H */
