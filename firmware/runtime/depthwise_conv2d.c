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
/* ---- The band: zero-point-padded input rows, channel-planar int16 --------------------------
 * Slot s of the band holds one input row as C rows of pwp int16 values, channel c's row at
 * band + s * C * pwp + c * pwp, column j = input column j - pad_w. Columns outside the input
 * and the extra slot `span` (rows above/below the input) hold the input zero point; they are
 * written once per call. The span = (k_h - 1) * dil_h + 1 ring slots keep the input rows the
 * current output row reads, so a stride-1 layer widens each input row once, not k_h times. */

static void fill_s16(int16_t *dst, int16_t value, int32_t n)
{
    for (int32_t i = 0; i < n; ++i) {
        dst[i] = value;
    }
}

#if defined(__ARM_FEATURE_DSP)
/* (lo(a), lo(b)) and (hi(a), hi(b)) */
static inline uint32_t dw_pkhbt(uint32_t a, uint32_t b)
{
    uint32_t r;
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(a), "r"(b));
    return r;
}
static inline uint32_t dw_pkhtb(uint32_t a, uint32_t b)
{
    uint32_t r;
    __asm__("pkhtb %0, %1, %2, asr #16" : "=r"(r) : "r"(b), "r"(a));
    return r;
}
#else
static inline uint32_t dw_pkhbt(uint32_t a, uint32_t b) { return (a & 0xffffu) | b << 16; }
static inline uint32_t dw_pkhtb(uint32_t a, uint32_t b) { return a >> 16 | (b & 0xffff0000u); }
#endif

static inline void dw_store_u32(void *p, uint32_t v) { KT_MEMCPY(p, &v, sizeof v); }

/* n input pixels (NHWC int8 from src) into one slot from column x0 on (dst = slot + x0). */
static void widen_row(const int8_t *src, int32_t c_all, int16_t *dst, int32_t pwp, int32_t n)
{
    int32_t c = 0;
#if KT_HAVE_DSP
    /* 4 channels of 2 pixels per step: 2 LDR, 4 SXTB16, 4 PKHBT/PKHTB, 4 STR for 8 values. */
    for (; c + 4 <= c_all; c += 4) {
        const int8_t *s = src + c;
        int16_t *d = dst + c * pwp;
        int32_t j = 0;
        for (; j + 2 <= n; j += 2, s += 2 * c_all) {
            const uint32_t a = kt_load_u32(s), b = kt_load_u32(s + c_all);
            const uint32_t ae = kt_sxtb16(a), ao = kt_sxtb16_ror8(a);
            const uint32_t be = kt_sxtb16(b), bo = kt_sxtb16_ror8(b);
            dw_store_u32(d + j, dw_pkhbt(ae, be));
            dw_store_u32(d + pwp + j, dw_pkhbt(ao, bo));
            dw_store_u32(d + 2 * pwp + j, dw_pkhtb(ae, be));
            dw_store_u32(d + 3 * pwp + j, dw_pkhtb(ao, bo));
        }
        if (j < n) {
            d[j] = s[0];
            d[pwp + j] = s[1];
            d[2 * pwp + j] = s[2];
            d[3 * pwp + j] = s[3];
        }
    }
#elif !defined(__ARM_ARCH_6M__)
    /* One (unaligned-capable) LDR per 4 channels; Armv6-M has no unaligned loads. */
    for (; c + 4 <= c_all; c += 4) {
        const int8_t *s = src + c;
        int16_t *d = dst + c * pwp;
        for (int32_t j = 0; j < n; ++j, s += c_all) {
            const uint32_t v = kt_load_u32(s);
            d[j] = (int8_t)v;
            d[pwp + j] = (int8_t)(v >> 8);
            d[2 * pwp + j] = (int8_t)(v >> 16);
            d[3 * pwp + j] = (int8_t)(v >> 24);
        }
    }
#endif
    for (; c < c_all; ++c) {
        const int8_t *s = src + c;
        int16_t *d = dst + c * pwp;
        for (int32_t j = 0; j < n; ++j, s += c_all) {
            d[j] = *s;
        }
    }
}

/* The slot holding input row iy, widening it first if no slot does. held[s] = the row in slot
 * s; the rows the current output row reads start at iy_first, and rows are visited in
 * increasing order, so a slot holding a row < iy_first is free. There is always one: the held
 * rows >= iy_first lie in the span rows from iy_first, and at most span - k_h of those are
 * held without being read. */
