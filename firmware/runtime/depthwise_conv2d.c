/* DEPTHWISE_CONV_2D, int8 per-channel (TFLite reference_integer_ops::DepthwiseConvPerChannel).
 *
 * Fast path (KT_FAST_KERNELS, depth multiplier 1, every channel's shift a right shift by
 * 1..23; the generator emits rq_fast only then, otherwise the reference loop runs):
 * - For each output row, the k_h input rows its taps read are copied into a band in the
 *   scratch, padded with the input zero point: no per-tap bounds checks. A padding tap then
 *   contributes w * zp_in, which the folded bias (bias + input_offset * sum of the channel's
 *   taps) cancels exactly, as in the reference where it contributes nothing.
 * - Channels go 4 at a time (one word of the band per tap); the generator stores each group's
 *   weights tap by tap ([group][tap][4], channels padded to a multiple of 4 with zero weights,
 *   so the extra lanes compute garbage that is never stored). On Armv7E-M they are int16 in
 *   SXTB16 lane order, (w0, w2), (w1, w3): per tap and 4 channels 1 LDR + 2 SXTB16 + 1 LDRD +
 *   4 SMLABB/SMLATT. Elsewhere int8, 4 MLAs.
 * - Requantization: kt_mbqm_fast (see kt_fixedpoint.h), the same as CONV_2D's fast path.
 * The accumulation order differs from the reference but int32 addition wraps identically in
 * any order, so the sums are the same bits.
 */
#include "kt_dsp.h"
#include "kt_fixedpoint.h"
#include "kt_kernels.h"

/* Readable reference: a direct translation of TFLite's loop. */
void kt_depthwise_conv2d_s8_ref(const kt_depthwise_conv2d_params *p, const int8_t *input,
                                int8_t *output)
{
    for (int32_t b = 0; b < p->batches; ++b) {
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                const int32_t iy0 = oy * p->stride_h - p->pad_h;
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                for (int32_t ic = 0; ic < p->in_c; ++ic) {
                    for (int32_t m = 0; m < p->depth_multiplier; ++m) {
                        const int32_t oc = ic * p->depth_multiplier + m;
                        int32_t acc = 0;
                        for (int32_t ky = 0; ky < p->k_h; ++ky) {
                            const int32_t iy = iy0 + p->dil_h * ky;
                            if (iy < 0 || iy >= p->in_h) {
                                continue;
                            }
                            for (int32_t kx = 0; kx < p->k_w; ++kx) {
                                const int32_t ix = ix0 + p->dil_w * kx;
                                if (ix < 0 || ix >= p->in_w) {
                                    continue;
                                }
                                const int32_t x =
                                    input[((b * p->in_h + iy) * p->in_w + ix) * p->in_c + ic];
                                const int32_t w = p->weights[(ky * p->k_w + kx) * p->out_c + oc];
                                acc += w * (x + p->input_offset);
                            }
                        }
                        if (p->bias) {
                            acc += p->bias[oc];
                        }
                        acc = kt_mbqm(acc, p->rq.multiplier[oc], (int)p->rq.shift[oc]);
                        acc += p->output_offset;
                        output[((b * p->out_h + oy) * p->out_w + ox) * p->out_c + oc] =
                            (int8_t)kt_clamp_i32(acc, p->act_min, p->act_max);
                    }
                }
            }
        }
    }
}

#if KT_FAST_KERNELS
static void fill_s8(int8_t *dst, int8_t value, int32_t n)
{
    for (int32_t i = 0; i < n; ++i) {
        dst[i] = value;
    }
}

static void copy_s8(int8_t *dst, const int8_t *src, int32_t n)
{
    for (; n >= 8; n -= 8, dst += 8, src += 8) {
        KT_MEMCPY(dst, src, 8);
    }
    for (; n >= 4; n -= 4, dst += 4, src += 4) {
        KT_MEMCPY(dst, src, 4);
    }
    for (int32_t i = 0; i < n; ++i) {
        dst[i] = src[i];
    }
}

/* The k_h input rows output row oy reads, zero-point padded to pw pixels each. */
static void fill_band(const kt_depthwise_conv2d_params *p, const int8_t *image, int32_t oy,
                      int32_t pw, int8_t *band)
{
    const int32_t c = p->in_c;
    const int8_t zp = (int8_t)(-p->input_offset);
    /* band column j is input column j - pad_w; the columns inside the input: */
    const int32_t x0 = kt_min_i32(p->pad_w, pw);
    const int32_t x1 = kt_max_i32(x0, kt_min_i32(pw, p->in_w + p->pad_w));
    for (int32_t ky = 0; ky < p->k_h; ++ky, band += pw * c) {
        const int32_t iy = oy * p->stride_h - p->pad_h + ky * p->dil_h;
        if (iy < 0 || iy >= p->in_h) {
            fill_s8(band, zp, pw * c);
            continue;
        }
        fill_s8(band, zp, x0 * c);
        copy_s8(band + x0 * c, image + (iy * p->in_w + x0 - p->pad_w) * c, (x1 - x0) * c);
        fill_s8(band + x1 * c, zp, (pw - x1) * c);
    }
}

static KT_ALWAYS_INLINE int8_t requant(int32_t acc, const kt_rq_channel *rq, int32_t lo,
                                      int32_t hi)
{
    const int32_t z = kt_mbqm_channel(acc, rq);
    return (int8_t)kt_clamp_i32(z, lo, hi);
}


