/* CONV_2D fast path for one input channel and a 3x3 kernel (the first layer of image models,
 * e.g. digits' 8x8x1 -> 8 filters), called by kt_conv2d_s8.
 *
 * With one channel the generic path's per-pixel im2col, column widening and call overhead cost
 * more than the 9 MACs. This kernel instead runs output-channel-major: a channel's 9 weights,
 * folded bias and kt_rq_channel constants are held in registers while it sweeps every output
 * pixel, reading the taps straight from the input (VALID) or from the zero-point-padded copy
 * in the scratch (padded_copy; the padding taps then meet input_offset-cancelling folded_bias,
 * exactly as in the im2col path). Outputs are stored with a stride of out_c (NHWC).
 *
 * Arithmetic is the same as the reference: acc = folded_bias + sum w * x (int32, |acc| < 2^30
 * as the generator guarantees for rq_fast), requantized by kt_mbqm_channel, clamped.
 *
 * Armv7E-M: two horizontally adjacent pixels (stride_w 1) share each kernel row's input word
 * x0..x3: SXTB16 gives E = (x0, x2) and O = (x1, x3), so with W = (w0, w2) pixel a gets
 * SMLAD(W, E) + w1 * lo(O) and pixel b SMLAD(W, O) + w1 * hi(E): per row and pair one LDR,
 * two SXTB16, two SMLAD and two halfword MACs for 6 MACs. The word read ends at the pair's
 * last tap (x3), so it never leaves the image rows. Elsewhere plain C with the same pairing.
 */
#include "kt_dsp.h"
#include "kt_fixedpoint.h"
#include "kt_kernels.h"

#if KT_FAST_KERNELS

/* Weight k of row oc in the generator's packed layout (pack4_rows / pack4_rows_s16 with rows
 * padded to words and each 4-weight chunk in SXTB16 lane order (w0, w2, w1, w3)). */
static int32_t packed_weight(const kt_conv2d_params *p, int32_t oc, int32_t k)
{
    const int32_t len = p->k_h * p->k_w * p->in_c;
    const int32_t rows = p->weights_s16 ? KT_ROUND4(len) : len;
    const int32_t pos = p->weights_s16 ? (k & ~3) | ((k & 1) << 1) | ((k & 2) >> 1) : k;
    const int32_t len4 = rows - rows % 4;
    const int32_t g = oc / 4, r = oc % 4;
    int32_t at;
    if (g * 4 + 4 > p->out_c) {
        at = oc * rows + pos; /* last incomplete group: row-major */
    } else if (pos < len4) {
        at = g * 4 * rows + (pos / 4) * 16 + r * 4 + pos % 4;
    } else {
        at = g * 4 * rows + 4 * len4 + r * (rows - len4) + (pos - len4);
    }
    if (p->weights_s16) {
        int16_t w;
        KT_MEMCPY(&w, (const uint8_t *)p->weights + 2 * at, sizeof w);
        return w;
    }
    return p->weights[at];
}

/* kt_mbqm_channel with the channel's constants as scalars (kept in registers by the caller). */
#if KT_DSP_REQUANT
#define KT_RQ_ARGS(c) (c).offset, (c).multiplier, (c).shift
#define KT_RQ_PARAMS int32_t rq0, int32_t rq1, int32_t rq2
#define KT_RQ_APPLY(x) kt_mbqm_dsp((x), rq0, rq1, rq2)
#else
#define KT_RQ_ARGS(c) (c).round_lo, (c).round_hi, (c).multiplier, (c).shift
#define KT_RQ_PARAMS int32_t rq0, int32_t rq1, int32_t rq2, int32_t rq3
#define KT_RQ_APPLY(x) kt_mbqm_fast((x), rq0, rq1, rq2, rq3)
#endif