static int32_t band_row(const kt_depthwise_conv2d_params *p, const int8_t *image, int32_t iy,
                        int32_t iy_first, int32_t *held, int16_t *band, int32_t pwp)
{
    const int32_t span = (p->k_h - 1) * p->dil_h + 1;
    const int32_t slot = p->in_c * pwp;
    if (iy < 0 || iy >= p->in_h) {
        return span * slot;
    }
    int32_t s = 0;
    for (; s < span && held[s] != iy; ++s) {
    }
    if (s == span) {
        for (s = 0; held[s] >= iy_first; ++s) {
        }
        const int32_t pw = (p->out_w - 1) * p->stride_w + (p->k_w - 1) * p->dil_w + 1;
        const int32_t x0 = kt_min_i32(p->pad_w, pw);
        const int32_t x1 = kt_max_i32(x0, kt_min_i32(pw, p->in_w + p->pad_w));
        widen_row(image + (iy * p->in_w + x0 - p->pad_w) * p->in_c, p->in_c,
                  band + s * slot + x0, pwp, x1 - x0);
        held[s] = iy;
    }
    return s * slot;
}

static KT_ALWAYS_INLINE int8_t requant(int32_t acc, const kt_rq_channel *rq, int32_t lo,
                                      int32_t hi)
{
    const int32_t z = kt_mbqm_channel(acc, rq);
    return (int8_t)kt_clamp_i32(z, lo, hi);
}

/* One channel of one output row. r = the channel's band row of each kernel row (already
 * offset by the pixel), out = its first output, written every `step` bytes. */
typedef struct {
    const int16_t *r0, *r1, *r2; /* 3x3 kernels */
    const int16_t *band;         /* other kernels: the channel's row in slot 0 ... */
    const int32_t *off;          /* ... and each kernel row's slot offset */
    int32_t bias;
    const kt_rq_channel *rq;
    int8_t *out;
} dw_channel;

#if KT_DSP_WEIGHTS
/* Armv7E-M. A channel's weights are int16 pairs per kernel row: (w0, w1), (w2, w3), ..., an odd
 * last tap as (w, w); with dilation every tap alone as (w, w). A word of the band at column j is
 * (x[j], x[j + 1]), so one SMLAD multiplies two horizontally adjacent taps of one pixel, and
 * the odd tap is SMLABB (low half) or SMLATT (high half) of a word loaded anyway. */

/* 3x3, stride 1, 4 pixels: the words at x .. x + 4 give every pixel's pair (x + k) and third tap
 * (low half of x + k + 2; pixel 3's is the high half of x + 4). */
#define KT_DW_ROW3_S1(r, w01, w2)                                                             \
    do {                                                                                      \
        const uint32_t x0_ = kt_load_u32(r), x1_ = kt_load_u32((r) + 1);                     \
        const uint32_t x2_ = kt_load_u32((r) + 2), x3_ = kt_load_u32((r) + 3);               \
        const uint32_t x4_ = kt_load_u32((r) + 4);                                            \
        a0 = kt_smlad(x0_, w01, a0);                                                          \
        a1 = kt_smlad(x1_, w01, a1);                                                          \
        a2 = kt_smlad(x2_, w01, a2);                                                          \
        a3 = kt_smlad(x3_, w01, a3);                                                          \
        a0 = kt_smlabb(x2_, w2, a0);                                                          \
        a1 = kt_smlabb(x3_, w2, a1);                                                          \
        a2 = kt_smlabb(x4_, w2, a2);                                                          \
        a3 = kt_smlatt(x4_, w2, a3);                                                          \
    } while (0)
/* 3x3, stride 2, 4 pixels: pixel k's pair is the word at 2k, its third tap the low half of the
 * next pixel's pair. */
#define KT_DW_ROW3_S2(r, w01, w2)                                                             \
    do {                                                                                      \
        const uint32_t x0_ = kt_load_u32(r), x1_ = kt_load_u32((r) + 2);                     \
        const uint32_t x2_ = kt_load_u32((r) + 4), x3_ = kt_load_u32((r) + 6);               \
        const uint32_t x4_ = kt_load_u32((r) + 8);                                            \
        a0 = kt_smlabb(x1_, w2, kt_smlad(x0_, w01, a0));                                      \
        a1 = kt_smlabb(x2_, w2, kt_smlad(x1_, w01, a1));                                      \
        a2 = kt_smlabb(x3_, w2, kt_smlad(x2_, w01, a2));                                      \
        a3 = kt_smlabb(x4_, w2, kt_smlad(x3_, w01, a3));                                      \
    } while (0)
#define KT_DW_ROW3_1(r, w01, w2) \
    (a0 = kt_smlabb(kt_load_u32((r) + 2), w2, kt_smlad(kt_load_u32(r), w01, a0)))