/* The taps of one channel group: t = tap index, `in` = the tap's 4 channels in the band. */
#if KT_DSP_WEIGHTS
#define KT_DW_TAP(t, in)                                                                      \
    do {                                                                                      \
        const uint32_t x_ = kt_load_u32(in);                                                  \
        const uint32_t xe_ = kt_sxtb16(x_), xo_ = kt_sxtb16_ror8(x_);                         \
        const uint32_t we_ = w[2 * (t)], wo_ = w[2 * (t) + 1];                                \
        a0 = kt_smlabb(xe_, we_, a0);                                                         \
        a2 = kt_smlatt(xe_, we_, a2);                                                         \
        a1 = kt_smlabb(xo_, wo_, a1);                                                         \
        a3 = kt_smlatt(xo_, wo_, a3);                                                         \
    } while (0)
#define KT_DW_WORDS_PER_TAP 2
typedef uint32_t kt_dw_weight;
#else
#define KT_DW_TAP(t, in)                                                                      \
    do {                                                                                      \
        const int8_t *x_ = (in);                                                              \
        a0 += w[4 * (t)] * x_[0];                                                             \
        a1 += w[4 * (t) + 1] * x_[1];                                                         \
        a2 += w[4 * (t) + 2] * x_[2];                                                         \
        a3 += w[4 * (t) + 3] * x_[3];                                                         \
    } while (0)
#define KT_DW_WORDS_PER_TAP 4
typedef int8_t kt_dw_weight;
#endif

/* One output pixel: every channel group's taps from the band (`px` = the pixel's first tap).
 * The 3x3 kernel without dilation (nearly every depthwise layer) has its 9 taps written out:
 * fixed weight offsets, no loop counters. */
static KT_NOINLINE KT_NO_SCHED1 void dw_pixel(const kt_depthwise_conv2d_params *p, const int8_t *px,
                                 int32_t row_bytes,
                                 int8_t *out)
{
    const int32_t c_all = p->in_c;
    const int32_t tap_x = p->dil_w * c_all;
    const int32_t taps = p->k_h * p->k_w;
    const int32_t *bias = p->folded_bias;
    const kt_rq_channel *rq = p->rq_fast;
    const kt_dw_weight *w = (const kt_dw_weight *)(const void *)p->weights;
    const int32_t unrolled = p->k_h == 3 && p->k_w == 3 && p->dil_w == 1;
#if defined(__ARM_FEATURE_DSP)
    const uint32_t lo4 = (uint32_t)(uint8_t)p->act_min * 0x01010101u;
    const uint32_t hi4 = (uint32_t)(uint8_t)p->act_max * 0x01010101u;
#endif
    for (int32_t c = 0; c < c_all; c += 4, bias += 4, rq += 4) {
        int32_t a0 = bias[0], a1 = bias[1], a2 = bias[2], a3 = bias[3];
        const int8_t *r0 = px + c;
#if defined(__GNUC__)
        /* Opaque to the optimizer: otherwise GCC keeps each of the 9 tap addresses as its own
         * induction variable over c, spilled to the stack (twice the instructions). */
        __asm__("" : "+r"(r0));
#endif
        if (unrolled) {
            const int8_t *r1 = r0 + row_bytes, *r2 = r1 + row_bytes;
            KT_DW_TAP(0, r0);
            KT_DW_TAP(1, r0 + tap_x);
            KT_DW_TAP(2, r0 + 2 * tap_x);
            KT_DW_TAP(3, r1);
            KT_DW_TAP(4, r1 + tap_x);
            KT_DW_TAP(5, r1 + 2 * tap_x);
            KT_DW_TAP(6, r2);
            KT_DW_TAP(7, r2 + tap_x);
            KT_DW_TAP(8, r2 + 2 * tap_x);
        } else {
            int32_t t = 0;
            for (int32_t ky = 0; ky < p->k_h; ++ky, r0 += row_bytes) {
                const int8_t *in = r0;
                for (int32_t kx = 0; kx < p->k_w; ++kx, in += tap_x, ++t) {
                    KT_DW_TAP(t, in);
                }
            }
        }
        w += taps * KT_DW_WORDS_PER_TAP;
        const int32_t lo = p->act_min, hi = p->act_max;
        if (c + 4 <= c_all) {
#if defined(__ARM_FEATURE_DSP)
            const uint32_t word = kt_requant4_s8(a0, a1, a2, a3, rq, lo4, hi4);
#else
            const uint32_t word = (uint32_t)(uint8_t)requant(a0, rq, lo, hi) |
                                  (uint32_t)(uint8_t)requant(a1, rq + 1, lo, hi) << 8 |
                                  (uint32_t)(uint8_t)requant(a2, rq + 2, lo, hi) << 16 |
                                  (uint32_t)(uint8_t)requant(a3, rq + 3, lo, hi) << 24;
#endif
            KT_MEMCPY(out + c, &word, 4);
        } else {
            const int32_t acc[4] = {a0, a1, a2, a3};
            for (int32_t i = 0; c + i < c_all; ++i) {
                out[c + i] = requant(acc[i], rq + i, lo, hi);
            }
        }
    }
}
#endif

void kt_depthwise_conv2d_s8(const kt_depthwise_conv2d_params *p, const int8_t *input,
                            int8_t *output, void *scratch)
{
#if KT_FAST_KERNELS
    if (p->rq_fast == 0) {
        kt_depthwise_conv2d_s8_ref(p, input, output);
        return;
    }
    const int32_t c = p->in_c;
    const int32_t pw = (p->out_w - 1) * p->stride_w + (p->k_w - 1) * p->dil_w + 1;
    int8_t *band = (int8_t *)scratch;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *image = input + b * p->in_h * p->in_w * c;
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            fill_band(p, image, oy, pw, band);
            for (int32_t ox = 0; ox < p->out_w; ++ox, output += c) {
                dw_pixel(p, band + ox * p->stride_w * c, pw * c, output);
            }
        }
    }
#else
    (void)scratch;
    kt_depthwise_conv2d_s8_ref(p, input, output);
#endif
}