#if KT_HAVE_DSP
static inline uint32_t pack16(int32_t lo, int32_t hi)
{
    return ((uint32_t)lo & 0xffffu) | ((uint32_t)hi << 16);
}
#if defined(__ARM_FEATURE_DSP)
/* acc + lo(a) * hi(b) */
static inline int32_t smlabt(uint32_t a, uint32_t b, int32_t acc)
{
    int32_t r;
    __asm__("smlabt %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
    return r;
}
/* acc + hi(a) * lo(b) */
static inline int32_t smlatb(uint32_t a, uint32_t b, int32_t acc)
{
    int32_t r;
    __asm__("smlatb %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
    return r;
}
#else
static inline int32_t smlabt(uint32_t a, uint32_t b, int32_t acc)
{
    return (int32_t)((uint32_t)acc + (uint32_t)(kt_lo16(a) * kt_hi16(b)));
}
static inline int32_t smlatb(uint32_t a, uint32_t b, int32_t acc)
{
    return (int32_t)((uint32_t)acc + (uint32_t)(kt_hi16(a) * kt_lo16(b)));
}
#endif
#endif

/* One pixel from its top-left tap (any stride; byte loads, so nothing past the taps is read). */
static KT_ALWAYS_INLINE int32_t pixel1(const int8_t *s, int32_t row, const int32_t *w,
                                       int32_t acc)
{
    for (int32_t ky = 0; ky < 3; ++ky, s += row, w += 3) {
        acc += w[0] * s[0] + w[1] * s[1] + w[2] * s[2];
    }
    return acc;
}

/* The geometry of one call, as plain values: the kernel's int8 stores may alias anything
 * reachable through p, so everything the loops need is copied out of it first. */
typedef struct {
    int32_t out_h, out_w, stride_w, step_y, row, oc_step, lo, hi;
} c1_geometry;

/* One output channel over all pixels of one image. */
static KT_NOINLINE KT_NO_SCHED1 void channel_c1(const c1_geometry *gp, const int32_t *w, int32_t bias, KT_RQ_PARAMS,
                       const int8_t *src, int8_t *out)
{
    const c1_geometry g = *gp;
    const int32_t row = g.row, oc_step = g.oc_step, lo = g.lo, hi = g.hi;
#if KT_HAVE_DSP
    const uint32_t w02_0 = pack16(w[0], w[2]), w02_1 = pack16(w[3], w[5]);
    const uint32_t w02_2 = pack16(w[6], w[8]);
    const uint32_t w1_01 = pack16(w[1], w[4]), w1_2 = (uint32_t)w[7];
#else
    const int32_t w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5];
    const int32_t w6 = w[6], w7 = w[7], w8 = w[8];
#endif
    const int32_t pairs = g.stride_w == 1 ? g.out_w / 2 : 0;
    const int32_t rest = g.out_w - 2 * pairs;
    for (int32_t oy = 0; oy < g.out_h; ++oy, src += g.step_y) {
        const int8_t *s = src;
        for (int32_t n = pairs; n > 0; --n, s += 2, out += 2 * oc_step) {
            {
#if KT_HAVE_DSP
                const uint32_t v0 = kt_load_u32(s), v1 = kt_load_u32(s + row);
                const uint32_t v2 = kt_load_u32(s + 2 * row);
                uint32_t e = kt_sxtb16(v0), o = kt_sxtb16_ror8(v0);
                int32_t a = kt_smlabb(o, w1_01, kt_smlad(w02_0, e, bias));
                int32_t b = smlatb(e, w1_01, kt_smlad(w02_0, o, bias));
                e = kt_sxtb16(v1);
                o = kt_sxtb16_ror8(v1);
                a = smlabt(o, w1_01, kt_smlad(w02_1, e, a));
                b = kt_smlatt(e, w1_01, kt_smlad(w02_1, o, b));
                e = kt_sxtb16(v2);
                o = kt_sxtb16_ror8(v2);
                a = kt_smlabb(o, w1_2, kt_smlad(w02_2, e, a));
                b = smlatb(e, w1_2, kt_smlad(w02_2, o, b));
#else
                const int8_t *t = s;
                int32_t x0 = t[0], x1 = t[1], x2 = t[2], x3 = t[3];
                int32_t a = bias + w0 * x0 + w1 * x1 + w2 * x2;
                int32_t b = bias + w0 * x1 + w1 * x2 + w2 * x3;
                t += row;
                x0 = t[0], x1 = t[1], x2 = t[2], x3 = t[3];
                a += w3 * x0 + w4 * x1 + w5 * x2;
                b += w3 * x1 + w4 * x2 + w5 * x3;
                t += row;
                x0 = t[0], x1 = t[1], x2 = t[2], x3 = t[3];
                a += w6 * x0 + w7 * x1 + w8 * x2;
                b += w6 * x1 + w7 * x2 + w8 * x3;
#endif
                out[0] = (int8_t)kt_clamp_i32(KT_RQ_APPLY(a), lo, hi);
                out[oc_step] = (int8_t)kt_clamp_i32(KT_RQ_APPLY(b), lo, hi);
            }
        }
        for (int32_t n = rest; n > 0; --n, s += g.stride_w, out += oc_step) {
            out[0] = (int8_t)kt_clamp_i32(KT_RQ_APPLY(pixel1(s, row, w, bias)), lo, hi);
        }
    }
}

/* Zero-point-padded copy of one 1-channel image (ph x pw, the taps' extent). */
static void pad_c1(const kt_conv2d_params *p, const int8_t *image, int8_t *padded, int32_t ph,
                   int32_t pw)
{
    const int8_t zp = (int8_t)(-p->input_offset);
    for (int32_t y = 0; y < ph; ++y) {
        const int32_t iy = y - p->pad_h;
        for (int32_t x = 0; x < pw; ++x) {
            const int32_t ix = x - p->pad_w;
            const int32_t in = iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w;
            padded[y * pw + x] = in ? image[iy * p->in_w + ix] : zp;
        }
    }
}

int32_t kt_conv2d_s8_small_c(const kt_conv2d_params *p, const int8_t *input, int8_t *output,
                             void *scratch)
{
    if (p->in_c != 1 || p->k_h != 3 || p->k_w != 3 || p->dil_h != 1 || p->dil_w != 1 ||
        !p->rq_fast) {
        return 0;
    }
    const int32_t ph = (p->out_h - 1) * p->stride_h + 3;
    const int32_t pw = (p->out_w - 1) * p->stride_w + 3;
    const int32_t inside = p->pad_h == 0 && p->pad_w == 0 && ph <= p->in_h && pw <= p->in_w;
    if (!inside && !p->padded_copy) {
        return 0;
    }
    int8_t *padded = (int8_t *)scratch + KT_CONV_PADDED_OFFSET(9);
    const int32_t pixels = p->out_h * p->out_w * p->out_c;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *image = input + b * p->in_h * p->in_w;
        const int8_t *src = image;
        int32_t row = p->in_w;
        if (!inside) {
            pad_c1(p, image, padded, ph, pw);
            src = padded;
            row = pw;
        }
        const c1_geometry g = {p->out_h, p->out_w, p->stride_w, p->stride_h * row, row,
                               p->out_c, p->act_min, p->act_max};
        for (int32_t oc = 0; oc < p->out_c; ++oc) {
            int32_t w[9];
            for (int32_t k = 0; k < 9; ++k) {
                w[k] = packed_weight(p, oc, k);
            }
            channel_c1(&g, w, p->folded_bias[oc], KT_RQ_ARGS(p->rq_fast[oc]), src,
                       output + b * pixels + oc);
        }
    }
    return 1;
}

#else
typedef int kt_conv2d_small_c_unused; /* ISO C forbids an empty translation unit */
#endif