static KT_NOINLINE void dw_channel_3x3(const dw_channel *ch, const uint32_t *w, int32_t stride,
                                       int32_t step, int32_t n, int32_t lo, int32_t hi)
{
    const int16_t *r0 = ch->r0, *r1 = ch->r1, *r2 = ch->r2;
    const kt_rq_channel *rq = ch->rq;
    int8_t *out = ch->out;
    const uint32_t w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5];
    int32_t x = 0;
    if (stride == 1) {
        for (; x + 4 <= n; x += 4, r0 += 4, r1 += 4, r2 += 4, out += 4 * step) {
            int32_t a0 = ch->bias, a1 = a0, a2 = a0, a3 = a0;
            KT_DW_ROW3_S1(r0, w0, w1);
            KT_DW_ROW3_S1(r1, w2, w3);
            KT_DW_ROW3_S1(r2, w4, w5);
            out[0] = requant(a0, rq, lo, hi);
            out[step] = requant(a1, rq, lo, hi);
            out[2 * step] = requant(a2, rq, lo, hi);
            out[3 * step] = requant(a3, rq, lo, hi);
        }
    } else {
        for (; x + 4 <= n; x += 4, r0 += 8, r1 += 8, r2 += 8, out += 4 * step) {
            int32_t a0 = ch->bias, a1 = a0, a2 = a0, a3 = a0;
            KT_DW_ROW3_S2(r0, w0, w1);
            KT_DW_ROW3_S2(r1, w2, w3);
            KT_DW_ROW3_S2(r2, w4, w5);
            out[0] = requant(a0, rq, lo, hi);
            out[step] = requant(a1, rq, lo, hi);
            out[2 * step] = requant(a2, rq, lo, hi);
            out[3 * step] = requant(a3, rq, lo, hi);
        }
    }
    for (; x < n; ++x, r0 += stride, r1 += stride, r2 += stride, out += step) {
        int32_t a0 = ch->bias;
        KT_DW_ROW3_1(r0, w0, w1);
        KT_DW_ROW3_1(r1, w2, w3);
        KT_DW_ROW3_1(r2, w4, w5);
        out[0] = requant(a0, rq, lo, hi);
    }
}

/* Any kernel: one pixel at a time, each kernel row's pairs then its odd tap. */
static KT_NOINLINE void dw_channel_any(const kt_depthwise_conv2d_params *p, const dw_channel *ch,
                                       const uint32_t *w)
{
    const int32_t pairs = p->dil_w == 1 ? p->k_w / 2 : 0;
    const int32_t singles = p->dil_w == 1 ? p->k_w % 2 : p->k_w;
    const int32_t tap = p->dil_w == 1 ? 2 : p->dil_w; /* band columns between the words */
    int8_t *out = ch->out;
    for (int32_t x = 0; x < p->out_w; ++x, out += p->in_c) {
        int32_t acc = ch->bias;
        const uint32_t *wr = w;
        for (int32_t ky = 0; ky < p->k_h; ++ky) {
            const int16_t *r = ch->band + ch->off[ky] + x * p->stride_w;
            for (int32_t j = 0; j < pairs; ++j, r += 2) {
                acc = kt_smlad(kt_load_u32(r), *wr++, acc);
            }
            for (int32_t j = 0; j < singles; ++j, r += tap) {
                acc = kt_smlabb(kt_load_u32(r), *wr++, acc);
            }
        }
        out[0] = requant(acc, ch->rq, p->act_min, p->act_max);
    }
}
#define KT_DW_WEIGHTS_PER_ROW(p) ((p)->dil_w == 1 ? ((p)->k_w + 1) / 2 : (p)->k_w)
typedef uint32_t kt_dw_weight;
#else
/* Elsewhere the weights are int16 [channel][ky][kx] and each tap is a 16x16 MLA; unsigned
 * accumulators wrap like int32 addition. */
static KT_NOINLINE void dw_channel_3x3(const dw_channel *ch, const int16_t *w, int32_t stride,
                                       int32_t step, int32_t n, int32_t lo, int32_t hi)
{
    const int16_t *r0 = ch->r0, *r1 = ch->r1, *r2 = ch->r2;
    const kt_rq_channel *rq = ch->rq;
    int8_t *out = ch->out;
    int32_t x = 0;
    /* 4 pixels share each weight load (stride 1: and the inputs between them). */
    for (; x + 4 <= n; x += 4, out += 4 * step) {
        uint32_t a0 = (uint32_t)ch->bias, a1 = a0, a2 = a0, a3 = a0;
        for (int32_t ky = 0; ky < 3; ++ky) {
            const int16_t *r = ky == 0 ? r0 : ky == 1 ? r1 : r2;
            r += x * stride;
            const int32_t k0 = w[3 * ky], k1 = w[3 * ky + 1], k2 = w[3 * ky + 2];
            const int32_t s = stride;
            a0 += (uint32_t)(k0 * r[0] + k1 * r[1] + k2 * r[2]);
            a1 += (uint32_t)(k0 * r[s] + k1 * r[s + 1] + k2 * r[s + 2]);
            a2 += (uint32_t)(k0 * r[2 * s] + k1 * r[2 * s + 1] + k2 * r[2 * s + 2]);
            a3 += (uint32_t)(k0 * r[3 * s] + k1 * r[3 * s + 1] + k2 * r[3 * s + 2]);
        }
        out[0] = requant((int32_t)a0, rq, lo, hi);
        out[step] = requant((int32_t)a1, rq, lo, hi);
        out[2 * step] = requant((int32_t)a2, rq, lo, hi);
        out[3 * step] = requant((int32_t)a3, rq, lo, hi);
    }
    for (; x < n; ++x, out += step) {
        uint32_t a = (uint32_t)ch->bias;
        for (int32_t ky = 0; ky < 3; ++ky) {
            const int16_t *r = (ky == 0 ? r0 : ky == 1 ? r1 : r2) + x * stride;
            a += (uint32_t)(w[3 * ky] * r[0] + w[3 * ky + 1] * r[1] + w[3 * ky + 2] * r[2]);
        }
        out[0] = requant((int32_t)a, rq, lo, hi);
    }
}

static KT_NOINLINE void dw_channel_any(const kt_depthwise_conv2d_params *p, const dw_channel *ch,
                                       const int16_t *w)
{
    int8_t *out = ch->out;
    for (int32_t x = 0; x < p->out_w; ++x, out += p->in_c) {
        uint32_t acc = (uint32_t)ch->bias;
        const int16_t *wr = w;
        for (int32_t ky = 0; ky < p->k_h; ++ky) {
            const int16_t *r = ch->band + ch->off[ky] + x * p->stride_w;
            for (int32_t kx = 0; kx < p->k_w; ++kx, r += p->dil_w) {
                acc += (uint32_t)(*wr++ * *r);
            }
        }
        out[0] = requant((int32_t)acc, ch->rq, p->act_min, p->act_max);
    }
}
#define KT_DW_WEIGHTS_PER_ROW(p) ((p)->k_w)
typedef int16_t kt_dw_weight;
#endif
#endif /* KT_FAST_KERNELS */

void kt_depthwise_conv2d_s8(const kt_depthwise_conv2d_params *p, const int8_t *input,
                            int8_t *output, void *scratch)
{
#if KT_FAST_KERNELS
    if (p->rq_fast == 0) {
        kt_depthwise_conv2d_s8_ref(p, input, output);
        return;
    }
    const int32_t c_all = p->in_c;
    const int32_t pw = (p->out_w - 1) * p->stride_w + (p->k_w - 1) * p->dil_w + 1;
    const int32_t pwp = KT_DW_ROW16(pw);
    const int32_t span = (p->k_h - 1) * p->dil_h + 1;
    int32_t *held = (int32_t *)scratch;
    int32_t *off = held + span;
    int16_t *band = (int16_t *)(void *)(off + p->k_h);
    const int32_t per_channel = p->k_h * KT_DW_WEIGHTS_PER_ROW(p);
    const int32_t fast3x3 = p->k_h == 3 && p->k_w == 3 && p->dil_w == 1 &&
                            (p->stride_w == 1 || p->stride_w == 2);
    fill_s16(band, (int16_t)(-p->input_offset), (span + 1) * c_all * pwp);
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *image = input + b * p->in_h * p->in_w * c_all;
        for (int32_t s = 0; s < span; ++s) {
            held[s] = INT32_MIN;
        }
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            for (int32_t ky = 0; ky < p->k_h; ++ky) {
                off[ky] = band_row(p, image, iy0 + ky * p->dil_h, iy0, held, band, pwp);
            }
            const kt_dw_weight *w = (const kt_dw_weight *)(const void *)p->weights;
            dw_channel ch = {0};
            ch.off = off;
            ch.out = output;
            for (int32_t c = 0; c < c_all; ++c, w += per_channel, ++ch.out) {
                ch.band = band + c * pwp;
                ch.bias = p->folded_bias[c];
                ch.rq = p->rq_fast + c;
                if (fast3x3) {
                    ch.r0 = ch.band + off[0];
                    ch.r1 = ch.band + off[1];
                    ch.r2 = ch.band + off[2];
                    dw_channel_3x3(&ch, w, p->stride_w, c_all, p->out_w, p->act_min,
                                   p->act_max);
                } else {
                    dw_channel_any(p, &ch, w);
                }
            }
            output += p->out_w * c_all;
        }
    }
#else
    (void)scratch;
    kt_depthwise_conv2d_s8_ref(p, input, output);
#endif
}
